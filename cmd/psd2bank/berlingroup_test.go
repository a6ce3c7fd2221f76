package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup/spec"
	"github.com/psd2bank/psd2bank/internal/store"
)

// bgCall is a Berlin Group request: signed as the standard says unless a
// hook changes it.
type bgCall struct {
	method, path string
	body         any
	header       map[string]string
	requestID    string                // "" = a new UUID
	tamper       func(r *http.Request) // after signing
	signHeaders  []string              // nil = the default set
}

func (f *tppFiles) bg(t *testing.T, api string, c bgCall) apiAnswer {
	t.Helper()
	var raw []byte
	if c.body != nil {
		raw, _ = json.Marshal(c.body)
	}
	r, _ := http.NewRequest(c.method, api+c.path, bytes.NewReader(raw))
	if raw != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	id := c.requestID
	if id == "" {
		id = uuid.NewString()
	}
	r.Header.Set("X-Request-ID", id)
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	key, cert := f.signer.Key(), f.signer.Certificate()
	if err := berlingroup.SignRequest(r, raw, key, cert); err != nil {
		t.Fatal(err)
	}
	if c.signHeaders != nil {
		if err := berlingroup.SignHeaders(r, c.signHeaders, key, cert); err != nil {
			t.Fatal(err)
		}
	}
	if c.tamper != nil {
		c.tamper(r)
	}
	a := f.do(t, r)
	var e berlingroup.ErrorBody
	if json.Unmarshal(a.body, &e) == nil && len(e.TPPMessages) > 0 {
		a.code, a.message = e.TPPMessages[0].Code, e.TPPMessages[0].Text
	}
	return a
}

// ok checks a 2xx answer: its status, the body against the official
// file, and the bank's signature.
func bgOK(t *testing.T, a apiAnswer, op string, status int, data string) map[string]any {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: %d %s", op, a.status, a.body)
	}
	validate := func() error { return spec.ValidateResponse(op, status, a.body) }
	if schema, ok := strings.CutPrefix(op, "schema:"); ok {
		validate = func() error { return spec.ValidateSchema(schema, a.body) }
	}
	if err := validate(); err != nil {
		t.Fatalf("%s: %v", op, truncated(err.Error()))
	}
	if err := berlingroup.VerifyResponse(a.header, a.body, bankSeal(t, data)); err != nil {
		t.Fatalf("%s: the answer's signature: %v", op, err)
	}
	return a.json(t)
}

func truncated(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func bgRefused(t *testing.T, what string, a apiAnswer, status int, code string) {
	t.Helper()
	if a.status != status || a.code != code {
		t.Fatalf("%s: got %d %s, want %d %s: %s", what, a.status, a.code, status, code, a.body)
	}
	if a.message == "" {
		t.Fatalf("%s: no text: %s", what, a.body)
	}
}

func iban(nrb string) string { return "PL" + nrb }

func bgConsentBody(access map[string]any) map[string]any {
	return map[string]any{"access": access, "recurringIndicator": true,
		"validUntil": time.Now().AddDate(0, 0, 30).Format(time.DateOnly), "frequencyPerDay": 4, "combinedServiceIndicator": false}
}

const bgRedirect = "http://127.0.0.1:8765/callback/bg?session=1"

// The Berlin Group dialect end to end over mTLS, on one sandbox: the
// redirect and decoupled flows, a payment, and every signature refusal.
func TestBerlinGroup(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *sandboxProc, string)
	}{
		{"RedirectFlow", bgRedirectFlow}, {"DecoupledFlow", bgDecoupledFlow}, {"Payment", bgPayment}, {"BulkPayment", bgBulk},
		{"ExplicitAuthorisation", bgExplicit}, {"SignatureRefusals", bgSignatureRefusals},
		{"CalendarDay", bgCalendarDay}, // last: it moves the sandbox's clock
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, p, data) })
	}
}

