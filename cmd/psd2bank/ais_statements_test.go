package main

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Each account information read of PolishAPI costs at most four SQL
// statements on the bank's side — the TPP's status and the access token,
// the audit record (the replay check), the consent check with the access
// record, and the data — as counted by psd2bank_db_statements_total on the
// admin listener; now fewer: the audit record goes in the consent check's
// statement (PostgreSQL: a WITH query; SQLite: the led view), and once a
// node has read an access token, the token's revocation and the TPP's
// status are checked in that statement too (package live) instead of a
// read of their own. getTransactionsDone reads its page from the node's
// memory when it is read again (one fewer). Measured over rounds of
// calls, the least round taken (a background job of the sandbox may run a
// statement during a round). On both engines.
func TestAISStatementsPerCall(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		admin := freeAddr(t)
		s := newAISSession(t, append([]string{"--admin", "--admin-addr", admin}, args...))
		statements := func() int { return statementsRun(t, admin) }
		measure := func(op string, body map[string]any, token string, most float64) {
			t.Helper()
			const calls = 10
			least := -1.0
			for range 3 {
				s0 := statements()
				for range calls {
					if a := s.read(t, op, body, token, true); a.status != 200 {
						t.Fatalf("%s: %d %s", op, a.status, a.body)
					}
				}
				per := float64(statements()-s0) / calls
				if least < 0 || per < least {
					least = per
				}
			}
			t.Logf("%s: %.1f statements a call", op, least)
			// A scrape may run statements of its own (the gauges of
			// payments and consents, two): a fifth of one a call here;
			// one statement more a call is a failure.
			if least > most+0.5 {
				t.Errorf("%s: %s statements a call, want at most %v", op, fmt.Sprint(least), most)
			}
		}
		measure("getAccounts", map[string]any{}, s.accountsToken, 2)
		measure("getAccount", map[string]any{"accountNumber": s.nrb}, s.aisToken, 2)
		measure("getTransactionsDone", map[string]any{"accountNumber": s.nrb, "perPage": 10}, s.aisToken, 1)
		measure("getTransactionDetail", map[string]any{"accountNumber": s.nrb, "itemId": s.itemID}, s.aisToken, 2)
	})
}

// aisSession is a sandbox with the demo TPP holding two access tokens of
// the first customer: one of an ais-accounts consent (getAccounts), one of
// an ais consent to the first account (getAccount, getTransactionsDone and
// getTransactionDetail, whose item itemID is).
type aisSession struct {
	p                       *sandboxProc
	data, api, nrb, itemID  string
	demo                    *tppFiles
	accountsToken, aisToken string
}

