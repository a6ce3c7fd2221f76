package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// tppFiles is a TPP as the sandbox contract gives it: a directory with
// qwac.pem, qwac.key, qsealc.pem, qsealc.key and client.json.
type tppFiles struct {
	client *http.Client
	signer *jws.Signer
	info   struct {
		ClientID string `json:"client_id"`
		TPPID    string `json:"tpp_id"`
	}
}

func loadTPP(t *testing.T, dir, data string) *tppFiles {
	t.Helper()
	qwac, err := tls.LoadX509KeyPair(filepath.Join(dir, "qwac.pem"), filepath.Join(dir, "qwac.key"))
	if err != nil {
		t.Fatal(err)
	}
	seal, err := tls.LoadX509KeyPair(filepath.Join(dir, "qsealc.pem"), filepath.Join(dir, "qsealc.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealCert, _ := x509.ParseCertificate(seal.Certificate[0])
	signer, err := jws.NewSigner(seal.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(data, "sandbox", "bank-tls-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	f := &tppFiles{signer: signer, client: &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{qwac}}}}}
	raw, err := os.ReadFile(filepath.Join(dir, "client.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &f.info); err != nil {
		t.Fatal(err)
	}
	return f
}

type apiAnswer struct {
	status  int
	code    string
	message string
	body    []byte
	header  http.Header
}

func (f *tppFiles) polishAPI(t *testing.T, api, op string) apiAnswer {
	t.Helper()
	id := uuid.Must(uuid.NewUUID()).String()
	body, _ := json.Marshal(map[string]any{"requestHeader": map[string]any{"requestId": id, "tppId": f.info.TPPID, "sendDate": "2026-11-23T10:00:00.000Z"}})
	sig, err := f.signer.SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("POST", api+op, bytes.NewReader(body))
	r.Header.Set("X-JWS-SIGNATURE", sig)
	r.Header.Set("X-REQUEST-ID", id)
	r.Header.Set("Content-Type", "application/json")
	return f.do(t, r)
}

func (f *tppFiles) do(t *testing.T, r *http.Request) apiAnswer {
	t.Helper()
	res, err := f.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e struct{ Code, Message string }
	json.Unmarshal(data, &e)
	return apiAnswer{status: res.StatusCode, code: e.Code, message: e.Message, body: data, header: res.Header}
}

func bankSeal(t *testing.T, data string) *x509.Certificate {
	raw, err := os.ReadFile(filepath.Join(data, "sandbox", "bank-qsealc.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := eidas.LoadCertificatesPEM(raw)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func certsCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), append([]string{"certs"}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("certs %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// The sandbox's trust world as the contract gives it: the demo TPP passes
// the pipeline; TPPs made with `certs issue` pass only with --register;
// revoked and expired certificates are refused; the bank signs every answer
// with bank-qsealc.pem.
func TestSandboxTrust(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api := "https://" + p.api
	for _, f := range []string{"qtsp-root.pem", "bank-tls-ca.pem", "bank-qsealc.pem", "demo-tpp/qwac.pem", "demo-tpp/qwac.key",
		"demo-tpp/qsealc.pem", "demo-tpp/qsealc.key", "demo-tpp/client.json", "psus.json"} {
		if _, err := os.Stat(filepath.Join(data, "sandbox", f)); err != nil {
			t.Errorf("the contract's file %s is missing: %v", f, err)
		}
	}
	seal := bankSeal(t, data)
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)
	if demo.info.ClientID == "" || demo.info.TPPID != "PSDPL-KNF-0000000001" {
		t.Fatalf("demo client.json = %+v", demo.info)
	}

	// The demo TPP passes every check of the trust pipeline: the next one
	// is the access token, which this call has not got.
	a := demo.polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts")
	if a.status != 401 || a.code != "TOKEN_MISSING" {
		t.Fatalf("demo TPP getAccounts: %d %s", a.status, a.body)
	}
	if _, err := jws.VerifyDetached(a.header.Get("X-JWS-SIGNATURE"), a.body, seal); err != nil {
		t.Fatalf("the answer is not signed with bank-qsealc.pem: %v", err)
	}

	// A TPP with sandbox certificates but not registered.
	stranger := filepath.Join(t.TempDir(), "stranger")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000077", "--name", "Stranger", "--roles", "PSP_AI", "--out", stranger)
	if a := loadTPP(t, stranger, data).polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.code != "TPP_UNKNOWN" {
		t.Fatalf("unregistered TPP: %d %s", a.status, a.body)
	}

	// --register makes it effective at once in the running sandbox.
	newcomer := filepath.Join(t.TempDir(), "newcomer")
	out := certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000088", "--name", "Newcomer", "--roles", "PSP_AI", "--out", newcomer, "--register")
	if !strings.Contains(out, "registered PSDPL-KNF-0000000088") {
		t.Fatalf("certs issue --register said %q", out)
	}
	nc := loadTPP(t, newcomer, data)
	if a := nc.polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.code != "TOKEN_MISSING" {
		t.Fatalf("newly registered TPP: %d %s", a.status, a.body)
	}
	if a := nc.polishAPI(t, api, "/v2_1_2.1/payments/v2_1_2.1/domestic"); a.code != "ROLE_NOT_ALLOWED" {
		t.Fatalf("AIS-only TPP calling PIS: %d %s", a.status, a.body)
	}

	// Revoked and expired certificates.
	revoked := filepath.Join(t.TempDir(), "revoked")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000099", "--name", "Revoked", "--out", revoked, "--register")
	// Used once before it is revoked (the gateway then holds it verified),
	// the very next request after `certs revoke` is refused.
	if a := loadTPP(t, revoked, data).polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.code != "TOKEN_MISSING" {
		t.Fatalf("QWAC before revocation: %d %s", a.status, a.body)
	}
	certsCmd(t, "revoke", "--data", data, "--cert", filepath.Join(revoked, "qwac.pem"))
	if a := loadTPP(t, revoked, data).polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.code != "CERTIFICATE_REVOKED" {
		t.Fatalf("revoked QWAC: %d %s", a.status, a.body)
	}
	expired := filepath.Join(t.TempDir(), "expired")
	certsCmd(t, "issue", "--data", data, "--org-id", "PSDPL-KNF-0000000098", "--name", "Expired", "--out", expired, "--expired")
	if a := loadTPP(t, expired, data).polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.code != "CERTIFICATE_EXPIRED" {
		t.Fatalf("expired QWAC: %d %s", a.status, a.body)
	}

	// The QTSP publishes its CRL on the web address, with the revoked serial.
	res, err := http.Get("http://" + p.web + "/sandbox/qtsp/crl")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(res.Body)
	res.Body.Close()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL lists %d certificates, want 1", len(crl.RevokedCertificateEntries))
	}

	// mBank's dynamic registration: a software statement sealed with the QSealC.
	stmt, _ := json.Marshal(map[string]any{"iss": demo.info.TPPID, "client_name": "Demo books", "sub_contact_email": "dev@demo.example",
		"redirect_uris": []string{"https://books.demo.example/cb"}})
	attached, err := demo.signer.SignDetached(stmt)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(attached, ".", 3)
	softwareStatement := parts[0] + "." + base64.RawURLEncoding.EncodeToString(stmt) + "." + parts[2]
	body, _ := json.Marshal(map[string]string{"software_statement": softwareStatement})
	r, _ := http.NewRequest("POST", api+"/v3/register/", bytes.NewReader(body))
	r.Header.Set("TPP-Request-ID", uuid.Must(uuid.NewUUID()).String())
	r.Header.Set("Content-Type", "application/json")
	reg := demo.do(t, r)
	var created struct {
		ClientID string `json:"client_id"`
	}
	json.Unmarshal(reg.body, &created)
	if reg.status != 201 || created.ClientID == "" || created.ClientID == demo.info.ClientID {
		t.Fatalf("dynamic registration: %d %s", reg.status, reg.body)
	}
	if _, err := jws.VerifyDetached(reg.header.Get("JWS-Signature"), reg.body, seal); err != nil {
		t.Fatalf("registration answer not sealed: %v", err)
	}
	// The same statement sent by another TPP's connection names the wrong issuer.
	r2, _ := http.NewRequest("POST", api+"/v3/register/", bytes.NewReader(body))
	r2.Header.Set("TPP-Request-ID", uuid.Must(uuid.NewUUID()).String())
	if a := nc.do(t, r2); a.status != 403 || a.code != "ORGANISATION_MISMATCH" {
		t.Fatalf("another TPP replaying the demo's statement: %d %s", a.status, a.body)
	}
}
