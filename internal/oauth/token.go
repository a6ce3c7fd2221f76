package oauth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantExchangeToken     = "exchange_token"
)

// TokenRequest is a token call.
type TokenRequest struct {
	TPPID          string // from the QWAC
	QWACThumbprint string // x5t#S256 of the TLS client certificate
	GrantType      string
	ClientID       string
	Code           string
	RedirectURI    string
	RefreshToken   string
	ExchangeToken  string // exchange_token: an access token of an ais-accounts consent
	Scope          string
	ScopeDetails   *ScopeDetails // exchange_token: the ais consent asked for
	IsUserSession  bool
}

// TokenResponse is what Token gives back.
type TokenResponse struct {
	AccessToken  string
	RefreshToken string
	TokenType    string // "Bearer"
	ExpiresIn    int    // seconds
	Scope        string
	Consent      consent.Consent
}

// Token is what an access token stands for.
type Token struct {
	ConsentID  string
	CustomerID string
	ClientID   string
	TPPID      string
	Scope      consent.Scope
	ExpiresAt  time.Time
}

// Token kinds.
const (
	kindAccess  = "access"
	kindRefresh = "refresh"
)

// Token answers a token call: authorization_code, refresh_token or
// exchange_token. Access tokens are bound to the QWAC presented; refresh
// tokens are rotated on use, and a replayed code or rotated refresh token
// revokes every token of its grant.
func (s *Server) Token(ctx context.Context, r TokenRequest) (TokenResponse, error) {
	if r.QWACThumbprint == "" {
		return TokenResponse{}, newError(InvalidRequest,
			"the request came without a client certificate: call over mutual TLS with your QWAC",
			"żądanie przyszło bez certyfikatu klienta: wywołuj przez wzajemne TLS z certyfikatem QWAC")
	}
	switch r.GrantType {
	case GrantAuthorizationCode:
		return s.redeemCode(ctx, r)
	case GrantRefreshToken:
		return s.refresh(ctx, r)
	case GrantExchangeToken:
		return s.exchange(ctx, r)
	case "":
		return TokenResponse{}, newError(InvalidRequest, "grant_type is required", "grant_type jest wymagane")
	}
	return TokenResponse{}, newError(UnsupportedGrantType,
		"grant_type %q is not supported: use authorization_code, refresh_token or exchange_token",
		"grant_type %q nie jest obsługiwany: użyj authorization_code, refresh_token lub exchange_token", r.GrantType)
}

func (s *Server) redeemCode(ctx context.Context, r TokenRequest) (TokenResponse, error) {
	if r.Code == "" {
		return TokenResponse{}, newError(InvalidRequest, "code is required", "code jest wymagane")
	}
	if _, err := s.client(ctx, r.TPPID, r.ClientID); err != nil {
		return TokenResponse{}, err
	}
	unknown := newError(InvalidGrant, "the authorization code is unknown: send the code from the redirect exactly",
		"kod autoryzacji jest nieznany: przekaż dokładnie kod z przekierowania")
	var out TokenResponse
	replayed := false
	now := s.cfg.Clock.Now()
	h := hash(r.Code)
	err := s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		replayed = false
		var family, consentID, tppID, clientID, redirectURI string
		var expires, used int64
		err := tx.QueryRowContext(ctx, `SELECT family, consent_id, tpp_id, client_id, redirect_uri, expires_at, used_at
			FROM oauth_codes WHERE hash = $1`, h).Scan(&family, &consentID, &tppID, &clientID, &redirectURI, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || err == nil && tppID != r.TPPID {
			return unknown
		}
		if err != nil {
			return fmt.Errorf("read code: %w", err)
		}
		if used != 0 {
			replayed = true
			return revokeFamily(ctx, tx, family, "authorization code replayed", now)
		}
		switch {
		case clientID != r.ClientID:
			return newError(InvalidGrant, "the authorization code was issued to another client: redeem it with the client_id that asked for it",
				"kod autoryzacji wydano innemu klientowi: wymień go z client_id, który o niego prosił")
		case redirectURI != r.RedirectURI:
			return newError(InvalidGrant, "redirect_uri differs from the one of the authorization request: send the same address exactly",
				"redirect_uri różni się od podanego w żądaniu autoryzacji: podaj dokładnie ten sam adres")
		case !now.Before(fromMicros(expires)):
			return newError(InvalidGrant, "the authorization code has expired (it lives %d seconds): ask the customer to authorise again",
				"kod autoryzacji wygasł (jest ważny %d sekund): poproś klienta o ponowną autoryzację", int(s.cfg.CodeTTL/time.Second))
		}
		res, err := tx.ExecContext(ctx, `UPDATE oauth_codes SET used_at = $1 WHERE hash = $2 AND used_at = 0`, micros(now), h)
		if err := oneRow(res, err); err != nil {
			if errors.Is(err, errNoRow) { // redeemed concurrently
				replayed = true
				return revokeFamily(ctx, tx, family, "authorization code replayed", now)
			}
			return fmt.Errorf("use code: %w", err)
		}
		c, err := s.cfg.Consents.GetIn(ctx, tx, consentID)
		if err != nil {
			return err
		}
		if c.Status != consent.StatusAuthorised {
			return newError(InvalidGrant, "the consent of this code is %s: ask the customer for a new consent",
				"zgoda tego kodu ma status %s: poproś klienta o nową zgodę", c.Status)
		}
		out, err = s.issue(ctx, tx, family, c, r.QWACThumbprint, now)
		return err
	})
	if err == nil && replayed {
		err = newError(InvalidGrant,
			"the authorization code was already used; the tokens issued from it are revoked: ask the customer to authorise again",
			"kod autoryzacji został już użyty; wydane z niego tokeny unieważniono: poproś klienta o ponowną autoryzację")
	}
	return out, err
}

