package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/bank"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sandbox/synth"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
)

// prodTPP is the production TPP of the serve test. Its redirect URI is on
// the host of its callback receiver (the host it registered), and no
// browser follows it: the test reads the code from the bank's redirect.
const (
	prodTPPOrg  = "PSDPL-KNF-0000000077"
	prodTPPName = "Produkcja TPP sp. z o.o."
	prodBankOrg = "PSDPL-KNF-0990000002"
)

// mobileNoticeBody is the mobile-app webhook's body (internal/bank/mobile.go).
type mobileNoticeBody struct {
	Type, ChallengeID, Login, Kind, Text, CreatedAt, ExpiresAt, DecisionURL string
}

// serveWorld is everything the production bank of the test is made of:
// a test QTSP (not the sandbox's) that issued the TPP's QWAC and QSealC, the
// bank's seal and the API's server certificate, and publishes a CRL; the
// register; PostgreSQL with synthetic customers and the TPP onboarded
// through the registry and approved by staff; the bank's mobile-app backend
// and the TPP's callback receiver, both https on 127.0.0.1.
type serveWorld struct {
	t        *testing.T
	db       *store.DB
	api, web string
	tpp      *tppFiles
	seal     *x509.Certificate
	who      synth.PSU
	other    synth.PSU
	secret   []byte
	notices  chan mobileNoticeBody
	badSeal  chan string
	codes    chan map[string]string
	payments *callbackSink
	tppURL   string // https://127.0.0.1:PORT, the TPP's callback receiver
	redirect string // the TPP's registered redirect_uri, on the same host
}

