package main

import (
	"context"
	"path/filepath"
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
		exec, written := bankDB(t, s.data, args)

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
			checkWritten(t, what, status, before, written())
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

// Berlin Group's reads carry no access token: a node keeps the TPP's
// registration once read, and its status is checked in the consent check's
// statement — a TPP suspended behind the node's back is refused on the next
// call of every read, the customer present or not, and nothing is written.
// On both engines.
func TestBerlinGroupTPPCheckedEveryCall(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		data := t.TempDir()
		p := startSandbox(t, append([]string{"--data", data}, args...)...)
		api := "https://" + p.api
		demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
		who := readPSUs(t, data)[0]
		consentID := bgDecoupledConsent(t, p, demo, data, who)
		exec, written := bankDB(t, data, args)
		present := map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "192.0.2.1"}
		absent := map[string]string{"Consent-ID": consentID}
		list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts", header: present}), "getAccountList", 200, data)
		id := list["accounts"].([]any)[0].(map[string]any)["resourceId"].(string)
		txPath := "/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=booked&dateFrom=" + time.Now().AddDate(0, 0, -60).Format(time.DateOnly)
		tx := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: txPath, header: present}), "getTransactionList", 200, data)
		booked, _ := tx["transactions"].(map[string]any)["booked"].([]any)
		if len(booked) == 0 {
			t.Fatalf("no booked transactions: %v", tx)
		}
		tid := booked[0].(map[string]any)["transactionId"].(string)
		paths := []string{"/berlingroup/v1/accounts", "/berlingroup/v1/accounts/" + id, "/berlingroup/v1/accounts/" + id + "/balances",
			txPath, "/berlingroup/v1/accounts/" + id + "/transactions/" + tid}
		all := func(what string, status int, code string) {
			t.Helper()
			before := written()
			for i, path := range paths {
				for _, h := range []map[string]string{present, absent} {
					if h["PSU-IP-Address"] == "" && status == 200 && (what != "registration kept" || i > 1) {
						continue // the unattended reads of an account: 4 a day
					}
					a := demo.bg(t, api, bgCall{method: "GET", path: path, header: h})
					if a.status != status || code != "" && a.code != code {
						t.Fatalf("%s: GET %s (%v): %d %s, want %d %s", what, path, h, a.status, a.body, status, code)
					}
				}
			}
			checkWritten(t, what, status, before, written())
		}
		all("registration kept", 200, "")
		tppID := demo.info.TPPID
		exec(`UPDATE tpps SET status = 'suspended', suspended_reason = 'test: another node suspended it' WHERE id = $1`, tppID)
		all("TPP suspended", 401, "CERTIFICATE_BLOCKED") // Berlin Group's code for it
		exec(`UPDATE tpps SET status = 'active', suspended_reason = '' WHERE id = $1`, tppID)
		all("TPP reinstated", 200, "")
	})
}

// bankDB opens the sandbox's database (data's SQLite file, or the
// PostgreSQL of args: --db URL) for a test to change behind the bank's
// back, as another node would: exec runs a statement, written counts the
// access records and the admitted audit records.
func bankDB(t *testing.T, data string, args []string) (exec func(q string, args ...any), written func() [2]int) {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(data, "psd2bank.db")
	if len(args) == 2 {
		dsn = args[1]
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	written = func() [2]int {
		return [2]int{count(`SELECT COUNT(*) FROM consent_accesses`),
			count(`SELECT COUNT(*) FROM request_audit WHERE decision = 'allowed'`)}
	}
	return exec, written
}

// checkWritten fails the test when refused calls (status not 200) wrote
// access or admitted audit records, or allowed ones recorded no access.
func checkWritten(t *testing.T, what string, status int, before, after [2]int) {
	t.Helper()
	if status != 200 && after != before {
		t.Errorf("%s: refused calls wrote accesses and admitted audit records: %v → %v", what, before, after)
	} else if status == 200 && after[0] == before[0] {
		t.Errorf("%s: allowed calls recorded no access: %v → %v", what, before, after)
	}
}
