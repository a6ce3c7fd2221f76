package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
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
