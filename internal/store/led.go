package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
)

// On SQLite a statement cannot write two tables (no data-modifying WITH
// queries), so an AIS read's consent check, which records the access,
// and the call's audit record were two statements and two commits, each
// a turn of the one writer. A led view joins them: an INSERT into
// consent_accesses_led writes the audit record (the lead) and the access
// record through its INSTEAD OF trigger, in one statement, one commit —
// as PostgreSQL does with a WITH query. WriteRow rewrites a statement that
// inserts into consent_accesses when the lead it owes is the audit
// record's INSERT, every column with its parameter in order:
//
//	INSERT INTO consent_accesses (id, ...) SELECT $14, ... FROM sel
//
// becomes
//
//	INSERT INTO consent_accesses_led (lead_id, ..., lead_status, id, ...) SELECT $15, ..., $28, $14, ... FROM sel
//
// with the lead's arguments after the statement's. The trigger writes the
// lead with the first row only (a statement may insert several) and, as
// the lead's own INSERT would, fails on a replayed request id, which undoes
// the whole statement. A statement that inserts no row writes no lead
// either: it is left to Settle, or to the request's next write.
// The view is migration 32 (ledViewMigration); migration 33 rebuilds
// consent_accesses and makes it again.

// The one led view: INSERTs into ledTable also write the audit record
// (leadTable, its columns prefixed lead_ in the view).
const (
	ledTable  = "consent_accesses"
	ledView   = "consent_accesses_led"
	leadTable = "request_audit"
)

var (
	// leadInsert is a lead the views can take: an INSERT of a column list
	// with a parameter for each column, in order.
	leadInsert = regexp.MustCompile(`^\s*INSERT INTO (\w+)\s*\(([\w\s,]+)\)\s*VALUES\s*\(([$\d\s,]+)\)\s*$`)
	// insertSelect is the INSERT ... SELECT a statement must contain.
	insertSelect = regexp.MustCompile(`INSERT INTO (\w+) \(([\w\s,]+)\)\s*SELECT `)
)

// ledQueries are the statements ledStatement made, or "" where it could
// not (keyed by the lead's statement, the statement and its number of
// parameters).
var ledQueries sync.Map

type ledKey struct {
	lead, q string
	n       int
}

// ledStatement is q rewritten to write the lead leadQ too (see above),
// with the lead's parameters numbered after q's n; ok is false when q or
// the lead is not of the form a led view takes.
func ledStatement(leadQ, q string, n int) (string, bool) {
	key := ledKey{leadQ, q, n}
	if s, ok := ledQueries.Load(key); ok {
		return s.(string), s.(string) != ""
	}
	s := rewriteLed(leadQ, q, n)
	ledQueries.Store(key, s)
	return s, s != ""
}

func rewriteLed(leadQ, q string, n int) string {
	lm := leadInsert.FindStringSubmatch(leadQ)
	if lm == nil {
		return ""
	}
	cols := splitList(lm[2])
	params := splitList(lm[3])
	if len(cols) != len(params) {
		return ""
	}
	for i, p := range params {
		if p != "$"+strconv.Itoa(i+1) {
			return ""
		}
	}
	// The statement's own parameters must all be among its n arguments.
	for _, p := range placeholder.FindAllStringSubmatch(q, -1) {
		if k, _ := strconv.Atoi(p[1]); k > n {
			return ""
		}
	}
	loc := insertSelect.FindStringSubmatchIndex(q)
	if loc == nil || strings.Count(q, "INSERT INTO ") != 1 {
		return ""
	}
	if q[loc[2]:loc[3]] != ledTable || lm[1] != leadTable || strings.Join(cols, ", ") != auditColumns {
		return "" // the view takes the audit record's columns, all of them, in their order
	}
	leadCols := make([]string, len(cols))
	leadParams := make([]string, len(cols))
	for i, c := range cols {
		leadCols[i] = "lead_" + c
		leadParams[i] = "$" + strconv.Itoa(n+i+1)
	}
	return q[:loc[0]] + fmt.Sprintf("INSERT INTO %s (%s, %s)\nSELECT %s, ", ledView, strings.Join(leadCols, ", "),
		q[loc[4]:loc[5]], strings.Join(leadParams, ", ")) + q[loc[1]:]
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

// ledViewMigration is migration 32: on SQLite, the led views (see above).
// PostgreSQL writes the lead in a WITH query of the statement instead:
// nothing to do. A table a view reads cannot be renamed while the view is
// there: a later migration that rebuilds request_audit or
// consent_accesses (rebuild) drops the view first and makes it again.
func ledViewMigration(engine Engine) *goose.Migration {
	return goose.NewGoMigration(32, sqliteOnly(engine, ledViewStatements()), sqliteOnly(engine, dropLedView()))
}

// dropLedView are the statements that take the led view and its trigger
// away.
func dropLedView() []string {
	return []string{"DROP TRIGGER " + ledView + "_insert", "DROP VIEW " + ledView}
}

// ledViewStatements make the led view over its tables' columns as of
// migration 31 (auditColumns, accessColumns) and its trigger.
func ledViewStatements() []string {
	var sel, leadNew, ownNew []string
	for _, c := range splitList(auditColumns) {
		sel = append(sel, "l."+c+" AS lead_"+c)
		leadNew = append(leadNew, "NEW.lead_"+c)
	}
	for _, c := range splitList(accessColumns) {
		sel = append(sel, "t."+c+" AS "+c)
		if c == "kind" {
			ownNew = append(ownNew, "COALESCE(NEW.kind, '')") // the column's default when not given
		} else {
			ownNew = append(ownNew, "NEW."+c)
		}
	}
	return []string{
		fmt.Sprintf("CREATE VIEW %s AS SELECT %s FROM %s l, %s t WHERE 0", ledView, strings.Join(sel, ", "), leadTable, ledTable),
		// The lead with the statement's first row only; a lead already
		// there with another id (a replayed request id) fails the
		// lead table's unique index, and with it the whole statement.
		fmt.Sprintf(`CREATE TRIGGER %s_insert INSTEAD OF INSERT ON %s BEGIN
INSERT INTO %s (%s) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM %s WHERE at = NEW.lead_at AND id = NEW.lead_id);
INSERT INTO %s (%s) VALUES (%s);
END`, ledView, ledView, leadTable, auditColumns, strings.Join(leadNew, ", "), leadTable,
			ledTable, accessColumns, strings.Join(ownNew, ", ")),
	}
}
