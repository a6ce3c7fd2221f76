package store_test

import (
	"context"
	"database/sql"
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

// WriteRow with a lead: one statement on PostgreSQL (the lead as a WITH
// query, whose parameters come first), the lead just before on SQLite; the lead
// is written whether or not the statement returns a row, a replayed lead
// writes nothing of the statement, and without a lead it is
// WriteRowContext's one statement.
func TestWriteRowWithLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const audit = `INSERT INTO settings (name, value) VALUES ($1, $2)`
		// A statement beginning with WITH, its parameters from $1, the
		// second used twice: the insert happens when $3 is 'yes'.
		const write = `WITH v AS (SELECT CAST($1 AS TEXT) AS name, CAST($2 AS TEXT) AS value)
			INSERT INTO settings (name, value) SELECT name, value || '/' || $2 FROM v WHERE $3 = 'yes'
			RETURNING value`
		value := func(name string) string {
			t.Helper()
			var v string
			err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				return "(none)"
			}
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		statements := 1 // the lead in the statement
		if db.Engine() == store.SQLite {
			statements = 2 // the lead, the statement
		}

		l := store.NewLead(audit, "lead1", "audit")
		lctx := store.WithLead(ctx, l)
		q0 := db.Queries()
		var got string
		if err := db.WriteRow(lctx, write, []any{"w1", "x", "yes"}, &got); err != nil {
			t.Fatal(err)
		}
		if n := db.Queries() - q0; n != int64(statements) {
			t.Fatalf("%d statements, want %d", n, statements)
		}
		if got != "x/x" || !l.Written() || value("lead1") != "audit" || value("w1") != "x/x" {
			t.Fatalf("returned %q, written %v, lead %q, row %q", got, l.Written(), value("lead1"), value("w1"))
		}

		// No row: the lead is written all the same, or left to Settle.
		l2 := store.NewLead(audit, "lead2", "audit")
		err := db.WriteRow(store.WithLead(ctx, l2), write, []any{"w2", "y", "no"}, &got)
		if !errors.Is(err, sql.ErrNoRows) || value("w2") != "(none)" {
			t.Fatalf("no row: %v, row %q", err, value("w2"))
		}
		if err := db.Settle(ctx, l2); err != nil {
			t.Fatal(err)
		}
		if value("lead2") != "audit" {
			t.Fatalf("lead2 %q after Settle", value("lead2"))
		}

		// A replayed lead: the statement writes nothing.
		l3 := store.NewLead(audit, "lead1", "again")
		err = db.WriteRow(store.WithLead(ctx, l3), write, []any{"w3", "z", "yes"}, &got)
		if !store.IsUniqueViolation(err) || l3.Written() || value("w3") != "(none)" || value("lead1") != "audit" {
			t.Fatalf("replayed lead: %v, written %v, row %q, lead %q", err, l3.Written(), value("w3"), value("lead1"))
		}

		// Written leads are not written again; without one, one statement.
		q0 = db.Queries()
		err = db.WriteRow(lctx, write, []any{"w4", "v", "yes"}, &got)
		if n := db.Queries() - q0; n != 1 {
			t.Fatalf("%d statements without a lead owed, want 1", n)
		}
		if err != nil || value("w4") != "v/v" {
			t.Fatalf("after the lead: %v, row %q", err, value("w4"))
		}
	})
}

// A lead joined to WriteRow's statement in a guarded form (JoinedAs, on
// PostgreSQL: the gateway's audit record, written only when the access
// token and TPP are live) is written when the guard held, whether or not
// the statement returned a row, and is still owed — Settle writes it in
// its plain form — when the guard did not hold. On SQLite the plain form
// is written, as before.
func TestLeadJoinedAs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const plain = `INSERT INTO settings (name, value) VALUES ($1, 'lead')`
		const guarded = `INSERT INTO settings (name, value) SELECT $1, 'lead' WHERE CAST($2 AS TEXT) = 'live'`
		const probe = `SELECT COUNT(*) FROM settings WHERE name = $1`
		const none = `INSERT INTO settings (name, value) SELECT $1, 'write' WHERE 1 = 0 RETURNING name`
		count := func(name string) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, probe, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, guard := range []string{"live", "not live"} {
			name := "lead " + guard
			l := store.NewLead(plain, name).JoinedAs(guarded, []any{name, guard}, probe, []any{name})
			err := db.WriteRow(store.WithLead(ctx, l), none, []any{"w " + guard}, new(string))
			if !errors.Is(err, sql.ErrNoRows) {
				t.Fatalf("%s: %v", guard, err)
			}
			want := guard == "live" || db.Engine() == store.SQLite
			if l.Written() != want || count(name) != map[bool]int{true: 1}[want] {
				t.Fatalf("%s: written %v, %d rows; want %v", guard, l.Written(), count(name), want)
			}
			if err := db.Settle(ctx, l); err != nil || count(name) != 1 {
				t.Fatalf("%s: Settle: %v, %d rows", guard, err, count(name))
			}
		}
	})
}
