package sandbox

import (
	"crypto/tls"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
)

// serverCert is the API's TLS server certificate, valid in real time (what
// a TPP's TLS stack checks) and in sandbox time at once. It is issued at
// start and issued again, on the next handshake, once either time is
// outside it (the sandbox clock moved past it, or the sandbox ran long).
type serverCert struct {
	ca    *eidas.TLSCA
	hosts []string
	real  clock.Clock
	sbx   clock.Clock

	mu   sync.Mutex
	cert *tls.Certificate
}

func (s *serverCert) covers(c *tls.Certificate, times ...time.Time) bool {
	if c == nil || c.Leaf == nil {
		return false
	}
	for _, t := range times {
		if t.Before(c.Leaf.NotBefore) || !t.Before(c.Leaf.NotAfter) {
			return false
		}
	}
	return true
}

// get returns a certificate valid now in both times, issuing one if needed.
func (s *serverCert) get() (*tls.Certificate, error) {
	real, sbx := s.real.Now(), s.sbx.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.covers(s.cert, real, sbx) {
		return s.cert, nil
	}
	c, err := s.ca.ServerCertSpanning(s.hosts, real, sbx)
	if err != nil {
		return nil, err
	}
	s.cert = &c
	return s.cert, nil
}

func (s *serverCert) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.get() }
