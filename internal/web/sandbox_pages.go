package web

import (
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// The sandbox's own pages (never in production): its start page (/) and
// its SMS box (/sandbox/sms?login=LOGIN) as a readable page. The SMS box
// stays JSON for programs (the sandbox contract): the page is served only
// to a client that asks for HTML first (a browser's Accept) or with
// ?format=html; ?format=json always gets the JSON.

// SandboxPages serves the sandbox's pages in the pages' look.
type SandboxPages struct {
	SCA   *sca.Service
	Clock clock.Clock
	Dir   string // the data directory, named on the start page
}

// sandboxArea is the sandbox's pages.
var sandboxArea = area{prefix: "/sandbox", layout: "layout", message: "message", name: "area.sandbox"}

// sandboxTemplates are loaded once.
var sandboxTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	loadPages(m, templateFS, []string{"templates/sandbox_*.html"}, "", "templates/layout.html")
	return m
}()

// wantsHTML tells whether the SMS box answers with its page: ?format=html,
// or an Accept whose first choice is text/html (browsers); ?format=json,
// no Accept, */* (curl) and application/json get JSON.
func wantsHTML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "html":
		return true
	case "json":
		return false
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(first))
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// SMSBox serves GET /sandbox/sms: the page for browsers, json (the SCA
// service's sandbox handler) for everyone else.
func (p SandboxPages) SMSBox(json http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !wantsHTML(r) {
			json.ServeHTTP(w, r)
			return
		}
		login := strings.TrimSpace(r.URL.Query().Get("login"))
		v := p.view(w, r, "sandbox_sms", "sms.title")
		d := smsBoxPage{Login: login}
		status := http.StatusOK
		if login != "" {
			d.JSON = "/sandbox/sms?" + url.Values{"login": {login}, "format": {"json"}}.Encode()
			if _, err := p.SCA.Customer(r.Context(), login); err != nil {
				status = http.StatusNotFound
				if sca.CodeOf(err) == "" {
					status = http.StatusInternalServerError
				}
				v.Error = capitalize(sca.Message(err, v.Lang))
			} else if msgs, err := p.SCA.SMSOutbox(r.Context(), login, 50); err != nil {
				status, v.Error = http.StatusInternalServerError, translate(v.Lang, "error.internal")
			} else {
				d.Messages, d.Found = msgs, true
			}
		}
		v.D = d
		renderSandbox(w, status, v)
	})
}

// Index serves the sandbox's start page (/).
func (p SandboxPages) Index() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		v := p.view(w, r, "sandbox_index", "sandbox.title")
		v.D = struct{ Dir string }{p.Dir}
		renderSandbox(w, http.StatusOK, v)
	})
}

// Assets serves the pages' stylesheet under /sandbox/assets/.
func (p SandboxPages) Assets() http.Handler {
	assets, _ := fs.Sub(assetFS, "assets")
	return http.StripPrefix("/sandbox/assets/", http.FileServerFS(assets))
}

// smsBoxPage is the data of the SMS box page.
type smsBoxPage struct {
	Login    string
	Found    bool
	Messages []sca.SMS
	JSON     string // the same list as JSON
}

// view starts a sandbox page's view (no session: the sandbox's tools are
// open).
func (p SandboxPages) view(w http.ResponseWriter, r *http.Request, page, title string) view {
	now := p.Clock.Now()
	v := view{Lang: language(w, r), Page: page, Title: title, Area: sandboxArea.name, Base: sandboxArea.prefix,
		Home: "/", Sandbox: true, Now: now, layout: sandboxArea.layout}
	q := r.URL.Query()
	for _, l := range languages {
		q.Set("lang", l)
		if l == "pl" {
			v.LangPL = r.URL.Path + "?" + q.Encode()
		} else {
			v.LangEN = r.URL.Path + "?" + q.Encode()
		}
	}
	return v
}

// renderSandbox writes a sandbox page.
func renderSandbox(w http.ResponseWriter, status int, v view) {
	s := &Server{log: slog.New(slog.DiscardHandler), pages: sandboxTemplates}
	s.render(w, status, v)
}
