package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/psd2bank/psd2bank/internal/bank"
	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// serveConfig is the production server's configuration.
type serveConfig struct {
	config                       string
	db, apiAddr, webAddr, webURL string
	tlsCert, tlsKey              string
	behindProxy                  bool
	trustedProxies               listFlag
	proxyCertHeader              string
	qtspRoots, qtspIntermediates string
	register                     string
	sealCert, sealKey            string
	mobileWebhook, mobileSecret  string
	callbackCA                   string
	callbackLoopback             bool
	staffAddr                    string
}

// runServe runs the bank in production mode: only qualified certificates
// chained to the configured QTSP roots, never the sandbox QTSP's; the
// register file; the bank's own seal; PostgreSQL (or SQLite) given by --db.
// Settings come from flags, PSD2BANK_* variables and a config file (--config),
// in that order of precedence.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var c serveConfig
	fs.StringVar(&c.config, "config", "", "configuration `file`: one \"flag-name = value\" per line (see the README)")
	fs.StringVar(&c.db, "db", "", "database `URL` (postgres://...; an SQLite path for trials)")
	fs.StringVar(&c.apiAddr, "api-addr", "127.0.0.1:8443", "TPP API listener")
	fs.StringVar(&c.webAddr, "web-addr", "127.0.0.1:8080", "web listener: customer pages, developer portal, /healthz, /status")
	fs.StringVar(&c.staffAddr, "staff-addr", "", "the staff listener: back office and /metrics (none when empty: both are then not served)")
	fs.StringVar(&c.webURL, "web-url", "", "the web listener's public `address` for the consent pages TPPs send customers to (default http://WEB-ADDR)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "the API's server certificate `file` (PEM chain)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "the API's server key `file`")
	fs.BoolVar(&c.behindProxy, "api-behind-proxy", false, "serve the API as plain HTTP behind a TLS-terminating proxy that forwards client certificates")
	fs.Var(&c.trustedProxies, "trusted-proxy", "`CIDR` of a proxy allowed to forward client certificates (repeatable)")
	fs.StringVar(&c.proxyCertHeader, "proxy-cert-header", "X-SSL-Client-Cert", "header with the forwarded client certificate (URL-encoded PEM)")
	fs.StringVar(&c.qtspRoots, "qtsp-roots", "", "PEM `file` of the QTSP root certificates trusted for QWACs and QSealCs")
	fs.StringVar(&c.qtspIntermediates, "qtsp-intermediates", "", "PEM `file` of intermediate QTSP certificates (optional)")
	fs.StringVar(&c.register, "register", "", "the register of payment institutions: a `file` in the EBA register's JSON shape")
	fs.StringVar(&c.sealCert, "seal-cert", "", "the bank's QSealC `file` (PEM), to sign responses, callbacks and the mobile-app webhook")
	fs.StringVar(&c.sealKey, "seal-key", "", "the bank's QSealC key `file`")
	fs.StringVar(&c.mobileWebhook, "mobile-webhook-url", "", "the bank's mobile-app backend: every pending mobile-app approval is POSTed to this `URL`")
	fs.StringVar(&c.mobileSecret, "mobile-secret-file", "", "`file` with the secret (at least 32 bytes) the mobile-app backend signs its decisions with")
	fs.StringVar(&c.callbackCA, "callback-ca", "", "PEM `file` of extra CA certificates trusted when calling TPPs and the mobile-app backend back (a private PKI)")
	fs.BoolVar(&c.callbackLoopback, "callback-allow-loopback", false, "allow callbacks to loopback addresses (tests and development only; never in production)")
	applyHashFlags := hashFlags(fs)
	adminAddr := adminFlags(fs)
	newLog := logFlags(fs, "json", false)
	if path := configPath(args, getenv); path != "" {
		if err := applyConfigFile(fs, path); err != nil {
			return err
		}
	}
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	applyHashFlags()
	var missing []string
	for name, v := range map[string]string{"--db": c.db, "--qtsp-roots": c.qtspRoots, "--register": c.register,
		"--seal-cert": c.sealCert, "--seal-key": c.sealKey} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if !c.behindProxy && (c.tlsCert == "" || c.tlsKey == "") {
		missing = append(missing, "--tls-cert and --tls-key (or --api-behind-proxy)")
	}
	if (c.mobileWebhook == "") != (c.mobileSecret == "") {
		missing = append(missing, "--mobile-webhook-url and --mobile-secret-file together")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return usageError{fmt.Sprintf("serve needs %v", missing)}
	}
	log, err := newLog(stderr)
	if err != nil {
		return err
	}
	clk := clock.System{}

	roots, err := certPool(c.qtspRoots)
	if err != nil {
		return fmt.Errorf("--qtsp-roots: %w", err)
	}
	var inter *x509.CertPool
	if c.qtspIntermediates != "" {
		if inter, err = certPool(c.qtspIntermediates); err != nil {
			return fmt.Errorf("--qtsp-intermediates: %w", err)
		}
	}
	seal, err := tls.LoadX509KeyPair(c.sealCert, c.sealKey)
	if err != nil {
		return fmt.Errorf("the bank's seal: %w", err)
	}
	sealLeaf, err := x509.ParseCertificate(seal.Certificate[0])
	if err != nil {
		return err
	}
	signer, err := jws.NewSigner(seal.PrivateKey.(crypto.Signer), sealLeaf, jws.SignerOptions{})
	if err != nil {
		return fmt.Errorf("the bank's seal: %w", err)
	}
	fr, err := tpp.OpenFileRegister(c.register, clk)
	if err != nil {
		return fmt.Errorf("--register: %w", err)
	}
	var proxies []netip.Prefix
	for _, p := range c.trustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return usageError{fmt.Sprintf("--trusted-proxy %q: %v", p, err)}
		}
		proxies = append(proxies, prefix)
	}
	var apiTLS *tls.Config
	if !c.behindProxy {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return fmt.Errorf("the API's server certificate: %w", err)
		}
		apiTLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	}
	// The mobile-app backend is the bank's own (an address the operator
	// configured, private ones included); TPPs are called back under the
	// callback policy (https, registered hosts, public addresses).
	mobileClient := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var callbackRoots *x509.CertPool
	if c.callbackCA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		extra, err := os.ReadFile(c.callbackCA)
		if err != nil {
			return fmt.Errorf("--callback-ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(extra) {
			return fmt.Errorf("--callback-ca: %s holds no PEM certificate", c.callbackCA)
		}
		callbackRoots = pool
		mobileClient.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	mobile := bank.MobileConfig{WebhookURL: c.mobileWebhook, Client: mobileClient}
	if c.mobileSecret != "" {
		secret, err := os.ReadFile(c.mobileSecret)
		if err != nil {
			return fmt.Errorf("--mobile-secret-file: %w", err)
		}
		mobile.Secret = []byte(strings.TrimSpace(string(secret)))
	}

	db, err := store.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	// The consent pages' address: --web-url, or the web listener's own once
	// it listens.
	var webURL atomic.Value
	webURL.Store(strings.TrimRight(c.webURL, "/"))
	publicWeb := func() string {
		if u, _ := webURL.Load().(string); u != "" {
			return u
		}
		return "http://" + c.webAddr
	}
	httpClient := &http.Client{Timeout: 10 * time.Second}
	revocation := eidas.ChainChecker{eidas.NewOCSPChecker(httpClient, clk.Now), eidas.NewCRLChecker(httpClient, clk.Now)}
	verifier := func() *eidas.Verifier {
		return &eidas.Verifier{Roots: roots, Intermediates: inter, Revocation: revocation, Clock: clk.Now, RejectSandbox: true}
	}
	b, err := bank.New(bank.Config{DB: db, Clock: clk, Log: log, Register: fr, QWACs: verifier(), QSealCs: verifier(),
		Seal: signer, TrustedProxies: proxies, ProxyCertHeader: c.proxyCertHeader,
		WebURL: publicWeb, PublicURL: c.webURL, StaffListener: true,
		Callbacks: bank.CallbackConfig{Policy: callback.Policy{AllowLoopback: c.callbackLoopback}, RootCAs: callbackRoots},
		Mobile:    mobile})
	if err != nil {
		return err
	}
	go b.Run(ctx)
	if _, err := server.StartAdmin(ctx, adminAddr(), b.Metrics, log); err != nil {
		return err
	}
	cfg := server.Config{APIAddr: c.apiAddr, WebAddr: c.webAddr, APITLS: apiTLS, Log: log, Metrics: b.Metrics,
		Limits: server.Limits{Unlimited: proxies}, API: b.API(), Web: b.Web(b.WebRouter())}
	cfg.StaffAddr, cfg.Staff = c.staffAddr, b.Staff()
	return server.Serve(ctx, cfg, func(ep server.Endpoints) {
		if c.webURL == "" {
			webURL.Store(ep.Web)
		}
		fmt.Fprintf(stdout, "psd2bank ready: api=%s web=%s\n", ep.API, ep.Web)
		if ep.Staff != "" {
			fmt.Fprintf(stdout, "psd2bank staff listener: %s (back office, /metrics)\n", ep.Staff)
		}
	})
}

func certPool(path string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := eidas.LoadCertificatesPEM(raw)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
