package eidas

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"sync"
	"testing"
	"time"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

const testOrgID = "PSDPL-KNF-0000000000"

// sharedQTSP is created once: key generation is not free on a shared
// machine. Tests that revoke or need their own files use newQTSP.
var (
	sharedOnce sync.Once
	sharedQ    *QTSP
	sharedErr  error
	sharedDir  string
)

func testQTSP(t *testing.T) *QTSP {
	t.Helper()
	sharedOnce.Do(func() {
		// Not t.TempDir: the QTSP outlives this test.
		dir, err := mkdirTemp()
		if err != nil {
			sharedErr = err
			return
		}
		sharedDir = dir
		sharedQ, sharedErr = LoadOrCreateQTSP(dir, t0)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedQ
}

func newQTSP(t *testing.T) *QTSP {
	t.Helper()
	q, err := LoadOrCreateQTSP(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// request returns a valid IssueRequest for the demo organisation.
func request(kind Kind, roles ...Role) IssueRequest {
	if len(roles) == 0 {
		roles = []Role{RolePSPAI, RolePSPPI, RolePSPIC}
	}
	return IssueRequest{
		OrgID:     testOrgID,
		Name:      "Example TPP sp. z o.o.",
		Roles:     roles,
		Kind:      kind,
		NotBefore: t0.Add(-24 * time.Hour),
		NotAfter:  t0.Add(30 * 24 * time.Hour),
		DNSNames:  []string{"tpp.example.pl"},
	}
}

// issue issues a certificate and parses it back.
func issue(t *testing.T, q *QTSP, req IssueRequest) *x509.Certificate {
	t.Helper()
	certPEM, keyPEM, err := q.Issue(req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if _, err := LoadKeyPairPEM(certPEM, keyPEM); err != nil {
		t.Fatalf("LoadKeyPairPEM: %v", err)
	}
	certs, err := LoadCertificatesPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

// certWith issues a certificate from q's root with the given subject and
// extensions, for hand-built test cases.
func certWith(t *testing.T, q *QTSP, subject pkix.Name, exts []pkix.Extension, ku x509.KeyUsage) *x509.Certificate {
	t.Helper()
	key, err := generateKey("ec")
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := randomSerial()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(time.Hour),
		KeyUsage:              ku,
		BasicConstraintsValid: true,
		ExtraExtensions:       exts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, q.root, key.Public(), q.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// psd2Subject is a subject with the organizationIdentifier encoded with the
// given ASN.1 string tag.
func psd2Subject(orgID string, tag int) pkix.Name {
	v, err := asn1.Marshal(asn1.RawValue{Tag: tag, Bytes: []byte(orgID)})
	if err != nil {
		panic(err)
	}
	return pkix.Name{
		CommonName:   "tpp.example.pl",
		Organization: []string{"Example TPP"},
		Country:      []string{"PL"},
		ExtraNames:   []pkix.AttributeTypeAndValue{{Type: oidOrgID, Value: asn1.RawValue{FullBytes: v}}},
	}
}

// Hand-built ASN.1 for QC statements: der builds a TLV from parts.
func der(tag byte, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	out := []byte{tag}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

func seq(parts ...[]byte) []byte { return der(0x30, parts...) }
func utf8s(s string) []byte      { return der(0x0c, []byte(s)) }
func printable(s string) []byte  { return der(0x13, []byte(s)) }

func oidDER(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b
}

func role(oid asn1.ObjectIdentifier, name string) []byte { return seq(oidDER(oid), utf8s(name)) }

func psd2Stmt(roles [][]byte, ncaName, ncaID string) []byte {
	return seq(oidDER(oidPSD2Statement), seq(seq(roles...), utf8s(ncaName), utf8s(ncaID)))
}

var (
	complianceStmt = seq(oidDER(oidQcCompliance))
	webStmt        = seq(oidDER(oidQcType), seq(oidDER(oidQcTypeWeb)))
	sealStmt       = seq(oidDER(oidQcType), seq(oidDER(oidQcTypeESeal)))
	aiRole         = role(oidRolePSPAI, "PSP_AI")
	knfName        = "Polish Financial Supervision Authority"
)

func qcExt(stmts ...[]byte) []pkix.Extension {
	return []pkix.Extension{{Id: oidQCStatements, Value: seq(stmts...)}}
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "eidas-qtsp-*") }

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}
