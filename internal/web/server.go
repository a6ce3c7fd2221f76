// Package web serves the bank's server-rendered pages: internet banking's
// consent pages (/authorize/{request}: log-in, the consent in plain words,
// SCA by SMS code or mobile app), the TPP developer portal (/developer:
// sign-up, the production application with documents and certificates, its
// status) and the back office (/backoffice: review of applications, TPPs
// and their suspension, the audit log).
//
// The pages are html/template files embedded in the binary; every form
// works without JavaScript. Cross-origin form posts are refused
// (http.CrossOriginProtection), sessions live in the database (several
// nodes agree on them) behind HttpOnly, SameSite=Lax cookies, and the pages
// speak Polish and English (Accept-Language, or ?lang=pl / ?lang=en).
package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Deps are what the pages need.
type Deps struct {
	Registry *tpp.Registry
	DB       store.Querier // for the sessions table
	Clock    clock.Clock
	Log      *slog.Logger // nil: discard
	Sandbox  bool         // show the sandbox notes

	// Internet banking's consent pages (/authorize/...) are served when
	// Flow is set; they need SCA and Accounts too.
	Flow     ConsentFlow
	SCA      *sca.Service
	Accounts AccountLister

	// Access, when set, adds the account holder's control: internet
	// banking's /ib/... pages (API access per account, limits, consents;
	// they need SCA too) and the hotline's /backoffice/hotline/... pages
	// (they need Registry for staff sessions). Consents and RevokeConsent
	// (oauth.Server.RevokeConsent: the consent and its tokens) serve the
	// customer's consents page.
	Access        *access.Service
	Consents      CustomerConsents
	RevokeConsent func(ctx context.Context, consentID, by, reason string) (consent.Consent, error)

	// PublicURL is the pages' public address. When it is https (a TLS
	// proxy in front), every cookie is Secure even though the request
	// reached the bank over plain HTTP.
	PublicURL string

	// Payments, when set, lets the consent page of a cancellation show the
	// payment it cancels (amount, recipient, title), when it is the
	// customer's.
	Payments *payment.Service

	// Stats, when set, adds the back office's interface statistics
	// (/backoffice/stats: charts, files, planned outages) and the banner
	// on every back-office page while an interface is down.
	Stats *stats.Recorder

	// Obs, when set, logs and counts every back-office action (a staff
	// member's POST: the route, the staff login, the outcome).
	Obs *obs.Observer
}

// Server serves the developer portal, the back office and the consent pages.
type Server struct {
	httpsPublic bool // the public address is https: cookies are Secure
	reg         *tpp.Registry
	sessions    *sessions
	log         *slog.Logger
	obs         *obs.Observer
	sandbox     bool
	pages       map[string]*template.Template // every area's pages (loadPages)

	flow     ConsentFlow
	sca      *sca.Service
	accounts AccountLister

	access        *access.Service
	consents      CustomerConsents
	revokeConsent func(ctx context.Context, consentID, by, reason string) (consent.Consent, error)

	stats   *stats.Recorder
	statsDB store.Querier

	payments *payment.Service

	clock clock.Clock // the bank's clock: the pages' "now" (the sandbox's moves)
}

// New builds the server; it panics if an embedded template is broken (a
// programming error caught by any test).
func New(deps Deps) *Server {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := deps.Clock
	if c == nil {
		c = clock.System{}
	}
	s := &Server{reg: deps.Registry, sessions: &sessions{db: deps.DB, clock: c}, log: log, obs: deps.Obs, sandbox: deps.Sandbox,
		pages: map[string]*template.Template{},
		flow:  deps.Flow, sca: deps.SCA, accounts: deps.Accounts,
		access: deps.Access, consents: deps.Consents, revokeConsent: deps.RevokeConsent,
		stats: deps.Stats, statsDB: deps.DB,
		httpsPublic: isHTTPS(deps.PublicURL), clock: c, payments: deps.Payments}
	// The pages of every area, each with its area's layout.
	loadPages(s.pages, templateFS, []string{"templates/dev_*.html", "templates/bo_*.html", "templates/message.html"}, "",
		"templates/layout.html", "templates/certs.html")
	loadPages(s.pages, templateFS, []string{"templates/bank_*.html"}, "", "templates/bank_layout.html")
	loadPages(s.pages, ibFS, []string{"templates/ib/*.html"}, "ib_", "templates/ib/layout.html")
	return s
}

