package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestPreparedStatements runs statements outside transactions on SQLite
// again and again: they are prepared once per pool and answer as before; a
// statement with an error still reports it; past the bound statements run
// unprepared.
func TestPreparedStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, fmt.Sprint("k", i), i); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, fmt.Sprint("k", i)).Scan(&v); err != nil || v != i {
			t.Fatalf("read back %d: %v", v, err)
		}
		var k string
		if err := db.WriteRowContext(ctx, `UPDATE t SET v = v + 10 WHERE k = $1 RETURNING k`, fmt.Sprint("k", i)).Scan(&k); err != nil || k != fmt.Sprint("k", i) {
			t.Fatalf("update returning %q: %v", k, err)
		}
	}
	if n := len(db.stmts[1].m); n != 3 { // CREATE, INSERT, UPDATE on the writer
		t.Errorf("%d statements prepared on the writer, want 3", n)
	}
	if n := len(db.stmts[0].m); n != 1 {
		t.Errorf("%d statements prepared on the readers, want 1", n)
	}
	var sum int
	if err := db.QueryRowContext(ctx, `SELECT SUM(v) FROM t`).Scan(&sum); err != nil || sum != 33 {
		t.Errorf("sum %d, %v", sum, err)
	}
	if _, err := db.QueryContext(ctx, `SELECT nothing FROM nowhere`); err == nil {
		t.Error("a statement with an error ran")
	}
	for i := range maxCachedStmts + 10 {
		var v int
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&v); err != nil || v != i {
			t.Fatalf("SELECT %d: %d, %v", i, v, err)
		}
	}
	if n := len(db.stmts[0].m); n != maxCachedStmts {
		t.Errorf("%d statements kept, want the bound %d", n, maxCachedStmts)
	}
}

// TestPreparedStatementsInTransactions runs statements inside transactions
// on SQLite: the first time unprepared, prepared once the transaction has
// ended, bound to the next transactions; rolled-back work stays undone and
// errors are reported. And a statement first run outside a transaction
// while a transaction holds the writer's only connection (its preparation
// waits for that connection) never blocks the transaction looking its own
// statements up: it ran into a deadlock when the cache prepared under its
// lock.
func TestPreparedStatementsInTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	deadlocked := false
	defer func() {
		if !deadlocked { // Close would wait for the stuck statements
			db.Close()
		}
	}()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const ins, get = `INSERT INTO t (k, v) VALUES ($1, $2)`, `SELECT v FROM t WHERE k = $1`
	for i := range 3 {
		err := db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, ins, fmt.Sprint("k", i), i); err != nil {
				return err
			}
			var v int
			if err := tx.QueryRowContext(ctx, get, fmt.Sprint("k", i)).Scan(&v); err != nil || v != i {
				return fmt.Errorf("read back %d: %v", v, err)
			}
			if i == 0 && len(tx.missed) != 2 {
				t.Errorf("first transaction: %d statements unprepared, want 2", len(tx.missed))
			}
			if i > 0 && len(tx.missed) != 0 {
				t.Errorf("transaction %d: %q unprepared, want none", i, tx.missed)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if db.stmts[1].peek(ins) == nil || db.stmts[1].peek(get) == nil {
		t.Fatal("the transaction's statements were not prepared after it")
	}
	boom := fmt.Errorf("boom")
	if err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, ins, "undone", 7); err != nil {
			return err
		}
		return boom
	}); err != boom {
		t.Fatalf("InTx = %v, want boom", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d rows after a rollback, want 3 (%v)", n, err)
	}
	if err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, ins, "k0", 1)
		return err
	}); !IsUniqueViolation(err) {
		t.Fatalf("a prepared duplicate insert: %v, want a unique violation", err)
	}

	// The deadlock: a transaction holds the connection; another caller's
	// first run of a statement (outside transactions) waits to prepare it;
	// the transaction then runs a statement of its own.
	const upd = `UPDATE t SET v = v + 1 WHERE k = $1`
	done := make(chan error, 1)
	go func() {
		done <- db.InTx(ctx, func(tx *Tx) error {
			outside := make(chan error, 1)
			go func() {
				_, err := db.ExecContext(ctx, upd, "k1")
				outside <- err
			}()
			time.Sleep(100 * time.Millisecond) // the other caller is waiting for the connection
			if _, err := tx.ExecContext(ctx, upd, "k2"); err != nil {
				return err
			}
			var v int
			if err := tx.QueryRowContext(ctx, get, "k2").Scan(&v); err != nil || v != 3 {
				return fmt.Errorf("k2 = %d, %v", v, err)
			}
			go func() { done <- <-outside }() // reported after the transaction
			return nil
		})
	}()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			deadlocked = true
			t.Fatal("deadlock: the transaction and the statement outside it wait for each other")
		}
	}
	var v1, v2 int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT v FROM t WHERE k = 'k1'), (SELECT v FROM t WHERE k = 'k2')`).Scan(&v1, &v2); err != nil || v1 != 2 || v2 != 3 {
		t.Fatalf("k1 = %d, k2 = %d (%v), want 2 and 3", v1, v2, err)
	}
}
