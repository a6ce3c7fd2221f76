// Package bank assembles the bank once: from one Config it builds every
// service (ledger, TPP registry, consents, authorization server, SCA,
// payments, API access), the TPP API's and the web pages' handlers, and the
// background workers (the payments run, the payment status callbacks to
// TPPs, the mobile-app webhook and the completion of decoupled approvals).
//
// `psd2bank sandbox` (internal/sandbox) is this bank plus the sandbox QTSP,
// synthetic data, the /sandbox/* endpoints and the movable clock;
// `psd2bank serve` (cmd/psd2bank) is this bank plus the configured trust
// anchors, register of payment institutions, seal and database. Nothing a
// customer or a TPP can do is wired in only one of them.
package bank

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/api"
	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/web"
	"github.com/psd2bank/psd2bank/internal/webguard"
)

// Config is everything the bank is built from.
type Config struct {
	DB    *store.DB
	Clock clock.Clock
	Log   *slog.Logger // nil: discard

	// Sandbox marks the sandbox: the gateway accepts only sandbox
	// certificates (and registers TPPs dynamically), the pages show the
	// sandbox notes. Otherwise only qualified certificates are accepted.
	Sandbox bool

	// Register is the register of payment institutions (licences).
	Register *tpp.FileRegister
	// QWACs and QSealCs verify the TPPs' certificates (trust anchors and
	// revocation).
	QWACs, QSealCs *eidas.Verifier
	// Seal signs the API's responses, the callbacks to TPPs and the
	// mobile-app webhook (the bank's QSealC).
	Seal *jws.Signer
	// TrustedProxies may forward client certificates in ProxyCertHeader
	// (the API behind a TLS-terminating proxy).
	TrustedProxies  []netip.Prefix
	ProxyCertHeader string

	// WebURL is the web listener's public address (http(s)://host[:port]),
	// where TPPs send customers to the consent pages. A function: the
	// sandbox learns it only once it listens.
	WebURL func() string
	// PublicURL is the pages' configured public address ("" when not
	// configured): when it is https every cookie is Secure.
	PublicURL string
	// StaffListener keeps the back office and /metrics off the web
	// listener: they are served by Staff, on the staff listener (serve).
	StaffListener bool

	// Callbacks is how the bank calls TPPs back (payment statuses and
	// decoupled results).
	Callbacks CallbackConfig
	// Mobile is the bank's mobile-app backend (decoupled approval and the
	// mobile-app method of the pages). Without a WebhookURL nothing is sent
	// (the sandbox approves with POST /sandbox/mobile/approve).
	Mobile MobileConfig

	// Every is the period of the background workers (default 5 s).
	Every time.Duration
}

// CallbackConfig is how the bank calls TPPs back.
type CallbackConfig struct {
	// Policy is where callbacks may go: the zero value is callback.Strict
	// (https, the client's registered hosts, public addresses only, checked
	// again when connecting); the sandbox uses callback.Sandbox; tests may
	// allow loopback addresses.
	Policy callback.Policy
	// RootCAs, when set, are the CAs trusted for the TPPs' https servers
	// instead of the system's (a private PKI; tests).
	RootCAs *x509.CertPool
}

// Bank is the assembled bank.
type Bank struct {
	cfg      Config
	log      *slog.Logger
	DB       *store.DB
	Clock    clock.Clock
	Ledger   *ledger.Ledger
	Registry *tpp.Registry
	Gateway  *gateway.Gateway
	Consents *consent.Service
	OAuth    *oauth.Server
	SCA      *sca.Service
	Payments *payment.Service
	Access   *access.Service
	Metrics  *server.Metrics
	Stats    *stats.Recorder // the interfaces' statistics
	// Obs logs and counts what an operator watches (refusals, log-ins,
	// SMS codes, payments' statuses, back-office actions, clock moves);
	// every service of the bank reports to it.
	Obs *obs.Observer

	callbacks     *http.Client // under cfg.Callbacks.Policy
	portalOnce    sync.Once
	portalHandler http.Handler
	notifier      *payment.Notifier
	mobile        *mobileWebhook
	callbackKick  chan struct{}
}

