package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi/spec"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// pisBank is the test bank with the payment service and Anna's EUR account.
type pisBank struct {
	*bank
	pay     *payment.Service
	pis     *pisHandlers
	annaEUR ledger.Account
}

const otherBankNRB = "61109010140000071219812874"

func newPISBank(t *testing.T, db *store.DB) *pisBank {
	t.Helper()
	ctx := context.Background()
	b := &pisBank{bank: newBank(t, db, 6)}
	b.pay = payment.New(payment.Config{DB: db, Ledger: b.l})
	b.pis = newPISHandlers(common.Deps{Payments: b.pay, Consents: b.consents, Ledger: b.l})
	clr := must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), Currency: "EUR", Type: ledger.TypeClearing, Name: "SEPA", AllowNegative: true}))
	b.annaEUR = must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), CustomerID: b.anna.ID, Currency: "EUR", Type: ledger.TypePersonal, Name: "Konto EUR"}))
	must(b.l.Transfer(ctx, ledger.TransferRequest{Kind: "sepa", DebitAccountID: clr.ID, CreditAccountID: b.annaEUR.ID, Amount: 1000_00,
		Debtor: ledger.Party{Name: "Arbeitgeber", Account: "DE89370400440532013000"}, Title: "Gehalt"}))
	t.Cleanup(func() {
		if err := b.l.CheckInvariants(context.Background()); err != nil {
			t.Errorf("ledger invariants broken:\n%v", err)
		}
	})
	return b
}

// pisConsent is Anna's pis consent with one privilege and its data.
func (b *pisBank) pisConsent(name string, data any, account string) consent.Consent {
	b.t.Helper()
	return b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: name, ScopeUsageLimit: consent.UsageSingle, Payment: mustJSON(data)}}, account)
}

// privilegeOfBody is the payment of a PolishAPI body as its privilege
// carries it: without requestHeader and tppTransactionId.
func privilegeOfBody(body map[string]any) map[string]any {
	out := map[string]any{"scopeUsageLimit": "single"}
	for k, v := range body {
		if k != "requestHeader" && k != "tppTransactionId" {
			out[k] = v
		}
	}
	return out
}

func clone(m map[string]any) map[string]any {
	var out map[string]any
	json.Unmarshal(mustJSON(m), &out)
	return out
}

func (b *pisBank) polishBodies() map[string]map[string]any {
	tx := func() string { return uuid.NewString() }
	return map[string]map[string]any{
		"domestic": {
			"recipient":        map[string]any{"accountNumber": otherBankNRB, "nameAddress": map[string]any{"value": []string{"Zakład Energetyczny", "ul. Prądowa 1, Warszawa"}}},
			"sender":           map[string]any{"accountNumber": b.annaMain.NRB},
			"transferData":     map[string]any{"description": "Rachunek 11/2026", "amount": "123.45", "currency": "PLN"},
			"tppTransactionId": tx(), "deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
		},
		"EEA": {
			"recipient":        map[string]any{"accountNumber": "DE89370400440532013000", "nameAddress": map[string]any{"value": []string{"Hans Müller"}}, "countryCode": "DEU"},
			"sender":           map[string]any{"accountNumber": b.annaEUR.NRB},
			"transferData":     map[string]any{"description": "Miete", "amount": "99.99", "currency": "EUR"},
			"tppTransactionId": tx(), "deliveryMode": "StandardD1", "system": "SEPA",
		},
		"nonEEA": {
			"recipient":        map[string]any{"accountNumber": "123456789", "nameAddress": map[string]any{"value": []string{"John Smith"}}, "countryCode": "USA"},
			"recipientBank":    map[string]any{"bicOrSwift": "CHASUS33", "name": "JPMorgan Chase"},
			"sender":           map[string]any{"accountNumber": b.annaEUR.NRB},
			"transferData":     map[string]any{"description": "Invoice 7", "amount": "50.00", "currency": "EUR"},
			"transferCharges":  "SHA",
			"tppTransactionId": tx(), "deliveryMode": "StandardD2", "system": "Swift",
		},
		"tax": {
			"recipient":    map[string]any{"accountNumber": must(polish.TaxMicroAccount(polish.TaxIDNIP, "5260300517")), "nameAddress": map[string]any{"value": []string{"Urząd Skarbowy"}}},
			"sender":       map[string]any{"accountNumber": b.annaMain.NRB},
			"transferData": map[string]any{"amount": "321.00", "currency": "PLN"},
			"usInfo": map[string]any{"payerInfo": map[string]any{"payorId": "5260300517", "payorIdType": "N"}, "formCode": "VAT-7",
				"year": 2026, "periodType": "M", "periodId": "10"},
			"tppTransactionId": tx(), "deliveryMode": "StandardD1", "system": "Elixir",
		},
	}
}

