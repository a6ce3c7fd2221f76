-- Payments index only what is looked for: RunDue's three lists (submitted
-- payments whose execution never ran, scheduled ones due, pending ones to
-- settle) and the payments of a bundle or of a recurring payment. Indexed
-- whole, every payment wrote an entry into each of the four indexes,
-- though almost every payment is done at once and belongs to no bundle:
-- four pages more in each initiation's commit, which on SQLite holds the
-- one writer (issue 12). Partial, an index holds only the rows its query
-- asks for; the queries name the status as a literal, so that both
-- engines can use them (RunDue).
-- Portable SQL: see the package comment of store.

-- +goose Up
DROP INDEX payments_due;
DROP INDEX payments_scheduled;
DROP INDEX payments_bundle;
DROP INDEX payments_recurring;
CREATE INDEX payments_stale ON payments (created_at) WHERE status = 'submitted';
CREATE INDEX payments_scheduled ON payments (execution_date) WHERE status = 'scheduled';
CREATE INDEX payments_due ON payments (settle_at) WHERE status = 'pending';
CREATE INDEX payments_bundle ON payments (bundle_id) WHERE bundle_id IS NOT NULL;
CREATE INDEX payments_recurring ON payments (recurring_id) WHERE recurring_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_recurring;
DROP INDEX payments_bundle;
DROP INDEX payments_due;
DROP INDEX payments_scheduled;
DROP INDEX payments_stale;
CREATE INDEX payments_due ON payments (status, settle_at);
CREATE INDEX payments_scheduled ON payments (status, execution_date);
CREATE INDEX payments_bundle ON payments (bundle_id);
CREATE INDEX payments_recurring ON payments (recurring_id);
