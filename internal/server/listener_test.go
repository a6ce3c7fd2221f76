package server

import (
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
)

type failingListener struct {
	net.Listener
	errs []error
}

func (f *failingListener) Accept() (net.Conn, error) {
	err := f.errs[0]
	if len(f.errs) > 1 {
		f.errs = f.errs[1:]
	}
	return nil, err
}

// A failure to accept (out of file descriptors) is logged at warning
// level — the default logger shows it — and counted; the listener closing
// at shutdown is neither.
func TestAcceptFailuresWarnedAndCounted(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	m := NewMetrics()
	ln := newCapListener(&failingListener{errs: []error{errors.New("accept4: too many open files"), net.ErrClosed}},
		"web", 1, nil, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo})), m)
	if _, err := ln.Accept(); err == nil {
		t.Fatal("no error")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "too many open files") ||
		strings.Count(logged.String(), "accept failed") != 1 {
		t.Fatalf("log: %s", logged.String())
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `psd2bank_accept_errors_total{listener="web"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("metrics lack %s", want)
	}
}
