package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestAdminListener starts the admin listener on a free loopback port and
// reads the pprof index, a heap profile and the metrics, which count the
// requests of a listener wrapped with Count.
func TestAdminListener(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMetrics()
	if addr, err := StartAdmin(ctx, "", m, slog.New(slog.DiscardHandler)); addr != "" || err != nil {
		t.Fatalf("an empty address must start nothing: %q, %v", addr, err)
	}
	addr, err := StartAdmin(ctx, "127.0.0.1:0", m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	m.Count("api", http.NotFoundHandler()).ServeHTTP(discardWriter{http.Header{}}, &http.Request{})
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if st, body := get("/debug/pprof/"); st != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %d %.200s", st, body)
	}
	if st, body := get("/debug/pprof/heap?debug=1"); st != 200 || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.200s", st, body)
	}
	if st, body := get("/metrics"); st != 200 || !strings.Contains(body, `psd2bank_http_requests_total{listener="api",status="404"} 1`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics: %d %.500s", st, body)
	}
	if st, _ := get("/nothing"); st != 404 {
		t.Errorf("an unknown path: %d", st)
	}
	if _, err := StartAdmin(ctx, addr, m, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a second listener on a taken address started")
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
