-- Delivery state of the mobile-app webhook: the bank's mobile-app backend is
-- told about every pending mobile-app challenge (sca_challenges with method
-- 'mobile'). A row is claimed by one node (next_attempt_at is a lease and
-- then the time of the retry), and records when the backend took the
-- notification or when the sender gave up on it.
-- Portable SQL: see the package comment of store.

-- +goose Up
CREATE TABLE mobile_notifications (
    challenge_id    TEXT PRIMARY KEY REFERENCES sca_challenges (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_error      TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE mobile_notifications;
