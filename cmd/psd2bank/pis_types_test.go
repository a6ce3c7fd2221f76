package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

const otherBankNRB = "61109010140000071219812874"

// sandboxPSU is a customer of psus.json with what the payment tests need.
type sandboxPSU struct {
	Login, Segment, NIP string
	Accounts            []struct{ Number, Currency string }
}

// customers reads psus.json: the pisFlow's psu and the richer record, by
// login.
func customers(t *testing.T, data string) (map[string]psu, map[string]sandboxPSU) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rich []sandboxPSU
	if err := json.Unmarshal(raw, &rich); err != nil {
		t.Fatal(err)
	}
	byLogin, richBy := map[string]psu{}, map[string]sandboxPSU{}
	for i, p := range readPSUs(t, data) {
		byLogin[p.Login], richBy[p.Login] = p, rich[i]
	}
	return byLogin, richBy
}

// account is the first account of p in currency.
func (p sandboxPSU) account(t *testing.T, currency string) string {
	t.Helper()
	for _, a := range p.Accounts {
		if a.Currency == currency {
			return a.Number
		}
	}
	t.Fatalf("%s has no %s account", p.Login, currency)
	return ""
}

// as is the flow of another customer of the same sandbox.
func (f *pisFlow) as(who psu) *pisFlow {
	return &pisFlow{t: f.t, api: f.api, web: f.web, demo: f.demo, who: who, refresh: f.refresh}
}

