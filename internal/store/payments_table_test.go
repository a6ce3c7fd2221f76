package store

import (
	"context"
	"strings"
	"testing"
)

// Migration 34 rebuilds SQLite's payments table as a WITHOUT ROWID table
// under the two tables that point to it, keeping every row, every index and
// foreign keys on; a dangling reference stops it with nothing changed; its
// down migration gives the rowid table back.
func TestPaymentsByIDKeepsRowsAndForeignKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 33)
	exec := func(q string, args ...any) error {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	payment := func(id, key string) string {
		return `INSERT INTO payments (id, tpp_id, tpp_transaction_id, request_hash, type, kind, system, status, debit_account_id,
			sender_account, recipient_name, recipient_account, amount, currency, title, execution_date, created_at, updated_at)
			VALUES ('` + id + `', 'PSDPL-KNF-1', '` + key + `', 'h', 'domestic', 'internal', 'Internal', 'done', 'a1',
			'61109010140000071219812874', 'Jan', '27114020040000300201355387', 100, 'PLN', 'T', '2026-12-07', 1, 2)`
	}
	for _, q := range []string{
		payment("p1", "k1"),
		`INSERT INTO payment_history (id, payment_id, status, reason, at) VALUES ('h1', 'p1', 'submitted', '', 1), ('h2', 'p1', 'done', 'booked', 2)`,
		`INSERT INTO payment_notifications (id, payment_id, callback_url, status, at) VALUES ('n1', 'p1', 'https://tpp.example/cb', 'done', 2)`,
	} {
		if err := exec(q); err != nil {
			t.Fatal(err)
		}
	}
	table := func() string {
		t.Helper()
		var sql string
		if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'payments'`).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		return sql
	}
	check := func(when string, withoutRowid bool, payments int) {
		t.Helper()
		if got := strings.HasSuffix(table(), "WITHOUT ROWID"); got != withoutRowid {
			t.Errorf("%s: WITHOUT ROWID %v, want %v", when, got, withoutRowid)
		}
		var n, h, nt, idx, fk int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM payment_history),
			(SELECT COUNT(*) FROM payment_notifications),
			(SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'payments' AND sql IS NOT NULL)`).Scan(&n, &h, &nt, &idx); err != nil {
			t.Fatal(err)
		}
		if n != payments || h != 2 || nt != 1 || idx != len(paymentsIndexes) {
			t.Errorf("%s: %d payments, %d history rows, %d notifications, %d indexes; want %d, 2, 1, %d", when, n, h, nt, idx, payments, len(paymentsIndexes))
		}
		// Foreign keys are on again on the writer (its one connection).
		if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("%s: foreign_keys = %d (%v), want 1", when, fk, err)
		}
		if err := exec(`INSERT INTO payment_history (id, payment_id, status, reason, at) VALUES ('x', 'no-such-payment', 'done', '', 3)`); err == nil {
			t.Errorf("%s: a history row of no payment was written", when)
		}
		if err := exec(payment("p-dup", "k1") + ` ON CONFLICT (tpp_id, tpp_transaction_id) DO NOTHING`); err != nil {
			t.Errorf("%s: the idempotency key's conflict: %v", when, err)
		}
	}
	migrate := func(up bool) error {
		defer db.migrating()()
		var err error
		if up {
			_, err = p.UpTo(ctx, 34)
		} else {
			_, err = p.DownTo(ctx, 33)
		}
		return err
	}
	check("before 34", false, 1)

	// A history row of no payment (written with foreign keys off, as an old
	// bug could have left it) stops the rebuild, which changes nothing.
	if err := exec(`PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO payment_history (id, payment_id, status, reason, at) VALUES ('d1', 'gone', 'done', '', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(true); err == nil || !strings.Contains(err.Error(), "points to no row") {
		t.Fatalf("migration 34 over a dangling history row: %v", err)
	}
	if err := exec(`DELETE FROM payment_history WHERE id = 'd1'`); err != nil {
		t.Fatal(err)
	}
	check("after the refused 34", false, 1)

	if err := migrate(true); err != nil {
		t.Fatal(err)
	}
	check("after 34", true, 1)
	if err := exec(payment("p2", "k2")); err != nil {
		t.Fatalf("a payment after 34: %v", err)
	}
	if err := migrate(false); err != nil {
		t.Fatal(err)
	}
	check("after 34's down", false, 2)
}
