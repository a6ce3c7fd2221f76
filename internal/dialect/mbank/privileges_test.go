package mbank_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
)

const (
	accA = "85114000000000000000000100"
	accB = "20114000000000000000000300"
)

// mBank's privileges in ours: names mapped, ais:transactions expanded by
// its transactionStatus list, pis data kept.
func TestMBankPrivileges(t *testing.T) {
	t.Parallel()
	got, err := mbank.Privileges(accA, "ais:transactions", json.RawMessage(`{"maxAllowedHistoryLong":365,"transactionStatus":["DONE","PENDING","HOLD"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
		if p.MaxAllowedHistoryLong != 365 || p.AccountNumber != accA {
			t.Errorf("%s: history %d account %s", p.Name, p.MaxAllowedHistoryLong, p.AccountNumber)
		}
	}
	if strings.Join(names, ",") != "ais:getTransactionsDone,ais:getTransactionsPending,ais:getHolds" {
		t.Fatalf("expanded to %v", names)
	}
	for in, want := range map[string]string{
		"ais-accounts:accounts": consent.PrivGetAccounts, "ais:accountDetails": consent.PrivGetAccount,
		"ais:transactionDetails": consent.PrivGetTransactionDetail, "pis:bundle-domestic": consent.PrivBundle,
		"pis:payment": consent.PrivGetPayment, "pis:cancelBundlePayments": consent.PrivCancelPayment,
	} {
		if n, err := mbank.PrivilegeName(in); n != want || err != nil {
			t.Errorf("%s -> %s, %v; want %s", in, n, err, want)
		}
	}
	p, err := mbank.Privileges("", "pis:domestic", json.RawMessage(`{"scopeUsageLimit":"SINGLE","domesticPaymentRequest":{"sender":{"accountNumber":"`+accB+`"}}}`))
	if err != nil || len(p) != 1 || p[0].ScopeUsageLimit != "single" || len(p[0].Payment) == 0 {
		t.Fatalf("pis:domestic = %+v, %v", p, err)
	}
	if s := consent.SenderAccounts(p); len(s) != 1 || s[0] != accB {
		t.Fatalf("sender accounts %v", s)
	}
}
