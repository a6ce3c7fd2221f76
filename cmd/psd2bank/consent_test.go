package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/jws"
)

// call sends a signed request of either dialect: PolishAPI when path starts
// with /v2_1_2.1 (the body gets its requestHeader), mBank otherwise.
func (f *tppFiles) call(t *testing.T, api, method, path string, body map[string]any, token string) apiAnswer {
	t.Helper()
	return f.send(t, api, method, path, body, token, nil)
}

// callWithHeader is a PolishAPI POST with extra requestHeader fields.
func (f *tppFiles) callWithHeader(t *testing.T, api, path string, body, header map[string]any) apiAnswer {
	t.Helper()
	return f.send(t, api, "POST", path, body, "", header)
}

func (f *tppFiles) send(t *testing.T, api, method, path string, body map[string]any, token string, extra map[string]any) apiAnswer {
	t.Helper()
	r, err := f.request(api, method, path, body, token, extra)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, r)
}

// sendAs sends a signed PolishAPI request under requestID (the header's
// and the body's) and reads the answer, with its code; it does not touch a
// testing.T, so that goroutines can send at once.
func (f *tppFiles) sendAs(api, path string, body map[string]any, token, requestID string) (apiAnswer, error) {
	r, err := f.request(api, "POST", path, body, token, map[string]any{"requestId": requestID})
	if err != nil {
		return apiAnswer{}, err
	}
	r.Header.Set("X-REQUEST-ID", requestID)
	res, err := f.client.Do(r)
	if err != nil {
		return apiAnswer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	var e struct{ Code string }
	json.Unmarshal(raw, &e)
	return apiAnswer{status: res.StatusCode, code: e.Code, body: raw}, err
}

// replayRefused fails t unless a is PolishAPI's refusal of a used request id.
func replayRefused(t *testing.T, what string, a apiAnswer) {
	t.Helper()
	if a.status != 409 || a.code != "REQUEST_REPLAYED" {
		t.Fatalf("%s: %d %s, want 409 REQUEST_REPLAYED", what, a.status, a.body)
	}
}

// request is the signed request send sends; it does not touch a
// testing.T, so that goroutines can build their own.
func (f *tppFiles) request(api, method, path string, body map[string]any, token string, extra map[string]any) (*http.Request, error) {
	id := uuid.Must(uuid.NewUUID()).String()
	var raw []byte
	polish := strings.HasPrefix(path, "/v2_1_2.1")
	if polish {
		if body == nil {
			body = map[string]any{}
		}
		rh := map[string]any{"requestId": id, "tppId": f.info.TPPID, "sendDate": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
		if token != "" {
			rh["token"] = token
		}
		for k, v := range extra {
			rh[k] = v
		}
		body["requestHeader"] = rh
	}
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	r, err := http.NewRequest(method, api+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if polish {
		sig, err := f.signer.SignDetached(raw)
		if err != nil {
			return nil, err
		}
		r.Header.Set("X-JWS-SIGNATURE", sig)
		r.Header.Set("X-REQUEST-ID", id)
	} else {
		r.Header.Set("TPP-Request-ID", id)
		r.Header.Set("TPP-ID", f.info.TPPID)
		r.Header.Set("Client-ID", f.info.ClientID)
		sig, err := f.signer.SignDetached(jws.MBankPayload(jws.MBankRequestURI(r), r.Header, raw))
		if err != nil {
			return nil, err
		}
		r.Header.Set("JWS-Signature", sig)
	}
	return r, nil
}

func (a apiAnswer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %s", a.status, a.body)
	}
	return m
}

type psu struct {
	Login, Password string
	Accounts        []struct{ Number string }
}

func readPSUs(t *testing.T, data string) []psu {
	raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []psu
	json.Unmarshal(raw, &out)
	return out
}

// browser is the customer's browser: plain HTTP forms, cookies, no
// redirects followed (the last one goes to the TPP).
type browser struct {
	t   *testing.T
	c   *http.Client
	web string
}

func newBrowser(t *testing.T, web string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, web: web, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// get follows same-site redirects and returns the final page.
func (b *browser) get(u string) (string, string) {
	b.t.Helper()
	for range 5 {
		res, err := b.c.Get(u)
		if err != nil {
			b.t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode/100 != 3 {
			return u, string(body)
		}
		u = b.resolve(u, res.Header.Get("Location"))
	}
	b.t.Fatalf("too many redirects at %s", u)
	return "", ""
}

func (b *browser) resolve(base, loc string) string {
	bu, _ := url.Parse(base)
	lu, _ := bu.Parse(loc)
	return lu.String()
}

// post submits a form; it answers the redirect target (not followed) or the page.
func (b *browser) post(u string, form url.Values) (location, page string) {
	b.t.Helper()
	res, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode/100 == 3 {
		return b.resolve(u, res.Header.Get("Location")), ""
	}
	return "", string(body)
}

var accountBox = regexp.MustCompile(`name="account" value="(\d{26})"`)
var challengeField = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// consentBySMS walks the customer through the bank's pages: log in, choose
// accounts (all offered, or those given), approve with an SMS code read from
// the sandbox. It returns where the bank sends the browser back.
func (b *browser) consentBySMS(page string, who psu, choose []string) string {
	b.t.Helper()
	u, html := b.get(page)
	if !strings.Contains(html, `name="password"`) {
		b.t.Fatalf("the consent page did not ask to log in: %s", html)
	}
	if loc, html := b.post(u+"/login", url.Values{"login": {who.Login}, "password": {who.Password}}); loc == "" {
		b.t.Fatalf("login refused: %s", html)
	}
	u, html = b.get(page)
	form := url.Values{"method": {"sms"}}
	if choose == nil {
		for _, m := range accountBox.FindAllStringSubmatch(html, -1) {
			form.Add("account", m[1])
		}
	} else {
		form["account"] = choose
	}
	loc, html := b.post(u+"/approve", form)
	if loc == "" {
		b.t.Fatalf("approve refused: %s", html)
	}
	smsPage, html := b.get(loc)
	m := challengeField.FindStringSubmatch(html)
	if m == nil {
		b.t.Fatalf("no SMS form at %s: %s", smsPage, html)
	}
	var sms []struct{ Code string }
	res, err := http.Get(b.web + "/sandbox/sms?login=" + url.QueryEscape(who.Login))
	if err != nil {
		b.t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&sms)
	res.Body.Close()
	if len(sms) == 0 {
		b.t.Fatal("no SMS was sent")
	}
	back, html := b.post(page+"/sms", url.Values{"challenge": {m[1]}, "code": {sms[0].Code}})
	if back == "" {
		b.t.Fatalf("SMS code refused: %s", html)
	}
	return back
}

func codeFrom(t *testing.T, back, state string) string {
	t.Helper()
	u, err := url.Parse(back)
	if err != nil || !strings.HasPrefix(back, "http://127.0.0.1:8765/callback") {
		t.Fatalf("the bank sent the browser to %q, not the TPP's redirect_uri", back)
	}
	if u.Query().Get("state") != state || u.Query().Get("code") == "" {
		t.Fatalf("redirect %q lacks code or the state %q", back, state)
	}
	return u.Query().Get("code")
}

func scopeDetails(group string, privileges []map[string]any) map[string]any {
	return map[string]any{"privilegeList": privileges, "scopeGroupType": group, "consentId": uuid.NewString(),
		"scopeTimeLimit": time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), "throttlingPolicy": "psd2Regulatory"}
}

// The demo TPP through the redirect flow, end to end, in PolishAPI:
// authorize (ais-accounts) → the customer logs in, chooses accounts and
// approves with an SMS code → token → getAccounts → exchange_token to ais
// for one account → getTransactionsDone.
func TestConsentRedirectFlowPolishAPI(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[0]

	a := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais-accounts", "state": "st-1",
		"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}, "")
	if a.status != 200 {
		t.Fatalf("authorize: %d %s", a.status, a.body)
	}
	page, _ := a.json(t)["aspspRedirectUri"].(string)
	if !strings.HasPrefix(page, "http://"+p.web+"/authorize/") {
		t.Fatalf("aspspRedirectUri %q is not the bank's consent page", page)
	}
	code := codeFrom(t, newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil), "st-1")

	tok := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
	}, "")
	if tok.status != 200 {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	access, _ := tok.json(t)["access_token"].(string)
	if access == "" {
		t.Fatalf("no access token: %s", tok.body)
	}

	accts := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access)
	if accts.status != 200 {
		t.Fatalf("getAccounts: %d %s", accts.status, accts.body)
	}
	for _, acct := range who.Accounts {
		if !strings.Contains(string(accts.body), acct.Number) {
			t.Fatalf("getAccounts lacks the chosen account %s: %s", acct.Number, accts.body)
		}
	}

	// Another TPP cannot use the demo TPP's token.
	other := filepath.Join(t.TempDir(), "other")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000066", "--name", "Other", "--out", other, "--register")
	if a := loadTPP(t, other, data).call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); a.status != 401 || a.code != "token_invalid" {
		t.Fatalf("TPP B with TPP A's token: %d %s", a.status, a.body)
	}
	// Nor can the demo TPP present it over another certificate of its own.
	renewed := filepath.Join(t.TempDir(), "renewed")
	certsCmd(t, "issue", "--data", data, "--org-id", demo.info.TPPID, "--name", "Demo TPP renewed", "--out", renewed)
	moved := loadTPP(t, renewed, data)
	moved.signer, moved.info = demo.signer, demo.info
	if a := moved.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); a.status != 401 || a.code != "token_wrong_certificate" {
		t.Fatalf("token over another certificate: %d %s", a.status, a.body)
	}
	// Without the customer present, four accesses a day; the fifth is refused.
	for i := 2; i <= 4; i++ {
		if a := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); a.status != 200 {
			t.Fatalf("unattended access %d: %d %s", i, a.status, a.body)
		}
	}
	if a := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); a.status != 429 {
		t.Fatalf("fifth unattended access in a day: %d %s", a.status, a.body)
	}

	nrb := who.Accounts[0].Number
	ex := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "exchange_token", "exchange_token": access, "scope": "ais",
		"scope_details": scopeDetails("ais", []map[string]any{{"accountNumber": nrb,
			"ais:getAccount":          map[string]any{"scopeUsageLimit": "multiple"},
			"ais:getTransactionsDone": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": 90}}}),
	}, "")
	if ex.status != 200 {
		t.Fatalf("exchange_token: %d %s", ex.status, ex.body)
	}
	aisToken, _ := ex.json(t)["access_token"].(string)
	done := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone",
		map[string]any{"accountNumber": nrb, "perPage": 10}, aisToken)
	if done.status != 200 || !strings.Contains(string(done.body), `"transactions"`) {
		t.Fatalf("getTransactionsDone: %d %s", done.status, done.body)
	}
	b := bankSeal(t, data)
	if _, err := jws.VerifyDetached(done.header.Get("X-JWS-SIGNATURE"), done.body, b); err != nil {
		t.Fatalf("unsigned answer: %v", err)
	}
	// The same page again: the bank keeps it in memory and continues the
	// seal's hash from the one kept over its items; the seal must verify
	// just the same, over the same items and a new response header.
	doneAgain := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone",
		map[string]any{"accountNumber": nrb, "perPage": 10}, aisToken)
	if _, err := jws.VerifyDetached(doneAgain.header.Get("X-JWS-SIGNATURE"), doneAgain.body, b); err != nil {
		t.Fatalf("the page read again: %v", err)
	}
	first, second := done.json(t), doneAgain.json(t)
	if !reflect.DeepEqual(first["transactions"], second["transactions"]) || reflect.DeepEqual(first["responseHeader"], second["responseHeader"]) {
		t.Fatalf("the page read again:\n%s\nthe first time:\n%s", doneAgain.body, done.body)
	}
	// An account outside the consent.
	if other := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone",
		map[string]any{"accountNumber": readPSUs(t, data)[1].Accounts[0].Number}, aisToken); other.status != 403 {
		t.Fatalf("account outside the consent: %d %s", other.status, other.body)
	}
	// The code is single-use: redeeming it again fails, and revokes what
	// was issued from it (RFC 6749 §4.1.2).
	if again := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
	}, ""); again.code != "invalid_grant" {
		t.Fatalf("reused code: %d %s", again.status, again.body)
	}
	if after := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); after.status != 401 {
		t.Fatalf("a token from a replayed code still works: %d %s", after.status, after.body)
	}
}

