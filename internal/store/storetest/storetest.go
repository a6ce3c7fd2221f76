// Package storetest gives tests a fresh, migrated database on every engine
// available: SQLite always, and PostgreSQL when PSD2BANK_TEST_POSTGRES holds
// a connection URL (each test then gets a schema of its own, dropped at the
// end). When CI=true and PSD2BANK_TEST_POSTGRES is unset or unreachable, the
// test fails instead of skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/psd2bank/psd2bank/internal/store"
)

// EnvPostgres names the environment variable with the PostgreSQL test URL.
const EnvPostgres = "PSD2BANK_TEST_POSTGRES"

// Each runs fn as a subtest once per available engine, each time with a
// new, migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a new, migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Postgres opens a new, migrated PostgreSQL schema, or skips the test (fails
// it when CI=true) if PostgreSQL is not configured.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// PostgresURL creates an empty schema for the test and returns a connection
// URL that uses it, or skips the test (fails it when CI=true) if PostgreSQL
// is not configured. The schema is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: the PostgreSQL suite must run in CI", EnvPostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to a connection URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them", EnvPostgres)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("%s=%s: PostgreSQL is not reachable: %v", EnvPostgres, base, err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Plan returns the plan db's engine makes for query with args, one line a
// step: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with sequential
// and bitmap scans turned off for it (a test's small table would otherwise
// rightly be read whole, and an index the query could use be left aside).
func Plan(t testing.TB, db *store.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	err := db.InTx(ctx, func(tx *store.Tx) error {
		plan = plan[:0] // a retried transaction starts again
		explain := `EXPLAIN QUERY PLAN `
		if db.Engine() == store.Postgres {
			explain = `EXPLAIN `
			for _, off := range []string{"enable_seqscan", "enable_bitmapscan"} {
				if _, err := tx.ExecContext(ctx, `SET LOCAL `+off+` = off`); err != nil {
					return err
				}
			}
		}
		rows, err := tx.QueryContext(ctx, explain+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			if err := rows.Scan(vals...); err != nil {
				return err
			}
			plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	return strings.Join(plan, "\n")
}
