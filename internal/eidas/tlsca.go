package eidas

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"strings"
	"time"
)

// Files of the bank's TLS CA in its directory.
const (
	TLSCACertFile = "bank-tls-ca.pem" // the CA certificate TPP clients trust
	TLSCAKeyFile  = "bank-tls-ca.key" // its PKCS#8 key, mode 0600
)

// serverCertValidity is the lifetime of a server certificate (the CA/B
// Forum's current maximum).
const serverCertValidity = 397 * 24 * time.Hour

// TLSCA is a plain (non-qualified) CA for the bank's own TLS server
// certificate in the sandbox. It is safe for concurrent use.
type TLSCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// LoadOrCreateTLSCA loads the CA from dir (bank-tls-ca.pem, bank-tls-ca.key)
// or creates it there ("CN=psd2bank Sandbox TLS CA, O=psd2bank sandbox,
// C=PL", ECDSA P-256, valid from a year before now until ten years after).
func LoadOrCreateTLSCA(dir string, now time.Time) (*TLSCA, error) {
	subject := pkix.Name{
		CommonName:   "psd2bank Sandbox TLS CA",
		Organization: []string{sandboxOrganization},
		Country:      []string{"PL"},
	}
	cert, key, err := loadOrCreateCA(dir, TLSCACertFile, TLSCAKeyFile, subject, now)
	if err != nil {
		return nil, err
	}
	return &TLSCA{cert: cert, key: key}, nil
}

// Root returns the CA certificate.
func (c *TLSCA) Root() *x509.Certificate { return c.cert }

// RootPEM returns the CA certificate in PEM.
func (c *TLSCA) RootPEM() []byte { return CertificatePEM(c.cert) }

// ServerCert issues a TLS server certificate (ECDSA P-256, serverAuth) for
// the given host names and IP addresses ("[::1]" and "::1" are both
// accepted), valid from an hour before now for 397 days but not beyond the
// CA. The chain holds the leaf only; clients trust the CA.
func (c *TLSCA) ServerCert(hosts []string, now time.Time) (tls.Certificate, error) {
	return c.ServerCertSpanning(hosts, now, now)
}

// ServerCertSpanning issues a server certificate valid at every one of
// times: from a day before the earliest to 397 days after the latest (not
// beyond the CA). The sandbox gives real time and sandbox time, so that a
// TPP's TLS stack (real time) and anything checking in sandbox time both
// accept it.
func (c *TLSCA) ServerCertSpanning(hosts []string, times ...time.Time) (tls.Certificate, error) {
	if len(times) == 0 {
		return tls.Certificate{}, errors.New("eidas: ServerCertSpanning needs a time")
	}
	earliest, latest := times[0], times[0]
	for _, t := range times[1:] {
		if t.Before(earliest) {
			earliest = t
		}
		if t.After(latest) {
			latest = t
		}
	}
	var dnsNames []string
	var ips []net.IP
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, h)
		}
	}
	if len(dnsNames) == 0 && len(ips) == 0 {
		return tls.Certificate{}, errors.New("eidas: ServerCert needs at least one host name or IP address")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	} else {
		cn = ips[0].String()
	}
	notBefore := earliest.Add(-time.Hour)
	if len(times) > 1 {
		notBefore = earliest.Add(-24 * time.Hour)
	}
	if notBefore.Before(c.cert.NotBefore) {
		notBefore = c.cert.NotBefore
	}
	notAfter := latest.Add(serverCertValidity)
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{sandboxOrganization}},
		NotBefore:             notBefore.UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
		Policies:              []x509.OID{sandboxPolicy},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
