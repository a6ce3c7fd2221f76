-- How often a TPP may read without the customer present, per consent:
-- frequency_per_day accesses per resource (an account, or the account
-- list) in the consent's window (RTS art. 36(5)(b): at most 4). Berlin
-- Group's frequencyPerDay sets it (1 to 4); PolishAPI and mBank consents
-- keep 4. unattended_window is how the accesses are counted: '24h' (any
-- 24 hours: PolishAPI, mBank) or 'day' (per calendar day in
-- Europe/Warsaw: Berlin Group). Berlin Group consents made before take
-- the frequencyPerDay they were given.
-- one_off marks a consent for one access (Berlin Group's
-- recurringIndicator false): one read of each kind per account, with or
-- without the customer; consent_accesses.kind is the kind of a read
-- (accounts, account, balances, transactions, transactionDetails; '' when
-- the dialect names none).
-- Portable SQL: see the package comment of store.

-- +goose Up
ALTER TABLE consents ADD COLUMN frequency_per_day INTEGER NOT NULL DEFAULT 4;
ALTER TABLE consents ADD COLUMN unattended_window TEXT NOT NULL DEFAULT '24h';
UPDATE consents SET unattended_window = 'day',
    frequency_per_day = (SELECT b.frequency_per_day FROM berlingroup_consents b WHERE b.consent_id = consents.id)
WHERE EXISTS (SELECT 1 FROM berlingroup_consents b WHERE b.consent_id = consents.id);
ALTER TABLE consents ADD COLUMN one_off BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE consent_accesses ADD COLUMN kind TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE consent_accesses DROP COLUMN kind;
ALTER TABLE consents DROP COLUMN one_off;
ALTER TABLE consents DROP COLUMN unattended_window;
ALTER TABLE consents DROP COLUMN frequency_per_day;
