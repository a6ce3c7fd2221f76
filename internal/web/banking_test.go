package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/web"
)

const (
	tppCallback = "https://tpp.example/cb?code=C&state=S"
	tppRefusal  = "https://tpp.example/cb?error=access_denied&state=S"
	janMain     = "12114020040000320212345678"
	janSavings  = "45114020040000370298765432"
	annaMain    = "83114020040000350255555555"
)

// customerHash is made once: argon2id is slow on purpose.
var customerHash = sync.OnceValue(func() string {
	h, err := sca.HashPassword("customer password")
	if err != nil {
		panic(err)
	}
	return h
})

// approval is a call of ConsentFlow.Approve.
type approval struct {
	RequestID, CustomerID string
	Accounts              []string
}

// fakeFlow is an authorization server that keeps requests in memory and
// records the decisions.
type fakeFlow struct {
	mu       sync.Mutex
	pages    map[string]web.ConsentPage
	approved []approval
	rejected []string
}

func (f *fakeFlow) Request(_ context.Context, id string) (web.ConsentPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pages[id]
	if !ok {
		return web.ConsentPage{}, fmt.Errorf("request %s: %w", id, web.ErrNoRequest)
	}
	return p, nil
}

func (f *fakeFlow) decide(id string) (web.ConsentPage, error) {
	p, ok := f.pages[id]
	if !ok || p.Decided || p.Expired {
		return p, fmt.Errorf("request %s cannot be decided", id)
	}
	p.Decided = true
	f.pages[id] = p
	return p, nil
}

func (f *fakeFlow) Approve(_ context.Context, id, customerID string, accounts []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.decide(id)
	if err != nil {
		return "", err
	}
	f.approved = append(f.approved, approval{id, customerID, accounts})
	if p.PSULogin != "" {
		return "", nil
	}
	return tppCallback, nil
}

func (f *fakeFlow) Reject(_ context.Context, id, customerID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.decide(id)
	if err != nil {
		return "", err
	}
	f.rejected = append(f.rejected, id+" by "+customerID)
	if p.PSULogin != "" {
		return "", nil
	}
	return tppRefusal, nil
}

func (f *fakeFlow) approvals() []approval {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.approved)
}

func (f *fakeFlow) rejections() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.rejected)
}

// bankEnv is the real handler with consent pages, a real SCA service and
// ledger customers, and a fake authorization server.
type bankEnv struct {
	env
	flow      *fakeFlow
	sca       *sca.Service
	access    *access.Service
	jan, anna ledger.Customer
}

// aisPage is a request for account information where the customer chooses
// the accounts.
func aisPage(tpp string) web.ConsentPage {
	return web.ConsentPage{TPPID: "PSDPL-KNF-0000012345", TPPName: tpp, ClientName: "Demo Accounting",
		Scope: "ais", Privileges: []string{"ais:getAccount", "ais:getTransactionsDone"}, HistoryDays: 90,
		ValidUntil: testNow.AddDate(0, 3, 0)}
}

