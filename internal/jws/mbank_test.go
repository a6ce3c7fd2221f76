package jws

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
)

func loadCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// header builds a request header as net/http's server does (canonical
// names, repeated headers kept in order).
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

const (
	vecToken     = "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln"
	vecClientID  = "3f2b8c1e-6d4a-4b7e-9c2f-5a1d0e8b7c6a"
	vecRequestID = "7c1e5c6a-b7d2-11f0-9a5e-0242ac120002"
	vecTPPID     = "PSDPL-KNF-0000000042"
)

// The POST body of the vector: pretty-printed as in the collection, with
// Polish letters, escaped quotes, a backslash, a tab escape, a raw U+2028,
// HTML characters and a character outside the BMP.
const vecPostBody = `{
    "recipient": {
        "accountNumber": "20114000000000000000000300",
        "name": "Zażółć \"gęślą\" jaźń <Sp. z o.o.> & Co"
    },
    "transferData": {
        "description": "Faktura 1/2026\tFV` + "\u2028" + `sep 😀 C:\\temp",
        "amount": "0.01",
        "currency": "PLN"
    },
    "tppTransactionId": "0f6e2d4c-b7d3-11f0-9a5e-0242ac120002",
    "deliveryMode": "STANDARD_D1"
}`

// mbankVectors were produced by running the jwsInternalScript of mBank's
// Postman environment (melements/mBank-PSD2-api-postman-collection,
// v3/bank-simulator-pl-corpo-sandbox.postman_environment.json) verbatim
// under node 20, in an imitation of Postman's sandbox (legacy request
// object: lower-cased, multi-valued headers; unresolved URL and body
// templates), with jsrsasign's KJUR.jws.JWS.sign replaced by node's
// RSA-SHA256 over the same signing input. The signing key was discarded;
// its certificate is testdata/mbank-vector-cert.pem. The Postman requests
// were the collection's own, with {{xs2aUri}} = https://open.api.mbank.pl
// and {{bankId}} = pl-retail.
var mbankVectors = []struct {
	name   string
	uri    string
	header http.Header
	body   string
	want   string // the signed message, as JSON.stringify wrote it
	jws    string // JWS-Signature as the script set it
}{
	{
		name: "GET transactions with query",
		uri:  "/pl-retail/v3/accounts/PL61109010140000071219812874/transactions?transactionStatus=DONE&transactionDateFrom=2026-10-01&transactionDateTo=2026-10-31&pageSize=100",
		header: header("Client-ID", vecClientID, "Authorization", vecToken, "Accept", "application/json; charset=utf-8",
			"Accept-Encoding", "Gzip, deflate", "Accept-Language", "en", "JWS-Signature", "(this header)",
			"TPP-Request-ID", vecRequestID, "TPP-ID", vecTPPID),
		want: `{"uri":"/pl-retail/v3/accounts/PL61109010140000071219812874/transactions?transactionStatus=DONE&transactionDateFrom=2026-10-01&transactionDateTo=2026-10-31&pageSize=100","headers":{"authorization":"Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln","client-id":"3f2b8c1e-6d4a-4b7e-9c2f-5a1d0e8b7c6a","tpp-id":"PSDPL-KNF-0000000042","tpp-request-id":"7c1e5c6a-b7d2-11f0-9a5e-0242ac120002"},"body":""}`,
		jws:  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1dSI6Imh0dHBzOi8vdHBwLmV4YW1wbGUvcXNlYWwucGVtIiwieDV0I1MyNTYiOiI5cHFqbVlFWnlqR1BoYkRHaWJMNEVMSFhCUE1JTHNmOXlJSEdoWWNGbF9zIn0..wqJ-uZL2VcAkEqqBVwEcMic0n1ACxE9hLvFoS24N5txKvpyRRn2KbH2GbCieMDyO9ndamwDWilDZrrw2YmbAnns3MXbNZ3aWQjsVF1CGki8PKszjmlqvoQgNlGB6-tCMfG2lOPVRd3qsTtZ67CMtc1AaF4uYn2zxBzu4X6ChsF5ejJEYXR6t_kjBXuI3z9xcjnqOCxQAPi77Xo3Qcq3S1M9nAvK5OrgWxvm_16j840NC8cNwI-_Lc_WUHP4F2J2u3mf_CYZi0HbBATU1UDkcGLxOvQ66iFVQqEG7JtGu3kxTH0qbEMdDCZDfl49tDq-YOJsgZheYbZQgB369KMjueg",
	},
	{
		name: "POST domestic payment with unicode and quotes",
		uri:  "/pl-retail/v3/payments/domestic",
		header: header("Content-Type", "application/json", "Client-ID", vecClientID, "Authorization", vecToken,
			"Accept", "application/json; charset=utf-8", "Accept-Encoding", "Gzip, deflate", "Accept-Language", "en",
			"JWS-Signature", "(this header)", "TPP-ID", vecTPPID, "TPP-Payment-ID", "0f6e2d4c-b7d3-11f0-9a5e-0242ac120002",
			"TPP-Request-ID", vecRequestID, "Send-Date", "2026-11-23T10:15:30.123Z", "PSU-IP-Port", "23456",
			"PSU-IP-Address", "193.41.230.87", "PSU-User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
			"PSU-Session", "true"),
		body: vecPostBody,
		want: `{"uri":"/pl-retail/v3/payments/domestic","headers":{"authorization":"Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln","client-id":"3f2b8c1e-6d4a-4b7e-9c2f-5a1d0e8b7c6a","psu-ip-address":"193.41.230.87","psu-ip-port":"23456","psu-session":"true","psu-user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","send-date":"2026-11-23T10:15:30.123Z","tpp-id":"PSDPL-KNF-0000000042","tpp-payment-id":"0f6e2d4c-b7d3-11f0-9a5e-0242ac120002","tpp-request-id":"7c1e5c6a-b7d2-11f0-9a5e-0242ac120002"},"body":"{\n    \"recipient\": {\n        \"accountNumber\": \"20114000000000000000000300\",\n        \"name\": \"Zażółć \\\"gęślą\\\" jaźń <Sp. z o.o.> & Co\"\n    },\n    \"transferData\": {\n        \"description\": \"Faktura 1/2026\\tFV` + "\u2028" + `sep 😀 C:\\\\temp\",\n        \"amount\": \"0.01\",\n        \"currency\": \"PLN\"\n    },\n    \"tppTransactionId\": \"0f6e2d4c-b7d3-11f0-9a5e-0242ac120002\",\n    \"deliveryMode\": \"STANDARD_D1\"\n}"}`,
		jws:  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1dSI6Imh0dHBzOi8vdHBwLmV4YW1wbGUvcXNlYWwucGVtIiwieDV0I1MyNTYiOiI5cHFqbVlFWnlqR1BoYkRHaWJMNEVMSFhCUE1JTHNmOXlJSEdoWWNGbF9zIn0..Vlfm2XxO3g6ojuRVKW4tltfNayzIi7JCIPdkIDOWVvD-42BA7tbRkLFo-SP9mdkbcZptRH1eYZlnudkzYC5ByvnK-SVz3kKGgr-IyhOsQY3Bi5UlNwPZwtvYEQNS7G4Kll4XK-dPipuUpv3V89qnbDxOlQgfic-JkhTNtd8-RpzG6yHRJTWvho_fmXOo1xQXXb70cwbbBQlq8TjasSCaCII3Ze70qtBnAQAudE8nsn9U5tYmVD2uRkrVJR7jIP7BI2S83anFcZWwJGQ0Cu8J6kKl0sIViAJm85mCt0I_wkpyN1fNRm4d3wJMPmg7M0dZDeNp-VyjN8h1_9lxNztB7w",
	},
	{
		name: "DELETE consent with empty raw body",
		uri:  "/pl-retail/v3/consents/5d0c9a2e-b7d4-11f0-9a5e-0242ac120002",
		header: header("Accept", "application/json; charset=utf-8", "Accept-Encoding", "Gzip, deflate", "Accept-Language", "en",
			"JWS-Signature", "(this header)", "TPP-Request-ID", vecRequestID, "Client-ID", vecClientID, "TPP-ID", vecTPPID),
		want: `{"uri":"/pl-retail/v3/consents/5d0c9a2e-b7d4-11f0-9a5e-0242ac120002","headers":{"client-id":"3f2b8c1e-6d4a-4b7e-9c2f-5a1d0e8b7c6a","tpp-id":"PSDPL-KNF-0000000042","tpp-request-id":"7c1e5c6a-b7d2-11f0-9a5e-0242ac120002"},"body":""}`,
		jws:  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1dSI6Imh0dHBzOi8vdHBwLmV4YW1wbGUvcXNlYWwucGVtIiwieDV0I1MyNTYiOiI5cHFqbVlFWnlqR1BoYkRHaWJMNEVMSFhCUE1JTHNmOXlJSEdoWWNGbF9zIn0..coxjCK6KDVGxf9_GQ_fODoKXBPUBHyZaQre1yqWN4eO7W3HUUi1f6VmYKtVgcnON3T24XkHpS5wfSVAUyg2sCHjyY35Qqxvw4hqgdV15pYBgS0K4AKITBDjVlFuQ2SHRlapnrlNs48xD8-Gn4qatCNmTlh1HTLy6zLwO7TCeYNWmIXZuHpqjBRgcRzZJgzj6q-T3OLROiJMKfpk7vdsRsQF0ELohD4m8kUCofOtdxa6ji_6kXN-sFxs5eoFMUHyNmZeeRWvwBKqwXMgzZ_nildRRUxEdNL1gNgYTqjqj2aQoiTa8Am68QlAXkkLcn8_uHLIJVIaMkDxPBBuwPH7faA",
	},
	{
		name:   "repeated header becomes an array",
		uri:    "/pl-retail/v3/accounts",
		header: header("TPP-ID", vecTPPID, "PSU-IP-Address", "193.41.230.87", "psu-ip-address", "10.0.0.1"),
		want:   `{"uri":"/pl-retail/v3/accounts","headers":{"psu-ip-address":["193.41.230.87","10.0.0.1"],"tpp-id":"PSDPL-KNF-0000000042"},"body":""}`,
		jws:    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1dSI6Imh0dHBzOi8vdHBwLmV4YW1wbGUvcXNlYWwucGVtIiwieDV0I1MyNTYiOiI5cHFqbVlFWnlqR1BoYkRHaWJMNEVMSFhCUE1JTHNmOXlJSEdoWWNGbF9zIn0..vAezmx_YvTr4wdAGHMTbEDC9FeL89gMhhwETGaYpf7kfEPmuGAdhGsaRTn8AhNQJqKeBnzTObhFlYOmdGFrqlIN5OTnb3k-aKady5zWaHgp2mtlp_BTVlERUjEa3jfdIyIw-4YJEY9HggVJUiCVhopnhTIXWJNus05Lan_9mDOiOVnUgCZmbEPVAdmSm3ETvYQe50vEgHlyF2f_UYL-ohj7OloGCiDJFugkbiXOOBXJr7w_K9bJKO2g-kKVr7TTnClxCZQ8kzZGnH7Hm2zYUCP0jDquurRIM9mN-5nWRY7yl-XO9w46-csTjl7YWRq3kKghnc00LhbwHDGLh2Oa6hg",
	},
}

