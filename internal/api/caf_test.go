package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi/spec"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

func nextPageOf(body []byte) string {
	var m struct {
		PageInfo *polishapi.PageInfo `json:"pageInfo"`
	}
	json.Unmarshal(body, &m)
	if m.PageInfo == nil {
		return ""
	}
	return m.PageInfo.NextPage
}

// TestConfirmationOfFunds answers by the available balance plus the
// overdraft limit, in both dialects, and refuses what it cannot answer.
func TestConfirmationOfFunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 6)
		a := must(b.l.Account(context.Background(), b.annaMain.ID))
		covered := a.Available + a.OverdraftLimit
		polishCall := func(number, amount, currency string) (bool, *gateway.Refusal) {
			body := mustJSON(map[string]any{"requestHeader": map[string]any{"requestId": "r"}, "accountNumber": number, "amount": amount, "currency": currency})
			status, data, ref := b.call(b.caf.polishConfirmationOfFunds, &gateway.Caller{OrgID: tppA, RequestID: "r", Body: body}, httptestRequest())
			if ref != nil {
				return false, ref
			}
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if err := spec.ValidateResponse("getConfirmationOfFunds", 200, data); err != nil {
				t.Error(err)
			}
			var r polishapi.ConfirmationOfFundsResponse
			json.Unmarshal(data, &r)
			return r.FundsAvailable, nil
		}
		mbankCall := func(number, amount, currency string) (bool, *gateway.Refusal) {
			body := mustJSON(mbank.FundsConfirmationRequest{AccountNumber: number, Amount: amount, Currency: currency})
			_, data, ref := b.call(b.caf.mbankFundsConfirmation, &gateway.Caller{OrgID: tppA, Body: body}, httptestRequest())
			var r mbank.FundsConfirmationResponse
			json.Unmarshal(data, &r)
			return r.FundsAvailable, ref
		}
		for name, call := range map[string]func(string, string, string) (bool, *gateway.Refusal){"polishapi": polishCall, "mbank": mbankCall} {
			t.Run(name, func(t *testing.T) {
				for _, tc := range []struct {
					number, amount, currency string
					want                     bool
					code                     gateway.Code
				}{
					{a.NRB, covered.String(), "PLN", true, ""},
					{"PL" + a.NRB, "1.00", "PLN", true, ""},
					{a.NRB, (covered + 1).String(), "PLN", false, ""},
					{b.annaSave.NRB, "0.01", "PLN", false, ""},
					{a.NRB, "1.00", "EUR", false, common.CodeCurrencyMismatch},
					{a.NRB, "-1.00", "PLN", false, gateway.CodeFormatError},
					{a.NRB, "0.00", "PLN", false, gateway.CodeFormatError},
					{a.NRB, "1.00", "XXX", false, gateway.CodeFormatError},
					{"12345", "1.00", "PLN", false, gateway.CodeFormatError},
					{nrb(t), "1.00", "PLN", false, common.CodeAccountUnknown},
					{b.clearing.NRB, "1.00", "PLN", false, common.CodeAccountUnknown},
				} {
					got, ref := call(tc.number, tc.amount, tc.currency)
					if tc.code != "" {
						if ref == nil || ref.Code != tc.code {
							t.Errorf("%s %s %s: %v, want %s", tc.number, tc.amount, tc.currency, ref, tc.code)
						}
						continue
					}
					if ref != nil || got != tc.want {
						t.Errorf("%s %s %s: %v %v, want %v", tc.number, tc.amount, tc.currency, got, ref, tc.want)
					}
				}
			})
		}
		// Live: a hold reduces what is available.
		must(b.l.PlaceHold(context.Background(), ledger.Hold{AccountID: a.ID, Amount: 1_00, Description: "x"}))
		if got, _ := polishCall(a.NRB, covered.String(), "PLN"); got {
			t.Error("a hold placed since does not count")
		}
	})
}
