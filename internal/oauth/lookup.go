package oauth

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/tpp"
)

// TPPStatus is a TPP's registration as the registry (tpp.Registry) keeps
// it: Known when the organisation is onboarded.
type TPPStatus struct {
	Known       bool
	Active      bool
	Environment string
	Reason      string // why it is suspended
}

// AuthenticateWithTPP authenticates an access token as Authenticate does
// and, in the same statement, reads the registration of the TPP (the
// registry's row): the API gateway's checks 4 (the TPP is registered and
// active) and 8 (the access token) in one round trip. tokenErr is
// Authenticate's refusal of the token; err a failure to read.
func (s *Server) AuthenticateWithTPP(ctx context.Context, accessToken, tppID, qwacThumbprint string) (st TPPStatus, tok Token, tokenErr, err error) {
	norm, nerr := tpp.NormalizeOrgID(tppID)
	if nerr != nil {
		norm = tppID
	}
	var status, env, reason sql.NullString
	var kind, family, consentID, customerID, clientID, tokTPP, scope, cnf sql.NullString
	var exp, rot, rev sql.NullInt64
	err = s.cfg.DB.QueryRowContext(ctx, `SELECT p.status, p.environment, p.suspended_reason,
		t.kind, t.family, t.consent_id, t.customer_id, t.client_id, t.tpp_id, t.scope, t.cnf_x5t_s256, t.expires_at, t.rotated_at, t.revoked_at
		FROM (SELECT 1 AS one) one
		LEFT JOIN tpps p ON p.norm_id = $1
		LEFT JOIN oauth_tokens t ON t.hash = $2 AND t.kind = $3`, norm, hash(accessToken), kindAccess).
		Scan(&status, &env, &reason, &kind, &family, &consentID, &customerID, &clientID, &tokTPP, &scope, &cnf, &exp, &rot, &rev)
	if err != nil {
		return TPPStatus{}, Token{}, nil, fmt.Errorf("read TPP and access token: %w", err)
	}
	if status.Valid {
		st = TPPStatus{Known: true, Active: status.String == tpp.StatusActive, Environment: env.String, Reason: reason.String}
	}
	var readErr error
	if !kind.Valid || accessToken == "" {
		readErr = sql.ErrNoRows
	}
	t := tokenRow{Kind: kind.String, Family: family.String, ConsentID: consentID.String, CustomerID: customerID.String,
		ClientID: clientID.String, TPPID: tokTPP.String, Scope: scope.String, CNF: cnf.String,
		ExpiresAt: fromMicros(exp.Int64), RotatedAt: fromMicros(rot.Int64), RevokedAt: fromMicros(rev.Int64)}
	tok, tokenErr = s.accessToken(t, readErr, tppID, qwacThumbprint)
	return st, tok, tokenErr, nil
}
