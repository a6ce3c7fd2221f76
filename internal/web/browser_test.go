package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
)

// chromium finds Debian's Chromium (or another Chrome) on this machine. It
// never downloads a browser.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no Chromium was found (/usr/bin/chromium, chromium, chromium-browser, google-chrome): install it with apt-get install -y chromium")
	}
	t.Skip("browser test skipped: no Chromium found (/usr/bin/chromium, chromium, chromium-browser, google-chrome); install it with apt-get install -y chromium")
	return ""
}

// browser drives one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	bin := chromium(t)
	dataDir, err := os.MkdirTemp("", "psd2bank-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// The whole browser session is bounded; single steps get their own
	// timeouts below.
	root, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.UserDataDir(dataDir),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		stop()
		os.RemoveAll(dataDir)
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	return &browser{t: t, ctx: ctx, base: base}
}

// step runs actions with a timeout, failing the test on error.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage:\n%s", what, err, b.bodyText())
	}
}

// open loads a page of the portal.
func (b *browser) open(path string) {
	b.t.Helper()
	b.step("open "+path, chromedp.Navigate(b.base+path))
}

// submit clicks a form's button and waits until the next page has loaded.
func (b *browser) submit(button string) {
	b.t.Helper()
	b.step("mark the page", chromedp.Evaluate[chromedp.Void](`window.__psd2bankOld = true`))
	b.step("click "+button, chromedp.Click(chromedp.CSS(button)))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__psd2bankOld !== true && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("no new page after clicking %s", button)
}

// text returns the text content of the first element matching a CSS
// selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v\npage:\n%s", sel, err, b.bodyText())
	}
	return strings.TrimSpace(s)
}

// bodyText is the whole page's text (for failure messages and checks).
func (b *browser) bodyText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