func newBankEnv(t *testing.T, db *store.DB) bankEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	l := ledger.New(db, clk)
	customer := func(login, name, phone string, nrbs ...string) ledger.Customer {
		c, err := l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: name, Login: login,
			PasswordHash: customerHash(), Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		for i, nrb := range nrbs {
			if _, err := l.OpenAccount(ctx, ledger.Account{NRB: nrb, CustomerID: c.ID, Currency: "PLN",
				Type: ledger.TypePersonal, Name: []string{"eKonto", "Oszczędności"}[i]}); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	jan := customer("jan", "Jan Kowalski", "+48600100200", janMain, janSavings)
	anna := customer("anna", "Anna Nowak", "+48600100300", annaMain)

	flow := &fakeFlow{pages: map[string]web.ConsentPage{
		"R1": aisPage("Demo TPP"),
		"R2": aisPage("Demo TPP"),
		"R3": aisPage("Demo TPP"),
		"R-named": {TPPID: "PSDPL-KNF-0000012345", TPPName: "Demo TPP", Scope: "ais",
			Privileges: []string{"ais:getTransactionsDone"}, Accounts: []string{janSavings}, HistoryDays: 30},
		"R-pis": {TPPID: "PSDPL-KNF-0000012345", TPPName: "Demo TPP", Scope: "pis", Privileges: []string{"pis:domestic"},
			Payment: &web.PaymentPage{Amount: "123.45", Currency: "PLN", RecipientName: "Sklep Internetowy sp. z o.o.",
				RecipientAccount: "61109010140000071219812874", Title: "Zamówienie 42", ExecutionDate: "2025-10-01",
				SenderAccount: janMain}},
		"R-expired":   func() web.ConsentPage { p := aisPage("Demo TPP"); p.Expired = true; return p }(),
		"R-decoupled": func() web.ConsentPage { p := aisPage("Demo TPP"); p.PSULogin = "jan"; return p }(),
	}}
	svc := sca.New(db, l, clk)
	acc := access.New(db, l, clk)
	s := web.New(web.Deps{DB: db, Clock: clk, Sandbox: true, Flow: flow, SCA: svc, Accounts: l, Access: acc})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return bankEnv{env: env{srv: srv, clk: clk}, flow: flow, sca: svc, access: acc, jan: jan, anna: anna}
}

// login logs c in as login on the request's page.
func (e bankEnv) login(t *testing.T, c *http.Client, request, login string) {
	t.Helper()
	res := e.post(t, c, "/authorize/"+request+"/login", url.Values{"login": {login}, "password": {"customer password"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/authorize/"+request {
		t.Fatalf("log in as %s: %d %s\n%s", login, res.status, res.header.Get("Location"), res.body)
	}
}

// startSMS approves the request by SMS for the given accounts and returns the
// challenge id.
func (e bankEnv) startSMS(t *testing.T, c *http.Client, request string, accounts ...string) string {
	t.Helper()
	res := e.post(t, c, "/authorize/"+request+"/approve", url.Values{"method": {"sms"}, "account": accounts})
	loc := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/authorize/"+request+"/sms?challenge=") {
		t.Fatalf("approve %s by SMS: %d %s\n%s", request, res.status, loc, res.body)
	}
	return strings.TrimPrefix(loc, "/authorize/"+request+"/sms?challenge=")
}

func (e bankEnv) smsCode(t *testing.T, login string) string {
	t.Helper()
	msgs, err := e.sca.SMSOutbox(context.Background(), login, 1)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("SMS of %s: %v, %v", login, msgs, err)
	}
	return msgs[0].Code
}

func wantBody(t *testing.T, res response, status int, parts ...string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d\n%s", res.status, status, res.body)
	}
	for _, p := range parts {
		if !strings.Contains(res.body, p) {
			t.Fatalf("the page lacks %q\n%s", p, res.body)
		}
	}
}

func wrongCode(code string) string {
	if code == "111111" {
		return "222222"
	}
	return "111111"
}

