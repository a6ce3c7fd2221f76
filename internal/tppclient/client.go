// Package tppclient is the TPP side of the bank's API: mutual TLS with the
// TPP's QWAC, requests sealed with its QSealC in the dialect's format, and
// the bank's seal checked on every answer. It reads a TPP the way the
// sandbox contract writes one: a directory with qwac.pem, qwac.key,
// qsealc.pem, qsealc.key and client.json.
package tppclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// Identity is client.json.
type Identity struct {
	ClientID    string   `json:"client_id"`
	TPPID       string   `json:"tpp_id"`
	RedirectURI string   `json:"redirect_uri"`
	Roles       []string `json:"roles"`
}

// Client calls one bank as one TPP.
type Client struct {
	API      string // https://host:port
	Dialect  string // "polishapi", "mbank" or "berlingroup"
	BankID   string // mBank's bank id
	Identity Identity
	http     *http.Client
	signer   *jws.Signer
	bankSeal *x509.Certificate
	clockURL string
	// skew is the bank's clock less ours, in nanoseconds, as the bank's
	// answers (their Date) and the sandbox's clock endpoint tell it.
	skew      atomic.Int64
	clockRead atomic.Bool
	// now is the bank's time: ours moved by skew. Everything the client
	// asks the bank to compare (a consent's time limit, a token's expiry, an
	// execution date, the day of the daily limit) uses it.
	now func() time.Time
}

// Config says where the TPP's files and the bank's certificates are.
type Config struct {
	TPPDir       string // qwac.pem, qwac.key, qsealc.pem, qsealc.key, client.json
	BankCAFile   string // verifies the API's server certificate (the sandbox's bank-tls-ca.pem)
	BankSealFile string // verifies the bank's signatures on answers (bank-qsealc.pem)
	API          string // the API's address, https://host:port
	Dialect      string // "polishapi" (default), "mbank" or "berlingroup"
	BankID       string // mBank's bank id in paths (default "pl-retail")
	// ClockURL is the sandbox's clock endpoint (GET /sandbox/clock on its
	// web listener), whose time the sandbox's bank keeps; empty for a real
	// bank, whose answers' Date headers tell its time.
	ClockURL string
}

// New loads a TPP's files.
func New(cfg Config) (*Client, error) {
	qwac, err := tls.LoadX509KeyPair(filepath.Join(cfg.TPPDir, "qwac.pem"), filepath.Join(cfg.TPPDir, "qwac.key"))
	if err != nil {
		return nil, fmt.Errorf("QWAC: %w", err)
	}
	seal, err := tls.LoadX509KeyPair(filepath.Join(cfg.TPPDir, "qsealc.pem"), filepath.Join(cfg.TPPDir, "qsealc.key"))
	if err != nil {
		return nil, fmt.Errorf("QSealC: %w", err)
	}
	sealCert, err := x509.ParseCertificate(seal.Certificate[0])
	if err != nil {
		return nil, err
	}
	signer, err := jws.NewSigner(seal.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
	if err != nil {
		return nil, fmt.Errorf("QSealC: %w", err)
	}
	c := &Client{API: strings.TrimRight(cfg.API, "/"), Dialect: cfg.Dialect, BankID: cfg.BankID, signer: signer, clockURL: cfg.ClockURL}
	c.now = func() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }
	if c.Dialect == "" {
		c.Dialect = "polishapi"
	}
	if c.Dialect != "polishapi" && c.Dialect != "mbank" && c.Dialect != DialectBerlinGroup {
		return nil, fmt.Errorf("dialect %q: use polishapi, mbank or berlingroup", c.Dialect)
	}
	if c.BankID == "" {
		c.BankID = "pl-retail"
	}
	raw, err := os.ReadFile(filepath.Join(cfg.TPPDir, "client.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &c.Identity); err != nil {
		return nil, fmt.Errorf("client.json: %w", err)
	}
	caPEM, err := os.ReadFile(cfg.BankCAFile)
	if err != nil {
		return nil, fmt.Errorf("bank CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("bank CA %s holds no certificate", cfg.BankCAFile)
	}
	sealPEM, err := os.ReadFile(cfg.BankSealFile)
	if err != nil {
		return nil, fmt.Errorf("bank seal: %w", err)
	}
	certs, err := eidas.LoadCertificatesPEM(sealPEM)
	if err != nil {
		return nil, fmt.Errorf("bank seal: %w", err)
	}
	c.bankSeal = certs[0]
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{qwac}, MinVersion: tls.VersionTLS12}}}
	return c, nil
}

