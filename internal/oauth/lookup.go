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
	norm, h := tpp.LookupKey(tppID), hash(accessToken)
	var status, env, reason sql.NullString
	var kind, family, consentID, customerID, clientID, tokTPP, scope, cnf sql.NullString
	var exp, rot, rev sql.NullInt64
	err = s.cfg.DB.QueryRowContext(ctx, `SELECT p.status, p.environment, p.suspended_reason,
		t.kind, t.family, t.consent_id, t.customer_id, t.client_id, t.tpp_id, t.scope, t.cnf_x5t_s256, t.expires_at, t.rotated_at, t.revoked_at
		FROM (SELECT 1 AS one) one
		LEFT JOIN tpps p ON p.norm_id = $1
		LEFT JOIN oauth_tokens t ON t.hash = $2 AND t.kind = $3`, norm, h, kindAccess).
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
	if tokenErr == nil && st.Active {
		s.tokens.Put(h, cachedToken{row: t, norm: norm, env: st.Environment})
	}
	return st, tok, tokenErr, nil
}

// cachedToken is what Server keeps of an access token read valid with its
// TPP active (Cached). A token's row never changes but for its revocation
// (revoked_at), and a TPP's registration row (tpps) never changes but for
// its status and environment: the rest — whose the token is, its consent,
// customer, client, scope, expiry and the certificate it is bound to — is
// kept, so that a call can take it from here and check only the changing
// facts, in the statement of its own that grants the access (package
// live). Kept by the token's hash, up to maxCachedTokens.
type cachedToken struct {
	row  tokenRow // RevokedAt zero: it was not revoked when read
	norm string   // the TPP's normalised id it was read with
	env  string   // the TPP's environment when read (checked again by the statement in production)
}

// maxCachedTokens bounds the tokens kept (each some 300 bytes).
const maxCachedTokens = 16384

// Cached authenticates an access token, as AuthenticateWithTPP does, from
// what an earlier read of it kept: the TPP is then taken as active (with
// the environment it had) and the token as unrevoked, which the caller
// must still check where it grants the access (live.Cond with the hash and
// norm returned), or by AuthenticateWithTPP. ok is false when nothing was
// kept, or when the kept token would be refused (AuthenticateWithTPP then
// gives the refusal).
func (s *Server) Cached(accessToken, tppID, qwacThumbprint string) (st TPPStatus, tok Token, tokenHash, norm string, ok bool) {
	if accessToken == "" {
		return TPPStatus{}, Token{}, "", "", false
	}
	h := hash(accessToken)
	c, found := s.tokens.Get(h)
	if !found || tpp.LookupKey(tppID) != c.norm { // never read, or read for another organisation id
		return TPPStatus{}, Token{}, "", "", false
	}
	tok, err := s.accessToken(c.row, nil, tppID, qwacThumbprint)
	if err != nil {
		return TPPStatus{}, Token{}, "", "", false
	}
	return TPPStatus{Known: true, Active: true, Environment: c.env}, tok, h, c.norm, true
}