func newAISSession(t *testing.T, args []string) *aisSession {
	t.Helper()
	data := t.TempDir()
	p := startSandbox(t, append([]string{"--data", data}, args...)...)
	who := readPSUs(t, data)[0]
	s := &aisSession{p: p, data: data, api: "https://" + p.api, nrb: who.Accounts[0].Number,
		demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)}
	demo, api := s.demo, s.api
	// Two ais-accounts consents: one kept for getAccounts, one exchanged
	// for the ais token (an exchanged token is used up).
	accounts := func(state string) string {
		a := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
			"response_type": "code", "client_id": demo.info.ClientID, "redirect_uri": "http://127.0.0.1:8765/callback",
			"scope": "ais-accounts", "state": state,
			"scope_details": scopeDetails("ais-accounts", []map[string]any{{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}}),
		}, "")
		if a.status != 200 {
			t.Fatalf("authorize: %d %s", a.status, a.body)
		}
		page, _ := a.json(t)["aspspRedirectUri"].(string)
		code := codeFrom(t, newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil), state)
		tok := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
			"grant_type": "authorization_code", "Code": code, "redirect_uri": "http://127.0.0.1:8765/callback", "client_id": demo.info.ClientID,
		}, "")
		token, _ := tok.json(t)["access_token"].(string)
		if token == "" {
			t.Fatalf("token: %d %s", tok.status, tok.body)
		}
		return token
	}
	s.accountsToken = accounts("st-s")
	exchanged := accounts("st-x")
	ex := demo.call(t, api, "POST", "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "exchange_token", "exchange_token": exchanged, "scope": "ais",
		"scope_details": scopeDetails("ais", []map[string]any{{"accountNumber": s.nrb,
			"ais:getAccount":           map[string]any{"scopeUsageLimit": "multiple"},
			"ais:getTransactionDetail": map[string]any{"scopeUsageLimit": "multiple"},
			"ais:getTransactionsDone":  map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": 90}}}),
	}, "")
	if s.aisToken, _ = ex.json(t)["access_token"].(string); s.aisToken == "" {
		t.Fatalf("exchange_token: %d %s", ex.status, ex.body)
	}
	done := s.read(t, "getTransactionsDone", map[string]any{"accountNumber": s.nrb, "perPage": 10}, s.aisToken, true)
	items, _ := done.json(t)["transactions"].([]any)
	if done.status != 200 || len(items) == 0 {
		t.Fatalf("no transactions to ask the detail of: %d %s", done.status, done.body)
	}
	s.itemID, _ = items[0].(map[string]any)["itemId"].(string)
	return s
}

// read calls the account information read op with body and token, the
// customer present (isDirectPsu) or not.
func (s *aisSession) read(t *testing.T, op string, body map[string]any, token string, psu bool) apiAnswer {
	t.Helper()
	r, err := s.demo.request(s.api, "POST", "/v2_1_2.1/accounts/v2_1_2.1/"+op, body, token, map[string]any{"isDirectPsu": psu})
	if err != nil {
		t.Fatal(err)
	}
	return s.demo.do(t, r)
}

// statementsRun is psd2bank_db_statements_total on the admin listener at
// admin.
func statementsRun(t *testing.T, admin string) int {
	t.Helper()
	res, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "psd2bank_db_statements_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	t.Fatal("no psd2bank_db_statements_total on /metrics")
	return 0
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Berlin Group's account information reads: the consent, this dialect's
// record of it and the account named in one statement, the consent check
// with the access record (and the TPP's status, once the node has read its
// registration) in one more, then the data — counted as
// TestAISStatementsPerCall counts (one account in the consent; the list
// reads each account of it). A replayed X-Request-ID on a read is refused
// and records no access.
func TestBerlinGroupStatementsPerCall(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		admin := freeAddr(t)
		data := t.TempDir()
		p := startSandbox(t, append([]string{"--data", data, "--admin", "--admin-addr", admin}, args...)...)
		api := "https://" + p.api
		demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
		who := readPSUs(t, data)[0]
		consentID := bgDecoupledConsent(t, p, demo, data, who)
		present := map[string]string{"Consent-ID": consentID, "PSU-IP-Address": "192.0.2.1"}
		list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts", header: present}), "getAccountList", 200, data)
		id := list["accounts"].([]any)[0].(map[string]any)["resourceId"].(string)
		txPath := "/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=booked&dateFrom=" + time.Now().AddDate(0, 0, -60).Format(time.DateOnly)
		first := demo.bg(t, api, bgCall{method: "GET", path: txPath, header: present})
		tx := bgOK(t, first, "getTransactionList", 200, data)
		// Read again, the page's items come from what the first read
		// encoded and kept: the same bytes, their Digest hashed on from
		// the state kept over them, and the answer's signature good.
		again := demo.bg(t, api, bgCall{method: "GET", path: txPath, header: present})
		if string(again.body) != string(first.body) {
			t.Fatalf("the same page read again differs:\n%s\n%s", first.body, again.body)
		}
		bgOK(t, again, "getTransactionList", 200, data)
		booked, _ := tx["transactions"].(map[string]any)["booked"].([]any)
		if len(booked) == 0 {
			t.Fatalf("no booked transactions: %v", tx)
		}
		tid := booked[0].(map[string]any)["transactionId"].(string)
		next, _ := tx["transactions"].(map[string]any)["_links"].(map[string]any)["next"].(map[string]any)["href"].(string)
		if !strings.Contains(next, "page=") {
			t.Fatalf("no next page: %v", tx["transactions"].(map[string]any)["_links"])
		}
		// The audit record in the consent check's statement, on both
		// engines, and the TPP's registration read once by the node, its
		// status checked in that statement too (package live).
		fewer := 2.0
		// A used X-Request-ID is refused (the audit record goes with the
		// read's first write) and the read records no access: after
		// one unattended read and its replay, three more are allowed
		// and the fifth is not.
		unattended := map[string]string{"Consent-ID": consentID}
		details := "/berlingroup/v1/accounts/" + id
		rid := uuid.NewString()
		if a := demo.bg(t, api, bgCall{method: "GET", path: details, header: unattended, requestID: rid}); a.status != 200 {
			t.Fatalf("the first unattended read: %d %s", a.status, a.body)
		}
		bgRefused(t, "the same X-Request-ID again", demo.bg(t, api, bgCall{method: "GET", path: details, header: unattended, requestID: rid}),
			400, "FORMAT_ERROR")
		for i := 2; i <= 4; i++ {
			if a := demo.bg(t, api, bgCall{method: "GET", path: details, header: unattended}); a.status != 200 {
				t.Fatalf("unattended read %d: %d %s", i, a.status, a.body)
			}
		}
		if a := demo.bg(t, api, bgCall{method: "GET", path: details, header: unattended}); a.status != 429 {
			t.Fatalf("the fifth unattended read: %d %s", a.status, a.body)
		}

		// A consent to every account of the customer: the list is as many
		// statements, whatever the number of accounts, with balances too.
		var all []string
		for _, a := range who.Accounts {
			all = append(all, a.Number)
		}
		if len(all) < 2 {
			t.Fatalf("the first customer has %d accounts; the list needs two at least", len(all))
		}
		allPresent := map[string]string{"Consent-ID": bgDecoupledConsentTo(t, p, demo, data, who, all...), "PSU-IP-Address": "192.0.2.1"}
		listed := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts?withBalance=true", header: allPresent}), "getAccountList", 200, data)
		if got := listed["accounts"].([]any); len(got) != len(all) || len(got[1].(map[string]any)["balances"].([]any)) != 4 {
			t.Fatalf("the list of %d accounts with balances: %v", len(all), listed)
		}
		// Each account's balances in the list are its balances read alone.
		for _, a := range listed["accounts"].([]any) {
			acc := a.(map[string]any)
			alone := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + acc["resourceId"].(string) + "/balances", header: allPresent}), "getBalances", 200, data)
			if got, want := fmt.Sprint(acc["balances"]), fmt.Sprint(alone["balances"]); got != want {
				t.Errorf("account %s: listed with balances %s, its balances %s", acc["iban"], got, want)
			}
		}

		for _, c := range []struct {
			op, path string
			most     float64
			header   map[string]string
		}{
			{"getAccountList", "/berlingroup/v1/accounts", 4, nil},
			{fmt.Sprintf("getAccountList of %d accounts, withBalance", len(all)), "/berlingroup/v1/accounts?withBalance=true", 4, allPresent},
			{"readAccountDetails", "/berlingroup/v1/accounts/" + id, 4, nil},
			{"getBalances", "/berlingroup/v1/accounts/" + id + "/balances", 4, nil},
			{"getTransactionList", txPath, 4, nil},
			{"getTransactionList, the next page", next, 4, nil}, // with its previous and last links
			{"getTransactionDetails", "/berlingroup/v1/accounts/" + id + "/transactions/" + tid, 4, nil},
		} {
			if c.header == nil {
				c.header = present
			}
			const calls = 10
			least := -1.0
			for range 3 {
				s0 := statementsRun(t, admin)
				for range calls {
					if a := demo.bg(t, api, bgCall{method: "GET", path: c.path, header: c.header}); a.status != 200 {
						t.Fatalf("%s: %d %s", c.op, a.status, a.body)
					}
				}
				if per := float64(statementsRun(t, admin)-s0) / calls; least < 0 || per < least {
					least = per
				}
			}
			t.Logf("%s: %.1f statements a call", c.op, least)
			if least > c.most-fewer+0.5 { // a scrape's own: a fifth of one a call
				t.Errorf("%s: %.1f statements a call, want at most %v", c.op, least, c.most-fewer)
			}
		}
	})
}