var polishPrivileges = map[string]string{"domestic": consent.PrivDomestic, "EEA": consent.PrivEEA, "nonEEA": consent.PrivNonEEA, "tax": consent.PrivTax}

func (b *pisBank) handler(op string) gateway.Handler { return b.pis.handlers()["polishapi."+op] }

// initiate sends a PolishAPI initiation with a fresh requestHeader.
func (b *pisBank) initiate(op string, cons consent.Consent, body map[string]any) (int, []byte, *gateway.Refusal) {
	b.t.Helper()
	body = clone(body)
	delete(body, "requestHeader")
	return b.polish(b.handler(op), cons, body)
}

func wantRefusal(t *testing.T, ref *gateway.Refusal, status int, code gateway.Code, words ...string) {
	t.Helper()
	if ref == nil {
		t.Fatalf("want refusal %d %s, got success", status, code)
	}
	if ref.Status != status || ref.Code != code {
		t.Fatalf("refusal = %d %s %q, want %d %s", ref.Status, ref.Code, ref.Message("en"), status, code)
	}
	for _, w := range words {
		if !strings.Contains(ref.Message("en"), w) {
			t.Errorf("refusal %q does not say %q", ref.Message("en"), w)
		}
	}
}

func paymentIDOf(t *testing.T, data []byte) string {
	t.Helper()
	var r polishapi.AddPaymentResponse
	if err := json.Unmarshal(data, &r); err != nil || r.PaymentID == "" {
		t.Fatalf("no paymentId in %s", data)
	}
	return r.PaymentID
}

// Every payment type is initiated with a matching consent (its answer
// valid by the spec), refused when the body differs from the consent
// (naming the field), refused on a second use of the token, and answered
// with the same payment on an idempotent replay.
func TestPISEveryPaymentType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		for op, body := range b.polishBodies() {
			t.Run(op, func(t *testing.T) {
				account := b.annaMain.NRB
				if op == "EEA" || op == "nonEEA" {
					account = b.annaEUR.NRB
				}
				// The body differs from the consent.
				other := b.pisConsent(polishPrivileges[op], privilegeOfBody(body), account)
				changed := clone(body)
				changed["transferData"].(map[string]any)["amount"] = "1.00"
				_, _, ref := b.initiate(op, other, changed)
				wantRefusal(t, ref, http.StatusForbidden, common.CodePaymentMismatch, "transferData.amount", "1.00")
				changed = clone(body)
				changed["recipient"].(map[string]any)["nameAddress"] = map[string]any{"value": []string{"Ktoś Inny"}}
				_, _, ref = b.initiate(op, other, changed)
				wantRefusal(t, ref, http.StatusForbidden, common.CodePaymentMismatch, "recipient.nameAddress")
				// The refusals did not use the privilege: the right body passes.
				status, data, ref := b.initiate(op, other, body)
				if ref != nil || status != http.StatusOK {
					t.Fatalf("initiate: %d %v", status, ref)
				}
				if err := spec.ValidateResponse(op, 200, data); err != nil {
					t.Errorf("%s answer: %v\n%s", op, err, data)
				}
				id := paymentIDOf(t, data)

				// The idempotent replay answers with the same payment.
				status, again, ref := b.initiate(op, other, body)
				if ref != nil || status != http.StatusOK || paymentIDOf(t, again) != id {
					t.Fatalf("replay: %d %v %s", status, ref, again)
				}
				// Another payment with the same token is refused.
				second := clone(body)
				second["tppTransactionId"] = uuid.NewString()
				_, _, ref = b.initiate(op, other, second)
				wantRefusal(t, ref, http.StatusForbidden, common.CodePrivilegeUsed)
				// The same key with another body is refused too.
				dup := clone(body)
				dup["transferData"].(map[string]any)["description"] = "Inny tytuł"
				_, _, ref = b.initiate(op, other, dup)
				if ref == nil || ref.Code != common.CodeDuplicateTransaction && ref.Code != common.CodePrivilegeUsed {
					t.Fatalf("same key, other body: %v", ref)
				}

				// getPayment with the token of the consent that initiated it.
				status, data, ref = b.polish(b.handler("getPayment"), other, map[string]any{"paymentId": id})
				if ref != nil || status != 200 {
					t.Fatalf("getPayment: %d %v", status, ref)
				}
				if err := spec.ValidateResponse("getPayment", 200, data); err != nil {
					t.Errorf("getPayment answer: %v\n%s", err, data)
				}
				var info polishapi.GetPaymentResponse
				json.Unmarshal(data, &info)
				if info.TPPTransactionID != body["tppTransactionId"] || info.GeneralStatus != "pending" {
					t.Errorf("getPayment = %s", data)
				}
			})
		}
	})
}

