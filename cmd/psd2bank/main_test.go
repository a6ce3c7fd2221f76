package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// sandboxProc is a sandbox started through run, as the command line would.
type sandboxProc struct {
	api, web string
	cancel   context.CancelFunc
	done     chan error
	once     sync.Once
}

var readyLine = regexp.MustCompile(`^psd2bank sandbox ready: api=https://(\S+) web=http://(\S+)$`)

func startSandbox(t *testing.T, args ...string) *sandboxProc {
	t.Helper()
	return startSandboxLogging(t, io.Discard, args...)
}

// startSandboxLogging is startSandbox with the sandbox's log (its stderr)
// written to stderr.
func startSandboxLogging(t *testing.T, stderr io.Writer, args ...string) *sandboxProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &sandboxProc{cancel: cancel, done: make(chan error, 1)}
	start := time.Now()
	go func() {
		err := run(ctx, append([]string{"sandbox", "--api-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0"}, args...),
			func(string) string { return "" }, pw, stderr)
		pw.Close()
		p.done <- err
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		cancel()
		t.Fatalf("sandbox stopped before it was ready: %v", <-p.done)
	}
	m := readyLine.FindStringSubmatch(lines.Text())
	if m == nil {
		cancel()
		t.Fatalf("first line %q is not the contract's ready line", lines.Text())
	}
	t.Logf("ready after %s", time.Since(start).Round(time.Millisecond))
	go io.Copy(io.Discard, pr)
	p.api, p.web = m[1], m[2]
	t.Cleanup(p.stop)
	return p
}

func (p *sandboxProc) stop() {
	p.once.Do(func() {
		p.cancel()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode
}

func TestSandboxStartsServesAndKeepsItsData(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)

	var health map[string]string
	if code := getJSON(t, "http://"+p.web+"/healthz", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, health)
	}

	// The API listener speaks TLS with a certificate from bank-tls-ca.pem.
	caPEM, err := os.ReadFile(filepath.Join(data, "sandbox", "bank-tls-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("bank-tls-ca.pem holds no certificate")
	}
	conn, err := tls.Dial("tcp", p.api, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("TLS to the API with the sandbox CA: %v", err)
	}
	conn.Close()

	// psus.json as the contract describes it.
	var psus []struct {
		Login, Password, PESEL, Phone, Segment, Name string
		Accounts                                     []struct{ Number, Currency, Type string }
	}
	raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &psus); err != nil {
		t.Fatal(err)
	}
	segments := map[string]bool{}
	accounts := 0
	for _, u := range psus {
		if u.Login == "" || u.Password == "" || len(u.PESEL) != 11 || u.Phone == "" || u.Name == "" {
			t.Fatalf("incomplete test customer %+v", u)
		}
		segments[u.Segment] = true
		for _, a := range u.Accounts {
			if len(a.Number) != 26 || a.Currency == "" || a.Type == "" {
				t.Fatalf("bad account %+v", a)
			}
			accounts++
		}
	}
	if len(psus) < 5 || len(segments) != 3 || accounts < 10 {
		t.Fatalf("%d customers in segments %v with %d accounts", len(psus), segments, accounts)
	}

	// Move the clock, restart on the same directory: clock and data remain.
	res, err := http.Post("http://"+p.web+"/sandbox/clock", "application/json", strings.NewReader(`{"advance":"26h"}`))
	if err != nil {
		t.Fatal(err)
	}
	var moved struct{ Now string }
	json.NewDecoder(res.Body).Decode(&moved)
	res.Body.Close()
	movedAt, err := time.Parse(time.RFC3339, moved.Now)
	if err != nil || time.Until(movedAt) < 25*time.Hour {
		t.Fatalf("clock after advancing 26h: %q %v", moved.Now, err)
	}
	p.stop()

	p2 := startSandbox(t, "--data", data)
	var c struct{ Now string }
	getJSON(t, "http://"+p2.web+"/sandbox/clock", &c)
	now, _ := time.Parse(time.RFC3339, c.Now)
	if time.Until(now) < 25*time.Hour {
		t.Fatalf("after restart the clock reads %s: the advance was lost", c.Now)
	}
	raw2, _ := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	if string(raw2) != string(raw) {
		t.Fatal("psus.json changed across a restart")
	}
	caPEM2, _ := os.ReadFile(filepath.Join(data, "sandbox", "bank-tls-ca.pem"))
	if string(caPEM2) != string(caPEM) {
		t.Fatal("bank-tls-ca.pem changed across a restart")
	}
}

func TestSandboxOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	data := t.TempDir()
	p := startSandbox(t, "--data", data, "--db", url)
	var health map[string]string
	if code := getJSON(t, "http://"+p.web+"/healthz", &health); code != 200 {
		t.Fatalf("/healthz = %d %v", code, health)
	}
	if _, err := os.Stat(filepath.Join(data, "psd2bank.db")); err == nil {
		t.Fatal("with --db the sandbox still made an SQLite file")
	}
	p.stop()
	startSandbox(t, "--data", data, "--db", url) // reuses the populated schema
}

func TestSandboxClockRefusals(t *testing.T) {
	p := startSandbox(t, "--data", t.TempDir())
	for _, tc := range []struct {
		body string
		code int
		says string
	}{
		{`{"advance":"-1h"}`, 400, "non-negative"},
		{`{"advance":"soon"}`, 400, "duration"},
		{`{"set":"2001-01-01T00:00:00Z"}`, 409, "only moves forward"},
		{`{"set":"tomorrow"}`, 400, "RFC 3339"},
		{`{}`, 400, "advance"},
		{`{"advance":"1h","set":"2030-01-01T00:00:00Z"}`, 400, "not both"},
		{`{"speed":2}`, 400, "unknown field"},
	} {
		res, err := http.Post("http://"+p.web+"/sandbox/clock", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != tc.code || !strings.Contains(body["error"], tc.says) {
			t.Errorf("%s: %d %q; want %d mentioning %q", tc.body, res.StatusCode, body["error"], tc.code, tc.says)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"fly"}, {"sandbox", "--nope"}, {"migrate"}, {"sandbox", "extra"}} {
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if exitCode(err) != 2 {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bank.db")
	var out strings.Builder
	env := func(k string) string {
		if k == "PSD2BANK_DB" {
			return path
		}
		return ""
	}
	if err := run(context.Background(), []string{"migrate"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied migrations") {
		t.Fatalf("first migrate said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--db", path}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate said %q", out.String())
	}
}

// eachEngine runs f as a subtest on SQLite and on PostgreSQL, with the
// sandbox's arguments for the engine: none, or --db with a database of the
// test's own.
func eachEngine(t *testing.T, f func(t *testing.T, engine string, args []string)) {
	for _, e := range []struct {
		name string
		args func(*testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--db", storetest.PostgresURL(t)} }},
	} {
		t.Run(e.name, func(t *testing.T) { f(t, e.name, e.args(t)) })
	}
}