func (b *browser) page() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.page`))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *browser) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); got != want {
		b.t.Fatalf("%s = %q, want %q\npage:\n%s", sel, got, want, b.bodyText())
	}
}

func (b *browser) wantContains(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Fatalf("%s = %q, want it to contain %q", sel, got, want)
	}
}

// TestOnboardingInBrowser runs the onboarding of a TPP in headless Chromium
// against the real handler: a developer signs up, uploads documents and
// certificates and submits; the back office rejects (first without a reason,
// which is refused), the developer sees why, corrects and resubmits; the back
// office approves, the developer sees the client_id; the back office
// suspends the TPP and the developer sees that too.
func TestOnboardingInBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := newBrowser(t, e.srv.URL)

	// Files the developer uploads: production-like certificates from a test
	// CA (not sandbox-marked, with the PSD2 QC statement) and small PDFs.
	dir := t.TempDir()
	ca := tpptest.NewCA(t, testNow)
	qwac, qseal := ca.Pair(t, licensedOrg, "Licensed TPP sp. z o.o.", eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC)
	files := map[string][]byte{"extract.pdf": tpptest.PDF, "licence.pdf": tpptest.PDF, "licence-v2.pdf": tpptest.PDF,
		"qwac.pem": qwac, "qsealc.pem": qseal}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := func(name string) []string { return []string{filepath.Join(dir, name)} }
	uploadDoc := func(kind, name string) {
		t.Helper()
		b.step("choose "+name,
			chromedp.SetValue(chromedp.CSS("#doc-kind"), kind),
			chromedp.SetUploadFiles(chromedp.CSS("#doc-file"), file(name)))
		b.submit("#upload-document button")
		b.wantText("#notice", "The document was uploaded.")
	}
	uploadCert := func(name string) {
		t.Helper()
		b.step("choose "+name, chromedp.SetUploadFiles(chromedp.CSS("#cert-file"), file(name)))
		b.submit("#upload-certificate button")
		b.wantText("#notice", "The certificate was uploaded.")
	}

	// The developer signs up (English pages) and fills in the application.
	b.open("/developer?lang=en")
	if !strings.Contains(b.text("#sandbox-note"), "psd2bank certs issue") {
		t.Error("the sandbox note is missing")
	}
	b.step("fill in the sign-up form",
		chromedp.SetValue(chromedp.CSS("#su-org"), licensedOrg),
		chromedp.SetValue(chromedp.CSS("#su-name"), "Licensed TPP sp. z o.o."),
		chromedp.SetValue(chromedp.CSS("#su-email"), "dev@licensed.example.pl"),
		chromedp.SetValue(chromedp.CSS("#su-password"), "a long developer password"))
	b.submit("#signup button")
	if p := b.page(); p != "dev_application" {
		t.Fatalf("after sign-up: page %q\n%s", p, b.bodyText())
	}
	b.wantText("#status", "draft")
	uploadDoc(tpp.DocRegisterExtract, "extract.pdf")
	uploadDoc(tpp.DocLicence, "licence.pdf")
	uploadCert("qwac.pem")
	uploadCert("qsealc.pem")
	b.wantContains("#certificates .cert-qwac", "PSP_AI, PSP_PI, PSP_IC")
	b.wantContains("#certificates .cert-qsealc", "qualified")
	b.step("enter a redirect URI", chromedp.SetValue(chromedp.CSS("#redirect-uris"), "https://licensed.example.pl/callback"))
	b.submit("#submit-button")
	b.wantText("#notice", "The application was submitted.")
	b.wantText("#status", "submitted")

	// The back office logs in and opens the application.
	b.open("/backoffice")
	if p := b.page(); p != "bo_login" {
		t.Fatalf("the back office without a session shows %q", p)
	}
	b.step("fill in the log-in form",
		chromedp.SetValue(chromedp.CSS("#bo-login"), "anna"),
		chromedp.SetValue(chromedp.CSS("#bo-password"), "back office password"))
	b.submit("#login button")
	b.wantContains("#applications", "Licensed TPP sp. z o.o.")
	b.submit("#applications a")
	b.wantText("#status", "submitted")
	b.wantContains("#register", "authorised")
	b.wantContains("#documents", "extract.pdf")
	b.wantContains("#certificates", licensedOrg)

	// Rejecting without a reason is refused; with one it works.
	b.submit("#reject-button")
	b.wantContains("#error", "reason is needed")
	b.wantText("#status", "submitted")
	b.step("enter a reason", chromedp.SetValue(chromedp.CSS("#reject-reason"), "The licence scan is unreadable."))
	b.submit("#reject-button")
	b.wantText("#notice", "The application was rejected.")
	b.wantText("#status", "rejected")

	// The developer sees the rejection and its reason, and submits again.
	b.open("/developer/application")
	b.wantText("#status", "rejected")
	b.wantText("#reason", "The licence scan is unreadable.")
	uploadDoc(tpp.DocLicence, "licence-v2.pdf")
	b.submit("#submit-button")
	b.wantText("#status", "submitted")

	// The back office approves.
	apps, err := e.reg.Applications(context.Background(), tpp.AppSubmitted)
	if err != nil || len(apps) != 1 {
		t.Fatalf("submitted applications = %v, %v", apps, err)
	}
	b.open("/backoffice/applications/" + apps[0].ID)
	b.submit("#approve-button")
	b.wantText("#notice", "The application was approved.")
	b.wantText("#status", "approved")
	clientID := b.text("#client-id")

	// The developer sees the approval and the client_id.
	b.open("/developer/application")
	b.wantText("#status", "approved")
	b.wantText("#client-id", clientID)
	c, err := e.reg.Client(context.Background(), clientID)
	if err != nil || c.TPPID != licensedOrg || !c.AllowsRedirect("https://licensed.example.pl/callback") {
		t.Fatalf("client %s = %+v, %v", clientID, c, err)
	}
	b.wantText("#tpp-status", "active")

	// The back office suspends the TPP: first without a reason (refused).
	b.open("/backoffice/tpps")
	b.submit("form.suspend button")
	b.wantContains("#error", "reason is needed")
	b.step("enter a reason", chromedp.SetValue(chromedp.CSS("form.suspend input[name=reason]"), "Licence under review by the KNF"))
	b.submit("form.suspend button")
	b.wantText("#notice", "The TPP was suspended.")
	b.wantContains("#tpps", "suspended")
	got, err := e.reg.TPP(context.Background(), licensedOrg)
	if err != nil || got.Active() || got.SuspendedReason != "Licence under review by the KNF" {
		t.Fatalf("TPP after suspension = %+v, %v", got, err)
	}
	b.open("/backoffice/audit")
	for _, action := range []string{tpp.ActionTPPSuspend, tpp.ActionApplicationApprove, tpp.ActionApplicationReject, tpp.ActionApplicationSubmit} {
		b.wantContains("#audit", action)
	}

	// The developer sees the suspension and its reason, in Polish too.
	b.open("/developer/application")
	b.wantText("#tpp-status", "suspended")
	b.wantText("#tpp-reason", "Licence under review by the KNF")
	b.open("/developer/application?lang=pl")
	b.wantText("#status", "zatwierdzony")
	b.wantText("#tpp-status", "zawieszony")
}
