package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/tppclient"
)

const benchUsage = `psd2bank bench — load your own installation's API with signed mutual-TLS requests

Usage:
  psd2bank bench --sandbox DATA [--op ais|caf|pay|bg] [--clients 8] [--duration 10s] [--bare]
  psd2bank bench --tpp DIR --api URL --bank-ca FILE --bank-seal FILE --account NRB [--token TOKEN] [--op ais|caf] ...

Each of --clients clients keeps its own mutual-TLS connection (the TPP's QWAC)
and sends one operation after another for --duration, every request signed
with the TPP's QSealC and a fresh request id, and checks the bank's seal on
the first answer. A progress line shows the running count; at the end it
prints requests/s, p50/p90/p99 latency and errors. With --bare it then runs
the same clients, for the same time, against a bare TLS server in this
process that answers every request with the bank's answer bytes (client
certificates requested) — the clients making and sealing each request as
for the bank (pay: the first request's bytes again, its consents being
used up), so that the runs differ by the server alone — and prints the
ratio: how close the whole bank comes to moving the bytes alone.

Operations (PolishAPI):
  ais   getTransactionsDone, the newest page of 100 items, isDirectPsu (the customer present, so the
        4-a-day unattended limit does not stop the run); needs an access token with
        ais:getTransactionsDone for --account (--token), which with --sandbox is obtained first
        through the decoupled flow and the sandbox's mobile app
  caf   getConfirmationOfFunds of 0.01 PLN on --account (no token)
  pay   a domestic internal transfer of 0.01 PLN from --account to another account of the sandbox,
        each with a single-use consent of its own (--sandbox only); the consents are obtained
        before the measured run (--payments of them), which ends when they are used up

Operations (Berlin Group):
  bg    getTransactionList of --account, booked, the first page (100 items) from 89 days back, the
        customer present (PSU-IP-Address); each request with its own X-Request-ID and the TPP's
        HTTP signature (--sandbox only: the consent, to the account's details, balances and
        transactions, is approved first in the sandbox's mobile app, decoupled)

With --sandbox DATA the TPP is the sandbox's demo TPP and the account the
first retail customer's (psus.json), unless --account names another.
`

type benchConfig struct {
	sandbox, tppDir, api, bankCA, bankSeal string
	op, token, account, login              string
	clients                                int
	duration                               time.Duration
	bare                                   bool
	payments                               int
	web                                    string // the sandbox's web address (consents)
	progress                               io.Writer
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var c benchConfig
	fs.StringVar(&c.sandbox, "sandbox", "", "the sandbox's data `directory` (its demo TPP, certificates, endpoints and test customers)")
	fs.StringVar(&c.tppDir, "tpp", "", "the TPP's `directory`: qwac.pem, qwac.key, qsealc.pem, qsealc.key, client.json")
	fs.StringVar(&c.api, "api", "", "the bank's API `address`, https://host:port")
	fs.StringVar(&c.bankCA, "bank-ca", "", "the CA `file` of the API's server certificate")
	fs.StringVar(&c.bankSeal, "bank-seal", "", "the bank's QSealC `file` (to check the seal of the answers)")
	fs.StringVar(&c.op, "op", "ais", "the `operation`: ais, caf, pay or bg")
	fs.StringVar(&c.token, "token", "", "an access `token` for ais (with --sandbox one is obtained)")
	fs.StringVar(&c.account, "account", "", "the account `NRB` read, checked or debited")
	fs.IntVar(&c.clients, "clients", 8, "concurrent `clients`, each with its own connection")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to run")
	fs.BoolVar(&c.bare, "bare", false, "run the same clients against a bare TLS server returning the bank's answer bytes, and print the ratio")
	fs.IntVar(&c.payments, "payments", 400, "pay: how many consents to prepare (the run ends when they are used)")
	fs.Usage = helpUsage(fs, benchUsage) // help on stdout (-h), with the flags
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	c.progress = stderr
	if c.clients < 1 || c.duration <= 0 {
		return usageError{"--clients must be at least 1 and --duration positive"}
	}
	if err := c.fromSandbox(); err != nil {
		return err
	}
	if c.tppDir == "" || c.api == "" || c.bankCA == "" || c.bankSeal == "" {
		return usageError{"bench needs --sandbox DATA, or --tpp, --api, --bank-ca and --bank-seal"}
	}
	if c.account == "" {
		return usageError{"bench needs --account NRB (with --sandbox the first retail customer's is taken)"}
	}
	rep, err := bench(ctx, c)
	if err != nil {
		return err
	}
	rep.print(stdout)
	return nil
}

