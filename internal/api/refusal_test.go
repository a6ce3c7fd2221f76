package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// endpoint is one AIS operation, callable in a test with a consent and an
// account (PolishAPI) or account id (mBank).
type endpoint struct {
	name      string
	privilege string
	call      func(b *bank, c consent.Consent, tpp string, acct ledger.Account, extra map[string]any) *gateway.Refusal
}

func polishEndpoint(name, privilege string, h func(*bank) gateway.Handler, item func(*bank) string) endpoint {
	return endpoint{name: "polishapi." + name, privilege: privilege, call: func(b *bank, c consent.Consent, tpp string, acct ledger.Account, extra map[string]any) *gateway.Refusal {
		body := map[string]any{"accountNumber": acct.NRB}
		if item != nil {
			body["itemId"] = item(b)
		}
		psu := true
		for k, v := range extra {
			if k == "_unattended" {
				psu = false
				continue
			}
			body[k] = v
		}
		body["requestHeader"] = map[string]any{"requestId": uuid.Must(uuid.NewUUID()).String(), "token": "t", "isDirectPsu": psu}
		data := mustJSON(body)
		_, _, ref := b.call(h(b), caller(tpp, c, gateway.PolishAPI, data), httptestRequest())
		return ref
	}}
}

func mbankEndpoint(name, privilege, pattern string, h func(*bank) gateway.Handler, path func(b *bank, acct ledger.Account) string) endpoint {
	return endpoint{name: "mbank." + name, privilege: privilege, call: func(b *bank, c consent.Consent, tpp string, acct ledger.Account, extra map[string]any) *gateway.Refusal {
		target := path(b, acct)
		header := psuHeader
		for k, v := range extra {
			switch k {
			case "_unattended":
				header = nil
			case "transactionDateFrom":
				sep := "?"
				if strings.Contains(target, "?") {
					sep = "&"
				}
				target += sep + "transactionDateFrom=" + v.(string)
			}
		}
		_, _, ref := b.mbank(h(b), caller(tpp, c, gateway.MBank, nil), "GET", pattern, target, header)
		return ref
	}}
}

var endpoints = []endpoint{
	polishEndpoint("getAccount", consent.PrivGetAccount, func(b *bank) gateway.Handler { return b.ais.polishGetAccount }, nil),
	polishEndpoint("getTransactionsDone", consent.PrivGetTransactionsDone, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindDone) }, nil),
	polishEndpoint("getTransactionsPending", consent.PrivGetTransactionsPending, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindPending) }, nil),
	polishEndpoint("getTransactionsRejected", consent.PrivGetTransactionsRejected, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindRejected) }, nil),
	polishEndpoint("getTransactionsCancelled", consent.PrivGetTransactionsCancelled, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindCancelled) }, nil),
	polishEndpoint("getTransactionsScheduled", consent.PrivGetTransactionsScheduled, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindScheduled) }, nil),
	polishEndpoint("getHolds", consent.PrivGetHolds, func(b *bank) gateway.Handler { return b.ais.polishTransactions(kindHolds) }, nil),
	polishEndpoint("getTransactionDetail", consent.PrivGetTransactionDetail, func(b *bank) gateway.Handler { return b.ais.polishTransactionDetail },
		func(b *bank) string { return b.pending.ID }),
	mbankEndpoint("accountDetails", consent.PrivGetAccount, "/pl-retail/v3/accounts/{accountId}", func(b *bank) gateway.Handler { return b.ais.mbankAccountDetails },
		func(b *bank, a ledger.Account) string { return "/pl-retail/v3/accounts/" + a.ID }),
	mbankEndpoint("transactions", consent.PrivGetTransactionsDone, "/pl-retail/v3/accounts/{accountId}/transactions", func(b *bank) gateway.Handler { return b.ais.mbankTransactions },
		func(b *bank, a ledger.Account) string { return "/pl-retail/v3/accounts/" + a.ID + "/transactions" }),
	mbankEndpoint("transactions HOLD", consent.PrivGetHolds, "/pl-retail/v3/accounts/{accountId}/transactions", func(b *bank) gateway.Handler { return b.ais.mbankTransactions },
		func(b *bank, a ledger.Account) string {
			return "/pl-retail/v3/accounts/" + a.ID + "/transactions?transactionStatus=HOLD"
		}),
	mbankEndpoint("transactionDetails", consent.PrivGetTransactionDetail, "/pl-retail/v3/accounts/{accountId}/transactions/{transactionId}",
		func(b *bank) gateway.Handler { return b.ais.mbankTransactionDetails },
		func(b *bank, a ledger.Account) string {
			return "/pl-retail/v3/accounts/" + a.ID + "/transactions/" + b.pending.ID
		}),
}

// historyEndpoints take a date filter.
var historyEndpoints = map[string]bool{
	"polishapi.getTransactionsDone": true, "polishapi.getTransactionsPending": true, "polishapi.getTransactionsRejected": true,
	"polishapi.getTransactionsCancelled": true, "polishapi.getTransactionsScheduled": true, "polishapi.getHolds": true,
	"mbank.transactions": true, "mbank.transactions HOLD": true,
}

