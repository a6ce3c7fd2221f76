-- API access per account (not activated, active, blocked) with its history,
-- the hotline's identity checks by PESEL, limits of API payments per account
-- and the day totals they are checked against, and the audit of all of it.
-- Portable SQL: see the package comment of store. Instants are BIGINT
-- microseconds since the Unix epoch; days TEXT YYYY-MM-DD.

-- +goose Up
-- The current state of an account's API access. An account without a row
-- follows the default of its owner's segment (retail: active; company and
-- corporate: not activated). The API reads this on every request, by NRB.
CREATE TABLE account_access (
    account_nrb TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('not_activated', 'active', 'blocked')),
    actor       TEXT NOT NULL,
    channel     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    changed_at  BIGINT NOT NULL
);

-- Every change of state: who (a staff login, the customer's login,
-- "sandbox"), when, through which channel, why, and for a firm who acted
-- for it.
CREATE TABLE account_access_history (
    id             TEXT PRIMARY KEY,
    account_nrb    TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    actor          TEXT NOT NULL,
    channel        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    representative TEXT NOT NULL DEFAULT '',
    at             BIGINT NOT NULL
);
CREATE INDEX account_access_history_nrb ON account_access_history (account_nrb, at);

-- A hotline consultant's identity check of a customer: PESEL tries (three
-- wrong in a row end it), then who acts for the firm.
CREATE TABLE access_verifications (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL REFERENCES customers (id),
    staff          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    failures       INTEGER NOT NULL DEFAULT 0,
    representative TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX access_verifications_customer ON access_verifications (customer_id, created_at);

-- Limits of API payments per account, for one-off and recurring payments:
-- per payment and per day, in minor units of the account's currency; 0 is
-- no limit.
CREATE TABLE account_limits (
    account_nrb TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('one_off', 'recurring')),
    per_payment BIGINT NOT NULL DEFAULT 0 CHECK (per_payment >= 0),
    per_day     BIGINT NOT NULL DEFAULT 0 CHECK (per_day >= 0),
    actor       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_nrb, kind)
);

-- What API payments have used of the day limits: one row per account, day
-- and kind, added to by access.RecordPayment in the payment's transaction.
CREATE TABLE api_payment_totals (
    account_nrb TEXT NOT NULL,
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    total       BIGINT NOT NULL,
    payments    INTEGER NOT NULL,
    PRIMARY KEY (account_nrb, day, kind)
);

-- The audit of access, limits, identity checks and consents.
CREATE TABLE access_audit (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    channel     TEXT NOT NULL,
    action      TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_audit_at ON access_audit (at, id);
CREATE INDEX access_audit_customer ON access_audit (customer_id, at);

-- +goose Down
DROP TABLE access_audit;
DROP TABLE api_payment_totals;
DROP TABLE account_limits;
DROP TABLE access_verifications;
DROP TABLE account_access_history;
DROP TABLE account_access;