func TestServeEndToEnd(t *testing.T) {
	w := startServe(t)

	// 1. Redirect flow: consent page, SMS code (read from the SMS outbox,
	// as the bank's SMS gateway does), token, getAccounts sealed by the bank.
	access := w.redirectConsent("ais-accounts", "ais-accounts", []map[string]any{
		{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}, nil)
	accts := w.tpp.call(t, w.api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access)
	if accts.status != 200 || !strings.Contains(string(accts.body), w.who.Accounts[0].Number) {
		t.Fatalf("getAccounts after the redirect flow: %d %s", accts.status, accts.body)
	}
	if _, err := jws.VerifyDetached(accts.header.Get("X-JWS-SIGNATURE"), accts.body, w.seal); err != nil {
		t.Fatalf("getAccounts is not sealed by the bank's QSealC: %v", err)
	}

	// 2. Decoupled flow: authorizeExt → the webhook reaches the mobile-app
	// backend, sealed → its signed decision → the code at the TPP's callback.
	a := w.tpp.callWithHeader(t, w.api, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", map[string]any{
		"response_type": "code", "client_id": w.tpp.info.ClientID, "redirect_uri": w.redirect,
		"scope": "ais-accounts", "state": "st-d", "eatCode": "123456",
		"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
	}, map[string]any{"psuIdentifierValue": w.who.Login, "callbackURL": w.tppURL + "/decoupled", "apiKey": "key-1"})
	if a.status != 204 {
		t.Fatalf("authorizeExt: %d %s", a.status, a.body)
	}
	n := w.notice()
	if n.Type != "sca.mobile.challenge" || n.Login != w.who.Login || n.Kind != "decoupled" || n.ChallengeID == "" ||
		!strings.HasPrefix(n.DecisionURL, w.web+bank.MobileDecisionPath) || !strings.Contains(n.Text, prodTPPName) {
		t.Fatalf("webhook notice %+v", n)
	}
	// A decision without the right signature, or a stale one, changes nothing.
	body := []byte(`{"challengeId":"` + n.ChallengeID + `","decision":"approve"}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for name, header := range map[string]string{
		"none":        "",
		"wrong key":   "t=" + now + ",v1=" + hex.EncodeToString(bank.MobileSignature([]byte(strings.Repeat("x", 32)), now, body)),
		"stale":       "t=1700000000,v1=" + hex.EncodeToString(bank.MobileSignature(w.secret, "1700000000", body)),
		"other body":  "t=" + now + ",v1=" + hex.EncodeToString(bank.MobileSignature(w.secret, now, []byte(`{"challengeId":"x","decision":"approve"}`))),
		"not numeric": "t=soon,v1=" + hex.EncodeToString(bank.MobileSignature(w.secret, "soon", body)),
	} {
		if status, _ := w.decide(n.DecisionURL, body, header); status != 401 {
			t.Errorf("decision with %s signature: %d, want 401", name, status)
		}
	}
	select {
	case m := <-w.codes:
		t.Fatalf("a refused decision completed the request: %v", m)
	case <-time.After(200 * time.Millisecond):
	}
	if status, out := w.decide(n.DecisionURL, body, w.sign(body)); status != 200 || !strings.Contains(out, `"approved"`) {
		t.Fatalf("signed decision: %d %s", status, out)
	}
	if status, _ := w.decide(n.DecisionURL, body, w.sign(body)); status != 409 {
		t.Errorf("the same decision again: %d, want 409", status)
	}
	var m map[string]string
	select {
	case m = <-w.codes:
	case <-time.After(15 * time.Second):
		t.Fatal("no decoupled result at the TPP's callback within 15 s")
	}
	if m["code"] == "" || m["state"] != "st-d" || m["apiKey"] != "key-1" {
		t.Fatalf("decoupled callback %v", m)
	}
	decoupled := w.token(m["code"])
	if a := w.tpp.call(t, w.api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, decoupled); a.status != 200 {
		t.Fatalf("getAccounts after the decoupled flow: %d %s", a.status, a.body)
	}
	select {
	case err := <-w.badSeal:
		t.Fatalf("the webhook was not sealed by the bank: %s", err)
	default:
	}

	// 3. PIS: a domestic payment consented on the consent page, initiated
	// with a callback URL; its status reaches the TPP's callback, sealed.
	pay := map[string]any{
		"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Wodociągi"}}},
		"sender":       map[string]any{"accountNumber": w.who.Accounts[0].Number},
		"transferData": map[string]any{"description": "Woda 11/2026", "amount": "3.21", "currency": "PLN"},
		"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
	pisToken := w.redirectConsent("pis", "pis", []map[string]any{{"pis:domestic": pay}}, []string{w.who.Accounts[0].Number})
	req := map[string]any{"tppTransactionId": uuid.NewString()}
	for k, v := range pay {
		req[k] = v
	}
	p := w.tpp.send(t, w.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", req, pisToken, map[string]any{"callbackURL": w.tppURL + "/payments"})
	if p.status != 200 {
		t.Fatalf("domestic: %d %s", p.status, p.body)
	}
	paymentID, _ := p.json(t)["paymentId"].(string)
	got := w.payments.wait(t, 1)
	var cb struct {
		ResponseHeader                             struct{ IsCallback bool }
		PaymentID, TPPTransactionID, GeneralStatus string
	}
	if err := json.Unmarshal(got[0].body, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.PaymentID != paymentID || cb.TPPTransactionID != req["tppTransactionId"] || !cb.ResponseHeader.IsCallback || cb.GeneralStatus == "" {
		t.Errorf("payment callback %s", got[0].body)
	}
	if _, err := jws.VerifyDetached(got[0].sig, got[0].body, w.seal); err != nil {
		t.Errorf("the payment callback is not sealed by the bank: %v", err)
	}

	// The customer's pages of production: API access and limits.
	br := newBrowser(t, w.web)
	if loc, html := br.post(w.web+"/ib/login", url.Values{"login": {w.who.Login}, "password": {w.who.Password}}); loc == "" {
		t.Fatalf("internet banking log-in: %s", html)
	}
	if _, html := br.get(w.web + "/ib/accounts"); !strings.Contains(html, w.who.Accounts[0].Number[len(w.who.Accounts[0].Number)-4:]) {
		t.Errorf("/ib/accounts does not show the customer's account: %s", html)
	}
}

// startServe builds the world and starts `psd2bank serve` in it, in this
// process (through run).
func startServe(t *testing.T) *serveWorld {
	t.Helper()
	w, config := newServeWorld(t)
	w.api, w.web = serveInProcess(t, config)
	return w
}

// serveInProcess runs `psd2bank serve --config config` through run, on
// free loopback ports, until the test ends, and returns its API and web
// addresses from its ready line.
func serveInProcess(t *testing.T, config string) (api, web string) {
	t.Helper()
	runCtx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var runErr error
	stopped := make(chan struct{})
	go func() {
		runErr = run(runCtx, []string{"serve", "--config", config, "--api-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0"},
			func(string) string { return "" }, pw, io.Discard)
		pw.Close()
		close(stopped)
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		<-stopped
		t.Fatalf("serve stopped: %v", runErr)
	}
	m := serveReadyLine.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("ready line %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	return m[1], m[2]
}

// serveReadyLine is the first line `psd2bank serve` prints.
var serveReadyLine = regexp.MustCompile(`^psd2bank ready: api=(https://\S+) web=(http://\S+)$`)

// newServeWorld builds the world of a production bank — certificates,
// register, database with customers and an approved TPP, the mobile-app
// backend and the TPP's receiver — and writes the config file that
// `psd2bank serve --config` runs it from; it starts no server (w.api and
// w.web are empty until one is started).
func newServeWorld(t *testing.T) (*serveWorld, string) {
	t.Helper()
	pgURL := storetest.PostgresURL(t)
	ctx := context.Background()
	now := time.Now()
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	ca := tpptest.NewCA(t, now)
	crlDER := ca.CRL(t, now)
	crl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(crlDER)
	}))
	t.Cleanup(crl.Close)
	roles := []eidas.Role{eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC}
	qwacPEM, qwacKey := ca.IssueWithKey(t, tpptest.Cert{OrgID: prodTPPOrg, Name: prodTPPName, Kind: eidas.KindQWAC, Roles: roles, CRLURL: crl.URL})
	qsealPEM, qsealKey := ca.IssueWithKey(t, tpptest.Cert{OrgID: prodTPPOrg, Name: prodTPPName, Kind: eidas.KindQSealC, Roles: roles, CRLURL: crl.URL})
	sealPEM, sealKey := ca.IssueWithKey(t, tpptest.Cert{OrgID: prodBankOrg, Name: "psd2bank S.A.", Kind: eidas.KindQSealC, Roles: []eidas.Role{eidas.RolePSPAS}})
	tlsPEM, tlsKey := ca.ServerCert(t, "127.0.0.1", "localhost")
	registerPath := filepath.Join(dir, "register.json")
	if err := tpp.EnsureRegisterFile(registerPath); err != nil {
		t.Fatal(err)
	}
	if err := tpp.AddToRegisterFile(registerPath, tpp.EntryInput{OrgID: prodTPPOrg, Name: prodTPPName,
		Roles: []string{"PSP_AI", "PSP_PI", "PSP_IC"}, AuthorisedOn: now.AddDate(-1, 0, 0)}); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ds := synth.Generate(7, now)
	hashes := map[string]string{}
	if err := synth.Load(ctx, ledger.New(db, clock.System{}), ds, func(p string) (string, error) {
		if h, ok := hashes[p]; ok {
			return h, nil
		}
		h, err := sca.HashPassword(p)
		hashes[p] = h
		return h, err
	}); err != nil {
		t.Fatal(err)
	}
	// The bank's seal, to check what the bank signs.
	sealBlock, _ := pem.Decode(sealPEM)
	bankSealCert, err := x509.ParseCertificate(sealBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	w := &serveWorld{t: t, db: db, seal: bankSealCert, notices: make(chan mobileNoticeBody, 8), badSeal: make(chan string, 8),
		codes: make(chan map[string]string, 4), payments: &callbackSink{}, secret: []byte("0123456789abcdef0123456789abcdef-mobile")}
	for _, p := range ds.PSUs {
		if p.Segment == string(ledger.Retail) && len(p.Accounts) > 0 && p.Accounts[0].Currency == "PLN" {
			if w.who.Login == "" {
				w.who = p
			} else if w.other.Login == "" {
				w.other = p
			}
		}
	}
	if w.other.Login == "" {
		t.Fatal("the synthetic bank has fewer than two retail customers with a PLN account")
	}

	// The bank's mobile-app backend and the TPP's callback receiver.
	mobile := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if _, err := jws.VerifyDetached(r.Header.Get("X-JWS-SIGNATURE"), raw, w.seal); err != nil {
			w.badSeal <- err.Error()
			http.Error(rw, "bad seal", http.StatusBadRequest)
			return
		}
		var n mobileNoticeBody
		json.Unmarshal(raw, &n)
		w.notices <- n
		rw.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(mobile.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /decoupled", func(rw http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		w.codes <- m
	})
	mux.Handle("POST /payments", w.payments)
	tppSrv := httptest.NewTLSServer(mux)
	t.Cleanup(tppSrv.Close)
	w.tppURL, w.redirect = tppSrv.URL, tppSrv.URL+"/callback"
	// The TPP onboards through the registry (as the developer portal does)
	// and staff approve it: a production TPP with a client.
	fr, err := tpp.OpenFileRegister(registerPath, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	reg := tpp.New(db, clock.System{}, fr)
	const email = "dev@tpp.example"
	_, app, err := reg.SignUp(ctx, tpp.SignUp{OrgID: prodTPPOrg, Name: prodTPPName, Email: email, Password: "a long enough password 1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{tpp.DocRegisterExtract, tpp.DocLicence} {
		if _, err := reg.AddDocument(ctx, app.ID, email, tpp.DocumentInput{Kind: kind, Filename: kind + ".pdf", Content: tpptest.PDF}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][]byte{qwacPEM, qsealPEM} {
		if _, err := reg.AddCertificate(ctx, app.ID, email, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Submit(ctx, app.ID, email, tpp.Submission{RedirectURIs: []string{w.redirect}}); err != nil {
		t.Fatal(err)
	}
	if err := reg.EnsureStaff(ctx, "reviewer", "reviewer password 123", tpp.RoleBackoffice); err != nil {
		t.Fatal(err)
	}
	_, client, err := reg.Approve(ctx, app.ID, "reviewer")
	if err != nil {
		t.Fatal(err)
	}

	// httptest's TLS servers share one certificate: trust it for callbacks.
	callbackCA := file("callback-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tppSrv.Certificate().Raw}))

	// Settings in a config file, listeners on the command line.
	config := file("psd2bank.conf", []byte(strings.Join([]string{
		"# the production bank of TestServeEndToEnd",
		"db = " + pgURL,
		"qtsp-roots = " + file("roots.pem", eidas.CertificatePEM(ca.Cert)),
		"register = " + registerPath,
		"seal-cert = " + file("seal.pem", sealPEM),
		"seal-key = " + file("seal.key", sealKey),
		"tls-cert = " + file("tls.pem", tlsPEM),
		"tls-key = " + file("tls.key", tlsKey),
		`mobile-webhook-url = "` + mobile.URL + `/psd2bank"`,
		"mobile-secret-file = " + file("mobile.secret", append(w.secret, '\n')),
		"callback-ca = " + callbackCA,
		"# the test TPP listens on 127.0.0.1",
		"callback-allow-loopback = true",
	}, "\n")+"\n"))
	// The TPP's client: its QWAC, and the test QTSP as the API's issuer.
	qwac, err := tls.X509KeyPair(qwacPEM, qwacKey)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := tls.X509KeyPair(qsealPEM, qsealKey)
	if err != nil {
		t.Fatal(err)
	}
	sealCert, _ := x509.ParseCertificate(seal.Certificate[0])
	signer, err := jws.NewSigner(seal.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	w.tpp = &tppFiles{signer: signer, client: &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{qwac}}}}}
	w.tpp.info.ClientID, w.tpp.info.TPPID = client.ClientID, prodTPPOrg
	return w, config
}

// redirectConsent runs the redirect flow in PolishAPI for privileges and
// returns the access token: the customer logs in on the consent page,
// chooses the accounts (all offered, or choose), and approves with the SMS
// code the bank put in its SMS outbox.
func (w *serveWorld) redirectConsent(scope, group string, privileges []map[string]any, choose []string) string {
	t := w.t
	t.Helper()
	state := "st-" + uuid.NewString()[:8]
	a := w.tpp.call(t, w.api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": w.tpp.info.ClientID, "redirect_uri": w.redirect,
		"scope": scope, "state": state, "scope_details": scopeDetails(group, privileges)}, "")
	if a.status != 200 {
		t.Fatalf("authorize %s: %d %s", scope, a.status, a.body)
	}
	page, _ := a.json(t)["aspspRedirectUri"].(string)
	if !strings.HasPrefix(page, w.web+"/authorize/") {
		t.Fatalf("aspspRedirectUri %q is not the bank's consent page on %s", page, w.web)
	}
	br := newBrowser(t, w.web)
	u, html := br.get(page)
	if !strings.Contains(html, `name="password"`) {
		t.Fatalf("the consent page did not ask to log in: %s", html)
	}
	if loc, html := br.post(u+"/login", url.Values{"login": {w.who.Login}, "password": {w.who.Password}}); loc == "" {
		t.Fatalf("login refused: %s", html)
	}
	u, html = br.get(page)
	form := url.Values{"method": {"sms"}}
	if choose == nil {
		for _, m := range accountBox.FindAllStringSubmatch(html, -1) {
			form.Add("account", m[1])
		}
	} else {
		form["account"] = choose
	}
	loc, html := br.post(u+"/approve", form)
	if loc == "" {
		t.Fatalf("approve refused: %s", html)
	}
	_, html = br.get(loc)
	ch := challengeField.FindStringSubmatch(html)
	if ch == nil {
		t.Fatalf("no SMS form: %s", html)
	}
	var code string
	if err := w.db.QueryRowContext(context.Background(), `SELECT code FROM sms_outbox WHERE challenge_id = $1`, ch[1]).Scan(&code); err != nil {
		t.Fatalf("the SMS of challenge %s: %v", ch[1], err)
	}
	back, html := br.post(page+"/sms", url.Values{"challenge": {ch[1]}, "code": {code}})
	bu, err := url.Parse(back)
	if back == "" || err != nil || !strings.HasPrefix(back, w.redirect) || bu.Query().Get("state") != state {
		t.Fatalf("the bank sent the browser to %q, not the TPP's redirect_uri with the state (%s)", back, html)
	}
	return w.token(bu.Query().Get("code"))
}

// token redeems an authorization code.
func (w *serveWorld) token(code string) string {
	w.t.Helper()
	tok := w.tpp.call(w.t, w.api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": w.redirect, "client_id": w.tpp.info.ClientID}, "")
	access, _ := tok.json(w.t)["access_token"].(string)
	if tok.status != 200 || access == "" {
		w.t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	return access
}

// notice waits for the mobile-app webhook.
func (w *serveWorld) notice() mobileNoticeBody {
	w.t.Helper()
	select {
	case n := <-w.notices:
		return n
	case err := <-w.badSeal:
		w.t.Fatalf("the webhook was not sealed by the bank: %s", err)
	case <-time.After(15 * time.Second):
		w.t.Fatal("no mobile-app webhook within 15 s")
	}
	return mobileNoticeBody{}
}

// sign is the mobile-app backend's signature of a decision.
func (w *serveWorld) sign(body []byte) string {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	return "t=" + now + ",v1=" + hex.EncodeToString(bank.MobileSignature(w.secret, now, body))
}

// decide posts a decision as the mobile-app backend.
func (w *serveWorld) decide(decisionURL string, body []byte, signature string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest("POST", decisionURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(bank.MobileSignatureHeader, signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}
