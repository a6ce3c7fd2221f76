package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/sandbox"
)

// shotsDir is where TestEveryPageInBrowser leaves its screenshots, to look
// at the pages by eye.
var shotsDir = filepath.Join(os.TempDir(), "psd2bank-pages")

// TestEveryPageInBrowser visits every page of a running sandbox — its
// start page and SMS box, the consent pages (log-in, an ais-accounts
// consent with what it may be exchanged for, a bundle, a recurring split
// payment, a cancellation, the SMS code, a refusal), internet banking
// (log-in, accounts, consents, the confirmation, a refusal), the developer
// portal and every back-office page — in Chromium at a desktop's width
// (1280 px) and a phone's (390 px), in Polish and in English, and checks
// that no page is wider than the window, that the page is in the language
// asked for, and that it names its time zone. Screenshots go to
// $TMPDIR/psd2bank-pages.
func TestEveryPageInBrowser(t *testing.T) {
	chromium(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := t.TempDir()
	bank, err := sandbox.Open(ctx, sandbox.Config{DataDir: data, APIAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer bank.Close()
	ready := make(chan struct{})
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 512)
		pr.Read(buf)
		close(ready)
		io.Copy(io.Discard, pr)
	}()
	go bank.Serve(ctx, pw)
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("sandbox not ready")
	}
	web := bank.WebURL()

	// The demo TPP and a corporate customer (the widest pages).
	var client struct {
		ClientID    string `json:"client_id"`
		TPPID       string `json:"tpp_id"`
		RedirectURI string `json:"redirect_uri"`
	}
	readJSON(t, filepath.Join(data, "sandbox", "demo-tpp", "client.json"), &client)
	var psus []struct {
		Login, Password, Segment string
		Accounts                 []struct{ Number string }
	}
	readJSON(t, filepath.Join(data, "sandbox", "psus.json"), &psus)
	who := psus[0]
	for _, p := range psus {
		if p.Segment == "corporate" && len(p.Accounts) > 1 {
			who = p
			break
		}
	}
	cust, err := bank.Ledger.CustomerByLogin(ctx, who.Login)
	if err != nil {
		t.Fatal(err)
	}
	own, err := bank.Ledger.AccountsOf(ctx, cust.ID)
	if err != nil || len(own) == 0 {
		t.Fatalf("accounts of %s: %v %v", who.Login, own, err)
	}
	sender := own[0].NRB

	// The authorization requests the consent pages show, asked of the
	// real authorization server as a TPP's authorize would.
	now := bank.Clock.Now()
	authorize := func(scope string, privs ...consent.Privilege) string {
		t.Helper()
		res, err := bank.OAuth.Authorize(ctx, oauth.AuthorizeRequest{Dialect: consent.DialectPolishAPI, TPPID: client.TPPID,
			ClientID: client.ClientID, RedirectURI: client.RedirectURI, ResponseType: "code", Scope: scope, State: "s",
			QWACThumbprint: "qwac", ScopeDetails: oauth.ScopeDetails{ConsentID: fmt.Sprintf("c-%d", time.Now().UnixNano()),
				ScopeGroupType: scope, ScopeTimeLimit: now.Add(30 * 24 * time.Hour), Privileges: privs}})
		if err != nil {
			t.Fatalf("authorize %s: %v", scope, err)
		}
		return res.RequestID
	}
	accountsReq := authorize("ais-accounts", consent.Privilege{Name: consent.PrivGetAccounts})
	shop, landlord, office := "61109010140000071219812874", "27114020040000300201355387", "10101010230000261395100000"
	order := func(to, name, title string, grosze int64) payment.Order {
		return payment.Order{Type: payment.Domestic, SenderAccount: sender, Recipient: payment.Recipient{Name: name, Account: to},
			Amount: money.Amount(grosze), Currency: "PLN", Title: title}
	}
	bundle := payment.Consented{Bundle: true, Total: 47000, Orders: []payment.Order{
		order(shop, "Sklep Internetowy sp. z o.o.", "Zamówienie 42", 12000),
		order(landlord, "Wynajem Nieruchomości Kowalski i Wspólnicy spółka komandytowa", "Czynsz za grudzień 2026, lokal 4B", 30000),
		order(office, "Urząd Skarbowy Warszawa-Śródmieście", "Opłata skarbowa", 5000)}}
	bundleReq := authorize("pis", consent.Privilege{Name: consent.PrivBundle, Payment: json.RawMessage(`{"domesticTransfers":[]}`), Order: &bundle})
	rec := order(landlord, "Wynajem Nieruchomości Kowalski", "Czynsz FV/2026/12/001", 123000)
	rec.Split = &payment.SplitPayment{VATAmount: 23000, InvoiceNumber: "FV/2026/12/001", NIP: "5261040828"}
	rec.Recurrence = &payment.Recurrence{StartDate: "2027-01-10", PeriodType: payment.Month, PeriodValue: 1, EndDate: "2027-12-10", DayOff: payment.After}
	recurringReq := authorize("pis", consent.Privilege{Name: consent.PrivRecurring, Payment: json.RawMessage(`{}`),
		Order: &payment.Consented{Orders: []payment.Order{rec}}})
	// A future-dated payment of the customer's, which a cancellation names.
	var pln string
	for _, a := range own {
		if a.Currency == "PLN" && a.Available > 100000 {
			pln = a.NRB
			break
		}
	}
	later := now.AddDate(0, 0, 10).Format("2006-01-02")
	paid, err := bank.Payments.Initiate(ctx, payment.Order{Type: payment.Domestic, TPPID: client.TPPID, CustomerID: cust.ID,
		TPPTransactionID: fmt.Sprintf("t-%d", time.Now().UnixNano()), SenderAccount: pln,
		Recipient: payment.Recipient{Name: "Sklep Internetowy sp. z o.o.", Account: shop}, Amount: 4321, Currency: "PLN",
		Title: "Zamówienie 77", ExecutionDate: later})
	if err != nil {
		t.Fatalf("a payment to cancel: %v", err)
	}
	cancelReq := authorize("pis", consent.Privilege{Name: consent.PrivCancelPayment, Payment: json.RawMessage(`{"paymentId":"` + paid.ID + `"}`)})

	b := newBrowser(t, web)
	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	page := func(name, path string) pageVisit { return pageVisit{name: name, path: path} }

	// The pages anyone may see.
	anonymous := []pageVisit{
		page("sandbox-index", "/"),
		page("sandbox-sms-empty", "/sandbox/sms?format=html"),
		page("ib-login", "/ib/login"),
		page("consent-login", "/authorize/"+accountsReq),
		page("consent-unknown", "/authorize/no-such-request"),
		page("developer", "/developer"),
		page("backoffice-login", "/backoffice/login"),
	}
	b.visitAll(anonymous)

	// The customer logs in to internet banking (the session covers the
	// consent pages too).
	b.open("/ib/login?lang=en")
	b.step("log in as "+who.Login,
		chromedp.SetValue(chromedp.CSS("#login"), who.Login),
		chromedp.SetValue(chromedp.CSS("#password"), who.Password))
	b.submit("#login-button")
	if p := b.page(); p != "ib_accounts" {
		t.Fatalf("after log-in: %q\n%s", p, b.bodyText())
	}
	// The consent page of ais-accounts names what it may be exchanged for,
	// and every account is ticked.
	b.open("/authorize/" + accountsReq + "?lang=en")
	b.wantContains("#exchange-history", fmt.Sprint(consent.MaxHistoryDays)+" days")
	if n := evalIn[int](b, `document.querySelectorAll("#accounts input[type=checkbox]:checked").length`); n != len(own) {
		t.Errorf("%d accounts ticked, want all %d", n, len(own))
	}
	b.open("/authorize/" + bundleReq + "?lang=en")
	b.wantContains("#bundle-total", "470.00 PLN")
	b.wantContains("#transfer-1", "Czynsz za grudzień 2026")
	b.open("/authorize/" + recurringReq + "?lang=en")
	b.wantContains("#frequency", "every month")
	b.wantContains("#split-vat", "230.00 PLN")
	b.open("/authorize/" + cancelReq + "?lang=en")
	b.wantContains("#cancel-0", paid.ID)
	b.wantContains("#cancel-0", "43.21 PLN · Sklep Internetowy sp. z o.o. · Zamówienie 77 · "+later)

	// Approving the ais-accounts request by SMS: the SMS page, then the
	// code from the SMS box.
	b.open("/authorize/" + accountsReq + "?lang=en")
	b.submit("#approve-sms")
	if p := b.page(); p != "bank_sms" {
		t.Fatalf("after approve: %q\n%s", p, b.bodyText())
	}
	smsPath := strings.TrimPrefix(b.location(), web)
	b.wantContains("#sms-text", "historia do 1460 dni")

	// The customer enters the code (from the SMS box's JSON, as a script
	// reads it) in a second session, so that the browser's SMS page stays
	// to be looked at; the TPP redeems the code and exchanges its
	// ais-accounts token for history: internet banking lists that consent
	// with its depth.
	challenge := strings.TrimPrefix(smsPath, "/authorize/"+accountsReq+"/sms?challenge=")
	code := finishBySMS(t, web, accountsReq, who.Login, who.Password, challenge)
	tok, err := bank.OAuth.Token(ctx, oauth.TokenRequest{TPPID: client.TPPID, QWACThumbprint: "qwac", ClientID: client.ClientID,
		GrantType: oauth.GrantAuthorizationCode, Code: code, RedirectURI: client.RedirectURI})
	if err != nil {
		t.Fatalf("redeem the code: %v", err)
	}
	if _, err := bank.OAuth.Token(ctx, oauth.TokenRequest{TPPID: client.TPPID, QWACThumbprint: "qwac", ClientID: client.ClientID,
		GrantType: oauth.GrantExchangeToken, ExchangeToken: tok.AccessToken, Scope: "ais",
		ScopeDetails: &oauth.ScopeDetails{ConsentID: fmt.Sprintf("x-%d", time.Now().UnixNano()), ScopeGroupType: "ais",
			ScopeTimeLimit: now.Add(60 * 24 * time.Hour),
			Privileges:     []consent.Privilege{{Name: consent.PrivGetTransactionsDone, MaxAllowedHistoryLong: 730}}}}); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	b.open("/ib/consents?lang=en")
	b.wantContains("#consents", "730 days")
	b.wantContains("#consents", "exchanged for your consent to the list of accounts")

	// A limits change waits for its confirmation.
	b.open("/ib/accounts?lang=en")
	b.step("set a limit", chromedp.SetValue(chromedp.CSS("#per-payment-0"), "5000"))
	b.submit("#limits-sms-0")
	if p := b.page(); p != "ib_confirm" {
		t.Fatalf("after a limits change: %q\n%s", p, b.bodyText())
	}
	confirmPath := strings.TrimPrefix(b.location(), web)

	// The customer's pages.
	b.visitAll([]pageVisit{
		page("ib-accounts", "/ib/accounts"),
		page("ib-consents", "/ib/consents"),
		page("ib-confirm", confirmPath),
		page("ib-not-found", "/ib/no-such-page"),
		page("consent-accounts", "/authorize/"+accountsReq),
		page("consent-bundle", "/authorize/"+bundleReq),
		page("consent-recurring", "/authorize/"+recurringReq),
		page("consent-cancel", "/authorize/"+cancelReq),
		page("consent-sms", smsPath),
		page("sandbox-sms", "/sandbox/sms?format=html&login="+url.QueryEscape(who.Login)),
	})

	// The back office.
	b.open("/backoffice/login?lang=en")
	b.step("log in to the back office",
		chromedp.SetValue(chromedp.CSS("#bo-login"), sandbox.BackofficeLogin),
		chromedp.SetValue(chromedp.CSS("#bo-password"), sandbox.BackofficePassword))
	b.submit("#login button")
	b.visitAll([]pageVisit{
		page("bo-applications", "/backoffice/applications"),
		page("bo-tpps", "/backoffice/tpps"),
		page("bo-audit", "/backoffice/audit"),
		page("bo-logins", "/backoffice/logins"),
		page("bo-hotline", "/backoffice/hotline?q="+url.QueryEscape(who.Login)),
		page("bo-hotline-customer", "/backoffice/hotline/customers/"+cust.ID),
		page("bo-access-audit", "/backoffice/access-audit"),
		page("bo-stats", "/backoffice/stats"),
	})
	// The back office says "no limit" where the customer set none, as
	// internet banking does.
	b.open("/backoffice/hotline/customers/" + cust.ID + "?lang=en")
	b.wantContains("#accounts", "no limit")

	// A developer signs up and sees the application.
	b.open("/developer?lang=en")
	b.step("fill in the sign-up form",
		chromedp.SetValue(chromedp.CSS("#su-org"), "PSDPL-KNF-0000099999"),
		chromedp.SetValue(chromedp.CSS("#su-name"), "Przykładowy Dostawca Usług Płatniczych sp. z o.o."),
		chromedp.SetValue(chromedp.CSS("#su-email"), "dev@example.pl"),
		chromedp.SetValue(chromedp.CSS("#su-password"), "a long developer password"))
	b.submit("#signup button")
	b.visitAll([]pageVisit{page("developer-application", "/developer/application")})
}

