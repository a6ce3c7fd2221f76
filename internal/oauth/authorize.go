package oauth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// ScopeDetails is PolishAPI's scope_details (mBank's the same, its
// privileges already mapped by internal/dialect/mbank).
type ScopeDetails struct {
	ConsentID        string // the TPP's
	ScopeGroupType   string
	ScopeTimeLimit   time.Time
	ThrottlingPolicy string
	Privileges       []consent.Privilege
	// FrequencyPerDay is how many reads per account the TPP may make
	// without the customer present in the consent's window (Berlin
	// Group's frequencyPerDay); 0 = the regulatory 4.
	FrequencyPerDay int
	// OneOff asks for a consent for one access (Berlin Group's
	// recurringIndicator false).
	OneOff bool
}

// AuthorizeRequest is an authorize (or decoupled authorizeExt) call.
type AuthorizeRequest struct {
	Dialect      string // "polishapi" or "mbank"
	TPPID        string // from the QWAC
	ClientID     string
	RedirectURI  string
	ResponseType string
	Scope        string
	State        string
	ScopeDetails ScopeDetails
	// QWACThumbprint is the x5t#S256 of the TLS client certificate.
	QWACThumbprint string
	// Decoupled marks authorizeExt: the customer approves in the bank's
	// mobile app, and the result goes to CallbackURL with APIKey.
	Decoupled   bool
	PSULogin    string
	CallbackURL string
	APIKey      string
	// Polled marks a decoupled request whose TPP polls for the result
	// (Berlin Group's scaStatus) instead of receiving a callback.
	Polled bool
	// RedirectPrefix lets RedirectURI extend a registered redirect URI
	// (Berlin Group's TPP-Redirect-URI).
	RedirectPrefix bool
}

// AuthorizeResult is what Authorize gives back.
type AuthorizeResult struct {
	RequestID   string
	RedirectURI string // the consent page: PageURL(RequestID)
	ConsentID   string // the bank's
	ExpiresAt   time.Time
}

// Request statuses.
const (
	requestPending  = "pending"
	requestApproved = "approved"
	requestRejected = "rejected"
)

// MaxStateLength bounds state.
const MaxStateLength = 1024

