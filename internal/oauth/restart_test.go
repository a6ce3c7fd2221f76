package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestRenew: a pending request renewed has its full time from then; an
// expired one stays expired.
func TestRenew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res := mustAuthorize(t, e, authReq(consent.ScopeAISAccounts, getAccounts()))
		ttl := res.ExpiresAt.Sub(e.clk.Now())
		e.clk.Advance(ttl - time.Minute)
		if err := e.srv.Renew(ctx, res.RequestID); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(2 * time.Minute) // past the first expiry
		if p, err := e.srv.Request(ctx, res.RequestID); err != nil || p.Expired || !p.ExpiresAt.Equal(e.clk.Now().Add(ttl-2*time.Minute)) {
			t.Fatalf("renewed request: %+v %v", p, err)
		}
		e.clk.Advance(ttl)
		if err := e.srv.Renew(ctx, res.RequestID); err != nil {
			t.Fatal(err)
		}
		if p, _ := e.srv.Request(ctx, res.RequestID); !p.Expired {
			t.Fatal("an expired request was renewed")
		}
	})
}
