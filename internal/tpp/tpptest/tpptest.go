// Package tpptest makes PSD2 certificates for tests of the TPP registry and
// the portals: production-like ones from a test CA that is not the sandbox
// QTSP (so eidas.IsSandbox is false for them), and sandbox ones from a
// throw-away sandbox QTSP.
package tpptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/eidas"
)

// OIDs of ETSI EN 319 412-5 and TS 119 495 (see psd2-security.md §1.1).
var (
	oidQCStatements  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidQcCompliance  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	oidQcType        = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	oidQcTypeESeal   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	oidQcTypeWeb     = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	oidPSD2Statement = asn1.ObjectIdentifier{0, 4, 0, 19495, 2}
	oidOrgID         = asn1.ObjectIdentifier{2, 5, 4, 97}
)

type roleOfPSP struct {
	OID  asn1.ObjectIdentifier
	Name string `asn1:"utf8"`
}

type psd2QcType struct {
	Roles   []roleOfPSP
	NCAName string `asn1:"utf8"`
	NCAID   string `asn1:"utf8"`
}

type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

// CA is a production-like issuing CA for tests: its certificates carry the
// PSD2 QC statements but no sandbox marker.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	now  time.Time
}

// NewCA makes a CA valid for a year around now.
func NewCA(t testing.TB, now time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Example Qualified CA for Tests", Organization: []string{"Example Trust Services S.A."}, Country: []string{"PL"}},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key, now: now}
}

// Issue makes a QWAC or QSealC for orgID with the given roles, valid from a
// day before the CA's now for 90 days, and returns it in PEM.
func (ca *CA) Issue(t testing.TB, orgID, name string, kind eidas.Kind, roles ...eidas.Role) []byte {
	t.Helper()
	c, _ := ca.IssueWithKey(t, Cert{OrgID: orgID, Name: name, Kind: kind, Roles: roles})
	return c
}

// Cert describes a certificate for IssueWithKey.
type Cert struct {
	OrgID, Name string
	Kind        eidas.Kind
	Roles       []eidas.Role
	CRLURL      string // the CRL distribution point, when set
}

// IssueWithKey makes a QWAC or QSealC as Issue does, with a CRL
// distribution point when asked, and returns it and its key (PKCS#8) in PEM.
func (ca *CA) IssueWithKey(t testing.TB, c Cert) (certPEM, keyPEM []byte) {
	t.Helper()
	orgID, name, kind, roles := c.OrgID, c.Name, c.Kind, c.Roles
	o, err := eidas.ParseOrganizationID(orgID)
	if err != nil {
		t.Fatal(err)
	}
	var rs []roleOfPSP
	for _, r := range roles {
		rs = append(rs, roleOfPSP{OID: r.OID(), Name: string(r)})
	}
	info, err := asn1.Marshal(psd2QcType{Roles: rs, NCAName: "Polish Financial Supervision Authority", NCAID: o.NCAID()})
	if err != nil {
		t.Fatal(err)
	}
	qct := oidQcTypeWeb
	usage := x509.KeyUsageDigitalSignature
	var eku []x509.ExtKeyUsage
	if kind == eidas.KindQSealC {
		qct = oidQcTypeESeal
		usage |= x509.KeyUsageContentCommitment
	} else {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	}
	types, err := asn1.Marshal([]asn1.ObjectIdentifier{qct})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := asn1.Marshal([]qcStatement{
		{ID: oidQcCompliance},
		{ID: oidQcType, Info: asn1.RawValue{FullBytes: types}},
		{ID: oidPSD2Statement, Info: asn1.RawValue{FullBytes: info}},
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{CommonName: name, Organization: []string{name}, Country: []string{o.Country},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOrgID, Value: orgID}}},
		NotBefore:       ca.now.Add(-24 * time.Hour),
		NotAfter:        ca.now.Add(90 * 24 * time.Hour),
		KeyUsage:        usage,
		ExtKeyUsage:     eku,
		ExtraExtensions: []pkix.Extension{{Id: oidQCStatements, Value: ext}},
	}
	if c.CRLURL != "" {
		tmpl.CRLDistributionPoints = []string{c.CRLURL}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if eidas.IsSandbox(cert) {
		t.Fatal("tpptest: a production-like certificate is marked as sandbox")
	}
	return eidas.CertificatePEM(cert), encodeKey(t, key)
}

func encodeKey(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ServerCert makes a TLS server certificate for hosts (names or IP
// addresses) and returns it and its key in PEM.
func (ca *CA) ServerCert(t testing.TB, hosts ...string) (certPEM, keyPEMBytes []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: ca.now.Add(-24 * time.Hour), NotAfter: ca.now.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), encodeKey(t, key)
}

// CRL is the CA's (empty) certificate revocation list in DER, valid for a
// day from now.
func (ca *CA) CRL(t testing.TB, now time.Time) []byte {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(now.Unix()),
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(24 * time.Hour)}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Pair issues a QWAC and a QSealC for orgID with the given roles.
func (ca *CA) Pair(t testing.TB, orgID, name string, roles ...eidas.Role) (qwacPEM, qsealcPEM []byte) {
	t.Helper()
	return ca.Issue(t, orgID, name, eidas.KindQWAC, roles...), ca.Issue(t, orgID, name, eidas.KindQSealC, roles...)
}

// SandboxPair issues a QWAC and a QSealC for orgID from a new sandbox QTSP
// in a temporary directory.
func SandboxPair(t testing.TB, now time.Time, orgID, name string, roles ...eidas.Role) (qwacPEM, qsealcPEM []byte) {
	t.Helper()
	q, err := eidas.LoadOrCreateQTSP(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(kind eidas.Kind) []byte {
		c, _, err := q.Issue(eidas.IssueRequest{OrgID: orgID, Name: name, Roles: roles, Kind: kind,
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return issue(eidas.KindQWAC), issue(eidas.KindQSealC)
}

// Parse parses the first certificate of a PEM text.
func Parse(t testing.TB, pemBytes []byte) *x509.Certificate {
	t.Helper()
	certs, err := eidas.LoadCertificatesPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

// PDF is a tiny valid PDF document.
var PDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n" +
	"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n" +
	"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n")
