package main

import (
	"context"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
)

// A node keeps what never changes of an access token it has read (package
// live), but a token revoked, or a TPP suspended, by anyone — another
// node, the back office, the refresh-token reuse check — is refused on the
// very next call of every account information read, the customer present
// or not, and the refused call writes nothing: no access recorded (which
// would count towards the day's unattended reads), no admitted audit
// record. Here the changes are written straight into the bank's database,
// as another node would write them, while this node has the token kept.
// On both engines.
func TestAISTokenAndTPPCheckedEveryCall(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		s := newAISSession(t, args)
		ctx := context.Background()
		dsn := s.data + "/psd2bank.db"
		if len(args) == 2 {
			dsn = args[1]
		}
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		written := func() [2]int {
			return [2]int{count(`SELECT COUNT(*) FROM consent_accesses`),
				count(`SELECT COUNT(*) FROM request_audit WHERE decision = 'allowed'`)}
		}

		type call struct {
			op    string
			body  map[string]any
			token string
			psu   bool
		}
		calls := []call{
			{"getAccounts", map[string]any{}, s.accountsToken, true},
			{"getAccounts", map[string]any{}, s.accountsToken, false},
			{"getAccount", map[string]any{"accountNumber": s.nrb}, s.aisToken, true},
			{"getAccount", map[string]any{"accountNumber": s.nrb}, s.aisToken, false},
			{"getTransactionsDone", map[string]any{"accountNumber": s.nrb, "perPage": 10}, s.aisToken, true},
			{"getTransactionsDone", map[string]any{"accountNumber": s.nrb, "perPage": 10}, s.aisToken, false},
			{"getTransactionDetail", map[string]any{"accountNumber": s.nrb, "itemId": s.itemID}, s.aisToken, true},
		}
		all := func(what string, status int, code string) {
			t.Helper()
			before := written()
			for _, c := range calls {
				a := s.read(t, c.op, c.body, c.token, c.psu)
				if a.status != status || code != "" && a.code != code {
					t.Fatalf("%s: %s (isDirectPsu %v): %d %s, want %d %s", what, c.op, c.psu, a.status, a.body, status, code)
				}
			}
			if after := written(); status != 200 && after != before {
				t.Errorf("%s: refused calls wrote accesses and admitted audit records: %v → %v", what, before, after)
			} else if status == 200 && after[0] == before[0] {
				t.Errorf("%s: allowed calls recorded no access: %v → %v", what, before, after)
			}
		}

		all("tokens kept", 200, "")
		tppID := s.demo.info.TPPID
		exec(`UPDATE tpps SET status = 'suspended', suspended_reason = 'test: another node suspended it' WHERE id = $1`, tppID)
		all("TPP suspended", 403, "TPP_SUSPENDED")
		exec(`UPDATE tpps SET status = 'active', suspended_reason = '' WHERE id = $1`, tppID)
		all("TPP reinstated", 200, "")
		exec(`UPDATE oauth_tokens SET revoked_at = $1, revoked_reason = 'test: revoked on another node' WHERE kind = 'access' AND revoked_at = 0`,
			time.Now().UnixMicro())
		all("tokens revoked", 401, "token_invalid")
	})
}
