-- Consents, their privileges and the accesses made under them; the
-- authorization server's pending requests, codes and tokens. Portable SQL:
-- see the package comment of store. Instants are BIGINT microseconds since
-- the Unix epoch (0 = not yet); JSON is kept as TEXT.

-- +goose Up

-- A consent a customer gives (or is asked to give) a TPP. tpp_consent_id is
-- the TPP's own scope_details.consentId: unique per TPP among consents
-- obtained by authorize (parent_id = ''); a consent obtained by
-- exchange_token (parent_id = the ais-accounts consent) may keep it.
-- accounts is a JSON array of the NRBs the customer chose. The status
-- 'expired' is computed on read from expires_at and never stored.
CREATE TABLE consents (
    id                TEXT PRIMARY KEY,
    tpp_consent_id    TEXT NOT NULL,
    tpp_id            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    customer_id       TEXT NOT NULL DEFAULT '',
    scope             TEXT NOT NULL CHECK (scope IN ('ais-accounts', 'ais', 'pis')),
    accounts          TEXT NOT NULL DEFAULT '[]',
    scope_time_limit  BIGINT NOT NULL,
    throttling_policy TEXT NOT NULL,
    dialect           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('received', 'authorised', 'rejected', 'expired', 'revoked_by_psu', 'revoked_by_tpp')),
    status_reason     TEXT NOT NULL DEFAULT '',
    parent_id         TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    authorised_at     BIGINT NOT NULL DEFAULT 0,
    expires_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (tpp_id, tpp_consent_id, parent_id)
);
CREATE INDEX consents_customer ON consents (customer_id, created_at);

-- The privileges of a consent, one row per privilege and account. payment
-- is the privilege's data exactly as the TPP sent it (JSON; '' if none).
-- uses counts the accesses that consumed it (single-use: at most 1).
CREATE TABLE consent_privileges (
    consent_id        TEXT NOT NULL REFERENCES consents (id),
    seq               INTEGER NOT NULL,
    name              TEXT NOT NULL,
    account_number    TEXT NOT NULL DEFAULT '',
    scope_usage_limit TEXT NOT NULL CHECK (scope_usage_limit IN ('single', 'multiple')),
    max_history_days  INTEGER NOT NULL DEFAULT 0,
    payment           TEXT NOT NULL DEFAULT '',
    uses              INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consent_id, seq)
);

-- Every access made under a consent: resource is the account number, or
-- 'accounts' for the account list. Accesses without the PSU present are the
-- ones the RTS art. 36(5) limit (4 per 24 hours) counts.
CREATE TABLE consent_accesses (
    id          TEXT PRIMARY KEY,
    consent_id  TEXT NOT NULL REFERENCES consents (id),
    resource    TEXT NOT NULL,
    privilege   TEXT NOT NULL,
    psu_present BOOLEAN NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX consent_accesses_window ON consent_accesses (consent_id, resource, psu_present, at);

-- A pending authorization request (authorize = PAR): the id is the
-- unguessable handle in the consent page's address.
CREATE TABLE oauth_requests (
    id              TEXT PRIMARY KEY,
    consent_id      TEXT NOT NULL REFERENCES consents (id),
    dialect         TEXT NOT NULL,
    tpp_id          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    state           TEXT NOT NULL,
    qwac_thumbprint TEXT NOT NULL,
    decoupled       BOOLEAN NOT NULL,
    psu_login       TEXT NOT NULL DEFAULT '',
    callback_url    TEXT NOT NULL DEFAULT '',
    api_key         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    customer_id     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    decided_at      BIGINT NOT NULL DEFAULT 0
);

-- Authorization codes, stored as the hex SHA-256 of the code. family names
-- the tokens issued from the code (revoked together if the code is reused).
CREATE TABLE oauth_codes (
    hash         TEXT PRIMARY KEY,
    family       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    consent_id   TEXT NOT NULL REFERENCES consents (id),
    tpp_id       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0
);

-- Access and refresh tokens, stored as the hex SHA-256 of the token. An
-- access token is bound to the QWAC it was issued to (cnf x5t#S256). A
-- refresh token is rotated on use (rotated_at); family links the tokens of
-- one grant, revoked together when a code or rotated refresh token is
-- replayed.
CREATE TABLE oauth_tokens (
    hash           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family         TEXT NOT NULL,
    consent_id     TEXT NOT NULL REFERENCES consents (id),
    customer_id    TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    tpp_id         TEXT NOT NULL,
    scope          TEXT NOT NULL,
    cnf_x5t_s256   TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    rotated_at     BIGINT NOT NULL DEFAULT 0,
    revoked_at     BIGINT NOT NULL DEFAULT 0,
    revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family);
CREATE INDEX oauth_tokens_consent ON oauth_tokens (consent_id);

-- +goose Down
DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_requests;
DROP TABLE consent_accesses;
DROP TABLE consent_privileges;
DROP TABLE consents;
