package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/web"
)

// detailPages are requests whose consent page must show everything the TPP
// will have.
func detailPages() map[string]web.ConsentPage {
	tppID := "PSDPL-KNF-0000012345"
	shop := web.PaymentPage{Amount: "120.00", Currency: "PLN", RecipientName: "Sklep Internetowy sp. z o.o.",
		RecipientAccount: "61109010140000071219812874", Title: "Zamówienie 42", SenderAccount: janMain}
	rent := web.PaymentPage{Amount: "300.00", Currency: "PLN", RecipientName: "Wynajem Kowalski",
		RecipientAccount: "27114020040000300201355387", Title: "Czynsz grudzień", SenderAccount: janMain}
	recurring := rent
	recurring.Amount, recurring.Title = "1230.00", "Czynsz FV/12/001"
	recurring.Recurrence = &web.RecurrencePage{PeriodType: "month", PeriodValue: 1, First: "2026-01-10", Last: "2026-12-10", DayOff: "after"}
	recurring.Split = &web.SplitPage{VAT: "230.00", Invoice: "FV/12/001", NIP: "5261040828"}
	return map[string]web.ConsentPage{
		"R-list": {TPPID: tppID, TPPName: "Demo TPP", Scope: "ais-accounts", Privileges: []string{"ais-accounts:getAccounts"},
			ValidUntil: testNow.AddDate(0, 1, 0),
			Exchange: &web.ExchangePage{Privileges: []string{"ais:getAccount", "ais:getTransactionsDone"}, MaxHistoryDays: 1460,
				Validity: 180 * 24 * time.Hour}},
		"R-bundle": {TPPID: tppID, TPPName: "Demo TPP", Scope: "pis", Privileges: []string{"pis:bundle"},
			Accounts: []string{janMain}, Payment: &web.PaymentPage{}, Payments: []web.PaymentPage{shop, rent}, Bundle: true, Total: "420.00"},
		"R-recurring": {TPPID: tppID, TPPName: "Demo TPP", Scope: "pis", Privileges: []string{"pis:recurring"},
			Payment: &recurring, Payments: []web.PaymentPage{recurring}},
		"R-cancel": {TPPID: tppID, TPPName: "Demo TPP", Scope: "pis", Privileges: []string{"pis:cancelPayment"},
			Cancels: []web.CancelPage{{Kind: "payment", ID: "PAY-000123"}}},
	}
}