// Authorize checks an authorization request and stores it with a received
// consent; the TPP then sends the customer to RedirectURI (or, decoupled,
// waits for its callback).
func (s *Server) Authorize(ctx context.Context, r AuthorizeRequest) (AuthorizeResult, error) {
	switch r.Dialect {
	case consent.DialectPolishAPI, consent.DialectMBank, DialectBerlinGroup:
	case "":
		r.Dialect = consent.DialectPolishAPI
	default:
		return AuthorizeResult{}, newError(InvalidRequest, "unknown dialect %q", "nieznany dialekt %q", r.Dialect)
	}
	if r.ResponseType != "code" {
		return AuthorizeResult{}, newError(UnsupportedResponseType,
			"response_type %q is not supported: use code", "response_type %q nie jest obsługiwany: użyj code", r.ResponseType)
	}
	client, err := s.client(ctx, r.TPPID, r.ClientID)
	if err != nil {
		return AuthorizeResult{}, err
	}
	if r.RedirectURI == "" {
		return AuthorizeResult{}, newError(InvalidRequest, "redirect_uri is required", "redirect_uri jest wymagane")
	}
	if !client.AllowsRedirect(r.RedirectURI) && !(r.RedirectPrefix && allowsPrefix(client, r.RedirectURI)) {
		return AuthorizeResult{}, newError(InvalidRequest,
			"redirect_uri is not one of the addresses registered for client %s: send one of them exactly, character for character, or register it in the developer portal",
			"redirect_uri nie jest żadnym z adresów zarejestrowanych dla klienta %s: podaj jeden z nich dokładnie, znak w znak, albo zarejestruj go w portalu dewelopera", r.ClientID)
	}
	scope, err := s.scope(r.Scope, r.ScopeDetails.ScopeGroupType)
	if err != nil {
		return AuthorizeResult{}, err
	}
	switch {
	case r.State == "":
		return AuthorizeResult{}, newError(InvalidRequest, "state is required: send a value unique to this request",
			"state jest wymagane: podaj wartość unikalną dla tego żądania")
	case len(r.State) > MaxStateLength:
		return AuthorizeResult{}, newError(InvalidRequest, "state is longer than %d characters", "state ma więcej niż %d znaków", MaxStateLength)
	case r.QWACThumbprint == "":
		return AuthorizeResult{}, newError(InvalidRequest, "the request came without a client certificate: call over mutual TLS with your QWAC",
			"żądanie przyszło bez certyfikatu klienta: wywołuj przez wzajemne TLS z certyfikatem QWAC")
	}
	if r.Decoupled {
		if r.PSULogin == "" {
			return AuthorizeResult{}, newError(InvalidRequest, "a decoupled authorization needs the customer's login (psuIdentifier)",
				"autoryzacja odseparowana wymaga loginu klienta (psuIdentifier)")
		}
		if !r.Polled {
			if err := s.cfg.Callbacks.Check(r.CallbackURL, client.RedirectURIs); err != nil {
				return AuthorizeResult{}, callbackError(err)
			}
		}
	}
	now := s.cfg.Clock.Now()
	c := consent.Consent{
		TPPConsentID:     r.ScopeDetails.ConsentID,
		TPPID:            r.TPPID,
		ClientID:         r.ClientID,
		Scope:            scope,
		Privileges:       r.ScopeDetails.Privileges,
		ScopeTimeLimit:   r.ScopeDetails.ScopeTimeLimit,
		ThrottlingPolicy: r.ScopeDetails.ThrottlingPolicy,
		Dialect:          r.Dialect,
		FrequencyPerDay:  r.ScopeDetails.FrequencyPerDay,
		OneOff:           r.ScopeDetails.OneOff,
	}
	res := AuthorizeResult{RequestID: randomToken(), ExpiresAt: now.Add(s.cfg.RequestTTL)}
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.cfg.Consents.CreateIn(ctx, tx, c)
		if err != nil {
			return err
		}
		res.ConsentID = c.ID
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_requests
			(id, consent_id, dialect, tpp_id, client_id, redirect_uri, scope, state, qwac_thumbprint, decoupled,
			 psu_login, callback_url, api_key, status, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			res.RequestID, c.ID, r.Dialect, r.TPPID, r.ClientID, r.RedirectURI, string(scope), r.State, r.QWACThumbprint,
			r.Decoupled, r.PSULogin, r.CallbackURL, r.APIKey, requestPending, micros(now), micros(res.ExpiresAt))
		if err != nil {
			return fmt.Errorf("store authorization request: %w", err)
		}
		return nil
	})
	if err != nil {
		switch consent.CodeOf(err) {
		case consent.CodeInvalidPrivileges:
			return AuthorizeResult{}, fromConsent(InvalidScope, err)
		case "":
			return AuthorizeResult{}, err
		default:
			return AuthorizeResult{}, fromConsent(InvalidRequest, err)
		}
	}
	res.RedirectURI = s.cfg.PageURL(res.RequestID)
	return res, nil
}

// client returns clientID if it is a client of tppID.
func (s *Server) client(ctx context.Context, tppID, clientID string) (tpp.Client, error) {
	if clientID == "" {
		return tpp.Client{}, newError(InvalidRequest, "client_id is required", "client_id jest wymagane")
	}
	c, err := s.cfg.Clients.Client(ctx, clientID)
	if tpp.CodeOf(err) == tpp.CodeNotFound || err == nil && c.TPPID != tppID {
		return tpp.Client{}, newError(InvalidClient,
			"client_id %s is not a client of your organisation: use the client_id the bank gave you at registration",
			"client_id %s nie jest klientem Twojej organizacji: użyj client_id nadanego przy rejestracji", clientID)
	}
	if err != nil {
		return tpp.Client{}, fmt.Errorf("look up client: %w", err)
	}
	return c, nil
}

// scope checks scope against scopeGroupType.
func (s *Server) scope(scope, group string) (consent.Scope, error) {
	sc, err := consent.ParseScope(scope)
	if err != nil {
		return "", newError(InvalidScope, "scope %q is not one of ais-accounts, ais, pis", "scope %q to nie ais-accounts, ais ani pis", scope)
	}
	if group != "" {
		g, err := consent.ParseScope(group)
		if err != nil || g != sc {
			return "", newError(InvalidScope,
				"scope %q and scope_details.scopeGroupType %q differ: send the same scope in both",
				"scope %q i scope_details.scopeGroupType %q różnią się: podaj ten sam zakres w obu", scope, group)
		}
	}
	return sc, nil
}

