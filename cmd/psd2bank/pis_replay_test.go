package main

import (
	"maps"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// A request id is accepted once per TPP, payment initiations included,
// whose audit record — the replay check — is written in the initiation's
// own transaction (gateway.Operation.AuditWithWrite) instead of before the
// handler runs. An attacker (or a TPP's retry gone wrong) sending a used
// request id with a payment is refused 409 and changes nothing: the same
// bytes again; another payment under a fresh consent; two payments at once
// under one new request id, of which exactly one is made. Each refused
// consent is still unused afterwards. On both engines.
func TestPaymentRequestIDOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string, args []string) {
		data := t.TempDir()
		p := startSandbox(t, append([]string{"--data", data}, args...)...)
		psus := readPSUs(t, data)
		f := &pisFlow{t: t, api: "https://" + p.api, web: "http://" + p.web,
			demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data), who: psus[0], refresh: map[string]string{}}
		const path = "/v2_1_2.1/payments/v2_1_2.1/domestic"
		// An internal transfer, booked at once, under a consent of its own.
		consented := func(title string) (body map[string]any, token string) {
			pay := map[string]any{
				"recipient":    map[string]any{"accountNumber": psus[1].Accounts[0].Number, "nameAddress": map[string]any{"value": []string{"Sąsiad"}}},
				"sender":       map[string]any{"accountNumber": f.who.Accounts[0].Number},
				"transferData": map[string]any{"description": title, "amount": "1.00", "currency": "PLN"},
				"deliveryMode": "ExpressD0", "system": "Internal",
			}
			priv := maps.Clone(pay)
			priv["scopeUsageLimit"] = "single"
			token = f.token("polishapi", []map[string]any{{"pis:domestic": priv}})
			pay["tppTransactionId"] = uuid.NewString()
			return pay, token
		}
		send := func(body map[string]any, token, requestID string) (apiAnswer, error) {
			return f.demo.sendAs(f.api, path, maps.Clone(body), token, requestID)
		}
		mustSend := func(body map[string]any, token, requestID string) apiAnswer {
			t.Helper()
			a, err := send(body, token, requestID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// The consent is unused: a payment with a new request id and a
		// new tppTransactionId (not an idempotent replay) is made.
		unused := func(what string, body map[string]any, token string) {
			t.Helper()
			body = maps.Clone(body)
			body["tppTransactionId"] = uuid.NewString()
			if a := mustSend(body, token, uuid.NewString()); a.status != 200 || a.json(t)["generalStatus"] != "done" {
				t.Fatalf("%s: the consent was used by the refused request: %d %s", what, a.status, a.body)
			}
		}

		first, firstToken := consented("Pierwszy")
		id := uuid.NewString()
		if a := mustSend(first, firstToken, id); a.status != 200 || a.json(t)["generalStatus"] != "done" {
			t.Fatalf("the first payment: %d %s", a.status, a.body)
		}
		replayRefused(t, "the same payment again", mustSend(first, firstToken, id))

		other, otherToken := consented("Drugi")
		replayRefused(t, "another payment with the used request id", mustSend(other, otherToken, id))
		unused("another payment", other, otherToken)

		// Two payments at once under one new request id.
		a, aToken := consented("Trzeci A")
		b, bToken := consented("Trzeci B")
		shared := uuid.NewString()
		var wg sync.WaitGroup
		answers := make([]apiAnswer, 2)
		errs := make([]error, 2)
		for i, p := range []struct {
			body  map[string]any
			token string
		}{{a, aToken}, {b, bToken}} {
			wg.Go(func() { answers[i], errs[i] = send(p.body, p.token, shared) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		made := -1
		for i, ans := range answers {
			if ans.status == 200 {
				made = i
			} else {
				replayRefused(t, "the concurrent payment", ans)
			}
		}
		if made < 0 {
			t.Fatalf("neither concurrent payment was made: %d %s / %d %s", answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		loser := [][2]any{{a, aToken}, {b, bToken}}[1-made]
		unused("the refused concurrent payment", loser[0].(map[string]any), loser[1].(string))
	})
}
