package tppclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/tppclient"
)

// keyPair is a self-signed certificate and its key.
type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKeyPair(t *testing.T, cn string) keyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{cn}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return keyPair{cert, key}
}

func (k keyPair) write(t *testing.T, certFile, keyFile string) {
	t.Helper()
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}), 0o600)
	if keyFile != "" {
		der, _ := x509.MarshalPKCS8PrivateKey(k.key)
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	}
}

// signAnswer signs an answer as the bank does: Digest, and Signature over
// digest and x-request-id with the seal.
func signAnswer(t *testing.T, h http.Header, body []byte, seal keyPair) {
	h.Set("Digest", berlingroup.Digest(body))
	msg := "digest: " + h.Get("Digest") + "\nx-request-id: " + h.Get("X-Request-ID")
	sum := sha256.Sum256([]byte(msg))
	sig, err := ecdsa.SignASN1(rand.Reader, seal.key, sum[:])
	if err != nil {
		t.Error(err)
	}
	h.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="ecdsa-sha256",headers="digest x-request-id",signature="%s"`,
		berlingroup.KeyID(seal.cert), base64.StdEncoding.EncodeToString(sig)))
}

// The client signs every Berlin Group request with its QSealC as the
// standard says, and takes no answer that the bank's seal did not sign
// or that answers another request; a refusal is read from tppMessages.
func TestBerlinGroupSignatures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	qseal, bankSeal, stranger := newKeyPair(t, "TPP seal"), newKeyPair(t, "Bank seal"), newKeyPair(t, "Stranger")
	qseal.write(t, filepath.Join(dir, "qsealc.pem"), filepath.Join(dir, "qsealc.key"))
	newKeyPair(t, "TPP QWAC").write(t, filepath.Join(dir, "qwac.pem"), filepath.Join(dir, "qwac.key"))
	bankSeal.write(t, filepath.Join(dir, "bank-seal.pem"), "")
	os.WriteFile(filepath.Join(dir, "client.json"), []byte(`{"client_id":"c","tpp_id":"PSDPL-TEST","redirect_uri":"http://127.0.0.1:1/cb"}`), 0o600)

	var mu sync.Mutex // the requests are one after another; the race detector does not know
	var mode string
	var problems []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		// What the bank checks of the request.
		sig := r.Header.Get("Signature")
		certDER, _ := base64.StdEncoding.DecodeString(r.Header.Get("TPP-Signature-Certificate"))
		switch {
		case uuid.Validate(r.Header.Get("X-Request-ID")) != nil:
			problems = append(problems, "X-Request-ID is not a UUID")
		case !strings.Contains(sig, `keyId="`+berlingroup.KeyID(qseal.cert)+`"`):
			problems = append(problems, "keyId does not name the QSealC: "+sig)
		case !strings.Contains(sig, `headers="digest x-request-id tpp-redirect-uri date"`):
			problems = append(problems, "the signature does not cover digest, x-request-id, tpp-redirect-uri and date: "+sig)
		case string(certDER) != string(qseal.cert.Raw):
			problems = append(problems, "TPP-Signature-Certificate is not the QSealC")
		}
		if _, err := http.ParseTime(r.Header.Get("Date")); err != nil {
			problems = append(problems, "no Date")
		}
		// The request's Digest and Signature verify as an answer's would.
		if err := berlingroup.VerifyResponse(r.Header, body, qseal.cert); err != nil {
			problems = append(problems, "the request's signature: "+err.Error())
		}
		w.Header().Set("X-Request-ID", r.Header.Get("X-Request-ID"))
		out, status, seal := []byte(`{"consentId":"C1","consentStatus":"received","_links":{"scaRedirect":{"href":"https://bank/authorize/1"}}}`), 201, bankSeal
		switch mode {
		case "stranger":
			seal = stranger
		case "other request":
			w.Header().Set("X-Request-ID", uuid.NewString())
		case "refused":
			out, status = []byte(`{"tppMessages":[{"category":"ERROR","code":"FORMAT_ERROR","text":"frequencyPerDay must be 1 to 4"}]}`), 400
		}
		signAnswer(t, w.Header(), out, seal)
		if mode == "tampered" { // another body than the one signed
			out = []byte(`{"consentId":"C2","consentStatus":"received","_links":{"scaRedirect":{"href":"https://evil/authorize/1"}}}`)
		}
		w.WriteHeader(status)
		w.Write(out)
	}))
	defer srv.Close()
	os.WriteFile(filepath.Join(dir, "bank-ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	c, err := tppclient.New(tppclient.Config{TPPDir: dir, BankCAFile: filepath.Join(dir, "bank-ca.pem"), BankSealFile: filepath.Join(dir, "bank-seal.pem"),
		API: srv.URL, Dialect: tppclient.DialectBerlinGroup})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	id, page, err := c.StartConsent(ctx, uuid.NewString(), 24*time.Hour)
	if err != nil || id != "C1" || page != "https://bank/authorize/1" {
		t.Fatalf("a signed answer: %q %q %v", id, page, err)
	}
	setMode := func(m string) { mu.Lock(); mode = m; mu.Unlock() }
	for _, m := range []string{"stranger", "other request", "tampered"} {
		setMode(m)
		if _, _, err := c.StartConsent(ctx, uuid.NewString(), 24*time.Hour); err == nil {
			t.Errorf("%s: the client took the answer", m)
		}
	}
	setMode("refused")
	_, _, err = c.StartConsent(ctx, uuid.NewString(), 24*time.Hour)
	var e *tppclient.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "FORMAT_ERROR" || !strings.Contains(e.Message, "frequencyPerDay") {
		t.Errorf("a refusal: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the bank saw: %s", strings.Join(problems, "; "))
	}
}
