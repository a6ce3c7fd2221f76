package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// mbankSend is an mBank request with extra headers (TPP-Payment-ID), signed
// over them.
func (f *tppFiles) mbankSend(t *testing.T, api, method, path string, body map[string]any, token string, headers map[string]string) apiAnswer {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	r, _ := http.NewRequest(method, api+path, bytes.NewReader(raw))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("TPP-Request-ID", uuid.Must(uuid.NewUUID()).String())
	r.Header.Set("TPP-ID", f.info.TPPID)
	r.Header.Set("Client-ID", f.info.ClientID)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	sig, err := f.signer.SignDetached(jws.MBankPayload(jws.MBankRequestURI(r), r.Header, raw))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("JWS-Signature", sig)
	return f.do(t, r)
}

// pisFlow is the demo TPP and a customer of the sandbox.
type pisFlow struct {
	t        *testing.T
	api, web string
	demo     *tppFiles
	who      psu
	refresh  map[string]string // access token → its refresh token
}

// token obtains a pis consent in a dialect ("polishapi" or "mbank") through
// the redirect flow: the consent page must show each of show; the customer
// approves with an SMS code. It returns the access token.
func (f *pisFlow) token(dialect string, privileges []map[string]any, show ...string) string {
	t := f.t
	t.Helper()
	state := "st-" + uuid.NewString()[:8]
	path, group, field := "/v2_1_2.1/auth/v2_1_2.1/authorize", "pis", "aspspRedirectUri"
	if dialect == "mbank" {
		path, group, field = "/pl-retail/v3/auth/authorize", "PIS", "authorizationRedirectUri"
	}
	a := f.demo.call(t, f.api, "POST", path, map[string]any{
		"response_type": "code", "client_id": f.demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "pis", "state": state, "scope_details": scopeDetails(group, privileges),
	}, "")
	if a.status != 200 {
		t.Fatalf("authorize pis: %d %s", a.status, a.body)
	}
	page, _ := a.json(t)[field].(string)
	// The consent page shows the payment (after logging in; looked at in a
	// browser of its own, as consentBySMS starts from the login).
	br := newBrowser(t, f.web)
	u, _ := br.get(page)
	if loc, html := br.post(u+"/login", map[string][]string{"login": {f.who.Login}, "password": {f.who.Password}}); loc == "" {
		t.Fatalf("login refused: %s", html)
	}
	_, html := br.get(page)
	for _, s := range show {
		if !strings.Contains(html, s) {
			t.Errorf("the consent page does not show %q", s)
		}
	}
	code := codeFrom(t, newBrowser(t, f.web).consentBySMS(page, f.who, []string{f.who.Accounts[0].Number}), state)
	tokPath, codeKey := "/v2_1_2.1/auth/v2_1_2.1/token", "Code"
	if dialect == "mbank" {
		tokPath, codeKey = "/pl-retail/v3/auth/token", "code"
	}
	tok := f.demo.call(t, f.api, "POST", tokPath, map[string]any{
		"grant_type": "authorization_code", codeKey: code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": f.demo.info.ClientID,
	}, "")
	access, _ := tok.json(t)["access_token"].(string)
	if tok.status != 200 || access == "" {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	f.refresh[access], _ = tok.json(t)["refresh_token"].(string)
	return access
}

// renew gets a new access token of the same consent with the refresh token
// of token (access tokens outlive no clock move of a day).
func (f *pisFlow) renew(token string) string {
	f.t.Helper()
	a := f.demo.call(f.t, f.api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "refresh_token", "refresh_token": f.refresh[token], "client_id": f.demo.info.ClientID,
	}, "")
	access, _ := a.json(f.t)["access_token"].(string)
	if a.status != 200 || access == "" {
		f.t.Fatalf("refresh_token: %d %s", a.status, a.body)
	}
	f.refresh[access], _ = a.json(f.t)["refresh_token"].(string)
	if f.refresh[access] == "" {
		f.refresh[access] = f.refresh[token]
	}
	return access
}

