package spec

import (
	"strings"
	"testing"
)

func TestDocLoads(t *testing.T) {
	for _, op := range []string{"getAccounts", "getAccount", "getTransactionsDone", "getHolds", "getTransactionDetail", "getConfirmationOfFunds"} {
		if _, err := ResponseSchema(op, 200); err != nil {
			t.Error(err)
		}
	}
}

func TestValidateResponse(t *testing.T) {
	ok := `{"responseHeader":{"requestId":"3f1c5b2e-8a4d-11ef-9f2b-0242ac120002","sendDate":"2026-11-23T10:00:00.000Z","isCallback":false},"fundsAvailable":true}`
	if err := ValidateResponse("getConfirmationOfFunds", 200, []byte(ok)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ op, body, want string }{
		"missing required": {"getConfirmationOfFunds", `{"responseHeader":{}}`, "fundsAvailable"},
		"wrong type":       {"getConfirmationOfFunds", `{"responseHeader":{},"fundsAvailable":"yes"}`, "fundsAvailable"},
		"unknown property": {"getConfirmationOfFunds", `{"responseHeader":{},"fundsAvailable":true,"funds":1}`, "$.funds"},
		"pattern": {"getTransactionsDone", `{"responseHeader":{},"transactions":[{"itemId":"1","amount":"-1.00","transactionCategory":"DEBIT"}]}`,
			"amount"},
		"date-time": {"getTransactionsDone", `{"responseHeader":{},"transactions":[{"itemId":"1","amount":"1.00","transactionCategory":"DEBIT","bookingDate":"2026-11-23"}]}`,
			"bookingDate"},
		"unknown in allOf item": {"getTransactionsDone", `{"responseHeader":{},"transactions":[{"itemId":"1","amount":"1.00","transactionCategory":"DEBIT","bogus":1}]}`,
			"transactions[0].bogus"},
	} {
		t.Run(name, func(t *testing.T) {
			err := ValidateResponse(tc.op, 200, []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			}
		})
	}
}