// DialectBerlinGroup is the Berlin Group dialect's name in requests.
const DialectBerlinGroup = "berlingroup"

// PageURL is the address of the consent page of an authorization request.
func (s *Server) PageURL(requestID string) string { return s.cfg.PageURL(requestID) }

// allowsPrefix tells whether uri is one of the client's redirect URIs
// followed by a path or query of the TPP's choosing.
func allowsPrefix(c tpp.Client, uri string) bool {
	for _, reg := range c.RedirectURIs {
		if rest, ok := strings.CutPrefix(uri, reg); ok && reg != "" &&
			(rest == "" || strings.HasSuffix(reg, "/") || rest[0] == '/' || rest[0] == '?' || rest[0] == '&') {
			return true
		}
	}
	return false
}

// pending is a stored authorization request.
type pending struct {
	ID, ConsentID, Dialect, TPPID, ClientID, RedirectURI, Scope, State, QWAC string
	Decoupled                                                                bool
	PSULogin, CallbackURL, APIKey, Status, CustomerID                        string
	CreatedAt, ExpiresAt                                                     time.Time
}

func loadRequest(ctx context.Context, q store.Querier, id string) (pending, error) {
	var p pending
	var created, expires int64
	err := q.QueryRowContext(ctx, `SELECT id, consent_id, dialect, tpp_id, client_id, redirect_uri, scope, state,
		qwac_thumbprint, decoupled, psu_login, callback_url, api_key, status, customer_id, created_at, expires_at
		FROM oauth_requests WHERE id = $1`, id).Scan(&p.ID, &p.ConsentID, &p.Dialect, &p.TPPID, &p.ClientID,
		&p.RedirectURI, &p.Scope, &p.State, &p.QWAC, &p.Decoupled, &p.PSULogin, &p.CallbackURL, &p.APIKey, &p.Status,
		&p.CustomerID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return pending{}, newError(RequestUnknown,
			"this consent request is unknown: go back to the provider's site and start again",
			"nie znamy tego wniosku o zgodę: wróć na stronę dostawcy i zacznij od nowa")
	}
	if err != nil {
		return pending{}, fmt.Errorf("read authorization request: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = fromMicros(created), fromMicros(expires)
	return p, nil
}

// PendingRequest is what the consent page shows the customer.
type PendingRequest struct {
	RequestID  string
	ConsentID  string
	TPPID      string
	TPPName    string
	ClientName string
	Scope      consent.Scope
	Privileges []consent.Privilege
	// Accounts are the accounts the TPP named (empty: the customer chooses).
	Accounts []string
	// MaxHistoryDays is the largest maxAllowedHistoryLong asked.
	MaxHistoryDays int
	ValidUntil     time.Time // scopeTimeLimit
	// Payment is, for pis, the payment data as the TPP sent it.
	Payment   json.RawMessage
	Decoupled bool
	PSULogin  string
	Decided   bool   // approved or rejected already
	Decision  string // "approved" or "rejected" when decided
	Expired   bool
	ExpiresAt time.Time
}

// Request returns what the consent page shows for requestID.
func (s *Server) Request(ctx context.Context, requestID string) (PendingRequest, error) {
	p, err := loadRequest(ctx, s.cfg.DB, requestID)
	if err != nil {
		return PendingRequest{}, err
	}
	c, err := s.cfg.Consents.Get(ctx, p.ConsentID)
	if err != nil {
		return PendingRequest{}, err
	}
	out := PendingRequest{
		RequestID: p.ID, ConsentID: c.ID, TPPID: p.TPPID, TPPName: p.TPPID, Scope: c.Scope,
		Privileges: c.Privileges, Accounts: consent.NamedAccounts(c.Privileges), MaxHistoryDays: consent.MaxHistory(c.Privileges),
		ValidUntil: c.ScopeTimeLimit, Decoupled: p.Decoupled, PSULogin: p.PSULogin,
		Decided: p.Status != requestPending, Expired: !s.cfg.Clock.Now().Before(p.ExpiresAt), ExpiresAt: p.ExpiresAt,
	}
	if out.Decided {
		out.Decision = p.Status
	}
	for _, pr := range c.Privileges {
		if consent.IsInitiation(pr.Name) {
			out.Payment = pr.Payment
		}
	}
	if cl, err := s.cfg.Clients.Client(ctx, p.ClientID); err == nil {
		out.ClientName = cl.Name
	}
	if tl, ok := s.cfg.Clients.(tppLookup); ok {
		if t, err := tl.TPP(ctx, p.TPPID); err == nil && t.Name != "" {
			out.TPPName = t.Name
		}
	}
	return out, nil
}

// usable checks that a request can still be decided.
func (s *Server) usable(p pending, now time.Time) error {
	if p.Status != requestPending {
		return newError(RequestDecided, "this consent request was already %s: go back to the provider's site",
			"ten wniosek o zgodę został już rozpatrzony (%s): wróć na stronę dostawcy", p.Status)
	}
	if !now.Before(p.ExpiresAt) {
		return newError(RequestExpired, "this consent request has expired: go back to the provider's site and start again",
			"ten wniosek o zgodę wygasł: wróć na stronę dostawcy i zacznij od nowa")
	}
	return nil
}

// checkCustomer checks, for a decoupled request, that the customer is the
// one whose login the TPP named.
func (s *Server) checkCustomer(ctx context.Context, p pending, customerID string) error {
	if !p.Decoupled || s.cfg.Customers == nil {
		return nil
	}
	cu, err := s.cfg.Customers.Customer(ctx, customerID)
	if err != nil {
		return fmt.Errorf("look up customer: %w", err)
	}
	if !strings.EqualFold(cu.Login, p.PSULogin) {
		return newError(WrongCustomer, "this request is addressed to another customer", "ten wniosek jest skierowany do innego klienta")
	}
	return nil
}

// Approve records that customerID (logged in, after SCA) approved the
// request for the given accounts: the accounts must be the customer's own
// and, where the TPP named accounts, exactly those; for pis the payment's
// sender account, when given, must be the customer's. It authorises the
// consent, makes a single-use code and returns the TPP's redirect_uri with
// code, state (and iss). A decoupled request's code is delivered to the
// TPP's callback instead, and Approve returns "".
func (s *Server) Approve(ctx context.Context, requestID, customerID string, accounts []string) (string, error) {
	p, err := loadRequest(ctx, s.cfg.DB, requestID)
	if err != nil {
		return "", err
	}
	now := s.cfg.Clock.Now()
	if err := s.usable(p, now); err != nil {
		return "", err
	}
	if err := s.checkCustomer(ctx, p, customerID); err != nil {
		return "", err
	}
	owned, err := s.cfg.Accounts.AccountsOf(ctx, customerID)
	if err != nil {
		return "", fmt.Errorf("list the customer's accounts: %w", err)
	}
	own := func(nrb string) bool {
		return slices.ContainsFunc(owned, func(a ledger.Account) bool { return a.NRB == nrb })
	}
	c, err := s.cfg.Consents.Get(ctx, p.ConsentID)
	if err != nil {
		return "", err
	}
	chosen := make([]string, 0, len(accounts))
	for _, a := range accounts {
		chosen = append(chosen, consent.NormalizeNRB(a))
	}
	if c.Scope == consent.ScopePIS {
		senders := consent.SenderAccounts(c.Privileges)
		for _, a := range senders {
			if !own(a) {
				return "", newError(AccountNotOwned,
					"the payment would be debited from account %s, which is not yours: reject the request",
					"płatność obciążyłaby rachunek %s, który nie należy do Ciebie: odrzuć wniosek", consent.Mask(a))
			}
		}
		if len(chosen) == 0 {
			chosen = senders
		}
	}
	if c.Scope == consent.ScopeAIS && len(chosen) == 0 {
		chosen = consent.NamedAccounts(c.Privileges)
	}
	for _, a := range chosen {
		if !own(a) {
			return "", newError(AccountNotOwned, "account %s is not yours: choose among your own accounts",
				"rachunek %s nie należy do Ciebie: wybierz spośród swoich rachunków", consent.Mask(a))
		}
	}

	code := randomToken()
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := s.decide(ctx, tx, p, customerID, requestApproved, now); err != nil {
			return err
		}
		if _, err := s.cfg.Consents.AuthoriseIn(ctx, tx, p.ConsentID, customerID, chosen); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_codes
			(hash, family, request_id, consent_id, tpp_id, client_id, redirect_uri, customer_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			hash(code), randomToken(), p.ID, p.ConsentID, p.TPPID, p.ClientID, p.RedirectURI, customerID,
			micros(now), micros(now.Add(s.cfg.CodeTTL)))
		if err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		if p.Decoupled {
			return queueCallback(ctx, tx, p, map[string]string{"code": code, "state": p.State, "apiKey": p.APIKey})
		}
		return nil
	})
	if err != nil {
		if consent.CodeOf(err) != "" {
			return "", fromConsent(InvalidRequest, err)
		}
		return "", err
	}
	if p.Decoupled {
		s.deliverAsync(p.ID)
		return "", nil
	}
	q := url.Values{"code": {code}, "state": {p.State}}
	if s.cfg.Issuer != "" {
		q.Set("iss", s.cfg.Issuer)
	}
	return withQuery(p.RedirectURI, q), nil
}