// A future-dated payment is scheduled; it is read by tppTransactionId,
// refused to a consent without pis:getPayment, cancelled with a consent
// holding pis:cancelPayment (204), and a payment no longer cancellable is
// listed (200). The callbackURL is kept.
func TestPISReadAndCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		ctx := context.Background()
		body := b.polishBodies()["domestic"]
		body["transferData"].(map[string]any)["executionDate"] = "2026-11-30"
		body["executionMode"] = "FutureDated"
		cons := b.pisConsent(consent.PrivDomestic, privilegeOfBody(body), b.annaMain.NRB)
		body["requestHeader"] = map[string]any{"requestId": uuid.NewString(), "token": "t", "callbackURL": "https://tpp.example/cb"}
		status, data, ref := b.polish(b.handler("domestic"), cons, clone(body))
		if ref != nil || status != 200 {
			t.Fatalf("initiate: %d %v", status, ref)
		}
		id := paymentIDOf(t, data)
		p := must(b.pay.Get(ctx, id))
		if p.Status != payment.StatusScheduled || p.CallbackURL != "https://tpp.example/cb" || !p.FutureDated {
			t.Fatalf("payment = %+v", p)
		}

		_, data, ref = b.polish(b.handler("getPayment"), cons, map[string]any{"tppTransactionId": body["tppTransactionId"]})
		if ref != nil || !strings.Contains(string(data), `"generalStatus":"scheduled"`) || !strings.Contains(string(data), `"executionMode":"FutureDated"`) {
			t.Fatalf("getPayment: %v %s", ref, data)
		}
		// A consent of Anna's without the payment and without pis:getPayment.
		stranger := b.pisConsent(consent.PrivDomestic, privilegeOfBody(b.polishBodies()["domestic"]), b.annaMain.NRB)
		_, _, ref = b.polish(b.handler("getPayment"), stranger, map[string]any{"paymentId": id})
		wantRefusal(t, ref, http.StatusForbidden, common.CodePrivilegeMissing)
		// A consent with pis:getPayment for the payment.
		reader := b.consent(tppA, consent.ScopePIS, []consent.Privilege{
			{Name: consent.PrivGetPayment, ScopeUsageLimit: consent.UsageMultiple, Payment: mustJSON(map[string]any{"paymentId": id})},
			{Name: consent.PrivCancelPayment, ScopeUsageLimit: consent.UsageSingle, Payment: mustJSON(map[string]any{"paymentId": "other"})},
		}, b.annaMain.NRB)
		if _, _, ref = b.polish(b.handler("getPayment"), reader, map[string]any{"paymentId": id}); ref != nil {
			t.Fatalf("getPayment with pis:getPayment: %v", ref)
		}
		// Cancelling needs pis:cancelPayment naming the payment.
		_, _, ref = b.polish(b.handler("cancelPayments"), cons, map[string]any{"paymentId": id})
		wantRefusal(t, ref, http.StatusForbidden, common.CodePrivilegeMissing)
		_, _, ref = b.polish(b.handler("cancelPayments"), reader, map[string]any{"paymentId": id})
		wantRefusal(t, ref, http.StatusForbidden, common.CodePrivilegeMissing)
		canceller := b.consent(tppA, consent.ScopePIS, []consent.Privilege{
			{Name: consent.PrivCancelPayment, ScopeUsageLimit: consent.UsageSingle, Payment: mustJSON(map[string]any{"paymentId": id})},
		}, b.annaMain.NRB)
		status, data, ref = b.polish(b.handler("cancelPayments"), canceller, map[string]any{"paymentId": id})
		if ref != nil || status != http.StatusNoContent || len(data) != 0 {
			t.Fatalf("cancelPayments: %d %v %s", status, ref, data)
		}
		if p := must(b.pay.Get(ctx, id)); p.Status != payment.StatusCancelled {
			t.Fatalf("cancelled payment = %s", p.Status)
		}

		// An immediate internal payment is booked at once and cannot be cancelled.
		internal := b.polishBodies()["domestic"]
		internal["recipient"].(map[string]any)["accountNumber"] = b.firmaB.NRB
		internal["system"] = "Internal"
		ic := b.pisConsent(consent.PrivDomestic, privilegeOfBody(internal), b.annaMain.NRB)
		_, data, ref = b.initiate("domestic", ic, internal)
		if ref != nil || !strings.Contains(string(data), `"generalStatus":"done"`) {
			t.Fatalf("internal payment: %v %s", ref, data)
		}
		done := paymentIDOf(t, data)
		cc := b.consent(tppA, consent.ScopePIS, []consent.Privilege{
			{Name: consent.PrivCancelPayment, ScopeUsageLimit: consent.UsageSingle, Payment: mustJSON(map[string]any{"paymentId": done})},
		}, b.annaMain.NRB)
		status, data, ref = b.polish(b.handler("cancelPayments"), cc, map[string]any{"paymentId": done})
		if ref != nil || status != http.StatusOK || !strings.Contains(string(data), done) {
			t.Fatalf("cancelPayments of a done payment: %d %v %s", status, ref, data)
		}
		if err := spec.ValidateResponse("cancelPayments", 200, data); err != nil {
			t.Errorf("cancelPayments answer: %v\n%s", err, data)
		}
		// Another TPP does not see the payment.
		c := caller(tppB, cons, gateway.PolishAPI, mustJSON(map[string]any{"requestHeader": map[string]any{"requestId": "x", "token": "t"}, "paymentId": id}))
		_, _, ref = b.call(b.handler("getPayment"), c, httptestRequest())
		if ref == nil || ref.Status != http.StatusForbidden && ref.Status != http.StatusNotFound {
			t.Fatalf("another TPP reads the payment: %v", ref)
		}
	})
}

