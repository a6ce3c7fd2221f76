package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// rewriteLed takes only what the view's trigger writes faithfully: the
// lead an INSERT of the view's lead table with each column's parameter in
// order, the statement one INSERT ... SELECT into the view's table with
// its parameters among its own arguments.
func TestRewriteLed(t *testing.T) {
	t.Parallel()
	var params []string
	for i := range strings.Split(auditColumns, ", ") {
		params = append(params, "$"+strconv.Itoa(i+1))
	}
	lead := "INSERT INTO request_audit (" + auditColumns + ") VALUES (" + strings.Join(params, ", ") + ")"
	const q = `WITH sel AS (SELECT $1 AS c)
INSERT INTO consent_accesses (id, consent_id) SELECT $2, c FROM sel RETURNING id`
	got := rewriteLed(lead, q, 2)
	want := `WITH sel AS (SELECT $1 AS c)
INSERT INTO consent_accesses_led (lead_id, lead_at, lead_tpp_id, lead_cert_serial, lead_request_id, lead_dialect, lead_operation, lead_method, lead_path, lead_remote_addr, lead_decision, lead_code, lead_reason, lead_status, id, consent_id)
SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $2, c FROM sel RETURNING id`
	if got != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	for name, c := range map[string]struct {
		lead, q string
		n       int
	}{
		"parameters out of order":     {strings.Replace(lead, "$1, $2", "$2, $1", 1), q, 2},
		"a value not a parameter":     {strings.Replace(lead, "$2,", "5,", 1), q, 2},
		"fewer values than columns":   {strings.Replace(lead, ", $14)", ")", 1), q, 2},
		"some of the audit's columns": {`INSERT INTO request_audit (id, at) VALUES ($1, $2)`, q, 2},
		"another lead table":          {strings.Replace(lead, "request_audit", "settings", 1), q, 2},
		"a lead with RETURNING":       {lead + ` RETURNING id`, q, 2},
		"another table":               {lead, strings.Replace(q, "consent_accesses", "settings", 1), 2},
		"two INSERTs":                 {lead, q + "; INSERT INTO consent_accesses (id) SELECT 1", 2},
		"VALUES, not SELECT":          {lead, `INSERT INTO consent_accesses (id, consent_id) VALUES ($1, $2)`, 2},
		"a parameter beyond n":        {lead, q, 1},
	} {
		if s := rewriteLed(c.lead, c.q, c.n); s != "" {
			t.Errorf("%s: rewritten to\n%s", name, s)
		}
	}
}

// Migration 32 makes the led view and its trigger on SQLite and its down
// migration takes them away again; the tables keep their rows.
func TestLedViewMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 31)
	objects := func() string {
		t.Helper()
		var names string
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(group_concat(type || ' ' || name, ', '), '') FROM
			(SELECT type, name FROM sqlite_schema WHERE name LIKE 'consent_accesses_led%' ORDER BY name)`).Scan(&names); err != nil {
			t.Fatal(err)
		}
		return names
	}
	if got := objects(); got != "" {
		t.Fatalf("before migration 32: %s", got)
	}
	if _, err := p.UpTo(ctx, 32); err != nil {
		t.Fatal(err)
	}
	if got, want := objects(), "view consent_accesses_led, trigger consent_accesses_led_insert"; got != want {
		t.Fatalf("after migration 32: %s, want %s", got, want)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO consents (id, tpp_id, client_id, tpp_consent_id, scope, status, created_at, updated_at, expires_at, scope_time_limit, throttling_policy, dialect)
		VALUES ('c1', 'PSDPL-KNF-1', 'x', 'x', 'ais', 'authorised', 0, 0, 1, 1, 'psd2Regulatory', 'polishapi')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO consent_accesses_led (lead_id, lead_at, lead_tpp_id, lead_cert_serial, lead_request_id, lead_dialect,
		lead_operation, lead_method, lead_path, lead_remote_addr, lead_decision, lead_code, lead_reason, lead_status,
		id, consent_id, resource, privilege, psu_present, at) VALUES ('a1', 7, 'PSDPL-KNF-1', 'ff', 'r1', 'polishapi', 'getAccount', 'POST', '/p',
		'127.0.0.1:1', 'allowed', '', '', 0, 'x1', 'c1', 'PL61', 'ais:getAccount', TRUE, 7)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 31); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM request_audit WHERE id = 'a1') + (SELECT COUNT(*) FROM consent_accesses WHERE id = 'x1')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after migration 32 down: %d of 2, %v", n, err)
	}
	if got := objects(); got != "" {
		t.Fatalf("after migration 32 down: %s", got)
	}
}
