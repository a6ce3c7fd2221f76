package store_test

import (
	"context"
	"errors"
	"testing"

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
