-- The core ledger. Portable SQL: see the package comment of store.
-- Instants are BIGINT microseconds since the Unix epoch; dates TEXT YYYY-MM-DD.

-- +goose Up
CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    segment       TEXT NOT NULL CHECK (segment IN ('retail', 'company', 'corporate')),
    name          TEXT NOT NULL,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    pesel         TEXT NOT NULL DEFAULT '',
    nip           TEXT NOT NULL DEFAULT '',
    regon         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    nrb               TEXT NOT NULL UNIQUE,
    customer_id       TEXT REFERENCES customers (id),
    currency          TEXT NOT NULL,
    type              TEXT NOT NULL,
    name              TEXT NOT NULL,
    booked_balance    BIGINT NOT NULL DEFAULT 0,
    available_balance BIGINT NOT NULL DEFAULT 0,
    overdraft_limit   BIGINT NOT NULL DEFAULT 0 CHECK (overdraft_limit >= 0),
    allow_negative    BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq          BIGINT NOT NULL DEFAULT 0,
    opened_on         TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    CHECK (allow_negative OR available_balance + overdraft_limit >= 0),
    CHECK (allow_negative OR booked_balance + overdraft_limit >= 0)
);
CREATE INDEX accounts_customer ON accounts (customer_id);

-- A movement of money from one account to another, through its life:
-- scheduled (future-dated), pending (money held, waiting for clearing),
-- booked, rejected, cancelled. Outside counterparties are represented by the
-- bank's clearing account of the currency.
CREATE TABLE transfers (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    debit_account_id  TEXT NOT NULL REFERENCES accounts (id),
    credit_account_id TEXT NOT NULL REFERENCES accounts (id),
    amount            BIGINT NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('scheduled', 'pending', 'booked', 'rejected', 'cancelled')),
    title             TEXT NOT NULL,
    debtor_name       TEXT NOT NULL,
    debtor_account    TEXT NOT NULL,
    creditor_name     TEXT NOT NULL,
    creditor_account  TEXT NOT NULL,
    execution_date    TEXT NOT NULL,
    trade_date        TEXT NOT NULL,
    booking_date      TEXT,
    hold_id           TEXT,
    status_reason     TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CHECK (debit_account_id <> credit_account_id)
);
CREATE INDEX transfers_debit ON transfers (debit_account_id, status, execution_date);
CREATE INDEX transfers_credit ON transfers (credit_account_id, status, execution_date);
CREATE INDEX transfers_due ON transfers (status, execution_date);

-- Booked items: immutable. Each keeps the balance after it; seq numbers the
-- items of one account without gaps, in booking order.
CREATE TABLE postings (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id),
    seq                  BIGINT NOT NULL,
    transfer_id          TEXT NOT NULL REFERENCES transfers (id),
    amount               BIGINT NOT NULL CHECK (amount <> 0),
    balance_after        BIGINT NOT NULL,
    currency             TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    title                TEXT NOT NULL,
    counterparty_name    TEXT NOT NULL,
    counterparty_account TEXT NOT NULL,
    trade_date           TEXT NOT NULL,
    booking_date         TEXT NOT NULL,
    booked_at            BIGINT NOT NULL,
    UNIQUE (account_id, seq)
);
CREATE INDEX postings_transfer ON postings (transfer_id);
CREATE INDEX postings_account_date ON postings (account_id, booking_date, seq);

-- Money reserved on an account: card authorisations and outgoing payments
-- waiting for clearing. available_balance = booked_balance - active holds.
CREATE TABLE holds (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    amount        BIGINT NOT NULL CHECK (amount > 0),
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'released', 'consumed')),
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    merchant_name TEXT NOT NULL DEFAULT '',
    merchant_city TEXT NOT NULL DEFAULT '',
    transfer_id   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    closed_at     BIGINT
);
CREATE INDEX holds_account ON holds (account_id, status);

-- Small named values: the sandbox clock offset, the seed of the synthetic data.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE holds;
DROP TABLE postings;
DROP TABLE transfers;
DROP TABLE accounts;
DROP TABLE customers;