func TestMBankPayloadMatchesCollection(t *testing.T) {
	cert := loadCert(t, "testdata/mbank-vector-cert.pem")
	for _, v := range mbankVectors {
		t.Run(v.name, func(t *testing.T) {
			got := MBankPayload(v.uri, v.header, []byte(v.body))
			if string(got) != v.want {
				t.Fatalf("MBankPayload\n got %s\nwant %s", got, v.want)
			}
			h, err := VerifyDetached(v.jws, got, cert)
			if err != nil {
				t.Fatalf("the collection's signature does not verify: %v", err)
			}
			if h.Alg != RS256 || h.Typ != "JWT" || h.X5U != "https://tpp.example/qseal.pem" || h.X5TS256 != ThumbprintS256(cert) {
				t.Errorf("header = %s", h.Raw)
			}

			// Any change to what the script covers breaks the signature.
			changed := v.header.Clone()
			changed.Set("TPP-Request-ID", "00000000-0000-1000-8000-000000000000")
			for _, payload := range [][]byte{
				MBankPayload(v.uri+"x", v.header, []byte(v.body)),
				MBankPayload(v.uri, changed, []byte(v.body)),
				MBankPayload(v.uri, v.header, []byte(v.body+" ")),
				MBankPayload(strings.TrimPrefix(v.uri, "/pl-retail"), v.header, []byte(v.body)),
			} {
				if _, err := VerifyDetached(v.jws, payload, cert); ReasonOf(err) != ReasonBadSignature {
					t.Errorf("changed message: err = %v, want %s", err, ReasonBadSignature)
				}
			}
			// Headers outside the list are not signed.
			extra := v.header.Clone()
			extra.Set("Accept-Language", "pl")
			extra.Set("X-Unsigned", "anything")
			if _, err := VerifyDetached(v.jws, MBankPayload(v.uri, extra, []byte(v.body)), cert); err != nil {
				t.Errorf("an unsigned header changed the message: %v", err)
			}
		})
	}
}

