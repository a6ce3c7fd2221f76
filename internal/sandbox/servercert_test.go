package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
)

// The API's server certificate is valid in real time and in sandbox time,
// however far the sandbox clock has moved, and a TPP's TLS stack (real
// time) accepts it over a real handshake.
func TestServerCertValidInBothTimes(t *testing.T) {
	t.Parallel()
	realNow := time.Now()
	ca, err := eidas.LoadOrCreateTLSCA(t.TempDir(), realNow)
	if err != nil {
		t.Fatal(err)
	}
	sbx := clock.NewFixed(realNow.Add(2 * 365 * 24 * time.Hour)) // the sandbox clock two years ahead
	sc := &serverCert{ca: ca, hosts: []string{"127.0.0.1"}, real: clock.System{}, sbx: sbx}
	first, err := sc.get()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Now(), sbx.Now()} {
		if at.Before(first.Leaf.NotBefore) || at.After(first.Leaf.NotAfter) {
			t.Fatalf("the certificate (%v to %v) is not valid at %v", first.Leaf.NotBefore, first.Leaf.NotAfter, at)
		}
	}
	// A real TLS client, checking in real time, accepts it.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: sc.getCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root())
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("a TPP's handshake with the sandbox clock two years ahead: %v", err)
	}
	c.Close()
	// The sandbox clock moves past the certificate: the next handshake
	// gets a new one, valid at both times again.
	sbx.Advance(first.Leaf.NotAfter.Sub(sbx.Now()) + 24*time.Hour)
	second, err := sc.get()
	if err != nil {
		t.Fatal(err)
	}
	if second == first || sbx.Now().After(second.Leaf.NotAfter) || time.Now().Before(second.Leaf.NotBefore) {
		t.Fatalf("not renewed for sandbox time %v: %v to %v", sbx.Now(), second.Leaf.NotBefore, second.Leaf.NotAfter)
	}
}
