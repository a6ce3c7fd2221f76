package eidas

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testClock is a clock the tests move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// crlServer serves a CRL made by crl(now) and counts the downloads.
type crlServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newCRLServer(t *testing.T, tlsServer bool, handler func(w http.ResponseWriter)) *crlServer {
	t.Helper()
	s := &crlServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/crl" {
			http.NotFound(w, r)
			return
		}
		handler(w)
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func serveCRL(t *testing.T, q *QTSP, clock func() time.Time) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		b, err := q.CRL(clock())
		if err != nil {
			t.Error(err)
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(b)
	}
}

func TestCRLChecker(t *testing.T) {
	q := newQTSP(t)
	clock := &testClock{now: t0}
	for _, overTLS := range []bool{false, true} {
		name := "http"
		if overTLS {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			srv := newCRLServer(t, overTLS, serveCRL(t, q, clock.Now))
			req := request(KindQWAC)
			req.CRLURL = srv.URL + "/crl"
			good := issue(t, q, req)
			bad := issue(t, q, req)
			if err := q.Revoke(bad.SerialNumber, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			c := NewCRLChecker(srv.Client(), clock.Now)
			if err := c.Check(t.Context(), good, q.Root()); err != nil {
				t.Errorf("good: %v", err)
			}
			err := c.Check(t.Context(), bad, q.Root())
			if ReasonOf(err) != ReasonRevoked || !strings.Contains(err.Error(), fmtTime(t0.Add(-time.Hour))) {
				t.Errorf("revoked: %v", err)
			}
			if n := srv.hits.Load(); n != 1 {
				t.Errorf("%d downloads, want 1 (cached)", n)
			}

			// The end-to-end path through the Verifier.
			roots := x509.NewCertPool()
			roots.AddCert(q.Root())
			v := &Verifier{Roots: roots, Clock: clock.Now, Revocation: c}
			if _, err := v.Verify(t.Context(), []*x509.Certificate{bad}, KindQWAC); ReasonOf(err) != ReasonRevoked {
				t.Errorf("Verify of a revoked QWAC: %v", err)
			}
		})
	}
}