// fromSandbox fills what --sandbox DATA gives.
func (c *benchConfig) fromSandbox() error {
	if c.sandbox == "" {
		return nil
	}
	dir := c.sandbox
	if _, err := os.Stat(filepath.Join(dir, "sandbox", "demo-tpp")); err == nil {
		dir = filepath.Join(dir, "sandbox")
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.tppDir, filepath.Join(dir, "demo-tpp"))
	set(&c.bankCA, filepath.Join(dir, "bank-tls-ca.pem"))
	set(&c.bankSeal, filepath.Join(dir, "bank-qsealc.pem"))
	var ep struct{ API, Web string }
	raw, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return fmt.Errorf("the sandbox in %s is not running (no endpoints.json): start it with psd2bank sandbox --data %s", c.sandbox, c.sandbox)
	}
	if err := json.Unmarshal(raw, &ep); err != nil {
		return fmt.Errorf("endpoints.json: %w", err)
	}
	set(&c.api, ep.API)
	c.web = ep.Web
	var psus []struct {
		Login, Segment string
		Accounts       []struct{ Number string }
	}
	raw, err = os.ReadFile(filepath.Join(dir, "psus.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &psus); err != nil {
		return fmt.Errorf("psus.json: %w", err)
	}
	for _, p := range psus {
		for _, a := range p.Accounts {
			if c.account == "" && p.Segment == "retail" || a.Number == c.account {
				c.account, c.login = a.Number, p.Login
			}
		}
		if c.login != "" {
			break
		}
	}
	if c.login == "" {
		return fmt.Errorf("no customer of the sandbox has account %s (psus.json)", c.account)
	}
	return nil
}

// benchReport is the outcome of a run (and of the bare run, with --bare).
type benchReport struct {
	op         string
	clients    int
	pipeline   benchStats
	bare       *benchStats
	answerSize int
}

type benchStats struct {
	requests, errors int
	elapsed          time.Duration
	latencies        []time.Duration // sorted
	firstError       string
}

func (s benchStats) rate() float64 { return float64(s.requests) / s.elapsed.Seconds() }

func (s benchStats) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	return s.latencies[min(len(s.latencies)-1, int(p*float64(len(s.latencies))))]
}

func (s benchStats) line(name string) string {
	return fmt.Sprintf("%-9s %8d requests  %9.1f req/s  p50 %-9s p90 %-9s p99 %-9s errors %d",
		name, s.requests, s.rate(), s.pct(.50).Round(10*time.Microsecond), s.pct(.90).Round(10*time.Microsecond),
		s.pct(.99).Round(10*time.Microsecond), s.errors)
}

func (r benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "operation %s, %d clients, answer %d bytes\n", r.op, r.clients, r.answerSize)
	fmt.Fprintln(w, r.pipeline.line("bank"))
	if r.pipeline.firstError != "" {
		fmt.Fprintln(w, "first error:", r.pipeline.firstError)
	}
	if r.bare != nil {
		fmt.Fprintln(w, r.bare.line("bare TLS"))
		if r.bare.rate() > 0 {
			fmt.Fprintf(w, "ratio     %.3f (the bank's req/s over the bare server's)\n", r.pipeline.rate()/r.bare.rate())
		}
	}
}

