package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// syncBuffer is a log sink the sandbox writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines parses the JSON log, one object a line.
func logLines(t *testing.T, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON (--log-format json): %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// findEvent answers the first line of the event whose attributes include
// want (compared as text).
func findEvent(lines []map[string]any, event string, want map[string]string) map[string]any {
	for _, l := range lines {
		if l["event"] != event {
			continue
		}
		ok := true
		for k, v := range want {
			if s, _ := l[k].(string); s != v {
				if f, isNum := l[k].(float64); !isNum || strconv.FormatFloat(f, 'f', -1, 64) != v {
					ok = false
				}
			}
		}
		if ok {
			return l
		}
	}
	return nil
}

// What an operator sees, through a real sandbox with the JSON log at debug
// level: a refused API call, a failed and a successful log-in, an SMS code,
// a payment and its status changes, a back-office action (the hotline's
// PESEL check and a TPP suspended), a clock move and the start — each
// logged with its stable attributes and counted in /metrics; and nothing
// secret in the log: not the access and refresh tokens, the SMS codes, the
// passwords (right and wrong), the PESEL given to the hotline, nor any full
// account number.
func TestOperatorSeesEventsAndNoSecrets(t *testing.T) {
	data := t.TempDir()
	var logs syncBuffer
	p := startSandboxLogging(t, &logs, "--data", data, "--log-format", "json", "--log-level", "debug")
	web := "http://" + p.web
	psus := readPSUs(t, data)
	f := &pisFlow{t: t, api: "https://" + p.api, web: web,
		demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data), who: psus[0], refresh: map[string]string{}}

	// 0. The landing page says where everything is, and no password.
	res, err := http.Get(web + "/")
	if err != nil {
		t.Fatal(err)
	}
	landing, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`href="/developer"`, `href="/backoffice"`, `href="/metrics"`, `href="/sandbox/clock"`, "psus.json"} {
		if !strings.Contains(string(landing), want) {
			t.Errorf("the landing page lacks %s", want)
		}
	}
	for _, c := range psus {
		if strings.Contains(string(landing), c.Password) {
			t.Errorf("the landing page shows %s's password", c.Login)
		}
	}

	// 1. A refused call: a token the bank never issued.
	bogus := "bogus-" + uuid.NewString()
	if a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, bogus); a.status != 401 {
		t.Fatalf("getAccounts with a bogus token: %d %s", a.status, a.body)
	}

	// 2. A failed log-in on a consent page.
	wrong := "wrong-password-" + uuid.NewString()[:8]
	a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": f.demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "ais-accounts", "state": "st-log",
		"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}, "")
	page, _ := a.json(t)["aspspRedirectUri"].(string)
	br := newBrowser(t, web)
	u, _ := br.get(page)
	if loc, _ := br.post(u+"/login", url.Values{"login": {f.who.Login}, "password": {wrong}}); loc != "" {
		t.Fatal("a wrong password was accepted")
	}

	// 3. A payment: consent (log-in, SMS code), an internal transfer booked at once.
	internal := map[string]any{
		"recipient":    map[string]any{"accountNumber": psus[1].Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Sąsiad"}}},
		"sender":       map[string]any{"accountNumber": f.who.Accounts[0].Number},
		"transferData": map[string]any{"description": "Zwrot za bilety", "amount": "5.00", "currency": "PLN"},
		"deliveryMode": "ExpressD0", "system": "Internal",
	}
	token := f.token("polishapi", []map[string]any{{"pis:domestic": internal}})
	internal["tppTransactionId"] = uuid.NewString()
	pay := f.demo.call(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", internal, token)
	if pay.status != 200 || pay.json(t)["generalStatus"] != "done" {
		t.Fatalf("internal transfer: %d %s", pay.status, pay.body)
	}
	paymentID, _ := pay.json(t)["paymentId"].(string)

	// 4. The clock moves.
	f.advance("1h")

	// 5. Back office: the hotline checks a caller's PESEL; a TPP is suspended.
	bo := newBrowser(t, web)
	if loc, html := bo.post(web+"/backoffice/login", url.Values{"login": {"backoffice"}, "password": {"sandbox-backoffice"}}); loc == "" {
		t.Fatalf("back-office log-in refused: %s", html)
	}
	_, html := bo.get(web + "/backoffice/hotline?q=" + url.QueryEscape(f.who.Login))
	m := regexp.MustCompile(`/backoffice/hotline/customers/([^"/?]+)`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("the hotline does not find %s: %s", f.who.Login, html)
	}
	check, _ := bo.post(web+"/backoffice/hotline/customers/"+m[1]+"/checks", url.Values{})
	if !strings.Contains(check, "/backoffice/hotline/checks/") {
		t.Fatalf("no identity check started: %q", check)
	}
	pesel := psuPESEL(t, data, f.who.Login)
	if loc, html := bo.post(check+"/pesel", url.Values{"pesel": {pesel}}); loc == "" {
		t.Fatalf("the right PESEL was refused: %s", html)
	}
	if loc, html := bo.post(web+"/backoffice/tpps/suspend", url.Values{"tpp_id": {f.demo.info.TPPID}, "reason": {"operator test"}}); loc == "" {
		t.Fatalf("suspend refused: %s", html)
	}
	if a := f.demo.call(t, f.api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, token); a.status != 403 {
		t.Fatalf("a suspended TPP's call: %d %s", a.status, a.body)
	}

	// The metrics count what happened.
	res, err = http.Get(web + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`psd2bank_api_refusals_total{code="token_invalid",dialect="polishapi",operation="getAccounts"} 1`,
		`psd2bank_api_refusals_total{code="TPP_SUSPENDED",dialect="polishapi",operation="getAccounts"} 1`,
		`psd2bank_api_requests_total{class="2xx",dialect="polishapi",operation="domestic"} 1`,
		`psd2bank_api_request_seconds_count{dialect="polishapi",operation="domestic"} 1`,
		`psd2bank_logins_total{outcome="failed",realm="customer"} 1`,
		`psd2bank_logins_total{outcome="ok",realm="staff"} 1`,
		`psd2bank_sms_sent_total{purpose="consent"}`,
		`psd2bank_payment_status_changes_total{status="done"} 1`,
		`psd2bank_payments{status="done"}`,
		`psd2bank_consents{state="authorised"}`,
		`psd2bank_backoffice_actions_total{action="POST /backoffice/tpps/suspend"} 1`,
		`psd2bank_sandbox_clock_moves_total 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	raw := logs.String()
	lines := logLines(t, raw)
	for _, e := range []struct {
		event string
		attrs map[string]string
	}{
		{"start", nil},
		{"api.refused", map[string]string{"code": "token_invalid", "dialect": "polishapi", "operation": "getAccounts", "tpp": f.demo.info.TPPID, "status": "401"}},
		{"api.refused", map[string]string{"code": "TPP_SUSPENDED", "operation": "getAccounts", "tpp": f.demo.info.TPPID, "status": "403"}},
		{"api.served", map[string]string{"operation": "domestic", "dialect": "polishapi", "status": "200"}},
		{"login", map[string]string{"realm": "customer", "login": f.who.Login, "outcome": "failed", "failures": "1"}},
		{"login", map[string]string{"realm": "customer", "login": f.who.Login, "outcome": "ok"}},
		{"login", map[string]string{"realm": "staff", "login": "backoffice", "outcome": "ok"}},
		{"sms.sent", map[string]string{"purpose": "consent"}},
		{"payment.status", map[string]string{"payment": paymentID, "tpp": f.demo.info.TPPID, "from": "", "amount": "5.00",
			"currency": "PLN", "recipient": "****" + psus[1].Accounts[0].Number[22:]}},
		{"payment.status", map[string]string{"payment": paymentID, "status": "done"}},
		{"sandbox.clock", nil},
		{"backoffice.action", map[string]string{"staff": "backoffice", "action": "POST /backoffice/hotline/checks/{check}/pesel"}},
		{"backoffice.action", map[string]string{"staff": "backoffice", "action": "POST /backoffice/tpps/suspend", "status": "303"}},
	} {
		if findEvent(lines, e.event, e.attrs) == nil {
			t.Errorf("no %s event with %v in the log", e.event, e.attrs)
		}
	}

	// Nothing secret.
	secrets := map[string]string{"the bogus token": bogus, "the access token": token, "the refresh token": f.refresh[token],
		"the customer's password": f.who.Password, "the wrong password": wrong, "the staff password": "sandbox-backoffice",
		"the PESEL": pesel}
	for _, c := range psus {
		for _, acct := range c.Accounts {
			secrets["account "+acct.Number] = acct.Number
		}
	}
	for what, s := range secrets {
		if s != "" && strings.Contains(raw, s) {
			t.Errorf("the log contains %s", what)
		}
	}
	if n := regexp.MustCompile(`\d{26}`).FindString(raw); n != "" {
		t.Errorf("the log contains a full account number %s", n)
	}
	// The SMS codes: six digits, looked for in every text value (not in the
	// lines' times, whose nanoseconds may hold any six digits).
	var sms []struct{ Code string }
	getJSON(t, web+"/sandbox/sms?login="+url.QueryEscape(f.who.Login), &sms)
	if len(sms) == 0 {
		t.Fatal("no SMS in the sandbox's box")
	}
	for _, l := range lines {
		for k, v := range l {
			s, ok := v.(string)
			if !ok || k == "time" {
				continue
			}
			for _, c := range sms {
				if strings.Contains(s, c.Code) {
					t.Errorf("the log's %s %q contains an SMS code", k, s)
				}
			}
		}
	}
	if t.Failed() {
		t.Logf("the log:\n%s", raw)
	}
}

// psuPESEL reads a test customer's PESEL from psus.json.
func psuPESEL(t *testing.T, data, login string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []struct{ Login, PESEL string }
	json.Unmarshal(raw, &all)
	for _, c := range all {
		if c.Login == login && len(c.PESEL) == 11 {
			return c.PESEL
		}
	}
	t.Fatalf("no PESEL for %s in psus.json", login)
	return ""
}

// A log level or format the bank does not know is a usage error (exit 2),
// named, before anything starts.
func TestLogFlagsRefuseUnknownValues(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sandbox", "--data", t.TempDir(), "--log-format", "xml"},
		{"sandbox", "--data", t.TempDir(), "--log-level", "loud"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, &stderr)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), args[3]) {
			t.Errorf("%v: %v, want a usage error naming %s", args, err, args[3])
		}
	}
	// serve has no --log-format: its log is JSON.
	if err := run(context.Background(), []string{"serve", "--log-format", "text"}, func(string) string { return "" }, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Errorf("serve --log-format: %v, want a usage error", err)
	}
}
