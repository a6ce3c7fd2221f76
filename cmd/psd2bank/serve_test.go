package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/eidas"
)

// Production mode never accepts the sandbox QTSP's certificates, even when
// an operator lists its root among the trust anchors by mistake.
func TestServeRefusesSandboxCertificates(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	p.stop()
	dir := filepath.Join(data, "sandbox")

	ca, err := eidas.LoadOrCreateTLSCA(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(t.TempDir(), "tls.pem"), filepath.Join(t.TempDir(), "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", filepath.Join(data, "psd2bank.db"), "--api-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0",
			"--staff-addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--qtsp-roots", filepath.Join(dir, "qtsp-root.pem"),
			"--register", filepath.Join(dir, "tpp-register.json"), "--seal-cert", filepath.Join(dir, "bank-qsealc.pem"),
			"--seal-key", filepath.Join(dir, "bank-qsealc.key")}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve stopped: %v", <-done)
	}
	m := regexp.MustCompile(`^psd2bank ready: api=https://(\S+) web=http://(\S+)$`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("ready line %q", lines.Text())
	}
	if !lines.Scan() {
		t.Fatalf("serve stopped: %v", <-done)
	}
	staff := regexp.MustCompile(`^psd2bank staff listener: http://(\S+) `).FindStringSubmatch(lines.Text())
	if staff == nil {
		t.Fatalf("staff line %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	// The back office and the metrics are on the staff listener only.
	for _, tc := range []struct {
		host, path string
		found      bool
	}{{m[2], "/backoffice", false}, {m[2], "/backoffice/login", false}, {m[2], "/metrics", false},
		{staff[1], "/backoffice/login", true}, {staff[1], "/metrics", true}, {staff[1], "/ib/login", false}} {
		res, err := http.Get("http://" + tc.host + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if (res.StatusCode != http.StatusNotFound) != tc.found {
			t.Errorf("GET %s on %s: %d", tc.path, tc.host, res.StatusCode)
		}
	}
	demo := loadTPP(t, filepath.Join(dir, "demo-tpp"), data)
	if a := demo.polishAPI(t, "https://"+m[1], "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.status != 401 || a.code != "CERTIFICATE_SANDBOX" {
		t.Fatalf("sandbox QWAC in production: %d %s", a.status, a.body)
	}
	var health map[string]string
	if code := getJSON(t, "http://"+m[2]+"/healthz", &health); code != 200 || health["mode"] != "production" {
		t.Fatalf("/healthz %d %v", code, health)
	}
	// The customer's pages are served in production too.
	for path, want := range map[string]int{"/ib/login": 200, "/authorize/no-such-request": 404} {
		res, err := http.Get("http://" + m[2] + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	cancel()
	<-done
}
