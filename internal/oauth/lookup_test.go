package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// authenticate calls Authenticate and AuthenticateWithTPP, and fails the
// test when the one statement judges the token otherwise.
func (e *env) authenticate(t *testing.T, ctx context.Context, token, tppID, cert string) (oauth.Token, error) {
	t.Helper()
	want, wantErr := e.srv.Authenticate(ctx, token, tppID, cert)
	_, got, gotErr, err := e.srv.AuthenticateWithTPP(ctx, token, tppID, cert)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || oauth.CodeOf(gotErr) != oauth.CodeOf(wantErr) || (gotErr == nil) != (wantErr == nil) {
		t.Errorf("AuthenticateWithTPP: %+v, %v; Authenticate: %+v, %v", got, gotErr, want, wantErr)
	}
	return want, wantErr
}

// TestAuthenticateWithTPPStatus reads the registration of an unknown, an
// active and a suspended TPP with a token, on both engines.
func TestAuthenticateWithTPPStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for _, row := range []struct{ id, status, reason string }{{tppA, "active", ""}, {tppB, "suspended", "licence withdrawn"}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO tpps (id, norm_id, name, environment, status, suspended_reason, created_at, updated_at)
				VALUES ($1, $2, $3, 'sandbox', $4, $5, 0, 0)`, row.id, row.id, "Name of "+row.id, row.status, row.reason); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			tpp  string
			want oauth.TPPStatus
		}{
			{tppA, oauth.TPPStatus{Known: true, Active: true, Environment: "sandbox"}},
			{tppB, oauth.TPPStatus{Known: true, Active: false, Environment: "sandbox", Reason: "licence withdrawn"}},
			{"PSDPL-KNF-UNKNOWN", oauth.TPPStatus{}},
		} {
			q0 := db.Queries()
			st, _, tokenErr, err := e.srv.AuthenticateWithTPP(ctx, "made-up", tc.tpp, certA)
			if err != nil || st != tc.want || oauth.CodeOf(tokenErr) != oauth.TokenInvalid {
				t.Errorf("%s: %+v, %v, %v; want %+v and token_invalid", tc.tpp, st, tokenErr, err, tc.want)
			}
			if n := db.Queries() - q0; n != 1 {
				t.Errorf("%s: %d statements, want 1", tc.tpp, n)
			}
		}
	})
}

// Cached answers only for a token a read found valid with its TPP active,
// and only as Authenticate would answer now: not for another TPP, another
// certificate or once expired — nor for a token never read, one read
// while its TPP was suspended, or a refused one. It takes the TPP as
// active and the token as unrevoked (the caller proves those, package
// live): a revocation after the read does not change its answer, which is
// why it names the token's hash and the TPP's normalised id. On both
// engines.
func TestCached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO tpps (id, norm_id, name, environment, status, suspended_reason, created_at, updated_at)
			VALUES ($1, $1, 'A', 'sandbox', 'suspended', 'test', 0, 0)`, tppA); err != nil {
			t.Fatal(err)
		}
		tok, err := e.redeem(e.approved(t, authReq(consent.ScopeAISAccounts, getAccounts()), accA))
		if err != nil {
			t.Fatal(err)
		}
		miss := func(what, token, tppID, cert string) {
			t.Helper()
			if _, _, _, _, ok := e.srv.Cached(token, tppID, cert); ok {
				t.Errorf("%s: Cached answered", what)
			}
		}
		miss("never read", tok.AccessToken, tppA, certA)
		e.authenticate(t, ctx, tok.AccessToken, tppA, certA) // TPP suspended: not kept
		miss("read with its TPP suspended", tok.AccessToken, tppA, certA)
		if _, err := db.ExecContext(ctx, `UPDATE tpps SET status = 'active' WHERE id = $1`, tppA); err != nil {
			t.Fatal(err)
		}
		e.authenticate(t, ctx, tok.AccessToken, tppB, certB) // refused: not kept
		miss("read by another TPP", tok.AccessToken, tppA, certA)

		want, err := e.authenticate(t, ctx, tok.AccessToken, tppA, certA)
		if err != nil {
			t.Fatal(err)
		}
		st, got, h, norm, ok := e.srv.Cached(tok.AccessToken, tppA, certA)
		if !ok || got != want || st != (oauth.TPPStatus{Known: true, Active: true, Environment: "sandbox"}) || norm != tppA || len(h) != 64 {
			t.Fatalf("Cached after a read: %+v %+v %q %q %v; want %+v", st, got, h, norm, ok, want)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_tokens WHERE hash = $1 AND kind = 'access'`, h).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the hash names %d access tokens (%v)", n, err)
		}
		miss("another TPP", tok.AccessToken, tppB, certA)
		miss("another certificate", tok.AccessToken, tppA, certA2)
		miss("another token", "x"+tok.AccessToken, tppA, certA)
		miss("empty token", "", tppA, certA)
		e.clk.Advance(16 * time.Minute)
		miss("expired", tok.AccessToken, tppA, certA)
	})
}
