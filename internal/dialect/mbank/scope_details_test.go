package mbank

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
)

// A token answer speaks mBank: its privilege names, upper-case enums, the
// TPP's consentId, and the ids a pis privilege is about.
func TestScopeDetailsOutInMBankWords(t *testing.T) {
	t.Parallel()
	const nrb = "85114000000000000000000100"
	c := consent.Consent{TPPConsentID: "tpp-consent-1", Scope: consent.ScopeAIS, ThrottlingPolicy: "psd2Regulatory",
		ScopeTimeLimit: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC),
		Privileges: []consent.Privilege{
			{Name: consent.PrivGetAccount, AccountNumber: nrb, ScopeUsageLimit: "multiple"},
			{Name: consent.PrivGetTransactionsPending, AccountNumber: nrb, ScopeUsageLimit: "multiple", MaxAllowedHistoryLong: 90},
			{Name: consent.PrivGetTransactionsDone, AccountNumber: nrb, ScopeUsageLimit: "multiple", MaxAllowedHistoryLong: 90},
			{Name: consent.PrivGetTransactionDetail, AccountNumber: nrb, ScopeUsageLimit: "multiple"},
		}}
	got, _ := json.Marshal(ScopeDetailsOut(c, func(string) string { return "acc-1" }))
	want := `{"consentId":"tpp-consent-1","privilegeList":[{"accountId":"acc-1","accountNumber":"85114000000000000000000100",` +
		`"ais:accountDetails":{"scopeUsageLimit":"MULTIPLE"},"ais:transactionDetails":{"scopeUsageLimit":"MULTIPLE"},` +
		`"ais:transactions":{"maxAllowedHistoryLong":90,"scopeUsageLimit":"MULTIPLE","transactionStatus":["DONE","PENDING"]}}],` +
		`"scopeGroupType":"AIS","scopeTimeLimit":"2026-12-05T10:00:00.000Z","throttlingPolicy":"PSD2_REGULATORY"}`
	if string(got) != want {
		t.Fatalf("ais scope_details\n got %s\nwant %s", got, want)
	}

	for _, tc := range []struct {
		p    consent.Privilege
		want string
	}{
		{consent.Privilege{Name: consent.PrivGetAccounts, ScopeUsageLimit: "multiple"}, `{"ais-accounts:accounts":{"scopeUsageLimit":"MULTIPLE"}}`},
		{consent.Privilege{Name: consent.PrivBundle, ScopeUsageLimit: "single", Payment: json.RawMessage(`{"transfersTotalAmount":"0.03"}`)},
			`{"pis:bundle-domestic":{"scopeUsageLimit":"SINGLE"}}`},
		{consent.Privilege{Name: consent.PrivCancelPayment, ScopeUsageLimit: "single", Payment: json.RawMessage(`{"aspspBundleId":"b-1"}`)},
			`{"pis:cancelBundlePayments":{"aspspBundleId":"b-1","scopeUsageLimit":"SINGLE"}}`},
		{consent.Privilege{Name: consent.PrivCancelPayment, ScopeUsageLimit: "single", Payment: json.RawMessage(`{"aspspPaymentId":"p-1"}`)},
			`{"pis:cancelPayment":{"aspspPaymentId":"p-1","scopeUsageLimit":"SINGLE"}}`},
		{consent.Privilege{Name: consent.PrivGetPayment, ScopeUsageLimit: "multiple", Payment: json.RawMessage(`{"aspspPaymentId":"p-1"}`)},
			`{"pis:payment":{"aspspPaymentId":"p-1","scopeUsageLimit":"MULTIPLE"}}`},
	} {
		sd := ScopeDetailsOut(consent.Consent{Scope: consent.ScopePIS, Privileges: []consent.Privilege{tc.p}}, func(string) string { return "" })
		got, _ := json.Marshal(sd["privilegeList"].([]map[string]any)[0])
		if string(got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.p.Name, got, tc.want)
		}
		if sd["scopeGroupType"] != "PIS" || sd["throttlingPolicy"] != "PSD2_REGULATORY" {
			t.Errorf("%s: scopeGroupType %v, throttlingPolicy %v", tc.p.Name, sd["scopeGroupType"], sd["throttlingPolicy"])
		}
	}
	for in, want := range map[string]string{"psd2Regulatory": "PSD2_REGULATORY", "PSD2_REGULATORY": "PSD2_REGULATORY",
		"single": "SINGLE", "ais-accounts": "AIS_ACCOUNTS"} {
		if got := UpperSnake(in); got != want {
			t.Errorf("UpperSnake(%q) = %q, want %q", in, got, want)
		}
	}
}
