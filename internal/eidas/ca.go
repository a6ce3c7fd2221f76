package eidas

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sandboxOrganization is the subject O of the sandbox CAs; IsSandbox looks
// for it in subjects and issuers.
const sandboxOrganization = "psd2bank sandbox"

// sandboxPolicy is the certificate policy every certificate issued by the
// sandbox CAs carries: "psd2bank sandbox, not qualified, for testing only".
// The OID is in the UUID arc (ITU-T X.667), so it needs no registration.
var sandboxPolicy = mustOID("2.25.139481435928820097424510449517879920302")

func mustOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// IsSandbox reports whether cert was issued by (or is) one of the psd2bank
// sandbox CAs: it carries the sandbox certificate policy, or its subject or
// issuer organisation is "psd2bank sandbox". Production refuses such
// certificates even when someone has added the sandbox root to its trust
// store (see Verifier.RejectSandbox).
func IsSandbox(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	for _, p := range cert.Policies {
		if p.Equal(sandboxPolicy) {
			return true
		}
	}
	for _, names := range [][]string{cert.Subject.Organization, cert.Issuer.Organization} {
		for _, o := range names {
			if strings.Contains(strings.ToLower(o), sandboxOrganization) {
				return true
			}
		}
	}
	return false
}

// caValidity is how long the sandbox CAs are valid; caBackdate is how far
// their notBefore lies before their creation, so that the sandbox clock can
// be moved back a little.
const (
	caValidity = 10 * 365 * 24 * time.Hour
	caBackdate = 365 * 24 * time.Hour
)

// loadOrCreateCA loads an ECDSA CA certificate and key from dir, or creates
// them with the given subject when neither file exists.
func loadOrCreateCA(dir, certFile, keyFile string, subject pkix.Name, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return loadCA(certPath, certPEM, keyPEM, now)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return nil, nil, certErr
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return nil, nil, keyErr
	case certErr != nil:
		return nil, nil, fmt.Errorf("eidas: %s exists but %s does not; restore it, or remove %s to create a new CA", keyPath, certPath, keyPath)
	default:
		return nil, nil, fmt.Errorf("eidas: %s exists but %s does not; restore it, or remove %s to create a new CA", certPath, keyPath, certPath)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-caBackdate).UTC(),
		NotAfter:              now.Add(caValidity).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		Policies:              []x509.OID{sandboxPolicy},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	keyOut, err := marshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	// The key first: a certificate without its key is the worse half-state.
	if err := writeFileAtomic(keyPath, keyOut, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, CertificatePEM(cert), 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func loadCA(certPath string, certPEM, keyPEM []byte, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certs, err := LoadCertificatesPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("eidas: %s: %w", certPath, err)
	}
	cert := certs[0]
	signer, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("eidas: the key of %s: %w", certPath, err)
	}
	key, ok := signer.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("eidas: the key of %s is not an ECDSA key", certPath)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("eidas: the key does not belong to the certificate %s", certPath)
	}
	if !cert.IsCA {
		return nil, nil, fmt.Errorf("eidas: %s is not a CA certificate", certPath)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("eidas: the CA certificate %s is valid from %s to %s, not at %s; remove it and its key to create a new one",
			certPath, fmtTime(cert.NotBefore), fmtTime(cert.NotAfter), fmtTime(now))
	}
	return cert, key, nil
}

// randomSerial returns a positive random 127-bit serial number.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// generateKey makes a leaf key: "ec" (or "") is ECDSA P-256, "rsa" is
// RSA-2048.
func generateKey(keyType string) (crypto.Signer, error) {
	switch strings.ToLower(keyType) {
	case "", "ec", "ecdsa":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("eidas: unknown key type %q: want \"ec\" or \"rsa\"", keyType)
}

func marshalKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parsePrivateKeyPEM reads the first private key block: PKCS#8, or the
// SEC 1 and PKCS#1 forms OpenSSL writes.
func parsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no private key PEM block")
		}
		var k any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it over path, so readers never see a partial file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// CertificatePEM encodes a certificate as a PEM "CERTIFICATE" block.
func CertificatePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// LoadCertificatesPEM parses every CERTIFICATE block in b, in order, skipping
// other blocks (such as keys). It fails if there is none.
func LoadCertificatesPEM(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return certs, nil
}

// LoadKeyPairPEM builds a TLS certificate (chain and key) from PEM, as
// tls.X509KeyPair does, with Leaf set.
func LoadKeyPairPEM(certPEM, keyPEM []byte) (tls.Certificate, error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return tls.Certificate{}, err
		}
	}
	return c, nil
}