// issue makes an access token bound to cnf and a refresh token, in family.
func (s *Server) issue(ctx context.Context, tx *store.Tx, family string, c consent.Consent, cnf string, now time.Time) (TokenResponse, error) {
	access, refresh := randomToken(), randomToken()
	accessExp := earlier(now.Add(s.cfg.AccessTTL), c.ExpiresAt)
	refreshExp := earlier(now.Add(s.cfg.RefreshTTL), c.ExpiresAt)
	for _, t := range []struct {
		token, kind, cnf string
		exp              time.Time
	}{{access, kindAccess, cnf, accessExp}, {refresh, kindRefresh, "", refreshExp}} {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_tokens
			(hash, kind, family, consent_id, customer_id, client_id, tpp_id, scope, cnf_x5t_s256, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			hash(t.token), t.kind, family, c.ID, c.CustomerID, c.ClientID, c.TPPID, string(c.Scope), t.cnf,
			micros(now), micros(t.exp))
		if err != nil {
			return TokenResponse{}, fmt.Errorf("store token: %w", err)
		}
	}
	return TokenResponse{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int(accessExp.Sub(now) / time.Second),
		Scope:        string(c.Scope),
		Consent:      c,
	}, nil
}

func revokeFamily(ctx context.Context, q store.Querier, family, reason string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE oauth_tokens SET revoked_at = $1, revoked_reason = $2 WHERE family = $3 AND revoked_at = 0`,
		micros(now), reason, family)
	if err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}

// tokenRow is a stored token.
type tokenRow struct {
	Kind, Family, ConsentID, CustomerID, ClientID, TPPID, Scope, CNF string
	ExpiresAt, RotatedAt, RevokedAt                                  time.Time
}

func loadToken(ctx context.Context, q store.Querier, token, kind string) (tokenRow, error) {
	var t tokenRow
	var exp, rot, rev int64
	err := q.QueryRowContext(ctx, `SELECT kind, family, consent_id, customer_id, client_id, tpp_id, scope, cnf_x5t_s256,
		expires_at, rotated_at, revoked_at FROM oauth_tokens WHERE hash = $1 AND kind = $2`, hash(token), kind).
		Scan(&t.Kind, &t.Family, &t.ConsentID, &t.CustomerID, &t.ClientID, &t.TPPID, &t.Scope, &t.CNF, &exp, &rot, &rev)
	t.ExpiresAt, t.RotatedAt, t.RevokedAt = fromMicros(exp), fromMicros(rot), fromMicros(rev)
	return t, err
}

func (s *Server) refresh(ctx context.Context, r TokenRequest) (TokenResponse, error) {
	if r.RefreshToken == "" {
		return TokenResponse{}, newError(InvalidRequest, "refresh_token is required", "refresh_token jest wymagane")
	}
	var out TokenResponse
	replayed := false
	now := s.cfg.Clock.Now()
	err := s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		replayed = false
		t, err := loadToken(ctx, tx, r.RefreshToken, kindRefresh)
		if errors.Is(err, sql.ErrNoRows) || err == nil && t.TPPID != r.TPPID {
			return newError(InvalidGrant, "the refresh token is unknown", "token odświeżający jest nieznany")
		}
		if err != nil {
			return fmt.Errorf("read refresh token: %w", err)
		}
		switch {
		case !t.RevokedAt.IsZero():
			return newError(InvalidGrant, "the refresh token was revoked: ask the customer to authorise again",
				"token odświeżający został unieważniony: poproś klienta o ponowną autoryzację")
		case !t.RotatedAt.IsZero():
			replayed = true
			return revokeFamily(ctx, tx, t.Family, "rotated refresh token replayed", now)
		case !now.Before(t.ExpiresAt):
			return newError(InvalidGrant, "the refresh token has expired: ask the customer to authorise again",
				"token odświeżający wygasł: poproś klienta o ponowną autoryzację")
		case r.ClientID != "" && r.ClientID != t.ClientID:
			return newError(InvalidGrant, "the refresh token was issued to another client",
				"token odświeżający wydano innemu klientowi")
		case r.Scope != "" && r.Scope != t.Scope:
			return newError(InvalidScope, "a refresh token of scope %s cannot give scope %s: use exchange_token or a new authorization",
				"token odświeżający zakresu %s nie może dać zakresu %s: użyj exchange_token lub nowej autoryzacji", t.Scope, r.Scope)
		}
		c, err := s.cfg.Consents.GetIn(ctx, tx, t.ConsentID)
		if err != nil {
			return err
		}
		if c.Status != consent.StatusAuthorised {
			return consentGrantError(c)
		}
		if r.ScopeDetails != nil && len(r.ScopeDetails.Privileges) > 0 {
			if c, err = s.refreshGrants(ctx, tx, c, *r.ScopeDetails); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET rotated_at = $1
			WHERE hash = $2 AND rotated_at = 0 AND revoked_at = 0`, micros(now), hash(r.RefreshToken))
		if err := oneRow(res, err); err != nil {
			if errors.Is(err, errNoRow) {
				replayed = true
				return revokeFamily(ctx, tx, t.Family, "rotated refresh token replayed", now)
			}
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		out, err = s.issue(ctx, tx, t.Family, c, r.QWACThumbprint, now)
		return err
	})
	if err == nil && replayed {
		err = newError(InvalidGrant,
			"the refresh token was already used and replaced; for safety every token of this authorization is revoked: ask the customer to authorise again",
			"token odświeżający został już użyty i zastąpiony; dla bezpieczeństwa unieważniono wszystkie tokeny tej autoryzacji: poproś klienta o ponowną autoryzację")
	}
	return out, err
}

