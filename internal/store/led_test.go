package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// auditLead is the gateway's audit record of an admitted call, as the
// gateway writes it (gateway.auditRecord).
const auditLead = `INSERT INTO request_audit
		(id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

func newAuditLead(id string, at int64, requestID string) *store.Lead {
	return store.NewLead(auditLead, id, at, "PSDPL-KNF-1", "ff", requestID, "polishapi", "getTransactionsDone",
		"POST", "/p", "127.0.0.1:1", "allowed", "", "", 0)
}

// An AIS read's access record and its audit record are written by one
// statement on both engines (on SQLite through the led view's trigger):
// both or neither, a replayed request id failing the whole statement, the
// audit record once however many accesses the statement records.
func TestWriteRowLedAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO consents (id, tpp_id, client_id, tpp_consent_id, scope, status, created_at, updated_at, expires_at, scope_time_limit, throttling_policy, dialect)
			VALUES ('c1', 'PSDPL-KNF-1', 'x', 'x', 'ais', 'authorised', 0, 0, 1, 1, 'psd2Regulatory', 'polishapi')`); err != nil {
			t.Fatal(err)
		}
		// One access when $3 is 'yes', as the consent check's statement.
		const one = `WITH sel AS (SELECT id AS consent_id, CAST($2 AS TEXT) AS nrb FROM consents WHERE id = $1 AND $3 = 'yes')
INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at)
SELECT $4, consent_id, nrb, 'ais:getTransactionsDone', TRUE, $5 FROM sel
RETURNING resource, (SELECT consent_id FROM sel)`
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		audits := func(request string) int {
			return count(`SELECT COUNT(*) FROM request_audit WHERE request_id = $1`, request)
		}
		access := func(id string) int { return count(`SELECT COUNT(*) FROM consent_accesses WHERE id = $1`, id) }

		// Allowed: one statement writes both.
		l := newAuditLead("a1", 10, "r1")
		q0 := db.Queries()
		var nrb, consent string
		if err := db.WriteRow(store.WithLead(ctx, l), one, []any{"c1", "PL61", "yes", "x1", 10}, &nrb, &consent); err != nil {
			t.Fatal(err)
		}
		if n := db.Queries() - q0; n != 1 {
			t.Errorf("%d statements, want 1", n)
		}
		if nrb != "PL61" || consent != "c1" || !l.Written() || audits("r1") != 1 || access("x1") != 1 {
			t.Fatalf("allowed: returned %q %q, lead written %v, audit %d, access %d", nrb, consent, l.Written(), audits("r1"), access("x1"))
		}

		// Refused (no row): no access; the audit record is there once Settle
		// has run (PostgreSQL wrote it with the statement, SQLite leaves it).
		l2 := newAuditLead("a2", 11, "r2")
		err := db.WriteRow(store.WithLead(ctx, l2), one, []any{"c1", "PL61", "no", "x2", 11}, &nrb, &consent)
		if !errors.Is(err, sql.ErrNoRows) || access("x2") != 0 {
			t.Fatalf("refused: %v, access %d", err, access("x2"))
		}
		if err := db.Settle(ctx, l2); err != nil || audits("r2") != 1 {
			t.Fatalf("refused, settled: %v, audit %d", err, audits("r2"))
		}

		// Replayed request id: the statement fails and writes nothing.
		for _, yes := range []string{"yes", "no"} {
			l3 := newAuditLead("a3"+yes, 12, "r1")
			err = db.WriteRow(store.WithLead(ctx, l3), one, []any{"c1", "PL61", yes, "x3", 12}, &nrb, &consent)
			if yes == "no" && errors.Is(err, sql.ErrNoRows) {
				err = db.Settle(ctx, l3) // SQLite: the lead left to Settle, which fails
			}
			if !store.IsUniqueViolation(err) || l3.Written() || access("x3") != 0 || audits("r1") != 1 {
				t.Fatalf("replayed (%s): %v, written %v, access %d, audit %d", yes, err, l3.Written(), access("x3"), audits("r1"))
			}
		}

		// Several accesses in one statement (a list of accounts): the audit
		// record once.
		const two = `WITH sel AS (SELECT c.id AS consent_id, v.nrb, v.id FROM consents c
	JOIN (SELECT 'PL1' AS nrb, CAST($2 AS TEXT) AS id UNION ALL SELECT 'PL2', CAST($3 AS TEXT)) v ON TRUE WHERE c.id = $1)
INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at)
SELECT id, consent_id, nrb, 'ais:getAccount', TRUE, $4 FROM sel
RETURNING resource`
		l4 := newAuditLead("a4", 13, "r4")
		q0 = db.Queries()
		if err := db.WriteRow(store.WithLead(ctx, l4), two, []any{"c1", "x4", "x5", 13}, &nrb); err != nil {
			t.Fatal(err)
		}
		if n := db.Queries() - q0; n != 1 || !l4.Written() || audits("r4") != 1 || access("x4")+access("x5") != 2 {
			t.Fatalf("two accesses: %d statements, written %v, audit %d, accesses %d", n, l4.Written(), audits("r4"), access("x4")+access("x5"))
		}

		// The rows are what the lead and the statement said.
		var tpp, op, privilege string
		var at int64
		var psu bool
		if err := db.QueryRowContext(ctx, `SELECT tpp_id, operation, at FROM request_audit WHERE id = 'a1'`).Scan(&tpp, &op, &at); err != nil ||
			tpp != "PSDPL-KNF-1" || op != "getTransactionsDone" || at != 10 {
			t.Fatalf("audit row: %q %q %d %v", tpp, op, at, err)
		}
		if err := db.QueryRowContext(ctx, `SELECT privilege, psu_present, at FROM consent_accesses WHERE id = 'x1'`).Scan(&privilege, &psu, &at); err != nil ||
			privilege != "ais:getTransactionsDone" || !psu || at != 10 {
			t.Fatalf("access row: %q %v %d %v", privilege, psu, at, err)
		}
		var kind string
		if err := db.QueryRowContext(ctx, `SELECT kind FROM consent_accesses WHERE id = 'x4'`).Scan(&kind); err != nil || kind != "" {
			t.Fatalf("kind %q %v", kind, err)
		}
	})
}
