package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkPISPipeline measures payments initiated per second through the
// whole bank: the sandbox (as `psd2bank sandbox` runs it) on SQLite and on
// PostgreSQL, over real mutual TLS with keep-alive connections from 16
// concurrent clients (b.SetParallelism(8) at -cpu 2). Each payment is a
// PolishAPI domestic internal transfer (system Internal, booked at once in
// the ledger) of 0.01 PLN from one of the sandbox's retail customers to
// another, signed by the demo TPP, with the access token of a single-use
// pis:domestic consent of its own: the gateway's trust pipeline, the token,
// the consent check and its compare-and-set use, the comparison with the
// consented payment, the idempotency key, API access and limits, the
// payment's record, the ledger transfer, the bank's seal on the answer.
//
// The consents are not part of the measurement: b.N authorised consents and
// their tokens are made before the timer starts directly through the
// sandbox's authorization server (oauth.Server.Authorize, Approve — the
// customer's approval without the consent page and its SCA — and Token with
// the code, bound to the demo TPP's QWAC), on the sandbox's database, each
// keeping its payment read into the domain's order as PolishAPI's authorize
// does (common.WithOrders; until 2026-12-07 the benchmark's consents kept
// only the raw privilege, which the initiation read by another path), and
// the b.N signed requests are built then too. With PSD2BANK_BENCH_CPUPROFILE
// set, the measured part's CPU profile is written to that file. payments/s is b.N over the
// measured time; queries/op counts the bank's SQL statements per payment,
// BEGIN and COMMIT included; tx-µs/op is the time spent inside
// transactions per payment (on SQLite the one writer is held that long). The sub-benchmark ledger books
// ledger.Transfer between the same accounts in the same run, from 16
// concurrent callers, for the ratio of the two rates.
func BenchmarkPISPipeline(b *testing.B) {
	for _, engine := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", func(testing.TB) string { return "" }}, {"postgres", storetest.PostgresURL}} {
		b.Run(engine.name, func(b *testing.B) {
			s := openBenchSandbox(b, engine.url(b))
			tpp := loadBenchTPP(b, s)
			payers := s.retailPayers(b)
			b.Run("initiate", func(b *testing.B) {
				reqs := make(chan *http.Request, b.N)
				for i := range b.N {
					from, to := payers[i%len(payers)], payers[(i+1)%len(payers)]
					pay := map[string]any{
						"recipient":    map[string]any{"accountNumber": to.nrb, "nameAddress": map[string]any{"value": []string{to.name}}},
						"sender":       map[string]any{"accountNumber": from.nrb},
						"transferData": map[string]any{"description": "Benchmark", "amount": "0.01", "currency": "PLN"},
						"deliveryMode": "ExpressD0", "system": "Internal", "executionMode": "Immediate",
					}
					token := s.pisToken(b, tpp, from.customerID, pay)
					body := map[string]any{"tppTransactionId": uuid.NewString()}
					for k, v := range pay {
						body[k] = v
					}
					reqs <- tpp.polishAPI(b, "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token, false)
				}
				close(reqs)
				var done atomic.Int64
				q0, tx0 := s.bank.DB.Queries(), s.bank.DB.TxTime()
				b.SetParallelism(8)
				stop := profileMeasured(b)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := tpp.client()
					for pb.Next() {
						if benchPay(b, c, <-reqs) {
							done.Add(1)
						}
					}
				})
				b.StopTimer()
				stop()
				if n := done.Load(); n != int64(b.N) {
					b.Fatalf("%d of %d payments booked", n, b.N)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
				b.ReportMetric(float64((s.bank.DB.TxTime()-tx0).Microseconds())/float64(b.N), "tx-µs/op")
				b.ReportMetric(float64(s.bank.DB.Queries()-q0)/float64(b.N), "queries/op")
			})
			// ledger.Transfer alone, in the same run, on the same database,
			// between the same accounts, from as many concurrent callers: the
			// rate a payment initiation is compared with (issue 12: at least
			// half of it).
			b.Run("ledger", func(b *testing.B) {
				ctx := context.Background()
				ids := make([]string, len(payers))
				for i, p := range payers {
					a, err := s.bank.Ledger.AccountByNRB(ctx, p.nrb)
					if err != nil {
						b.Fatal(err)
					}
					ids[i] = a.ID
				}
				var next atomic.Int64
				q0, tx0 := s.bank.DB.Queries(), s.bank.DB.TxTime()
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(next.Add(1))
						if _, err := s.bank.Ledger.Transfer(ctx, ledger.TransferRequest{DebitAccountID: ids[i%len(ids)],
							CreditAccountID: ids[(i+1)%len(ids)], Amount: 1, Currency: "PLN", Title: "Benchmark"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
				b.ReportMetric(float64((s.bank.DB.TxTime()-tx0).Microseconds())/float64(b.N), "tx-µs/op")
				b.ReportMetric(float64(s.bank.DB.Queries()-q0)/float64(b.N), "queries/op")
			})
		})
	}
}

// benchPay sends one initiation and tells whether the payment is done.
func benchPay(b *testing.B, c *http.Client, r *http.Request) bool {
	res, err := c.Do(r)
	if err != nil {
		b.Error(err)
		return false
	}
	defer res.Body.Close()
	var a struct{ GeneralStatus string }
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != 200 {
		b.Errorf("status %d %v", res.StatusCode, err)
		return false
	}
	return a.GeneralStatus == "done"
}

// benchPayer is a customer's PLN account.
type benchPayer struct{ customerID, nrb, name string }

// retailPayers are the retail customers' main PLN accounts.
func (s *benchSandbox) retailPayers(b *testing.B) []benchPayer {
	b.Helper()
	rows, err := s.bank.DB.QueryContext(context.Background(), `SELECT c.id, MIN(a.nrb), c.name FROM customers c
		JOIN accounts a ON a.customer_id = c.id WHERE c.segment = 'retail' AND a.currency = 'PLN' AND a.type = 'personal'
		GROUP BY c.id, c.name ORDER BY c.id`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []benchPayer
	for rows.Next() {
		var p benchPayer
		if err := rows.Scan(&p.customerID, &p.nrb, &p.name); err != nil {
			b.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) < 2 {
		b.Fatalf("%d retail payers", len(out))
	}
	return out
}

// pisToken makes an authorised single-use pis:domestic consent for pay and
// returns its access token: Authorize, the customer's Approve and Token on
// the sandbox's authorization server, as the API and the consent page
// would call them, without HTTP or SCA.
func (s *benchSandbox) pisToken(b *testing.B, tpp *benchTPP, customerID string, pay map[string]any) string {
	b.Helper()
	ctx := context.Background()
	priv := map[string]any{"scopeUsageLimit": "single"}
	for k, v := range pay {
		priv[k] = v
	}
	raw, err := json.Marshal(priv)
	if err != nil {
		b.Fatal(err)
	}
	p, err := consent.FromPolishAPI("", consent.PrivDomestic, raw)
	if err != nil {
		b.Fatal(err)
	}
	// The consent keeps the payment read into the domain's order, as
	// PolishAPI's authorize does (the initiation compares the body with it).
	privs := []consent.Privilege{p}
	common.WithOrders(polishapi.ConsentedPayment, privs)
	if privs[0].Order == nil {
		b.Fatal("the consented payment was not read")
	}
	qwac, err := x509.ParseCertificate(tpp.tls.Certificates[0].Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	thumb := eidas.Fingerprint(qwac)
	ar, err := s.bank.OAuth.Authorize(ctx, oauth.AuthorizeRequest{Dialect: consent.DialectPolishAPI, TPPID: tpp.info.TPPID,
		ClientID: tpp.info.ClientID, RedirectURI: tpp.info.RedirectURI, ResponseType: "code", Scope: "pis", State: "bench",
		QWACThumbprint: thumb, ScopeDetails: oauth.ScopeDetails{ConsentID: uuid.NewString(), ScopeGroupType: "pis",
			ScopeTimeLimit: s.bank.Clock.Now().Add(24 * time.Hour), ThrottlingPolicy: "psd2Regulatory", Privileges: privs}})
	if err != nil {
		b.Fatalf("authorize: %v", err)
	}
	redirect, err := s.bank.OAuth.Approve(ctx, ar.RequestID, customerID, nil)
	if err != nil {
		b.Fatalf("approve: %v", err)
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Query().Get("code") == "" {
		b.Fatalf("no code in %q: %v", redirect, err)
	}
	tok, err := s.bank.OAuth.Token(ctx, oauth.TokenRequest{TPPID: tpp.info.TPPID, QWACThumbprint: thumb, GrantType: "authorization_code",
		ClientID: tpp.info.ClientID, Code: u.Query().Get("code"), RedirectURI: tpp.info.RedirectURI})
	if err != nil {
		b.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

// profileMeasured writes a CPU profile of the measured part alone (not the
// sandbox's making or the consents made before the timer starts) to the file
// PSD2BANK_BENCH_CPUPROFILE names, if it is set; the returned func stops it.
func profileMeasured(b *testing.B) func() {
	name := os.Getenv("PSD2BANK_BENCH_CPUPROFILE")
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}
