package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// The account holder's control, seen by a TPP: a blocked account's data is
// refused on the very next call while the token and consent stand, the
// other accounts keep working, and a consent the customer revoked is refused
// as revoked.
func TestAccountHolderControlSeenByTPP(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	var who psu
	for _, u := range readPSUs(t, data) {
		if u.Login == "budowa.polska" { // a corporate customer: blocks and activates API access itself
			who = u
		}
	}
	a, b := who.Accounts[1].Number, who.Accounts[0].Number
	auth := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais", "state": "st-a",
		"scope_details": scopeDetails("ais", []map[string]any{
			{"accountNumber": a, "ais:getAccount": map[string]any{"scopeUsageLimit": "multiple"}},
			{"accountNumber": b, "ais:getAccount": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}, "")
	page, _ := auth.json(t)["aspspRedirectUri"].(string)
	code := codeFrom(t, newBrowser(t, "http://"+p.web).consentBySMS(page, who, []string{a, b}), "st-a")
	tok := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
	}, "")
	access_, _ := tok.json(t)["access_token"].(string)
	get := func(nrb string) apiAnswer {
		return demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccount", map[string]any{"accountNumber": nrb}, access_)
	}
	if r := get(a); r.status != 200 {
		t.Fatalf("getAccount before blocking: %d %s", r.status, r.body)
	}

	// The customer blocks API access to account a (in internet banking,
	// confirmed with SCA; here straight through the access service on the
	// bank's database, as the page does after SCA).
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := ledger.New(db, clock.System{})
	cust, err := l.CustomerByLogin(ctx, who.Login)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := access.New(db, l, clock.System{}).ChangeByCustomer(ctx, cust.ID, a, access.Blocked, "sms", "test: block"); err != nil {
		t.Fatal(err)
	}
	if r := get(a); r.status != 403 || r.code != "ACCESS_BLOCKED" {
		t.Fatalf("getAccount on a blocked account: %d %s", r.status, r.body)
	}
	if r := get(b); r.status != 200 {
		t.Fatalf("getAccount on the other account: %d %s", r.status, r.body)
	}

	// The customer revokes the consent: the TPP's next call is refused as revoked.
	var consentID string
	if err := db.QueryRowContext(ctx, `SELECT id FROM consents WHERE customer_id = $1 AND status = 'authorised' ORDER BY created_at DESC LIMIT 1`,
		cust.ID).Scan(&consentID); err != nil {
		t.Fatal(err)
	}
	if _, err := consent.New(db, clock.System{}).Revoke(ctx, consentID, "psu", "customer revoked it in internet banking"); err != nil {
		t.Fatal(err)
	}
	if r := get(b); r.status != 403 || r.code != "CONSENT_REVOKED" {
		t.Fatalf("a call under a revoked consent: %d %s", r.status, r.body)
	}

	// Payments: the customer's limit for one-off API payments from b is
	// 100.00 per payment; a consented payment of 150.00 is refused naming
	// the limit, and from the blocked account a is refused as blocked.
	acc := access.New(db, l, clock.System{})
	if _, err := acc.SetLimits(ctx, cust.ID, b, access.OneOff, 100_00, 0, "sms"); err != nil {
		t.Fatal(err)
	}
	f := &pisFlow{t: t, api: api, web: "http://" + p.web, demo: demo, refresh: map[string]string{}}
	pay := func(from, amount string) apiAnswer {
		order := map[string]any{
			"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Dostawca Sp. z o.o."}}},
			"sender":       map[string]any{"accountNumber": from},
			"transferData": map[string]any{"description": "Faktura 7/2026", "amount": amount, "currency": "PLN"},
			"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
		}
		priv := map[string]any{"scopeUsageLimit": "single"}
		for k, v := range order {
			priv[k] = v
		}
		f.who = who
		f.who.Accounts = nil
		for _, acct := range who.Accounts {
			if acct.Number == from {
				f.who.Accounts = append(f.who.Accounts, acct)
			}
		}
		token := f.token("polishapi", []map[string]any{{"pis:domestic": priv}})
		order["tppTransactionId"] = uuid.NewString()
		return demo.call(t, api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", order, token)
	}
	// The bank refuses them when the TPP asks for the consent (the customer
	// is known in the decoupled flow), before the customer is asked.
	ask := func(from, amount string) apiAnswer {
		priv := map[string]any{"scopeUsageLimit": "single",
			"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Dostawca Sp. z o.o."}}},
			"sender":       map[string]any{"accountNumber": from},
			"transferData": map[string]any{"description": "Faktura 7/2026", "amount": amount, "currency": "PLN"},
			"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate"}
		return demo.callWithHeader(t, api, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", map[string]any{
			"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
			"scope": "pis", "state": "st-l", "eatCode": "123456", "scope_details": scopeDetails("pis", []map[string]any{{"pis:domestic": priv}}),
		}, map[string]any{"psuIdentifierValue": who.Login, "callbackURL": "https://127.0.0.1:9/cb", "apiKey": "k"})
	}
	if r := ask(b, "150.00"); r.status != 422 || r.code != "LIMIT_EXCEEDED" || !strings.Contains(r.message, "100.00") {
		t.Fatalf("a payment over the limit: %d %s", r.status, r.body)
	}
	if r := pay(b, "99.00"); r.status != 200 {
		t.Fatalf("a payment within the limit: %d %s", r.status, r.body)
	}
	if r := ask(a, "10.00"); r.status != 403 || r.code != "ACCESS_BLOCKED" {
		t.Fatalf("a payment from a blocked account: %d %s", r.status, r.body)
	}
}