func bench(ctx context.Context, c benchConfig) (benchReport, error) {
	cl, err := tppclient.New(tppclient.Config{TPPDir: c.tppDir, BankCAFile: c.bankCA, BankSealFile: c.bankSeal, API: c.api})
	if err != nil {
		return benchReport{}, err
	}
	var next func() (*http.Request, error) // a new signed request
	send := cl.Send                        // the first answer: must be 2xx and sealed
	switch c.op {
	case "ais":
		if c.token == "" {
			if c.web == "" {
				return benchReport{}, usageError{"ais needs --token (an access token with ais:getTransactionsDone for --account)"}
			}
			if c.token, err = sandboxAISToken(ctx, cl, c); err != nil {
				return benchReport{}, err
			}
		}
		body := map[string]any{"accountNumber": c.account, "perPage": 100}
		if next, err = cl.SignedPolishAPIs(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getTransactionsDone", body, c.token, map[string]any{"isDirectPsu": true}); err != nil {
			return benchReport{}, err
		}
	case "caf":
		body := map[string]any{"accountNumber": c.account, "amount": "0.01", "currency": "PLN"}
		if next, err = cl.SignedPolishAPIs(ctx, "/v2_1_2.1/confirmation/v2_1_2.1/getConfirmationOfFunds", body, "", nil); err != nil {
			return benchReport{}, err
		}
	case "bg":
		if c.web == "" {
			return benchReport{}, usageError{"bg needs --sandbox: its consent is approved in the sandbox's mobile app"}
		}
		consentID, resourceID, err := sandboxBGConsent(ctx, cl, c)
		if err != nil {
			return benchReport{}, err
		}
		path := tppclient.BGPrefix + "/accounts/" + resourceID + "/transactions?bookingStatus=booked&dateFrom=" +
			time.Now().AddDate(0, 0, -89).Format(time.DateOnly)
		header := map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "127.0.0.1"}
		next = func() (*http.Request, error) { return cl.SignedBerlinGroup(ctx, "GET", path, header) }
		send = cl.SendBerlinGroup
	case "pay":
		if c.web == "" {
			return benchReport{}, usageError{"pay needs --sandbox: each payment needs a consent of its own, approved in the sandbox's mobile app"}
		}
		if next, err = sandboxPayments(ctx, cl, c); err != nil {
			return benchReport{}, err
		}

	default:
		return benchReport{}, usageError{fmt.Sprintf("unknown --op %q: use ais, caf, pay or bg", c.op)}
	}

	// One answer first: it must be the bank's, sealed; its bytes are what
	// the bare server returns.
	first, err := next()
	if err != nil {
		return benchReport{}, err
	}
	var raw []byte
	if first.Body != nil {
		raw, _ = io.ReadAll(first.Body)
		first.Body = io.NopCloser(bytes.NewReader(raw))
	}
	answer, header, err := send(first)
	if err != nil {
		return benchReport{}, fmt.Errorf("the first %s request: %w", c.op, err)
	}
	rep := benchReport{op: c.op, clients: c.clients, answerSize: len(answer)}
	rep.pipeline = runLoad(ctx, c, "bank", cl.HTTPClient, next)
	if c.bare {
		// The bare run's clients make and seal every request as for the
		// bank (a fresh request id, the TPP's signature): the two runs
		// differ by the server alone. pay's requests each use a consent
		// of their own, all used by the bank's run: its bare run sends
		// the first request's bytes again.
		fresh := next
		if c.op == "pay" {
			fresh = nil
		}
		bare, err := runBare(ctx, c, cl, first, raw, answer, header, fresh)
		if err != nil {
			return rep, err
		}
		rep.bare = &bare
	}
	return rep, nil
}

// runLoad runs c.clients clients for c.duration (or until next says
// io.EOF), each with its own connection.
func runLoad(ctx context.Context, c benchConfig, name string, newClient func() *http.Client, next func() (*http.Request, error)) benchStats {
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var count, errs atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var firstErr string
	start := time.Now()
	done, printed := make(chan struct{}), make(chan struct{})
	go func() { // the progress line
		defer close(printed)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(c.progress, "\r%-9s %5.1fs %8d requests %6d errors\n", name, time.Since(start).Seconds(), count.Load(), errs.Load())
				return
			case <-tick.C:
				el := time.Since(start).Seconds()
				fmt.Fprintf(c.progress, "\r%-9s %5.1fs %8d requests %6d errors %9.1f req/s", name, el, count.Load(), errs.Load(), float64(count.Load())/el)
			}
		}
	}()
	var wg sync.WaitGroup
	for range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := newClient()
			defer hc.CloseIdleConnections()
			var lat []time.Duration
			for ctx.Err() == nil {
				r, err := next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					errs.Add(1)
					continue
				}
				t0 := time.Now()
				res, err := hc.Do(r.WithContext(ctx))
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && (res.StatusCode < 200 || res.StatusCode > 299) {
						err = fmt.Errorf("status %s", res.Status)
					}
				}
				if ctx.Err() != nil {
					break // the run ended during the request: not counted
				}
				lat = append(lat, time.Since(t0))
				count.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	<-printed
	slices.Sort(all)
	return benchStats{requests: int(count.Load()), errors: int(errs.Load()), elapsed: elapsed, latencies: all, firstError: firstErr}
}

