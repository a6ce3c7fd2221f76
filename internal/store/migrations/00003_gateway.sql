-- The request pipeline's audit log of TPP requests. A row with decision
-- 'allowed' is written when a request passes the pipeline, before its
-- operation runs; the unique index makes that same write the replay check:
-- a request id is accepted once per TPP, on every node.

-- +goose Up
CREATE TABLE request_audit (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    tpp_id       TEXT NOT NULL,
    cert_serial  TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    dialect      TEXT NOT NULL,
    operation    TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    remote_addr  TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('allowed', 'refused')),
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       INTEGER NOT NULL
);
CREATE UNIQUE INDEX request_audit_once ON request_audit (tpp_id, request_id) WHERE decision = 'allowed';
CREATE INDEX request_audit_tpp ON request_audit (tpp_id, at);
CREATE INDEX request_audit_at ON request_audit (at);

-- +goose Down
DROP TABLE request_audit;