// bgDecoupledConsent is a Berlin Group consent to who's first account —
// its details, balances and transactions — approved in the sandbox's
// mobile app; its consentId.
func bgDecoupledConsent(t *testing.T, p *sandboxProc, demo *tppFiles, data string, who psu) string {
	t.Helper()
	return bgDecoupledConsentTo(t, p, demo, data, who, who.Accounts[0].Number)
}

// bgDecoupledConsentTo is bgDecoupledConsent to the accounts numbered.
func bgDecoupledConsentTo(t *testing.T, p *sandboxProc, demo *tppFiles, data string, who psu, numbers ...string) string {
	t.Helper()
	api := "https://" + p.api
	var acct []map[string]any
	for _, n := range numbers {
		acct = append(acct, map[string]any{"iban": iban(n)})
	}
	created := bgOK(t, demo.bg(t, api, bgCall{method: "POST", path: "/berlingroup/v1/consents",
		body:   bgConsentBody(map[string]any{"accounts": acct, "balances": acct, "transactions": acct}),
		header: map[string]string{"TPP-Redirect-Preferred": "false", "PSU-ID": who.Login}}), "createConsent", 201, data)
	scaLink := created["_links"].(map[string]any)["scaStatus"].(map[string]any)["href"].(string)
	res, err := http.Post("http://"+p.web+"/sandbox/mobile/approve", "application/json", strings.NewReader(`{"login":"`+who.Login+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("mobile approve: %v %v", res, err)
	}
	res.Body.Close()
	for i := 0; ; i++ {
		sca := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: scaLink}), "getConsentScaStatus", 200, data)
		if sca["scaStatus"] == "finalised" {
			break
		}
		if i == 100 {
			t.Fatalf("scaStatus still %v", sca)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return created["consentId"].(string)
}

