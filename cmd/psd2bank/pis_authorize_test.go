package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A TPP asks for consent to a payment the bank would refuse, in both
// dialects and in the decoupled flow: authorize refuses it at once, in the
// dialect's error format, naming the privilege and the field; no consent is
// left behind (the same consentId then goes through with the payment put
// right), and the customer never sees a consent page for it.
func TestPISAuthorizeChecksThePayment(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	psus := readPSUs(t, data)
	sender := psus[0].Accounts[0].Number
	tomorrow := time.Now().In(time.UTC).AddDate(0, 0, 1)
	for tomorrow.Weekday() == time.Saturday || tomorrow.Weekday() == time.Sunday {
		tomorrow = tomorrow.AddDate(0, 0, 1)
	}
	clone := func(m map[string]any) map[string]any {
		var out map[string]any
		raw, _ := json.Marshal(m)
		json.Unmarshal(raw, &out)
		return out
	}
	good := map[string]any{
		"scopeUsageLimit": "single",
		"recipient":       map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Zakład Energetyczny"}}},
		"sender":          map[string]any{"accountNumber": sender},
		"transferData":    map[string]any{"description": "Rachunek 11/2026", "amount": "12.34", "currency": "PLN"},
		"deliveryMode":    "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
	authorize := func(consentID string, privileges []map[string]any) apiAnswer {
		sd := scopeDetails("pis", privileges)
		sd["consentId"] = consentID
		return demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
			"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
			"scope": "pis", "state": "st-" + uuid.NewString()[:8], "scope_details": sd,
		}, "")
	}
	with := func(field string, value any) map[string]any {
		m := clone(good)
		switch field {
		case "amount", "description", "currency":
			m["transferData"].(map[string]any)[field] = value
		case "executionDate":
			m["transferData"].(map[string]any)["executionDate"] = value
			m["executionMode"] = "FutureDated"
		case "recipient":
			m["recipient"].(map[string]any)["accountNumber"] = value
		case "name":
			m["recipient"].(map[string]any)["nameAddress"] = map[string]any{"value": []string{value.(string)}}
		}
		return m
	}
	for _, tc := range []struct {
		name, code, says string
		priv             map[string]any
	}{
		{"negative amount", "INVALID_AMOUNT", "transferData.amount", with("amount", "-1.00")},
		{"exponent form", "INVALID_AMOUNT", "transferData.amount", with("amount", "1e3")},
		{"three decimals", "INVALID_AMOUNT", "transferData.amount", with("amount", "0.001")},
		{"zero", "INVALID_AMOUNT", "amount", with("amount", "0.00")},
		{"currency", "INVALID_CURRENCY", "currency", with("currency", "EUR")},
		{"title too long", "INVALID_TITLE", "description", with("description", strings.Repeat("x", 500))},
		{"control character in the title", "INVALID_TITLE", "description", with("description", "Rachunek\u0007")},
		{"recipient NRB check digits", "INVALID_RECIPIENT", "recipient.accountNumber", with("recipient", "61109010140000071219812875")},
		{"recipient name missing", "INVALID_RECIPIENT", "recipient", with("name", " ")},
		{"execution date in the past", "INVALID_EXECUTION_DATE", "executionDate", with("executionDate", "2020-01-02")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			a := authorize(id, []map[string]any{{"pis:domestic": tc.priv}})
			if a.status != 400 || a.code != tc.code {
				t.Fatalf("authorize = %d %s %s, want 400 %s", a.status, a.code, a.body, tc.code)
			}
			for _, w := range []string{"scope_details.privilegeList[0].pis:domestic", tc.says} {
				if !strings.Contains(a.message, w) {
					t.Errorf("the refusal %q does not name %q", a.message, w)
				}
			}
			// Nothing was recorded: the same consentId goes through with the
			// payment put right.
			if ok := authorize(id, []map[string]any{{"pis:domestic": good}}); ok.status != 200 {
				t.Fatalf("the corrected request with the same consentId: %d %s", ok.status, ok.body)
			}
		})
	}

	// A recurring payment that starts in the past, and one that ends
	// before it starts.
	recurring := func(start, end string) map[string]any {
		pay := clone(good)
		delete(pay, "scopeUsageLimit")
		delete(pay, "executionMode")
		return map[string]any{"scopeUsageLimit": "single", "typeOfPayment": "domestic", "domesticPayment": pay,
			"recurrence": map[string]any{"startDate": start, "endDate": end, "frequency": map[string]any{"periodType": "month", "periodValue": 1},
				"dayOffOffsetType": "after"}}
	}
	for _, r := range []map[string]any{recurring("2020-01-02", ""), recurring(tomorrow.Format(time.DateOnly), "2020-01-02")} {
		if a := authorize(uuid.NewString(), []map[string]any{{"pis:recurring": r}}); a.status != 400 || a.code != "INVALID_RECURRENCE" ||
			!strings.Contains(a.message, "pis:recurring") {
			t.Errorf("recurring %v: %d %s %s", r["recurrence"], a.status, a.code, a.body)
		}
	}

	// A bundle whose transfer names no sender (PolishAPI requires one), and
	// one whose total is not the sum.
	transfer := func() map[string]any {
		tr := clone(good)
		delete(tr, "scopeUsageLimit")
		tr["tppTransactionId"] = uuid.NewString()
		return tr
	}
	noSender := transfer()
	delete(noSender, "sender")
	for _, tc := range []struct {
		code, says string
		bundle     map[string]any
	}{
		{"INVALID_SENDER_ACCOUNT", "transfers[1].sender.accountNumber", map[string]any{"scopeUsageLimit": "single", "typeOfTransfers": "domestic",
			"transfersTotalAmount": "24.68", "domesticTransfers": []any{transfer(), noSender}}},
		{"INVALID_BUNDLE", "transfersTotalAmount", map[string]any{"scopeUsageLimit": "single", "typeOfTransfers": "domestic",
			"transfersTotalAmount": "99.00", "domesticTransfers": []any{transfer(), transfer()}}},
	} {
		if a := authorize(uuid.NewString(), []map[string]any{{"pis:bundle": tc.bundle}}); a.status != 400 || a.code != tc.code ||
			!strings.Contains(a.message, tc.says) {
			t.Errorf("bundle: %d %s %s, want %s naming %s", a.status, a.code, a.body, tc.code, tc.says)
		}
	}

	// mBank: the same checks, in mBank's error format.
	mpay := map[string]any{
		"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "name": "Jan Kowalski"},
		"sender":       map[string]any{},
		"transferData": map[string]any{"description": "Transfer", "amount": "1e3", "currency": "PLN"},
		"deliveryMode": "STANDARD_D1", "system": "ELIXIR",
	}
	sd := scopeDetails("PIS", []map[string]any{{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": mpay}}})
	a := demo.call(t, api, "POST", "/pl-retail/v3/auth/authorize", map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "pis", "state": "st-m", "scope_details": sd,
	}, "")
	if a.status != 400 || a.code != "INVALID_AMOUNT" || !strings.Contains(a.message, "pis:domestic") {
		t.Errorf("mBank authorize with amount 1e3: %d %s %s", a.status, a.code, a.body)
	}

	// Decoupled: the customer is known, so a sender account that is not
	// theirs (another customer's) is refused before their phone rings.
	theirs := clone(good)
	theirs["sender"] = map[string]any{"accountNumber": psus[1].Accounts[0].Number}
	body := map[string]any{
		"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
		"scope": "pis", "state": "st-d", "eatCode": "123456",
		"scope_details": scopeDetails("pis", []map[string]any{{"pis:domestic": theirs}}),
	}
	a = demo.callWithHeader(t, api, "/v2_1_2.1/auth/v2_1_2.1/authorizeExt", body,
		map[string]any{"psuIdentifierValue": psus[0].Login, "callbackURL": "https://127.0.0.1:9/cb", "apiKey": "key-1"})
	if a.status != 400 || a.code != "INVALID_SENDER_ACCOUNT" || !strings.Contains(a.message, "sender.accountNumber") {
		t.Errorf("authorizeExt with another customer's account: %d %s %s", a.status, a.code, a.body)
	}
}
