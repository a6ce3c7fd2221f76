package oauth_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// mBank's refresh_token with scope_details {pis:payment {scopeUsageLimit:
// MULTIPLE, aspspPaymentId}} (the collection's split-payment status token)
// adds the status read of a payment initiated under the consent, and the
// answer shows it. A payment of another consent, or any other privilege,
// is refused and changes nothing (the refresh token stays usable).
func TestRefreshAddsPaymentStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		domestic := consent.Privilege{Name: consent.PrivDomestic, ScopeUsageLimit: "single",
			Payment: json.RawMessage(`{"sender":{"accountNumber":"` + accB + `"},"transferData":{"amount":"12.34","currency":"PLN"}}`)}
		res := mustAuthorize(t, e, authReq(consent.ScopePIS, domestic))
		to, err := e.srv.Approve(ctx, res.RequestID, "cust-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		tok, err := e.redeem(u.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ id, consentID string }{{"pay-mine", tok.Consent.ID}, {"pay-other", "another-consent"}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO payments (id, tpp_id, tpp_transaction_id, request_hash, consent_id, customer_id,
				type, kind, system, status, debit_account_id, sender_account, recipient_name, recipient_account, amount, currency,
				title, execution_date, created_at, updated_at)
				VALUES ($1, $2, $1, 'h', $3, 'cust-1', 'domestic', 'single', 'Elixir', 'done', 'acc', $4, 'Jan', $4, 1234, 'PLN', 't', '2026-01-01', 1, 1)`,
				p.id, tppA, p.consentID, accB); err != nil {
				t.Fatal(err)
			}
		}
		refresh := func(rt string, p consent.Privilege) (oauth.TokenResponse, error) {
			return e.srv.Token(ctx, oauth.TokenRequest{TPPID: tppA, QWACThumbprint: certA, GrantType: oauth.GrantRefreshToken,
				RefreshToken: rt, Scope: "pis", ScopeDetails: &oauth.ScopeDetails{ConsentID: tok.Consent.TPPConsentID, Privileges: []consent.Privilege{p}}})
		}
		status := func(id string) consent.Privilege {
			return consent.Privilege{Name: consent.PrivGetPayment, ScopeUsageLimit: "multiple", Payment: json.RawMessage(`{"scopeUsageLimit":"MULTIPLE","aspspPaymentId":"` + id + `"}`)}
		}
		_, err = refresh(tok.RefreshToken, status("pay-other"))
		wantCode(t, "pis:payment of another consent's payment", err, oauth.InvalidScope)
		_, err = refresh(tok.RefreshToken, domestic)
		wantCode(t, "pis:domestic by refresh", err, oauth.InvalidScope)
		if c, _ := e.consents.Get(ctx, tok.Consent.ID); len(c.Privileges) != 1 {
			t.Fatalf("a refused refresh changed the consent: %+v", c.Privileges)
		}

		got, err := refresh(tok.RefreshToken, status("pay-mine"))
		if err != nil {
			t.Fatalf("refresh with pis:payment of the consent's payment: %v", err)
		}
		has := func(c consent.Consent) int {
			n := 0
			for _, p := range c.Privileges {
				var ids struct{ AspspPaymentID string }
				json.Unmarshal(p.Payment, &ids)
				if p.Name == consent.PrivGetPayment && ids.AspspPaymentID == "pay-mine" && p.ScopeUsageLimit == "multiple" {
					n++
				}
			}
			return n
		}
		if has(got.Consent) != 1 {
			t.Fatalf("the answer does not grant pis:payment: %+v", got.Consent.Privileges)
		}
		if c, _ := e.consents.Get(ctx, tok.Consent.ID); has(c) != 1 {
			t.Fatalf("the consent does not keep pis:payment: %+v", c.Privileges)
		}
		again, err := refresh(got.RefreshToken, status("pay-mine"))
		if err != nil || has(again.Consent) != 1 {
			t.Fatalf("the same refresh again: %v, %+v", err, again.Consent.Privileges)
		}
	})
}
