// Package server runs the bank's two listeners — the TPP API and the web
// pages — for both `psd2bank sandbox` and `psd2bank serve`.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/psd2bank/psd2bank/internal/cork"
	"github.com/psd2bank/psd2bank/internal/obs"
)

// Config is what Serve needs.
type Config struct {
	APIAddr, WebAddr string
	API, Web         http.Handler
	// APITLS is the API listener's TLS. Nil serves plain HTTP, for running
	// behind a TLS-terminating proxy that forwards the client certificate.
	APITLS *tls.Config
	Log    *slog.Logger
	// Limits bound slow and large requests and connections per address;
	// zero fields take DefaultLimits.
	Limits Limits
	// Metrics, when set, counts refused connections and accept failures.
	Metrics *Metrics
	// StaffAddr, when set, is a third listener (plain HTTP, the same
	// limits) for Staff: the back office and /metrics, kept off the
	// customers' listener so that they can be firewalled apart.
	StaffAddr string
	Staff     http.Handler
}

// Endpoints are the addresses the listeners serve on, as URLs.
type Endpoints struct {
	API   string `json:"api"`
	Web   string `json:"web"`
	Staff string `json:"staff,omitempty"`
}

// Serve listens on both addresses, calls ready once both accept
// connections, and serves until ctx ends.
func Serve(ctx context.Context, cfg Config, ready func(Endpoints)) error {
	apiLn, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("API listener: %w", err)
	}
	webLn, err := net.Listen("tcp", cfg.WebAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("web listener: %w", err)
	}
	var staffLn net.Listener
	if cfg.StaffAddr != "" {
		if staffLn, err = net.Listen("tcp", cfg.StaffAddr); err != nil {
			apiLn.Close()
			webLn.Close()
			return fmt.Errorf("staff listener: %w", err)
		}
	}
	lim := cfg.Limits.withDefaults()
	apiLn = newCapListener(apiLn, "api", lim.MaxConnsPerAddr, lim.Unlimited, cfg.Log, cfg.Metrics)
	webLn = newCapListener(webLn, "web", lim.MaxConnsPerAddr, lim.Unlimited, cfg.Log, cfg.Metrics)
	// The server's own complaints (TLS handshakes that fail, bad requests)
	// are the clients' doing: debug level. Accept failures, the operator's
	// concern, are logged at warning level by the listener.
	errLog := slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug)
	apiSrv := lim.server(LimitBody(cfg.API, lim.APIBody, nil, false))
	apiSrv.TLSConfig, apiSrv.ErrorLog = hardenTLS(cfg.APITLS), errLog
	// The gateway writes each answer's TLS records in one system call (cork).
	apiLn, apiSrv.ConnContext = cork.Listener{Listener: apiLn}, cork.ConnContext
	webSrv := lim.server(LimitBody(cfg.Web, lim.WebBody, lim.BodyRoutes, true))
	webSrv.ErrorLog = errLog
	errc := make(chan error, 3)
	var staffSrv *http.Server
	ep := Endpoints{}
	if staffLn != nil {
		staffLn = newCapListener(staffLn, "staff", lim.MaxConnsPerAddr, lim.Unlimited, cfg.Log, cfg.Metrics)
		staffSrv = lim.server(LimitBody(cfg.Staff, lim.WebBody, nil, true))
		staffSrv.ErrorLog = errLog
		ep.Staff = "http://" + shownAddr(cfg.StaffAddr, staffLn)
		go func() { errc <- staffSrv.Serve(staffLn) }()
	}
	scheme := "http"
	if cfg.APITLS != nil {
		scheme = "https"
		go func() { errc <- apiSrv.ServeTLS(apiLn, "", "") }()
	} else {
		go func() { errc <- apiSrv.Serve(apiLn) }()
	}
	go func() { errc <- webSrv.Serve(webLn) }()
	ep.API, ep.Web = scheme+"://"+shownAddr(cfg.APIAddr, apiLn), "http://"+shownAddr(cfg.WebAddr, webLn)
	cfg.Log.Info("psd2bank started", "event", obs.EventStart, "api", ep.API, "web", ep.Web, "staff", ep.Staff)
	ready(ep)
	select {
	case <-ctx.Done():
		cfg.Log.Info("psd2bank shutting down", "event", obs.EventShutdown, "reason", context.Cause(ctx).Error())
	case err = <-errc:
		cfg.Log.Error("psd2bank shutting down: a listener failed", "event", obs.EventShutdown, "err", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	apiSrv.Shutdown(shutdown)
	webSrv.Shutdown(shutdown)
	if staffSrv != nil {
		staffSrv.Shutdown(shutdown)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	cfg.Log.Info("psd2bank stopped", "event", obs.EventShutdown)
	return err
}

// shownAddr is the address as given, unless it asked for any port (":0"):
// then the port the system chose.
func shownAddr(given string, ln net.Listener) string {
	host, port, err := net.SplitHostPort(given)
	if err != nil || port != "0" {
		return given
	}
	_, actual, _ := net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, actual)
}

// Metrics counts requests per listener, route and status, and serves them
// with the Go runtime's metrics on /metrics.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	refused      *prometheus.CounterVec
	acceptErrors *prometheus.CounterVec
	described    []prometheus.Collector // the bank's own (Names)
}

func (m *Metrics) connRefused(listener, reason string) {
	if m != nil {
		m.refused.WithLabelValues(listener, reason).Inc()
	}
}

func (m *Metrics) acceptError(listener string) {
	if m != nil {
		m.acceptErrors.WithLabelValues(listener).Inc()
	}
}

// NewMetrics returns a fresh registry with the runtime collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psd2bank_http_requests_total", Help: "HTTP requests by listener and status.",
		}, []string{"listener", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "psd2bank_http_request_seconds", Help: "HTTP request latency by listener.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"listener"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psd2bank_connections_refused_total", Help: "Connections closed on accept, by listener and reason.",
		}, []string{"listener", "reason"}),
		acceptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psd2bank_accept_errors_total", Help: "Failures to accept a connection (e.g. out of file descriptors), by listener.",
		}, []string{"listener"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Register(m.requests, m.duration, m.refused, m.acceptErrors)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Count wraps h to count its requests under the listener's name.
func (m *Metrics) Count(listener string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(listener, strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues(listener).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Pinger is a database that can say it is alive.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Healthz answers GET /healthz: 200 {"status":"ok"} when the database
// answers, 503 otherwise.
func Healthz(db Pinger, mode string, now func() time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := db.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"unavailable","mode":%q,"reason":"the database does not answer"}`+"\n", mode)
			return
		}
		fmt.Fprintf(w, `{"status":"ok","mode":%q,"now":%q}`+"\n", mode, now().UTC().Format(time.RFC3339))
	}
}
