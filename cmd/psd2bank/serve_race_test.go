package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptrace"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
)

// execMainEnv, set to 1, makes the test binary psd2bank itself: TestMain
// runs main with the binary's arguments instead of the tests. The tests
// start real `psd2bank serve` processes this way, without building the
// command again.
const execMainEnv = "PSD2BANK_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execMainEnv) == "1" {
		// The test that started this process holds its stdin open: when
		// the test binary ends, however it ends, so does this process.
		go func() {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(3)
		}()
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveProc is `psd2bank serve` as an operating system process of its own:
// the test binary run again with execMainEnv.
type serveProc struct {
	name     string
	api, web string
	cmd      *exec.Cmd
	stdin    io.Closer
	log      *syncBuffer
	done     chan struct{}
	err      error // Wait's answer, once done is closed
}

// startServeProcess starts `psd2bank serve --config config` on free
// loopback ports as a process of its own and waits for its ready line. The
// process gets none of the caller's PSD2BANK_* variables: its settings are
// the config file's. It is stopped (SIGTERM, then SIGKILL) when the test
// ends; a failing test logs its stderr.
func startServeProcess(t *testing.T, name, config string) *serveProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--config", config, "--api-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PSD2BANK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, execMainEnv+"=1")
	p := &serveProc{name: name, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	ready := lines.Scan()
	go func() {
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s (pid %d) ended with %v; its log:\n%s", p.name, cmd.Process.Pid, p.err, tail(p.log.String(), 8000))
		}
	})
	if !ready {
		<-p.done
		t.Fatalf("%s stopped before it was ready: %v\n%s", name, p.err, tail(p.log.String(), 8000))
	}
	m := serveReadyLine.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("%s: ready line %q", name, lines.Text())
	}
	p.api, p.web = m[1], m[2]
	return p
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (p *serveProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.stdin.Close()
}

