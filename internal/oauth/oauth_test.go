package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

const (
	tppA, tppB = "PSDPL-KNF-1111111111", "PSDPL-KNF-2222222222"
	certA      = "thumb-A"
	certA2     = "thumb-A-renewed"
	certB      = "thumb-B"
	redirect   = "https://tpp-a.example/cb?x=1"
	accA       = "85114000000000000000000100"
	accB       = "20114000000000000000000300"
	accC       = "88342437927928550883469351" // another customer's
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fakeRegistry map[string]tpp.Client

func (f fakeRegistry) Client(_ context.Context, id string) (tpp.Client, error) {
	c, ok := f[id]
	if !ok {
		return tpp.Client{}, &tpp.Error{Code: tpp.CodeNotFound, Message: "no client"}
	}
	return c, nil
}

func (f fakeRegistry) TPP(_ context.Context, id string) (tpp.TPP, error) {
	return tpp.TPP{ID: id, Name: "Name of " + id}, nil
}

type fakeBank struct{}

func (fakeBank) AccountsOf(_ context.Context, customerID string) ([]ledger.Account, error) {
	switch customerID {
	case "cust-1":
		return []ledger.Account{{NRB: accA}, {NRB: accB}}, nil
	case "cust-2":
		return []ledger.Account{{NRB: accC}}, nil
	}
	return nil, nil
}

func (fakeBank) Customer(_ context.Context, id string) (ledger.Customer, error) {
	return ledger.Customer{ID: id, Login: "login-" + id}, nil
}

type delivery struct {
	url  string
	body map[string]string
}

type env struct {
	srv      *oauth.Server
	consents *consent.Service
	clk      *clock.Fixed
	got      chan delivery
	failures int // deliveries to fail before succeeding
	mu       sync.Mutex
}

func newEnv(t *testing.T, db *store.DB) *env {
	e := &env{clk: clock.NewFixed(t0), got: make(chan delivery, 4)}
	e.consents = consent.New(db, e.clk)
	reg := fakeRegistry{
		"client-a":  {ClientID: "client-a", TPPID: tppA, Name: "App A", RedirectURIs: []string{redirect, "https://tpp-a.example/other"}},
		"client-a2": {ClientID: "client-a2", TPPID: tppA, Name: "App A2", RedirectURIs: []string{redirect}},
		"client-b":  {ClientID: "client-b", TPPID: tppB, Name: "App B", RedirectURIs: []string{"https://tpp-b.example/cb"}},
	}
	e.srv = oauth.New(oauth.Config{
		DB: db, Clock: e.clk, Clients: reg, Accounts: fakeBank{}, Customers: fakeBank{}, Consents: e.consents,
		PageURL:        func(id string) string { return "https://bank.example/consent/" + id },
		Issuer:         "https://bank.example",
		DeliverBackoff: time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
		Deliver: func(_ context.Context, u string, body []byte) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.failures > 0 {
				e.failures--
				return errors.New("callback down")
			}
			var m map[string]string
			if err := json.Unmarshal(body, &m); err != nil {
				t.Error(err)
			}
			e.got <- delivery{u, m}
			return nil
		},
	})
	return e
}

var seq int

func authReq(scope consent.Scope, privs ...consent.Privilege) oauth.AuthorizeRequest {
	seq++
	return oauth.AuthorizeRequest{
		Dialect: "polishapi", TPPID: tppA, ClientID: "client-a", RedirectURI: redirect, ResponseType: "code",
		Scope: string(scope), State: "st&ate=1", QWACThumbprint: certA,
		ScopeDetails: oauth.ScopeDetails{
			ConsentID: fmt.Sprintf("tpp-consent-%d", seq), ScopeGroupType: string(scope),
			ScopeTimeLimit: t0.AddDate(0, 6, 0), ThrottlingPolicy: "psd2Regulatory", Privileges: privs,
		},
	}
}

func getAccounts() consent.Privilege { return consent.Privilege{Name: consent.PrivGetAccounts} }

func wantCode(t *testing.T, what string, err error, code oauth.Code) {
	t.Helper()
	if got := oauth.CodeOf(err); got != code {
		t.Fatalf("%s: %v (code %q), want %q", what, err, got, code)
	}
	var e *oauth.Error
	// The HTTP status is the transports' (issue 11: no domain package
	// chooses one); TestEveryCodeHasAWireAnswer checks each code has one.
	if code != "" && (!errors.As(err, &e) || e.Message == "" || e.MessagePL == "") {
		t.Fatalf("%s: %v lacks a message in both languages", what, err)
	}
}

