package eidas

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	q := testQTSP(t)
	other := newQTSP(t) // a different root: untrusted
	roots := x509.NewCertPool()
	roots.AddCert(q.Root())
	subj := psd2Subject(testOrgID, asn1.TagUTF8String)
	psd2 := psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")

	issued := func(edit func(*IssueRequest), kind Kind) func(t *testing.T) *x509.Certificate {
		return func(t *testing.T) *x509.Certificate {
			r := request(kind)
			if edit != nil {
				edit(&r)
			}
			return issue(t, q, r)
		}
	}
	tests := []struct {
		name     string
		cert     func(t *testing.T) *x509.Certificate
		want     Kind
		verifier func(v *Verifier)
		reason   Reason // "" for success
		contains string
	}{
		{name: "valid QWAC", cert: issued(nil, KindQWAC), want: KindQWAC},
		{name: "valid QSealC", cert: issued(nil, KindQSealC), want: KindQSealC},
		{name: "valid QWAC RSA", cert: issued(func(r *IssueRequest) { r.KeyType = "rsa" }, KindQWAC), want: KindQWAC},
		{
			name: "expired",
			cert: issued(func(r *IssueRequest) {
				r.NotBefore, r.NotAfter = t0.Add(-60*24*time.Hour), t0.Add(-30*24*time.Hour)
			}, KindQWAC),
			want:     KindQWAC,
			reason:   ReasonExpired,
			contains: "expired on 2026-01-31T10:00:00Z (it was valid from 2026-01-01T10:00:00Z; the time now is 2026-03-02T10:00:00Z)",
		},
		{
			name: "not yet valid",
			cert: issued(func(r *IssueRequest) {
				r.NotBefore, r.NotAfter = t0.Add(24*time.Hour), t0.Add(48*time.Hour)
			}, KindQSealC),
			want:     KindQSealC,
			reason:   ReasonNotYetValid,
			contains: "the signing certificate (serial",
		},
		{
			name:     "self-signed",
			cert:     issued(func(r *IssueRequest) { r.SelfSigned = true }, KindQWAC),
			want:     KindQWAC,
			reason:   ReasonSelfSigned,
			contains: "is self-signed",
		},
		{
			name:     "untrusted root",
			cert:     func(t *testing.T) *x509.Certificate { return issue(t, other, request(KindQWAC)) },
			want:     KindQWAC,
			reason:   ReasonUntrusted,
			contains: "does not chain to a trusted QTSP root",
		},
		{
			name:     "no roots configured",
			cert:     issued(nil, KindQWAC),
			want:     KindQWAC,
			verifier: func(v *Verifier) { v.Roots = nil },
			reason:   ReasonUntrusted,
			contains: "no QTSP root certificates are configured",
		},
		{
			name:     "QSealC where a QWAC is wanted",
			cert:     issued(nil, KindQSealC),
			want:     KindQWAC,
			reason:   ReasonWrongKind,
			contains: "the client certificate is a QSealC and is not a QWAC: it has QcType eseal (0.4.0.1862.1.6.2); a PSD2 QWAC is required (QcType web, 0.4.0.1862.1.6.3)",
		},
		{
			name:     "QWAC where a QSealC is wanted",
			cert:     issued(nil, KindQWAC),
			want:     KindQSealC,
			reason:   ReasonWrongKind,
			contains: "is not a QSealC",
		},
		{
			name: "no QcType",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(complianceStmt, psd2), x509.KeyUsageDigitalSignature)
			},
			want:     KindQWAC,
			reason:   ReasonWrongKind,
			contains: "it has no QcType",
		},
		{
			name:     "no PSD2 statement",
			cert:     issued(func(r *IssueRequest) { r.NoPSD2Statement = true }, KindQWAC),
			want:     KindQWAC,
			reason:   ReasonNoPSD2Statement,
			contains: "the client certificate has no PSD2 QC statement (ETSI TS 119 495, OID 0.4.0.19495.2); a PSD2 QWAC is required",
		},
		{
			name: "not qualified",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(webStmt, psd2), x509.KeyUsageDigitalSignature)
			},
			want:     KindQWAC,
			reason:   ReasonNotQualified,
			contains: "QcCompliance",
		},
		{
			name: "QWAC without digitalSignature",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(complianceStmt, webStmt, psd2), x509.KeyUsageKeyEncipherment)
			},
			want:     KindQWAC,
			reason:   ReasonKeyUsage,
			contains: "key usage (keyEncipherment) lacks digitalSignature",
		},
		{
			name: "QSealC with nonRepudiation only",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(complianceStmt, sealStmt, psd2), x509.KeyUsageContentCommitment)
			},
			want: KindQSealC,
		},
		{
			name: "QSealC with keyAgreement only",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(complianceStmt, sealStmt, psd2), x509.KeyUsageKeyAgreement)
			},
			want:     KindQSealC,
			reason:   ReasonKeyUsage,
			contains: "neither digitalSignature nor nonRepudiation",
		},
		{
			name:     "sandbox certificate refused in production",
			cert:     issued(nil, KindQWAC),
			want:     KindQWAC,
			verifier: func(v *Verifier) { v.RejectSandbox = true },
			reason:   ReasonSandbox,
			contains: "psd2bank sandbox QTSP",
		},
		{
			name:     "no certificate",
			cert:     func(*testing.T) *x509.Certificate { return nil },
			want:     KindQWAC,
			reason:   ReasonNoCertificate,
			contains: "no client certificate was presented",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Roots: roots, Clock: fixedClock(t0)}
			if tt.verifier != nil {
				tt.verifier(v)
			}
			var chain []*x509.Certificate
			if c := tt.cert(t); c != nil {
				chain = []*x509.Certificate{c}
			}
			info, err := v.Verify(t.Context(), chain, tt.want)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if info.Kind != tt.want || info.OrganizationID != testOrgID {
					t.Errorf("info = %+v", info)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want %s", tt.reason)
			}
			if info != nil {
				t.Errorf("Verify returned info with a %s error", ReasonOf(err))
			}
			if got := ReasonOf(err); got != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", got, tt.reason, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.contains)
			}
		})
	}
}

