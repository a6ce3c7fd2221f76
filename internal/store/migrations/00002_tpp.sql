-- TPPs, their OAuth clients and certificates; onboarding applications with
-- their documents and certificates; developer and back-office accounts; web
-- sessions; the audit log of the TPP registry. Portable SQL: see the package
-- comment of store. Instants are BIGINT microseconds since the Unix epoch.

-- +goose Up

-- A third party provider known to the bank. id is the organizationIdentifier
-- of its certificates as first registered ("PSDPL-KNF-0123456789"); norm_id
-- is its normalized form (NCA aliases folded, number without separators), by
-- which every lookup goes, so that "PSDPL-PFSA-..." finds "PSDPL-KNF-...".
CREATE TABLE tpps (
    id               TEXT PRIMARY KEY,
    norm_id          TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    environment      TEXT NOT NULL CHECK (environment IN ('sandbox', 'production')),
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    suspended_reason TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- An OAuth client of a TPP (mBank's Client-ID). redirect_uris is a JSON
-- array of strings, matched exactly.
CREATE TABLE tpp_clients (
    client_id     TEXT PRIMARY KEY,
    tpp_id        TEXT NOT NULL REFERENCES tpps (id),
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX tpp_clients_tpp ON tpp_clients (tpp_id);

-- Certificates a TPP registered, found by their x5t#S256 thumbprint.
CREATE TABLE tpp_certificates (
    tpp_id           TEXT NOT NULL REFERENCES tpps (id),
    fingerprint_s256 TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('qwac', 'qsealc')),
    serial           TEXT NOT NULL,
    not_after        BIGINT NOT NULL,
    pem              TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (tpp_id, fingerprint_s256)
);

-- An application for production access, filled in by a developer account
-- and reviewed by the back office. redirect_uris: JSON array of strings.
CREATE TABLE tpp_applications (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    name              TEXT NOT NULL,
    contact_email     TEXT NOT NULL,
    environment       TEXT NOT NULL CHECK (environment IN ('production')),
    status            TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    power_of_attorney BOOLEAN NOT NULL DEFAULT FALSE,
    redirect_uris     TEXT NOT NULL DEFAULT '[]',
    reason            TEXT NOT NULL DEFAULT '',
    reviewed_by       TEXT NOT NULL DEFAULT '',
    client_id         TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    submitted_at      BIGINT,
    reviewed_at       BIGINT
);
CREATE INDEX tpp_applications_status ON tpp_applications (status, updated_at);

-- A developer account (email + argon2id password) belongs to one application.
CREATE TABLE tpp_developers (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES tpp_applications (id),
    created_at     BIGINT NOT NULL
);

-- A document of an application. The content is stored base64-encoded in a
-- TEXT column (at most 5 MiB before encoding), the portable choice between
-- SQLite's BLOB and PostgreSQL's BYTEA.
CREATE TABLE tpp_documents (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES tpp_applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('register_extract', 'licence', 'power_of_attorney', 'other')),
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    content        TEXT NOT NULL,
    uploaded_at    BIGINT NOT NULL
);
CREATE INDEX tpp_documents_application ON tpp_documents (application_id, uploaded_at);

-- The QWAC and QSealC of an application (one of each; a new upload replaces
-- the old one).
CREATE TABLE tpp_application_certificates (
    application_id   TEXT NOT NULL REFERENCES tpp_applications (id),
    kind             TEXT NOT NULL CHECK (kind IN ('qwac', 'qsealc')),
    fingerprint_s256 TEXT NOT NULL,
    pem              TEXT NOT NULL,
    uploaded_at      BIGINT NOT NULL,
    PRIMARY KEY (application_id, kind)
);

-- The bank's staff who use the back office.
CREATE TABLE staff (
    login         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Web sessions, shared by every node. id is the SHA-256 (hex) of the
-- cookie's token, so that a copy of the table gives no usable cookie.
CREATE TABLE web_sessions (
    id         TEXT PRIMARY KEY,
    realm      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- Every change to TPPs, clients and applications: who, what, on what, when.
CREATE TABLE tpp_audit (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tpp_audit_at ON tpp_audit (at, id);
CREATE INDEX tpp_audit_subject ON tpp_audit (subject, at);

-- +goose Down
DROP TABLE tpp_audit;
DROP TABLE web_sessions;
DROP TABLE staff;
DROP TABLE tpp_application_certificates;
DROP TABLE tpp_documents;
DROP TABLE tpp_developers;
DROP TABLE tpp_applications;
DROP TABLE tpp_certificates;
DROP TABLE tpp_clients;
DROP TABLE tpps;
