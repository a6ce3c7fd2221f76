package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkTrustPipeline measures the cost per request of the trust
// pipeline — QWAC check (cached per certificate), register and roles, JWS
// verification of the request, the replay record and the audit record in
// the database, the bank's signature on the response — against a bare TLS
// handler that returns the same bytes, in one run, over real mutual TLS
// with keep-alive connections: 16 concurrent clients (b.RunParallel with
// parallelism 8 at -cpu 2), so that ns/op is the inverse of throughput
// rather than one client's latency. Each sub-benchmark
// reports queries/op: SQL statements per request.
func BenchmarkTrustPipeline(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			db := engine.open(b)
			bk := newBank(b, db, gateway.Sandbox)
			a := newTPP(b, bk.qtsp, orgA, all)
			// What the pipeline answers, to serve the same bytes bare.
			first := bk.do(b, a, bk.polishAPI(b, a, "getAccounts", "", nil))
			if first.status != 200 {
				b.Fatalf("pipeline answered %d %s", first.status, first.body)
			}
			b.Run("pipeline", func(b *testing.B) {
				q0 := db.Queries()
				// Requests are built (and signed by the TPP) before the clock starts.
				reqs := make(chan *http.Request, b.N)
				for range b.N {
					reqs <- bk.polishAPI(b, a, "getAccounts", "", nil)
				}
				close(reqs)
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := bk.client(a.qwac)
					for pb.Next() {
						send(b, c, <-reqs)
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(db.Queries()-q0)/float64(b.N), "queries/op")
			})
			b.Run("bare-tls", func(b *testing.B) {
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					w.Header().Set("Content-Type", "application/json")
					w.Write(first.body)
				}))
				srv.TLS = bk.srv.TLS.Clone()
				srv.StartTLS()
				defer srv.Close()
				body := []byte(`{"requestHeader":{"requestId":"00000000-0000-1000-8000-000000000000"}}`)
				b.SetParallelism(8)
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := bk.client(a.qwac)
					for pb.Next() {
						r, _ := http.NewRequest("POST", srv.URL+"/v2_1_2.1/x/v2_1_2.1/getAccounts", bytes.NewReader(body))
						send(b, c, r)
					}
				})
			})
		})
	}
}

func send(b *testing.B, c *http.Client, r *http.Request) {
	res, err := c.Do(r)
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Errorf("status %d", res.StatusCode)
	}
}
