package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migration applied %v, want nothing", applied)
		}
		v, err := db.Version(ctx)
		if err != nil || v < 1 {
			t.Fatalf("version = %d, %v; want >= 1", v, err)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)`, "k", "v"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d rows survived a rolled-back transaction", n)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ins := `INSERT INTO settings (name, value) VALUES ($1, $2)`
		if _, err := db.ExecContext(ctx, ins, "k", "v"); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, ins, "k", "w")
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate key error %v not recognised", err)
		}
		if store.IsUniqueViolation(errors.New("other")) {
			t.Fatal("a plain error was taken for a unique violation")
		}
	})
}

// A transaction whose caller's context ends part-way fails at its next
// statement and writes nothing, on either engine, whichever kind of
// statement comes next; a context that has ended before the transaction
// begins it not; and the statements of a live context run and commit.
func TestInTxEndsWithTheCallersContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ins := `INSERT INTO settings (name, value) VALUES ($1, $2)`
		count := func() int {
			var n int
			if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		next := map[string]func(context.Context, *store.Tx) error{
			"exec": func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, ins, "b", "2")
				return err
			},
			"query": func(ctx context.Context, tx *store.Tx) error {
				rows, err := tx.QueryContext(ctx, `SELECT name FROM settings`)
				if err == nil {
					rows.Close()
				}
				return err
			},
			"query row": func(ctx context.Context, tx *store.Tx) error {
				var n int
				return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n)
			},
		}
		for name, stmt := range next {
			ctx, cancel := context.WithCancel(context.Background())
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, ins, "a", "1"); err != nil {
					return err
				}
				cancel()
				return stmt(ctx, tx)
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s after the context ended: %v, want context.Canceled", name, err)
			}
			if n := count(); n != 0 {
				t.Fatalf("%s: %d rows written by a transaction whose context ended", name, n)
			}
		}
		// A deadline that passes part-way is told as such.
		dctx, dcancel := context.WithTimeout(context.Background(), time.Hour)
		defer dcancel()
		err := db.InTx(dctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(dctx, ins, "a", "1"); err != nil {
				return err
			}
			var passed context.Context
			passed, dcancel = context.WithDeadline(dctx, time.Now().Add(-time.Second))
			var n int
			return tx.QueryRowContext(passed, `SELECT COUNT(*) FROM settings`).Scan(&n)
		})
		if !errors.Is(err, context.DeadlineExceeded) || count() != 0 {
			t.Errorf("a statement past its deadline: %v, %d rows; want context.DeadlineExceeded and none", err, count())
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if err := db.InTx(ctx, func(tx *store.Tx) error { ran = true; return nil }); err == nil || ran {
			t.Errorf("a transaction began with an ended context: %v, ran %v", err, ran)
		}
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, stmt := range next {
				if err := stmt(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d rows after a transaction that committed one", n)
		}
	})
}
