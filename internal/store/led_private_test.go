package store

import (
	"strings"
	"testing"
)

// rewriteLed takes only what the view's trigger writes faithfully: the
// lead an INSERT of the view's lead table with each column's parameter in
// order, the statement one INSERT ... SELECT into the view's table with
// its parameters among its own arguments.
func TestRewriteLed(t *testing.T) {
	t.Parallel()
	const lead = `INSERT INTO request_audit (id, at) VALUES ($1, $2)`
	const q = `WITH sel AS (SELECT $1 AS c)
INSERT INTO consent_accesses (id, consent_id) SELECT $2, c FROM sel RETURNING id`
	got := rewriteLed(lead, q, 2)
	want := `WITH sel AS (SELECT $1 AS c)
INSERT INTO consent_accesses_led (lead_id, lead_at, id, consent_id)
SELECT $3, $4, $2, c FROM sel RETURNING id`
	if got != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	for name, c := range map[string]struct {
		lead, q string
		n       int
	}{
		"parameters out of order":   {`INSERT INTO request_audit (id, at) VALUES ($2, $1)`, q, 2},
		"a value not a parameter":   {`INSERT INTO request_audit (id, at) VALUES ($1, 5)`, q, 2},
		"fewer values than columns": {`INSERT INTO request_audit (id, at) VALUES ($1)`, q, 2},
		"another lead table":        {`INSERT INTO settings (id, at) VALUES ($1, $2)`, q, 2},
		"a lead with RETURNING":     {lead + ` RETURNING id`, q, 2},
		"another table":             {lead, strings.Replace(q, "consent_accesses", "settings", 1), 2},
		"two INSERTs":               {lead, q + "; INSERT INTO consent_accesses (id) SELECT 1", 2},
		"VALUES, not SELECT":        {lead, `INSERT INTO consent_accesses (id, consent_id) VALUES ($1, $2)`, 2},
		"a parameter beyond n":      {lead, q, 1},
	} {
		if s := rewriteLed(c.lead, c.q, c.n); s != "" {
			t.Errorf("%s: rewritten to\n%s", name, s)
		}
	}
}