// TestRefusals runs every consent refusal against every AIS endpoint, with a
// real consent service.
func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 3)
		ctx := context.Background()
		for _, ep := range endpoints {
			t.Run(ep.name, func(t *testing.T) {
				good := b.aisConsent()
				want := func(ref *gateway.Refusal, status int, code gateway.Code) {
					t.Helper()
					if ref == nil || ref.Status != status || ref.Code != code {
						t.Fatalf("got %v, want %d %s", ref, status, code)
					}
					if ref.EN == "" || ref.PL == "" {
						t.Fatalf("refusal %v lacks a message in English or Polish", ref)
					}
				}
				if ref := ep.call(b, good, tppA, b.annaMain, nil); ref != nil {
					t.Fatalf("allowed call refused: %v", ref)
				}
				// Unknown consent, another TPP's consent.
				unknown := good
				unknown.ID = "no-such-consent"
				want(ep.call(b, unknown, tppA, b.annaMain, nil), 403, common.CodeConsentUnknown)
				want(ep.call(b, good, tppB, b.annaMain, nil), 403, common.CodeConsentUnknown)
				// An account outside the consent: another customer's, and an unknown one.
				want(ep.call(b, good, tppA, b.firmaB, nil), 403, common.CodeAccountNotInConsent)
				want(ep.call(b, good, tppA, ledger.Account{ID: "nope", NRB: "00000000000000000000000000"}, nil), 403, common.CodeAccountNotInConsent)
				// A consent without the privilege.
				var privs []consent.Privilege
				for _, p := range allAIS(365) {
					if p.Name != ep.privilege {
						privs = append(privs, p)
					}
				}
				lacking := b.consent(tppA, consent.ScopeAIS, privs, b.annaMain.NRB)
				want(ep.call(b, lacking, tppA, b.annaMain, nil), 403, common.CodePrivilegeMissing)
				// History further back than the consent allows.
				if historyEndpoints[ep.name] {
					want(ep.call(b, good, tppA, b.annaMain, map[string]any{"transactionDateFrom": ledger.DateOf(t0.AddDate(-2, 0, 0))}), 400, common.CodeHistoryTooLong)
				}
				// Not yet authorised.
				received := must(b.consents.Create(ctx, consent.Consent{
					TPPConsentID: uuid.NewString(), TPPID: tppA, ClientID: "c", Scope: consent.ScopeAIS, Privileges: allAIS(365),
					ScopeTimeLimit: t0.AddDate(0, 1, 0), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
				}))
				want(ep.call(b, received, tppA, b.annaMain, nil), 403, common.CodeConsentNotAuthorised)
				// Revoked by the customer.
				revoked := b.aisConsent()
				must(b.consents.Revoke(ctx, revoked.ID, "psu", "test"))
				want(ep.call(b, revoked, tppA, b.annaMain, nil), 403, common.CodeConsentRevoked)
				// Four unattended accesses a day per account, then 429.
				limited := b.aisConsent()
				for i := 0; i < consent.UnattendedLimit; i++ {
					if ref := ep.call(b, limited, tppA, b.annaMain, map[string]any{"_unattended": true}); ref != nil {
						t.Fatalf("unattended access %d: %v", i+1, ref)
					}
				}
				ref := ep.call(b, limited, tppA, b.annaMain, map[string]any{"_unattended": true})
				want(ref, http.StatusTooManyRequests, common.CodeAccessLimit)
				if !strings.HasPrefix(ref.EN, "Request limit for the requested service exceeded") || !strings.Contains(ref.EN, "possible at") {
					t.Errorf("429 message %q", ref.EN)
				}
				// With the customer present, no limit.
				if ref := ep.call(b, limited, tppA, b.annaMain, nil); ref != nil {
					t.Fatalf("with the customer present: %v", ref)
				}
			})
		}
		// Expired: the consent's time limit passed (last: it moves the clock).
		good := b.aisConsent()
		b.clock.Advance(100 * 24 * time.Hour)
		for _, ep := range endpoints {
			if ref := ep.call(b, good, tppA, b.annaMain, nil); ref == nil || ref.Code != common.CodeConsentExpired || ref.Status != 403 {
				t.Errorf("%s, expired consent: %v", ep.name, ref)
			}
		}
	})
}

// TestGetAccountsRefusals covers the account list's consent checks.
func TestGetAccountsRefusals(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), 0)
	ais := b.aisConsent() // ais scope: no getAccounts
	for name, h := range map[string]gateway.Handler{"polishapi": b.ais.polishGetAccounts} {
		if _, _, ref := b.polish(h, ais, map[string]any{}); ref == nil || ref.Code != common.CodePrivilegeMissing {
			t.Errorf("%s: %v", name, ref)
		}
	}
	if _, _, ref := b.mbank(b.ais.mbankAccounts, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts", "/pl-retail/v3/accounts", psuHeader); ref == nil || ref.Code != common.CodePrivilegeMissing {
		t.Errorf("mbank: %v", ref)
	}
	accts := b.accountsConsent()
	if _, _, ref := b.polish(b.ais.polishGetAccounts, accts, map[string]any{}); ref != nil {
		t.Fatal(ref)
	}
	if _, _, ref := b.call(b.ais.polishGetAccounts, &gateway.Caller{OrgID: tppA, Body: []byte(`{}`)}, httptestRequest()); ref == nil || ref.Status != 401 {
		t.Errorf("no grant: %v", ref)
	}
}

// TestPagesOfOneAccess: the next pages of a list are the same access, not
// counted against the 4 a day.
func TestPagesOfOneAccess(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), 20)
	ais := b.aisConsent()
	page := ""
	pages := 0
	for {
		body := map[string]any{"accountNumber": b.annaMain.NRB, "perPage": 2,
			"requestHeader": map[string]any{"requestId": uuid.Must(uuid.NewUUID()).String(), "token": "t"}}
		if page != "" {
			body["pageId"] = page
		}
		_, data, ref := b.polish(b.ais.polishTransactions(kindDone), ais, body)
		if ref != nil {
			t.Fatalf("page %d: %v", pages+1, ref)
		}
		pages++
		next := nextPageOf(data)
		if next == "" {
			break
		}
		page = next
	}
	if pages != 10 {
		t.Fatalf("%d pages, want 10", pages)
	}
}
