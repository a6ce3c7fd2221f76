package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// A lead (the gateway's audit record of a payment initiation) is written by
// the request's first write: inside its first transaction, or just before a
// write outside one; a rolled-back transaction takes it along, and Settle
// writes it then; a lead that cannot be written (a replayed request id)
// fails the write that carries it, which changes nothing.
func TestLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const audit = `INSERT INTO settings (name, value) VALUES ($1, 'lead')`
		const write = `INSERT INTO settings (name, value) VALUES ($1, 'write')`
		count := func(name string) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE name = $1`, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// In the first transaction, one statement more, no commit more.
		l := store.NewLead(audit, "r1")
		lctx := store.WithLead(ctx, l)
		boom := errors.New("boom")
		err := db.InTx(lctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(lctx, write, "w0"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || l.Written() || count("r1") != 0 || count("w0") != 0 {
			t.Fatalf("a rolled-back transaction: %v, written %v, %d lead rows, %d written", err, l.Written(), count("r1"), count("w0"))
		}
		q0 := db.Queries()
		if err := db.InTx(lctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(lctx, write, "w1")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n := db.Queries() - q0; n != 4 { // BEGIN, the lead, the write, COMMIT
			t.Fatalf("%d statements, want 4", n)
		}
		if !l.Written() || count("r1") != 1 || count("w1") != 1 {
			t.Fatalf("after the commit: written %v, %d lead rows, %d written", l.Written(), count("r1"), count("w1"))
		}
		// Written once: neither the next transaction nor Settle writes it again.
		q0 = db.Queries()
		if err := db.InTx(lctx, func(tx *store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := db.Settle(ctx, l); err != nil {
			t.Fatal(err)
		}
		if n := db.Queries() - q0; n != 2 {
			t.Fatalf("%d statements after the lead was written, want 2 (BEGIN, COMMIT)", n)
		}

		// A lead that cannot be written fails the transaction before fn runs.
		again := store.WithLead(ctx, store.NewLead(audit, "r1"))
		ran := false
		err = db.InTx(again, func(tx *store.Tx) error {
			ran = true
			_, err := tx.ExecContext(again, write, "w2")
			return err
		})
		if !store.IsUniqueViolation(err) || ran || count("w2") != 0 {
			t.Fatalf("a replayed lead: %v, fn ran %v, %d written", err, ran, count("w2"))
		}
		// Outside a transaction: the lead first, on its own; the write not
		// made when the lead fails.
		if _, err := db.ExecContext(again, write, "w3"); !store.IsUniqueViolation(err) || count("w3") != 0 {
			t.Fatalf("ExecContext after a replayed lead: %v, %d written", err, count("w3"))
		}
		// (A *sql.Row cannot carry the lead's error itself: its context's
		// cancellation does, which the gateway's Settle finds again.)
		if err := db.WriteRowContext(again, write+" RETURNING name", "w4").Scan(new(string)); err == nil || count("w4") != 0 {
			t.Fatalf("WriteRowContext after a replayed lead: %v, %d written", err, count("w4"))
		}
		l5 := store.NewLead(audit, "r5")
		if _, err := db.ExecContext(store.WithLead(ctx, l5), write, "w5"); err != nil || !l5.Written() || count("r5") != 1 || count("w5") != 1 {
			t.Fatalf("ExecContext with a lead: %v, written %v", err, l5.Written())
		}

		// Nothing wrote it: Settle does.
		l6 := store.NewLead(audit, "r6")
		if err := db.Settle(ctx, l6); err != nil || !l6.Written() || count("r6") != 1 {
			t.Fatalf("Settle: %v, written %v, %d rows", err, l6.Written(), count("r6"))
		}
		if err := db.Settle(ctx, store.NewLead(audit, "r6")); !store.IsUniqueViolation(err) {
			t.Fatalf("Settle of a replayed lead: %v", err)
		}
	})
}