// refreshGrants adds to consent c what a refresh_token request's
// scope_details asks for, as mBank grants it: the status read of payments
// initiated under c (mBank's pis:payment {scopeUsageLimit, aspspPaymentId},
// our pis:getPayment). Anything else needs the customer and is refused.
func (s *Server) refreshGrants(ctx context.Context, tx *store.Tx, c consent.Consent, sd ScopeDetails) (consent.Consent, error) {
	if sd.ConsentID != "" && sd.ConsentID != c.TPPConsentID {
		return c, newError(InvalidRequest,
			"scope_details.consentId %q is not the consent of this refresh token (%q): send the consent's own id, or none",
			"scope_details.consentId %q to nie zgoda tego tokenu odświeżającego (%q): podaj identyfikator tej zgody albo żaden", sd.ConsentID, c.TPPConsentID)
	}
	var add []consent.Privilege
	for i, p := range sd.Privileges {
		if p.Name != consent.PrivGetPayment || c.Scope != consent.ScopePIS {
			return c, newError(InvalidScope,
				"scope_details.privilegeList[%d]: a refresh_token can add only pis:payment, the status of a payment initiated under the consent; for %s ask the customer for a new consent",
				"scope_details.privilegeList[%d]: token odświeżający może dodać tylko pis:payment, status płatności zainicjowanej w ramach zgody; o %s poproś klienta w nowej zgodzie", i, p.Name)
		}
		var ids struct {
			AspspPaymentID string `json:"aspspPaymentId"`
			PaymentID      string `json:"paymentId"`
		}
		json.Unmarshal(p.Payment, &ids)
		id := ids.AspspPaymentID
		if id == "" {
			id = ids.PaymentID
		}
		if id == "" {
			return c, newError(InvalidRequest,
				"scope_details.privilegeList[%d].pis:payment: aspspPaymentId is required (the id in the initiation's links[0].href)",
				"scope_details.privilegeList[%d].pis:payment: aspspPaymentId jest wymagany (identyfikator z links[0].href inicjacji)", i)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE id = $1 AND consent_id = $2 AND tpp_id = $3`,
			id, c.ID, c.TPPID).Scan(&n); err != nil {
			return c, fmt.Errorf("read payment %s: %w", id, err)
		}
		if n == 0 {
			return c, newError(InvalidScope,
				"scope_details.privilegeList[%d].pis:payment: payment %s was not initiated under this consent: refresh the token of the consent that initiated it",
				"scope_details.privilegeList[%d].pis:payment: płatności %s nie zainicjowano w ramach tej zgody: odśwież token zgody, która ją zainicjowała", i, id)
		}
		p.ScopeUsageLimit = strings.ToLower(nonEmpty(p.ScopeUsageLimit, "multiple"))
		p.AccountNumber, p.Order = "", nil
		add = append(add, p)
	}
	return s.cfg.Consents.AddPrivilegesIn(ctx, tx, c.ID, add)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func consentGrantError(c consent.Consent) error {
	return newError(InvalidGrant, "the consent behind this token is %s: ask the customer for a new consent",
		"zgoda związana z tym tokenem ma status %s: poproś klienta o nową zgodę", c.Status)
}

// exchange gives, for a valid access token of an authorised ais-accounts
// consent, a new authorised ais consent over (some of) its accounts and
// tokens for it; the old token and its grant are revoked (not reversible).
func (s *Server) exchange(ctx context.Context, r TokenRequest) (TokenResponse, error) {
	if r.ExchangeToken == "" {
		return TokenResponse{}, newError(InvalidRequest, "exchange_token is required", "exchange_token jest wymagane")
	}
	if r.ScopeDetails == nil {
		return TokenResponse{}, newError(InvalidRequest, "scope_details is required with exchange_token",
			"scope_details jest wymagane przy exchange_token")
	}
	sd := *r.ScopeDetails
	scope, err := s.scope(r.Scope, sd.ScopeGroupType)
	if err != nil {
		return TokenResponse{}, err
	}
	if scope != consent.ScopeAIS {
		return TokenResponse{}, newError(InvalidScope, "exchange_token gives scope ais, not %s", "exchange_token daje zakres ais, a nie %s", scope)
	}
	var out TokenResponse
	now := s.cfg.Clock.Now()
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		t, err := loadToken(ctx, tx, r.ExchangeToken, kindAccess)
		if errors.Is(err, sql.ErrNoRows) || err == nil && (t.TPPID != r.TPPID || !t.RevokedAt.IsZero()) {
			return newError(InvalidGrant, "exchange_token is not a valid access token: send the access token of the ais-accounts consent",
				"exchange_token nie jest ważnym tokenem dostępu: podaj token dostępu zgody ais-accounts")
		}
		if err != nil {
			return fmt.Errorf("read access token: %w", err)
		}
		switch {
		case !now.Before(t.ExpiresAt):
			return newError(InvalidGrant, "exchange_token has expired: refresh it first",
				"exchange_token wygasł: najpierw go odśwież")
		case t.CNF != r.QWACThumbprint:
			return newError(InvalidGrant, "exchange_token is bound to another certificate: use the certificate it was issued to, or refresh it",
				"exchange_token jest powiązany z innym certyfikatem: użyj certyfikatu, dla którego go wydano, albo go odśwież")
		case t.Scope != string(consent.ScopeAISAccounts):
			return newError(InvalidGrant, "only an ais-accounts token can be exchanged, not one of scope %s",
				"wymienić można tylko token ais-accounts, a nie token zakresu %s", t.Scope)
		}
		parent, err := s.cfg.Consents.GetIn(ctx, tx, t.ConsentID)
		if err != nil {
			return err
		}
		if parent.Status != consent.StatusAuthorised {
			return consentGrantError(parent)
		}
		child, err := s.cfg.Consents.CreateExchanged(ctx, tx, parent, consent.Consent{
			TPPConsentID:     sd.ConsentID,
			Scope:            consent.ScopeAIS,
			Privileges:       sd.Privileges,
			ScopeTimeLimit:   sd.ScopeTimeLimit,
			ThrottlingPolicy: sd.ThrottlingPolicy,
		})
		if err != nil {
			switch consent.CodeOf(err) {
			case consent.CodeInvalidPrivileges, consent.CodeAccountNotInConsent:
				return fromConsent(InvalidScope, err)
			case "":
				return err
			}
			return fromConsent(InvalidRequest, err)
		}
		if err := revokeFamily(ctx, tx, t.Family, "exchanged", now); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, randomToken(), child, r.QWACThumbprint, now)
		return err
	})
	return out, err
}

// Authenticate resolves an access token presented by tppID over the
// certificate with qwacThumbprint. Unknown, revoked and other TPPs' tokens
// are token_invalid (whose it is is never said); an expired one
// token_expired; one presented over another certificate than it is bound
// to token_wrong_certificate.
func (s *Server) Authenticate(ctx context.Context, accessToken, tppID, qwacThumbprint string) (Token, error) {
	invalid := newError(TokenInvalid, "the access token is not valid: obtain a new one at the token endpoint",
		"token dostępu jest nieważny: uzyskaj nowy w punkcie token")
	if accessToken == "" {
		return Token{}, invalid
	}
	t, err := loadToken(ctx, s.cfg.DB, accessToken, kindAccess)
	return s.accessToken(t, err, tppID, qwacThumbprint)
}

// accessToken judges an access token read from the store (err: the read's).
func (s *Server) accessToken(t tokenRow, err error, tppID, qwacThumbprint string) (Token, error) {
	invalid := newError(TokenInvalid, "the access token is not valid: obtain a new one at the token endpoint",
		"token dostępu jest nieważny: uzyskaj nowy w punkcie token")
	if errors.Is(err, sql.ErrNoRows) || err == nil && (t.TPPID != tppID || !t.RevokedAt.IsZero()) {
		return Token{}, invalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("read access token: %w", err)
	}
	if !s.cfg.Clock.Now().Before(t.ExpiresAt) {
		return Token{}, newError(TokenExpired, "the access token has expired: get a new one with the refresh token",
			"token dostępu wygasł: uzyskaj nowy za pomocą tokenu odświeżającego")
	}
	if t.CNF != qwacThumbprint {
		return Token{}, newError(TokenWrongCertificate,
			"the access token is bound to another certificate: use the certificate the token was issued to, or refresh the token over the new one",
			"token dostępu jest powiązany z innym certyfikatem: użyj certyfikatu, dla którego go wydano, albo odśwież token z użyciem nowego")
	}
	return Token{ConsentID: t.ConsentID, CustomerID: t.CustomerID, ClientID: t.ClientID, TPPID: t.TPPID,
		Scope: consent.Scope(t.Scope), ExpiresAt: t.ExpiresAt}, nil
}

// RevokeConsentTokens revokes every token of a consent (when the consent is
// revoked; the next call would fail in consent.Check anyway).
func (s *Server) RevokeConsentTokens(ctx context.Context, consentID string) error {
	return revokeConsentTokens(ctx, s.cfg.DB, consentID, s.cfg.Clock.Now())
}

func revokeConsentTokens(ctx context.Context, q store.Querier, consentID string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE oauth_tokens SET revoked_at = $1, revoked_reason = $2 WHERE consent_id = $3 AND revoked_at = 0`,
		micros(now), "consent revoked", consentID)
	if err != nil {
		return fmt.Errorf("revoke tokens of consent: %w", err)
	}
	return nil
}

// RevokeConsent revokes a consent (by "psu" or "tpp") and its tokens in one
// transaction.
func (s *Server) RevokeConsent(ctx context.Context, consentID, by, reason string) (consent.Consent, error) {
	var out consent.Consent
	err := s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = s.cfg.Consents.RevokeIn(ctx, tx, consentID, by, reason); err != nil {
			return err
		}
		return revokeConsentTokens(ctx, tx, consentID, s.cfg.Clock.Now())
	})
	return out, err
}
