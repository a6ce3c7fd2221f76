package berlingroup

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/oauth"
)

// explicitStart tells whether the TPP prefers to start the authorisation
// itself (TPP-Explicit-Authorisation-Preferred: true): the resource is
// then created with _links.startAuthorisation only, and the customer is
// asked when the TPP posts to .../authorisations.
func explicitStart(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("TPP-Explicit-Authorisation-Preferred")), "true")
}

// startAwaited starts an authorisation the TPP asked to start explicitly:
// a compare-and-set on the resource's awaiting_start (table is
// berlingroup_consents or berlingroup_payments, whose key is
// consent_id or id), so that only the first start asks the customer —
// for the decoupled approach, the mobile app's push — and the request's
// time counts from the start. A start that finds it started already does
// nothing.
func (s *service) startAwaited(ctx context.Context, table, id, requestID, approach string) error {
	key := "id"
	if table == "berlingroup_consents" {
		key = "consent_id"
	}
	res, err := s.d.DB.ExecContext(ctx, `UPDATE `+table+` SET awaiting_start = FALSE WHERE `+key+` = $1 AND awaiting_start = TRUE`, id)
	if err != nil {
		return fmt.Errorf("berlingroup: start authorisation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return err
	}
	// The customer has the request's full time from the start.
	if err := s.d.OAuth.Renew(ctx, requestID); err != nil {
		return err
	}
	if approach != "DECOUPLED" || s.d.OnDecoupled == nil {
		return nil
	}
	p, err := s.d.OAuth.Request(ctx, requestID)
	if err != nil {
		return err
	}
	return s.d.OnDecoupled(ctx, oauth.AuthorizeResult{RequestID: requestID, RedirectURI: s.d.OAuth.PageURL(requestID),
		ConsentID: p.ConsentID, ExpiresAt: p.ExpiresAt}, p.PSULogin)
}
