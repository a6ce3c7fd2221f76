-- When a payment initiation used its privilege (issue 12): the initiation
-- records its use on the privilege itself — uses + 1 and the instant — in
-- the statement that uses it up, instead of a row of consent_accesses (which
-- keeps the AIS accesses the unattended limit counts). 0: never used so.

-- +goose Up
ALTER TABLE consent_privileges ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE consent_privileges DROP COLUMN used_at;
