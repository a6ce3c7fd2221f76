-- Berlin Group's explicit start of an authorisation
-- (TPP-Explicit-Authorisation-Preferred: true): the consent or payment is
-- created without its authorisation started; awaiting_start stays TRUE
-- until the TPP starts it (POST .../authorisations), which clears it with
-- a compare-and-set, so that the customer is asked (the mobile app's
-- push, the scaRedirect link) once, whichever node answers.
-- Portable SQL: see the package comment of store.

-- +goose Up
ALTER TABLE berlingroup_consents ADD COLUMN awaiting_start BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE berlingroup_payments ADD COLUMN awaiting_start BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE berlingroup_payments DROP COLUMN awaiting_start;
ALTER TABLE berlingroup_consents DROP COLUMN awaiting_start;