// approved runs authorize and approval and returns the code.
func (e *env) approved(t *testing.T, r oauth.AuthorizeRequest, accounts ...string) string {
	t.Helper()
	ctx := context.Background()
	res, err := e.srv.Authorize(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	to, err := e.srv.Approve(ctx, res.RequestID, "cust-1", accounts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("code")
}

func (e *env) redeem(code string) (oauth.TokenResponse, error) {
	return e.srv.Token(context.Background(), oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA,
		GrantType: "authorization_code", ClientID: "client-a", Code: code, RedirectURI: redirect})
}

func TestAuthorizeValidates(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(*oauth.AuthorizeRequest)
		code oauth.Code
	}{
		{"ok", func(*oauth.AuthorizeRequest) {}, ""},
		{"mBank group spelling", func(r *oauth.AuthorizeRequest) { r.ScopeDetails.ScopeGroupType = "AIS_ACCOUNTS" }, ""},
		{"response_type token", func(r *oauth.AuthorizeRequest) { r.ResponseType = "token" }, oauth.UnsupportedResponseType},
		{"unknown client", func(r *oauth.AuthorizeRequest) { r.ClientID = "nope" }, oauth.InvalidClient},
		{"another TPP's client", func(r *oauth.AuthorizeRequest) { r.ClientID = "client-b" }, oauth.InvalidClient},
		{"unregistered redirect", func(r *oauth.AuthorizeRequest) { r.RedirectURI = "https://evil.example/cb" }, oauth.InvalidRequest},
		{"redirect prefix", func(r *oauth.AuthorizeRequest) { r.RedirectURI = redirect + "&y=2" }, oauth.InvalidRequest},
		{"redirect case", func(r *oauth.AuthorizeRequest) { r.RedirectURI = strings.ToUpper(redirect) }, oauth.InvalidRequest},
		{"redirect other client's", func(r *oauth.AuthorizeRequest) { r.RedirectURI = "https://tpp-b.example/cb" }, oauth.InvalidRequest},
		{"scope unknown", func(r *oauth.AuthorizeRequest) { r.Scope = "admin" }, oauth.InvalidScope},
		{"scope vs group", func(r *oauth.AuthorizeRequest) { r.ScopeDetails.ScopeGroupType = "ais" }, oauth.InvalidScope},
		{"privilege of another scope", func(r *oauth.AuthorizeRequest) {
			r.ScopeDetails.Privileges = []consent.Privilege{{Name: consent.PrivGetAccount}}
		}, oauth.InvalidScope},
		{"history too long", func(r *oauth.AuthorizeRequest) {
			r.Scope, r.ScopeDetails.ScopeGroupType = "ais", "ais"
			r.ScopeDetails.Privileges = []consent.Privilege{{Name: consent.PrivGetTransactionsDone, AccountNumber: accA, MaxAllowedHistoryLong: 1461}}
		}, oauth.InvalidScope},
		{"pis two payments", func(r *oauth.AuthorizeRequest) {
			r.Scope, r.ScopeDetails.ScopeGroupType = "pis", "pis"
			p := consent.Privilege{Name: consent.PrivDomestic, Payment: json.RawMessage(`{}`)}
			r.ScopeDetails.Privileges = []consent.Privilege{p, p}
		}, oauth.InvalidScope},
		{"scopeTimeLimit past", func(r *oauth.AuthorizeRequest) { r.ScopeDetails.ScopeTimeLimit = t0.Add(-time.Minute) }, oauth.InvalidRequest},
		{"no state", func(r *oauth.AuthorizeRequest) { r.State = "" }, oauth.InvalidRequest},
		{"long state", func(r *oauth.AuthorizeRequest) { r.State = strings.Repeat("s", 1025) }, oauth.InvalidRequest},
		{"no certificate", func(r *oauth.AuthorizeRequest) { r.QWACThumbprint = "" }, oauth.InvalidRequest},
		{"decoupled without login", func(r *oauth.AuthorizeRequest) {
			r.Decoupled, r.CallbackURL = true, "https://tpp-a.example/hook"
		}, oauth.InvalidRequest},
		{"decoupled http callback", func(r *oauth.AuthorizeRequest) {
			r.Decoupled, r.PSULogin, r.CallbackURL = true, "login-cust-1", "http://tpp-a.example/hook"
		}, oauth.InvalidRequest},
	}
	for _, tt := range tests {
		r := authReq(consent.ScopeAISAccounts, getAccounts())
		tt.edit(&r)
		res, err := e.srv.Authorize(ctx, r)
		wantCode(t, tt.name, err, tt.code)
		if err == nil && res.RedirectURI != "https://bank.example/consent/"+res.RequestID {
			t.Fatalf("%s: page %s", tt.name, res.RedirectURI)
		}
	}
	r := authReq(consent.ScopeAISAccounts, getAccounts())
	if _, err := e.srv.Authorize(ctx, r); err != nil {
		t.Fatal(err)
	}
	_, err := e.srv.Authorize(ctx, r)
	if wantCode(t, "duplicate consentId", err, oauth.InvalidRequest); consent.CodeOf(err) != consent.CodeDuplicate {
		t.Fatalf("duplicate consentId: %v", err)
	}
}

func TestCodeFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res, err := e.srv.Authorize(ctx, authReq(consent.ScopeAISAccounts, getAccounts()))
		if err != nil {
			t.Fatal(err)
		}
		page, err := e.srv.Request(ctx, res.RequestID)
		if err != nil || page.TPPName != "Name of "+tppA || page.ClientName != "App A" || page.Scope != consent.ScopeAISAccounts || page.Decided {
			t.Fatalf("page %+v, %v", page, err)
		}
		_, err = e.srv.Approve(ctx, res.RequestID, "cust-1", []string{accA, accC})
		wantCode(t, "another customer's account", err, oauth.AccountNotOwned)
		to, err := e.srv.Approve(ctx, res.RequestID, "cust-1", []string{accA, accB})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		q := u.Query()
		if !strings.HasPrefix(to, redirect+"&") || q.Get("x") != "1" || q.Get("state") != "st&ate=1" || q.Get("iss") != "https://bank.example" || len(q.Get("code")) < 43 {
			t.Fatalf("redirect %s", to)
		}
		code := q.Get("code")
		_, err = e.srv.Approve(ctx, res.RequestID, "cust-1", []string{accA})
		wantCode(t, "second approval", err, oauth.RequestDecided)
		if _, err := e.srv.Reject(ctx, res.RequestID, "cust-1"); oauth.CodeOf(err) != oauth.RequestDecided {
			t.Fatalf("reject after approval: %v", err)
		}

		base := oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA, GrantType: "authorization_code", ClientID: "client-a", Code: code, RedirectURI: redirect}
		attacks := []struct {
			name string
			edit func(*oauth.TokenRequest)
			code oauth.Code
		}{
			{"wrong grant", func(r *oauth.TokenRequest) { r.GrantType = "password" }, oauth.UnsupportedGrantType},
			{"unknown code", func(r *oauth.TokenRequest) { r.Code = "x" + code }, oauth.InvalidGrant},
			{"another client of the TPP", func(r *oauth.TokenRequest) { r.ClientID = "client-a2" }, oauth.InvalidGrant},
			{"another TPP", func(r *oauth.TokenRequest) { r.TPPID, r.ClientID, r.QWACThumbprint = tppB, "client-b", certB }, oauth.InvalidGrant},
			{"another TPP naming A's client", func(r *oauth.TokenRequest) { r.TPPID, r.QWACThumbprint = tppB, certB }, oauth.InvalidClient},
			{"redirect other", func(r *oauth.TokenRequest) { r.RedirectURI = "https://tpp-a.example/other" }, oauth.InvalidGrant},
			{"redirect prefix", func(r *oauth.TokenRequest) { r.RedirectURI = "https://tpp-a.example/cb" }, oauth.InvalidGrant},
			{"redirect case", func(r *oauth.TokenRequest) { r.RedirectURI = "https://TPP-A.example/cb?x=1" }, oauth.InvalidGrant},
		}
		for _, a := range attacks {
			r := base
			a.edit(&r)
			_, err := e.srv.Token(ctx, r)
			wantCode(t, a.name, err, a.code)
		}
		tok, err := e.srv.Token(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.Scope != "ais-accounts" || len(tok.Consent.Accounts) != 2 {
			t.Fatalf("token response %+v", tok)
		}
		got, err := e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		if err != nil || got.CustomerID != "cust-1" || got.ConsentID != tok.Consent.ID || got.Scope != consent.ScopeAISAccounts {
			t.Fatalf("Authenticate %+v, %v", got, err)
		}
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppB, certB)
		wantCode(t, "TPP B with A's token", err, oauth.TokenInvalid)
		if strings.Contains(err.Error(), tppA) {
			t.Fatalf("the refusal names the owner: %v", err)
		}
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppA, certA2)
		wantCode(t, "another certificate", err, oauth.TokenWrongCertificate)
		_, err = e.authenticate(t, ctx, "made-up", tppA, certA)
		wantCode(t, "unknown token", err, oauth.TokenInvalid)

		// Refresh over a renewed certificate: the new token is bound to it.
		e.clk.Advance(16 * time.Minute)
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		wantCode(t, "expired token", err, oauth.TokenExpired)
		ref := oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA2, GrantType: "refresh_token", RefreshToken: tok.RefreshToken}
		_, err = e.srv.Token(ctx, oauth.TokenRequest{TPPID: tppB, QWACThumbprint: certB, GrantType: "refresh_token", RefreshToken: tok.RefreshToken})
		wantCode(t, "TPP B refreshing A's token", err, oauth.InvalidGrant)
		tok2, err := e.srv.Token(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.authenticate(t, ctx, tok2.AccessToken, tppA, certA2); err != nil {
			t.Fatalf("refreshed token over the new certificate: %v", err)
		}
		_, err = e.authenticate(t, ctx, tok2.AccessToken, tppA, certA)
		wantCode(t, "refreshed token over the old certificate", err, oauth.TokenWrongCertificate)

		// The rotated refresh token replayed: refused, and the family revoked.
		_, err = e.srv.Token(ctx, ref)
		wantCode(t, "rotated refresh token", err, oauth.InvalidGrant)
		_, err = e.authenticate(t, ctx, tok2.AccessToken, tppA, certA2)
		wantCode(t, "token of a replayed family", err, oauth.TokenInvalid)
		_, err = e.srv.Token(ctx, oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA2, GrantType: "refresh_token", RefreshToken: tok2.RefreshToken})
		wantCode(t, "newest refresh token of a replayed family", err, oauth.InvalidGrant)
	})
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		code := e.approved(t, authReq(consent.ScopeAISAccounts, getAccounts()), accA)
		tok, err := e.redeem(code)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.redeem(code)
		wantCode(t, "reused code", err, oauth.InvalidGrant)
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		wantCode(t, "token from a reused code", err, oauth.TokenInvalid)
		_, err = e.srv.Token(ctx, oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA, GrantType: "refresh_token", RefreshToken: tok.RefreshToken})
		wantCode(t, "refresh token from a reused code", err, oauth.InvalidGrant)

		// An expired code, and a request that waited too long.
		code = e.approved(t, authReq(consent.ScopeAISAccounts, getAccounts()), accA)
		e.clk.Advance(121 * time.Second)
		_, err = e.redeem(code)
		wantCode(t, "expired code", err, oauth.InvalidGrant)
		res, err := e.srv.Authorize(ctx, authReq(consent.ScopeAISAccounts, getAccounts()))
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(10 * time.Minute)
		if page, _ := e.srv.Request(ctx, res.RequestID); !page.Expired {
			t.Fatal("page does not say the request expired")
		}
		_, err = e.srv.Approve(ctx, res.RequestID, "cust-1", []string{accA})
		wantCode(t, "expired request", err, oauth.RequestExpired)
		_, err = e.srv.Approve(ctx, "nope", "cust-1", []string{accA})
		wantCode(t, "unknown request", err, oauth.RequestUnknown)
	})
}

func TestConsentEndsTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		r := authReq(consent.ScopeAIS,
			consent.Privilege{Name: consent.PrivGetAccount, AccountNumber: accA},
			consent.Privilege{Name: consent.PrivGetTransactionsDone, AccountNumber: accA, MaxAllowedHistoryLong: 30})
		_, err := e.srv.Approve(ctx, mustAuthorize(t, e, r).RequestID, "cust-1", []string{accA, accB})
		wantCode(t, "other accounts than the TPP named", err, oauth.InvalidRequest)
		tok, err := e.redeem(e.approved(t, authReq(consent.ScopeAIS, r.ScopeDetails.Privileges...)))
		if err != nil {
			t.Fatal(err)
		}
		check := consent.Access{ConsentID: tok.Consent.ID, TPPID: tppA, Privilege: consent.PrivGetTransactionsDone, AccountNumber: accA, PSUPresent: true}
		if _, err := e.consents.Check(ctx, check); err != nil {
			t.Fatal(err)
		}
		check.HistoryFrom = t0.AddDate(0, 0, -31)
		if _, err := e.consents.Check(ctx, check); consent.CodeOf(err) != consent.CodeHistoryTooLong {
			t.Fatalf("history beyond maxAllowedHistoryLong: %v", err)
		}
		if _, err := e.srv.RevokeConsent(ctx, tok.Consent.ID, "psu", "from internet banking"); err != nil {
			t.Fatal(err)
		}
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		wantCode(t, "token of a revoked consent", err, oauth.TokenInvalid)
		check.HistoryFrom = time.Time{}
		if _, err := e.consents.Check(ctx, check); consent.CodeOf(err) != consent.CodeRevoked {
			t.Fatalf("check of a revoked consent: %v", err)
		}

		// The consent expires (180 days): refresh refused.
		tok, err = e.redeem(e.approved(t, authReq(consent.ScopeAISAccounts, getAccounts()), accA))
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(181 * 24 * time.Hour)
		_, err = e.srv.Token(ctx, oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA, GrantType: "refresh_token", RefreshToken: tok.RefreshToken})
		wantCode(t, "refresh of an expired consent", err, oauth.InvalidGrant)
	})
}

