package eidas

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The seed corpora are in testdata/fuzz/<Target>/; `go test` runs them as
// regression tests. Regenerate them with
//
//	EIDAS_WRITE_CORPUS=1 go test -run TestWriteFuzzCorpus ./internal/eidas/

// FuzzParseQCStatements feeds raw qcStatements extension values to the
// parser. What it accepts must survive a re-encoding unchanged.
func FuzzParseQCStatements(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		qcs, err := parseQCStatements(b)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if qcs.hasQcType != (len(qcs.types) > 0) {
			t.Fatalf("hasQcType %v with %d types", qcs.hasQcType, len(qcs.types))
		}
		if p := qcs.psd2; p != nil {
			if len(p.roles) == 0 || !validNCAID(p.ncaID) || p.ncaName == "" {
				t.Fatalf("accepted a bad PSD2 statement: %+v", p)
			}
			for _, r := range p.roles {
				if !r.Valid() {
					t.Fatalf("accepted role %q", r)
				}
			}
		}
		again, err := marshalQCStatements(qcs.compliance, qcs.types, qcs.psd2)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		qcs2, err := parseQCStatements(again)
		if err != nil {
			t.Fatalf("re-encoded statements do not parse: %v", err)
		}
		if qcs2.compliance != qcs.compliance || !slices.EqualFunc(qcs2.types, qcs.types, asn1.ObjectIdentifier.Equal) ||
			(qcs.psd2 == nil) != (qcs2.psd2 == nil) ||
			(qcs.psd2 != nil && (!slices.Equal(qcs.psd2.roles, qcs2.psd2.roles) || qcs.psd2.ncaName != qcs2.psd2.ncaName || qcs.psd2.ncaID != qcs2.psd2.ncaID)) {
			t.Fatalf("round trip changed the statements: %+v -> %+v", qcs, qcs2)
		}
	})
}

// FuzzParseCertificate feeds DER certificates through x509.ParseCertificate,
// Parse and Verify, which must never panic.
func FuzzParseCertificate(f *testing.F) {
	q, err := LoadOrCreateQTSP(f.TempDir(), t0)
	if err != nil {
		f.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(q.Root())
	v := &Verifier{Roots: roots, Clock: fixedClock(t0), Revocation: q, RejectSandbox: false}
	f.Fuzz(func(t *testing.T, b []byte) {
		cert, err := x509.ParseCertificate(b)
		if err != nil {
			return
		}
		info, err := Parse(cert)
		if err == nil {
			if len(info.Roles) == 0 || len(info.FingerprintS256) != 43 || info.NCAID == "" {
				t.Fatalf("bad info %+v", info)
			}
			if _, err := ParseOrganizationID(info.OrganizationID); err != nil {
				t.Fatalf("accepted organizationIdentifier %q: %v", info.OrganizationID, err)
			}
		} else if ReasonOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
		IsSandbox(cert)
		for _, k := range []Kind{KindQWAC, KindQSealC} {
			if _, err := v.Verify(t.Context(), []*x509.Certificate{cert, cert}, k); err != nil && ReasonOf(err) == "" {
				t.Fatalf("Verify: untyped error %v", err)
			}
		}
	})
}

// FuzzOrganizationID checks that an accepted identifier prints back as
// given and normalizes stably.
func FuzzOrganizationID(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrganizationID(s)
		if err != nil {
			if ReasonOf(err) != ReasonBadOrgID {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		if o.String() != s {
			t.Fatalf("String() = %q, want %q", o.String(), s)
		}
		n := o.Normalized()
		if o2, err := ParseOrganizationID(n); err == nil && o2.Normalized() != n {
			t.Fatalf("Normalized not stable: %q -> %q", n, o2.Normalized())
		}
	})
}

// TestWriteFuzzCorpus regenerates the checked-in seed corpora.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("EIDAS_WRITE_CORPUS") == "" {
		t.Skip("set EIDAS_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	write := func(target, name string, value any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var line string
		switch v := value.(type) {
		case []byte:
			line = fmt.Sprintf("[]byte(%q)", v)
		case string:
			line = fmt.Sprintf("string(%q)", v)
		}
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte("go test fuzz v1\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	psd2 := psd2Stmt([][]byte{aiRole, role(oidRolePSPPI, "PSP_PI")}, knfName, "PL-KNF")
	qc := map[string][]byte{
		"qwac":          seq(complianceStmt, webStmt, psd2),
		"qsealc":        seq(complianceStmt, sealStmt, psd2),
		"no-psd2":       seq(complianceStmt, webStmt),
		"role-mismatch": seq(complianceStmt, webStmt, psd2Stmt([][]byte{role(oidRolePSPAI, "PSP_PI")}, knfName, "PL-KNF")),
		"flat-roles":    seq(seq(oidDER(oidPSD2Statement), seq(seq(oidDER(oidRolePSPAI), utf8s("PSP_AI")), utf8s(knfName), utf8s("PL-KNF")))),
		"trailing":      append(seq(complianceStmt, psd2), 0, 0),
		"printable":     seq(seq(oidDER(oidPSD2Statement), seq(seq(aiRole), printable(knfName), printable("PL-KNF")))),
		"empty":         seq(),
	}
	for name, b := range qc {
		write("FuzzParseQCStatements", name, b)
	}

	q := newQTSP(t)
	for name, req := range map[string]IssueRequest{
		"qwac":   request(KindQWAC),
		"qsealc": request(KindQSealC, RolePSPAS),
		"qwac-rsa-urls": func() IssueRequest {
			r := request(KindQWAC, RolePSPAI)
			r.KeyType, r.CRLURL, r.OCSPURL = "rsa", "http://127.0.0.1:1/crl", "http://127.0.0.1:1/ocsp"
			return r
		}(),
		"no-psd2": func() IssueRequest {
			r := request(KindQWAC)
			r.NoPSD2Statement = true
			return r
		}(),
		"self-signed": func() IssueRequest {
			r := request(KindQSealC)
			r.SelfSigned = true
			return r
		}(),
	} {
		write("FuzzParseCertificate", name, issue(t, q, req).Raw)
	}
	for _, name := range []string{"qwac", "qseal"} {
		b, err := os.ReadFile("testdata/openssl/" + name + ".pem")
		if err != nil {
			t.Fatal(err)
		}
		certs, err := LoadCertificatesPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzParseCertificate", "openssl-"+name, certs[0].Raw)
	}

	for i, s := range []string{"PSDPL-KNF-0000000000", "PSDPL-PFSA-IP12/2019", "PSDDE-BAFIN-123 45", "PSDPL-KNF-", "NTRPL-123", "PSDpl-KNF-1", "PSDPL-ABCDEFGHI-1", "PSDPL-KNF-\x00"} {
		write("FuzzOrganizationID", fmt.Sprint(i), s)
	}
}
