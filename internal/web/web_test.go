package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
	"github.com/psd2bank/psd2bank/internal/web"
)

var testNow = time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC)

// licensedOrg is in the test register, authorised for AIS, PIS and CAF.
const licensedOrg = "PSDPL-KNF-0000054321"

// env is the real handler on a test database, served by httptest.
type env struct {
	srv *httptest.Server
	reg *tpp.Registry
	clk *clock.Fixed
}

func newEnv(t *testing.T, db *store.DB) env {
	t.Helper()
	path := filepath.Join(t.TempDir(), tpp.SandboxRegisterFile)
	if err := tpp.EnsureRegisterFile(path); err != nil {
		t.Fatal(err)
	}
	if err := tpp.AddToRegisterFile(path, tpp.EntryInput{OrgID: licensedOrg, Name: "Licensed TPP sp. z o.o.",
		Roles: []string{"PSP_AI", "PSP_PI", "PSP_IC"}, AuthorisedOn: testNow.AddDate(-1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(testNow)
	licences, err := tpp.OpenFileRegister(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	reg := tpp.New(db, clk, licences)
	if err := reg.EnsureStaff(context.Background(), "anna", "back office password", tpp.RoleBackoffice); err != nil {
		t.Fatal(err)
	}
	s := web.New(web.Deps{Registry: reg, DB: db, Clock: clk, Sandbox: true})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return env{srv: srv, reg: reg, clk: clk}
}

// client is a browser-like client with its own cookies; it does not follow
// redirects, so that tests see them.
func (e env) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e env) get(t *testing.T, c *http.Client, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func (e env) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func (e env) upload(t *testing.T, c *http.Client, path string, fields map[string]string, fileField, filename string, content []byte, header ...string) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile(fileField, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// signUp opens a developer account with the client and returns its
// application id.
func (e env) signUp(t *testing.T, c *http.Client, org, email string) string {
	t.Helper()
	res := e.post(t, c, "/developer/signup", url.Values{"org_id": {org}, "name": {"Firm " + email},
		"email": {email}, "password": {"developer password"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/developer/application" {
		t.Fatalf("sign up: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	d, err := e.reg.AuthenticateDeveloper(context.Background(), email, "developer password")
	if err != nil {
		t.Fatal(err)
	}
	return d.ApplicationID
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client(t)
		form := url.Values{"org_id": {licensedOrg}, "name": {"X"}, "email": {"x@example.pl"}, "password": {"developer password"}}
		for name, header := range map[string][]string{
			"foreign Origin":          {"Origin", "https://evil.example"},
			"Sec-Fetch-Site: cross":   {"Sec-Fetch-Site", "cross-site"},
			"Sec-Fetch-Site: sibling": {"Sec-Fetch-Site", "same-site"},
		} {
			res := e.post(t, c, "/developer/signup", form, header...)
			if res.status != http.StatusForbidden || !strings.Contains(res.body, "cross-origin") {
				t.Errorf("%s: %d\n%s", name, res.status, res.body)
			}
		}
		if _, err := e.reg.AuthenticateDeveloper(context.Background(), "x@example.pl", "developer password"); tpp.CodeOf(err) != tpp.CodeUnauthenticated {
			t.Errorf("a refused cross-origin sign-up created an account: %v", err)
		}
		// The same form from the page's own origin goes through.
		res := e.post(t, c, "/developer/signup", form, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin")
		if res.status != http.StatusSeeOther {
			t.Errorf("same-origin sign-up: %d\n%s", res.status, res.body)
		}
		// Cookies are HttpOnly and SameSite=Lax.
		setCookie := strings.Join(res.header.Values("Set-Cookie"), "\n")
		if !strings.Contains(setCookie, "psd2bank_developer=") || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") {
			t.Errorf("session cookie: %s", setCookie)
		}
	})
}

func TestBackofficeNeedsLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client(t)
		for _, path := range []string{"/backoffice", "/backoffice/applications", "/backoffice/tpps", "/backoffice/audit",
			"/backoffice/applications/some-id", "/backoffice/applications/some-id/documents/doc"} {
			res := e.get(t, c, path)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/backoffice/login" {
				t.Errorf("GET %s: %d %q, want a redirect to the log-in page", path, res.status, res.header.Get("Location"))
			}
		}
		res := e.post(t, c, "/backoffice/tpps/suspend", url.Values{"tpp_id": {licensedOrg}, "reason": {"x"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/backoffice/login" {
			t.Errorf("POST suspend: %d %q", res.status, res.header.Get("Location"))
		}
		// A developer session is no back-office session.
		e.signUp(t, c, licensedOrg, "dev@example.pl")
		if res := e.get(t, c, "/backoffice/applications"); res.status != http.StatusSeeOther {
			t.Errorf("developer in the back office: %d", res.status)
		}
		// Wrong password: refused; right one: in.
		res = e.post(t, c, "/backoffice/login", url.Values{"login": {"anna"}, "password": {"wrong"}})
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong login or password") {
			t.Errorf("wrong password: %d\n%s", res.status, res.body)
		}
		res = e.post(t, c, "/backoffice/login", url.Values{"login": {"anna"}, "password": {"back office password"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("log in: %d\n%s", res.status, res.body)
		}
		if res := e.get(t, c, "/backoffice/applications?status=all"); res.status != http.StatusOK || !strings.Contains(res.body, "Firm dev@example.pl") {
			t.Errorf("applications after log in: %d\n%s", res.status, res.body)
		}
		// Logging out ends the session on the server.
		e.post(t, c, "/backoffice/logout", nil)
		if res := e.get(t, c, "/backoffice/applications"); res.status != http.StatusSeeOther {
			t.Errorf("after log out: %d", res.status)
		}
	})
}

func TestDeveloperSeesOnlyTheirApplication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		alice, bob := e.client(t), e.client(t)
		aliceApp := e.signUp(t, alice, licensedOrg, "alice@example.pl")
		e.signUp(t, bob, "PSDPL-KNF-0000000077", "bob@example.pl")
		res := e.upload(t, alice, "/developer/application/documents", map[string]string{"kind": tpp.DocLicence}, "file", "alice-licence.pdf", tpptest.PDF)
		if res.status != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", res.status, res.body)
		}
		docs, err := e.reg.Documents(context.Background(), aliceApp)
		if err != nil || len(docs) != 1 {
			t.Fatalf("documents = %v, %v", docs, err)
		}
		docPath := "/developer/application/documents/" + docs[0].ID
		if res := e.get(t, alice, docPath); res.status != http.StatusOK || res.body != string(tpptest.PDF) ||
			res.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("alice's own document: %d %v", res.status, res.header)
		}
		if res := e.get(t, bob, docPath); res.status != http.StatusNotFound || strings.Contains(res.body, "%PDF") {
			t.Errorf("bob got alice's document: %d", res.status)
		}
		if res := e.get(t, bob, "/developer/application"); res.status != http.StatusOK || strings.Contains(res.body, "alice") ||
			!strings.Contains(res.body, "PSDPL-KNF-0000000077") {
			t.Errorf("bob's application page shows another application:\n%s", res.body)
		}
		// Without a session: to the log-in page.
		if res := e.get(t, e.client(t), docPath); res.status != http.StatusSeeOther || res.header.Get("Location") != "/developer" {
			t.Errorf("anonymous: %d %q", res.status, res.header.Get("Location"))
		}
	})
}

func TestDocumentUploadRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client(t)
		appID := e.signUp(t, c, licensedOrg, "dev@example.pl")
		oversized := append(append([]byte{}, tpptest.PDF...), make([]byte, tpp.MaxDocumentSize)...)
		tests := []struct {
			name     string
			filename string
			content  []byte
			lang     string
			status   int
			want     string
		}{
			{"oversized PDF", "licence.pdf", oversized, "en", http.StatusRequestEntityTooLarge, "larger than 5 MiB"},
			{"far too large body", "licence.pdf", make([]byte, tpp.MaxDocumentSize+2<<20), "en", http.StatusRequestEntityTooLarge, "larger than 5 MiB"},
			{"not a PDF", "licence.pdf", []byte("GIF89a this is an image"), "en", http.StatusUnsupportedMediaType, "is not a PDF, PNG or JPEG document"},
			{"not a PDF, in Polish", "licence.pdf", []byte("<html>"), "pl", http.StatusUnsupportedMediaType, "nie jest dokumentem PDF, PNG ani JPEG"},
			{"no file", "", nil, "en", http.StatusUnprocessableEntity, "Choose a file"},
		}
		for _, tt := range tests {
			res := e.upload(t, c, "/developer/application/documents", map[string]string{"kind": tpp.DocLicence}, "file", tt.filename, tt.content,
				"Accept-Language", tt.lang)
			if res.status != tt.status || !strings.Contains(res.body, tt.want) || !strings.Contains(res.body, `id="error"`) {
				t.Errorf("%s: %d, want %d and %q in the page", tt.name, res.status, tt.status, tt.want)
			}
		}
		if docs, _ := e.reg.Documents(context.Background(), appID); len(docs) != 0 {
			t.Errorf("refused uploads stored %d documents", len(docs))
		}
		// Submitting an empty application names what is missing.
		res := e.post(t, c, "/developer/application/submit", url.Values{})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "a register extract, a licence, a QWAC certificate and a QSealC certificate") {
			t.Errorf("empty submit: %d\n%s", res.status, res.body)
		}
	})
}

func TestLanguage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	c := e.client(t)
	if res := e.get(t, c, "/developer", "Accept-Language", "pl-PL,pl;q=0.9,en;q=0.8"); !strings.Contains(res.body, "Załóż konto") || !strings.Contains(res.body, `lang="pl"`) {
		t.Errorf("Polish by Accept-Language:\n%s", res.body)
	}
	if res := e.get(t, c, "/developer?lang=en", "Accept-Language", "pl"); !strings.Contains(res.body, "Open an account") {
		t.Errorf("?lang=en did not win:\n%s", res.body)
	}
	// The choice is remembered.
	if res := e.get(t, c, "/developer", "Accept-Language", "pl"); !strings.Contains(res.body, "Open an account") {
		t.Errorf("the language choice was not remembered")
	}
	if res := e.get(t, e.client(t), "/developer"); !strings.Contains(res.body, "Open an account") || !strings.Contains(res.body, "psd2bank certs issue") {
		t.Errorf("default English page with the sandbox note:\n%s", res.body)
	}
	if res := e.get(t, c, "/developer/assets/portal.css"); res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if res := e.get(t, c, "/nowhere"); res.status != http.StatusNotFound {
		t.Errorf("unknown path: %d", res.status)
	}
}
