package tpp

import (
	"context"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
)

// AuditEntry is one change recorded in the audit table.
type AuditEntry struct {
	ID      string
	At      time.Time
	Actor   string // who: a developer's email, a staff login, "system", "sandbox", "dcr"
	Action  string // what: "tpp.suspend", "application.submit", ...
	Subject string // on what: a TPP id, an application id, a client id
	Detail  string // free text: the reason, the client id created, ...
}

// The audit actions.
const (
	ActionSandboxRegister    = "tpp.register_sandbox"
	ActionDynamicRegister    = "tpp.register_dynamic"
	ActionTPPSuspend         = "tpp.suspend"
	ActionTPPReinstate       = "tpp.reinstate"
	ActionClientCreate       = "client.create"
	ActionApplicationCreate  = "application.create"
	ActionDocumentAdd        = "application.document_add"
	ActionCertificateAdd     = "application.certificate_add"
	ActionApplicationSubmit  = "application.submit"
	ActionApplicationApprove = "application.approve"
	ActionApplicationReject  = "application.reject"
	ActionStaffEnsure        = "staff.ensure"
)

// audit writes an audit row with q (inside the caller's transaction).
func (r *Registry) audit(ctx context.Context, q store.Querier, actor, action, subject, detail string) error {
	_, err := q.ExecContext(ctx,
		`INSERT INTO tpp_audit (id, at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		newID(), micros(r.clock.Now()), actor, action, subject, detail)
	if err != nil {
		return fmt.Errorf("write audit row: %w", err)
	}
	return nil
}

// Audit returns the newest audit entries, newest first, at most limit
// (default 200). A non-empty subject keeps only the entries about it.
func (r *Registry) Audit(ctx context.Context, subject string, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 200
	}
	q := `SELECT id, at, actor, action, subject, detail FROM tpp_audit ORDER BY at DESC, id DESC LIMIT $1`
	args := []any{limit}
	if subject != "" {
		q = `SELECT id, at, actor, action, subject, detail FROM tpp_audit WHERE subject = $2 ORDER BY at DESC, id DESC LIMIT $1`
		args = append(args, subject)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
