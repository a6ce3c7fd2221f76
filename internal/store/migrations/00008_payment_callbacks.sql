-- Delivery state of the callback outbox (payment_notifications): how many
-- times a notification was tried, when it may be tried again, and when the
-- sender gave up on it (after its last attempt failed), with the last error.
-- Portable SQL: see the package comment of store.

-- +goose Up
ALTER TABLE payment_notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_notifications ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_notifications ADD COLUMN failed_at BIGINT;
ALTER TABLE payment_notifications ADD COLUMN last_error TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE payment_notifications DROP COLUMN last_error;
ALTER TABLE payment_notifications DROP COLUMN failed_at;
ALTER TABLE payment_notifications DROP COLUMN next_attempt_at;
ALTER TABLE payment_notifications DROP COLUMN attempts;
