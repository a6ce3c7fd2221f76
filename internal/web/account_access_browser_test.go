package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// ibLoginInBrowser logs a customer in to /ib.
func ibLoginInBrowser(b *browser, login string) {
	b.t.Helper()
	b.step("fill in the log-in form",
		chromedp.SetValue(chromedp.CSS("#login"), login),
		chromedp.SetValue(chromedp.CSS("#password"), "customer password"))
	b.submit("#login-button")
}

// TestHotlineInBrowser: a consultant finds a company customer, enters a
// wrong PESEL three times (the check ends, and the audit shows it), starts a
// new check, enters the right PESEL, records who acts for the company and
// activates API access; the company customer then sees it active in
// internet banking.
func TestHotlineInBrowser(t *testing.T) {
	e := newAccessEnv(t, storetest.SQLite(t))
	b := newBrowser(t, e.srv.URL)

	b.open("/backoffice/login?lang=en")
	b.step("log in", chromedp.SetValue(chromedp.CSS("#bo-login"), "anna"),
		chromedp.SetValue(chromedp.CSS("#bo-password"), "back office password"))
	b.submit("#login button")
	b.open("/backoffice/hotline")
	b.step("search", chromedp.SetValue(chromedp.CSS("#q"), "firma testowa"))
	b.submit("#search-button")
	b.wantContains("#customers", "Firma Testowa sp. z o.o.")
	b.submit("#customers a")
	b.wantText("#segment", "company")
	b.wantText("#state-0", "not activated")
	b.submit("#start-check")
	b.wantText("#check-status", "waiting for the PESEL")

	for i, p := range []string{e.otherP, "12345678901", e.otherP} {
		b.step("enter a wrong PESEL", chromedp.SetValue(chromedp.CSS("#pesel"), p))
		b.submit("#pesel-button")
		if i < 2 {
			b.wantContains("#error", "tries left "+string(rune('2'-i)))
		}
	}
	b.wantContains("#error", "wrong three times in a row")
	b.wantText("#check-status", "failed")
	if strings.Contains(b.bodyText(), "Activate API access") {
		t.Fatal("a failed check offers to activate")
	}
	b.wantContains("#customer-audit", access.ActionVerificationFailed)

	// A new check: the right PESEL, the representative, the activation.
	b.submit("#start-check")
	b.step("enter the right PESEL", chromedp.SetValue(chromedp.CSS("#pesel"), e.firmaPESEL))
	b.submit("#pesel-button")
	b.wantText("#notice", "The caller's identity was verified.")
	b.step("record the representative", chromedp.SetValue(chromedp.CSS("#rep-name"), "Anna Firmowa"),
		chromedp.SetValue(chromedp.CSS("#rep-role"), "prezes zarządu"))
	b.submit("#representative-button")
	b.wantText("#representative", "Anna Firmowa (prezes zarządu)")
	b.step("choose the account and the reason", chromedp.Click(chromedp.CSS("#account-check-0")),
		chromedp.SetValue(chromedp.CSS("#access-reason"), "customer's call"))
	b.submit("#activate-button")
	b.wantText("#notice", "API access was activated.")
	b.wantText("#state-0", "active")
	b.wantContains("#account-0", "Anna Firmowa (prezes zarządu)")
	b.wantContains("#customer-audit", access.ActionAccessActivate)
	b.open("/backoffice/access-audit")
	b.wantContains("#access-audit", access.ActionVerificationWrong)
	if err := e.access.Check(context.Background(), firmaNRB, access.AIS); err != nil {
		t.Fatalf("after activation: %v", err)
	}

	// The company customer sees it, and is told to call the hotline.
	b.open("/ib/login")
	ibLoginInBrowser(b, "firma")
	b.wantText("#state-0", "active")
	b.wantContains("#hotline-0", "only by the hotline")
}