// Error is the bank's refusal: its HTTP status, wire code and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// PolishAPI calls a PolishAPI operation (POST) with a fresh
// requestHeader (plus extra fields, e.g. isDirectPsu) and, when token is
// set, the access token; it decodes a 2xx answer into out (may be nil).
func (c *Client) PolishAPI(ctx context.Context, path string, body map[string]any, token string, header map[string]any, out any) error {
	req, err := c.SignedPolishAPI(ctx, path, body, token, header)
	if err != nil {
		return err
	}
	return c.do(req, token, "X-JWS-SIGNATURE", out)
}

// MBank calls an mBank v3 operation; body may be nil.
func (c *Client) MBank(ctx context.Context, method, path string, body any, token string, out any) error {
	return c.mbank(ctx, method, path, body, token, false, out)
}

// mbank is MBank; psuPresent sends PSU-Session: true (the customer is
// present, so the call does not count against the daily limit).
func (c *Client) mbank(ctx context.Context, method, path string, body any, token string, psuPresent bool, out any) error {
	var h map[string]string
	if psuPresent {
		h = map[string]string{"PSU-Session": "true"}
	}
	return c.mbankWith(ctx, method, path, body, token, h, out)
}

// mbankWith is MBank with extra headers (signed when mBank signs them).
func (c *Client) mbankWith(ctx context.Context, method, path string, body any, token string, headers map[string]string, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("TPP-Request-ID", uuid.Must(uuid.NewUUID()).String())
	req.Header.Set("TPP-ID", c.Identity.TPPID)
	req.Header.Set("Client-ID", c.Identity.ClientID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sig, err := c.signer.SignDetached(jws.MBankPayload(jws.MBankRequestURI(req), req.Header, raw))
	if err != nil {
		return err
	}
	req.Header.Set("JWS-Signature", sig)
	return c.do(req, token, "JWS-Signature", out)
}

func (c *Client) do(req *http.Request, token, sigHeader string, out any) error {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	c.observeDate(res.Header.Get("Date"))
	data, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return err
	}
	if len(data) > 0 {
		if _, err := jws.VerifyDetached(res.Header.Get(sigHeader), data, c.bankSeal); err != nil {
			return fmt.Errorf("the bank's answer is not signed with its seal: %w", err)
		}
	}
	if res.StatusCode/100 != 2 {
		e := &Error{Status: res.StatusCode}
		var body struct{ Code, Message string }
		if json.Unmarshal(data, &body) == nil {
			e.Code, e.Message = body.Code, body.Message
		} else {
			e.Message = string(data)
		}
		return e
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// observeDate learns the bank's time from an answer's Date header (the
// bank writes its own clock's time there, the sandbox's moved clock too).
// Without the sandbox's clock endpoint it is the best the client knows; a
// second's precision is enough for what it compares.
func (c *Client) observeDate(h string) {
	if h == "" || c.clockRead.Load() {
		return
	}
	at, err := http.ParseTime(h)
	if err != nil {
		return
	}
	skew := time.Until(at)
	if skew > -2*time.Second && skew < 2*time.Second {
		skew = 0 // the same clock, within the header's second
	}
	c.skew.Store(int64(skew))
}

// Now is the bank's time as far as the client knows it.
func (c *Client) Now() time.Time { return c.now() }

// BankNow is the bank's time: read from the sandbox's clock endpoint once
// (when configured), else as the bank's last answer told it.
func (c *Client) BankNow(ctx context.Context) time.Time {
	if c.clockURL != "" && !c.clockRead.Load() {
		c.SyncClock(ctx)
	}
	return c.now()
}

// SyncClock reads the sandbox's clock endpoint, when configured, and keeps
// the bank's time from then on; an error leaves the time as it was.
func (c *Client) SyncClock(ctx context.Context) error {
	if c.clockURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.clockURL, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the sandbox's clock: %w", err)
	}
	defer res.Body.Close()
	var body struct {
		Now string `json:"now"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&body); err != nil {
		return fmt.Errorf("the sandbox's clock: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, body.Now)
	if err != nil {
		return fmt.Errorf("the sandbox's clock says %q: %w", body.Now, err)
	}
	c.skew.Store(int64(time.Until(at)))
	c.clockRead.Store(true)
	return nil
}