// The redirect flow end to end over mTLS: consent for named accounts →
// the customer approves on the bank's pages → consent valid → accounts,
// balances, transactions, details; every 2xx body valid against the
// official file and signed by the bank; then the refusals the standard
// and the contract promise.
func bgRedirectFlow(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	psus := readPSUs(t, data)
	who := psus[0]
	nrb := who.Accounts[0].Number
	acct := []map[string]any{{"iban": iban(nrb)}}

	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body:   bgConsentBody(map[string]any{"accounts": acct, "balances": acct, "transactions": acct}),
		header: map[string]string{"TPP-Redirect-URI": bgRedirect, "PSU-IP-Address": "192.0.2.1"}}), "createConsent", 201, data)
	consentID, _ := created["consentId"].(string)
	links, _ := created["_links"].(map[string]any)
	page, _ := links["scaRedirect"].(map[string]any)["href"].(string)
	if consentID == "" || !strings.HasPrefix(page, "http://"+p.web+"/authorize/") {
		t.Fatalf("consent answer: %v", created)
	}
	st := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID + "/status"}), "getConsentStatus", 200, data)
	if st["consentStatus"] != "received" {
		t.Fatalf("status before SCA: %v", st)
	}
	bgRefused(t, "accounts before SCA", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts",
		header: map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "192.0.2.1"}}), 401, "CONSENT_INVALID")
	back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
	if !strings.HasPrefix(back, bgRedirect) {
		t.Fatalf("the bank sent the browser to %q, not TPP-Redirect-URI", back)
	}
	st = bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID + "/status"}), "getConsentStatus", 200, data)
	if st["consentStatus"] != "valid" {
		t.Fatalf("status after SCA: %v", st)
	}
	scaLink, _ := links["scaStatus"].(map[string]any)["href"].(string)
	sca := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: scaLink}), "getConsentScaStatus", 200, data)
	if sca["scaStatus"] != "finalised" {
		t.Fatalf("scaStatus: %v", sca)
	}
	info := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID}), "getConsentInformation", 200, data)
	if info["frequencyPerDay"] != float64(4) || !strings.Contains(fmt.Sprint(info["access"]), iban(nrb)) {
		t.Fatalf("consent information: %v", info)
	}

	present := map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "192.0.2.1"}
	list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts?withBalance=true", header: present}), "getAccountList", 200, data)
	accounts, _ := list["accounts"].([]any)
	if len(accounts) != 1 {
		t.Fatalf("accounts: %v", list)
	}
	account := accounts[0].(map[string]any)
	if account["iban"] != iban(nrb) {
		t.Fatalf("account: %v", account)
	}
	id, _ := account["resourceId"].(string)
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id, header: present}), "readAccountDetails", 200, data)
	bal := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: present}), "getBalances", 200, data)
	for _, typ := range []string{"closingBooked", "interimBooked", "interimAvailable", "expected"} {
		if !strings.Contains(fmt.Sprint(bal["balances"]), typ) {
			t.Fatalf("balances lack %s: %v", typ, bal)
		}
	}
	from := time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)
	txs := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=both&dateFrom=" + from, header: present}),
		"getTransactionList", 200, data)
	report, _ := txs["transactions"].(map[string]any)
	booked, _ := report["booked"].([]any)
	if len(booked) == 0 {
		t.Fatalf("no booked transactions in a year: %s", txs)
	}
	// Pages: next, then previous back to the first page's items; last has
	// the oldest items and no next.
	href := func(report map[string]any, name string) string {
		l, _ := report["_links"].(map[string]any)[name].(map[string]any)
		h, _ := l["href"].(string)
		return h
	}
	entryRefs := func(report map[string]any) []string {
		var out []string
		for _, b := range report["booked"].([]any) {
			out = append(out, b.(map[string]any)["entryReference"].(string))
		}
		return out
	}
	txPage := func(path string) map[string]any {
		t.Helper()
		page := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path, header: present}), "getTransactionList", 200, data)
		return page["transactions"].(map[string]any)
	}
	if href(report, "first") == "" || href(report, "last") == "" || href(report, "previous") != "" {
		t.Fatalf("the first page's links: %v", report["_links"])
	}
	if next := href(report, "next"); next == "" {
		t.Fatalf("a year of history on one page: %v", report["_links"])
	} else {
		page2 := txPage(next)
		back := txPage(href(page2, "previous"))
		if fmt.Sprint(entryRefs(back)) != fmt.Sprint(entryRefs(report)) {
			t.Fatalf("previous of the second page is not the first page: %v vs %v", entryRefs(back), entryRefs(report))
		}
		last := txPage(href(page2, "last"))
		if href(last, "next") != "" || len(last["booked"].([]any)) == 0 {
			t.Fatalf("the last page: %v", last["_links"])
		}
	}
	// entryReferenceFrom: the booked items after the one named.
	if refs := entryRefs(report); len(refs) > 5 {
		since := txPage("/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=booked&entryReferenceFrom=" + refs[5])
		if got := entryRefs(since); fmt.Sprint(got) != fmt.Sprint(refs[:5]) {
			t.Fatalf("entryReferenceFrom=%s gave %v, want %v", refs[5], got, refs[:5])
		}
	}
	bgRefused(t, "deltaList", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=booked&deltaList=true", header: present}),
		400, "PARAMETER_NOT_SUPPORTED")
	txID, _ := booked[0].(map[string]any)["transactionId"].(string)
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/transactions/" + txID, header: present}),
		"getTransactionDetails", 200, data)

	// The bank-offered consent: empty lists, the customer chooses on the
	// consent page; the consent then names the chosen accounts.
	offered := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body:   bgConsentBody(map[string]any{"accounts": []any{}, "balances": []any{}, "transactions": []any{}}),
		header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), "createConsent", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(offered["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, []string{nrb})
	oinfo := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + offered["consentId"].(string)}), "getConsentInformation", 200, data)
	if oinfo["consentStatus"] != "valid" || !strings.Contains(fmt.Sprint(oinfo["access"]), iban(nrb)) {
		t.Fatalf("bank-offered consent after SCA: %v", oinfo)
	}
	olist := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts?withBalance=true",
		header: map[string]string{"Consent-ID": offered["consentId"].(string), "PSU-IP-Address": "192.0.2.1"}}), "getAccountList", 200, data)
	if n := len(olist["accounts"].([]any)); n != 1 {
		t.Fatalf("bank-offered consent lists %d accounts: %v", n, olist)
	}

	// Funds confirmation, by IBAN.
	funds := func(iban, amount string) apiAnswer {
		return demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/funds-confirmations",
			body: map[string]any{"account": map[string]any{"iban": iban}, "instructedAmount": map[string]any{"currency": "PLN", "amount": amount}}})
	}
	if f := bgOK(t, funds(iban(nrb), "1.00"), "checkAvailabilityOfFunds", 200, data); f["fundsAvailable"] != true {
		t.Fatalf("1 PLN not available: %v", f)
	}
	if f := bgOK(t, funds(iban(nrb), "999999999.00"), "checkAvailabilityOfFunds", 200, data); f["fundsAvailable"] != false {
		t.Fatalf("a billion available: %v", f)
	}
	bgRefused(t, "funds on a foreign IBAN", funds("DE89370400440532013000", "1.00"), 400, "FORMAT_ERROR")

	// The account list only: balances are not part of it.
	listOnly := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"availableAccounts": "allAccounts"}), header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), "createConsent", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(listOnly["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, []string{nrb})
	lo := map[string]string{"Consent-ID": listOnly["consentId"].(string), "PSU-IP-Address": "192.0.2.1"}
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts", header: lo}), "getAccountList", 200, data)
	bgRefused(t, "balances under an account-list consent", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: lo}),
		401, "CONSENT_INVALID")
	bgRefused(t, "withBalance under an account-list consent", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts?withBalance=true", header: lo}),
		401, "CONSENT_INVALID")

	// Bad input: clear errors in the standard's format.
	bgRefused(t, "transactions without bookingStatus", demo.bg(t, api, bgCall{method: "GET",
		path: "/berlingroup/v1/accounts/" + id + "/transactions?dateFrom=" + from, header: present}), 400, "FORMAT_ERROR")
	bgRefused(t, "card accounts", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/card-accounts", header: present}), 405, "SERVICE_INVALID")
	bgRefused(t, "frequencyPerDay 5", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: func() map[string]any {
			b := bgConsentBody(map[string]any{"accounts": acct})
			b["frequencyPerDay"] = 5
			return b
		}(), header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), 400, "FORMAT_ERROR")
	bgRefused(t, "a redirect URI the TPP did not register", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"accounts": acct}), header: map[string]string{"TPP-Redirect-URI": "https://evil.example/cb"}}), 400, "FORMAT_ERROR")

	// One TPP's consent used by another.
	other := filepath.Join(t.TempDir(), "other")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000066", "--name", "Other", "--out", other, "--register")
	otherTPP := loadTPP(t, other, data)
	bgRefused(t, "another TPP's consent", otherTPP.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: present}),
		400, "CONSENT_UNKNOWN")
	bgRefused(t, "another TPP's consent status", otherTPP.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID}), 403, "CONSENT_UNKNOWN")

	// A consent for account A used on another customer's account, by
	// resource id: the other customer's id comes from their own consent.
	whoB := psus[1]
	accB := []map[string]any{{"iban": iban(whoB.Accounts[0].Number)}}
	cB := demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"accounts": accB}), header: map[string]string{"TPP-Redirect-URI": bgRedirect}}).json(t)
	newBrowser(t, "http://"+p.web).consentBySMS(cB["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), whoB, nil)
	listB := demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts", header: map[string]string{"Consent-ID": cB["consentId"].(string), "PSU-IP-Address": "192.0.2.1"}}).json(t)
	idB := listB["accounts"].([]any)[0].(map[string]any)["resourceId"].(string)
	for _, path := range []string{"", "/balances", "/transactions?bookingStatus=booked&dateFrom=" + from} {
		bgRefused(t, "consent A on B's account "+path, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + idB + path, header: present}),
			404, "RESOURCE_UNKNOWN")
	}
	// ... and by IBAN: customer A cannot approve a consent naming B's account.
	cAB := demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"accounts": accB}), header: map[string]string{"TPP-Redirect-URI": bgRedirect}}).json(t)
	if refusedApproval(t, "http://"+p.web, cAB["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who) {
		st := demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + cAB["consentId"].(string) + "/status"}).json(t)
		if st["consentStatus"] == "valid" {
			t.Fatal("customer A authorised a consent for customer B's account")
		}
	}

	// Reads without the customer: four a day, the fifth is refused.
	unattended := map[string]string{"Consent-ID": consentID}
	for i := 1; i <= 4; i++ {
		bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: unattended}), "getBalances", 200, data)
	}
	bgRefused(t, "fifth read without the customer", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: unattended}),
		429, "ACCESS_EXCEEDED")
	// With the customer present, reads go on.
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: present}), "getBalances", 200, data)

	// A one-off consent (recurringIndicator false): one read of each kind.
	oneBody := bgConsentBody(map[string]any{"balances": acct, "transactions": acct})
	oneBody["recurringIndicator"], oneBody["frequencyPerDay"] = false, 1
	one := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: oneBody,
		header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), "createConsent", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(one["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	oneHdr := map[string]string{"Consent-ID": one["consentId"].(string), "PSU-IP-Address": "192.0.2.1"}
	for _, read := range []struct{ op, path string }{
		{"getBalances", "/balances"}, {"getTransactionList", "/transactions?bookingStatus=booked&dateFrom=" + from},
	} {
		bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + read.path, header: oneHdr}), read.op, 200, data)
		again := demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + read.path, header: oneHdr})
		bgRefused(t, "a one-off consent read twice: "+read.op, again, 401, "CONSENT_INVALID")
		if !strings.Contains(again.message, "recurringIndicator false") {
			t.Fatalf("the refusal does not say why: %s", again.body)
		}
	}

	// frequencyPerDay 2: the third read of the day without the customer is
	// refused, and the refusal says when the next one is allowed.
	twoBody := bgConsentBody(map[string]any{"balances": acct})
	twoBody["frequencyPerDay"] = 2
	two := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: twoBody,
		header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), "createConsent", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(two["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	twoID := two["consentId"].(string)
	if info := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + twoID}), "getConsentInformation", 200, data); info["frequencyPerDay"] != float64(2) {
		t.Fatalf("frequencyPerDay 2 reads back as %v", info["frequencyPerDay"])
	}
	for i := 1; i <= 2; i++ {
		bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: map[string]string{"Consent-ID": twoID}}), "getBalances", 200, data)
	}
	third := demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: map[string]string{"Consent-ID": twoID}})
	bgRefused(t, "third read with frequencyPerDay 2", third, 429, "ACCESS_EXCEEDED")
	if !strings.Contains(third.message, "next read allowed at") {
		t.Fatalf("the refusal does not say when the next read is allowed: %s", third.body)
	}

	// The same X-Request-ID twice.
	rid := uuid.NewString()
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID + "/status", requestID: rid}), "getConsentStatus", 200, data)
	a := demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID + "/status", requestID: rid})
	bgRefused(t, "replayed X-Request-ID", a, 400, "FORMAT_ERROR")
	if !strings.Contains(a.message, "X-Request-ID") {
		t.Fatalf("the replay's text does not say why: %s", a.body)
	}

	// DELETE ends the consent.
	if a := demo.bg(t, api, bgCall{method: "DELETE", path: "/berlingroup/v1/consents/" + consentID}); a.status != 204 {
		t.Fatalf("delete: %d %s", a.status, a.body)
	} else if err := berlingroup.VerifyResponse(a.header, nil, bankSeal(t, data)); err != nil {
		t.Fatalf("the 204 answer is not signed: %v", err)
	}
	st = bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + consentID + "/status"}), "getConsentStatus", 200, data)
	if st["consentStatus"] != "terminatedByTpp" {
		t.Fatalf("status after delete: %v", st)
	}
	bgRefused(t, "a deleted consent", demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: present}),
		401, "CONSENT_INVALID")
}

