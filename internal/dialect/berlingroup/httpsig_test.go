package berlingroup

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x1f2e3d), Subject: pkix.Name{CommonName: "TPP", Organization: []string{"Example"}, Country: []string{"PL"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A request signed with SignRequest verifies; any change to a signed
// header, the body or the key does not.
func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, key := range map[string]crypto.Signer{"ecdsa": ec, "rsa": rs} {
		cert := selfSigned(t, key)
		body := []byte(`{"a":1}`)
		r := httptest.NewRequest("POST", "/berlingroup/v1/consents", nil)
		r.Header.Set("X-Request-ID", "99391c7e-ad88-49ec-a2ad-99ddcb1f7721")
		r.Header.Set("TPP-Redirect-URI", "https://tpp.example/cb")
		if err := SignRequest(r, body, key, cert); err != nil {
			t.Fatal(err)
		}
		p, err := parseSignature(r.Header.Get("Signature"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(p.Headers, " ") != "digest x-request-id tpp-redirect-uri" {
			t.Fatalf("%s: signed %v", name, p.Headers)
		}
		if !keyIDMatches(p.KeyID, cert) {
			t.Fatalf("%s: keyId %q does not match its certificate", name, p.KeyID)
		}
		verify := func(r *http.Request, body []byte) error {
			if err := checkDigest(r.Header.Get("Digest"), body); err != nil {
				return err
			}
			msg, err := signingString(p.Headers, r.Header, r.Method, r.URL.RequestURI())
			if err != nil {
				return err
			}
			return verifyWith(p.Algorithm, cert, msg, p.Signature)
		}
		if err := verify(r, body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if verify(r, []byte(`{"a":2}`)) == nil {
			t.Fatalf("%s: another body passed", name)
		}
		r2 := r.Clone(r.Context())
		r2.Header.Set("TPP-Redirect-URI", "https://evil.example/cb")
		if verify(r2, body) == nil {
			t.Fatalf("%s: a changed redirect passed", name)
		}
		other := selfSigned(t, ec)
		if name == "rsa" && verifyWith(p.Algorithm, other, "x", p.Signature) == nil {
			t.Fatal("another key passed")
		}
	}
}

func TestParseSignature(t *testing.T) {
	t.Parallel()
	good := `keyId="SN=1F2E3D,CA=CN=QTSP,O=Example,C=PL",algorithm="rsa-sha256",headers="digest x-request-id",signature="AAAA"`
	p, err := parseSignature(good)
	if err != nil || p.KeyID != "SN=1F2E3D,CA=CN=QTSP,O=Example,C=PL" || len(p.Headers) != 2 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{
		``,
		`keyId=SN=1,algorithm="rsa-sha256",headers="digest",signature="AAAA"`,
		`keyId="SN=1",algorithm="rsa-sha256",headers="digest"`,
		`keyId="SN=1",keyId="SN=2",algorithm="rsa-sha256",headers="digest",signature="AAAA"`,
		`keyId="SN=1",algorithm="rsa-sha256",headers="digest",signature="not base64!"`,
		`keyId="SN=1" algorithm="rsa-sha256"`,
		`keyId="SN=1,algorithm="rsa-sha256",headers="digest",signature="AAAA"`,
	} {
		if _, err := parseSignature(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := selfSigned(t, ec)
	dn := cert.Issuer.String()
	for _, ok := range []string{KeyID(cert), "SN=1f2e3d,CA=" + dn, "SN=" + big.NewInt(0x1f2e3d).String() + ",CA=" + dn,
		"SN=1F2E3D,CA=" + url.QueryEscape(dn), "SN=1F2E3D,CA=" + strings.ReplaceAll(dn, ",", ", ")} {
		if !keyIDMatches(ok, cert) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"SN=1F2E3E,CA=" + dn, "SN=1F2E3D,CA=CN=Other", "1F2E3D," + dn, "SN=1F2E3D"} {
		if keyIDMatches(bad, cert) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	body := []byte("hello")
	if err := checkDigest(Digest(body), body); err != nil {
		t.Fatal(err)
	}
	if checkDigest(Digest(body), []byte("hellO")) == nil {
		t.Fatal("another body passed")
	}
	if checkDigest("MD5=XUFAKrxLKna5cZ2REBfFkg==", body) == nil {
		t.Fatal("MD5 alone passed")
	}
	sha512 := "SHA-512=m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw=="
	if err := checkDigest(sha512, body); err != nil {
		t.Fatal(err)
	}
	if checkDigest(Digest(body)+", "+strings.Replace(sha512, "m3", "n3", 1), body) == nil {
		t.Fatal("one wrong digest of two passed")
	}
}

func TestIBAN(t *testing.T) {
	t.Parallel()
	if nrb, ok := nrbOf("PL61 1090 1014 0000 0712 1981 2874"); !ok || nrb != "61109010140000071219812874" {
		t.Fatalf("%q %v", nrb, ok)
	}
	for _, bad := range []string{"PL62109010140000071219812874", "DE89370400440532013000", "PL6110901014000007121981287", ""} {
		if _, ok := nrbOf(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