// Berlin Group's transaction list is kept in memory once read (bounded by
// the account's last booked item as the consent's statement read it), so
// an item booked since — here a transfer from another customer, made
// through PolishAPI — is on the next read; the balances and an item's
// details, read in the consent's statement, agree with the list. On both
// engines.
func TestBerlinGroupListFollowsTheLedger(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		data := t.TempDir()
		p := startSandbox(t, append([]string{"--data", data}, args...)...)
		api := "https://" + p.api
		demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
		psus := readPSUs(t, data)
		who, payer := psus[0], psus[1]
		present := map[string]string{"Consent-ID": bgDecoupledConsent(t, p, demo, data, who), "PSU-IP-Address": "192.0.2.1"}
		list := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts", header: present}), "getAccountList", 200, data)
		id := list["accounts"].([]any)[0].(map[string]any)["resourceId"].(string)
		path := "/berlingroup/v1/accounts/" + id + "/transactions?bookingStatus=booked&dateFrom=" + time.Now().AddDate(0, 0, -60).Format(time.DateOnly)
		newest := func() string {
			t.Helper()
			tx := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path, header: present}), "getTransactionList", 200, data)
			booked, _ := tx["transactions"].(map[string]any)["booked"].([]any)
			if len(booked) == 0 {
				t.Fatalf("no booked transactions: %v", tx)
			}
			text, _ := booked[0].(map[string]any)["remittanceInformationUnstructured"].(string)
			return text
		}
		before := newest()
		if newest() != before { // read again: the page kept
			t.Fatal("the newest item changed between two reads with nothing booked")
		}
		// The balances and an item's details, read in the consent's
		// statement, agree with the list: closingBooked is the balance
		// after the last item booked before today, the details are the
		// item's.
		tx := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: path, header: present}), "getTransactionList", 200, data)
		booked := tx["transactions"].(map[string]any)["booked"].([]any)
		bal := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/balances", header: present}), "getBalances", 200, data)
		var closing, today string
		for _, b := range bal["balances"].([]any) {
			b := b.(map[string]any)
			switch b["balanceType"] {
			case "closingBooked":
				closing = b["balanceAmount"].(map[string]any)["amount"].(string)
			case "interimBooked":
				today = b["referenceDate"].(string)
			}
		}
		want := ""
		for _, it := range booked {
			it := it.(map[string]any)
			if it["bookingDate"].(string) < today {
				want = it["balanceAfterTransaction"].(map[string]any)["balanceAmount"].(map[string]any)["amount"].(string)
				break
			}
		}
		if want == "" || closing != want {
			t.Fatalf("closingBooked %q; the balance after the last item booked before %s is %q", closing, today, want)
		}
		first := booked[0].(map[string]any)
		det := bgOK(t, demo.bg(t, api, bgCall{method: "GET", path: "/berlingroup/v1/accounts/" + id + "/transactions/" + first["transactionId"].(string),
			header: present}), "getTransactionDetails", 200, data)["transactionsDetails"].(map[string]any)
		delete(first, "_links")
		if fmt.Sprint(det) != fmt.Sprint(first) {
			t.Fatalf("the details %v; the list's item %v", det, first)
		}
		bgRefused(t, "the details of an item of no account's", demo.bg(t, api, bgCall{method: "GET",
			path: "/berlingroup/v1/accounts/" + id + "/transactions/" + uuid.NewString(), header: present}), 404, "RESOURCE_UNKNOWN")

		// The payer sends who an internal transfer, booked at once.
		f := &pisFlow{t: t, api: api, web: "http://" + p.web, demo: demo, who: payer, refresh: map[string]string{}}
		title := "Zwrot " + uuid.NewString()[:8]
		pay := map[string]any{
			"recipient":    map[string]any{"accountNumber": who.Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Jan"}}},
			"sender":       map[string]any{"accountNumber": payer.Accounts[0].Number},
			"transferData": map[string]any{"description": title, "amount": "1.00", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "Internal",
		}
		priv := maps.Clone(pay)
		priv["scopeUsageLimit"] = "single"
		token := f.token("polishapi", []map[string]any{{"pis:domestic": priv}})
		pay["tppTransactionId"] = uuid.NewString()
		r, err := demo.request(api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", pay, token, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a := demo.do(t, r); a.status != 200 || a.json(t)["generalStatus"] != "done" {
			t.Fatalf("the transfer: %d %s", a.status, a.body)
		}
		if got := newest(); got != title {
			t.Fatalf("the newest item after the transfer is %q, want %q (before: %q)", got, title, before)
		}
	})
}