func (f *pisFlow) status(token, paymentID string) string {
	f.t.Helper()
	a := f.demo.call(f.t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getPayment", map[string]any{"paymentId": paymentID}, token)
	if a.status != 200 {
		f.t.Fatalf("getPayment: %d %s", a.status, a.body)
	}
	s, _ := a.json(f.t)["generalStatus"].(string)
	return s
}

func (f *pisFlow) advance(d string) {
	f.t.Helper()
	res, err := http.Post(f.web+"/sandbox/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
	if err != nil {
		f.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		f.t.Fatalf("moving the clock: %d", res.StatusCode)
	}
}

func (f *pisFlow) now() time.Time {
	var c struct{ Now time.Time }
	getJSON(f.t, f.web+"/sandbox/clock", &c)
	return c.Now
}

// The demo TPP initiates payments end to end through the sandbox, in both
// dialects: a domestic Elixir payment (the consent page shows it, the
// customer approves with an SMS code) that is pending until the clock moves
// past its session; an internal transfer to another customer, booked at
// once; an mBank payment read through its status link; a future-dated
// payment cancelled with a pis:cancelPayment consent. The ledger's
// invariants hold afterwards.
func TestPISEndToEnd(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	psus := readPSUs(t, data)
	f := &pisFlow{t: t, api: "https://" + p.api, web: "http://" + p.web,
		demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data), who: psus[0], refresh: map[string]string{}}
	sender := f.who.Accounts[0].Number

	// A domestic Elixir payment to another bank.
	pay := map[string]any{
		"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Zakład Energetyczny"}}},
		"sender":       map[string]any{"accountNumber": sender},
		"transferData": map[string]any{"description": "Rachunek za prąd 11/2026", "amount": "12.34", "currency": "PLN"},
		"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
	priv := map[string]any{"scopeUsageLimit": "single"}
	for k, v := range pay {
		priv[k] = v
	}
	token := f.token("polishapi", []map[string]any{{"pis:domestic": priv}}, "Zakład Energetyczny", "Rachunek za prąd 11/2026")
	body := map[string]any{"tppTransactionId": uuid.NewString()}
	for k, v := range pay {
		body[k] = v
	}
	a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token)
	if a.status != 200 {
		t.Fatalf("domestic: %d %s", a.status, a.body)
	}
	id, _ := a.json(t)["paymentId"].(string)
	if st := f.status(token, id); st != "pending" {
		t.Fatalf("the Elixir payment is %s, want pending", st)
	}
	// The token initiated its payment: another is refused.
	body["tppTransactionId"] = uuid.NewString()
	if again := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token); again.status != 403 || again.code != "PRIVILEGE_USED" {
		t.Fatalf("second payment with the token: %d %s", again.status, again.body)
	}
	for i := 0; i < 4 && f.status(token, id) != "done"; i++ {
		f.advance("26h") // past the next Elixir session (over a weekend, a few times)
		token = f.renew(token)
	}
	if st := f.status(token, id); st != "done" {
		t.Fatalf("after the session the payment is %s, want done", st)
	}

	// An internal transfer to another customer is booked at once.
	internal := map[string]any{
		"recipient":    map[string]any{"accountNumber": psus[1].Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Sąsiad"}}},
		"sender":       map[string]any{"accountNumber": sender},
		"transferData": map[string]any{"description": "Zwrot za bilety", "amount": "5.00", "currency": "PLN"},
		"deliveryMode": "ExpressD0", "system": "Internal",
	}
	it := f.token("polishapi", []map[string]any{{"pis:domestic": internal}}, "Sąsiad")
	internal["tppTransactionId"] = uuid.NewString()
	a = f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", internal, it)
	if a.status != 200 || a.json(t)["generalStatus"] != "done" {
		t.Fatalf("internal transfer: %d %s", a.status, a.body)
	}

	iid, _ := a.json(t)["paymentId"].(string)

	// getMultiplePayments: no bearer, a token per payment in the body.
	multi := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getMultiplePayments", map[string]any{"payments": []any{
		map[string]any{"paymentId": id, "accessToken": token}, map[string]any{"paymentId": iid, "accessToken": it}}}, "")
	if multi.status != 200 || strings.Count(string(multi.body), `"generalStatus":"done"`) != 2 {
		t.Fatalf("getMultiplePayments: %d %s", multi.status, multi.body)
	}
	// A token does not read another consent's payment.
	if cross := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/getMultiplePayments", map[string]any{"payments": []any{
		map[string]any{"paymentId": iid, "accessToken": token}}}, ""); cross.status != 403 {
		t.Fatalf("getMultiplePayments with another consent's token: %d %s", cross.status, cross.body)
	}

	// mBank: a domestic payment and its status link.
	mpay := map[string]any{
		"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "name": "Jan Kowalski"},
		"sender":       map[string]any{"accountNumber": sender},
		"transferData": map[string]any{"description": "Transfer", "amount": "0.01", "currency": "PLN"},
		"deliveryMode": "STANDARD_D1", "system": "ELIXIR",
	}
	mt := f.token("mbank", []map[string]any{{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": mpay}}}, "Jan Kowalski")
	m := f.demo.mbankSend(t, f.api, "POST", "/pl-retail/v3/payments/domestic", mpay, mt, map[string]string{"TPP-Payment-ID": uuid.NewString()})
	if m.status != 201 {
		t.Fatalf("mBank domestic: %d %s", m.status, m.body)
	}
	var mr struct {
		Status string
		Links  []struct{ Href string }
	}
	json.Unmarshal(m.body, &mr)
	if len(mr.Links) == 0 || !strings.HasPrefix(mr.Links[0].Href, "/pl-retail/v3/payments/domestic/") {
		t.Fatalf("no status link: %s", m.body)
	}
	st := f.demo.mbankSend(t, f.api, "GET", mr.Links[0].Href, nil, mt, nil)
	if st.status != 200 || !strings.Contains(string(st.body), `"status":"PENDING"`) {
		t.Fatalf("mBank status: %d %s", st.status, st.body)
	}

	// A future-dated payment (within the bank: any day), then cancelled.
	date := f.now().AddDate(0, 0, 7).Format(time.DateOnly)
	future := map[string]any{
		"recipient":    map[string]any{"accountNumber": psus[1].Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Sąsiad"}}},
		"sender":       map[string]any{"accountNumber": sender},
		"transferData": map[string]any{"description": "Czynsz", "amount": "7.00", "currency": "PLN", "executionDate": date},
		"deliveryMode": "StandardD1", "system": "Internal", "executionMode": "FutureDated",
	}
	ft := f.token("polishapi", []map[string]any{{"pis:domestic": future}}, "Czynsz")
	future["tppTransactionId"] = uuid.NewString()
	a = f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", future, ft)
	if a.status != 200 || a.json(t)["generalStatus"] != "scheduled" {
		t.Fatalf("future-dated: %d %s", a.status, a.body)
	}
	fid, _ := a.json(t)["paymentId"].(string)
	ct := f.token("polishapi", []map[string]any{{"pis:cancelPayment": map[string]any{"scopeUsageLimit": "single", "paymentId": fid}}})
	if c := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/cancelPayments", map[string]any{"paymentId": fid}, ct); c.status != 204 {
		t.Fatalf("cancelPayments: %d %s", c.status, c.body)
	}
	if st := f.status(ft, fid); st != "cancelled" {
		t.Fatalf("the cancelled payment is %s", st)
	}

	p.stop()
	db, err := store.Open(context.Background(), filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := ledger.New(db, clock.System{}).CheckInvariants(context.Background()); err != nil {
		t.Errorf("ledger invariants broken:\n%v", err)
	}
}
