-- The outbox of decoupled authorization results (authorizeExt): the code,
-- or the refusal, written in the transaction that decides the request and
-- POSTed to the TPP's callbackURL afterwards. A row is claimed for a
-- delivery run with a lease (lease_until); a node that crashed mid-run
-- leaves it to another node once the lease ends. The body (it holds a
-- single-use code) is erased once delivered or given up.
-- Portable SQL: see the package comment of store.

-- +goose Up
CREATE TABLE oauth_callbacks (
    request_id   TEXT PRIMARY KEY,
    tpp_id       TEXT NOT NULL,
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    failed_at    BIGINT,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX oauth_callbacks_due ON oauth_callbacks (lease_until);

-- +goose Down
DROP TABLE oauth_callbacks;