// The same in mBank's dialect: authorize for named accounts, the customer
// approves them, token (lower-case code) with accountId, account details.
func TestConsentRedirectFlowMBank(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[1]
	nrb := who.Accounts[0].Number

	a := demo.call(t, api, "POST", "/pl-retail/v3/auth/authorize", map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais", "state": "st-m",
		"scope_details": scopeDetails("AIS", []map[string]any{{"accountNumber": nrb, "ais:accountDetails": map[string]any{},
			"ais:transactions": map[string]any{"maxAllowedHistoryLong": 90, "transactionStatus": []string{"DONE", "PENDING"}}}}),
	}, "")
	if a.status != 200 {
		t.Fatalf("mBank authorize: %d %s", a.status, a.body)
	}
	page, _ := a.json(t)["authorizationRedirectUri"].(string)
	code := codeFrom(t, newBrowser(t, "http://"+p.web).consentBySMS(page, who, []string{nrb}), "st-m")
	tok := demo.call(t, api, "POST", "/pl-retail/v3/auth/token", map[string]any{
		"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
	}, "")
	if tok.status != 200 {
		t.Fatalf("mBank token: %d %s", tok.status, tok.body)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		ScopeDetails struct {
			PrivilegeList []struct {
				AccountID     string `json:"accountId"`
				AccountNumber string `json:"accountNumber"`
			} `json:"privilegeList"`
		} `json:"scope_details"`
	}
	json.Unmarshal(tok.body, &tr)
	if len(tr.ScopeDetails.PrivilegeList) == 0 || tr.ScopeDetails.PrivilegeList[0].AccountID == "" {
		t.Fatalf("token answer without scope_details.privilegeList[].accountId: %s", tok.body)
	}
	details := demo.call(t, api, "GET", "/pl-retail/v3/accounts/"+tr.ScopeDetails.PrivilegeList[0].AccountID, nil, tr.AccessToken)
	if details.status != 200 || !strings.Contains(string(details.body), nrb) {
		t.Fatalf("mBank account details: %d %s", details.status, details.body)
	}
}