// runBare serves answer (with the bank's headers) from a TLS server in
// this process that asks for client certificates as the bank does, and
// runs the same clients against it: each request made by fresh, as for the
// bank, or, when fresh is nil, model's bytes again.
func runBare(ctx context.Context, c benchConfig, cl *tppclient.Client, model *http.Request, reqBody, answer []byte, header http.Header,
	fresh func() (*http.Request, error)) (benchStats, error) {
	cert, pool, err := bareCertificate()
	if err != nil {
		return benchStats{}, err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		return benchStats{}, err
	}
	var served atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.Copy(io.Discard, r.Body)
		for _, k := range []string{"Content-Type", "X-JWS-SIGNATURE", "JWS-Signature", "Digest", "Signature"} {
			if v := header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.Write(answer)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	url := "https://" + addr + model.URL.RequestURI()
	newClient := func() *http.Client {
		hc := cl.HTTPClient()
		tr := hc.Transport.(*http.Transport)
		tr.TLSClientConfig.RootCAs = pool
		return hc
	}
	stats := runLoad(ctx, c, "bare TLS", newClient, func() (*http.Request, error) {
		if fresh != nil {
			r, err := fresh()
			if err != nil {
				return nil, err
			}
			u := *r.URL
			u.Scheme, u.Host = "https", addr
			r.URL, r.Host = &u, addr
			return r, nil
		}
		r, err := http.NewRequest(model.Method, url, bytes.NewReader(reqBody))
		if err != nil {
			return nil, err
		}
		r.Header = model.Header.Clone()
		return r, nil
	})
	if n := served.Load(); n < int64(stats.requests) {
		return stats, fmt.Errorf("the bare server served %d of the %d requests counted", n, stats.requests)
	}
	return stats, nil
}

// bareCertificate is a throw-away ECDSA P-256 server certificate for the
// bare server (the bank's API certificate is ECDSA P-256 too), and a pool
// that trusts it.
func bareCertificate() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bare"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// sandboxAISToken gets an access token for getTransactionsDone on the
// account through the decoupled flow: authorizeExt, the customer's approval
// in the sandbox's mobile app, the code at a callback in this process, token.
func sandboxAISToken(ctx context.Context, cl *tppclient.Client, c benchConfig) (string, error) {
	return sandboxConsent(ctx, cl, c, "ais", map[string]any{"accountNumber": c.account,
		"ais:getTransactionsDone": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": 90}})
}

func sandboxConsent(ctx context.Context, cl *tppclient.Client, c benchConfig, scope string, privileges map[string]any) (string, error) {
	codes := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	cb := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		select {
		case codes <- m["code"]:
		default:
		}
	})}
	go cb.Serve(ln)
	defer cb.Close()
	err = cl.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", map[string]any{
		"response_type": "code", "client_id": cl.Identity.ClientID, "redirect_uri": cl.Identity.RedirectURI,
		"scope": scope, "state": "bench", "eatCode": "123456",
		"scope_details": map[string]any{
			"privilegeList": []map[string]any{privileges}, "scopeGroupType": scope, "consentId": uuid.NewString(),
			"throttlingPolicy": "psd2Regulatory", "scopeTimeLimit": time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		},
	}, "", map[string]any{"psuIdentifierValue": c.login, "callbackURL": "http://" + ln.Addr().String() + "/cb"}, nil)
	if err != nil {
		return "", fmt.Errorf("authorizeExt: %w", err)
	}
	var code string
	deadline := time.After(15 * time.Second)
	for code == "" {
		res, err := http.Post(c.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+c.login+`"}`))
		if err != nil {
			return "", fmt.Errorf("the sandbox's mobile app: %w", err)
		}
		res.Body.Close()
		select {
		case code = <-codes:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return "", errors.New("the sandbox sent no authorization code within 15 s")
		}
	}
	tok, err := cl.Token(ctx, code)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return tok.AccessToken, nil
}

// sandboxPayments prepares c.payments single-use pis:domestic consents
// (not measured) and returns the initiations, one per consent; then io.EOF.
func sandboxPayments(ctx context.Context, cl *tppclient.Client, c benchConfig) (func() (*http.Request, error), error) {
	to, name, err := sandboxRecipient(c)
	if err != nil {
		return nil, err
	}
	pay := map[string]any{
		"recipient":    map[string]any{"accountNumber": to, "nameAddress": map[string]any{"value": []string{name}}},
		"sender":       map[string]any{"accountNumber": c.account},
		"transferData": map[string]any{"description": "Benchmark", "amount": "0.01", "currency": "PLN"},
		"deliveryMode": "ExpressD0", "system": "Internal", "executionMode": "Immediate",
	}
	tokens := make([]string, 0, c.payments)
	for i := range c.payments {
		fmt.Fprintf(c.progress, "\rpreparing %d/%d payment consents", i+1, c.payments)
		priv := map[string]any{"pis:domestic": map[string]any{"scopeUsageLimit": "single", "tppTransactionId": uuid.NewString()}}
		for k, v := range pay {
			priv["pis:domestic"].(map[string]any)[k] = v
		}
		tok, err := sandboxConsent(ctx, cl, c, "pis", priv)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
	}
	fmt.Fprintln(c.progress)
	var mu sync.Mutex
	return func() (*http.Request, error) {
		mu.Lock()
		if len(tokens) == 0 {
			mu.Unlock()
			return nil, io.EOF
		}
		tok := tokens[0]
		tokens = tokens[1:]
		mu.Unlock()
		body := map[string]any{"tppTransactionId": uuid.NewString()}
		for k, v := range pay {
			body[k] = v
		}
		return cl.SignedPolishAPI(ctx, "/v2_1_2.1/payments/v2_1_2.1/domestic", body, tok, nil)
	}, nil
}

