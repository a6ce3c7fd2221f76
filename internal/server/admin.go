package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// DefaultAdminAddr is where the admin listener listens when enabled
// without an address: the loopback interface only.
const DefaultAdminAddr = "127.0.0.1:6060"

// AdminHandler serves the operator's tools: net/http/pprof under
// /debug/pprof/ (profiles of the running bank: CPU, heap, goroutines,
// mutex, block, execution trace) and the metrics on /metrics.
func AdminHandler(m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "psd2bank admin listener: /debug/pprof/ (go tool pprof http://HOST/debug/pprof/profile?seconds=30), /metrics")
	})
	return mux
}

// StartAdmin starts the admin listener on addr ("" does nothing) and
// serves AdminHandler there until ctx ends; it returns the address it
// listens on. Profiles reveal the bank's internals and cost CPU: keep it
// on a loopback or otherwise private address (a warning is logged for any
// other).
func StartAdmin(ctx context.Context, addr string, m *Metrics, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("admin listener: %w", err)
	}
	bound := ln.Addr().String()
	if ap, err := net.ResolveTCPAddr("tcp", bound); err == nil && !ap.IP.IsLoopback() {
		log.Warn("the admin listener (pprof, metrics) is reachable beyond this machine: keep it on a private network", "addr", bound)
	}
	srv := &http.Server{Handler: AdminHandler(m), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("admin listener ready", "addr", bound, "pprof", "http://"+bound+"/debug/pprof/", "metrics", "http://"+bound+"/metrics")
	return bound, nil
}
