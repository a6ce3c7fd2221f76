package access

import (
	"context"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
)

// AuditEntry is one recorded change of access, limits, an identity check or
// a consent.
type AuditEntry struct {
	ID         string
	At         time.Time
	Actor      string  // a staff login, a customer's login, "sandbox"
	Channel    Channel // where it came from
	Action     string  // one of the Action constants
	CustomerID string  // whose account or consent
	Subject    string  // an account number, a check id, a consent id
	Detail     string  // the change in words, the reason
}

// The audit actions.
const (
	ActionAccessActivate       = "access.activate"
	ActionAccessBlock          = "access.block"
	ActionLimitsSet            = "limits.set"
	ActionVerificationStart    = "verification.start"
	ActionVerificationPassed   = "verification.passed"
	ActionVerificationWrong    = "verification.wrong_pesel"
	ActionVerificationFailed   = "verification.failed"
	ActionRepresentative       = "verification.representative"
	ActionVerificationDayLimit = "verification.day_limit"
	ActionConsentRevoke        = "consent.revoke"
)

// audit writes an entry with q (inside the caller's transaction).
func (s *Service) audit(ctx context.Context, q store.Querier, e AuditEntry) error {
	_, err := q.ExecContext(ctx, `INSERT INTO access_audit (id, at, actor, channel, action, customer_id, subject, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		newID(), micros(s.clock.Now()), e.Actor, string(e.Channel), e.Action, e.CustomerID, e.Subject, e.Detail)
	if err != nil {
		return fmt.Errorf("write access audit: %w", err)
	}
	return nil
}

// Record writes an audit entry for a change made elsewhere (internet
// banking records a consent revoked by the customer with it).
func (s *Service) Record(ctx context.Context, e AuditEntry) error {
	return s.audit(ctx, s.db, e)
}

// Audit returns the newest audit entries, newest first, at most limit
// (default 200); a non-empty customerID keeps only that customer's.
func (s *Service) Audit(ctx context.Context, customerID string, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 200
	}
	const cols = `SELECT id, at, actor, channel, action, customer_id, subject, detail FROM access_audit`
	q, args := cols+` ORDER BY at DESC, id DESC LIMIT $1`, []any{limit}
	if customerID != "" {
		q, args = cols+` WHERE customer_id = $2 ORDER BY at DESC, id DESC LIMIT $1`, append(args, customerID)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read access audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var ch string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &ch, &e.Action, &e.CustomerID, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		e.At, e.Channel = fromMicros(at), Channel(ch)
		out = append(out, e)
	}
	return out, rows.Err()
}