// refusedApproval logs the customer in on the consent page and tries to
// approve; it tells whether the bank refused.
func refusedApproval(t *testing.T, web, page string, who psu) bool {
	t.Helper()
	b := newBrowser(t, web)
	u, _ := b.get(page)
	if loc, html := b.post(u+"/login", url.Values{"login": {who.Login}, "password": {who.Password}}); loc == "" {
		t.Fatalf("login refused: %s", html)
	}
	u, _ = b.get(page)
	loc, _ := b.post(u+"/approve", url.Values{"method": {"sms"}})
	if loc != "" {
		t.Fatalf("the bank let customer A approve a consent for B's account (to %s)", loc)
	}
	return true
}

// The decoupled flow: the customer approves in the mobile app and the TPP
// polls scaStatus.
func bgDecoupledFlow(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[0]
	acct := []map[string]any{{"iban": iban(who.Accounts[0].Number)}}
	a := demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"accounts": acct, "balances": acct}), header: map[string]string{"TPP-Redirect-Preferred": "false", "PSU-ID": who.Login}})
	created := bgOK(t, a, "createConsent", 201, data)
	if a.header.Get("ASPSP-SCA-Approach") != "DECOUPLED" {
		t.Fatalf("ASPSP-SCA-Approach %q", a.header.Get("ASPSP-SCA-Approach"))
	}
	consentID := created["consentId"].(string)
	scaLink := created["_links"].(map[string]any)["scaStatus"].(map[string]any)["href"].(string)
	if sca := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: scaLink}), "getConsentScaStatus", 200, data); sca["scaStatus"] != "started" {
		t.Fatalf("scaStatus before approval: %v", sca)
	}
	res, err := http.Post("http://"+p.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+who.Login+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("mobile approve: %v %v", res, err)
	}
	res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sca := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: scaLink}), "getConsentScaStatus", 200, data)
		if sca["scaStatus"] == "finalised" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scaStatus still %v", sca)
		}
		time.Sleep(100 * time.Millisecond)
	}
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts?withBalance=true",
		header: map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "192.0.2.1"}}), "getAccountList", 200, data)
	// Embedded SCA is not offered.
	bgRefused(t, "embedded SCA", demo.bg(t, api, bgCall{method: "PUT", path: scaLink, body: map[string]any{"psuData": map[string]any{"password": "x"}}}),
		400, "SCA_METHOD_UNKNOWN")
}

