package web

import (
	"encoding/json"
	"testing"
)

// mBank's pis:bundle-domestic whose transfers say "sender": {} (as mBank's
// collection sends it) makes the customer choose the paying account: the
// page has the bundle's total, currency and number of transfers, and no
// sender. A bundle whose transfers name a sender does not ask.
func TestBundleWithoutSenderLetsTheCustomerChoose(t *testing.T) {
	t.Parallel()
	const senderless = `{"bundleDomesticPaymentsRequest":{"transfersTotalAmount":"0.03","transfers":[
		{"tppPaymentId":"a","recipient":{"accountNumber":"20114000000000000000000300"},"sender":{},"transferData":{"amount":"0.01","currency":"PLN"}},
		{"tppPaymentId":"b","recipient":{"accountNumber":"88342437927928550883469351"},"sender":{},"transferData":{"amount":"0.02","currency":"PLN"}}]}}`
	p := bundlePage(json.RawMessage(senderless))
	if p == nil || p.Transfers != 2 || p.Amount != "0.03" || p.Currency != "PLN" || p.SenderAccount != "" {
		t.Fatalf("bundlePage = %+v", p)
	}
	if !choosingSender(ConsentPage{Scope: "pis", Payment: p}) {
		t.Fatal("a bundle without a sender does not let the customer choose the account to pay from")
	}

	const named = `{"transfersTotalAmount":"0.01","transfers":[
		{"recipient":{"accountNumber":"20114000000000000000000300"},"sender":{"accountNumber":"85114000000000000000000100"},"transferData":{"amount":"0.01","currency":"PLN"}}]}`
	p = bundlePage(json.RawMessage(named))
	if p == nil || p.SenderAccount != "85114000000000000000000100" || choosingSender(ConsentPage{Scope: "pis", Payment: p}) {
		t.Fatalf("a bundle naming its sender: %+v", p)
	}
	if p := bundlePage(json.RawMessage(`{"recipient":{"accountNumber":"20114000000000000000000300"}}`)); p != nil {
		t.Fatalf("a single payment read as a bundle: %+v", p)
	}
}
