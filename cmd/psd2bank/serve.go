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
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/api"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/sandbox"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/web"
	"github.com/psd2bank/psd2bank/internal/webguard"
)

// serveConfig is the production server's configuration.
type serveConfig struct {
	db, apiAddr, webAddr, webURL string
	tlsCert, tlsKey              string
	behindProxy                  bool
	trustedProxies               listFlag
	proxyCertHeader              string
	qtspRoots, qtspIntermediates string
	register                     string
	sealCert, sealKey            string
	staffAddr                    string
}

// runServe runs the bank in production mode: only qualified certificates
// chained to the configured QTSP roots, never the sandbox QTSP's; the
// register file; the bank's own seal; PostgreSQL (or SQLite) given by --db.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var c serveConfig
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
	fs.StringVar(&c.sealCert, "seal-cert", "", "the bank's QSealC `file` (PEM), to sign responses")
	fs.StringVar(&c.sealKey, "seal-key", "", "the bank's QSealC key `file`")
	applyHashFlags := hashFlags(fs)
	adminAddr := adminFlags(fs)
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
	if len(missing) > 0 {
		return usageError{fmt.Sprintf("serve needs %v", missing)}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
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

	db, err := store.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	registry := tpp.New(db, clk, fr)
	books := ledger.New(db, clk)
	consents := consent.New(db, clk)
	scaSvc := sca.New(db, books, clk)
	webURL := c.webURL
	if webURL == "" {
		webURL = "http://" + c.webAddr
	}
	authz := oauth.New(oauth.Config{DB: db, Clock: clk, Clients: registry, Accounts: books, Customers: books, Consents: consents,
		Logger: log, PageURL: func(id string) string { return strings.TrimRight(webURL, "/") + "/authorize/" + id }})
	payments := payment.New(payment.Config{DB: db, Ledger: books, Clock: clk, Log: log})
	accessSvc := access.New(db, books, clk)
	httpClient := &http.Client{Timeout: 10 * time.Second}
	revocation := eidas.ChainChecker{eidas.NewOCSPChecker(httpClient, clk.Now), eidas.NewCRLChecker(httpClient, clk.Now)}
	verifier := func() *eidas.Verifier {
		return &eidas.Verifier{Roots: roots, Intermediates: inter, Revocation: revocation, Clock: clk.Now, RejectSandbox: true}
	}
	gw := &gateway.Gateway{
		Mode: gateway.Production, QWACs: verifier(), QSealCs: verifier(),
		Directory: sandbox.Directory{R: registry}, Register: sandbox.Licences{L: fr},
		DB: db, Signer: signer, Clock: clk, Log: log,
		TrustedProxies: proxies, ProxyCertHeader: c.proxyCertHeader, Tokens: api.Authenticator{S: authz, TPPs: true},
	}
	go runDuePayments(ctx, payments, log)
	metrics := server.NewMetrics()
	rec := stats.New(stats.Config{DB: db, Clock: clk, Log: log})
	metrics.Register(rec.Collectors()...)
	defer rec.Start(ctx)()
	if _, err := server.StartAdmin(ctx, adminAddr(), metrics, log); err != nil {
		return err
	}
	webRouter := chi.NewRouter()
	portal := web.New(web.Deps{Registry: registry, DB: db, Clock: clk, Log: log, Flow: web.OAuthFlow{S: authz}, SCA: scaSvc,
		Accounts: books, Access: accessSvc, Consents: consents, RevokeConsent: authz.RevokeConsent, Stats: rec,
		PublicURL: webURL}).Handler()
	for _, prefix := range []string{"/developer", "/developer/*", "/authorize/*", "/ib", "/ib/*"} { // the back office is on the staff listener (serve_staff.go)
		webRouter.Handle(prefix, portal)
	}
	webRouter.Get("/healthz", server.Healthz(db, "production", clk.Now))
	status := &stats.Public{DB: db, Clock: clk, Log: log}
	webRouter.Handle("/status", status)
	webRouter.Handle("/status.json", status)
	cfg := server.Config{APIAddr: c.apiAddr, WebAddr: c.webAddr, APITLS: apiTLS, Log: log, Metrics: metrics, Limits: server.Limits{Unlimited: proxies},
		API: metrics.Count("api", rec.Middleware(stats.API, api.Routes(api.Deps{Gateway: gw, Registrar: registry,
			Ledger: books, Consents: consents, OAuth: authz, Payments: payments, Access: accessSvc, DB: db}))),
		Web: metrics.Count("web", rec.Middleware(stats.Web, webguard.Headers(webRouter)))}
	cfg.StaffAddr, cfg.Staff = c.staffAddr, webguard.Headers(staffHandler(portal, metrics, server.Healthz(db, "production", clk.Now)))
	return server.Serve(ctx, cfg, func(ep server.Endpoints) {
		fmt.Fprintf(stdout, "psd2bank ready: api=%s web=%s\n", ep.API, ep.Web)
		if ep.Staff != "" {
			fmt.Fprintf(stdout, "psd2bank staff listener: %s (back office, /metrics)\n", ep.Staff)
		}
	})
}

// runDuePayments executes due payments (Elixir sessions, future-dated and
// recurring ones) every few seconds until ctx ends. Several nodes may run it:
// every transition is a compare-and-set.
func runDuePayments(ctx context.Context, p *payment.Service, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.RunDue(ctx); err != nil && ctx.Err() == nil {
				log.Error("payments run", "err", err)
			}
		}
	}
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
