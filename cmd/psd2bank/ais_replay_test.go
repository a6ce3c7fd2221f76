package main

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// A request id is accepted once per TPP for account information too, whose
// audit record — the replay check — is written with the consent check that
// records the access (gateway.Operation.AuditWithWrite: in its statement on
// PostgreSQL, just before it on SQLite). An attacker
// replaying a TPP's signed read, or sending one request id many times at
// once, is refused 409 and changes nothing: no access is recorded for a
// refused call, so the four unattended accesses a day are still there for
// the TPP's own calls. On both engines.
func TestAISRequestIDOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		data := t.TempDir()
		p := startSandbox(t, append([]string{"--data", data}, args...)...)
		who := readPSUs(t, data)[0]
		demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
		api := "https://" + p.api
		nrb := who.Accounts[0].Number

		a := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
			"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
			"scope": "ais", "state": "st-r",
			"scope_details": scopeDetails("ais", []map[string]any{{"accountNumber": nrb,
				"ais:getAccount":          map[string]any{"scopeUsageLimit": "multiple"},
				"ais:getTransactionsDone": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": 90}}}),
		}, "")
		if a.status != 200 {
			t.Fatalf("authorize: %d %s", a.status, a.body)
		}
		page, _ := a.json(t)["aspspRedirectUri"].(string)
		code := codeFrom(t, newBrowser(t, "http://"+p.web).consentBySMS(page, who, []string{nrb}), "st-r")
		tok := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
			"grant_type": "authorization_code", "Code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
		}, "")
		token, _ := tok.json(t)["access_token"].(string)
		if tok.status != 200 || token == "" {
			t.Fatalf("token: %d %s", tok.status, tok.body)
		}

		// Unattended reads (isDirectPsu false): four a day on the account.
		send := func(op, requestID string) (apiAnswer, error) {
			body := map[string]any{"accountNumber": nrb}
			if op == "getTransactionsDone" {
				body["perPage"] = 5
			}
			return demo.sendAs(api, "/v2_1_2.1/accounts/v2_1_2.1/"+op, body, token, requestID)
		}
		mustSend := func(op, requestID string) apiAnswer {
			t.Helper()
			a, err := send(op, requestID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		read := func(what, op string) {
			t.Helper()
			if a := mustSend(op, uuid.NewString()); a.status != 200 {
				t.Fatalf("%s: %d %s", what, a.status, a.body)
			}
		}

		used := uuid.NewString()
		if a := mustSend("getTransactionsDone", used); a.status != 200 || !strings.Contains(string(a.body), `"transactions"`) {
			t.Fatalf("the first read: %d %s", a.status, a.body)
		}
		replayRefused(t, "the same read again", mustSend("getTransactionsDone", used))
		replayRefused(t, "another read with the used request id", mustSend("getAccount", used))

		// Six at once under one new request id: one is answered.
		shared := uuid.NewString()
		var wg sync.WaitGroup
		answers := make([]apiAnswer, 6)
		errs := make([]error, len(answers))
		for i := range answers {
			op := "getTransactionsDone"
			if i%2 == 1 {
				op = "getAccount"
			}
			wg.Go(func() { answers[i], errs[i] = send(op, shared) })
		}
		wg.Wait()
		answered := 0
		for i, ans := range answers {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if ans.status == 200 {
				answered++
			} else {
				replayRefused(t, "a concurrent read", ans)
			}
		}
		if answered != 1 {
			t.Fatalf("%d of the concurrent reads under one request id answered, want 1", answered)
		}

		// Two accesses recorded so far, whatever was refused: two more
		// are allowed, the fifth is not.
		read("the third unattended read", "getAccount")
		read("the fourth unattended read", "getTransactionsDone")
		if a := mustSend("getTransactionsDone", uuid.NewString()); a.status != 429 {
			t.Fatalf("the fifth unattended read in a day: %d %s", a.status, a.body)
		}
	})
}
