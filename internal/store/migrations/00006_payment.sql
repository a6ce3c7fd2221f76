-- Payment initiation (PIS): payments as the TPP ordered them, their status
-- history, bundles, recurring definitions and the callback outbox. The money
-- itself moves only in the ledger: a payment points at its ledger transfer,
-- which has the payment's id. Portable SQL: see the package comment of store.

-- +goose Up
CREATE TABLE payment_bundles (
    id            TEXT PRIMARY KEY,
    tpp_id        TEXT NOT NULL,
    tpp_bundle_id TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    total_amount  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (tpp_id, tpp_bundle_id)
);

-- A recurring payment: a template order and its schedule. next_date is the
-- nominal date of the next occurrence, before it is moved off a day off.
CREATE TABLE payment_recurring (
    id               TEXT PRIMARY KEY,
    tpp_id           TEXT NOT NULL,
    tpp_recurring_id TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    template         TEXT NOT NULL,
    start_date       TEXT NOT NULL,
    period_type      TEXT NOT NULL CHECK (period_type IN ('day', 'week', 'month')),
    period_value     INTEGER NOT NULL CHECK (period_value >= 1),
    end_date         TEXT NOT NULL DEFAULT '',
    day_off_offset   TEXT NOT NULL CHECK (day_off_offset IN ('before', 'after')),
    next_date        TEXT NOT NULL,
    occurrences      INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('submitted', 'inProgress', 'cancelled', 'close')),
    status_reason    TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (tpp_id, tpp_recurring_id)
);
CREATE INDEX payment_recurring_due ON payment_recurring (status, next_date);

CREATE TABLE payments (
    id                 TEXT PRIMARY KEY,
    tpp_id             TEXT NOT NULL,
    tpp_transaction_id TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    consent_id         TEXT NOT NULL DEFAULT '',
    customer_id        TEXT NOT NULL DEFAULT '',
    type               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    system             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('submitted', 'scheduled', 'pending', 'done', 'rejected', 'cancelled')),
    status_reason      TEXT NOT NULL DEFAULT '',
    debit_account_id   TEXT NOT NULL,
    sender_account     TEXT NOT NULL,
    recipient_name     TEXT NOT NULL,
    recipient_account  TEXT NOT NULL,
    recipient_address  TEXT NOT NULL DEFAULT '',
    recipient_country  TEXT NOT NULL DEFAULT '',
    recipient_bic      TEXT NOT NULL DEFAULT '',
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    title              TEXT NOT NULL,
    execution_date     TEXT NOT NULL,
    future_dated       BOOLEAN NOT NULL DEFAULT FALSE,
    details            TEXT NOT NULL DEFAULT '{}',
    callback_url       TEXT NOT NULL DEFAULT '',
    bundle_id          TEXT REFERENCES payment_bundles (id),
    recurring_id       TEXT REFERENCES payment_recurring (id),
    cutoff_at          BIGINT NOT NULL DEFAULT 0,
    settle_at          BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (tpp_id, tpp_transaction_id)
);
CREATE INDEX payments_due ON payments (status, settle_at);
CREATE INDEX payments_scheduled ON payments (status, execution_date);
CREATE INDEX payments_bundle ON payments (bundle_id);
CREATE INDEX payments_recurring ON payments (recurring_id);

-- Every status a payment has had, with when and why.
CREATE TABLE payment_history (
    id         TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL
);
CREATE INDEX payment_history_payment ON payment_history (payment_id, at, id);

-- Status changes to deliver to the TPP's callback URL: an outbox that a
-- sender drains.
CREATE TABLE payment_notifications (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments (id),
    callback_url TEXT NOT NULL,
    status       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    notified_at  BIGINT
);
CREATE INDEX payment_notifications_pending ON payment_notifications (notified_at, id);

-- +goose Down
DROP TABLE payment_notifications;
DROP TABLE payment_history;
DROP TABLE payments;
DROP TABLE payment_recurring;
DROP TABLE payment_bundles;
