package eidas

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreateQTSP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	q, err := LoadOrCreateQTSP(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	root := q.Root()
	if got := root.Subject.String(); got != "CN=psd2bank Sandbox QTSP Root,O=psd2bank sandbox,C=PL" {
		t.Errorf("root subject = %q", got)
	}
	if !root.IsCA || root.KeyUsage&x509.KeyUsageCertSign == 0 || root.KeyUsage&x509.KeyUsageCRLSign == 0 {
		t.Errorf("root is not a CA for certificates and CRLs: IsCA %v, KU %s", root.IsCA, describeKeyUsage(root.KeyUsage))
	}
	if !root.NotAfter.Equal(t0.Add(caValidity)) || root.NotBefore.After(t0) {
		t.Errorf("root valid %s to %s", root.NotBefore, root.NotAfter)
	}
	if !IsSandbox(root) {
		t.Error("IsSandbox(root) = false")
	}
	for name, mode := range map[string]os.FileMode{QTSPRootFile: 0o644, QTSPKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	keyPEM, _ := os.ReadFile(filepath.Join(dir, QTSPKeyFile))
	if !strings.HasPrefix(string(keyPEM), "-----BEGIN PRIVATE KEY-----") {
		t.Error("the key is not PKCS#8 PEM")
	}
	rootPEM, _ := os.ReadFile(filepath.Join(dir, QTSPRootFile))
	if string(rootPEM) != string(q.RootPEM()) {
		t.Error("qtsp-root.pem differs from RootPEM")
	}

	// Revocations persist, and a second instance on the same directory
	// (another process) sees them.
	serial := big.NewInt(0xabcdef)
	at := t0.Add(-time.Minute)
	if err := q.Revoke(serial, at); err != nil {
		t.Fatal(err)
	}
	if err := q.Revoke(serial, at.Add(time.Hour)); err != nil { // keeps the first time
		t.Fatal(err)
	}
	q2, err := LoadOrCreateQTSP(dir, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(q2.Root().Raw) != string(root.Raw) {
		t.Error("reloading made a new root")
	}
	if got, ok := q2.IsRevoked(serial); !ok || !got.Equal(at) {
		t.Errorf("IsRevoked after reload = %v, %v; want %v", got, ok, at)
	}
	if err := q2.Revoke(big.NewInt(7), t0); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.IsRevoked(big.NewInt(7)); !ok {
		t.Error("a revocation by another instance is not seen")
	}
	if _, ok := q.IsRevoked(big.NewInt(8)); ok {
		t.Error("IsRevoked of an unrevoked serial")
	}
	var f struct {
		Revoked []struct {
			Serial    string    `json:"serial"`
			RevokedAt time.Time `json:"revoked_at"`
		} `json:"revoked"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, QTSPRevokedFile))
	if err := json.Unmarshal(b, &f); err != nil || len(f.Revoked) != 2 || f.Revoked[0].Serial != "abcdef" {
		t.Errorf("qtsp-revoked.json = %s (%v)", b, err)
	}
	if err := q.Revoke(big.NewInt(0), t0); err == nil {
		t.Error("Revoke(0) succeeded")
	}

	// The CRL lists both, is signed by the root and valid for an hour.
	der, err := q.CRL(t0)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		t.Error(err)
	}
	if !crl.ThisUpdate.Equal(t0) || !crl.NextUpdate.Equal(t0.Add(time.Hour)) || len(crl.RevokedCertificateEntries) != 2 {
		t.Errorf("CRL %s..%s with %d entries", crl.ThisUpdate, crl.NextUpdate, len(crl.RevokedCertificateEntries))
	}
}

func TestLoadOrCreateQTSPErrors(t *testing.T) {
	t.Run("certificate without key", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateQTSP(dir, t0); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, QTSPKeyFile))
		if _, err := LoadOrCreateQTSP(dir, t0); err == nil || !strings.Contains(err.Error(), QTSPKeyFile) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		a, b := t.TempDir(), t.TempDir()
		for _, d := range []string{a, b} {
			if _, err := LoadOrCreateQTSP(d, t0); err != nil {
				t.Fatal(err)
			}
		}
		k, _ := os.ReadFile(filepath.Join(b, QTSPKeyFile))
		os.WriteFile(filepath.Join(a, QTSPKeyFile), k, 0o600)
		if _, err := LoadOrCreateQTSP(a, t0); err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("root expired", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateQTSP(dir, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateQTSP(dir, t0.Add(caValidity+time.Hour)); err == nil {
			t.Error("an expired root loaded")
		}
	})
	t.Run("bad revocation file", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, QTSPRevokedFile), []byte("{"), 0o644)
		if _, err := LoadOrCreateQTSP(dir, t0); err == nil {
			t.Error("a broken qtsp-revoked.json loaded")
		}
	})
}

func TestQTSPCheckForeign(t *testing.T) {
	q := testQTSP(t)
	other := newQTSP(t)
	cert := issue(t, other, request(KindQWAC))
	if err := q.Check(t.Context(), cert, other.Root()); ReasonOf(err) != ReasonRevocationUnknown {
		t.Errorf("Check of a foreign certificate = %v", err)
	}
}

func TestIsSandbox(t *testing.T) {
	q := testQTSP(t)
	leaf := issue(t, q, request(KindQSealC))
	selfSigned := func() *x509.Certificate {
		r := request(KindQWAC)
		r.SelfSigned = true
		return issue(t, q, r)
	}()
	plain := certWith(t, q, pkix.Name{CommonName: "x", Organization: []string{"Example"}}, nil, x509.KeyUsageDigitalSignature)
	plain.Issuer = pkix.Name{} // no policy, no sandbox name
	b, _ := os.ReadFile("testdata/openssl/qwac.pem")
	openssl, err := LoadCertificatesPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		want bool
	}{
		{"root", q.Root(), true},
		{"leaf", leaf, true},
		{"self-signed test leaf", selfSigned, true},
		{"no marker", plain, false},
		{"OpenSSL certificate", openssl[0], false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsSandbox(tt.cert); got != tt.want {
			t.Errorf("IsSandbox(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
	// The policy alone marks a certificate.
	leaf.Subject, leaf.Issuer = pkix.Name{}, pkix.Name{}
	if !IsSandbox(leaf) {
		t.Error("IsSandbox ignores the sandbox policy")
	}
}

func TestTLSCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreateTLSCA(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{TLSCACertFile: 0o644, TLSCAKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v", name, fi.Mode().Perm())
		}
	}
	ca2, err := LoadOrCreateTLSCA(dir, t0)
	if err != nil || string(ca2.Root().Raw) != string(ca.Root().Raw) {
		t.Fatalf("reload: %v", err)
	}
	if _, err := ca.ServerCert(nil, t0); err == nil {
		t.Error("ServerCert without hosts succeeded")
	}
	cert, err := ca.ServerCert([]string{"localhost", "127.0.0.1", "[::1]", "api.sandbox.test"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root())
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "api.sandbox.test"} {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: t0})
		if err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots, CurrentTime: t0}); err == nil {
		t.Error("valid for example.com")
	}

	// A real handshake.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, Time: fixedClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.(*tls.Conn).Handshake()
		c.Close()
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost", Time: fixedClock(t0)})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	conn.Close()
}

func TestLoadCertificatesPEM(t *testing.T) {
	q := testQTSP(t)
	certPEM, keyPEM, err := q.Issue(request(KindQWAC))
	if err != nil {
		t.Fatal(err)
	}
	bundle := append(append(append([]byte{}, keyPEM...), certPEM...), q.RootPEM()...)
	certs, err := LoadCertificatesPEM(bundle)
	if err != nil || len(certs) != 2 || !certs[1].Equal(q.Root()) {
		t.Fatalf("LoadCertificatesPEM = %d certs, %v", len(certs), err)
	}
	if _, err := LoadCertificatesPEM(keyPEM); err == nil {
		t.Error("no certificate, no error")
	}
	pair, err := LoadKeyPairPEM(certPEM, keyPEM)
	if err != nil || pair.Leaf == nil || !pair.Leaf.Equal(certs[0]) {
		t.Fatalf("LoadKeyPairPEM: %v", err)
	}
}
