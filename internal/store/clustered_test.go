package store

import (
	"context"
	"path/filepath"
	"testing"
)

// Migration 30 rebuilds three SQLite tables as WITHOUT ROWID tables (one
// B-tree each instead of two or three) and keeps their rows; its down
// migration gives the rowid tables back, rows and all.
func TestClusteredTablesKeepRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.migrator()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 29); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO request_audit (id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status)
			VALUES ('a1', 1, 'PSDPL-KNF-1', 'ff', 'r1', 'polishapi', 'domestic', 'POST', '/p', '127.0.0.1:1', 'allowed', '', '', 0)`,
		`INSERT INTO api_payment_totals (account_nrb, day, kind, total, payments) VALUES ('PL61', '2026-12-05', 'one-off', 100, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	layout := func() map[string]string {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE tbl_name IN ('request_audit', 'payment_history', 'api_payment_totals') AND type = 'table'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var n, s string
			rows.Scan(&n, &s)
			out[n] = s
		}
		return out
	}
	kept := func(when string) {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM request_audit WHERE request_id = 'r1') + (SELECT COUNT(*) FROM api_payment_totals WHERE total = 100)`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%s: %d of 2 rows, %v", when, n, err)
		}
	}
	if _, err := p.UpTo(ctx, 30); err != nil {
		t.Fatal(err)
	}
	for name, sql := range layout() {
		if len(sql) < 14 || sql[len(sql)-13:] != "WITHOUT ROWID" {
			t.Errorf("after migration 30, %s is not WITHOUT ROWID: %s", name, sql)
		}
	}
	if len(layout()) != 3 {
		t.Fatalf("tables after migration 30: %v", layout())
	}
	kept("after migration 30")
	var idx int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('request_audit_once', 'request_audit_tpp', 'request_audit_at')`).Scan(&idx)
	if idx != 3 {
		t.Fatalf("%d of the audit's 3 indexes after migration 30", idx)
	}
	if _, err := p.DownTo(ctx, 29); err != nil {
		t.Fatal(err)
	}
	for name, sql := range layout() {
		if len(sql) >= 13 && sql[len(sql)-13:] == "WITHOUT ROWID" {
			t.Errorf("after migration 30 down, %s is still WITHOUT ROWID", name)
		}
	}
	kept("after migration 30 down")
}
