-- The Berlin Group dialect's payment resources: the payment as the TPP
-- sent it, mapped to the domain's order, the consent the customer
-- authorises it with, and the bank's payment once initiated.
-- Portable SQL: see the package comment of store.

-- +goose Up
CREATE TABLE berlingroup_payments (
    id           TEXT PRIMARY KEY,  -- the paymentId the TPP sees
    tpp_id       TEXT NOT NULL,
    service      TEXT NOT NULL,     -- payments or periodic-payments
    product      TEXT NOT NULL,     -- sepa-credit-transfers, pl-domestic-credit-transfers, ...
    body         TEXT NOT NULL,     -- the initiation as the TPP sent it (JSON)
    order_json   TEXT NOT NULL,     -- the domain's payment order (JSON)
    consent_id   TEXT NOT NULL,     -- the pis consent the customer authorises
    request_id   TEXT NOT NULL,     -- its authorisation: oauth_requests.id
    sca_approach TEXT NOT NULL,
    bank_id      TEXT NOT NULL DEFAULT '', -- periodic: payment_recurring.id once set up
    created_at   BIGINT NOT NULL
);
CREATE INDEX berlingroup_payments_consent ON berlingroup_payments (consent_id);

-- +goose Down
DROP TABLE berlingroup_payments;
