package jws

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseHeader checks that ParseHeader never panics, that every error is
// an *Error with a reason and a message, and that whatever it accepts keeps
// the promises of Header. Seeds: testdata/fuzz/FuzzParseHeader.
func FuzzParseHeader(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9..AAAA")
	f.Add("eyJhbGciOiJub25lIn0..")
	f.Fuzz(func(t *testing.T, compact string) {
		h, err := ParseHeader(compact)
		if err != nil {
			if ReasonOf(err) == "" || err.Error() == "" {
				t.Fatalf("error without reason or message: %#v", err)
			}
			return
		}
		if h.Alg != RS256 && h.Alg != PS256 && h.Alg != ES256 {
			t.Fatalf("accepted alg %q", h.Alg)
		}
		if (h.B64 != nil) != (len(h.Crit) > 0) || h.B64 != nil && *h.B64 || len(h.Crit) > 1 || len(h.Crit) == 1 && h.Crit[0] != "b64" {
			t.Fatalf("accepted b64 = %v with crit = %q", h.B64, h.Crit)
		}
		if len(h.X5C) > 0 && h.X5TS256 != "" && h.X5TS256 != ThumbprintS256(h.X5C[0]) {
			t.Fatal("accepted x5c and x5t#S256 that disagree")
		}
		if !json.Valid(h.Raw) || !utf8.Valid(h.Raw) {
			t.Fatalf("accepted a header that is not JSON: %q", h.Raw)
		}
		if parts := strings.Split(compact, "."); len(parts) != 3 || h.Attached != (parts[1] != "") {
			t.Fatalf("accepted %d parts, Attached = %v", len(parts), h.Attached)
		}
	})
}

// fuzzCerts are the certificates FuzzVerifyDetached checks against. Their
// private keys were destroyed after they were made, so no input can carry a
// valid signature by them.
func fuzzCerts(tb testing.TB) []*x509.Certificate {
	return []*x509.Certificate{loadCert(tb, "testdata/fuzz-p256-cert.pem"), loadCert(tb, "testdata/fuzz-rsa-cert.pem")}
}

// FuzzVerifyDetached checks that random compact strings and payloads never
// panic and never verify against certificates whose keys nobody has, and
// that VerifyDetached refuses whatever ParseHeader refuses, for the same
// reason. Seeds (testdata/fuzz/FuzzVerifyDetached) are well-formed JWSs
// naming those certificates by x5c or x5t#S256, signed by other keys.
func FuzzVerifyDetached(f *testing.F) {
	certs := fuzzCerts(f)
	f.Add("eyJhbGciOiJFUzI1NiJ9..AAAA", []byte("{}"))
	f.Fuzz(func(t *testing.T, compact string, payload []byte) {
		_, parseErr := ParseHeader(compact)
		for _, cert := range certs {
			h, err := VerifyDetached(compact, payload, cert)
			if err == nil {
				t.Fatalf("verified against %s: %s", describe(cert), h.Raw)
			}
			if ReasonOf(err) == "" || err.Error() == "" {
				t.Fatalf("error without reason or message: %#v", err)
			}
			if parseErr != nil && ReasonOf(err) != ReasonOf(parseErr) {
				t.Fatalf("ParseHeader refused (%v) but VerifyDetached says %v", parseErr, err)
			}
		}
	})
}

// FuzzMBankPayload checks that the hand-written JSON.stringify escaping always
// yields valid JSON that decodes back to the request's uri, header value
// and body.
func FuzzMBankPayload(f *testing.F) {
	f.Add("/pl-retail/v3/accounts?x=1", "Bearer x", []byte(`{"a":"ż\"\\<>&`+"\u2028\x00\x7f"+`"}`))
	f.Add("", "", []byte{})
	f.Add("/\xff", "\xe2\x82", []byte("\xed\xa0\x80"))
	f.Fuzz(func(t *testing.T, uri, value string, body []byte) {
		h := http.Header{"Tpp-Id": {value}, "Psu-Ip-Address": {value, uri}}
		out := MBankPayload(uri, h, body)
		var got struct {
			URI     string `json:"uri"`
			Headers struct {
				TPPID        string   `json:"tpp-id"`
				PSUIPAddress []string `json:"psu-ip-address"`
			} `json:"headers"`
			Body string `json:"body"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("MBankPayload wrote invalid JSON %q: %v", out, err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("MBankPayload wrote invalid UTF-8 %q", out)
		}
		if utf8.ValidString(uri) && utf8.ValidString(value) && utf8.Valid(body) &&
			(got.URI != uri || got.Headers.TPPID != value || !slices.Equal(got.Headers.PSUIPAddress, []string{value, uri}) || got.Body != string(body)) {
			t.Fatalf("MBankPayload(%q, %q, %q) = %s decodes to %+v", uri, value, body, out, got)
		}
	})
}
