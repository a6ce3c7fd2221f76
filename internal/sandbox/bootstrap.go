package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
)

// settingBuilding marks a first start under way: written before the
// synthetic bank is loaded, removed in the transaction that writes the
// seed, which marks a finished bank.
const settingBuilding = "sandbox.building"

// ErrNotASandbox is returned for a database that holds data but was never
// a sandbox bank: the sandbox will not touch it.
var ErrNotASandbox = errors.New("the database holds data but no sandbox bank")

// bootstrap makes sure db (migrated) holds a finished sandbox bank. A first
// start loads the synthetic bank in many transactions; one that was
// interrupted (kill -9, a lost connection) left the building mark without
// the seed: bootstrap then says so, empties what the interrupted start
// wrote and builds the bank again. A database with data but neither mark
// is not a sandbox's, and is refused untouched.
func (b *Bank) bootstrap(ctx context.Context, db *store.DB) error {
	// Sandbox nodes started together on a new database fill it one at a
	// time: the first builds the bank while the others wait, then find it
	// seeded. Without the lock a second node took the first one's building
	// mark for an interrupted start, emptied the tables under it and
	// failed ("duplicate key value"), or both did.
	return db.Exclusive(ctx, firstStartLock, func() error { return b.bootstrapAlone(ctx, db) })
}

// firstStartLock is the id of the nodes' lock (store.DB.Exclusive) around
// a sandbox's first start.
const firstStartLock = 4097083627

func (b *Bank) bootstrapAlone(ctx context.Context, db *store.DB) error {
	seeded, err := hasSetting(ctx, db, settingSeed)
	if err != nil || seeded {
		return err
	}
	building, err := hasSetting(ctx, db, settingBuilding)
	if err != nil {
		return err
	}
	if building {
		var since string
		db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, settingBuilding).Scan(&since)
		b.log.Warn("the sandbox's first start was interrupted (started " + since + "): the half-built bank is emptied and built again")
		if err := emptyTables(ctx, db); err != nil {
			return fmt.Errorf("empty the half-built sandbox bank: %w", err)
		}
	} else {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: it has %d customers; give the sandbox an empty database of its own (--db)", ErrNotASandbox, n)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)`, settingBuilding,
		time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("mark the first start: %w", err)
	}
	return b.populate(ctx, db)
}

func hasSetting(ctx context.Context, db *store.DB, name string) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE name = $1`, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// emptyTables deletes every row of every table but the migrations'.
func emptyTables(ctx context.Context, db *store.DB) error {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine() == store.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		if t != "goose_db_version" && t != store.LockTable {
			tables = append(tables, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if db.Engine() == store.Postgres {
		quoted := make([]string, len(tables))
		for i, t := range tables {
			quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		}
		_, err := db.ExecContext(ctx, `TRUNCATE `+strings.Join(quoted, ", ")+` CASCADE`)
		return err
	}
	// SQLite: tables referenced by others fail while their referrers hold
	// rows; a few passes empty them all.
	for pass := 0; len(tables) > 0; pass++ {
		var left []string
		var last error
		for _, t := range tables {
			if _, err := db.ExecContext(ctx, `DELETE FROM "`+strings.ReplaceAll(t, `"`, `""`)+`"`); err != nil {
				left, last = append(left, t), err
			}
		}
		if pass > len(tables)+1 {
			return last
		}
		tables = left
	}
	return nil
}
