package store

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"
)

// migratedTo is a new SQLite database migrated up to version, and its
// migrations, to go on or back from there.
func migratedTo(t *testing.T, version int64) (*DB, *goose.Provider) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := db.migrator()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return db, p
}

// Migration 30 rebuilds three SQLite tables as WITHOUT ROWID tables (one
// B-tree each instead of two or three) and keeps their rows; its down
// migration gives the rowid tables back, rows and all.
func TestClusteredTablesKeepRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 29)
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

// Migration 31 keeps the audit records in the bank's time order and the
// consent's access records in a WITHOUT ROWID table, rows kept both ways;
// the statements that read and write them still work, and the replay
// check (the unique index on the TPP and request id) still refuses.
func TestClusteredAccessesKeepRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 30)
	audit := func(id string, at int, request string) error {
		_, err := db.ExecContext(ctx, `INSERT INTO request_audit (id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status)
			VALUES ($1, $2, 'PSDPL-KNF-1', 'ff', $3, 'polishapi', 'getAccounts', 'POST', '/p', '127.0.0.1:1', 'allowed', '', '', 0)`, id, at, request)
		return err
	}
	for _, q := range []string{
		`INSERT INTO consents (id, tpp_id, client_id, tpp_consent_id, scope, status, created_at, updated_at, expires_at, scope_time_limit, throttling_policy, dialect) VALUES ('c1', 'PSDPL-KNF-1', 'x', 'x', 'ais', 'authorised', 0, 0, 1, 1, 'psd2Regulatory', 'polishapi')`,
		`INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at) VALUES ('x1', 'c1', 'PL61', 'ais:getAccount', FALSE, 5)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit("a1", 7, "r1"); err != nil {
		t.Fatal(err)
	}
	schema := func() map[string]string { return accessesLayout(t, db) }
	kept := func(when string) {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM request_audit WHERE request_id = 'r1' AND at = 7)
			+ (SELECT COUNT(*) FROM consent_accesses WHERE consent_id = 'c1' AND resource = 'PL61' AND at = 5)`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%s: %d of 2 rows, %v", when, n, err)
		}
		if err := audit("a2", 8, "r1"); !IsUniqueViolation(err) {
			t.Fatalf("%s: a replayed request id was recorded again (%v)", when, err)
		}
	}
	before := schema()
	if _, err := p.UpTo(ctx, 31); err != nil {
		t.Fatal(err)
	}
	after := schema()
	if s := after["request_audit"]; !strings.Contains(s, "PRIMARYKEY(at,id)") || !strings.HasSuffix(s, "WITHOUTROWID") {
		t.Errorf("request_audit after migration 31: %s", s)
	}
	if s := after["consent_accesses"]; !strings.HasSuffix(s, "WITHOUTROWID") {
		t.Errorf("consent_accesses after migration 31: %s", s)
	}
	if _, ok := after["request_audit_at"]; ok || after["request_audit_once"] == "" || after["request_audit_tpp"] == "" || after["consent_accesses_window"] == "" {
		t.Errorf("indexes after migration 31: %v", after)
	}
	kept("after migration 31")
	if _, err := p.DownTo(ctx, 30); err != nil {
		t.Fatal(err)
	}
	kept("after migration 31 down")
	if again := schema(); !maps.Equal(again, before) {
		t.Errorf("migration 31 down does not give the layout back:\n%v\nwant\n%v", again, before)
	}
}

// Migration 33 keeps the access records in the order their limit counts
// them in (the window index becomes the table's key) and drops the audit
// record's unused index on (tpp_id, at); rows, the led view and the
// replay index are kept, up and down.
func TestAccessesByConsentKeepRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 32)
	for _, q := range []string{
		`INSERT INTO consents (id, tpp_id, client_id, tpp_consent_id, scope, status, created_at, updated_at, expires_at, scope_time_limit, throttling_policy, dialect) VALUES ('c1', 'PSDPL-KNF-1', 'x', 'x', 'ais', 'authorised', 0, 0, 1, 1, 'psd2Regulatory', 'polishapi')`,
		`INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at, kind) VALUES ('x1', 'c1', 'PL61', 'ais:getAccount', FALSE, 5, 'k')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	led := func() error { // an access and its audit record through the led view
		n++
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO consent_accesses_led (lead_id, lead_at, lead_tpp_id, lead_cert_serial, lead_request_id, lead_dialect,
			lead_operation, lead_method, lead_path, lead_remote_addr, lead_decision, lead_code, lead_reason, lead_status,
			id, consent_id, resource, privilege, psu_present, at) VALUES ('a%d', %d, 'PSDPL-KNF-1', 'ff', 'r%d', 'polishapi', 'getAccount', 'POST', '/p',
			'127.0.0.1:1', 'allowed', '', '', 0, 'y%d', 'c1', 'PL61', 'ais:getAccount', TRUE, %d)`, n, 10+n, n, n, 10+n))
		return err
	}
	layout := func() map[string]string { return accessesLayout(t, db) }
	kept := func(when string, want int) {
		t.Helper()
		if err := led(); err != nil {
			t.Fatalf("%s: the led view: %v", when, err)
		}
		var accesses, audits, k int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM consent_accesses WHERE consent_id = 'c1'),
			(SELECT COUNT(*) FROM request_audit), (SELECT COUNT(*) FROM consent_accesses WHERE id = 'x1' AND kind = 'k' AND at = 5)`).Scan(&accesses, &audits, &k); err != nil {
			t.Fatal(err)
		}
		if accesses != want+1 || audits != want || k != 1 {
			t.Fatalf("%s: %d accesses, %d audit records, the first kept %d; want %d, %d, 1", when, accesses, audits, k, want+1, want)
		}
		// The replay index is there: a used request id is refused.
		_, err := db.ExecContext(ctx, `INSERT INTO request_audit (id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status)
			VALUES ('again', 99, 'PSDPL-KNF-1', 'ff', 'r1', 'polishapi', 'getAccount', 'POST', '/p', '127.0.0.1:1', 'allowed', '', '', 0)`)
		if !IsUniqueViolation(err) {
			t.Fatalf("%s: a replayed request id: %v", when, err)
		}
	}
	kept("at migration 32", 1)
	before := layout()
	if _, err := p.UpTo(ctx, 33); err != nil {
		t.Fatal(err)
	}
	after := layout()
	if s := after["consent_accesses"]; !strings.Contains(s, "PRIMARYKEY(consent_id,resource,psu_present,at,id))WITHOUTROWID") {
		t.Errorf("consent_accesses after migration 33: %s", s)
	}
	if _, ok := after["consent_accesses_window"]; ok {
		t.Error("consent_accesses_window after migration 33")
	}
	if _, ok := after["request_audit_tpp"]; ok || after["request_audit_once"] == "" {
		t.Errorf("request_audit's indexes after migration 33: %v", after)
	}
	kept("after migration 33", 2)
	if _, err := p.DownTo(ctx, 32); err != nil {
		t.Fatal(err)
	}
	kept("after migration 33 down", 3)
	if again := layout(); !maps.Equal(again, before) {
		t.Errorf("migration 33 down does not give the layout back:\n%v\nwant\n%v", again, before)
	}
}

// accessesLayout is the schema of request_audit and consent_accesses (the
// tables, their indexes, views and triggers on them), by name: the layout,
// not its spelling.
func accessesLayout(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT name, COALESCE(sql, '') FROM sqlite_schema WHERE tbl_name IN ('request_audit', 'consent_accesses')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, s string
		rows.Scan(&n, &s)
		out[n] = strings.Join(strings.Fields(strings.ReplaceAll(s, `"`, "")), "")
	}
	return out
}
