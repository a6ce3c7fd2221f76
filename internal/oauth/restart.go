package oauth

import (
	"context"
	"fmt"
)

// Renew gives a pending authorization request its full time again, from
// now: for a request made before the customer is to be asked (Berlin
// Group's explicit start of an authorisation, which may come a while
// after the consent or payment was created). A decided or expired request
// is left as it is.
func (s *Server) Renew(ctx context.Context, requestID string) error {
	now := s.cfg.Clock.Now()
	_, err := s.cfg.DB.ExecContext(ctx, `UPDATE oauth_requests SET expires_at = $1 WHERE id = $2 AND status = $3 AND expires_at > $4`,
		micros(now.Add(s.cfg.RequestTTL)), requestID, requestPending, micros(now))
	if err != nil {
		return fmt.Errorf("renew authorization request: %w", err)
	}
	return nil
}
