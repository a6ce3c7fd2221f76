-- Log-in lockout for every kind of log-in (customers, developers, staff),
-- its audit, and the hotline's daily count of wrong PESELs per customer.
-- Portable SQL: see the package comment of store. Instants are BIGINT
-- microseconds since the Unix epoch; days TEXT YYYY-MM-DD (Polish time).

-- +goose Up
-- Failed log-ins per realm and login (whether or not an account has that
-- login, so that a lockout does not tell which logins exist). An attempt is
-- counted as failed BEFORE its password is checked (internal/login), and
-- seq numbers the attempts so that a success clears only what its own
-- attempt counted; locked_until = 0 when not locked.
CREATE TABLE login_attempts (
    realm        TEXT NOT NULL CHECK (realm IN ('customer', 'developer', 'staff')),
    login        TEXT NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    seq          BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (realm, login)
);
INSERT INTO login_attempts (realm, login, failures, locked_until, seq, updated_at)
    SELECT 'customer', login, failures, locked_until, failures, updated_at FROM sca_logins;
DROP TABLE sca_logins;

-- Every refused log-in (wrong password, refused while locked), every lock
-- and every unlock: which realm and login, from which address, who acted
-- (an unlock names the staff member).
CREATE TABLE login_audit (
    id     TEXT PRIMARY KEY,
    at     BIGINT NOT NULL,
    realm  TEXT NOT NULL,
    login  TEXT NOT NULL,
    event  TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    actor  TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX login_audit_at ON login_audit (at);
CREATE INDEX login_audit_login ON login_audit (realm, login, at);

-- Wrong PESELs given to the hotline per customer and day, across all the
-- day's identity checks (internal/access).
CREATE TABLE access_pesel_days (
    customer_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, day)
);

-- +goose Down
DROP TABLE access_pesel_days;
DROP TABLE login_audit;
CREATE TABLE sca_logins (
    login        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);
INSERT INTO sca_logins (login, failures, locked_until, updated_at)
    SELECT login, failures, locked_until, updated_at FROM login_attempts WHERE realm = 'customer';
DROP TABLE login_attempts;
