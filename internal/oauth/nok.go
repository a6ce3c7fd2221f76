package oauth

import (
	"context"
	"fmt"
)

// SetNokRedirect sets where the browser goes when the customer refuses a
// request (Berlin Group's TPP-Nok-Redirect-URI), instead of the redirect
// URI with error=access_denied. The caller checks the address.
func (s *Server) SetNokRedirect(ctx context.Context, requestID, uri string) error {
	if _, err := s.cfg.DB.ExecContext(ctx, `UPDATE oauth_requests SET nok_redirect_uri = $1 WHERE id = $2`, uri, requestID); err != nil {
		return fmt.Errorf("set the refusal redirect: %w", err)
	}
	return nil
}

// nokRedirect is the request's refusal redirect, "" when none is set.
func (s *Server) nokRedirect(ctx context.Context, requestID string) string {
	var uri string
	if err := s.cfg.DB.QueryRowContext(ctx, `SELECT nok_redirect_uri FROM oauth_requests WHERE id = $1`, requestID).Scan(&uri); err != nil {
		s.log.Error("read the refusal redirect", "request", requestID, "err", err)
		return ""
	}
	return uri
}
