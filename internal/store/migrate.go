package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies every embedded migration that the database does not have
// yet and returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// Version is the newest migration the database has.
func (db *DB) Version(ctx context.Context) (int64, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.write, sub, goose.WithGoMigrations(postingsPageIndex(db.engine)))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// postingsPageIndex is migration 28: an index that holds every column of a
// booked item, in the order of an account's page (account_id, seq), so that
// a page of the account's history (ledger.BookedItems) is one range scan of
// the index and never a seek into the table per item. The two engines spell
// it differently, which is why it is a Go migration and not a file:
// SQLite puts the columns in the key (it has no INCLUDE; a key may be any
// length), PostgreSQL keeps them out of the key with INCLUDE (the key stays
// the page's order; the row is read by an index-only scan once the table's
// visibility map is set, which autovacuum does for an insert-only table).
// The index costs about the table's size again on disk and one more index
// entry per posting written.
func postingsPageIndex(engine Engine) *goose.Migration {
	up := `CREATE INDEX postings_page ON postings (account_id, seq, id, transfer_id, amount, balance_after, currency,
	kind, title, counterparty_name, counterparty_account, trade_date, booking_date, booked_at)`
	if engine == Postgres {
		up = `CREATE INDEX postings_page ON postings (account_id, seq) INCLUDE (id, transfer_id, amount, balance_after,
	currency, kind, title, counterparty_name, counterparty_account, trade_date, booking_date, booked_at)`
	}
	return goose.NewGoMigration(28,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, up)
			return err
		}},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP INDEX postings_page`)
			return err
		}})
}
