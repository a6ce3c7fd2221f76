package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// stubTPP makes the browser answer every request to https://tpp.example/
// itself with a small page, so that a test can land on the TPP's redirect
// URI without a network.
func stubTPP(b *browser) {
	b.t.Helper()
	events := chromedp.Events(b.ctx, fetch.RequestPaused)
	b.step("intercept the TPP's site", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "https://tpp.example/*"}}})
		return err
	}))
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID:       ev.RequestID,
					ResponseCode:    200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
					Body:            []byte(`<!doctype html><title>TPP</title><body data-page="tpp">The TPP's application</body>`),
				})
				return err
			}))
		}
	}()
}

// location is the address of the page in the browser.
func (b *browser) location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return loc
}

// waitLocation waits until the browser is at want (the mobile page reloads
// itself until then).
func (b *browser) waitLocation(want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && loc == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the browser is at %s, want %s\npage:\n%s", b.location(), want, b.bodyText())
}

// TestConsentInBrowser runs the customer's side of three authorizations in
// headless Chromium against the real handler, a real SCA service and ledger
// customers: approval with an SMS code read from the outbox, ending on the
// TPP's redirect URI with code and state; a rejection ending with
// error=access_denied; an approval in the mobile app while the page waits.
func TestConsentInBrowser(t *testing.T) {
	e := newBankEnv(t, storetest.SQLite(t))
	b := newBrowser(t, e.srv.URL)
	stubTPP(b)

	// (1) Log in, choose an account, approve with the SMS code.
	b.open("/authorize/R1?lang=en")
	if p := b.page(); p != "bank_login" {
		t.Fatalf("without a session: page %q\n%s", p, b.bodyText())
	}
	b.wantContains("#request", "Demo TPP")
	b.step("fill in the log-in form",
		chromedp.SetValue(chromedp.CSS("#login"), "jan"),
		chromedp.SetValue(chromedp.CSS("#password"), "customer password"))
	b.submit("#login-button")
	if p := b.page(); p != "bank_consent" {
		t.Fatalf("after log-in: page %q\n%s", p, b.bodyText())
	}
	b.wantText("#tpp-id", "PSDPL-KNF-0000012345")
	b.wantContains("#privileges", "Completed transactions")
	b.wantContains("#accounts", "12 1140 2004 0000 3202 1234 5678")
	b.wantContains("#who", "Jan Kowalski")
	// Every account is ticked at first (issue 15: the accounts the TPP
	// asked for are ticked); with none ticked, approving is refused.
	b.step("untick every account", chromedp.Click(chromedp.CSS("#account-0")), chromedp.Click(chromedp.CSS("#account-1")))
	b.submit("#approve-sms") // no account chosen
	b.wantText("#error", "Choose at least one account.")
	b.step("choose the first account", chromedp.Click(chromedp.CSS("#account-0")))
	b.submit("#approve-sms")
	if p := b.page(); p != "bank_sms" {
		t.Fatalf("after approve: page %q\n%s", p, b.bodyText())
	}
	b.wantContains("#sms-text", "Zgoda dla Demo TPP")
	b.step("enter the SMS code", chromedp.SetValue(chromedp.CSS("#code"), e.smsCode(t, "jan")))
	b.submit("#confirm-button")
	b.waitLocation(tppCallback)

	// (2) Reject another request (the session goes on).
	b.open("/authorize/R2")
	b.submit("#reject-button")
	b.waitLocation(tppRefusal)

	// (3) Approve in the mobile app while the page waits.
	b.open("/authorize/R3")
	b.step("keep only the second account", chromedp.Click(chromedp.CSS("#account-0")))
	b.submit("#approve-mobile")
	if p := b.page(); p != "bank_mobile" {
		t.Fatalf("after approve in the app: page %q\n%s", p, b.bodyText())
	}
	if !strings.Contains(b.text("#mobile-text"), "Zgoda dla Demo TPP") {
		t.Error("the waiting page does not say what is approved")
	}
	if _, err := e.sca.DecideMobile(context.Background(), "jan", true); err != nil {
		t.Fatal(err)
	}
	b.waitLocation(tppCallback)

	got := e.flow.approvals()
	if len(got) != 2 || got[0].RequestID != "R1" || !slices.Equal(got[0].Accounts, []string{janMain}) ||
		got[1].RequestID != "R3" || !slices.Equal(got[1].Accounts, []string{janSavings}) || got[1].CustomerID != e.jan.ID {
		t.Fatalf("approvals: %+v", got)
	}
	if r := e.flow.rejections(); len(r) != 1 || !strings.HasPrefix(r[0], "R2 ") {
		t.Fatalf("rejections: %v", r)
	}
}
