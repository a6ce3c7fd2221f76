package tppclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/jws"
)

// TestSignedPolishAPIsIsSignedPolishAPI checks that the load generator's
// requests are SignedPolishAPI's: the same body but for the request id and
// send date, each request its own id (in the body and the header) and a
// signature over its exact bytes.
func TestSignedPolishAPIsIsSignedPolishAPI(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "tpp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	signer, err := jws.NewSigner(key, cert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 10, 11, 12, 345e6, time.UTC)
	c := &Client{API: "https://bank.test", Identity: Identity{TPPID: "PSDPL-KNF-1"}, signer: signer, now: func() time.Time { return at }}
	ctx := context.Background()
	body := map[string]any{"accountNumber": "PL61109010140000071219812874", "perPage": 100, "note": `"quoted" \ ąę`}
	header := map[string]any{"isDirectPsu": true}

	read := func(r *http.Request) (map[string]any, []byte) {
		raw, _ := io.ReadAll(r.Body)
		if _, err := jws.VerifyDetached(r.Header.Get("X-JWS-SIGNATURE"), raw, cert); err != nil {
			t.Fatalf("the signature does not verify over the body: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		rh := m["requestHeader"].(map[string]any)
		if rh["requestId"] != r.Header.Get("X-REQUEST-ID") || rh["requestId"] == "" {
			t.Fatalf("requestId %v, X-REQUEST-ID %q", rh["requestId"], r.Header.Get("X-REQUEST-ID"))
		}
		return m, raw
	}
	one, err := c.SignedPolishAPI(ctx, "/x", body, "tok", header)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := read(one)
	next, err := c.SignedPolishAPIs(ctx, "/x", body, "tok", header)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[any]bool{}
	for range 3 {
		r, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if r.URL.String() != one.URL.String() || r.Header.Get("Authorization") != "Bearer tok" {
			t.Fatalf("request to %s with %q", r.URL, r.Header.Get("Authorization"))
		}
		got, _ := read(r)
		rh := got["requestHeader"].(map[string]any)
		if rh["sendDate"] != "2026-12-06T10:11:12.345Z" {
			t.Fatalf("sendDate %v", rh["sendDate"])
		}
		ids[rh["requestId"]] = true
		rh["requestId"] = want["requestHeader"].(map[string]any)["requestId"]
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("body %v, SignedPolishAPI's %v", got, want)
		}
	}
	if len(ids) != 3 {
		t.Fatalf("%d request ids for 3 requests", len(ids))
	}
}
