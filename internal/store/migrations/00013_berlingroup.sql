-- The Berlin Group dialect's view of a consent: what the TPP asked for in
-- NextGenPSD2's terms (the consent itself, its privileges and its
-- authorisation live in consents and oauth_requests).
-- Portable SQL: see the package comment of store.

-- +goose Up
CREATE TABLE berlingroup_consents (
    consent_id        TEXT PRIMARY KEY,
    tpp_id            TEXT NOT NULL,
    request_id        TEXT NOT NULL,   -- the authorisation: oauth_requests.id
    kind              TEXT NOT NULL,   -- explicit, bankOffered, allPsd2, availableAccounts, availableAccountsWithBalance
    access            TEXT NOT NULL,   -- the access object as the TPP sent it (JSON)
    balances          TEXT NOT NULL,   -- explicit: JSON array of the NRBs with balances
    transactions      TEXT NOT NULL,   -- explicit: JSON array of the NRBs with transactions
    recurring         BOOLEAN NOT NULL,
    frequency_per_day INTEGER NOT NULL,
    valid_until       TEXT NOT NULL,   -- YYYY-MM-DD as asked (capped at 180 days)
    sca_approach      TEXT NOT NULL,   -- REDIRECT or DECOUPLED
    created_at        BIGINT NOT NULL
);
CREATE INDEX berlingroup_consents_request ON berlingroup_consents (request_id);
-- Where the browser goes when the customer refuses (Berlin Group's
-- TPP-Nok-Redirect-URI); '' = the redirect URI with ?error=...
ALTER TABLE oauth_requests ADD COLUMN nok_redirect_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_requests DROP COLUMN nok_redirect_uri;
DROP TABLE berlingroup_consents;
