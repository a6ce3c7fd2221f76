package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/web"
)

const (
	firmaNRB = "49114020040000320277777777"
	korpoNRB = "21114020040000370288888888"
	korpo2   = "94114020040000350299999999"
)

// accessEnv is the real handler with the /ib pages and the hotline: a
// retail customer (jan), a company (firma) and a corporate one (korpo).
type accessEnv struct {
	env
	sca                *sca.Service
	access             *access.Service
	consents           *consent.Service
	jan, firma, korpo  ledger.Customer
	firmaPESEL, otherP string
}

func newAccessEnv(t *testing.T, db *store.DB) accessEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	path := filepath.Join(t.TempDir(), tpp.SandboxRegisterFile)
	if err := tpp.EnsureRegisterFile(path); err != nil {
		t.Fatal(err)
	}
	licences, err := tpp.OpenFileRegister(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	reg := tpp.New(db, clk, licences)
	if err := reg.EnsureStaff(ctx, "anna", "back office password", tpp.RoleBackoffice); err != nil {
		t.Fatal(err)
	}
	l := ledger.New(db, clk)
	pesel, _ := polish.MakePESEL(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), 123, false)
	other, _ := polish.MakePESEL(time.Date(1975, 1, 2, 0, 0, 0, 0, time.UTC), 7, true)
	mk := func(login, name string, seg ledger.Segment, nrbs ...string) ledger.Customer {
		c, err := l.CreateCustomer(ctx, ledger.Customer{Segment: seg, Name: name, Login: login,
			PasswordHash: customerHash(), Phone: "+48600100200", PESEL: pesel, NIP: "5260250274"})
		if err != nil {
			t.Fatal(err)
		}
		for _, nrb := range nrbs {
			if _, err := l.OpenAccount(ctx, ledger.Account{NRB: nrb, CustomerID: c.ID, Currency: "PLN",
				Type: ledger.TypeBusiness, Name: "Rachunek " + nrb[22:]}); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	e := accessEnv{firmaPESEL: pesel, otherP: other}
	e.jan = mk("jan", "Jan Kowalski", ledger.Retail, janMain)
	e.firma = mk("firma", "Firma Testowa sp. z o.o.", ledger.Company, firmaNRB)
	e.korpo = mk("korpo", "Korporacja S.A.", ledger.Corporate, korpoNRB, korpo2)
	e.sca = sca.New(db, l, clk)
	e.access = access.New(db, l, clk)
	e.consents = consent.New(db, clk)
	s := web.New(web.Deps{Registry: reg, DB: db, Clock: clk, Sandbox: true, SCA: e.sca, Accounts: l,
		Access: e.access, Consents: e.consents, RevokeConsent: e.consents.Revoke})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e.env = env{srv: srv, reg: reg, clk: clk}
	return e
}

func (e accessEnv) ibLogin(t *testing.T, c *http.Client, login string) {
	t.Helper()
	res := e.post(t, c, "/ib/login", url.Values{"login": {login}, "password": {"customer password"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/ib/accounts" {
		t.Fatalf("log in as %s: %d %s\n%s", login, res.status, res.header.Get("Location"), res.body)
	}
}

func (e accessEnv) smsCode(t *testing.T, login string) string {
	t.Helper()
	msgs, err := e.sca.SMSOutbox(context.Background(), login, 1)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("SMS of %s: %v, %v", login, msgs, err)
	}
	return msgs[0].Code
}

// TestAccessRefusals checks the refusals of the /ib pages on every engine:
// a company customer cannot change access; a corporate change is not made
// without SCA (no challenge, a pending one, a wrong code, another
// customer's challenge); another customer's account is refused.
func TestAccessRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAccessEnv(t, db)
		ctx := context.Background()

		res := e.get(t, e.client(t), "/ib/accounts")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/ib/login" {
			t.Fatalf("without a session: %d %s", res.status, res.header.Get("Location"))
		}

		firma := e.client(t)
		e.ibLogin(t, firma, "firma")
		res = e.get(t, firma, "/ib/accounts?lang=en")
		wantBody(t, res, http.StatusOK, `data-page="ib_accounts"`, "not activated", "only by the hotline")
		if strings.Contains(res.body, `class="access-form"`) {
			t.Error("a company customer is offered to change access")
		}
		res = e.post(t, firma, "/ib/accounts/"+firmaNRB+"/access", url.Values{"state": {"active"}, "method": {"sms"}})
		wantBody(t, res, http.StatusForbidden, "only by the hotline")
		if msgs, _ := e.sca.SMSOutbox(ctx, "firma", 5); len(msgs) != 0 {
			t.Errorf("an SMS was sent for a refused change: %v", msgs)
		}

		korpo := e.client(t)
		e.ibLogin(t, korpo, "korpo")
		// Another customer's account.
		res = e.post(t, korpo, "/ib/accounts/"+firmaNRB+"/access", url.Values{"state": {"active"}, "method": {"sms"}})
		wantBody(t, res, http.StatusForbidden, "not yours")
		res = e.post(t, korpo, "/ib/accounts/"+firmaNRB+"/limits", url.Values{"kind": {"one_off"}, "per_payment": {"1.00"}, "method": {"sms"}})
		wantBody(t, res, http.StatusForbidden, "not yours")
		// Without SCA: no method, then a pending mobile challenge, then a
		// wrong SMS code, and another customer's challenge.
		res = e.post(t, korpo, "/ib/accounts/"+korpoNRB+"/access", url.Values{"state": {"active"}})
		wantBody(t, res, http.StatusBadRequest, "Choose how to approve")
		res = e.post(t, korpo, "/ib/accounts/"+korpoNRB+"/access", url.Values{"state": {"active"}, "method": {"mobile"}})
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ib/confirm?challenge=") {
			t.Fatalf("start mobile: %d %s", res.status, loc)
		}
		mobileID := strings.TrimPrefix(loc, "/ib/confirm?challenge=")
		wantBody(t, e.get(t, korpo, loc), http.StatusOK, `data-page="ib_confirm"`, `id="mobile-wait"`)
		res = e.post(t, korpo, "/ib/confirm", url.Values{"challenge": {mobileID}, "code": {"123456"}})
		if res.status < 400 {
			t.Fatalf("an SMS code for a mobile challenge: %d", res.status)
		}
		res = e.post(t, korpo, "/ib/accounts/"+korpoNRB+"/access", url.Values{"state": {"active"}, "method": {"sms"}})
		smsID := strings.TrimPrefix(res.header.Get("Location"), "/ib/confirm?challenge=")
		res = e.post(t, korpo, "/ib/confirm", url.Values{"challenge": {smsID}, "code": {wrongCode(e.smsCode(t, "korpo"))}})
		wantBody(t, res, http.StatusUnprocessableEntity, "Wrong SMS code")
		res = e.post(t, firma, "/ib/confirm", url.Values{"challenge": {smsID}, "code": {e.smsCode(t, "korpo")}})
		if res.status != http.StatusForbidden {
			t.Fatalf("another customer's challenge: %d\n%s", res.status, res.body)
		}
		if err := e.access.Check(ctx, korpoNRB, access.AIS); access.CodeOf(err) != access.CodeNotActivated {
			t.Fatalf("after refused changes: %v", err)
		}
		// The retail customer cannot switch access off.
		jan := e.client(t)
		e.ibLogin(t, jan, "jan")
		res = e.post(t, jan, "/ib/accounts/"+janMain+"/access", url.Values{"state": {"blocked"}, "method": {"sms"}})
		wantBody(t, res, http.StatusForbidden, "cannot be switched off")
		// Another customer's consent cannot be revoked.
		c := testConsent(t, e, "c-other", e.jan.ID, janMain)
		res = e.post(t, korpo, "/ib/consents/"+c.ID+"/revoke", nil)
		wantBody(t, res, http.StatusNotFound, "no such consent")
		// The hotline's pages need a staff session.
		res = e.get(t, e.client(t), "/backoffice/hotline")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/backoffice/login" {
			t.Fatalf("hotline without a session: %d", res.status)
		}
	})
}

// testConsent creates and authorises an AIS consent of customerID.
func testConsent(t *testing.T, e accessEnv, id, customerID string, accounts ...string) consent.Consent {
	t.Helper()
	ctx := context.Background()
	c, err := e.consents.Create(ctx, consent.Consent{TPPConsentID: id, TPPID: "PSDPL-KNF-0000012345", ClientID: "client-1",
		Scope: consent.ScopeAIS, ScopeTimeLimit: testNow.AddDate(0, 3, 0),
		Privileges: []consent.Privilege{{Name: consent.PrivGetAccount}, {Name: consent.PrivGetTransactionsDone, MaxAllowedHistoryLong: 90}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = e.consents.Authorise(ctx, c.ID, customerID, accounts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
