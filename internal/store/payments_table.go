package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
)

// paymentsByID is migration 34: on SQLite the payments table becomes a
// WITHOUT ROWID table stored in the B-tree of its primary key, the
// payment's id — a UUIDv7, so new payments go to the right edge — instead
// of a rowid table and an index of the id: an initiation writes one B-tree,
// and one page of the write-ahead log's commit, fewer while it holds the
// one writer, and a payment read by its id is one descent instead of two.
// PostgreSQL: nothing to do (see clusteredTables).
//
// Two tables point to payments (a payment's history and its
// notifications), and rebuild's drop and rename are only safe under them
// with foreign keys off, which SQLite does not let a transaction change:
// so this migration runs outside goose's transaction, on the writer's one
// connection, turns foreign keys off, rebuilds the table in a transaction
// of its own that checks every foreign key before it commits, and turns
// them on again. Run again after a crash between its commit and goose's
// record of it, it rebuilds the table once more, the same.
func paymentsByID(engine Engine) *goose.Migration {
	return goose.NewGoMigration(34, rebuildUnderForeignKeys(engine, paymentsTable+" WITHOUT ROWID"), rebuildUnderForeignKeys(engine, paymentsTable))
}

// paymentsTable is the payments table as of migration 29 (%s its name).
const paymentsTable = `CREATE TABLE %s (
    id                 TEXT NOT NULL PRIMARY KEY,
    tpp_id             TEXT NOT NULL,
    tpp_transaction_id TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    consent_id         TEXT NOT NULL DEFAULT '',
    customer_id        TEXT NOT NULL DEFAULT '',
    type               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    system             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('submitted', 'scheduled', 'pending', 'done', 'rejected', 'cancelled')),
    status_reason      TEXT NOT NULL DEFAULT '',
    debit_account_id   TEXT NOT NULL,
    sender_account     TEXT NOT NULL,
    recipient_name     TEXT NOT NULL,
    recipient_account  TEXT NOT NULL,
    recipient_address  TEXT NOT NULL DEFAULT '',
    recipient_country  TEXT NOT NULL DEFAULT '',
    recipient_bic      TEXT NOT NULL DEFAULT '',
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    title              TEXT NOT NULL,
    execution_date     TEXT NOT NULL,
    future_dated       BOOLEAN NOT NULL DEFAULT FALSE,
    details            TEXT NOT NULL DEFAULT '{}',
    callback_url       TEXT NOT NULL DEFAULT '',
    bundle_id          TEXT REFERENCES payment_bundles (id),
    recurring_id       TEXT REFERENCES payment_recurring (id),
    cutoff_at          BIGINT NOT NULL DEFAULT 0,
    settle_at          BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (tpp_id, tpp_transaction_id)
)`

const paymentsColumns = `id, tpp_id, tpp_transaction_id, request_hash, consent_id, customer_id, type, kind, system, status,
	status_reason, debit_account_id, sender_account, recipient_name, recipient_account, recipient_address, recipient_country,
	recipient_bic, amount, currency, title, execution_date, future_dated, details, callback_url, bundle_id, recurring_id,
	cutoff_at, settle_at, created_at, updated_at`

// paymentsIndexes are the payments' indexes as of migration 29.
var paymentsIndexes = []string{
	`CREATE INDEX payments_stale ON payments (created_at) WHERE status = 'submitted'`,
	`CREATE INDEX payments_scheduled ON payments (execution_date) WHERE status = 'scheduled'`,
	`CREATE INDEX payments_due ON payments (settle_at) WHERE status = 'pending'`,
	`CREATE INDEX payments_bundle ON payments (bundle_id) WHERE bundle_id IS NOT NULL`,
	`CREATE INDEX payments_recurring ON payments (recurring_id) WHERE recurring_id IS NOT NULL`,
}

// rebuildUnderForeignKeys rebuilds the payments table as create makes it
// (see paymentsByID), on SQLite; on PostgreSQL it does nothing.
func rebuildUnderForeignKeys(engine Engine, create string) *goose.GoFunc {
	stmts := rebuild([]rebuiltTable{{name: "payments", columns: paymentsColumns, create: create, indexes: paymentsIndexes}})
	return &goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) (err error) {
		if engine != SQLite {
			return nil
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer func() {
			if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); onErr != nil {
				err = errors.Join(err, onErr)
			}
		}()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%.60s: %w", q, err)
			}
		}
		rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			var table, parent string
			var rowid, fk sql.NullInt64
			rows.Scan(&table, &rowid, &parent, &fk)
			return fmt.Errorf("rebuilding payments: a row of %s points to no row of %s", table, parent)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return tx.Commit()
	}}
}