// New builds the bank.
func New(cfg Config) (*Bank, error) {
	if cfg.DB == nil || cfg.Clock == nil || cfg.Seal == nil || cfg.QWACs == nil || cfg.QSealCs == nil || cfg.Register == nil {
		return nil, errors.New("bank: Config needs DB, Clock, Seal, QWACs, QSealCs and Register")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.WebURL == nil {
		cfg.WebURL = func() string { return "http://127.0.0.1:8080" }
	}
	b := &Bank{cfg: cfg, log: cfg.Log, DB: cfg.DB, Clock: cfg.Clock, Metrics: server.NewMetrics(),
		callbackKick: make(chan struct{}, 1)}
	b.callbacks = cfg.Callbacks.Policy.Client()
	if cfg.Callbacks.RootCAs != nil {
		if tr, ok := b.callbacks.Transport.(*http.Transport); ok {
			tr = tr.Clone()
			tr.TLSClientConfig = &tls.Config{RootCAs: cfg.Callbacks.RootCAs, MinVersion: tls.VersionTLS12}
			b.callbacks.Transport = tr
		}
	}
	policy := cfg.Callbacks.Policy
	om := obs.NewMetrics()
	b.Metrics.Register(om.Collectors()...)
	b.Metrics.Register(stateCollector{db: cfg.DB, clock: cfg.Clock, log: b.log})
	b.Metrics.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "psd2bank_db_statements_total",
		Help: "SQL statements this node has run (BEGIN and COMMIT included)"}, func() float64 { return float64(cfg.DB.Queries()) }))
	b.Obs = obs.New(b.log, om)
	b.Ledger = ledger.New(cfg.DB, cfg.Clock)
	b.Registry = tpp.New(cfg.DB, cfg.Clock, cfg.Register)
	b.Registry.Lockout().Observe(b.Obs)
	b.Consents = consent.New(cfg.DB, cfg.Clock)
	b.SCA = sca.New(cfg.DB, b.Ledger, cfg.Clock)
	b.SCA.Guard().Observe(b.Obs)
	b.SCA.Obs = b.Obs
	b.OAuth = oauth.New(oauth.Config{DB: cfg.DB, Clock: cfg.Clock, Clients: b.Registry, Accounts: b.Ledger, Customers: b.Ledger,
		Consents: b.Consents, Logger: b.log, Callbacks: policy,
		Deliver: func(ctx context.Context, callbackURL string, body []byte) error {
			return policy.Post(ctx, b.callbacks, callbackURL, body)
		},
		PageURL: func(requestID string) string { return strings.TrimRight(cfg.WebURL(), "/") + "/authorize/" + requestID }})
	b.SCA.OnDecision = b.decoupledDecision
	b.Payments = payment.New(payment.Config{DB: cfg.DB, Ledger: b.Ledger, Clock: cfg.Clock, Log: b.log, Obs: b.Obs})
	b.Access = access.New(cfg.DB, b.Ledger, cfg.Clock)
	b.Stats = stats.New(stats.Config{DB: cfg.DB, Clock: cfg.Clock, Log: b.log})
	b.Metrics.Register(b.Stats.Collectors()...)
	mode := gateway.Production
	if cfg.Sandbox {
		mode = gateway.Sandbox
	}
	b.Gateway = &gateway.Gateway{
		Mode: mode, QWACs: cfg.QWACs, QSealCs: cfg.QSealCs,
		Directory: Directory{R: b.Registry, Kept: new(live.Kept[gateway.TPPStatus])}, Register: Licences{L: cfg.Register},
		DB: cfg.DB, Signer: cfg.Seal, Clock: cfg.Clock, Log: b.log, Obs: b.Obs,
		TrustedProxies: cfg.TrustedProxies, ProxyCertHeader: cfg.ProxyCertHeader,
		Tokens: api.Authenticator{S: b.OAuth, TPPs: true},
	}
	b.notifier = payment.NewNotifier(payment.NotifierConfig{Payments: b.Payments, Log: b.log, Policy: policy, Client: b.callbacks,
		Render: func(ctx context.Context, n payment.Notification, p payment.Payment) (payment.Callback, error) {
			return renderCallback(ctx, b.Consents, cfg.Seal, n, p)
		}})
	if cfg.Mobile.WebhookURL != "" {
		m, err := newMobileWebhook(b, cfg.Mobile)
		if err != nil {
			return nil, err
		}
		b.mobile = m
	}
	return b, nil
}

// API is the TPP API's handler (every dialect's operations behind the
// gateway), counted in the metrics.
func (b *Bank) API() http.Handler {
	return b.Metrics.Count("api", b.Stats.Middleware(stats.API, api.Routes(api.Deps{Gateway: b.Gateway, Registrar: b.Registry,
		Ledger: b.Ledger, Consents: b.Consents, OAuth: b.OAuth, OnDecoupled: b.startDecoupled, Payments: b.Payments,
		Access: b.Access, DB: b.DB})))
}