// finishBySMS enters the SMS code of a consent's challenge in a session of
// its own and returns the authorization code the bank sends the TPP.
func finishBySMS(t *testing.T, web, request, login, password, challenge string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		res, err := c.PostForm(web+path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	post("/authorize/"+request+"/login", url.Values{"login": {login}, "password": {password}})
	res, err := http.Get(web + "/sandbox/sms?login=" + url.QueryEscape(login)) // no Accept: JSON, as the contract says
	if err != nil {
		t.Fatal(err)
	}
	var sms []struct{ Code string }
	err = json.NewDecoder(res.Body).Decode(&sms)
	res.Body.Close()
	if err != nil || len(sms) == 0 {
		t.Fatalf("the SMS box's JSON: %v %v", sms, err)
	}
	res = post("/authorize/"+request+"/sms", url.Values{"challenge": {challenge}, "code": {sms[0].Code}})
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("after the SMS code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// evalIn evaluates a JavaScript expression in the browser's page.
func evalIn[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pageVisit is a page the browser test visits.
type pageVisit struct{ name, path string }

// visitAll visits each page at both widths in both languages.
func (b *browser) visitAll(pages []pageVisit) {
	b.t.Helper()
	for _, w := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		b.step("window "+w.name, chromedp.EmulateViewport(w.width, w.height, chromedp.EmulateScale(1)))
		for _, lang := range []string{"pl", "en"} {
			for _, p := range pages {
				b.check(p, lang, w.name)
			}
		}
	}
	b.step("window back", chromedp.EmulateViewport(1280, 900))
}

// untranslated finds a message key shown as it is.
var untranslated = regexp.MustCompile(`\b(bank|ib|sms|sandbox|time|hl|bo|stats|dev|area|scope|priv|error|title)\.[a-z_]+`)

// zoneWord is how each language's time zone label begins.
var zoneWord = map[string]string{"pl": "Strefa czasowa:", "en": "Time zone:"}

// check visits one page in one language and checks it.
func (b *browser) check(p pageVisit, lang, width string) {
	b.t.Helper()
	sep := "?"
	if strings.Contains(p.path, "?") {
		sep = "&"
	}
	b.open(p.path + sep + "lang=" + lang)
	type measures struct {
		ScrollWidth, InnerWidth int
		Lang, Zone, Page, Text  string
	}
	got := evalIn[measures](b, `({ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
		Lang: document.documentElement.lang, Zone: (document.getElementById("tz") || {}).textContent || "",
		Page: document.body.dataset.page || "", Text: document.body.innerText})`)
	where := fmt.Sprintf("%s (%s, %s, %s)", p.path, got.Page, lang, width)
	if got.ScrollWidth > got.InnerWidth {
		b.t.Errorf("%s: the page is %d px wide in a %d px window", where, got.ScrollWidth, got.InnerWidth)
	}
	if got.Lang != lang {
		b.t.Errorf("%s: <html lang=%q>", where, got.Lang)
	}
	if !strings.HasPrefix(strings.TrimSpace(got.Zone), zoneWord[lang]) || !strings.Contains(got.Zone, "Europe/Warsaw") {
		b.t.Errorf("%s: time zone label %q", where, got.Zone)
	}
	if key := untranslated.FindString(got.Text); key != "" {
		b.t.Errorf("%s: the page shows the message key %q", where, key)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", where, err)
	}
	os.WriteFile(filepath.Join(shotsDir, fmt.Sprintf("%s-%s-%s.png", p.name, lang, width)), png, 0o644)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
