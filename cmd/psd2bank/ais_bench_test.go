package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/sandbox"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkAISPipeline measures PolishAPI getTransactionsDone, one page of
// 100 items, through the whole bank: the sandbox (internal/sandbox, as
// `psd2bank sandbox` runs it) on SQLite and on PostgreSQL, over real mutual
// TLS with keep-alive connections from 16 concurrent clients
// (b.SetParallelism(8) at -cpu 2), so that ns/op is the inverse of
// throughput. Each request is the demo TPP's, signed with its QSealC before
// the clock starts, with a fresh request id and the access token of a
// consent the customer gave once through the decoupled flow (authorizeExt,
// approval in the sandbox's mobile app, token), and isDirectPsu true so that
// the 4-a-day limit does not apply. The account is the sandbox's with the
// most booked items; the page is the newest of the default 90-day window.
// In the same run a bare TLS handler on the same certificate returns the
// same bytes to the same requests. queries/op counts the bank's SQL
// statements per request, BEGIN and COMMIT included.
func BenchmarkAISPipeline(b *testing.B) {
	for _, engine := range []struct {
		name string
		url  func(testing.TB) string // the sandbox's --db; "" is SQLite in the data directory
	}{{"sqlite", func(testing.TB) string { return "" }}, {"postgres", storetest.PostgresURL}} {
		b.Run(engine.name, func(b *testing.B) {
			s := openBenchSandbox(b, engine.url(b))
			tpp := loadBenchTPP(b, s)
			token, nrb := s.consent(b, tpp)
			body := map[string]any{"accountNumber": nrb, "perPage": 100}
			first := tpp.send(b, tpp.polishAPI(b, "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone", body, token, true))
			var page struct {
				Transactions []json.RawMessage
				PageInfo     struct{ NextPage string }
			}
			if first.status != 200 || json.Unmarshal(first.body, &page) != nil || len(page.Transactions) != 100 || page.PageInfo.NextPage == "" {
				b.Fatalf("getTransactionsDone: %d, want a full page of 100 with a next page: %.300s", first.status, first.body)
			}
			b.Logf("the answer: %d bytes", len(first.body))
			sig := first.header.Get("X-JWS-SIGNATURE")
			if _, err := jws.VerifyDetached(sig, first.body, s.seal); err != nil {
				b.Fatalf("the answer does not carry the bank's seal: %v", err)
			}

			b.Run("pipeline", func(b *testing.B) {
				reqs := make(chan *http.Request, b.N)
				for range b.N {
					reqs <- tpp.polishAPI(b, "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone", body, token, true)
				}
				close(reqs)
				q0 := s.bank.DB.Queries()
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := tpp.client()
					for pb.Next() {
						benchSend(b, c, <-reqs)
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(s.bank.DB.Queries()-q0)/float64(b.N), "queries/op")
			})

			b.Run("bare-tls", func(b *testing.B) {
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-JWS-SIGNATURE", sig)
					w.Write(first.body)
				}))
				srv.TLS = s.tlsConfig(b)
				srv.StartTLS()
				defer srv.Close()
				// The same request bytes as the pipeline's, sent again.
				model := tpp.polishAPI(b, "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone", body, token, true)
				raw, _ := io.ReadAll(model.Body)
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := tpp.client()
					for pb.Next() {
						r, _ := http.NewRequest("POST", srv.URL+model.URL.Path, bytes.NewReader(raw))
						r.Header = model.Header.Clone()
						benchSend(b, c, r)
					}
				})
			})
		})
	}
}

func benchSend(b *testing.B, c *http.Client, r *http.Request) {
	res, err := c.Do(r)
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Errorf("status %d", res.StatusCode)
	}
}

// benchSandbox is a sandbox served in the benchmark's process, so that its
// database's query counter can be read.
type benchSandbox struct {
	bank     *sandbox.Bank
	api, web string // https://host:port, http://host:port
	seal     *x509.Certificate
	pool     *x509.CertPool // the API's TLS CA
}

var benchReadyLine = regexp.MustCompile(`^psd2bank sandbox ready: api=(\S+) web=(\S+)$`)

