package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type okPinger struct{}

func (okPinger) Ping(context.Context) error { return nil }

// start serves both listeners on free loopback ports with the limits and
// returns the web and API host:port.
func start(t *testing.T, lim Limits, m *Metrics) (web, api string) {
	return startTLS(t, lim, m, nil)
}

func startTLS(t *testing.T, lim Limits, m *Metrics, apiTLS *tls.Config) (web, api string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", Healthz(okPinger{}, "test", time.Now))
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "too big", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "read")
	})
	ready := make(chan Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Config{APIAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0", API: mux, Web: mux,
			APITLS: apiTLS,
			Log:    slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: lim, Metrics: m}, func(ep Endpoints) { ready <- ep })
	}()
	var ep Endpoints
	select {
	case ep = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	w, _ := url.Parse(ep.Web)
	a, _ := url.Parse(ep.API)
	return w.Host, a.Host
}

// dialFrom connects from a given loopback address (127.0.0.0/8 is all
// loopback on Linux), so that a test has several "clients".
func dialFrom(t *testing.T, from, to string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin tells whether the server closes c (read gives EOF or an
// error) within d, discarding whatever it answers first.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// A client that declares a large body and trickles it is dropped once the
// read bound passes, instead of holding the connection for as long as it
// likes; a well-behaved upload on the same server still works.
func TestSlowBodyDropped(t *testing.T) {
	t.Parallel()
	web, _ := start(t, Limits{ReadTimeout: 500 * time.Millisecond}, nil)
	c := dialFrom(t, "127.0.0.1", web)
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 100 ms: 100000 bytes would take hours
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("a slow body still held its connection 10 s after a 0.5 s read bound")
	}
	res, err := http.Post("http://"+web+"/upload", "text/plain", strings.NewReader(strings.Repeat("a", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("a normal upload: %d", res.StatusCode)
	}
}

// A client that sends its headers slowly is dropped too.
func TestSlowHeadersDropped(t *testing.T) {
	t.Parallel()
	web, _ := start(t, Limits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond}, nil)
	c := dialFrom(t, "127.0.0.1", web)
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // never the blank line
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("unfinished headers held the connection")
	}
}

// Past the per-address cap, a client's further connections are closed at
// once, while another client's /healthz still answers; once the first
// client closes one, it may connect again.
func TestConnectionCapPerAddress(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	web, api := start(t, Limits{MaxConnsPerAddr: 3}, m)
	for _, addr := range []string{web, api} {
		held := make([]net.Conn, 3)
		for i := range held {
			held[i] = dialFrom(t, "127.0.0.3", addr)
		}
		// The server counts a connection once it accepts it; make sure all
		// three are accepted before the fourth.
		time.Sleep(100 * time.Millisecond)
		excess := dialFrom(t, "127.0.0.3", addr)
		if !closedWithin(excess, 5*time.Second) {
			t.Fatalf("%s: the 4th connection from one address was kept", addr)
		}
		other := dialFrom(t, "127.0.0.4", addr)
		if addr == web {
			io.WriteString(other, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(other), nil)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("/healthz from another client: %v %v", res, err)
			}
		} else if closedWithin(other, 300*time.Millisecond) {
			t.Fatalf("%s: another client's connection was closed", addr)
		}
		held[0].Close()
		time.Sleep(100 * time.Millisecond)
		again := dialFrom(t, "127.0.0.3", addr)
		if closedWithin(again, 300*time.Millisecond) {
			t.Fatalf("%s: a connection after one was released was refused", addr)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `psd2bank_connections_refused_total{listener="web",reason="per_address_cap"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("metrics lack %s", want)
	}
}

// Headers over MaxHeaderBytes are refused (431), and a body over the
// route's bound is refused before it is read.
func TestBigHeadersAndBodiesRefused(t *testing.T) {
	t.Parallel()
	web, _ := start(t, Limits{WebBody: 4 << 10, BodyRoutes: map[string]int64{"/upload": 8 << 10}}, nil)
	req, _ := http.NewRequest("GET", "http://"+web+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 200<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KiB of headers: %d, want 431", res.StatusCode)
	}
	for _, tc := range []struct {
		size   int
		status int
	}{{6 << 10, 200}, {9 << 10, 413}} {
		res, err := http.Post("http://"+web+"/upload", "text/plain", strings.NewReader(strings.Repeat("a", tc.size)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Fatalf("a %d-byte body on a route bound at 8 KiB: %d, want %d", tc.size, res.StatusCode, tc.status)
		}
	}
	// Chunked (no Content-Length): cut off by the reader.
	res, err = http.Post("http://"+web+"/upload", "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("a", 9<<10))))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("a chunked 9 KiB body: %d, want 413", res.StatusCode)
	}
}

// The API listener speaks TLS 1.2 only with AEAD suites: a client that
// offers only CBC-SHA1 suites is refused, one with GCM gets through.
func TestTLSSuites(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	_, api := startTLS(t, Limits{}, nil, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	dial := func(suite uint16) error {
		c, err := tls.Dial("tcp", api, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil {
			c.Close()
		}
		return err
	}
	for _, weak := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		if dial(weak) == nil {
			t.Errorf("%s accepted", tls.CipherSuiteName(weak))
		}
	}
	if err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Fatalf("GCM refused: %v", err)
	}
	if c, err := tls.Dial("tcp", api, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestHardenTLS(t *testing.T) {
	t.Parallel()
	c := hardenTLS(&tls.Config{})
	if c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("min version %x", c.MinVersion)
	}
	for _, id := range c.CipherSuites {
		name := tls.CipherSuiteName(id)
		if strings.Contains(name, "CBC") || strings.HasSuffix(name, "_SHA") || !strings.HasPrefix(name, "TLS_ECDHE_") {
			t.Fatalf("offered %s", name)
		}
	}
}