// Every signature refusal of the standard, each with its code and status.
func bgSignatureRefusals(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	body := bgConsentBody(map[string]any{"availableAccounts": "allAccounts"})
	redirect := map[string]string{"TPP-Redirect-URI": bgRedirect}
	post := func(f *tppFiles, tamper func(*http.Request), signed []string) apiAnswer {
		return f.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body, header: redirect, tamper: tamper, signHeaders: signed})
	}
	bgOK(t, post(demo, nil, nil), "createConsent", 201, data)

	bgRefused(t, "no Digest", post(demo, func(r *http.Request) { r.Header.Del("Digest") }, nil), 400, "FORMAT_ERROR")
	bgRefused(t, "wrong Digest", post(demo, func(r *http.Request) { r.Header.Set("Digest", berlingroup.Digest([]byte("{}"))) }, nil), 401, "SIGNATURE_INVALID")
	bgRefused(t, "no Signature", post(demo, func(r *http.Request) { r.Header.Del("Signature") }, nil), 401, "SIGNATURE_MISSING")
	bgRefused(t, "no TPP-Signature-Certificate", post(demo, func(r *http.Request) { r.Header.Del("TPP-Signature-Certificate") }, nil), 401, "CERTIFICATE_MISSING")
	bgRefused(t, "signature without x-request-id", post(demo, nil, []string{"digest"}), 401, "SIGNATURE_INVALID")
	bgRefused(t, "signature without tpp-redirect-uri", post(demo, nil, []string{"digest", "x-request-id"}), 401, "SIGNATURE_INVALID")
	bgRefused(t, "a changed signed header", post(demo, func(r *http.Request) { r.Header.Set("TPP-Redirect-URI", bgRedirect+"&x=1") }, nil), 401, "SIGNATURE_INVALID")
	bgRefused(t, "keyId of another certificate", post(demo, func(r *http.Request) {
		r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), `keyId="SN=`, `keyId="SN=1`, 1))
	}, nil), 401, "SIGNATURE_INVALID")
	bgRefused(t, "a body changed after signing", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body, header: redirect,
		tamper: func(r *http.Request) {
			b, _ := json.Marshal(bgConsentBody(map[string]any{"allPsd2": "allAccounts"}))
			r.Body = nopBody(b)
			r.ContentLength = int64(len(b))
		}}), 401, "SIGNATURE_INVALID")

	issue := func(name, org string, args ...string) *tppFiles {
		dir := filepath.Join(t.TempDir(), name)
		certsCmd(t, append([]string{"issue", "--data", data, "--org-id", org, "--name", name, "--out", dir}, args...)...)
		return loadTPP(t, dir, data)
	}
	// The QSealC of another organisation, with the demo TPP's QWAC.
	stranger := issue("stranger", "PSDPL-KNF-0000000071", "--register")
	mixed := *demo
	mixed.signer = stranger.signer
	bgRefused(t, "QSealC of another organisation", post(&mixed, nil, nil), 401, "CERTIFICATE_INVALID")
	// A TPP without the AIS role.
	bgRefused(t, "no PSP_AI role", post(issue("payer", "PSDPL-KNF-0000000072", "--roles", "PSP_PI", "--register"), nil, nil), 401, "ROLE_INVALID")
	// Expired certificates.
	bgRefused(t, "expired", post(issue("expired", "PSDPL-KNF-0000000073", "--expired", "--register"), nil, nil), 401, "CERTIFICATE_EXPIRED")
	// A revoked QSealC (the QWAC is fine).
	revoked := filepath.Join(t.TempDir(), "revoked")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000074", "--name", "Revoked", "--out", revoked, "--register")
	certsCmd(t, "revoke", "--data", data, "--cert", filepath.Join(revoked, "qsealc.pem"))
	bgRefused(t, "revoked QSealC", post(loadTPP(t, revoked, data), nil, nil), 401, "CERTIFICATE_REVOKED")
	// A signed Date more than 5 minutes away from the bank's clock.
	stale := map[string]string{"TPP-Redirect-URI": bgRedirect, "Date": time.Now().Add(-10 * time.Minute).UTC().Format(http.TimeFormat)}
	bgRefused(t, "a stale Date", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body, header: stale}), 401, "SIGNATURE_INVALID")
	fresh := map[string]string{"TPP-Redirect-URI": bgRedirect, "Date": time.Now().UTC().Format(http.TimeFormat)}
	bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body, header: fresh}), "createConsent", 201, data)
	bgRefused(t, "a Date left out of the signature", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body, header: fresh,
		signHeaders: []string{"digest", "x-request-id", "tpp-redirect-uri"}}), 401, "SIGNATURE_INVALID")

	// Errors in Polish on request.
	a := post(demo, func(r *http.Request) { r.Header.Del("Signature"); r.Header.Set("Accept-Language", "pl") }, nil)
	if !strings.Contains(a.message, "podpis") {
		t.Fatalf("Polish text: %s", a.body)
	}
}