func mustAuthorize(t *testing.T, e *env, r oauth.AuthorizeRequest) oauth.AuthorizeResult {
	t.Helper()
	res, err := e.srv.Authorize(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestExchangeToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		tok, err := e.redeem(e.approved(t, authReq(consent.ScopeAISAccounts, getAccounts()), accA))
		if err != nil {
			t.Fatal(err)
		}
		sd := func(acc string) *oauth.ScopeDetails {
			return &oauth.ScopeDetails{ConsentID: "exchanged-1", ScopeGroupType: "ais", ScopeTimeLimit: t0.AddDate(0, 3, 0),
				Privileges: []consent.Privilege{
					{Name: consent.PrivGetAccount, AccountNumber: acc},
					{Name: consent.PrivGetTransactionsDone, AccountNumber: acc, MaxAllowedHistoryLong: 90},
				}}
		}
		base := oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA, GrantType: "exchange_token", ExchangeToken: tok.AccessToken, Scope: "ais", ScopeDetails: sd(accA)}
		attacks := []struct {
			name string
			edit func(*oauth.TokenRequest)
			code oauth.Code
		}{
			{"account outside the consent", func(r *oauth.TokenRequest) { r.ScopeDetails = sd(accB) }, oauth.InvalidScope},
			{"another customer's account", func(r *oauth.TokenRequest) { r.ScopeDetails = sd(accC) }, oauth.InvalidScope},
			{"another TPP", func(r *oauth.TokenRequest) { r.TPPID, r.QWACThumbprint = tppB, certB }, oauth.InvalidGrant},
			{"another certificate", func(r *oauth.TokenRequest) { r.QWACThumbprint = certA2 }, oauth.InvalidGrant},
			{"refresh token instead", func(r *oauth.TokenRequest) { r.ExchangeToken = tok.RefreshToken }, oauth.InvalidGrant},
			{"scope pis", func(r *oauth.TokenRequest) {
				r.ScopeDetails = sd(accA)
				r.Scope, r.ScopeDetails.ScopeGroupType = "pis", "pis"
			}, oauth.InvalidScope},
		}
		for _, a := range attacks {
			r := base
			a.edit(&r)
			_, err := e.srv.Token(ctx, r)
			wantCode(t, a.name, err, a.code)
			if a.name == "account outside the consent" && consent.CodeOf(err) != consent.CodeAccountNotInConsent {
				t.Fatalf("%s: %v", a.name, err)
			}
		}
		ais, err := e.srv.Token(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		if c := ais.Consent; c.Scope != consent.ScopeAIS || c.ParentID != tok.Consent.ID || c.CustomerID != "cust-1" || c.Status != consent.StatusAuthorised {
			t.Fatalf("exchanged consent %+v", c)
		}
		_, err = e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		wantCode(t, "exchanged ais-accounts token", err, oauth.TokenInvalid)
		_, err = e.srv.Token(ctx, base)
		wantCode(t, "exchange twice", err, oauth.InvalidGrant)
		if _, err := e.consents.Check(ctx, consent.Access{ConsentID: ais.Consent.ID, TPPID: tppA, Privilege: consent.PrivGetAccount, AccountNumber: accA, PSUPresent: true}); err != nil {
			t.Fatal(err)
		}
		if c, err := e.consents.GetByTPPConsentID(ctx, tppA, "exchanged-1"); err != nil || c.ID != ais.Consent.ID {
			t.Fatalf("GetByTPPConsentID %v", err)
		}
	})
}