// polishPay obtains a single-use consent for pay (privilege priv) and
// initiates it at endpoint (domestic, EEA, nonEEA, tax). It returns the
// token and the answer.
func (f *pisFlow) polishPay(priv, endpoint string, pay map[string]any, show ...string) (string, apiAnswer) {
	f.t.Helper()
	p := map[string]any{"scopeUsageLimit": "single"}
	maps.Copy(p, pay)
	token := f.token("polishapi", []map[string]any{{priv: p}}, show...)
	body := map[string]any{"tppTransactionId": uuid.NewString()}
	maps.Copy(body, pay)
	return token, f.demo.call(f.t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/"+endpoint, body, token)
}

// settle moves the clock a day at a time (renewing the token) until read
// says want, at most days times; it returns the token and the last status.
func (f *pisFlow) settle(token, want string, days int, read func(token string) string) (string, string) {
	f.t.Helper()
	st := read(token)
	for i := 0; i < days && st != want; i++ {
		f.advance("26h")
		token = f.renew(token)
		st = read(token)
	}
	return token, st
}

// mrenew is renew for an mBank token.
func (f *pisFlow) mrenew(token string) string {
	f.t.Helper()
	a := f.demo.call(f.t, f.api, "POST", "/pl-retail/v3/auth/token", map[string]any{
		"grant_type": "refresh_token", "refresh_token": f.refresh[token], "client_id": f.demo.info.ClientID,
	}, "")
	access, _ := a.json(f.t)["access_token"].(string)
	if a.status != 200 || access == "" {
		f.t.Fatalf("mBank refresh_token: %d %s", a.status, a.body)
	}
	if f.refresh[access], _ = a.json(f.t)["refresh_token"].(string); f.refresh[access] == "" {
		f.refresh[access] = f.refresh[token]
	}
	return access
}

// mstatus reads an mBank status link.
func (f *pisFlow) mstatus(token, href string) string {
	f.t.Helper()
	a := f.demo.mbankSend(f.t, f.api, "GET", href, nil, token, nil)
	if a.status != 200 {
		f.t.Fatalf("mBank status %s: %d %s", href, a.status, a.body)
	}
	s, _ := a.json(f.t)["status"].(string)
	return s
}

// link is the first status link of an mBank answer.
func link(t *testing.T, a apiAnswer) string {
	t.Helper()
	var m struct{ Links []struct{ Href string } }
	json.Unmarshal(a.body, &m)
	if len(m.Links) == 0 {
		t.Fatalf("no status link: %s", a.body)
	}
	return m.Links[0].Href
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// Every payment type and status path through the sandbox over mTLS, in
// both dialects, with the sandbox clock: tax to the firm's tax
// micro-account, SEPA from the EUR account, SWIFT, Express Elixir (done at
// once), SORBNET from the corporate customer, PolishAPI and mBank bundles,
// PolishAPI and mBank recurring payments (occurrences as the clock passes
// their dates, then cancelled), a payment rejected for lack of funds, a
// cancelled one, and an mBank payment with `sender: {}` paid from the account
// the customer chose on the consent page. The ledger's invariants hold
// afterwards.
func TestPISEveryType(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end test")
	}
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	psus, rich := customers(t, data)
	jan, anna := rich["jan.kowalski"], rich["anna.nowak"]
	f := &pisFlow{t: t, api: "https://" + p.api, web: "http://" + p.web,
		demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data), who: psus["jan.kowalski"], refresh: map[string]string{}}
	janPLN, janEUR, annaPLN := jan.account(t, "PLN"), jan.account(t, "EUR"), anna.account(t, "PLN")
	name := func(s string) map[string]any { return map[string]any{"value": []string{s}} }
	getPayment := func(id string) func(string) string {
		return func(token string) string { return f.status(token, id) }
	}
	var recurringIDs []string // to count their occurrences afterwards

	t.Run("tax", func(t *testing.T) {
		firm := rich["kwiaciarnia.roza"]
		micro, err := polish.TaxMicroAccount(polish.TaxIDNIP, firm.NIP)
		if err != nil {
			t.Fatal(err)
		}
		ff := f.as(psus[firm.Login])
		now := f.now().In(polish.Warsaw)
		last := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, polish.Warsaw).AddDate(0, -1, 0) // VAT for last month
		token, a := ff.polishPay("pis:tax", "tax", map[string]any{
			"recipient":    map[string]any{"accountNumber": micro, "nameAddress": name("Urząd Skarbowy")},
			"sender":       map[string]any{"accountNumber": firm.account(t, "PLN")},
			"transferData": map[string]any{"amount": "321.00", "currency": "PLN"},
			"usInfo": map[string]any{"payerInfo": map[string]any{"payorId": firm.NIP, "payorIdType": "N"}, "formCode": "VAT-7",
				"year": last.Year(), "periodType": "M", "periodId": fmt.Sprintf("%02d", int(last.Month()))},
			"deliveryMode": "StandardD1", "system": "Elixir",
		}, "Urząd Skarbowy")
		if a.status != 200 || str(a.json(t), "generalStatus") != "pending" {
			t.Fatalf("tax: %d %s", a.status, a.body)
		}
		if _, st := ff.settle(token, "done", 6, getPayment(str(a.json(t), "paymentId"))); st != "done" {
			t.Fatalf("the tax payment is %s, want done", st)
		}
	})

	t.Run("EEA", func(t *testing.T) {
		token, a := f.polishPay("pis:EEA", "EEA", map[string]any{
			"recipient":    map[string]any{"accountNumber": "DE89370400440532013000", "nameAddress": name("Hans Müller"), "countryCode": "DEU"},
			"sender":       map[string]any{"accountNumber": janEUR},
			"transferData": map[string]any{"description": "Miete", "amount": "99.99", "currency": "EUR"},
			"deliveryMode": "StandardD1", "system": "SEPA",
		}, "Hans Müller")
		if a.status != 200 || str(a.json(t), "generalStatus") != "pending" {
			t.Fatalf("EEA: %d %s", a.status, a.body)
		}
		if _, st := f.settle(token, "done", 6, getPayment(str(a.json(t), "paymentId"))); st != "done" {
			t.Fatalf("the SEPA payment is %s, want done", st)
		}
	})

	t.Run("nonEEA", func(t *testing.T) {
		token, a := f.polishPay("pis:nonEEA", "nonEEA", map[string]any{
			"recipient":       map[string]any{"accountNumber": "123456789", "nameAddress": name("John Smith"), "countryCode": "USA"},
			"recipientBank":   map[string]any{"bicOrSwift": "CHASUS33", "name": "JPMorgan Chase"},
			"sender":          map[string]any{"accountNumber": janEUR},
			"transferData":    map[string]any{"description": "Invoice 7", "amount": "50.00", "currency": "EUR"},
			"transferCharges": "SHA", "deliveryMode": "StandardD2", "system": "Swift",
		}, "John Smith")
		if a.status != 200 || str(a.json(t), "generalStatus") != "pending" {
			t.Fatalf("nonEEA: %d %s", a.status, a.body)
		}
		if _, st := f.settle(token, "done", 6, getPayment(str(a.json(t), "paymentId"))); st != "done" {
			t.Fatalf("the SWIFT payment is %s, want done", st)
		}
	})

	t.Run("Express Elixir", func(t *testing.T) {
		_, a := f.polishPay("pis:domestic", "domestic", map[string]any{
			"recipient":    map[string]any{"accountNumber": otherBankNRB, "nameAddress": name("Szybki Odbiorca")},
			"sender":       map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Pilne", "amount": "20.00", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "ExpressElixir",
		})
		if a.status != 200 || str(a.json(t), "generalStatus") != "done" {
			t.Fatalf("Express Elixir: %d %s", a.status, a.body)
		}
	})

	t.Run("Sorbnet", func(t *testing.T) {
		corp := rich["budowa.polska"]
		cf := f.as(psus[corp.Login])
		token, a := cf.polishPay("pis:domestic", "domestic", map[string]any{
			"recipient":    map[string]any{"accountNumber": otherBankNRB, "nameAddress": name("Dostawca Stali S.A.")},
			"sender":       map[string]any{"accountNumber": corp.account(t, "PLN")},
			"transferData": map[string]any{"description": "Faktura FV/1/2026", "amount": "1000000.00", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "Sorbnet",
		})
		if a.status != 200 {
			t.Fatalf("Sorbnet: %d %s", a.status, a.body)
		}
		// Done at once in SORBNET's hours on a business day, else at its next opening.
		if st := str(a.json(t), "generalStatus"); st != "done" && st != "pending" {
			t.Fatalf("Sorbnet: %s", a.body)
		}
		if _, st := cf.settle(token, "done", 6, getPayment(str(a.json(t), "paymentId"))); st != "done" {
			t.Fatalf("the SORBNET payment is %s, want done", st)
		}
	})

	t.Run("PolishAPI bundle", func(t *testing.T) {
		internal := map[string]any{
			"recipient":    map[string]any{"accountNumber": annaPLN, "nameAddress": name("Anna Nowak")},
			"sender":       map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Zwrot 1", "amount": "1.00", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "Internal",
		}
		elixir := map[string]any{
			"recipient":    map[string]any{"accountNumber": otherBankNRB, "nameAddress": name("Zakład Energetyczny")},
			"sender":       map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Prąd", "amount": "2.00", "currency": "PLN"},
			"deliveryMode": "StandardD1", "system": "Elixir",
		}
		priv := map[string]any{"scopeUsageLimit": "single", "transfersTotalAmount": "3.00", "typeOfTransfers": "domestic",
			"domesticTransfers": []any{internal, elixir}}
		token := f.token("polishapi", []map[string]any{{"pis:bundle": priv}})
		withKey := func(m map[string]any) map[string]any {
			c := maps.Clone(m)
			c["tppTransactionId"] = uuid.NewString()
			return c
		}
		a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/bundle", map[string]any{"tppBundleId": uuid.NewString(),
			"transfersTotalAmount": "3.00", "typeOfTransfers": "domestic", "domesticTransfers": []any{withKey(internal), withKey(elixir)}}, token)
		if a.status != 200 || str(a.json(t), "bundleStatus") != "inProgress" {
			t.Fatalf("bundle: %d %s", a.status, a.body)
		}
		id := str(a.json(t), "bundleId")
		getBundle := func(token string) string {
			a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getBundle", map[string]any{"bundleId": id, "transactionsIncluded": true}, token)
			if a.status != 200 {
				t.Fatalf("getBundle: %d %s", a.status, a.body)
			}
			return str(a.json(t), "bundleStatus")
		}
		if _, st := f.settle(token, "done", 6, getBundle); st != "done" {
			t.Fatalf("the bundle is %s, want done", st)
		}
	})

	t.Run("mBank bundle", func(t *testing.T) {
		tr := func(amount, system, to string) map[string]any {
			return map[string]any{"tppPaymentId": uuid.NewString(),
				"recipient": map[string]any{"accountNumber": to, "name": "Odbiorca " + amount}, "sender": map[string]any{"accountNumber": janPLN},
				"transferData": map[string]any{"description": "Paczka " + amount, "amount": amount, "currency": "PLN"},
				"deliveryMode": "STANDARD_D1", "system": system}
		}
		bundle := map[string]any{"transfersTotalAmount": "3.00", "transfers": []any{tr("1.00", "INTERNAL", annaPLN), tr("2.00", "ELIXIR", otherBankNRB)}}
		token := f.token("mbank", []map[string]any{{"pis:bundle-domestic": map[string]any{"scopeUsageLimit": "SINGLE", "bundleDomesticPaymentsRequest": bundle}}})
		a := f.demo.mbankSend(t, f.api, "POST", "/pl-retail/v3/payments/bundle/domestic", bundle, token, map[string]string{"TPP-Bundle-ID": uuid.NewString()})
		if a.status != 201 || str(a.json(t), "status") != "IN_PROGRESS" {
			t.Fatalf("mBank bundle: %d %s", a.status, a.body)
		}
		href := link(t, a)
		st := f.mstatus(token, href)
		for i := 0; i < 6 && st != "DONE"; i++ {
			f.advance("26h")
			token = f.mrenew(token)
			st = f.mstatus(token, href)
		}
		if st != "DONE" {
			t.Fatalf("the mBank bundle is %s, want DONE", st)
		}
	})

	t.Run("PolishAPI recurring", func(t *testing.T) {
		start := f.now().In(polish.Warsaw).AddDate(0, 0, 1)
		pay := map[string]any{
			"recipient":    map[string]any{"accountNumber": annaPLN, "nameAddress": name("Anna Nowak")},
			"sender":       map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Kieszonkowe", "amount": "1.50", "currency": "PLN"},
			"deliveryMode": "StandardD1", "system": "Internal",
		}
		rec := map[string]any{"typeOfPayment": "domestic", "domesticPayment": pay,
			"recurrence": map[string]any{"startDate": start.Format(time.DateOnly), "frequency": map[string]any{"periodType": "day", "periodValue": 1},
				"endDate": start.AddDate(0, 0, 30).Format(time.DateOnly), "dayOffOffsetType": "after"}}
		token := f.token("polishapi", []map[string]any{{"pis:recurring": rec}}, "Kieszonkowe")
		body := maps.Clone(rec)
		body["tppRecurringPaymentId"] = uuid.NewString()
		a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/recurring", body, token)
		if a.status != 200 || str(a.json(t), "recurringPaymentStatus") != "submitted" {
			t.Fatalf("recurring: %d %s", a.status, a.body)
		}
		id := str(a.json(t), "recurringPaymentId")
		recurringIDs = append(recurringIDs, id)
		getRecurring := func(token string) string {
			a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getRecurringPayment", map[string]any{"recurringPaymentId": id}, token)
			if a.status != 200 {
				t.Fatalf("getRecurringPayment: %d %s", a.status, a.body)
			}
			return str(a.json(t), "recurringPaymentStatus")
		}
		if _, st := f.settle(token, "inProgress", 7, getRecurring); st != "inProgress" {
			t.Fatalf("the recurring payment is %s after its start date, want inProgress", st)
		}
		ct := f.token("polishapi", []map[string]any{{"pis:cancelRecurringPayment": map[string]any{"scopeUsageLimit": "single", "recurringPaymentId": id}}})
		c := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/cancelRecurringPayment", map[string]any{"recurringPaymentId": id}, ct)
		if c.status != 200 || str(c.json(t), "recurringPaymentStatus") != "cancelled" {
			t.Fatalf("cancelRecurringPayment: %d %s", c.status, c.body)
		}
	})

	t.Run("mBank recurring", func(t *testing.T) {
		start := f.now().In(polish.Warsaw).AddDate(0, 0, 1)
		pay := map[string]any{
			"recipient": map[string]any{"accountNumber": annaPLN, "name": "Anna Nowak"},
			"sender":    map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Abonament", "amount": "2.50", "currency": "PLN",
				"recurrence": map[string]any{"startDate": start.Format(time.DateOnly), "frequency": map[string]any{"periodType": "DAY", "periodValue": 1},
					"endDate": start.AddDate(0, 0, 30).Format(time.DateOnly), "dayOffOffsetType": "AFTER"}},
			"deliveryMode": "STANDARD_D1", "system": "INTERNAL", "executionMode": "RECURRING",
		}
		token := f.token("mbank", []map[string]any{{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": pay}}}, "Abonament")
		a := f.demo.mbankSend(t, f.api, "POST", "/pl-retail/v3/payments/domestic", pay, token, map[string]string{"TPP-Payment-ID": uuid.NewString()})
		if a.status != 201 || str(a.json(t), "executionMode") != "RECURRING" || str(a.json(t), "status") != "SUBMITTED" {
			t.Fatalf("mBank recurring: %d %s", a.status, a.body)
		}
		id, href := str(a.json(t), "aspspPaymentId"), link(t, a)
		recurringIDs = append(recurringIDs, id)
		st := f.mstatus(token, href)
		for i := 0; i < 7 && st != "INPROGRESS"; i++ {
			f.advance("26h")
			token = f.mrenew(token)
			st = f.mstatus(token, href)
		}
		if st != "INPROGRESS" {
			t.Fatalf("the mBank recurring payment is %s after its start date, want INPROGRESS", st)
		}
		ct := f.token("mbank", []map[string]any{{"pis:cancelPayment": map[string]any{"scopeUsageLimit": "SINGLE", "aspspPaymentId": id}}})
		c := f.demo.mbankSend(t, f.api, "DELETE", href, nil, ct, nil)
		if c.status != 200 || str(c.json(t), "status") != "CANCELLED" {
			t.Fatalf("mBank DELETE of the recurring payment: %d %s", c.status, c.body)
		}
	})

	t.Run("rejected for lack of funds", func(t *testing.T) {
		poor := f.as(psus["piotr.wisniewski"])
		key := uuid.NewString()
		pay := map[string]any{
			"recipient":    map[string]any{"accountNumber": annaPLN, "nameAddress": name("Anna Nowak")},
			"sender":       map[string]any{"accountNumber": rich["piotr.wisniewski"].account(t, "PLN")},
			"transferData": map[string]any{"description": "Za dużo", "amount": "999999.00", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "Internal",
		}
		p := map[string]any{"scopeUsageLimit": "single"}
		maps.Copy(p, pay)
		token := poor.token("polishapi", []map[string]any{{"pis:domestic": p}})
		body := map[string]any{"tppTransactionId": key}
		maps.Copy(body, pay)
		a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token)
		if a.status != 422 || a.code != "INSUFFICIENT_FUNDS" {
			t.Fatalf("a payment beyond the balance: %d %s", a.status, a.body)
		}
		g := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getPayment", map[string]any{"tppTransactionId": key}, token)
		if g.status != 200 || str(g.json(t), "generalStatus") != "rejected" {
			t.Fatalf("the refused payment: %d %s", g.status, g.body)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		pay := map[string]any{
			"recipient": map[string]any{"accountNumber": annaPLN, "name": "Anna Nowak"},
			"sender":    map[string]any{"accountNumber": janPLN},
			"transferData": map[string]any{"description": "Na później", "amount": "3.00", "currency": "PLN",
				"executionDate": f.now().In(polish.Warsaw).AddDate(0, 0, 5).Format(time.DateOnly)},
			"deliveryMode": "STANDARD_D1", "system": "INTERNAL",
		}
		token := f.token("mbank", []map[string]any{{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": pay}}})
		a := f.demo.mbankSend(t, f.api, "POST", "/pl-retail/v3/payments/domestic", pay, token, map[string]string{"TPP-Payment-ID": uuid.NewString()})
		if a.status != 201 || str(a.json(t), "status") != "SCHEDULED" {
			t.Fatalf("future-dated mBank payment: %d %s", a.status, a.body)
		}
		id, href := str(a.json(t), "aspspPaymentId"), link(t, a)
		ct := f.token("mbank", []map[string]any{{"pis:cancelPayment": map[string]any{"scopeUsageLimit": "SINGLE", "aspspPaymentId": id}}})
		if c := f.demo.mbankSend(t, f.api, "DELETE", href, nil, ct, nil); c.status != 200 || str(c.json(t), "status") != "CANCELLED" {
			t.Fatalf("DELETE: %d %s", c.status, c.body)
		}
		if st := f.mstatus(token, href); st != "CANCELLED" {
			t.Fatalf("the cancelled payment is %s", st)
		}
	})

	// mBank's collection sends `sender: {}`: the customer chooses the account
	// on the consent page (token() picks the first), and it pays from there.
	var senderless string
	t.Run("mBank sender chosen on the consent page", func(t *testing.T) {
		pay := map[string]any{
			"recipient":    map[string]any{"accountNumber": otherBankNRB, "name": "Jan Kowalski"},
			"sender":       map[string]any{},
			"transferData": map[string]any{"description": "Bez nadawcy", "amount": "0.02", "currency": "PLN"},
			"deliveryMode": "STANDARD_D1", "system": "ELIXIR",
		}
		token := f.token("mbank", []map[string]any{{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": pay}}},
			`type="radio"`, "Bez nadawcy")
		a := f.demo.mbankSend(t, f.api, "POST", "/pl-retail/v3/payments/domestic", pay, token, map[string]string{"TPP-Payment-ID": uuid.NewString()})
		if a.status != 201 || str(a.json(t), "status") != "PENDING" {
			t.Fatalf("mBank payment with sender {}: %d %s", a.status, a.body)
		}
		senderless = str(a.json(t), "aspspPaymentId")
	})

	p.stop()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := ledger.New(db, clock.System{})
	if err := l.CheckInvariants(ctx); err != nil {
		t.Errorf("ledger invariants broken:\n%v", err)
	}
	svc := payment.New(payment.Config{DB: db, Ledger: l})
	for _, id := range recurringIDs {
		occ, err := svc.Occurrences(ctx, id)
		if err != nil || len(occ) == 0 {
			t.Errorf("recurring payment %s: %d occurrences, %v", id, len(occ), err)
		}
		for _, o := range occ {
			if o.Status != payment.StatusDone && o.Status != payment.StatusCancelled && o.Status != payment.StatusScheduled {
				t.Errorf("occurrence %s of %s is %s", o.ID, id, o.Status)
			}
		}
	}
	if senderless != "" {
		if pay, err := svc.Get(ctx, senderless); err != nil || pay.SenderAccount != f.who.Accounts[0].Number {
			t.Errorf("the senderless payment is debited from %q (%v), want the chosen %s", pay.SenderAccount, err, f.who.Accounts[0].Number)
		}
	}
}
