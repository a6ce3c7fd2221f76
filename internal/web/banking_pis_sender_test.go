package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/web"
)

// senderlessPage is a pis request whose payment names no sender account.
func senderlessPage(currency string) web.ConsentPage {
	return web.ConsentPage{TPPID: "PSDPL-KNF-0000012345", TPPName: "Demo TPP", Scope: "pis", Privileges: []string{"pis:domestic"},
		Payment: &web.PaymentPage{Amount: "10.00", Currency: currency, RecipientName: "Jan Kowalski",
			RecipientAccount: "61109010140000071219812874", Title: "Zwrot"}}
}

// A payment without a sender: the customer chooses the one account to pay
// from (radio buttons, their own accounts in the payment's currency), and
// the approval covers that account.
func TestConsentChoosesSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.flow.mu.Lock()
		e.flow.pages["R-nosender"] = senderlessPage("PLN")
		e.flow.pages["R-nosender-eur"] = senderlessPage("EUR")
		e.flow.mu.Unlock()
		c := e.client(t)
		e.login(t, c, "R-nosender", "jan")

		res := e.get(t, c, "/authorize/R-nosender?lang=en")
		wantBody(t, res, http.StatusOK, "Choose the account to pay from:", `type="radio"`,
			"12 1140 2004 0000 3202 1234 5678", "45 1140 2004 0000 3702 9876 5432", `id="approve-sms"`)
		if strings.Contains(res.body, `type="checkbox"`) || strings.Contains(res.body, "8311") {
			t.Errorf("the page offers checkboxes or another customer's account:\n%s", res.body)
		}

		for _, bad := range []url.Values{
			{"method": {"sms"}},
			{"method": {"sms"}, "account": {janMain, janSavings}},
		} {
			res = e.post(t, c, "/authorize/R-nosender/approve", bad)
			wantBody(t, res, http.StatusUnprocessableEntity, "Choose one account to pay from.")
		}
		res = e.post(t, c, "/authorize/R-nosender/approve", url.Values{"method": {"sms"}, "account": {annaMain}})
		wantBody(t, res, http.StatusUnprocessableEntity, "not yours")

		id := e.startSMS(t, c, "R-nosender", janSavings)
		res = e.post(t, c, "/authorize/R-nosender/sms", url.Values{"challenge": {id}, "code": {e.smsCode(t, "jan")}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != tppCallback {
			t.Fatalf("right code: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		got := e.flow.approvals()
		if len(got) != 1 || got[0].RequestID != "R-nosender" || !slices.Equal(got[0].Accounts, []string{janSavings}) {
			t.Fatalf("approvals: %+v", got)
		}

		// No account in the payment's currency: nothing to approve with.
		res = e.get(t, c, "/authorize/R-nosender-eur?lang=en")
		wantBody(t, res, http.StatusOK, "You have no account in the payment")
		if strings.Contains(res.body, `id="approve-sms"`) {
			t.Error("a payment in a currency the customer has no account in can be approved")
		}
		res = e.post(t, c, "/authorize/R-nosender-eur/approve", url.Values{"method": {"sms"}, "account": {janMain}})
		wantBody(t, res, http.StatusForbidden)

		// A payment that names its sender offers no choice.
		res = e.get(t, c, "/authorize/R-pis?lang=en")
		wantBody(t, res, http.StatusOK, `id="sender-account"`)
		if strings.Contains(res.body, `type="radio"`) {
			t.Error("a payment with a sender offers a choice")
		}
	})
}

// The customer's limits for API payments are checked on the consent page,
// before the customer can approve: an account the payment is over the
// limits of is shown with the reason and cannot be chosen, and a payment
// whose named sender cannot make it cannot be approved at all.
func TestConsentSenderWithinLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		ctx := context.Background()
		// 10.00 is over the savings account's limit per payment.
		if _, err := e.access.SetLimits(ctx, e.jan.ID, janSavings, access.OneOff, 5_00, 0, "test"); err != nil {
			t.Fatal(err)
		}
		e.flow.mu.Lock()
		e.flow.pages["R-nosender"] = senderlessPage("PLN")
		e.flow.mu.Unlock()
		c := e.client(t)
		e.login(t, c, "R-nosender", "jan")
		res := e.get(t, c, "/authorize/R-nosender?lang=en")
		wantBody(t, res, http.StatusOK, `type="radio"`, `id="approve-sms"`, "exceeds the limit", " disabled")
		res = e.post(t, c, "/authorize/R-nosender/approve", url.Values{"method": {"sms"}, "account": {janSavings}})
		wantBody(t, res, http.StatusUnprocessableEntity, "cannot make this payment")
		if got := e.flow.approvals(); len(got) != 0 {
			t.Fatalf("approvals: %+v", got)
		}
		e.startSMS(t, c, "R-nosender", janMain) // the main account can pay

		// The named sender (R-pis: 123.45 from janMain) over its day limit.
		if _, err := e.access.SetLimits(ctx, e.jan.ID, janMain, access.OneOff, 0, 100_00, "test"); err != nil {
			t.Fatal(err)
		}
		c = e.client(t)
		e.login(t, c, "R-pis", "jan")
		res = e.get(t, c, "/authorize/R-pis?lang=en")
		wantBody(t, res, http.StatusOK, "exceeds the limit")
		if strings.Contains(res.body, `id="approve-sms"`) {
			t.Error("a payment over the sender's limit can be approved")
		}
		res = e.post(t, c, "/authorize/R-pis/approve", url.Values{"method": {"sms"}})
		wantBody(t, res, http.StatusForbidden)
	})
}
