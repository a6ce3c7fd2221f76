-- Strong customer authentication: failed log-ins and lockout, SCA challenges
-- (SMS code or mobile-app approval), and the SMS outbox. All the state lives
-- here, so that every node agrees on it. Portable SQL: see the package
-- comment of store. Instants are BIGINT microseconds since the Unix epoch.

-- +goose Up
-- Consecutive failed log-ins per login (whether or not a customer has that
-- login, so that a lockout does not tell which logins exist). A successful
-- log-in deletes the row; locked_until = 0 when not locked.
CREATE TABLE sca_logins (
    login        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);

-- One SCA challenge: what the customer confirms (purpose, text), how
-- (method), and where it stands. An SMS challenge keeps only a hash of its
-- code. consumed_at is set once the decision has been acted on, so that one
-- approval authorises one thing.
CREATE TABLE sca_challenges (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    login       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('sms', 'mobile')),
    purpose     TEXT NOT NULL,
    text        TEXT NOT NULL,
    code_hash   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'failed', 'expired')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    decided_at  BIGINT NOT NULL DEFAULT 0,
    consumed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sca_challenges_pending ON sca_challenges (login, method, status, created_at);

-- SMS messages to customers, newest last. A gateway (or, in the sandbox,
-- GET /sandbox/sms) reads them; code repeats the code the text carries.
CREATE TABLE sms_outbox (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    login        TEXT NOT NULL,
    phone        TEXT NOT NULL,
    text         TEXT NOT NULL,
    code         TEXT NOT NULL DEFAULT '',
    challenge_id TEXT NOT NULL DEFAULT '',
    sent_at      BIGINT NOT NULL
);
CREATE INDEX sms_outbox_login ON sms_outbox (login, sent_at);

-- +goose Down
DROP TABLE sms_outbox;
DROP TABLE sca_challenges;
DROP TABLE sca_logins;