// Reject records that the customer refused the request and returns the
// TPP's redirect_uri with error=access_denied and state; a decoupled
// request's refusal is delivered to the TPP's callback, and Reject returns
// "".
func (s *Server) Reject(ctx context.Context, requestID, customerID string) (string, error) {
	p, err := loadRequest(ctx, s.cfg.DB, requestID)
	if err != nil {
		return "", err
	}
	now := s.cfg.Clock.Now()
	if err := s.usable(p, now); err != nil {
		return "", err
	}
	if err := s.checkCustomer(ctx, p, customerID); err != nil {
		return "", err
	}
	const desc = "The customer did not give the consent"
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := s.decide(ctx, tx, p, customerID, requestRejected, now); err != nil {
			return err
		}
		if _, err := s.cfg.Consents.RejectIn(ctx, tx, p.ConsentID, "rejected by the customer"); err != nil {
			return err
		}
		if p.Decoupled {
			return queueCallback(ctx, tx, p, map[string]string{"error": AccessDenied.Name(), "error_description": desc,
				"state": p.State, "apiKey": p.APIKey})
		}
		return nil
	})
	if err != nil {
		if consent.CodeOf(err) != "" {
			return "", fromConsent(InvalidRequest, err)
		}
		return "", err
	}
	if nok := s.nokRedirect(ctx, p.ID); nok != "" && !p.Decoupled {
		return nok, nil
	}
	if p.Decoupled {
		s.deliverAsync(p.ID)
		return "", nil
	}
	q := url.Values{"error": {AccessDenied.Name()}, "error_description": {desc}, "state": {p.State}}
	if s.cfg.Issuer != "" {
		q.Set("iss", s.cfg.Issuer)
	}
	return withQuery(p.RedirectURI, q), nil
}

// decide marks a pending request decided: a compare-and-set, so that a
// request is approved or rejected once.
func (s *Server) decide(ctx context.Context, tx *store.Tx, p pending, customerID, status string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE oauth_requests SET status = $1, customer_id = $2, decided_at = $3
		WHERE id = $4 AND status = $5 AND expires_at > $6`,
		status, customerID, micros(now), p.ID, requestPending, micros(now))
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, errNoRow) {
			return newError(RequestDecided, "this consent request was already decided: go back to the provider's site",
				"ten wniosek o zgodę został już rozpatrzony: wróć na stronę dostawcy")
		}
		return fmt.Errorf("decide request: %w", err)
	}
	return nil
}

// withQuery appends q to uri's query, after any query it has.
func withQuery(uri string, q url.Values) string {
	frag := ""
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri, frag = uri[:i], uri[i:]
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
		if strings.HasSuffix(uri, "?") || strings.HasSuffix(uri, "&") {
			sep = ""
		}
	}
	return uri + sep + q.Encode() + frag
}