// WebRouter is the web listener's router: the consent pages, internet
// banking (API access, limits, consents), the developer portal, the back
// office, the mobile-app decision endpoint (when configured), /healthz,
// /metrics and the public statistics (/status, /status.json). The sandbox adds its own routes to it; Web counts it.
func (b *Bank) WebRouter() chi.Router {
	r := chi.NewRouter()
	portal := b.portal()
	prefixes := []string{"/developer", "/developer/*", "/authorize/*", "/ib", "/ib/*"}
	if !b.cfg.StaffListener {
		prefixes = append(prefixes, "/backoffice", "/backoffice/*")
		r.Handle("/metrics", b.Metrics.Handler())
	}
	for _, prefix := range prefixes {
		r.Handle(prefix, portal)
	}
	if b.mobile != nil {
		r.Post(MobileDecisionPath, b.mobile.decision)
	}
	r.Get("/healthz", b.health())
	status := &stats.Public{DB: b.DB, Clock: b.Clock, Log: b.log}
	r.Handle("/status", status)
	r.Handle("/status.json", status)
	return r
}

// Staff is the staff listener's handler (with Config.StaffListener): the
// back office, /metrics and /healthz, for an internal network.
func (b *Bank) Staff() http.Handler {
	r := chi.NewRouter()
	portal := b.portal()
	r.Handle("/backoffice", portal)
	r.Handle("/backoffice/*", portal)
	r.Handle("/metrics", b.Metrics.Handler())
	r.Handle("/healthz", b.health())
	return b.Metrics.Count("staff", webguard.Headers(r))
}

// portal is the pages' handler (one, whichever listeners serve it).
func (b *Bank) portal() http.Handler {
	b.portalOnce.Do(func() {
		b.portalHandler = web.New(web.Deps{Registry: b.Registry, DB: b.DB, Clock: b.Clock, Log: b.log, Sandbox: b.cfg.Sandbox,
			Flow: web.OAuthFlow{S: b.OAuth}, SCA: b.SCA, Accounts: b.Ledger, Access: b.Access, Consents: b.Consents,
			RevokeConsent: b.OAuth.RevokeConsent, Stats: b.Stats, PublicURL: b.cfg.PublicURL, Payments: b.Payments, Obs: b.Obs}).Handler()
	})
	return b.portalHandler
}

func (b *Bank) health() http.HandlerFunc {
	mode := "production"
	if b.cfg.Sandbox {
		mode = "sandbox"
	}
	return server.Healthz(b.DB, mode, b.Clock.Now)
}

// Web is the web listener's handler: h (WebRouter with any additions) with
// the pages' security headers, counted in the metrics and the statistics.
func (b *Bank) Web(h http.Handler) http.Handler {
	return b.Metrics.Count("web", b.Stats.Middleware(stats.Web, webguard.Headers(h)))
}

// Run runs the background workers until ctx ends: the payments run and the
// callbacks to TPPs every Every (and the callbacks at once after a run);
// the mobile-app webhook; and the decoupled sweep — decisions whose
// completion a crash interrupted, and decoupled results no node is
// delivering. Every worker is safe on several nodes sharing the database.
func (b *Bank) Run(ctx context.Context) {
	defer b.Stats.Start(ctx)()
	go b.callbacksLoop(ctx)
	if b.mobile != nil {
		go b.mobile.loop(ctx)
	}
	go b.every(ctx, func() {
		b.completeDecoupled(ctx)
		if n, err := b.OAuth.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("decoupled results", "err", err)
		} else if n > 0 {
			b.log.Info("decoupled results taken over", "results", n)
		}
	})
	b.every(ctx, func() { b.RunPayments(ctx) })
}

// every calls fn every Every until ctx ends.
func (b *Bank) every(ctx context.Context, fn func()) {
	t := time.NewTicker(b.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// RunPayments executes what is due — Elixir sessions that cleared,
// future-dated and recurring payments — and asks the callback sender to
// tell the TPPs what changed. The sandbox calls it when its clock moves.
func (b *Bank) RunPayments(ctx context.Context) {
	// Berlin Group payments the customer has approved and the TPP has not
	// read since are initiated first (the other dialects' TPPs initiate
	// after the approval themselves).
	if n, refused, err := berlingroup.SettleDue(ctx, berlingroup.Deps{Ledger: b.Ledger, Consents: b.Consents,
		Payments: b.Payments, Access: b.Access, DB: b.DB}); err != nil {
		if ctx.Err() == nil {
			b.log.Error("berlingroup payments settle", "err", err)
		}
	} else if n+refused > 0 {
		b.log.Info("berlingroup payments initiated after approval", "initiated", n, "refused", refused)
	}
	rep, err := b.Payments.RunDue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("payments run", "err", err)
		}
		return
	}
	b.kickCallbacks()
	if rep.Settled+rep.Executed+rep.Rejected+rep.Occurrences > 0 {
		b.log.Info("payments run", "settled", rep.Settled, "executed", rep.Executed, "rejected", rep.Rejected,
			"occurrences", rep.Occurrences, "now", b.Clock.Now().UTC().Format(time.RFC3339))
	}
}
