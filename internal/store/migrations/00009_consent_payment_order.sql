-- The payment a pis privilege carries, in the domain's words (a JSON of
-- payment.Consented: the order, or a bundle's orders and total), as the
-- dialect read it when the TPP asked for the consent. The initiation
-- compares its body with it; `payment` keeps the privilege as the TPP sent
-- it (the consent page shows it). Empty for other privileges and for
-- consents asked before this column existed (read from `payment` then).
-- Portable SQL: see the package comment of store.

-- +goose Up
ALTER TABLE consent_privileges ADD COLUMN payment_order TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE consent_privileges DROP COLUMN payment_order;