func TestRejectAndPIS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res := mustAuthorize(t, e, authReq(consent.ScopeAISAccounts, getAccounts()))
		to, err := e.srv.Reject(ctx, res.RequestID, "cust-1")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		if q := u.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st&ate=1" || q.Get("code") != "" || q.Get("x") != "1" {
			t.Fatalf("reject redirect %s", to)
		}
		if c, _ := e.consents.Get(ctx, res.ConsentID); c.Status != consent.StatusRejected {
			t.Fatalf("consent %s after reject", c.Status)
		}

		payment := func(sender string) consent.Privilege {
			return consent.Privilege{Name: consent.PrivDomestic, ScopeUsageLimit: "single",
				Payment: json.RawMessage(`{"sender":{"accountNumber":"` + sender + `"},"transferData":{"amount":"12.34","currency":"PLN"}}`)}
		}
		res = mustAuthorize(t, e, authReq(consent.ScopePIS, payment(accC)))
		_, err = e.srv.Approve(ctx, res.RequestID, "cust-1", nil)
		wantCode(t, "payment from another customer's account", err, oauth.AccountNotOwned)
		res = mustAuthorize(t, e, authReq(consent.ScopePIS, payment(accB)))
		page, err := e.srv.Request(ctx, res.RequestID)
		if err != nil || !strings.Contains(string(page.Payment), "12.34") {
			t.Fatalf("page payment %s, %v", page.Payment, err)
		}
		to, err = e.srv.Approve(ctx, res.RequestID, "cust-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _ = url.Parse(to)
		tok, err := e.redeem(u.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Consent.Accounts; len(got) != 1 || got[0] != accB || !tok.Consent.ExpiresAt.Equal(tok.Consent.ScopeTimeLimit) {
			t.Fatalf("pis consent %+v", tok.Consent)
		}
	})
}

func TestDecoupled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		decoupled := func() oauth.AuthorizeRequest {
			r := authReq(consent.ScopeAISAccounts, getAccounts())
			r.Decoupled, r.PSULogin, r.CallbackURL, r.APIKey = true, "login-cust-1", "https://tpp-a.example/hook", "key-1"
			return r
		}
		res := mustAuthorize(t, e, decoupled())
		if page, _ := e.srv.Request(ctx, res.RequestID); !page.Decoupled || page.PSULogin != "login-cust-1" {
			t.Fatalf("page %+v", page)
		}
		_, err := e.srv.Approve(ctx, res.RequestID, "cust-2", []string{accC})
		wantCode(t, "another customer approving", err, oauth.WrongCustomer)
		e.mu.Lock()
		e.failures = 2 // the callback fails twice, then answers
		e.mu.Unlock()
		to, err := e.srv.Approve(ctx, res.RequestID, "cust-1", []string{accA})
		if err != nil || to != "" {
			t.Fatalf("decoupled approve: %q, %v", to, err)
		}
		var d delivery
		select {
		case d = <-e.got:
		case <-time.After(5 * time.Second):
			t.Fatal("no callback delivered")
		}
		if d.url != "https://tpp-a.example/hook" || d.body["state"] != "st&ate=1" || d.body["apiKey"] != "key-1" || d.body["code"] == "" {
			t.Fatalf("delivered %+v", d)
		}
		if _, err := e.redeem(d.body["code"]); err != nil {
			t.Fatalf("redeem the delivered code: %v", err)
		}

		res = mustAuthorize(t, e, decoupled())
		if to, err := e.srv.Reject(ctx, res.RequestID, "cust-1"); err != nil || to != "" {
			t.Fatalf("decoupled reject: %q, %v", to, err)
		}
		select {
		case d = <-e.got:
		case <-time.After(5 * time.Second):
			t.Fatal("no refusal delivered")
		}
		if d.body["error"] != "access_denied" || d.body["code"] != "" || d.body["state"] != "st&ate=1" {
			t.Fatalf("delivered %+v", d)
		}
	})
}