// TestCorporateActivationInBrowser: a corporate customer activates API
// access with an SMS code, is asked to log in again, and sees the new state.
func TestCorporateActivationInBrowser(t *testing.T) {
	e := newAccessEnv(t, storetest.SQLite(t))
	b := newBrowser(t, e.srv.URL)

	b.open("/ib/login?lang=en")
	ibLoginInBrowser(b, "korpo")
	if p := b.page(); p != "ib_accounts" {
		t.Fatalf("after log-in: %q\n%s", p, b.bodyText())
	}
	b.wantText("#state-0", "not activated")
	b.step("give a reason", chromedp.SetValue(chromedp.CSS("#reason-0"), "accounting app"))
	b.submit("#access-sms-0")
	if p := b.page(); p != "ib_confirm" {
		t.Fatalf("after activate: %q\n%s", p, b.bodyText())
	}
	b.wantContains("#confirm-text", "Dostęp do API rachunku ...8888: włączenie")
	b.step("enter the SMS code", chromedp.SetValue(chromedp.CSS("#code"), e.smsCode(t, "korpo")))
	b.submit("#confirm-button")
	if p := b.page(); p != "ib_login" {
		t.Fatalf("after the code: %q\n%s", p, b.bodyText())
	}
	b.wantContains("#notice", "log in again")
	ibLoginInBrowser(b, "korpo")
	b.wantText("#state-0", "active")
	b.wantText("#state-1", "not activated")
	b.wantContains("#history-0", "internet banking")
	if err := e.access.Check(context.Background(), korpoNRB, access.PIS); err != nil {
		t.Fatalf("after activation: %v", err)
	}
}

// TestLimitsInBrowser: a customer sets limits of one-off API payments with
// an SMS code and sees them.
func TestLimitsInBrowser(t *testing.T) {
	e := newAccessEnv(t, storetest.SQLite(t))
	b := newBrowser(t, e.srv.URL)

	b.open("/ib/login?lang=en")
	ibLoginInBrowser(b, "jan")
	b.wantText("#limit-one_off-payment-0", "no limit")
	b.step("enter limits", chromedp.SetValue(chromedp.CSS("#per-payment-0"), "1000.00"),
		chromedp.SetValue(chromedp.CSS("#per-day-0"), "2500"))
	b.submit("#limits-sms-0")
	b.wantContains("#confirm-text", "1000.00 na płatność, 2500.00 dziennie")
	b.step("enter the SMS code", chromedp.SetValue(chromedp.CSS("#code"), e.smsCode(t, "jan")))
	b.submit("#confirm-button")
	b.wantText("#notice", "The limits were saved.")
	b.wantText("#limit-one_off-payment-0", "1000.00")
	b.wantText("#limit-one_off-day-0", "2500.00")
	b.wantText("#limit-recurring-day-0", "no limit")
	err := e.access.CheckPaymentLimit(context.Background(), janMain, 100001, false, "2025-10-01")
	if access.CodeOf(err) != access.CodeLimitExceeded {
		t.Fatalf("over the limit: %v", err)
	}
}

// TestRevokeConsentInBrowser: a customer sees a consent and revokes it; it
// shows as revoked and the service refuses it.
func TestRevokeConsentInBrowser(t *testing.T) {
	e := newAccessEnv(t, storetest.SQLite(t))
	c := testConsent(t, e, "c-1", e.jan.ID, janMain)
	b := newBrowser(t, e.srv.URL)

	b.open("/ib/login?lang=en")
	ibLoginInBrowser(b, "jan")
	b.open("/ib/consents")
	b.wantContains("#consent-0", "PSDPL-KNF-0000012345")
	b.wantContains("#consent-0", "12 1140 2004 0000 3202 1234 5678")
	b.wantContains("#consent-0", "Access to information about your accounts")
	b.wantContains("#consent-0", "2026-01-01")
	b.wantText("#consent-status-0", "active")
	b.submit("#revoke-0")
	b.wantText("#notice", "The consent was revoked. The TPP can no longer use it.")
	b.wantText("#consent-status-0", "revoked by you")
	got, err := e.consents.Get(context.Background(), c.ID)
	if err != nil || got.Status != consent.StatusRevokedByPSU {
		t.Fatalf("consent after revocation: %+v, %v", got, err)
	}
	if a, _ := e.access.Audit(context.Background(), e.jan.ID, 0); len(a) != 1 || a[0].Action != access.ActionConsentRevoke {
		t.Fatalf("audit: %+v", a)
	}
}