func TestCRLCheckerCaching(t *testing.T) {
	q := newQTSP(t)
	clock := &testClock{now: t0}
	srv := newCRLServer(t, false, serveCRL(t, q, clock.Now))
	req := request(KindQWAC)
	req.CRLURL = srv.URL + "/crl"
	cert := issue(t, q, req)
	c := &CRLChecker{Client: srv.Client(), Clock: clock.Now, MaxAge: 20 * time.Minute}

	if err := c.Check(t.Context(), cert, q.Root()); err != nil {
		t.Fatal(err)
	}
	// Revoked after the download: the cached CRL does not know yet.
	if err := q.Revoke(cert.SerialNumber, clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(19 * time.Minute)
	if err := c.Check(t.Context(), cert, q.Root()); err != nil {
		t.Errorf("within MaxAge: %v", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("%d downloads within MaxAge, want 1", n)
	}
	clock.Advance(2 * time.Minute) // past MaxAge (the CRL's nextUpdate is later)
	if err := c.Check(t.Context(), cert, q.Root()); ReasonOf(err) != ReasonRevoked {
		t.Errorf("after MaxAge: %v, want revoked", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}

	// Without MaxAge the CRL's nextUpdate (one hour) bounds the cache.
	c2 := &CRLChecker{Client: srv.Client(), Clock: clock.Now}
	c2.Check(t.Context(), cert, q.Root())
	clock.Advance(59 * time.Minute)
	c2.Check(t.Context(), cert, q.Root())
	if n := srv.hits.Load(); n != 3 {
		t.Errorf("%d downloads before nextUpdate, want 3", n)
	}
	clock.Advance(time.Minute)
	c2.Check(t.Context(), cert, q.Root())
	if n := srv.hits.Load(); n != 4 {
		t.Errorf("%d downloads at nextUpdate, want 4", n)
	}
}

func TestCRLCheckerConcurrent(t *testing.T) {
	q := newQTSP(t)
	clock := &testClock{now: t0}
	release := make(chan struct{})
	srv := newCRLServer(t, false, func(w http.ResponseWriter) {
		<-release
		serveCRL(t, q, clock.Now)(w)
	})
	req := request(KindQWAC)
	req.CRLURL = srv.URL + "/crl"
	cert := issue(t, q, req)
	c := NewCRLChecker(srv.Client(), clock.Now)

	const n = 16
	errs := make(chan error, n)
	var started sync.WaitGroup
	for range n {
		started.Add(1)
		go func() {
			started.Done()
			errs <- c.Check(context.Background(), cert, q.Root())
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the goroutines queue on the download
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if h := srv.hits.Load(); h != 1 {
		t.Errorf("%d downloads for %d concurrent checks, want 1", h, n)
	}
}

func TestCRLCheckerUnknown(t *testing.T) {
	q := newQTSP(t)
	other := newQTSP(t)
	clock := &testClock{now: t0}
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter)
		noURL    bool
		down     bool
		allow    func(*url.URL) bool
		contains string
	}{
		{name: "server down", down: true, contains: "the CRL at"},
		{name: "HTTP 500", handler: func(w http.ResponseWriter) { http.Error(w, "boom", 500) }, contains: "HTTP status 500"},
		{name: "not a CRL", handler: func(w http.ResponseWriter) { w.Write([]byte("hello")) }, contains: "not a valid CRL"},
		{name: "CRL of another CA with the same name", handler: serveCRL(t, other, clock.Now), contains: "signature does not verify"},
		{name: "stale CRL", handler: serveCRL(t, q, func() time.Time { return t0.Add(-2 * time.Hour) }), contains: "stale"},
		{name: "no distribution point", noURL: true, contains: "names no CRL distribution point"},
		{name: "URL not allowed", handler: serveCRL(t, q, clock.Now), allow: func(*url.URL) bool { return false }, contains: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(KindQWAC)
			var client *http.Client
			if !tt.noURL {
				srv := newCRLServer(t, false, tt.handler)
				req.CRLURL = srv.URL + "/crl"
				client = srv.Client()
				if tt.down {
					srv.Close()
				}
			}
			cert := issue(t, q, req)
			c := &CRLChecker{Client: client, Clock: clock.Now, AllowURL: tt.allow}
			err := c.Check(t.Context(), cert, q.Root())
			if ReasonOf(err) != ReasonRevocationUnknown {
				t.Fatalf("Check = %v, want %s", err, ReasonRevocationUnknown)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

// ocspResponder is an OCSP responder built with ocsp.CreateResponse.
type ocspResponder struct {
	*httptest.Server
	hits atomic.Int32

	mu        sync.Mutex
	issuer    *x509.Certificate
	signer    crypto.Signer
	delegate  *x509.Certificate // responder certificate, nil: the issuer signs
	status    map[string]int    // by serialHex; missing: ocsp.Good
	revokedAt time.Time
	clock     func() time.Time
	validFor  time.Duration
	fail      bool
}

func newOCSPResponder(t *testing.T, q *QTSP, clock func() time.Time) *ocspResponder {
	r := &ocspResponder{issuer: q.Root(), signer: q.key, status: map[string]int{}, clock: clock, validFor: time.Hour}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/ocsp-request" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(req.Body)
		oreq, err := ocsp.ParseRequest(body)
		if err != nil {
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		now := r.clock()
		status, ok := r.status[serialHex(oreq.SerialNumber)]
		if !ok {
			status = ocsp.Good
		}
		tmpl := ocsp.Response{
			Status:       status,
			SerialNumber: oreq.SerialNumber,
			ThisUpdate:   now,
			NextUpdate:   now.Add(r.validFor),
			RevokedAt:    r.revokedAt,
			IssuerHash:   oreq.HashAlgorithm,
			Certificate:  r.delegate,
		}
		responder := r.issuer
		if r.delegate != nil {
			responder = r.delegate
		}
		b, err := ocsp.CreateResponse(r.issuer, responder, tmpl, r.signer)
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(b)
	}))
	t.Cleanup(r.Close)
	return r
}

// delegatedResponder issues a responder certificate from q's root.
func delegatedResponder(t *testing.T, q *QTSP, eku []x509.ExtKeyUsage) (*x509.Certificate, crypto.Signer) {
	key, _ := generateKey("ec")
	serial, _ := randomSerial()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "OCSP responder"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, q.root, key.Public(), q.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func TestOCSPChecker(t *testing.T) {
	q := testQTSP(t)
	other := newQTSP(t)
	tests := []struct {
		name     string
		setup    func(r *ocspResponder, cert *x509.Certificate)
		reason   Reason
		contains string
	}{
		{name: "good"},
		{
			name: "revoked",
			setup: func(r *ocspResponder, cert *x509.Certificate) {
				r.status[serialHex(cert.SerialNumber)] = ocsp.Revoked
				r.revokedAt = t0.Add(-3 * time.Hour)
			},
			reason:   ReasonRevoked,
			contains: "revoked by its issuer on 2026-03-02T07:00:00Z",
		},
		{
			name:     "unknown to the responder",
			setup:    func(r *ocspResponder, cert *x509.Certificate) { r.status[serialHex(cert.SerialNumber)] = ocsp.Unknown },
			reason:   ReasonRevocationUnknown,
			contains: "does not know the certificate",
		},
		{
			name:     "responder unavailable",
			setup:    func(r *ocspResponder, _ *x509.Certificate) { r.fail = true },
			reason:   ReasonRevocationUnknown,
			contains: "HTTP status 503",
		},
		{
			name:     "stale answer",
			setup:    func(r *ocspResponder, _ *x509.Certificate) { r.clock = fixedClock(t0.Add(-2 * time.Hour)) },
			reason:   ReasonRevocationUnknown,
			contains: "stale",
		},
		{
			name: "delegated responder with OCSPSigning",
			setup: func(r *ocspResponder, _ *x509.Certificate) {
				r.delegate, r.signer = delegatedResponder(t, q, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning})
			},
		},
		{
			name: "delegated responder without OCSPSigning",
			setup: func(r *ocspResponder, _ *x509.Certificate) {
				r.delegate, r.signer = delegatedResponder(t, q, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
			},
			reason:   ReasonRevocationUnknown,
			contains: "not authorised for OCSP signing",
		},
		{
			name:     "signed by another CA",
			setup:    func(r *ocspResponder, _ *x509.Certificate) { r.signer = other.key },
			reason:   ReasonRevocationUnknown,
			contains: "bad OCSP signature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newOCSPResponder(t, q, fixedClock(t0))
			req := request(KindQWAC)
			req.OCSPURL = r.URL
			cert := issue(t, q, req)
			if tt.setup != nil {
				tt.setup(r, cert)
			}
			c := NewOCSPChecker(r.Client(), fixedClock(t0))
			err := c.Check(t.Context(), cert, q.Root())
			if ReasonOf(err) != tt.reason {
				t.Fatalf("Check = %v, want reason %q", err, tt.reason)
			}
			if err != nil && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestOCSPCheckerCaching(t *testing.T) {
	q := testQTSP(t)
	clock := &testClock{now: t0}
	r := newOCSPResponder(t, q, clock.Now)
	r.validFor = 30 * time.Minute
	req := request(KindQWAC)
	req.OCSPURL = r.URL
	cert := issue(t, q, req)
	c := NewOCSPChecker(r.Client(), clock.Now)
	for range 3 {
		if err := c.Check(t.Context(), cert, q.Root()); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	clock.Advance(30 * time.Minute) // nextUpdate reached
	if err := c.Check(t.Context(), cert, q.Root()); err != nil {
		t.Fatal(err)
	}
	if n := r.hits.Load(); n != 2 {
		t.Errorf("%d requests after nextUpdate, want 2", n)
	}
	// Failures are not cached.
	r.mu.Lock()
	r.fail = true
	r.mu.Unlock()
	clock.Advance(time.Hour)
	for range 2 {
		if err := c.Check(t.Context(), cert, q.Root()); ReasonOf(err) != ReasonRevocationUnknown {
			t.Fatalf("Check = %v", err)
		}
	}
	if n := r.hits.Load(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// TestQTSPOCSPResponse serves the QTSP's own OCSP answers.
func TestQTSPOCSPResponse(t *testing.T) {
	q := newQTSP(t)
	other := newQTSP(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b, err := q.OCSPResponse(body, t0)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	req := request(KindQSealC)
	req.OCSPURL = srv.URL
	good, bad := issue(t, q, req), issue(t, q, req)
	if err := q.Revoke(bad.SerialNumber, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := NewOCSPChecker(srv.Client(), fixedClock(t0))
	if err := c.Check(t.Context(), good, q.Root()); err != nil {
		t.Errorf("good: %v", err)
	}
	if err := c.Check(t.Context(), bad, q.Root()); ReasonOf(err) != ReasonRevoked {
		t.Errorf("revoked: %v", err)
	}
	// A certificate of another issuer: "unauthorized".
	foreign := issue(t, other, req)
	if err := c.Check(t.Context(), foreign, other.Root()); ReasonOf(err) != ReasonRevocationUnknown {
		t.Errorf("foreign: %v", err)
	}
	// SHA-1 CertIDs, as most responders expect, work too.
	c1 := &OCSPChecker{Client: srv.Client(), Clock: fixedClock(t0), Hash: crypto.SHA1}
	if err := c1.Check(t.Context(), bad, q.Root()); ReasonOf(err) != ReasonRevoked {
		t.Errorf("revoked, SHA-1: %v", err)
	}
	if b, _ := q.OCSPResponse([]byte("junk"), t0); string(b) != string(ocsp.MalformedRequestErrorResponse) {
		t.Error("junk request not answered malformedRequest")
	}
}

func TestChainChecker(t *testing.T) {
	q := newQTSP(t)
	clock := &testClock{now: t0}
	crlSrv := newCRLServer(t, false, serveCRL(t, q, clock.Now))
	responder := newOCSPResponder(t, q, clock.Now)
	req := request(KindQWAC)
	req.CRLURL = crlSrv.URL + "/crl"
	req.OCSPURL = responder.URL
	cert := issue(t, q, req)
	if err := q.Revoke(cert.SerialNumber, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	oc := NewOCSPChecker(responder.Client(), clock.Now)
	cc := NewCRLChecker(crlSrv.Client(), clock.Now)
	chain := ChainChecker{oc, cc}

	// The responder (which knows nothing of the revocation) answers good:
	// OCSP wins and the CRL is not fetched.
	if err := chain.Check(t.Context(), cert, q.Root()); err != nil {
		t.Fatalf("OCSP good: %v", err)
	}
	if crlSrv.hits.Load() != 0 {
		t.Error("CRL fetched although OCSP answered")
	}
	// Responder down: the CRL answers.
	responder.mu.Lock()
	responder.fail = true
	responder.mu.Unlock()
	clock.Advance(2 * time.Hour) // past the cached OCSP answer
	if err := chain.Check(t.Context(), cert, q.Root()); ReasonOf(err) != ReasonRevoked {
		t.Fatalf("OCSP down, CRL revoked: %v", err)
	}
	// Both down: unknown, naming both.
	crlSrv.Close()
	clock.Advance(2 * time.Hour)
	err := chain.Check(t.Context(), cert, q.Root())
	if ReasonOf(err) != ReasonRevocationUnknown || !strings.Contains(err.Error(), "OCSP") || !strings.Contains(err.Error(), "CRL") {
		t.Fatalf("both down: %v", err)
	}
	if err := (ChainChecker{}).Check(t.Context(), cert, q.Root()); ReasonOf(err) != ReasonRevocationUnknown {
		t.Errorf("empty chain: %v", err)
	}
}
