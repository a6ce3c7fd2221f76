package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// liveTokens is an authorization server whose token is kept (LiveLookup)
// with the TPP active, while a read finds the TPP as now is.
type liveTokens struct {
	mu    sync.Mutex
	now   gateway.TPPStatus // what a read finds
	reads int
}

var liveGrant = gateway.Grant{ConsentID: "consent-1", CustomerID: "cust-1", ClientID: "client-1", Scope: "ais"}

func (l *liveTokens) Authenticate(context.Context, string, string, string) (gateway.Grant, error) {
	return liveGrant, nil
}

func (l *liveTokens) StatusAndToken(context.Context, string, string, string) (gateway.TPPStatus, gateway.Grant, error, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	return l.now, liveGrant, nil, true, nil
}

func (l *liveTokens) CachedStatusAndToken(string, string, string) (gateway.TPPStatus, gateway.Grant, string, string, bool) {
	return gateway.TPPStatus{Known: true, Active: true, Environment: "sandbox"}, liveGrant, "hash", "norm", true
}

func (l *liveTokens) readsSoFar() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// A call that takes its token from what was kept (Operation.LiveInStatement)
// reads nothing when its handler's statement proves the token and TPP
// live; when the handler proves nothing, the gateway reads them before the
// answer leaves, and a TPP suspended meanwhile is refused as check 4
// refuses it — the handler's answer dropped, no admitted audit record
// written. On both engines.
func TestLiveFactsSettledBeforeTheAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, gateway.Sandbox)
		lt := &liveTokens{now: gateway.TPPStatus{Known: true, Active: true, Environment: "sandbox"}}
		b.gw.Tokens = lt
		a := newTPP(t, b.qtsp, orgA, all)
		call := func(prove bool) (answer, string) {
			t.Helper()
			var id string
			r := b.polishAPI(t, a, "getAccount", "", func(r *http.Request, body *[]byte) {
				var m map[string]map[string]any
				json.Unmarshal(*body, &m)
				m["requestHeader"]["token"] = "tok"
				id, _ = m["requestHeader"]["requestId"].(string)
				*body, _ = json.Marshal(m)
				sig, err := a.signer.SignDetached(*body)
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("X-JWS-SIGNATURE", sig)
				r.Header.Set("Authorization", "Bearer tok")
				if prove {
					r.Header.Set("X-Test-Prove", "1")
				}
			})
			return b.do(t, a, r), id
		}
		allowed := func(id string) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(context.Background(),
				`SELECT COUNT(*) FROM request_audit WHERE request_id = $1 AND decision = 'allowed'`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		if ans, id := call(true); ans.status != 200 || lt.readsSoFar() != 0 || allowed(id) != 1 {
			t.Fatalf("proven by the handler: %d %s, %d reads, %d admitted records", ans.status, ans.body, lt.readsSoFar(), allowed(id))
		}
		if ans, id := call(false); ans.status != 200 || lt.readsSoFar() != 1 || allowed(id) != 1 {
			t.Fatalf("not proven, still live: %d %s, %d reads, %d admitted records", ans.status, ans.body, lt.readsSoFar(), allowed(id))
		}
		lt.mu.Lock()
		lt.now = gateway.TPPStatus{Known: true, Active: false, Environment: "sandbox", Reason: "suspended meanwhile"}
		lt.mu.Unlock()
		ans, id := call(false)
		if ans.status != 403 || ans.code != string(gateway.CodeTPPSuspended) || lt.readsSoFar() != 2 || allowed(id) != 0 {
			t.Fatalf("not proven, suspended meanwhile: %d %s, %d reads, %d admitted records", ans.status, ans.body, lt.readsSoFar(), allowed(id))
		}
		if _, decision, code := b.lastAudit(t); decision != "refused" || code != string(gateway.CodeTPPSuspended) {
			t.Fatalf("audit: %s %s", decision, code)
		}
	})
}