// A rejection sends the browser back with error=access_denied.
func TestConsentRejected(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[0]
	a := demo.call(t, "https://"+p.api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais-accounts", "state": "st-r",
		"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}, "")
	page, _ := a.json(t)["aspspRedirectUri"].(string)
	br := newBrowser(t, "http://"+p.web)
	u, _ := br.get(page)
	br.post(u+"/login", url.Values{"login": {who.Login}, "password": {who.Password}})
	back, html := br.post(page+"/reject", url.Values{})
	q, _ := url.Parse(back)
	if back == "" || q.Query().Get("error") != "access_denied" || q.Query().Get("state") != "st-r" {
		t.Fatalf("rejection sent the browser to %q (%s)", back, html)
	}
}

// The decoupled flow: authorizeExt names the customer, who approves in the
// mobile app (the sandbox's /sandbox/mobile/approve); the code arrives at
// the TPP's callback and redeems for a token that reads the accounts.
func TestConsentDecoupled(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	who := readPSUs(t, data)[0]
	got := make(chan map[string]string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer cb.Close()

	body := map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais-accounts", "state": "st-d", "eatCode": "123456",
		"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}
	// The callback and the customer go in requestHeader, which call() fills:
	// build the request by hand.
	a := demo.callWithHeader(t, api, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", body,
		map[string]any{"psuIdentifierValue": who.Login, "callbackURL": cb.URL, "apiKey": "key-1"})
	if a.status != 204 {
		t.Fatalf("authorizeExt: %d %s", a.status, a.body)
	}
	res, err := http.Post("http://"+p.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+who.Login+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("mobile approve: %v %v", res, err)
	}
	res.Body.Close()
	var m map[string]string
	select {
	case m = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10 s")
	}
	if m["code"] == "" || m["state"] != "st-d" || m["apiKey"] != "key-1" {
		t.Fatalf("callback body %v", m)
	}
	tok := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": m["code"], "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
	}, "")
	access, _ := tok.json(t)["access_token"].(string)
	if accts := demo.call(t, api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access); accts.status != 200 {
		t.Fatalf("getAccounts after decoupled approval: %d %s (token %d %s)", accts.status, accts.body, tok.status, tok.body)
	}
}