// TestConsentPageShowsEverything: the consent page shows what an
// ais-accounts consent may be exchanged for (the history's depth and the
// validity), every transfer of a bundle, a recurring payment's schedule, a
// split payment's VAT and invoice, the payment a cancellation cancels; the
// SMS says the same in short.
func TestConsentPageShowsEverything(t *testing.T) {
	t.Parallel()
	e := newBankEnv(t, storetest.SQLite(t))
	for id, p := range detailPages() {
		e.flow.pages[id] = p
	}
	c := e.client(t)
	e.login(t, c, "R-list", "jan")
	lastSMS := func() string {
		t.Helper()
		msgs, err := e.sca.SMSOutbox(context.Background(), "jan", 1)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("SMS: %v %v", msgs, err)
		}
		return msgs[0].Text
	}
	approveSMS := func(id string, accounts ...string) string {
		t.Helper()
		e.startSMS(t, c, id, accounts...)
		return lastSMS()
	}

	// ais-accounts: what the exchange may give, and every account ticked.
	res := e.get(t, c, "/authorize/R-list?lang=en")
	wantBody(t, res, http.StatusOK, `id="exchange"`, "Completed transactions", `id="exchange-history">1460 days`,
		"2026-03-30 12:00", "180 days after you approve", "Time zone: Europe/Warsaw")
	if n := strings.Count(res.body, " checked"); n != 2 {
		t.Errorf("%d accounts ticked, want both", n)
	}
	if sms := approveSMS("R-list", janMain); !strings.Contains(sms, "dostęp do listy rachunków ...5678") ||
		!strings.Contains(sms, "historia do 1460 dni, do 2026-03-30") {
		t.Errorf("SMS of ais-accounts: %q", sms)
	}

	// A bundle: every transfer with amount, recipient and title; the total.
	res = e.get(t, c, "/authorize/R-bundle?lang=en")
	wantBody(t, res, http.StatusOK, `id="bundle-count">2`, "420.00 PLN", "Sklep Internetowy sp. z o.o.", "Zamówienie 42",
		"120.00 PLN", "Wynajem Kowalski", "Czynsz grudzień", "300.00 PLN", "61 1090 1014 0000 0712 1981 2874")
	if sms := approveSMS("R-bundle"); !strings.Contains(sms, "(2, razem 420.00 PLN)") ||
		!strings.Contains(sms, "120.00 PLN dla Sklep Internetowy sp. z o.o., rach. ...2874, tytuł: Zamówienie 42") ||
		!strings.Contains(sms, "300.00 PLN dla Wynajem Kowalski") {
		t.Errorf("SMS of a bundle: %q", sms)
	}

	// A recurring split payment: the schedule, the VAT and the invoice.
	res = e.get(t, c, "/authorize/R-recurring?lang=en")
	wantBody(t, res, http.StatusOK, `id="frequency">every month`, `id="first-date">2026-01-10`, `id="last-date">2026-12-10`,
		"the next working day", `id="split-vat" class="amount">230.00 PLN`, `id="split-invoice">FV/12/001`)
	res = e.get(t, c, "/authorize/R-recurring?lang=pl")
	wantBody(t, res, http.StatusOK, `id="frequency">co miesiąc`, "Kwota VAT")
	if sms := approveSMS("R-recurring"); !strings.HasPrefix(strings.SplitN(sms, ". ", 2)[1], "Płatność cykliczna przez Demo TPP: 1230.00 PLN") ||
		!strings.Contains(sms, "MPP VAT 230.00 PLN, faktura FV/12/001") || !strings.Contains(sms, "co miesiąc, od 2026-01-10 do 2026-12-10") {
		t.Errorf("SMS of a recurring payment: %q", sms)
	}

	// A cancellation names the payment.
	res = e.get(t, c, "/authorize/R-cancel?lang=en")
	wantBody(t, res, http.StatusOK, `id="cancels"`, "the payment", "PAY-000123")
	if sms := approveSMS("R-cancel"); !strings.Contains(sms, "anulowanie płatności PAY-000123") {
		t.Errorf("SMS of a cancellation: %q", sms)
	}
}

// TestSMSBoxPageAndJSON: the sandbox's SMS box is a page for a browser and
// stays JSON for programs (no Accept, */*, application/json, ?format=json),
// as the sandbox contract says.
func TestSMSBoxPageAndJSON(t *testing.T) {
	t.Parallel()
	e := newBankEnv(t, storetest.SQLite(t))
	if _, err := e.sca.StartSMS(context.Background(), e.jan, "p", "Zgoda dla Demo TPP: dostęp do rachunków"); err != nil {
		t.Fatal(err)
	}
	json404 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		msgs, _ := e.sca.SMSOutbox(r.Context(), r.URL.Query().Get("login"), 50)
		json.NewEncoder(w).Encode(msgs)
	})
	srv := httptest.NewServer(web.SandboxPages{SCA: e.sca, Clock: e.clk}.SMSBox(json404))
	t.Cleanup(srv.Close)
	get := func(query, accept string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/sms?"+query, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.Header.Get("Content-Type"), b.String()
	}
	login := url.Values{"login": {"jan"}}.Encode()
	for _, c := range []struct{ query, accept string }{{login, ""}, {login, "*/*"}, {login, "application/json"},
		{login + "&format=json", "text/html,application/xhtml+xml"}} {
		ct, body := get(c.query, c.accept)
		var list []map[string]any
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 {
			t.Errorf("?%s Accept %q: %s %s, want the JSON list", c.query, c.accept, ct, body)
		}
	}
	for _, c := range []struct{ query, accept string }{{login, "text/html,application/xhtml+xml,*/*;q=0.8"}, {login + "&format=html", ""}} {
		ct, body := get(c.query+"&lang=en", c.accept)
		if !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, `id="sms-list"`) ||
			!strings.Contains(body, "Zgoda dla Demo TPP") || !strings.Contains(body, "Time zone: Europe/Warsaw") {
			t.Errorf("?%s Accept %q: %s, want the page\n%s", c.query, c.accept, ct, body)
		}
	}
	if _, body := get("login=nobody&format=html", ""); !strings.Contains(body, `id="error"`) {
		t.Errorf("an unknown login's page: %s", body)
	}
}
