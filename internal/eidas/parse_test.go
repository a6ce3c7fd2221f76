package eidas

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIssueAndParse(t *testing.T) {
	q := testQTSP(t)
	tests := []struct {
		name    string
		req     IssueRequest
		want    Info // the fields compared
		wantKU  x509.KeyUsage
		wantEKU []x509.ExtKeyUsage
	}{
		{
			name:    "QWAC AI+PI+IC ec",
			req:     request(KindQWAC),
			want:    Info{Kind: KindQWAC, Roles: []Role{RolePSPAI, RolePSPPI, RolePSPIC}},
			wantKU:  x509.KeyUsageDigitalSignature,
			wantEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		},
		{
			name: "QWAC AI rsa",
			req: func() IssueRequest {
				r := request(KindQWAC, RolePSPAI)
				r.KeyType = "rsa"
				return r
			}(),
			want:    Info{Kind: KindQWAC, Roles: []Role{RolePSPAI}},
			wantKU:  x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			wantEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		},
		{
			name:   "QSealC PI",
			req:    request(KindQSealC, RolePSPPI),
			want:   Info{Kind: KindQSealC, Roles: []Role{RolePSPPI}},
			wantKU: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		},
		{
			name: "QSealC AS rsa, bank seal",
			req: func() IssueRequest {
				r := request(KindQSealC, RolePSPAS)
				r.KeyType = "rsa"
				r.OrgID = "PSDPL-KNF-5250007738"
				r.Name = "psd2bank S.A."
				return r
			}(),
			want:   Info{Kind: KindQSealC, Roles: []Role{RolePSPAS}, OrganizationID: "PSDPL-KNF-5250007738", OrganizationName: "psd2bank S.A."},
			wantKU: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		},
		{
			name:    "QWAC IC duplicates dropped",
			req:     request(KindQWAC, RolePSPIC, RolePSPIC),
			want:    Info{Kind: KindQWAC, Roles: []Role{RolePSPIC}},
			wantKU:  x509.KeyUsageDigitalSignature,
			wantEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		},
		{
			name: "QWAC German NCA",
			req: func() IssueRequest {
				r := request(KindQWAC, RolePSPAI)
				r.OrgID = "PSDDE-BAFIN-123456"
				return r
			}(),
			want:    Info{Kind: KindQWAC, Roles: []Role{RolePSPAI}, OrganizationID: "PSDDE-BAFIN-123456", NCAID: "DE-BAFIN", NCAName: "Federal Financial Supervisory Authority", Country: "DE"},
			wantKU:  x509.KeyUsageDigitalSignature,
			wantEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := issue(t, q, tt.req)
			info, err := Parse(cert)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.want
			if want.OrganizationID == "" {
				want.OrganizationID = testOrgID
			}
			if want.OrganizationName == "" {
				want.OrganizationName = "Example TPP sp. z o.o."
			}
			if want.NCAID == "" {
				want.NCAID, want.NCAName = "PL-KNF", "Polish Financial Supervision Authority"
			}
			if want.Country == "" {
				want.Country = "PL"
			}
			if info.OrganizationID != want.OrganizationID || info.OrganizationName != want.OrganizationName ||
				info.Country != want.Country || info.NCAID != want.NCAID || info.NCAName != want.NCAName ||
				info.Kind != want.Kind || !slices.Equal(info.Roles, want.Roles) || !info.QCCompliance {
				t.Errorf("Parse = %+v, want %+v", info, want)
			}
			if len(info.Types) != 1 || !info.Types[0].Equal(want.Kind.QcType()) {
				t.Errorf("Types = %v", info.Types)
			}
			if info.SerialHex != cert.SerialNumber.Text(16) {
				t.Errorf("SerialHex = %q", info.SerialHex)
			}
			if info.FingerprintS256 != Fingerprint(cert) || len(info.FingerprintS256) != 43 {
				t.Errorf("FingerprintS256 = %q", info.FingerprintS256)
			}
			for _, r := range want.Roles {
				if !info.HasRole(r) {
					t.Errorf("HasRole(%s) = false", r)
				}
			}
			if cert.KeyUsage != tt.wantKU {
				t.Errorf("KeyUsage = %s, want %s", describeKeyUsage(cert.KeyUsage), describeKeyUsage(tt.wantKU))
			}
			if !slices.Equal(cert.ExtKeyUsage, tt.wantEKU) {
				t.Errorf("ExtKeyUsage = %v, want %v", cert.ExtKeyUsage, tt.wantEKU)
			}
			if cert.Subject.CommonName != "tpp.example.pl" || !slices.Equal(cert.DNSNames, []string{"tpp.example.pl"}) {
				t.Errorf("CN %q, DNS %v", cert.Subject.CommonName, cert.DNSNames)
			}
			if cert.IsCA {
				t.Error("leaf is a CA")
			}
			if !IsSandbox(cert) {
				t.Error("IsSandbox = false for a sandbox leaf")
			}
			assertOrgIDTag(t, cert, asn1.TagUTF8String)
		})
	}
}