func TestMBankSignedHeaders(t *testing.T) {
	// jwsAllowedHeaders, verbatim from the Postman environment.
	const allowed = "tpp-id,tpp-request-id,tpp-payment-id,tpp-bundle-id,psu-user-agent,psu-ip-address,psu-ip-port,send-date,company-context,psu-id,psu-id-type,psu-context-id-type,psu-context-id,client-id,authorization,psu-session"
	want := strings.Split(allowed, ",")
	slices.Sort(want)
	if !slices.Equal(MBankSignedHeaders, want) {
		t.Errorf("MBankSignedHeaders = %v, want %v", MBankSignedHeaders, want)
	}
	if !slices.Equal(mbankSignedHeaders[:], want) {
		t.Errorf("mbankSignedHeaders = %v", mbankSignedHeaders)
	}

	h := http.Header{}
	for _, name := range want {
		h.Set(name, name)
	}
	got := string(MBankPayload("/", h, nil))
	var members []string
	for _, name := range want {
		members = append(members, `"`+name+`":"`+name+`"`)
	}
	if wantPayload := `{"uri":"/","headers":{` + strings.Join(members, ",") + `},"body":""}`; got != wantPayload {
		t.Errorf("all headers:\n got %s\nwant %s", got, wantPayload)
	}
}

func TestMBankRequestURI(t *testing.T) {
	cases := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"server request", httptest.NewRequest(http.MethodGet, "/pl-retail/v3/accounts/1/transactions?transactionStatus=DONE&pageSize=10", nil),
			"/pl-retail/v3/accounts/1/transactions?transactionStatus=DONE&pageSize=10"},
		{"server request keeps the encoding", httptest.NewRequest(http.MethodGet, "/pl-retail/v3/accounts/a%2Fb?q=%C5%BC+x", nil),
			"/pl-retail/v3/accounts/a%2Fb?q=%C5%BC+x"},
		{"no query", httptest.NewRequest(http.MethodDelete, "/pl-retail/v3/consents/c1", nil), "/pl-retail/v3/consents/c1"},
		{"absolute form", httptest.NewRequest(http.MethodGet, "https://open.api.mbank.pl/pl-retail/v3/accounts?x=1", nil), "/pl-retail/v3/accounts?x=1"},
		{"client request", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "https://open.api.mbank.pl/pl-retail/v3/accounts?x=1", nil)
			return r
		}(), "/pl-retail/v3/accounts?x=1"},
	}
	for _, tc := range cases {
		if got := MBankRequestURI(tc.req); got != tc.want {
			t.Errorf("%s: MBankRequestURI = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestAppendJSString compares with JSON.stringify's output under node 20,
// written down literally.
func TestAppendJSString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`"\/`, `"\"\\/"`},
		{"\b\f\n\r\t\v", `"\b\f\n\r\t\u000b"`},
		{"\x00\x01\x1f\x7f\u0080", `"\u0000\u0001\u001f` + "\x7f\u0080" + `"`},
		{"<script>&amp;</script>", `"<script>&amp;</script>"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"zażółć 😀", `"zażółć 😀"`},
		{"\ufeffBOM", "\"\ufeffBOM\""},
		{"\ufffd", "\"\ufffd\""},
		// Not producible by JavaScript: invalid UTF-8 becomes U+FFFD per byte.
		{"a\xffb\xe2\x82", "\"a\ufffdb\ufffd\ufffd\""},
	}
	for _, tc := range cases {
		if got := string(appendJSString(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendJSString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMBankSignVerify checks the bank's own use: a Signer's JWS over the
// mBank message verifies against the rebuilt message.
func TestMBankSignVerify(t *testing.T) {
	k := ecKey()
	s := mustSigner(t, k, SignerOptions{Typ: "JWT"})
	v := mbankVectors[1]
	compact, err := s.SignDetached(MBankPayload(v.uri, v.header, []byte(v.body)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDetached(compact, []byte(v.want), k.cert); err != nil {
		t.Fatal(err)
	}
}
