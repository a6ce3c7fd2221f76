package oauth_test

import (
	"context"
	"testing"

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