func TestVerifyMisconfigured(t *testing.T) {
	q := testQTSP(t)
	cert := issue(t, q, request(KindQWAC))
	if _, err := (&Verifier{}).Verify(t.Context(), []*x509.Certificate{cert}, KindQWAC); err == nil || ReasonOf(err) != "" {
		t.Errorf("Verify without a clock: %v", err)
	}
	v := &Verifier{Clock: fixedClock(t0)}
	if _, err := v.Verify(t.Context(), []*x509.Certificate{cert}, KindUnknown); err == nil {
		t.Error("Verify(KindUnknown) succeeded")
	}
}

// TestVerifyIntermediate checks that intermediates sent with the leaf, or
// configured on the Verifier, complete the chain.
func TestVerifyIntermediate(t *testing.T) {
	// The sandbox root allows no intermediates (pathLen 0): make a root here.
	rootKey, _ := generateKey("ec")
	serial, _ := randomSerial()
	rootTmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Test Root", Organization: []string{"Test QTSP"}},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)

	interKey, _ := generateKey("ec")
	serial, _ = randomSerial()
	interTmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Test Issuing CA", Organization: []string{"Test QTSP"}},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, interKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(interDER)

	leafKey, _ := generateKey("ec")
	qcs, _ := marshalQCStatements(true, []asn1.ObjectIdentifier{oidQcTypeWeb}, &psd2Statement{roles: []Role{RolePSPAI}, ncaName: knfName, ncaID: "PL-KNF"})
	serial, _ = randomSerial()
	leafTmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         psd2Subject(testOrgID, asn1.TagUTF8String),
		NotBefore:       t0.Add(-time.Hour),
		NotAfter:        t0.Add(time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidQCStatements, Value: qcs}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, inter, leafKey.Public(), interKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)

	roots := x509.NewCertPool()
	roots.AddCert(root)
	v := &Verifier{Roots: roots, Clock: fixedClock(t0)}
	if _, err := v.Verify(t.Context(), []*x509.Certificate{leaf}, KindQWAC); ReasonOf(err) != ReasonUntrusted {
		t.Errorf("without the intermediate: %v, want untrusted", err)
	}
	if _, err := v.Verify(t.Context(), []*x509.Certificate{leaf, inter}, KindQWAC); err != nil {
		t.Errorf("with the intermediate in the chain: %v", err)
	}
	v.Intermediates = x509.NewCertPool()
	v.Intermediates.AddCert(inter)
	if _, err := v.Verify(t.Context(), []*x509.Certificate{leaf}, KindQWAC); err != nil {
		t.Errorf("with the intermediate configured: %v", err)
	}
}

func TestVerifyRevocationWithQTSP(t *testing.T) {
	q := newQTSP(t)
	other := newQTSP(t)
	roots := x509.NewCertPool()
	roots.AddCert(q.Root())
	good := issue(t, q, request(KindQWAC))
	revoked := issue(t, q, request(KindQSealC))
	revokedAt := t0.Add(-2 * time.Hour)
	if err := q.Revoke(revoked.SerialNumber, revokedAt); err != nil {
		t.Fatal(err)
	}

	v := &Verifier{Roots: roots, Clock: fixedClock(t0), Revocation: q}
	if _, err := v.Verify(t.Context(), []*x509.Certificate{good}, KindQWAC); err != nil {
		t.Errorf("good certificate: %v", err)
	}
	info, err := v.Verify(t.Context(), []*x509.Certificate{revoked}, KindQSealC)
	if ReasonOf(err) != ReasonRevoked || info != nil {
		t.Fatalf("revoked certificate: %v, %v", info, err)
	}
	if !strings.Contains(err.Error(), "revoked by its issuer on 2026-03-02T08:00:00Z") {
		t.Errorf("error lacks the revocation date: %v", err)
	}

	// A checker that cannot answer: the info comes back with the error so
	// that the caller may soft-fail.
	v.Revocation = other
	info, err = v.Verify(t.Context(), []*x509.Certificate{good}, KindQWAC)
	if ReasonOf(err) != ReasonRevocationUnknown || info == nil || info.OrganizationID != testOrgID {
		t.Errorf("unknown status: %+v, %v", info, err)
	}
}