func openBenchSandbox(b *testing.B, dbURL string) *benchSandbox {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	bank, err := sandbox.Open(ctx, sandbox.Config{DataDir: b.TempDir(), DB: dbURL, APIAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	if os.Getenv("PSD2BANK_BENCH_NO_STATS") != "" {
		bank.Stats = nil // the interface statistics' cost: BENCHMARKS.md
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- bank.Serve(ctx, pw)
		pw.Close()
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		bank.Close()
	})
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		b.Fatalf("the sandbox stopped before it was ready: %v", <-done)
	}
	m := benchReadyLine.FindStringSubmatch(lines.Text())
	if m == nil {
		b.Fatalf("not the ready line: %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	b.Logf("sandbox ready after %s", time.Since(start).Round(time.Millisecond))
	s := &benchSandbox{bank: bank, api: m[1], web: m[2], pool: x509.NewCertPool()}
	caPEM, err := os.ReadFile(filepath.Join(bank.Dir(), "bank-tls-ca.pem"))
	if err != nil || !s.pool.AppendCertsFromPEM(caPEM) {
		b.Fatalf("bank-tls-ca.pem: %v", err)
	}
	sealPEM, err := os.ReadFile(filepath.Join(bank.Dir(), "bank-qsealc.pem"))
	if err != nil {
		b.Fatal(err)
	}
	certs, err := eidas.LoadCertificatesPEM(sealPEM)
	if err != nil {
		b.Fatal(err)
	}
	s.seal = certs[0]
	return s
}

// tlsConfig is the API listener's TLS as the sandbox sets it up: a server
// certificate from the sandbox's TLS CA, client certificates requested.
func (s *benchSandbox) tlsConfig(b *testing.B) *tls.Config {
	b.Helper()
	now := s.bank.Clock.Now()
	ca, err := eidas.LoadOrCreateTLSCA(s.bank.Dir(), now)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"localhost", "127.0.0.1"}, now)
	if err != nil {
		b.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
}

// consent gets the demo TPP an access token for getTransactionsDone on the
// account with the most booked items, through the decoupled flow: the
// customer approves in the sandbox's mobile app and the code comes to the
// TPP's callback.
func (s *benchSandbox) consent(b *testing.B, tpp *benchTPP) (token, nrb string) {
	b.Helper()
	ctx := context.Background()
	var login string
	if err := s.bank.DB.QueryRowContext(ctx, `SELECT c.login, a.nrb FROM accounts a JOIN customers c ON c.id = a.customer_id
		ORDER BY a.last_seq DESC, a.nrb LIMIT 1`).Scan(&login, &nrb); err != nil {
		b.Fatal(err)
	}
	codes := make(chan string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		codes <- m["code"]
	}))
	defer cb.Close()
	a := tpp.send(b, tpp.polishAPIHeader(b, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", map[string]any{
		"response_type": "code", "client_id": tpp.info.ClientID, "redirect_uri": tpp.info.RedirectURI,
		"scope": "ais", "state": "bench", "eatCode": "123456",
		"scope_details": map[string]any{
			"privilegeList": []map[string]any{{"accountNumber": nrb,
				"ais:getTransactionsDone": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": 90}}},
			"scopeGroupType": "ais", "consentId": uuid.NewString(), "throttlingPolicy": "psd2Regulatory",
			"scopeTimeLimit": time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		},
	}, "", map[string]any{"psuIdentifierValue": login, "callbackURL": cb.URL}))
	if a.status != 204 {
		b.Fatalf("authorizeExt: %d %s", a.status, a.body)
	}
	res, err := http.Post(s.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+login+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("mobile approve: %s", res.Status)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(10 * time.Second):
		b.Fatal("no callback within 10 s")
	}
	tok := tpp.send(b, tpp.polishAPI(b, "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": tpp.info.RedirectURI, "client_id": tpp.info.ClientID,
	}, "", false))
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if tok.status != 200 || json.Unmarshal(tok.body, &t) != nil || t.AccessToken == "" {
		b.Fatalf("token: %d %s", tok.status, tok.body)
	}
	return t.AccessToken, nrb
}

// benchTPP is the sandbox's demo TPP: its QWAC, its QSealC signer and
// client.json.
type benchTPP struct {
	api    string
	tls    *tls.Config
	setup  *http.Client // for the calls before the measurement
	signer *jws.Signer
	info   struct {
		ClientID    string `json:"client_id"`
		TPPID       string `json:"tpp_id"`
		RedirectURI string `json:"redirect_uri"`
	}
}

func loadBenchTPP(b *testing.B, s *benchSandbox) *benchTPP {
	b.Helper()
	dir := filepath.Join(s.bank.Dir(), "demo-tpp")
	qwac, err := tls.LoadX509KeyPair(filepath.Join(dir, "qwac.pem"), filepath.Join(dir, "qwac.key"))
	if err != nil {
		b.Fatal(err)
	}
	seal, err := tls.LoadX509KeyPair(filepath.Join(dir, "qsealc.pem"), filepath.Join(dir, "qsealc.key"))
	if err != nil {
		b.Fatal(err)
	}
	sealCert, err := x509.ParseCertificate(seal.Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	signer, err := jws.NewSigner(seal.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	t := &benchTPP{api: s.api, signer: signer,
		tls: &tls.Config{RootCAs: s.pool, Certificates: []tls.Certificate{qwac}, MinVersion: tls.VersionTLS12}}
	t.setup = t.client()
	b.Cleanup(t.setup.CloseIdleConnections)
	raw, err := os.ReadFile(filepath.Join(dir, "client.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &t.info); err != nil {
		b.Fatal(err)
	}
	return t
}

// client is one client: its own connection, kept alive.
func (t *benchTPP) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: t.tls.Clone()}}
}

// polishAPI builds a signed PolishAPI request with a fresh requestHeader.
func (t *benchTPP) polishAPI(b *testing.B, path string, body map[string]any, token string, directPSU bool) *http.Request {
	b.Helper()
	var extra map[string]any
	if directPSU {
		extra = map[string]any{"isDirectPsu": true}
	}
	return t.polishAPIHeader(b, path, body, token, extra)
}

func (t *benchTPP) polishAPIHeader(b *testing.B, path string, body map[string]any, token string, extra map[string]any) *http.Request {
	b.Helper()
	id := uuid.Must(uuid.NewUUID()).String()
	rh := map[string]any{"requestId": id, "tppId": t.info.TPPID, "sendDate": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	if token != "" {
		rh["token"] = token
	}
	for k, v := range extra {
		rh[k] = v
	}
	withHeader := map[string]any{"requestHeader": rh}
	for k, v := range body {
		withHeader[k] = v
	}
	raw, err := json.Marshal(withHeader)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := t.signer.SignDetached(raw)
	if err != nil {
		b.Fatal(err)
	}
	r, err := http.NewRequest("POST", t.api+path, bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("X-JWS-SIGNATURE", sig)
	r.Header.Set("X-REQUEST-ID", id)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func (t *benchTPP) send(b *testing.B, r *http.Request) apiAnswer {
	b.Helper()
	res, err := t.setup.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	return apiAnswer{status: res.StatusCode, body: data, header: res.Header}
}
