package sca

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The bank's mobile app in production: its backend learns of every pending
// mobile-app challenge (PendingMobile, delivered by the bank's webhook) and
// answers with the customer's decision on one named challenge
// (DecideChallenge). The sandbox decides the newest pending challenge of a
// login instead (DecideMobile).

// DecideChallenge approves (or rejects) the pending mobile-app challenge id,
// as the bank's mobile-app backend answers for the customer. A challenge
// that does not exist or is not a mobile-app one answers CodeNotFound; one
// already decided CodeUsed; one past its validity CodeExpired. After the
// decision is committed, OnDecision (if set) is called with it.
func (s *Service) DecideChallenge(ctx context.Context, id string, approve bool) (Challenge, error) {
	now := s.clock.Now()
	status := StatusRejected
	if approve {
		status = StatusApproved
	}
	c, err := s.Challenge(ctx, id)
	if err != nil {
		return Challenge{}, err
	}
	switch {
	case c.Method != MethodMobile:
		return Challenge{}, errNotFound
	case c.Status == StatusExpired:
		return Challenge{}, &Error{Code: CodeExpired, Message: "The request to the mobile app has expired.",
			MessagePL: "Prośba do aplikacji mobilnej wygasła."}
	case c.Status != StatusPending:
		return Challenge{}, &Error{Code: CodeUsed, Message: "This request to the mobile app was already decided.",
			MessagePL: "Ta prośba do aplikacji mobilnej została już rozstrzygnięta."}
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sca_challenges SET status = $2, decided_at = $3
		WHERE id = $1 AND method = 'mobile' AND status = 'pending' AND expires_at > $3`,
		c.ID, string(status), now.UnixMicro())
	if err != nil {
		return Challenge{}, fmt.Errorf("decide mobile challenge: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// Another node (or an expiry) got there first.
		return Challenge{}, &Error{Code: CodeUsed, Message: "This request to the mobile app was already decided.",
			MessagePL: "Ta prośba do aplikacji mobilnej została już rozstrzygnięta."}
	}
	c.Status, c.DecidedAt = status, now.UTC().Truncate(time.Microsecond)
	if s.OnDecision != nil {
		s.OnDecision(ctx, c)
	}
	return c, nil
}

// PendingMobile returns up to limit pending, unexpired mobile-app
// challenges, oldest first.
func (s *Service) PendingMobile(ctx context.Context, limit int) ([]Challenge, error) {
	return s.list(ctx, `SELECT `+challengeColumns+` FROM sca_challenges
		WHERE method = 'mobile' AND status = 'pending' AND expires_at > $1
		ORDER BY created_at, id LIMIT $2`, s.clock.Now().UnixMicro(), limit)
}

// DecidedUnconsumed returns up to limit mobile-app challenges whose purpose
// starts with prefix (letters, digits and ':' only), that were decided but not yet acted on (Consume):
// decisions whose follow-up a crash may have interrupted.
func (s *Service) DecidedUnconsumed(ctx context.Context, prefix string, limit int) ([]Challenge, error) {
	return s.list(ctx, `SELECT `+challengeColumns+` FROM sca_challenges
		WHERE method = 'mobile' AND status IN ('approved', 'rejected') AND consumed_at = 0
		AND purpose LIKE $1 ORDER BY decided_at, id LIMIT $2`, strings.NewReplacer("%", "", "_", "").Replace(prefix)+"%", limit)
}

func (s *Service) list(ctx context.Context, query string, args ...any) ([]Challenge, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list challenges: %w", err)
	}
	defer rows.Close()
	now := s.clock.Now()
	var out []Challenge
	for rows.Next() {
		c, _, err := scanChallenge(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