// assertOrgIDTag checks the ASN.1 string type of the organizationIdentifier
// in the raw subject.
func assertOrgIDTag(t *testing.T, cert *x509.Certificate, tag int) {
	t.Helper()
	type atv struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	type rdnSET []atv
	var rdns []rdnSET
	if _, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil {
		t.Fatal(err)
	}
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if atv.Type.Equal(oidOrgID) {
				if atv.Value.Tag != tag {
					t.Errorf("organizationIdentifier has tag %d, want %d", atv.Value.Tag, tag)
				}
				return
			}
		}
	}
	t.Error("no organizationIdentifier in the raw subject")
}

func TestIssueRequestErrors(t *testing.T) {
	q := testQTSP(t)
	tests := []struct {
		name string
		edit func(*IssueRequest)
		want string
	}{
		{"no kind", func(r *IssueRequest) { r.Kind = KindUnknown }, "Kind"},
		{"bad org id", func(r *IssueRequest) { r.OrgID = "VATPL-123" }, "OrgID"},
		{"no name", func(r *IssueRequest) { r.Name = "" }, "Name"},
		{"no roles", func(r *IssueRequest) { r.Roles = nil }, "Roles"},
		{"bad role", func(r *IssueRequest) { r.Roles = []Role{"PSP_XX"} }, "PSP_XX"},
		{"no dates", func(r *IssueRequest) { r.NotBefore = time.Time{} }, "NotBefore"},
		{"dates reversed", func(r *IssueRequest) { r.NotAfter = r.NotBefore.Add(-time.Hour) }, "after"},
		{"unknown NCA", func(r *IssueRequest) { r.OrgID = "PSDXX-ABC-1" }, "NCAName"},
		{"bad key type", func(r *IssueRequest) { r.KeyType = "dsa" }, "key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(KindQWAC)
			tt.edit(&req)
			_, _, err := q.Issue(req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Issue error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	q := testQTSP(t)
	subj := psd2Subject(testOrgID, asn1.TagUTF8String)
	ku := x509.KeyUsageDigitalSignature
	tests := []struct {
		name     string
		cert     func(t *testing.T) *x509.Certificate
		reason   Reason
		contains string
	}{
		{
			name: "no PSD2 statement (issued)",
			cert: func(t *testing.T) *x509.Certificate {
				r := request(KindQWAC)
				r.NoPSD2Statement = true
				return issue(t, q, r)
			},
			reason:   ReasonNoPSD2Statement,
			contains: "has no PSD2 QC statement (ETSI TS 119 495, OID 0.4.0.19495.2)",
		},
		{
			name:     "no qcStatements extension",
			cert:     func(t *testing.T) *x509.Certificate { return certWith(t, q, subj, nil, ku) },
			reason:   ReasonNoPSD2Statement,
			contains: "no qcStatements extension",
		},
		{
			name: "role name and OID disagree",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(complianceStmt, webStmt,
					psd2Stmt([][]byte{role(oidRolePSPAI, "PSP_PI")}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonRoleMismatch,
			contains: `names role OID 0.4.0.19495.1.3 "PSP_PI", but that OID is PSP_AI`,
		},
		{
			name: "unknown role OID",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(psd2Stmt([][]byte{role(asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 9}, "PSP_XX")}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "unknown role OID 0.4.0.19495.1.9",
		},
		{
			name: "role Unspecified",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(psd2Stmt([][]byte{role(oidRoleUnspecified, "Unspecified")}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "outside PSD2",
		},
		{
			name: "no roles",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(psd2Stmt(nil, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "empty",
		},
		{
			name: "flat roles (creditkudos encoding)",
			cert: func(t *testing.T) *x509.Certificate {
				flat := seq(oidDER(oidPSD2Statement), seq(seq(oidDER(oidRolePSPAI), utf8s("PSP_AI")), utf8s(knfName), utf8s("PL-KNF")))
				return certWith(t, q, subj, qcExt(flat), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "flat list",
		},
		{
			name: "trailing bytes after the statements",
			cert: func(t *testing.T) *x509.Certificate {
				v := append(seq(complianceStmt, psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), 0x05, 0x00)
				return certWith(t, q, subj, []pkix.Extension{{Id: oidQCStatements, Value: v}}, ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "trailing",
		},
		{
			name: "extra element in the PSD2 statement",
			cert: func(t *testing.T) *x509.Certificate {
				st := seq(oidDER(oidPSD2Statement), seq(seq(aiRole), utf8s(knfName), utf8s("PL-KNF"), utf8s("extra")))
				return certWith(t, q, subj, qcExt(st), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "4 elements",
		},
		{
			name: "bad NCA id",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(psd2Stmt([][]byte{aiRole}, knfName, "Poland")), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: `nCAId "Poland"`,
		},
		{
			name: "two PSD2 statements",
			cert: func(t *testing.T) *x509.Certificate {
				p := psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")
				return certWith(t, q, subj, qcExt(p, p), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "more than once",
		},
		{
			name: "QcType not a list of OIDs",
			cert: func(t *testing.T) *x509.Certificate {
				bad := seq(oidDER(oidQcType), oidDER(oidQcTypeWeb))
				return certWith(t, q, subj, qcExt(bad, psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "QcType",
		},
		{
			name: "NCA name as BMPString",
			cert: func(t *testing.T) *x509.Certificate {
				st := seq(oidDER(oidPSD2Statement), seq(seq(aiRole), der(0x1e, []byte{0, 'K'}), utf8s("PL-KNF")))
				return certWith(t, q, subj, qcExt(st), ku)
			},
			reason:   ReasonBadQCStatement,
			contains: "nCAName",
		},
		{
			name: "no organizationIdentifier",
			cert: func(t *testing.T) *x509.Certificate {
				s := subj
				s.ExtraNames = nil
				return certWith(t, q, s, qcExt(psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadOrgID,
			contains: "has no organizationIdentifier",
		},
		{
			name: "organizationIdentifier not PSD",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, psd2Subject("VATPL-5250007738", asn1.TagUTF8String), qcExt(psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
			},
			reason:   ReasonBadOrgID,
			contains: `"VATPL-5250007738" is not a PSD2 identifier`,
		},
		{
			name: "organizationIdentifier NCA differs from statement",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, subj, qcExt(psd2Stmt([][]byte{aiRole}, "Federal Financial Supervisory Authority", "DE-BAFIN")), ku)
			},
			reason:   ReasonBadOrgID,
			contains: "names the NCA PL-KNF, but its PSD2 QC statement names the NCA DE-BAFIN",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Parse(tt.cert(t))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", info)
			}
			if got := ReasonOf(err); got != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", got, tt.reason, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if !errors.Is(err, &Error{Reason: tt.reason}) {
				t.Errorf("errors.Is(err, Reason %s) = false", tt.reason)
			}
		})
	}
}

// TestParseLenient covers encodings outside the letter of the standard that
// real certificates use and that carry no ambiguity.
func TestParseLenient(t *testing.T) {
	q := testQTSP(t)
	ku := x509.KeyUsageDigitalSignature
	tests := []struct {
		name string
		cert func(t *testing.T) *x509.Certificate
		want Info
	}{
		{
			name: "PrintableString organizationIdentifier (Go and OpenSSL default)",
			cert: func(t *testing.T) *x509.Certificate {
				c := certWith(t, q, psd2Subject("PSDPL-KNF-IP12/2019", asn1.TagPrintableString),
					qcExt(complianceStmt, webStmt, psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
				assertOrgIDTag(t, c, asn1.TagPrintableString)
				return c
			},
			want: Info{OrganizationID: "PSDPL-KNF-IP12/2019", Kind: KindQWAC, Roles: []Role{RolePSPAI}, NCAID: "PL-KNF"},
		},
		{
			name: "PrintableString NCA name and id",
			cert: func(t *testing.T) *x509.Certificate {
				st := seq(oidDER(oidPSD2Statement), seq(seq(seq(oidDER(oidRolePSPPI), utf8s("PSP_PI"))), printable(knfName), printable("PL-KNF")))
				return certWith(t, q, psd2Subject(testOrgID, asn1.TagUTF8String), qcExt(complianceStmt, sealStmt, st), ku)
			},
			want: Info{OrganizationID: testOrgID, Kind: KindQSealC, Roles: []Role{RolePSPPI}, NCAID: "PL-KNF"},
		},
		{
			name: "PFSA alias in the organizationIdentifier, KNF in the statement",
			cert: func(t *testing.T) *x509.Certificate {
				return certWith(t, q, psd2Subject("PSDPL-PFSA-123", asn1.TagUTF8String),
					qcExt(complianceStmt, webStmt, psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
			},
			want: Info{OrganizationID: "PSDPL-PFSA-123", Kind: KindQWAC, Roles: []Role{RolePSPAI}, NCAID: "PL-KNF"},
		},
		{
			name: "unknown statements are skipped; no QcType means unknown kind",
			cert: func(t *testing.T) *x509.Certificate {
				pds := seq(oidDER(asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 5}), seq(seq(der(0x16, []byte("https://qtsp.example/pds")), printable("en"))))
				return certWith(t, q, psd2Subject(testOrgID, asn1.TagUTF8String),
					qcExt(pds, psd2Stmt([][]byte{aiRole}, knfName, "PL-KNF")), ku)
			},
			want: Info{OrganizationID: testOrgID, Kind: KindUnknown, Roles: []Role{RolePSPAI}, NCAID: "PL-KNF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Parse(tt.cert(t))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if info.OrganizationID != tt.want.OrganizationID || info.Kind != tt.want.Kind ||
				!slices.Equal(info.Roles, tt.want.Roles) || info.NCAID != tt.want.NCAID {
				t.Errorf("Parse = %+v, want %+v", info, tt.want)
			}
		})
	}
}

// TestOpenSSLCertificates parses and verifies certificates made by OpenSSL
// 3.0 from the configuration in the security reference (testdata/openssl,
// regenerate with gen.sh): the QWAC's organizationIdentifier is a
// UTF8String, the QSealC's a PrintableString, and the NCA is "PL-PFSA".
func TestOpenSSLCertificates(t *testing.T) {
	load := func(name string) *x509.Certificate {
		b, err := os.ReadFile("testdata/openssl/" + name)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := LoadCertificatesPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	root := load("ca.pem")
	roots := x509.NewCertPool()
	roots.AddCert(root)
	tests := []struct {
		file  string
		kind  Kind
		roles []Role
		tag   int
	}{
		{"qwac.pem", KindQWAC, []Role{RolePSPAI, RolePSPPI}, asn1.TagUTF8String},
		{"qseal.pem", KindQSealC, []Role{RolePSPAI}, asn1.TagPrintableString},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cert := load(tt.file)
			assertOrgIDTag(t, cert, tt.tag)
			v := &Verifier{Roots: roots, Clock: fixedClock(cert.NotBefore.Add(24 * time.Hour))}
			info, err := v.Verify(t.Context(), []*x509.Certificate{cert}, tt.kind)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if info.OrganizationID != "PSDPL-PFSA-IP12/2019" || info.NCAID != "PL-PFSA" ||
				info.Kind != tt.kind || !slices.Equal(info.Roles, tt.roles) || info.OrganizationName != "Example TPP sp. z o.o." {
				t.Errorf("info = %+v", info)
			}
			if got := info.OrgID().Normalized(); got != "PSDPL-KNF-IP122019" {
				t.Errorf("Normalized = %q", got)
			}
			if IsSandbox(cert) {
				t.Error("IsSandbox = true for an OpenSSL certificate")
			}
		})
	}
}

func TestParseOrganizationID(t *testing.T) {
	tests := []struct {
		in         string
		want       OrganizationID
		normalized string
		ok         bool
	}{
		{"PSDPL-KNF-0000000000", OrganizationID{"PL", "KNF", "0000000000"}, "PSDPL-KNF-0000000000", true},
		{"PSDPL-PFSA-IP12/2019", OrganizationID{"PL", "PFSA", "IP12/2019"}, "PSDPL-KNF-IP122019", true},
		{"PSDPL-PFSA-525 000 77-38", OrganizationID{"PL", "PFSA", "525 000 77-38"}, "PSDPL-KNF-5250007738", true},
		{"PSDDE-BAFIN-123-45", OrganizationID{"DE", "BAFIN", "123-45"}, "PSDDE-BAFIN-12345", true},
		{"PSDFI-FINFSA-ab.c", OrganizationID{"FI", "FINFSA", "ab.c"}, "PSDFI-FINFSA-ABC", true},
		{"PSDPL-KNF-", OrganizationID{}, "", false},
		{"PSDPL-KNF", OrganizationID{}, "", false},
		{"PSDpl-KNF-1", OrganizationID{}, "", false},
		{"PSDPL-K-1", OrganizationID{}, "", false},
		{"PSDPL-ABCDEFGHI-1", OrganizationID{}, "", false},
		{"PSDPL-KN1-1", OrganizationID{}, "", false},
		{"NTRPL-0000012345", OrganizationID{}, "", false},
		{"PSD-PL-KNF-1", OrganizationID{}, "", false},
		{"PSDPL-KNF-1\n2", OrganizationID{}, "", false},
		{"PSDPL-KNF-\xff", OrganizationID{}, "", false},
		{"", OrganizationID{}, "", false},
	}
	for _, tt := range tests {
		got, err := ParseOrganizationID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseOrganizationID(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			if ReasonOf(err) != ReasonBadOrgID {
				t.Errorf("ParseOrganizationID(%q) reason = %q", tt.in, ReasonOf(err))
			}
			continue
		}
		if got != tt.want || got.String() != tt.in || got.Normalized() != tt.normalized {
			t.Errorf("ParseOrganizationID(%q) = %+v (%q, %q), want %+v (%q)", tt.in, got, got.String(), got.Normalized(), tt.want, tt.normalized)
		}
	}
}

func TestRoles(t *testing.T) {
	for i, r := range Roles() {
		want := asn1.ObjectIdentifier{0, 4, 0, 19495, 1, i + 1}
		if !r.OID().Equal(want) {
			t.Errorf("%s.OID() = %v, want %v", r, r.OID(), want)
		}
		if got, ok := RoleForOID(want); !ok || got != r {
			t.Errorf("RoleForOID(%v) = %q, %v", want, got, ok)
		}
	}
	got, err := ParseRoles("PSP_AI, pi,PSP_AI,psp_ic")
	if err != nil || !slices.Equal(got, []Role{RolePSPAI, RolePSPPI, RolePSPIC}) {
		t.Errorf("ParseRoles = %v, %v", got, err)
	}
	for _, bad := range []string{"", "PSP_XX", ",", "AI,XX"} {
		if _, err := ParseRoles(bad); err == nil {
			t.Errorf("ParseRoles(%q) succeeded", bad)
		}
	}
	if Role("PSP_XX").Valid() || Role("").OID() != nil {
		t.Error("unknown role reported valid")
	}
}

func TestReasonOf(t *testing.T) {
	if ReasonOf(nil) != "" || ReasonOf(errors.New("x")) != "" {
		t.Error("ReasonOf of a non-eidas error is not empty")
	}
	err := fmtWrap(newError(ReasonExpired, "expired"))
	if ReasonOf(err) != ReasonExpired {
		t.Errorf("ReasonOf(wrapped) = %q", ReasonOf(err))
	}
	cause := errors.New("cause")
	if e := wrapError(ReasonUntrusted, cause, "d"); !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }
