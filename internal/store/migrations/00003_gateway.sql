-- The request pipeline: request ids seen per TPP (replay protection shared by
-- every node) and the audit log of TPP requests.

-- +goose Up
CREATE TABLE seen_requests (
    tpp_id     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (tpp_id, request_id)
);
CREATE INDEX seen_requests_at ON seen_requests (seen_at);

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
CREATE INDEX request_audit_tpp ON request_audit (tpp_id, at);
CREATE INDEX request_audit_at ON request_audit (at);

-- +goose Down
DROP TABLE request_audit;
DROP TABLE seen_requests;