// TestConsentBySMS runs the redirect flow over plain HTTP on every engine:
// log-in, the consent page in plain words, the account choice, three wrong
// SMS codes ending the challenge, a new code, the redirect to the TPP.
func TestConsentBySMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		c := e.client(t)

		res := e.get(t, c, "/authorize/R1?lang=en")
		wantBody(t, res, http.StatusOK, `data-page="bank_login"`, "Demo TPP", "PSDPL-KNF-0000012345")
		if csp := res.header.Get("Content-Security-Policy"); strings.Contains(csp, "form-action") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		e.login(t, c, "R1", "jan")
		for _, ck := range c.Jar.Cookies(mustURL(t, e.srv.URL)) {
			if ck.Name == "psd2bank_bank" && ck.Value == "" {
				t.Error("empty session cookie")
			}
		}
		res = e.get(t, c, "/authorize/R1")
		wantBody(t, res, http.StatusOK, `data-page="bank_consent"`, "Demo TPP", "Demo Accounting",
			"Access to information about your accounts", "Account details and balance", "Completed transactions",
			"90 days", "2026-01-01 11:00", "12 1140 2004 0000 3202 1234 5678", "45 1140 2004 0000 3702 9876 5432",
			"eKonto", `id="approve-sms"`, `id="approve-mobile"`, `id="reject-button"`, "Jan Kowalski")
		if strings.Contains(res.body, "8311") {
			t.Error("the page shows another customer's account")
		}

		// Approving needs an account where the customer chooses.
		res = e.post(t, c, "/authorize/R1/approve", url.Values{"method": {"sms"}})
		wantBody(t, res, http.StatusUnprocessableEntity, "Choose at least one account.")
		res = e.post(t, c, "/authorize/R1/approve", url.Values{"method": {"sms"}, "account": {annaMain}})
		wantBody(t, res, http.StatusUnprocessableEntity, "not yours")

		id := e.startSMS(t, c, "R1", janMain)
		msgs, _ := e.sca.SMSOutbox(context.Background(), "jan", 1)
		// The SMS says what the page says: the accounts, the history's
		// depth and the validity (issue 15).
		if want := "Zgoda dla Demo TPP: dostęp do rachunków ...5678, historia 90 dni, do 2026-01-01. psd2bank"; !strings.HasSuffix(msgs[0].Text, want) {
			t.Errorf("SMS %q, want it to end with %q", msgs[0].Text, want)
		}
		res = e.get(t, c, "/authorize/R1/sms?challenge="+id)
		wantBody(t, res, http.StatusOK, `id="sms-form"`, "*** *** 200", "Zgoda dla Demo TPP")

		// Three wrong codes end the challenge.
		code := e.smsCode(t, "jan")
		for _, left := range []string{"Tries left: 2.", "Tries left: 1."} {
			res = e.post(t, c, "/authorize/R1/sms", url.Values{"challenge": {id}, "code": {wrongCode(code)}})
			wantBody(t, res, http.StatusUnprocessableEntity, left, `id="sms-form"`)
		}
		res = e.post(t, c, "/authorize/R1/sms", url.Values{"challenge": {id}, "code": {wrongCode(code)}})
		wantBody(t, res, http.StatusUnprocessableEntity, "entered wrongly three times")
		if strings.Contains(res.body, `id="sms-form"`) {
			t.Error("the code form is still offered after three wrong codes")
		}
		res = e.post(t, c, "/authorize/R1/sms", url.Values{"challenge": {id}, "code": {code}})
		wantBody(t, res, http.StatusUnprocessableEntity, "entered wrongly three times")
		if got := e.flow.approvals(); len(got) != 0 {
			t.Fatalf("approved without SCA: %+v", got)
		}

		// A new code works, once; the browser goes to the TPP.
		id = e.startSMS(t, c, "R1", janMain, janSavings)
		res = e.post(t, c, "/authorize/R1/sms", url.Values{"challenge": {id}, "code": {e.smsCode(t, "jan")}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != tppCallback {
			t.Fatalf("right code: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		got := e.flow.approvals()
		if len(got) != 1 || got[0].RequestID != "R1" || got[0].CustomerID != e.jan.ID ||
			!slices.Equal(got[0].Accounts, []string{janMain, janSavings}) {
			t.Fatalf("approvals: %+v", got)
		}
		// The decided request shows that, without buttons.
		res = e.get(t, c, "/authorize/R1")
		wantBody(t, res, http.StatusConflict, "already been approved or rejected")
		if strings.Contains(res.body, "approve-sms") {
			t.Error("a decided request offers to approve")
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestConsentStepsCannotBeSkipped posts to the final steps without the SCA
// before them, and with challenges of another request and another customer.
func TestConsentStepsCannotBeSkipped(t *testing.T) {
	e := newBankEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	stranger := e.client(t)
	// Without a session every step goes back to the log-in form.
	for _, step := range []string{"approve", "sms", "reject"} {
		res := e.post(t, stranger, "/authorize/R1/"+step, url.Values{"method": {"sms"}, "account": {janMain}, "challenge": {"x"}, "code": {"123456"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/authorize/R1" {
			t.Fatalf("%s without a session: %d %s", step, res.status, res.header.Get("Location"))
		}
	}
	res := e.get(t, stranger, "/authorize/R1/mobile?challenge=x")
	if res.status != http.StatusSeeOther {
		t.Fatalf("mobile without a session: %d", res.status)
	}

	jan := e.client(t)
	e.login(t, jan, "R1", "jan")
	// Logged in, but no challenge (or a made-up one): refused.
	for _, ch := range []string{"", "not-a-challenge"} {
		res := e.post(t, jan, "/authorize/R1/sms", url.Values{"challenge": {ch}, "code": {"123456"}})
		wantBody(t, res, http.StatusForbidden)
	}
	// A challenge of another request, verified with its right code: refused.
	other := e.startSMS(t, jan, "R2", janMain)
	res = e.post(t, jan, "/authorize/R1/sms", url.Values{"challenge": {other}, "code": {e.smsCode(t, "jan")}})
	wantBody(t, res, http.StatusForbidden, "does not belong to this request")
	// Another customer's challenge for this very request: refused.
	anna := e.client(t)
	e.login(t, anna, "R1", "anna")
	annas := e.startSMS(t, anna, "R1", annaMain)
	res = e.post(t, jan, "/authorize/R1/sms", url.Values{"challenge": {annas}, "code": {e.smsCode(t, "anna")}})
	wantBody(t, res, http.StatusForbidden, "does not belong to this request")
	// A mobile challenge approved in the app does not pass as an SMS code,
	// nor for another request.
	mobile, err := e.sca.StartMobile(ctx, e.jan, "consent:account="+janMain+"&request=R2", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sca.DecideMobile(ctx, "jan", true); err != nil {
		t.Fatal(err)
	}
	res = e.get(t, jan, "/authorize/R1/mobile?challenge="+mobile.ID)
	wantBody(t, res, http.StatusForbidden)
	res = e.post(t, jan, "/authorize/R2/sms", url.Values{"challenge": {mobile.ID}, "code": {"123456"}})
	if res.status == http.StatusSeeOther {
		t.Fatal("a mobile challenge passed as an SMS code")
	}
	if got := e.flow.approvals(); len(got) != 0 {
		t.Fatalf("approved without SCA: %+v", got)
	}
	if got := e.flow.rejections(); len(got) != 0 {
		t.Fatalf("rejected: %+v", got)
	}
}

// TestConsentByMobileAndRejection approves in the mobile app (the waiting
// page reloads itself), rejects in the app, and rejects with the button.
func TestConsentByMobileAndRejection(t *testing.T) {
	e := newBankEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	c := e.client(t)
	e.login(t, c, "R-named", "jan")

	// Named accounts are shown, and approved without a choice.
	res := e.get(t, c, "/authorize/R-named")
	wantBody(t, res, http.StatusOK, "45 1140 2004 0000 3702 9876 5432", "Oszczędności", "30 days")
	if strings.Contains(res.body, `type="checkbox"`) {
		t.Error("a request that names its accounts offers a choice")
	}
	res = e.post(t, c, "/authorize/R-named/approve", url.Values{"method": {"mobile"}})
	loc := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/authorize/R-named/mobile?challenge=") {
		t.Fatalf("approve in the app: %d %s\n%s", res.status, loc, res.body)
	}
	res = e.get(t, c, loc)
	wantBody(t, res, http.StatusOK, `data-page="bank_mobile"`, `http-equiv="refresh" content="2"`, "Zgoda dla Demo TPP")
	if _, err := e.sca.DecideMobile(ctx, "jan", true); err != nil {
		t.Fatal(err)
	}
	res = e.get(t, c, loc)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != tppCallback {
		t.Fatalf("after approval in the app: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if got := e.flow.approvals(); len(got) != 1 || !slices.Equal(got[0].Accounts, []string{janSavings}) {
		t.Fatalf("approvals: %+v", got)
	}
	// The page reloaded again does not approve twice.
	res = e.get(t, c, loc)
	if res.status == http.StatusSeeOther || len(e.flow.approvals()) != 1 {
		t.Fatalf("second reload: %d, approvals %d", res.status, len(e.flow.approvals()))
	}

	// Rejected in the app: the TPP gets access_denied.
	res = e.post(t, c, "/authorize/R1/approve", url.Values{"method": {"mobile"}, "account": {janMain}})
	loc = res.header.Get("Location")
	if _, err := e.sca.DecideMobile(ctx, "jan", false); err != nil {
		t.Fatal(err)
	}
	res = e.get(t, c, loc)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != tppRefusal {
		t.Fatalf("after rejection in the app: %d %s", res.status, res.header.Get("Location"))
	}

	// Rejected with the button.
	res = e.post(t, c, "/authorize/R2/reject", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != tppRefusal {
		t.Fatalf("reject: %d %s", res.status, res.header.Get("Location"))
	}
	if got := e.flow.rejections(); len(got) != 2 || got[1] != "R2 by "+e.jan.ID {
		t.Fatalf("rejections: %v", got)
	}

	// A payment shows what is paid, to whom, from where.
	res = e.get(t, c, "/authorize/R-pis")
	wantBody(t, res, http.StatusOK, "123.45 PLN", "Sklep Internetowy sp. z o.o.", "61 1090 1014 0000 0712 1981 2874",
		"Zamówienie 42", "2025-10-01", "12 1140 2004 0000 3202 1234 5678", "A domestic transfer")
	e.startSMS(t, c, "R-pis")
	msgs, _ := e.sca.SMSOutbox(ctx, "jan", 1)
	if !strings.Contains(msgs[0].Text, "Płatność przez Demo TPP: 123.45 PLN dla Sklep Internetowy sp. z o.o., rach. ...2874") {
		t.Errorf("payment SMS %q", msgs[0].Text)
	}

	// A decoupled request: only its customer may decide; then a done page.
	annaC := e.client(t)
	e.login(t, annaC, "R-decoupled", "anna")
	wantBody(t, e.get(t, annaC, "/authorize/R-decoupled"), http.StatusForbidden, "another customer")
	id := e.startSMS(t, c, "R-decoupled", janMain)
	res = e.post(t, c, "/authorize/R-decoupled/sms", url.Values{"challenge": {id}, "code": {e.smsCode(t, "jan")}})
	wantBody(t, res, http.StatusOK, "You approved the request of Demo TPP", "return to the third party")

	// Expired and unknown requests.
	res = e.get(t, c, "/authorize/R-expired")
	wantBody(t, res, http.StatusGone, "has expired")
	if strings.Contains(res.body, "approve-sms") || strings.Contains(res.body, "reject-button") {
		t.Error("an expired request offers buttons")
	}
	wantBody(t, e.get(t, c, "/authorize/nope"), http.StatusNotFound, "does not exist")
}

// TestConsentLoginLockout shows the wrong-password and lockout messages on
// the log-in page, in Polish too.
func TestConsentLoginLockout(t *testing.T) {
	e := newBankEnv(t, storetest.SQLite(t))
	c := e.client(t)
	wrong := url.Values{"login": {"jan"}, "password": {"wrong"}}
	res := e.post(t, c, "/authorize/R1/login", wrong)
	wantBody(t, res, http.StatusUnauthorized, "Wrong login or password.", `value="jan"`)
	res = e.post(t, c, "/authorize/R1/login", url.Values{"login": {"nobody"}, "password": {"x"}})
	wantBody(t, res, http.StatusUnauthorized, "Wrong login or password.")
	for range 3 {
		e.post(t, c, "/authorize/R1/login", wrong)
	}
	res = e.post(t, c, "/authorize/R1/login", wrong)
	wantBody(t, res, http.StatusTooManyRequests, "locked until 12:15") // 10:15 UTC is 12:15 in Warsaw
	res = e.post(t, c, "/authorize/R1/login", url.Values{"login": {"jan"}, "password": {"customer password"}},
		"Accept-Language", "pl-PL,pl;q=0.9")
	wantBody(t, res, http.StatusTooManyRequests, "Login jest zablokowany", "do 12:15")
	e.clk.Advance(15 * time.Minute)
	e.login(t, c, "R1", "jan")
}

// TestConsentInPolish renders the pages by Accept-Language.
func TestConsentInPolish(t *testing.T) {
	e := newBankEnv(t, storetest.SQLite(t))
	c := e.client(t)
	pl := []string{"Accept-Language", "pl-PL,pl;q=0.9,en;q=0.5"}
	res := e.get(t, c, "/authorize/R1", pl...)
	wantBody(t, res, http.StatusOK, `<html lang="pl">`, "Zaloguj się do banku", "prosi o dostęp")
	e.login(t, c, "R1", "jan")
	res = e.get(t, c, "/authorize/R1", pl...)
	wantBody(t, res, http.StatusOK, "Dostęp do informacji o Twoich rachunkach", "Transakcje zrealizowane", "90 dni",
		"Zatwierdź kodem SMS", "Zatwierdź w aplikacji mobilnej", "Odrzuć")
	res = e.post(t, c, "/authorize/R1/approve", url.Values{"method": {"sms"}}, pl...)
	wantBody(t, res, http.StatusUnprocessableEntity, "Wybierz co najmniej jeden rachunek.")
	id := e.startSMS(t, c, "R1", janMain)
	res = e.post(t, c, "/authorize/R1/sms", url.Values{"challenge": {id}, "code": {wrongCode(e.smsCode(t, "jan"))}}, pl...)
	wantBody(t, res, http.StatusUnprocessableEntity, "Nieprawidłowy kod SMS. Pozostałe próby: 2.")
	// The language links of a page keep its query.
	res = e.get(t, c, "/authorize/R1/sms?challenge="+id, pl...)
	if !regexp.MustCompile(`href="/authorize/R1/sms\?challenge=[^"]+&amp;lang=en"`).MatchString(res.body) {
		t.Errorf("no English link to the same page:\n%s", res.body)
	}
}