// sandboxRecipient is another retail customer's account of the sandbox.
func sandboxRecipient(c benchConfig) (nrb, name string, err error) {
	dir := c.sandbox
	if _, err := os.Stat(filepath.Join(dir, "sandbox", "psus.json")); err == nil {
		dir = filepath.Join(dir, "sandbox")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "psus.json"))
	if err != nil {
		return "", "", err
	}
	var psus []struct {
		Login, Segment, Name string
		Accounts             []struct{ Number string }
	}
	if err := json.Unmarshal(raw, &psus); err != nil {
		return "", "", err
	}
	for _, p := range psus {
		if p.Login != c.login && p.Segment == "retail" && len(p.Accounts) > 0 {
			return p.Accounts[0].Number, p.Name, nil
		}
	}
	return "", "", errors.New("the sandbox has no second retail customer to pay")
}

func init() {
	registerCommand(command{name: "bench", args: "--sandbox DATA | --tpp DIR --api URL --bank-ca FILE --bank-seal FILE --account NRB [--op ais|caf|pay] [--clients N] [--duration D] [--bare]",
		summary: "load your installation's API with signed mTLS clients: req/s, p50/p90/p99, errors, the ratio to a bare TLS server", run: runBench})
}

// sandboxBGConsent is a Berlin Group consent to the account's details,
// balances and transactions, approved by its customer in the sandbox's
// mobile app (the decoupled approach); its id and the account's resource id.
func sandboxBGConsent(ctx context.Context, cl *tppclient.Client, c benchConfig) (consentID, resourceID string, err error) {
	iban := "PL" + c.account // an NRB's first two digits are its IBAN's check digits
	acct := []map[string]any{{"iban": iban}}
	var created struct {
		ConsentID string `json:"consentId"`
	}
	if _, err := cl.BerlinGroup(ctx, "POST", tppclient.BGPrefix+"/consents", map[string]any{
		"access":             map[string]any{"accounts": acct, "balances": acct, "transactions": acct},
		"recurringIndicator": true, "validUntil": time.Now().AddDate(0, 0, 1).Format(time.DateOnly),
		"frequencyPerDay": 4, "combinedServiceIndicator": false,
	}, map[string]string{"TPP-Redirect-Preferred": "false", "PSU-ID": c.login, "PSU-IP-Address": "127.0.0.1"}, &created); err != nil {
		return "", "", fmt.Errorf("createConsent: %w", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Post(c.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+c.login+`"}`))
		if err != nil {
			return "", "", fmt.Errorf("the sandbox's mobile app: %w", err)
		}
		res.Body.Close()
		var st struct {
			ConsentStatus string `json:"consentStatus"`
		}
		if _, err := cl.BerlinGroup(ctx, "GET", tppclient.BGPrefix+"/consents/"+created.ConsentID+"/status", nil, nil, &st); err != nil {
			return "", "", fmt.Errorf("getConsentStatus: %w", err)
		}
		if st.ConsentStatus == "valid" {
			break
		}
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("the consent is still %s after 15 s in the sandbox's mobile app", st.ConsentStatus)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var list struct {
		Accounts []struct{ ResourceID, IBAN string }
	}
	if _, err := cl.BerlinGroup(ctx, "GET", tppclient.BGPrefix+"/accounts", nil,
		map[string]string{"Consent-ID": created.ConsentID, "PSU-IP-Address": "127.0.0.1"}, &list); err != nil {
		return "", "", fmt.Errorf("getAccountList: %w", err)
	}
	for _, a := range list.Accounts {
		if a.IBAN == iban {
			return created.ConsentID, a.ResourceID, nil
		}
	}
	return "", "", fmt.Errorf("the consent's account list has no %s", iban)
}