func nopBody(b []byte) *readCloser { return &readCloser{bytes.NewReader(b)} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// A Polish domestic payment through the redirect flow: checked before the
// customer sees it, authorised on the bank's pages, executed once, its
// status following the ledger; it cannot be changed afterwards.
func bgPayment(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	psus := readPSUs(t, data)
	who := psus[0]
	pay := func(amount, currency string) map[string]any {
		return map[string]any{
			"debtorAccount":    map[string]any{"iban": iban(who.Accounts[0].Number)},
			"instructedAmount": map[string]any{"currency": currency, "amount": amount},
			"creditorAccount":  map[string]any{"iban": iban(psus[1].Accounts[0].Number)},
			"creditorName":     "Anna Nowak", "remittanceInformationUnstructured": "Zwrot za bilety",
		}
	}
	redirect := map[string]string{"TPP-Redirect-URI": bgRedirect, "PSU-IP-Address": "192.0.2.1"}
	const path = "/berlingroup/v1/payments/pl-domestic-credit-transfers"

	// Refused before any customer sees them.
	bgRefused(t, "negative amount", demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("-1.00", "PLN"), header: redirect}), 400, "FORMAT_ERROR")
	bgRefused(t, "three decimals", demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("1.001", "PLN"), header: redirect}), 400, "FORMAT_ERROR")
	bgRefused(t, "EUR as a domestic payment", demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("1.00", "EUR"), header: redirect}), 400, "PRODUCT_INVALID")
	bgRefused(t, "unknown product", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/payments/swish", body: pay("1.00", "PLN"), header: redirect}), 404, "PRODUCT_UNKNOWN")
	bgRefused(t, "unknown field", demo.bg(t, api, bgCall{method: "POST", path: path, body: func() map[string]any {
		b := pay("1.00", "PLN")
		b["instructedAmmount"] = 1
		return b
	}(), header: redirect}), 400, "FORMAT_ERROR")
	bgRefused(t, "XML", demo.bg(t, api, bgCall{method: "POST", path: path, header: redirect, tamper: func(r *http.Request) { r.Header.Set("Content-Type", "application/xml") }}),
		415, "FORMAT_ERROR")

	db, err := store.Open(context.Background(), filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counted := func() (total int64) { // the sender's API payments counted towards today's limit
		if err := db.QueryRowContext(context.Background(), `SELECT COALESCE(SUM(total), 0) FROM api_payment_totals WHERE account_nrb = $1`,
			who.Accounts[0].Number).Scan(&total); err != nil {
			t.Fatal(err)
		}
		return total
	}
	counted0 := counted()
	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("12.34", "PLN"), header: redirect}), "initiatePayment", 201, data)
	id := created["paymentId"].(string)
	if created["transactionStatus"] != "RCVD" {
		t.Fatalf("initiation: %v", created)
	}
	status := func() string {
		s := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id + "/status"}), "getPaymentInitiationStatus", 200, data)
		return s["transactionStatus"].(string)
	}
	if st := status(); st != "RCVD" {
		t.Fatalf("status before SCA: %s", st)
	}
	page := created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string)
	if back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil); !strings.HasPrefix(back, bgRedirect) {
		t.Fatalf("back to %q", back)
	}
	// Eight status reads at once right after the approval, racing each
	// other (and the bank's own sweep) to initiate it: one payment.
	var wg sync.WaitGroup
	answers := make([]apiAnswer, 8)
	for i := range answers {
		wg.Go(func() { answers[i] = demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id + "/status"}) })
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 {
			t.Fatalf("concurrent status read %d: %d %s", i, a.status, a.body)
		}
	}
	if st := status(); st != "ACCP" && st != "ACSP" && st != "ACSC" {
		t.Fatalf("status after SCA: %s", st)
	}
	if d := counted() - counted0; d != 12_34 {
		t.Fatalf("the customer's limit counted %d grosze for one payment of 12.34", d)
	}
	info := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id}), "getPaymentInformation", 200, data)
	if fmt.Sprint(info["instructedAmount"]) != "map[amount:12.34 currency:PLN]" {
		t.Fatalf("payment: %v", info)
	}
	// No change after consent: the amount or the creditor cannot move.
	bgRefused(t, "PUT a new amount", demo.bg(t, api, bgCall{method: "PUT", path: path + "/" + id, body: pay("1234.00", "PLN")}), 405, "SERVICE_INVALID")
	bgRefused(t, "PATCH the creditor", demo.bg(t, api, bgCall{method: "PATCH", path: path + "/" + id,
		body: map[string]any{"creditorAccount": map[string]any{"iban": iban(psus[2].Accounts[0].Number)}}}), 405, "SERVICE_INVALID")
	// Reading it twice executes it once.
	status()
	// Approved and never read: the bank initiates it by itself within one
	// background period (5 s), and a read after that finds it, once.
	unread := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("3.21", "PLN"), header: redirect}), "initiatePayment", 201, data)
	uid := unread["paymentId"].(string)
	newBrowser(t, "http://"+p.web).consentBySMS(unread["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	var found, ustatus string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		err := db.QueryRowContext(context.Background(), `SELECT id, status FROM payments WHERE tpp_id = $1 AND tpp_transaction_id = $2`,
			demo.info.TPPID, uid).Scan(&found, &ustatus)
		if err == nil {
			break
		}
	}
	if found == "" {
		t.Fatalf("a payment approved and never read was not initiated by the bank in 20 s")
	}
	if st := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + uid + "/status"}), "getPaymentInitiationStatus", 200, data); st["transactionStatus"] != "ACSC" && st["transactionStatus"] != "ACSP" && st["transactionStatus"] != "ACCP" {
		t.Fatalf("status of the payment the bank initiated: %v", st)
	}
	for _, pid := range []string{id, uid} {
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM payments WHERE tpp_id = $1 AND tpp_transaction_id = $2`, demo.info.TPPID, pid).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d payments for paymentId %s (%v)", n, pid, err)
		}
	}
	// Another TPP knows nothing of it.
	other := filepath.Join(t.TempDir(), "other")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000067", "--name", "Other payer", "--out", other, "--register")
	bgRefused(t, "another TPP's payment", loadTPP(t, other, data).bg(t, api, bgCall{method: "GET", path: path + "/" + id + "/status"}), 404, "RESOURCE_UNKNOWN")
	// EUR products from the EUR account: SEPA, instant SEPA, TARGET2; and
	// SWIFT, which needs the creditor's BIC.
	eur := func(creditor, agent string) map[string]any {
		b := map[string]any{
			"debtorAccount":    map[string]any{"iban": iban(who.Accounts[2].Number)},
			"instructedAmount": map[string]any{"currency": "EUR", "amount": "10.00"},
			"creditorAccount":  map[string]any{"iban": creditor},
			"creditorName":     "Max Mustermann", "remittanceInformationUnstructured": "Invoice 42",
			"creditorAddress": map[string]any{"townName": "Berlin", "country": "DE"},
		}
		if agent != "" {
			b["creditorAgent"] = agent
		}
		return b
	}
	for _, prod := range []string{"sepa-credit-transfers", "instant-sepa-credit-transfers", "target-2-payments"} {
		bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/payments/" + prod, body: eur("DE89370400440532013000", ""), header: redirect}),
			"initiatePayment", 201, data)
	}
	bgRefused(t, "SEPA in PLN", demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/payments/sepa-credit-transfers", body: pay("1.00", "PLN"), header: redirect}),
		400, "PRODUCT_INVALID")
	us := eur("", "")
	us["creditorAccount"] = map[string]any{"bban": "021000021123456789"}
	us["creditorAddress"] = map[string]any{"townName": "New York", "country": "US"}
	a0 := demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/payments/cross-border-credit-transfers", body: us, header: redirect})
	bgRefused(t, "SWIFT without a BIC", a0, 400, "FORMAT_ERROR")
	if !strings.Contains(a0.message, "creditorAgent") {
		t.Fatalf("the refusal does not name creditorAgent: %s", a0.body)
	}
	us["creditorAgent"] = "CHASUS33"
	bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/payments/cross-border-credit-transfers", body: us, header: redirect}), "initiatePayment", 201, data)

	// A periodic payment: checked first, a standing order after SCA,
	// cancelled by DELETE.
	const periodicPath = "/berlingroup/v1/periodic-payments/pl-domestic-credit-transfers"
	periodic := func(start, frequency string) map[string]any {
		b := pay("50.00", "PLN")
		b["startDate"], b["frequency"], b["executionRule"] = start, frequency, "following"
		return b
	}
	tomorrow := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	bgRefused(t, "periodic without a known frequency", demo.bg(t, api, bgCall{method: "POST", path: periodicPath, body: periodic(tomorrow, "Fortnightly"), header: redirect}),
		400, "FORMAT_ERROR")
	a := demo.bg(t, api, bgCall{method: "POST", path: periodicPath, body: periodic("2020-01-01", "Monthly"), header: redirect})
	bgRefused(t, "periodic starting in the past", a, 400, "FORMAT_ERROR")
	if !strings.Contains(a.message, "startDate") {
		t.Fatalf("the refusal does not name startDate: %s", a.body)
	}
	pc := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: periodicPath, body: periodic(tomorrow, "Monthly"), header: redirect}), "initiatePayment", 201, data)
	pid := pc["paymentId"].(string)
	newBrowser(t, "http://"+p.web).consentBySMS(pc["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	ps := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: periodicPath + "/" + pid + "/status"}), "getPaymentInitiationStatus", 200, data)
	if ps["transactionStatus"] != "ACCP" {
		t.Fatalf("standing order after SCA: %v", ps)
	}
	pinfo := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: periodicPath + "/" + pid}), "schema:periodicPaymentInitiationWithStatusResponse", 200, data)
	if pinfo["frequency"] != "Monthly" || pinfo["startDate"] != tomorrow {
		t.Fatalf("periodic payment: %v", pinfo)
	}
	if a := demo.bg(t, api, bgCall{method: "DELETE", path: periodicPath + "/" + pid}); a.status != 204 {
		t.Fatalf("cancel the standing order: %d %s", a.status, a.body)
	}
	if ps := demo.bg(t, api, bgCall{method: "GET", path: periodicPath + "/" + pid + "/status"}).json(t); ps["transactionStatus"] != "CANC" {
		t.Fatalf("standing order after DELETE: %v", ps)
	}
	bgRefused(t, "a periodic payment under the single payments' path", demo.bg(t, api, bgCall{method: "GET", path: path + "/" + pid}), 404, "RESOURCE_UNKNOWN")

	// The customer refuses a payment: the browser goes to
	// TPP-Nok-Redirect-URI and the payment is RJCT.
	nok := "http://127.0.0.1:8765/callback/nok?p=3"
	refused := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("7.00", "PLN"),
		header: map[string]string{"TPP-Redirect-URI": bgRedirect, "TPP-Nok-Redirect-URI": nok}}), "initiatePayment", 201, data)
	br := newBrowser(t, "http://"+p.web)
	rpage := refused["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string)
	u, _ := br.get(rpage)
	br.post(u+"/login", url.Values{"login": {who.Login}, "password": {who.Password}})
	if back, html := br.post(rpage+"/reject", url.Values{}); back != nok {
		t.Fatalf("refusal sent the browser to %q, not TPP-Nok-Redirect-URI (%s)", back, html)
	}
	rs := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + refused["paymentId"].(string) + "/status"}), "getPaymentInitiationStatus", 200, data)
	if rs["transactionStatus"] != "RJCT" {
		t.Fatalf("status after the customer refused: %v", rs)
	}
	bgRefused(t, "a Nok URI the TPP did not register", demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("7.00", "PLN"),
		header: map[string]string{"TPP-Redirect-URI": bgRedirect, "TPP-Nok-Redirect-URI": "https://evil.example/"}}), 400, "FORMAT_ERROR")

	// A payment cancelled before SCA.
	second := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path, body: pay("5.00", "PLN"), header: redirect}), "initiatePayment", 201, data)
	id2 := second["paymentId"].(string)
	if a := demo.bg(t, api, bgCall{method: "DELETE", path: path + "/" + id2}); a.status != 204 {
		t.Fatalf("cancel before SCA: %d %s", a.status, a.body)
	}
	s := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id2 + "/status"}), "getPaymentInitiationStatus", 200, data)
	if s["transactionStatus"] != "CANC" && s["transactionStatus"] != "RJCT" {
		t.Fatalf("status after cancelling before SCA: %v", s)
	}
}

// Bulk payments: refused whole before the customer sees them when a
// transfer is wrong (the refusal names it); after one SCA the transfers
// are initiated together; a transfer the ledger refuses (no funds) leaves
// the bulk PART with a message naming it; every 2xx body valid against
// the official file.
func bgBulk(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	psus := readPSUs(t, data)
	who := psus[0]
	transfer := func(amount, creditor, title string) map[string]any {
		return map[string]any{"instructedAmount": map[string]any{"currency": "PLN", "amount": amount},
			"creditorAccount": map[string]any{"iban": creditor}, "creditorName": "Anna Nowak", "remittanceInformationUnstructured": title}
	}
	bulk := func(transfers ...map[string]any) map[string]any {
		return map[string]any{"batchBookingPreferred": true, "debtorAccount": map[string]any{"iban": iban(who.Accounts[0].Number)},
			"payments": transfers}
	}
	redirect := map[string]string{"TPP-Redirect-URI": bgRedirect, "PSU-IP-Address": "192.0.2.1"}
	const path = "/berlingroup/v1/bulk-payments/pl-domestic-credit-transfers"
	to1, to2 := iban(psus[1].Accounts[0].Number), iban(psus[2].Accounts[0].Number)

	bgRefused(t, "an empty bulk", demo.bg(t, api, bgCall{method: "POST", path: path, body: bulk(), header: redirect}), 400, "FORMAT_ERROR")
	bad := demo.bg(t, api, bgCall{method: "POST", path: path, body: bulk(transfer("1.00", to1, "a"), transfer("1.001", to2, "b")), header: redirect})
	bgRefused(t, "a bulk with a wrong amount", bad, 400, "FORMAT_ERROR")
	if !strings.Contains(bad.message, "payments[1]") {
		t.Fatalf("the refusal does not name the transfer: %s", bad.body)
	}
	bgRefused(t, "a bulk in EUR as domestic", demo.bg(t, api, bgCall{method: "POST", path: path, body: func() map[string]any {
		b := bulk(transfer("1.00", to1, "a"))
		b["payments"].([]map[string]any)[0]["instructedAmount"] = map[string]any{"currency": "EUR", "amount": "1.00"}
		return b
	}(), header: redirect}), 400, "PRODUCT_INVALID")
	bgRefused(t, "a bulk with a field of single payments", demo.bg(t, api, bgCall{method: "POST", path: path, body: func() map[string]any {
		b := bulk(transfer("1.00", to1, "a"))
		b["payments"].([]map[string]any)[0]["debtorAccount"] = map[string]any{"iban": to2}
		return b
	}(), header: redirect}), 400, "FORMAT_ERROR")

	// Two transfers; the second is more than the account holds.
	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path,
		body: bulk(transfer("3.21", to1, "Bulk one"), transfer("99999999.00", to2, "Bulk two")), header: redirect}), "initiatePayment", 201, data)
	id := created["paymentId"].(string)
	status := func() map[string]any {
		return bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id + "/status"}), "getPaymentInitiationStatus", 200, data)
	}
	if st := status(); st["transactionStatus"] != "RCVD" {
		t.Fatalf("bulk before SCA: %v", st)
	}
	page := created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string)
	br := newBrowser(t, "http://"+p.web)
	u, _ := br.get(page)
	br.post(u+"/login", url.Values{"login": {who.Login}, "password": {who.Password}})
	if _, html := br.get(page); !strings.Contains(html, "Bulk one") || !strings.Contains(html, "Bulk two") {
		t.Fatalf("the consent page does not show both transfers: %s", html)
	}
	if back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil); !strings.HasPrefix(back, bgRedirect) {
		t.Fatalf("back to %q", back)
	}
	st := status()
	if st["transactionStatus"] != "PART" || !strings.Contains(fmt.Sprint(st["tppMessages"]), "payments[1]") {
		t.Fatalf("bulk with a transfer refused: %v", st)
	}
	info := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id}), "schema:bulkPaymentInitiationWithStatusResponse", 200, data)
	if info["transactionStatus"] != "PART" || len(info["payments"].([]any)) != 2 || info["batchBookingPreferred"] != true {
		t.Fatalf("bulk payment: %v", info)
	}
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path + "/" + id}), "getPaymentInformation", 200, data)
	// Read again: initiated once.
	if st := status(); st["transactionStatus"] != "PART" {
		t.Fatalf("bulk read again: %v", st)
	}
	bgRefused(t, "a bulk under the single payments' path", demo.bg(t, api, bgCall{method: "GET",
		path: "/berlingroup/v1/payments/pl-domestic-credit-transfers/" + id}), 404, "RESOURCE_UNKNOWN")

	// A bulk that all goes through, then cannot be cancelled.
	ok := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path,
		body: bulk(transfer("1.11", to1, "Bulk three"), transfer("2.22", to2, "Bulk four")), header: redirect}), "initiatePayment", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(ok["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	okPath := path + "/" + ok["paymentId"].(string)
	if st := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: okPath + "/status"}), "getPaymentInitiationStatus", 200, data); st["transactionStatus"] == "PART" ||
		st["transactionStatus"] == "RJCT" {
		t.Fatalf("a bulk that goes through: %v", st)
	}
	bgRefused(t, "cancel an executed bulk", demo.bg(t, api, bgCall{method: "DELETE", path: okPath}), 400, "CANCELLATION_INVALID")
}

// TPP-Explicit-Authorisation-Preferred: true — the consent and the payment
// are created without their authorisation: no scaRedirect, no push to the
// mobile app, no authorisation listed; the TPP starts it with POST
// .../authorisations, and only then is the customer asked.
func bgExplicit(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	psus := readPSUs(t, data)
	who := psus[0]
	acct := []map[string]any{{"iban": iban(who.Accounts[0].Number)}}
	explicit := map[string]string{"TPP-Redirect-URI": bgRedirect, "TPP-Explicit-Authorisation-Preferred": "true"}
	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body: bgConsentBody(map[string]any{"accounts": acct}), header: explicit}), "createConsent", 201, data)
	links := created["_links"].(map[string]any)
	start, _ := links["startAuthorisation"].(map[string]any)["href"].(string)
	if start == "" || links["scaRedirect"] != nil || links["scaStatus"] != nil {
		t.Fatalf("explicit start: links %v", links)
	}
	list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: start}), "getConsentAuthorisation", 200, data)
	if n := len(list["authorisationIds"].([]any)); n != 0 {
		t.Fatalf("an authorisation before the TPP started one: %v", list)
	}
	started := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: start, body: map[string]any{}}), "startConsentAuthorisation", 201, data)
	page, _ := started["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string)
	if started["scaStatus"] != "received" || page == "" || started["authorisationId"] == "" {
		t.Fatalf("started: %v", started)
	}
	newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
	if st := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/consents/" + created["consentId"].(string) + "/status"}),
		"getConsentStatus", 200, data); st["consentStatus"] != "valid" {
		t.Fatalf("after the explicit authorisation: %v", st)
	}

	// Decoupled and explicit: nothing reaches the mobile app before the start.
	payer := psus[2]
	const path = "/berlingroup/v1/payments/pl-domestic-credit-transfers"
	pc := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: path, body: map[string]any{
		"debtorAccount":    map[string]any{"iban": iban(payer.Accounts[0].Number)},
		"instructedAmount": map[string]any{"currency": "PLN", "amount": "4.56"},
		"creditorAccount":  map[string]any{"iban": iban(psus[1].Accounts[0].Number)}, "creditorName": "Anna Nowak", "remittanceInformationUnstructured": "Explicit",
	}, header: map[string]string{"TPP-Redirect-Preferred": "false", "PSU-ID": payer.Login, "TPP-Explicit-Authorisation-Preferred": "true"}}),
		"initiatePayment", 201, data)
	approve := func() int {
		res, err := http.Post("http://"+p.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+payer.Login+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := approve(); code == 200 {
		t.Fatal("the mobile app was asked before the TPP started the authorisation")
	}
	pstart := pc["_links"].(map[string]any)["startAuthorisation"].(map[string]any)["href"].(string)
	ps := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: pstart, body: map[string]any{}}), "startPaymentAuthorisation", 201, data)
	scaLink := ps["_links"].(map[string]any)["scaStatus"].(map[string]any)["href"].(string)
	if code := approve(); code != 200 {
		t.Fatalf("mobile approve after the start: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sca := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: scaLink}), "getPaymentInitiationScaStatus", 200, data)
		if sca["scaStatus"] == "finalised" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scaStatus still %v", sca)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The authorisation is finalised: another start is refused.
	bgRefused(t, "a start after the authorisation", demo.bg(t, api, bgCall{method: "POST", path: pstart, body: map[string]any{}}), 409, "STATUS_INVALID")
}

// Reads without the customer are counted per calendar day in Warsaw by
// the bank's clock: with frequencyPerDay 1 the second read is refused
// with the time of the next one (midnight in Warsaw); once the sandbox's
// clock reaches it, a read goes again — less than 24 hours after the
// first — and the next is refused again.
func bgCalendarDay(t *testing.T, p *sandboxProc, data string) {
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[0]
	acct := []map[string]any{{"iban": iban(who.Accounts[0].Number)}}
	body := bgConsentBody(map[string]any{"balances": acct})
	body["frequencyPerDay"] = 1
	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents", body: body,
		header: map[string]string{"TPP-Redirect-URI": bgRedirect}}), "createConsent", 201, data)
	newBrowser(t, "http://"+p.web).consentBySMS(created["_links"].(map[string]any)["scaRedirect"].(map[string]any)["href"].(string), who, nil)
	cid := created["consentId"].(string)
	list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts",
		header: map[string]string{"Consent-ID": cid, "PSU-IP-Address": "192.0.2.1"}}), "getAccountList", 200, data)
	balances := "/berlingroup/v1/accounts/" + list["accounts"].([]any)[0].(map[string]any)["resourceId"].(string) + "/balances"
	unattended := map[string]string{"Consent-ID": cid}
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: balances, header: unattended}), "getBalances", 200, data)
	second := demo.bg(t, api, bgCall{method: "GET", path: balances, header: unattended})
	bgRefused(t, "the second read of the day", second, 429, "ACCESS_EXCEEDED")
	_, at, _ := strings.Cut(second.message, "next read allowed at ")
	next, err := time.Parse(time.RFC3339, strings.Fields(at + " ")[0])
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	if err != nil || next.In(warsaw).Hour() != 0 || next.In(warsaw).Minute() != 0 {
		t.Fatalf("the refusal does not name midnight in Warsaw: %v %s", err, second.body)
	}
	res, err := http.Post("http://"+p.web+"/sandbox/clock", "application/json", strings.NewReader(`{"set":"`+next.Format(time.RFC3339)+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("move the clock: %v %v", res, err)
	}
	res.Body.Close()
	bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: balances, header: unattended}), "getBalances", 200, data)
	bgRefused(t, "the second read of the new day", demo.bg(t, api, bgCall{method: "GET", path: balances, header: unattended}), 429, "ACCESS_EXCEEDED")
}