// kill is kill -9: the process ends at once, in the middle of whatever it
// was doing, and its connections to PostgreSQL drop.
func (p *serveProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
	p.stdin.Close()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// raceAnswer is one initiation's answer in a burst.
type raceAnswer struct {
	proc      int // the index of the process it was sent to
	status    int
	code      string
	paymentID string
	body      string
	err       error // no answer (a killed process)
}

// raceCall is one initiation of a burst: to which process, with which
// token and body.
type raceCall struct {
	proc  int
	token string
	body  map[string]any
}

// burst sends the calls at once (each on its own goroutine, released
// together) as PolishAPI domestic initiations and returns their answers.
// hooks, if given, are told as each request has been written and as each
// answer has been read.
func (w *serveWorld) burst(procs []*serveProc, calls []raceCall, hooks ...burstHooks) []raceAnswer {
	w.t.Helper()
	out := make([]raceAnswer, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		out[i].proc = c.proc
		r, err := w.tpp.request(procs[c.proc].api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", maps.Clone(c.body), c.token, nil)
		if err != nil {
			w.t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, h := range hooks {
			if h.wrote != nil {
				ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { h.wrote() }})
			}
		}
		r = r.WithContext(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := w.tpp.client.Do(r)
			if err != nil {
				out[i].err = err
				return
			}
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			if err != nil {
				out[i].err = err
				return
			}
			var m struct{ Code, PaymentID string }
			json.Unmarshal(raw, &m)
			out[i].status, out[i].code, out[i].paymentID, out[i].body = res.StatusCode, m.Code, m.PaymentID, string(raw)
			for _, h := range hooks {
				if h.answered != nil {
					h.answered()
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// burstHooks are told of a burst's progress.
type burstHooks struct {
	wrote, answered func()
}

// raceState is what the database says about one consent and the money.
type raceState struct {
	payments, uses         int64 // the consent's payments and privilege uses
	allPayments            int64 // every payment of the bank
	counted, countedPays   int64 // the sender's API payment totals (limit counters)
	senderBooked, received money.Amount
}

func (w *serveWorld) raceState(consentID string) raceState {
	w.t.Helper()
	ctx := context.Background()
	var s raceState
	sender, recipient := w.who.Accounts[0].Number, w.other.Accounts[0].Number
	for _, q := range []struct {
		sql  string
		args []any
		dst  []any
	}{
		{`SELECT count(*) FROM payments WHERE consent_id = $1`, []any{consentID}, []any{&s.payments}},
		{`SELECT COALESCE(SUM(uses), 0) FROM consent_privileges WHERE consent_id = $1`, []any{consentID}, []any{&s.uses}},
		{`SELECT count(*) FROM payments`, nil, []any{&s.allPayments}},
		{`SELECT COALESCE(SUM(total), 0), COALESCE(SUM(payments), 0) FROM api_payment_totals WHERE account_nrb = $1`, []any{sender},
			[]any{&s.counted, &s.countedPays}},
	} {
		if err := w.db.QueryRowContext(ctx, q.sql, q.args...).Scan(q.dst...); err != nil {
			w.t.Fatalf("%s: %v", q.sql, err)
		}
	}
	l := ledger.New(w.db, clock.System{})
	for _, a := range []struct {
		nrb string
		dst *money.Amount
	}{{sender, &s.senderBooked}, {recipient, &s.received}} {
		acct, err := l.AccountByNRB(ctx, a.nrb)
		if err != nil {
			w.t.Fatalf("account %s…: %v", a.nrb[:6], err)
		}
		*a.dst = acct.Booked
	}
	return s
}

// domesticOrder is the PolishAPI pis:domestic payment of amount (e.g.
// "2.00") from the customer's first account to the other customer's: an
// internal transfer, booked at once.
func (w *serveWorld) domesticOrder(amount, title string) map[string]any {
	return map[string]any{
		"recipient":    map[string]any{"accountNumber": w.other.Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Jan Kowalski"}}},
		"sender":       map[string]any{"accountNumber": w.who.Accounts[0].Number},
		"transferData": map[string]any{"description": title, "amount": amount, "currency": "PLN"},
		"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
}

// pisConsent is the customer's single-use pis:domestic consent to order,
// given through the consent pages: its access token and its id.
func (w *serveWorld) pisConsent(order map[string]any) (token, consentID string) {
	w.t.Helper()
	ids := func() map[string]bool {
		rows, err := w.db.QueryContext(context.Background(), `SELECT id FROM consents WHERE scope = 'pis'`)
		if err != nil {
			w.t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				w.t.Fatal(err)
			}
			out[id] = true
		}
		return out
	}
	before := ids()
	token = w.redirectConsent("pis", "pis", []map[string]any{{"pis:domestic": order}}, []string{w.who.Accounts[0].Number})
	for id := range ids() {
		if !before[id] {
			if consentID != "" {
				w.t.Fatalf("two new pis consents: %s and %s", consentID, id)
			}
			consentID = id
		}
	}
	if consentID == "" {
		w.t.Fatal("the redirect flow recorded no pis consent")
	}
	return token, consentID
}

// initiation is the body of a domestic initiation of order under key.
func initiation(order map[string]any, key string) map[string]any {
	req := maps.Clone(order)
	req["tppTransactionId"] = key
	return req
}

// Two `psd2bank serve` processes on one PostgreSQL database, with one
// config, race initiations of the same consent over mTLS (issue 11: the
// rules hold on any number of nodes sharing the database, with no
// in-process locks). The database is checked as well as the answers: the
// consent's payments and privilege uses, the customer's limit counter, and
// both accounts' booked balances.
func TestTwoServeProcessesRaceOneConsent(t *testing.T) {
	w, config := newServeWorld(t)
	procs := []*serveProc{startServeProcess(t, "serve-1", config), startServeProcess(t, "serve-2", config)}
	// The consent pages of the first process; the second one serves the
	// same consents from the same database.
	w.api, w.web = procs[0].api, procs[0].web
	const racers = 24
	split := func(token string, body func(i int) map[string]any) []raceCall {
		calls := make([]raceCall, racers)
		for i := range calls {
			calls[i] = raceCall{proc: i % 2, token: token, body: body(i)}
		}
		return calls
	}
	// moved checks that exactly cents left the sender for the recipient
	// and were counted against the customer's limit as one payment.
	moved := func(t *testing.T, before, after raceState, cents money.Amount, payments int64) {
		t.Helper()
		if after.senderBooked != before.senderBooked-cents || after.received != before.received+cents {
			t.Errorf("balances: sender %s → %s, recipient %s → %s; want %s moved", before.senderBooked, after.senderBooked,
				before.received, after.received, cents)
		}
		if after.counted != before.counted+int64(cents) || after.countedPays != before.countedPays+payments {
			t.Errorf("limit counter: %d (%d payments) → %d (%d payments); want +%d in %d payment(s)", before.counted, before.countedPays,
				after.counted, after.countedPays, cents, payments)
		}
		if after.allPayments != before.allPayments+payments {
			t.Errorf("payments of the bank: %d → %d, want +%d", before.allPayments, after.allPayments, payments)
		}
	}
	var keyA string
	var orderA map[string]any

	t.Run("same key, same body", func(t *testing.T) {
		orderA = w.domesticOrder("2.00", "Race A")
		token, id := w.pisConsent(orderA)
		keyA = uuid.NewString()
		before := w.raceState(id)
		answers := w.burst(procs, split(token, func(int) map[string]any { return initiation(orderA, keyA) }))
		for i, a := range answers {
			if a.err != nil || a.status != 200 || a.paymentID == "" {
				t.Fatalf("racer %d (%s): %d %v %s", i, procs[a.proc].name, a.status, a.err, a.body)
			}
			if a.paymentID != answers[0].paymentID {
				t.Fatalf("racer %d named payment %s, racer 0 %s", i, a.paymentID, answers[0].paymentID)
			}
		}
		after := w.raceState(id)
		if after.payments != 1 || after.uses != 1 {
			t.Errorf("the consent has %d payments and %d privilege uses, want 1 and 1", after.payments, after.uses)
		}
		moved(t, before, after, 200, 1)
	})

	t.Run("different keys", func(t *testing.T) {
		order := w.domesticOrder("2.00", "Race B")
		token, id := w.pisConsent(order)
		before := w.raceState(id)
		answers := w.burst(procs, split(token, func(int) map[string]any { return initiation(order, uuid.NewString()) }))
		ok, used := 0, 0
		for i, a := range answers {
			switch {
			case a.err == nil && a.status == 200 && a.paymentID != "":
				ok++
			case a.err == nil && a.status == 403 && a.code == "PRIVILEGE_USED":
				used++
			default:
				t.Fatalf("racer %d (%s): %d %v %s", i, procs[a.proc].name, a.status, a.err, a.body)
			}
		}
		if ok != 1 || used != racers-1 {
			t.Fatalf("%d payments and %d PRIVILEGE_USED under one single-use consent, want 1 and %d", ok, used, racers-1)
		}
		after := w.raceState(id)
		if after.payments != 1 || after.uses != 1 {
			t.Errorf("the consent has %d payments and %d privilege uses, want 1 and 1", after.payments, after.uses)
		}
		moved(t, before, after, 200, 1)
	})

	t.Run("used key, other body", func(t *testing.T) {
		if keyA == "" {
			t.Skip("needs the payment of the first subtest")
		}
		// A new consent to another payment, initiated with the key of the
		// first payment: refused everywhere, nothing written, the new
		// consent still unused.
		order := w.domesticOrder("2.01", "Race C")
		token, id := w.pisConsent(order)
		before := w.raceState(id)
		answers := w.burst(procs, split(token, func(int) map[string]any { return initiation(order, keyA) }))
		for i, a := range answers {
			if a.err != nil || a.status != 409 || a.code != "DUPLICATE_TRANSACTION_ID" {
				t.Fatalf("racer %d (%s): %d %v %s, want 409 DUPLICATE_TRANSACTION_ID", i, procs[a.proc].name, a.status, a.err, a.body)
			}
		}
		after := w.raceState(id)
		if after.payments != 0 || after.uses != 0 {
			t.Errorf("the refused consent has %d payments and %d privilege uses, want none", after.payments, after.uses)
		}
		moved(t, before, after, 0, 0)
	})

	t.Run("one new key, two bodies", func(t *testing.T) {
		// Two consents to two payments, both initiated at once under one
		// new key: one body wins (all its racers get its payment), the
		// other is a duplicate.
		orders := []map[string]any{w.domesticOrder("2.02", "Race D1"), w.domesticOrder("2.03", "Race D2")}
		tokens, ids := make([]string, 2), make([]string, 2)
		for i, o := range orders {
			tokens[i], ids[i] = w.pisConsent(o)
		}
		key := uuid.NewString()
		before := [2]raceState{w.raceState(ids[0]), w.raceState(ids[1])}
		calls := make([]raceCall, racers)
		for i := range calls {
			// Each body goes to both processes.
			calls[i] = raceCall{proc: i % 2, token: tokens[i/2%2], body: initiation(orders[i/2%2], key)}
		}
		answers := w.burst(procs, calls)
		winner := -1
		var paymentID string
		for i, a := range answers {
			if a.err == nil && a.status == 200 && a.paymentID != "" {
				if winner == -1 {
					winner, paymentID = i/2%2, a.paymentID
				}
				if i/2%2 != winner || a.paymentID != paymentID {
					t.Fatalf("racer %d (body %d, %s) got payment %s; body %d already won with %s", i, i/2%2+1, procs[a.proc].name,
						a.paymentID, winner+1, paymentID)
				}
			}
		}
		if winner == -1 {
			t.Fatalf("no racer made the payment: %+v", answers)
		}
		for i, a := range answers {
			if i/2%2 != winner && (a.err != nil || a.status != 409 || a.code != "DUPLICATE_TRANSACTION_ID") {
				t.Fatalf("racer %d with the losing body (%s): %d %v %s, want 409 DUPLICATE_TRANSACTION_ID", i, procs[a.proc].name,
					a.status, a.err, a.body)
			}
		}
		won, lost := w.raceState(ids[winner]), w.raceState(ids[1-winner])
		if won.payments != 1 || won.uses != 1 || lost.payments != 0 || lost.uses != 0 {
			t.Errorf("winning consent: %d payments, %d uses; losing one: %d payments, %d uses; want 1, 1, 0, 0",
				won.payments, won.uses, lost.payments, lost.uses)
		}
		moved(t, before[winner], won, money.Amount(202+winner), 1)
	})

	// kill -9 of a process while it serves a burst of initiations of one
	// payment, then the TPP's retry on the process that lives: the payment
	// exists once (made before the kill, or by the retry), the privilege is
	// used once, the limit counted once, the money moved once. Two moments:
	// once half of the requests have been written (before any answer,
	// usually inside the initiations' transactions), and at the first
	// answer (the payment committed, the other racers in flight).
	victim := procs[1]
	for n, moment := range []string{"half written", "first answer"} {
		t.Run("kill -9 at "+moment+", retry on the other process", func(t *testing.T) {
			if n > 0 {
				victim = startServeProcess(t, fmt.Sprintf("serve-%d", n+2), config)
			}
			procs := []*serveProc{procs[0], victim}
			order := w.domesticOrder(fmt.Sprintf("2.1%d", n), "Race E"+strconv.Itoa(n))
			cents := money.Amount(210 + n)
			token, id := w.pisConsent(order)
			key := uuid.NewString()
			before := w.raceState(id)
			calls := make([]raceCall, racers)
			for i := range calls {
				calls[i] = raceCall{proc: 1, token: token, body: initiation(order, key)}
			}
			// kill counts the hook's events and kills the victim at the
			// moment's one: the 12th request written, or the first answer.
			at := racers / 2
			if n == 1 {
				at = 1
			}
			var mu sync.Mutex
			count, killed := 0, make(chan struct{})
			kill := func() {
				mu.Lock()
				defer mu.Unlock()
				if count++; count == at {
					go func() { victim.kill(); close(killed) }()
				}
			}
			hooks := burstHooks{wrote: kill}
			if n == 1 {
				hooks = burstHooks{answered: kill}
			}
			answers := w.burst(procs, calls, hooks)
			<-killed
			atKill := w.raceState(id)
			var fromKilled string
			lost := 0
			for i, a := range answers {
				switch {
				case a.err != nil:
					lost++
				case a.status == 200 && a.paymentID != "":
					if fromKilled != "" && a.paymentID != fromKilled {
						t.Fatalf("racer %d named payment %s, another %s", i, a.paymentID, fromKilled)
					}
					fromKilled = a.paymentID
				default:
					t.Fatalf("racer %d on the killed process: %d %s", i, a.status, a.body)
				}
			}
			t.Logf("the killed process answered %d of %d racers; payments of the consent after the kill: %d", racers-lost, racers, atKill.payments)
			if atKill.payments != atKill.uses || atKill.payments > 1 || fromKilled != "" && atKill.payments != 1 {
				t.Errorf("after the kill the consent has %d payments and %d privilege uses (an answer named %q)", atKill.payments, atKill.uses, fromKilled)
			}
			// The TPP retries with the same key on the process that lives,
			// a few times at once: each retry names one payment.
			retry := make([]raceCall, 4)
			for i := range retry {
				retry[i] = raceCall{proc: 0, token: token, body: initiation(order, key)}
			}
			var paymentID string
			for i, a := range w.burst(procs, retry) {
				if a.err != nil || a.status != 200 || a.paymentID == "" {
					t.Fatalf("retry %d on %s: %d %v %s", i, procs[0].name, a.status, a.err, a.body)
				}
				if paymentID == "" {
					paymentID = a.paymentID
				}
				if a.paymentID != paymentID || fromKilled != "" && a.paymentID != fromKilled {
					t.Fatalf("retry %d named payment %s; others %s, the killed process %q", i, a.paymentID, paymentID, fromKilled)
				}
			}
			after := w.raceState(id)
			if after.payments != 1 || after.uses != 1 {
				t.Errorf("the consent has %d payments and %d privilege uses, want 1 and 1", after.payments, after.uses)
			}
			moved(t, before, after, cents, 1)
			var status string
			if err := w.db.QueryRowContext(context.Background(), `SELECT status FROM payments WHERE id = $1`, paymentID).Scan(&status); err != nil {
				t.Fatalf("payment %s: %v", paymentID, err)
			}
			if status != "done" {
				t.Errorf("payment status %q, want done (an internal transfer is booked with its initiation)", status)
			}
		})
	}
}