// Handler returns the handler of /developer, /developer/..., /backoffice
// and /backoffice/... (and /authorize/... when Deps.Flow is set), with
// cross-origin protection and security headers. Its routes are absolute paths: mount it on those prefixes without
// stripping them (any other path gets a 404 page).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	assetServer := http.FileServerFS(assets)
	mux.Handle("GET /developer/assets/", http.StripPrefix("/developer/assets/", assetServer))
	mux.Handle("GET /backoffice/assets/", http.StripPrefix("/backoffice/assets/", assetServer))

	mux.HandleFunc("GET /developer", s.session(developerRealm, s.devHome))
	mux.HandleFunc("GET /developer/{$}", s.session(developerRealm, s.devHome))
	mux.HandleFunc("POST /developer/signup", s.devSignUp)
	mux.HandleFunc("POST /developer/login", s.devLogin)
	mux.HandleFunc("POST /developer/logout", s.devLogout)
	mux.HandleFunc("GET /developer/application", s.developer(s.devApplication))
	mux.HandleFunc("POST /developer/application/documents", s.developer(s.devUploadDocument))
	mux.HandleFunc("GET /developer/application/documents/{doc}", s.developer(s.devDocument))
	mux.HandleFunc("POST /developer/application/certificates", s.developer(s.devUploadCertificate))
	mux.HandleFunc("POST /developer/application/submit", s.developer(s.devSubmit))

	mux.HandleFunc("GET /backoffice", s.staff(s.boHome))
	mux.HandleFunc("GET /backoffice/{$}", s.staff(s.boHome))
	mux.HandleFunc("GET /backoffice/login", s.boLoginPage)
	mux.HandleFunc("POST /backoffice/login", s.boLogin)
	mux.HandleFunc("POST /backoffice/logout", s.boLogout)
	mux.HandleFunc("GET /backoffice/applications", s.staff(s.boApplications))
	mux.HandleFunc("GET /backoffice/applications/{id}", s.staff(s.boApplication))
	mux.HandleFunc("GET /backoffice/applications/{id}/documents/{doc}", s.staff(s.boDocument))
	mux.HandleFunc("POST /backoffice/applications/{id}/approve", s.staff(s.boApprove))
	mux.HandleFunc("POST /backoffice/applications/{id}/reject", s.staff(s.boReject))
	mux.HandleFunc("GET /backoffice/tpps", s.staff(s.boTPPs))
	mux.HandleFunc("POST /backoffice/tpps/suspend", s.staff(s.boSuspend))
	mux.HandleFunc("POST /backoffice/tpps/reinstate", s.staff(s.boReinstate))
	mux.HandleFunc("GET /backoffice/audit", s.staff(s.boAudit))
	s.loginRoutes(mux)
	if s.flow != nil {
		s.bankRoutes(mux)
	}
	if s.access != nil {
		s.accessRoutes(mux)
	}
	if s.stats != nil {
		s.statsRoutes(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.message(w, r, http.StatusNotFound, "title.not_found", translate(language(w, r), "error.not_found"))
	})

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.message(w, r, http.StatusForbidden, "title.forbidden", translate(language(w, r), "error.csrf"))
	}))
	return secureBehindProxy(s.httpsPublic, securityHeaders(csrf.Handler(mux)))
}

// securityHeaders forbids framing, inline scripts and MIME sniffing, and
// keeps the pages out of caches.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// renderPage executes a page's layout template into a buffer and sends it
// with the given status; a template error becomes a plain 500 (and a log
// line), never half a page.
func (s *Server) renderPage(w http.ResponseWriter, status int, pages map[string]*template.Template, layout, page string, data any) {
	t, ok := pages[page]
	if !ok {
		s.log.Error("no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layout, data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorText is the message for people about err, logging errors that are
// not the registry's own refusals.
func (s *Server) errorText(r *http.Request, lang string, err error) string {
	if tpp.CodeOf(err) == "" {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return capitalize(tpp.Message(err, lang))
}

// statusOf maps a registry error to an HTTP status.
func statusOf(err error) int {
	status, _, _ := failure(err, "en")
	return status
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// seeOther redirects after a successful POST.
func seeOther(w http.ResponseWriter, r *http.Request, url string) {
	http.Redirect(w, r, url, http.StatusSeeOther)
}