// 50 concurrent duplicates of one initiation (same key, same body, each
// with its own request id) make one payment, and every one of them is
// answered with it.
func TestPISConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		body := b.polishBodies()["domestic"]
		cons := b.pisConsent(consent.PrivDomestic, privilegeOfBody(body), b.annaMain.NRB)
		const n = 50
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := mustJSON(func() map[string]any {
					m := clone(body)
					m["requestHeader"] = map[string]any{"requestId": uuid.NewString(), "token": "t"}
					return m
				}())
				w := httptest.NewRecorder()
				if err := b.handler("domestic")(w, httptestRequest(), caller(tppA, cons, gateway.PolishAPI, data)); err != nil {
					errs[i] = err
					return
				}
				var r polishapi.AddPaymentResponse
				json.Unmarshal(w.Body.Bytes(), &r)
				ids[i] = r.PaymentID
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("duplicate %d: %v", i, errs[i])
			}
			if ids[i] == "" || ids[i] != ids[0] {
				t.Fatalf("duplicate %d answered payment %q, the first %q", i, ids[i], ids[0])
			}
		}
		var count int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM payments WHERE tpp_id = $1`, tppA).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 1 {
			t.Fatalf("%d payments recorded, want 1", count)
		}
	})
}

// Validation errors surface with their field and reason in the error
// body; a payment beyond the funds is rejected with INSUFFICIENT_FUNDS.
func TestPISValidationAndFunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		for _, tc := range []struct {
			name   string
			mod    func(map[string]any)
			code   gateway.Code
			reason string
		}{
			{"bad recipient account", func(m map[string]any) {
				m["recipient"].(map[string]any)["accountNumber"] = "61109010140000071219812875"
			},
				common.CodeInvalidRecipient, "recipient.accountNumber"},
			{"amount format", func(m map[string]any) { m["transferData"].(map[string]any)["amount"] = "12.3" }, common.CodeInvalidAmount, "transferData.amount"},
			{"past date", func(m map[string]any) {
				m["transferData"].(map[string]any)["executionDate"] = "2026-01-02"
				m["executionMode"] = "FutureDated"
			}, common.CodeInvalidExecutionDate, "in the past"},
			{"no title", func(m map[string]any) { m["transferData"].(map[string]any)["description"] = "" }, common.CodeInvalidTitle, "title is missing"},
			{"unknown system", func(m map[string]any) { m["system"] = "BlueCash" }, common.CodeInvalidSystem, "BlueCash"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := b.polishBodies()["domestic"]
				tc.mod(body)
				cons := b.pisConsent(consent.PrivDomestic, privilegeOfBody(body), b.annaMain.NRB)
				_, _, ref := b.initiate("domestic", cons, body)
				wantRefusal(t, ref, http.StatusBadRequest, tc.code, tc.reason)
				// Refused before the privilege was used: the consent is intact.
				if c := must(b.consents.Get(context.Background(), cons.ID)); c.Privileges[0].Uses != 0 {
					t.Errorf("a refused initiation used the privilege")
				}
			})
		}
		body := b.polishBodies()["domestic"]
		body["transferData"].(map[string]any)["amount"] = "99999.00"
		cons := b.pisConsent(consent.PrivDomestic, privilegeOfBody(body), b.annaMain.NRB)
		_, _, ref := b.initiate("domestic", cons, body)
		wantRefusal(t, ref, http.StatusUnprocessableEntity, common.CodeInsufficientFunds)
		_, _, ref = b.initiate("domestic", cons, body)
		wantRefusal(t, ref, http.StatusUnprocessableEntity, common.CodeInsufficientFunds) // the replay says the same
	})
}

// A bundle and a recurring payment in PolishAPI, with their status
// operations; answers valid by the spec.
func TestPISBundleAndRecurring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		one, two := b.polishBodies()["domestic"], b.polishBodies()["domestic"]
		two["transferData"].(map[string]any)["amount"] = "10.00"
		two["recipient"].(map[string]any)["accountNumber"] = b.firmaB.NRB
		delete(two, "system")
		bundle := map[string]any{"tppBundleId": uuid.NewString(), "transfersTotalAmount": "133.45", "typeOfTransfers": "domestic",
			"domesticTransfers": []any{one, two}}
		priv := map[string]any{"scopeUsageLimit": "single", "transfersTotalAmount": "133.45", "typeOfTransfers": "domestic",
			"domesticTransfers": []any{privilegeOfBody(one), privilegeOfBody(two)}}
		cons := b.pisConsent(consent.PrivBundle, priv, b.annaMain.NRB)
		wrong := clone(bundle)
		wrong["domesticTransfers"].([]any)[1].(map[string]any)["transferData"].(map[string]any)["description"] = "Inny"
		_, _, ref := b.initiate("bundle", cons, wrong)
		wantRefusal(t, ref, http.StatusForbidden, common.CodePaymentMismatch, "transfer 2", "transferData.description")
		status, data, ref := b.initiate("bundle", cons, bundle)
		if ref != nil || status != 200 {
			t.Fatalf("bundle: %d %v", status, ref)
		}
		if err := spec.ValidateResponse("bundle", 200, data); err != nil {
			t.Errorf("bundle answer: %v\n%s", err, data)
		}
		var br polishapi.PaymentsBundleResponse
		json.Unmarshal(data, &br)
		if len(br.Payments) != 2 {
			t.Fatalf("bundle = %s", data)
		}
		_, data, ref = b.polish(b.handler("getBundle"), cons, map[string]any{"tppBundleId": bundle["tppBundleId"], "transactionsIncluded": true})
		if ref != nil {
			t.Fatalf("getBundle: %v", ref)
		}
		if err := spec.ValidateResponse("getBundle", 200, data); err != nil {
			t.Errorf("getBundle answer: %v\n%s", err, data)
		}

		pay := privilegeOfBody(b.polishBodies()["domestic"])
		delete(pay, "scopeUsageLimit")
		delete(pay, "executionMode")
		rec := map[string]any{"tppRecurringPaymentId": uuid.NewString(), "typeOfPayment": "domestic", "domesticPayment": pay,
			"recurrence": map[string]any{"startDate": "2026-12-01", "frequency": map[string]any{"periodType": "month", "periodValue": 1},
				"endDate": "2027-05-31", "dayOffOffsetType": "after"}}
		rpriv := clone(rec)
		delete(rpriv, "tppRecurringPaymentId")
		rcons := b.pisConsent(consent.PrivRecurring, rpriv, b.annaMain.NRB)
		status, data, ref = b.initiate("recurring", rcons, rec)
		if ref != nil || status != 200 {
			t.Fatalf("recurring: %d %v", status, ref)
		}
		if err := spec.ValidateResponse("recurring", 200, data); err != nil {
			t.Errorf("recurring answer: %v\n%s", err, data)
		}
		var rr polishapi.RecurringPaymentResponse
		json.Unmarshal(data, &rr)
		_, data, ref = b.polish(b.handler("getRecurringPayment"), rcons, map[string]any{"recurringPaymentId": rr.RecurringPaymentID})
		if ref != nil {
			t.Fatalf("getRecurringPayment: %v", ref)
		}
		if err := spec.ValidateResponse("getRecurringPayment", 200, data); err != nil {
			t.Errorf("getRecurringPayment answer: %v\n%s", err, data)
		}
		cancel := b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: consent.PrivCancelRecurringPayment, ScopeUsageLimit: consent.UsageSingle,
			Payment: mustJSON(map[string]any{"recurringPaymentId": rr.RecurringPaymentID})}}, b.annaMain.NRB)
		_, data, ref = b.polish(b.handler("cancelRecurringPayment"), cancel, map[string]any{"recurringPaymentId": rr.RecurringPaymentID})
		if ref != nil || !strings.Contains(string(data), `"recurringPaymentStatus":"cancelled"`) {
			t.Fatalf("cancelRecurringPayment: %v %s", ref, data)
		}
		if err := spec.ValidateResponse("cancelRecurringPayment", 200, data); err != nil {
			t.Errorf("cancelRecurringPayment answer: %v\n%s", err, data)
		}
	})
}

// mBank: a domestic payment with TPP-Payment-ID, its status link, the
// idempotent replay, a split payment, and DELETE of a future-dated one.
func TestPISMBank(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		h := b.pis.handlers()
		pay := map[string]any{
			"recipient": map[string]any{"accountNumber": otherBankNRB, "name": "Jan Kowalski",
				"nameAddressStructured": map[string]any{"addressStructured": map[string]any{"countryCode": "PL", "townName": "Warszawa", "streetName": "Uchwały", "buildingNumber": "1", "postCode": "00-123"}}},
			"sender":       map[string]any{},
			"transferData": map[string]any{"description": "Transfer", "amount": "0.01", "currency": "PLN"},
			"deliveryMode": "STANDARD_D1", "system": "ELIXIR",
		}
		cons := b.pisConsent(consent.PrivDomestic, map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": pay}, b.annaMain.NRB)
		key := uuid.NewString()
		post := func(cons consent.Consent, body map[string]any, key string) (int, []byte, *gateway.Refusal) {
			c := caller(tppA, cons, gateway.MBank, mustJSON(body))
			return b.mbank(h["mbank.domestic"], c, "POST", "/{bankId}/v3/payments/domestic", "/pl-retail/v3/payments/domestic",
				http.Header{"Tpp-Payment-Id": {key}})
		}
		status, data, ref := post(cons, pay, key)
		if ref != nil || status != http.StatusCreated {
			t.Fatalf("mBank domestic: %d %v", status, ref)
		}
		var pr mbank.PaymentResponse
		json.Unmarshal(data, &pr)
		if pr.Status != "PENDING" || len(pr.Links) != 1 || pr.Links[0].Href != "/pl-retail/v3/payments/domestic/"+pr.AspspPaymentID {
			t.Fatalf("answer = %s", data)
		}
		if _, err := uuid.Parse(pr.AspspPaymentID); err != nil {
			t.Errorf("aspspPaymentId %q is not a UUID (the collection finds it in the link by a UUID pattern)", pr.AspspPaymentID)
		}
		if _, again, ref := post(cons, pay, key); ref != nil || !strings.Contains(string(again), pr.AspspPaymentID) {
			t.Fatalf("replay: %v %s", ref, again)
		}
		if _, _, ref := post(cons, pay, uuid.NewString()); ref == nil || ref.Code != common.CodePrivilegeUsed {
			t.Fatalf("second payment with the token: %v", ref)
		}
		c := caller(tppA, cons, gateway.MBank, nil)
		status, data, ref = b.mbank(h["mbank.paymentStatus"], c, "GET", "/{bankId}/v3/payments/domestic/{paymentId}", pr.Links[0].Href, nil)
		if ref != nil || status != 200 || !strings.Contains(string(data), `"status":"PENDING"`) {
			t.Fatalf("status: %d %v %s", status, ref, data)
		}

		// A body that differs names the field.
		other := b.pisConsent(consent.PrivDomestic, map[string]any{"domesticPaymentRequest": pay}, b.annaMain.NRB)
		changed := clone(pay)
		changed["recipient"].(map[string]any)["name"] = "Anna Nowak"
		_, _, ref = post(other, changed, uuid.NewString())
		wantRefusal(t, ref, http.StatusForbidden, common.CodePaymentMismatch, "recipient.name")

		// A split payment.
		split := clone(pay)
		split["transferData"].(map[string]any)["amount"] = "123.00"
		split["splitPayment"] = true
		split["transactionInfoSp"] = map[string]any{"spInvoiceNumber": "FVS-01-01-2020-0001", "spTaxIdentificationNumber": "5260300517",
			"spTaxAmount": "23.00", "spDescription": "Split payment"}
		sc := b.pisConsent(consent.PrivDomestic, map[string]any{"domesticPaymentRequest": split}, b.annaMain.NRB)
		if _, data, ref := post(sc, split, uuid.NewString()); ref != nil {
			t.Fatalf("split payment: %v", ref)
		} else {
			json.Unmarshal(data, &pr)
			if p := must(b.pay.Get(context.Background(), pr.AspspPaymentID)); p.Split == nil || !strings.HasPrefix(p.Title, "/VAT/23,00/IDC/5260300517/INV/FVS-01-01-2020-0001") {
				t.Errorf("split payment = %+v", p)
			}
		}

		// A future-dated payment, cancelled with DELETE.
		future := clone(pay)
		future["transferData"].(map[string]any)["executionDate"] = "2026-11-30"
		fc := b.pisConsent(consent.PrivDomestic, map[string]any{"domesticPaymentRequest": future}, b.annaMain.NRB)
		_, data, ref = post(fc, future, uuid.NewString())
		if ref != nil {
			t.Fatalf("future-dated: %v", ref)
		}
		json.Unmarshal(data, &pr)
		if pr.Status != "SCHEDULED" {
			t.Fatalf("future-dated = %s", data)
		}
		del := b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: consent.PrivCancelPayment, ScopeUsageLimit: consent.UsageSingle,
			Payment: mustJSON(map[string]any{"aspspPaymentId": pr.AspspPaymentID})}}, b.annaMain.NRB)
		status, data, ref = b.mbank(h["mbank.cancelPayment"], caller(tppA, del, gateway.MBank, nil), "DELETE",
			"/{bankId}/v3/payments/domestic/{paymentId}", pr.Links[0].Href, nil)
		if ref != nil || status != 200 || !strings.Contains(string(data), `"status":"CANCELLED"`) {
			t.Fatalf("DELETE: %d %v %s", status, ref, data)
		}

		// A bundle, its status and its cancellation.
		tr := func(amount, date string) map[string]any {
			m := clone(pay)
			m["tppPaymentId"] = uuid.NewString()
			m["transferData"].(map[string]any)["amount"] = amount
			if date != "" {
				m["transferData"].(map[string]any)["executionDate"] = date
			}
			return m
		}
		bundle := map[string]any{"transfersTotalAmount": "3.00", "transfers": []any{tr("1.00", "2026-11-30"), tr("2.00", "2026-11-30")}}
		bc := b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: consent.PrivBundle, ScopeUsageLimit: consent.UsageSingle,
			Payment: mustJSON(map[string]any{"bundleDomesticPaymentsRequest": bundle})}}, b.annaMain.NRB)
		status, data, ref = b.mbank(h["mbank.bundleDomestic"], caller(tppA, bc, gateway.MBank, mustJSON(bundle)), "POST",
			"/{bankId}/v3/payments/bundle/domestic", "/pl-corpo/v3/payments/bundle/domestic", http.Header{"Tpp-Bundle-Id": {uuid.NewString()}})
		if ref != nil || status != http.StatusCreated {
			t.Fatalf("bundle: %d %v", status, ref)
		}
		var bresp mbank.BundleResponse
		json.Unmarshal(data, &bresp)
		if len(bresp.Payments) != 2 || !strings.HasPrefix(bresp.Links[0].Href, "/pl-corpo/v3/payments/bundle/domestic/") {
			t.Fatalf("bundle = %s", data)
		}
		_, data, ref = b.mbank(h["mbank.bundleStatus"], caller(tppA, bc, gateway.MBank, nil), "GET",
			"/{bankId}/v3/payments/bundle/domestic/{bundleId}", bresp.Links[0].Href+"?transactionsIncluded=true", nil)
		if ref != nil || !strings.Contains(string(data), `"status":"SCHEDULED"`) {
			t.Fatalf("bundle status: %v %s", ref, data)
		}
		bdel := b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: consent.PrivCancelPayment, ScopeUsageLimit: consent.UsageSingle,
			Payment: mustJSON(map[string]any{"aspspBundleId": bresp.AspspBundleID})}}, b.annaMain.NRB)
		_, data, ref = b.mbank(h["mbank.cancelBundle"], caller(tppA, bdel, gateway.MBank, nil), "DELETE",
			"/{bankId}/v3/payments/bundle/domestic/{bundleId}", bresp.Links[0].Href, nil)
		if ref != nil || !strings.Contains(string(data), `"status":"CANCELLED"`) {
			t.Fatalf("bundle DELETE: %v %s", ref, data)
		}
	})
}

// The consent keeps the payment in the domain's words (the order the
// dialect read at authorize): the initiation compares its body with that
// order, naming the field that differs, and no longer needs the wire data.
func TestPISComparesWithTheStoredOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newPISBank(t, db)
		body := b.polishBodies()["domestic"]
		c, ok, err := polishapi.ConsentedPayment(consent.PrivDomestic, mustJSON(privilegeOfBody(body)))
		if !ok || err != nil {
			t.Fatalf("consentedPayment: %v %v", ok, err)
		}
		consentWith := func(c payment.Consented) consent.Consent {
			return b.consent(tppA, consent.ScopePIS, []consent.Privilege{{Name: consent.PrivDomestic, ScopeUsageLimit: consent.UsageSingle,
				Payment: json.RawMessage(`{"unreadable": true}`), Order: &c}}, b.annaMain.NRB)
		}
		if status, data, ref := b.initiate("domestic", consentWith(c), body); ref != nil || status != http.StatusOK {
			t.Fatalf("initiation against the stored order: %d %v %s", status, ref, data)
		}
		other := c
		other.Orders = []payment.Order{c.Orders[0]}
		other.Orders[0].Title = "Something else"
		body["tppTransactionId"] = uuid.NewString()
		_, _, ref := b.initiate("domestic", consentWith(other), body)
		wantRefusal(t, ref, http.StatusForbidden, common.CodePaymentMismatch, "transferData.description", "Something else")
	})
}
