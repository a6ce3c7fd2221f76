package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tppclient"
)

// The accounting side against the sandbox: connect the demo TPP (the
// customer approves through the bank's pages), sync into the book, sync
// again without duplicates, a pending payment booked at the bank stays one
// row, and the daily limit of unattended accesses is kept.
func TestTPPConnectAndSync(t *testing.T) {
	for _, dialect := range []string{"polishapi", "mbank"} {
		t.Run(dialect, func(t *testing.T) { testTPPConnectAndSync(t, dialect) })
	}
}

func testTPPConnectAndSync(t *testing.T, dialect string) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	cfg := filepath.Join(t.TempDir(), "tpp.json")
	var out strings.Builder
	if err := run(context.Background(), []string{"tpp", "init", "--sandbox", data, "--out", cfg, "--dialect", dialect, "--tpp", ownTPP(t, data)}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	tpp := func(args ...string) (string, string, error) {
		var o, e strings.Builder
		err := run(context.Background(), append([]string{"tpp", "--config", cfg}, args...), func(string) string { return "" }, &o, &e)
		return o.String(), e.String(), err
	}
	if _, _, err := tpp("sync"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("sync before connect: %v", err)
	}

	// connect: the TPP prints the consent page; the customer approves; the
	// browser lands on the TPP's redirect_uri, which connect listens on.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"tpp", "--config", cfg, "connect"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("connect printed nothing: %v", <-done)
	}
	page := lines.Text()[strings.Index(lines.Text(), "http"):]
	var who psu // a customer with a payment waiting for its Elixir session
	for _, u := range readPSUs(t, data) {
		if u.Login == "kwiaciarnia.roza" {
			who = u
		}
	}
	back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
	newBrowser(t, "").get(back) // the browser follows the redirect to the TPP
	if !lines.Scan() || !strings.Contains(lines.Text(), "connected") {
		t.Fatalf("connect said %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	accounts, _, err := tpp("accounts")
	if err != nil || strings.Count(accounts, "\n") != len(who.Accounts) {
		t.Fatalf("accounts: %q %v", accounts, err)
	}
	balance, _, err := tpp("balance")
	if err != nil || !strings.Contains(balance, "available") {
		t.Fatalf("balance: %q %v", balance, err)
	}

	first, _, err := tpp("sync")
	if err != nil {
		t.Fatal(err)
	}
	book, err := sql.Open("sqlite", filepath.Join(filepath.Dir(cfg), "tpp-book.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	count := func() (rows, pending int) {
		book.QueryRow(`SELECT COUNT(*), COALESCE(SUM(status = 'pending'), 0) FROM items`).Scan(&rows, &pending)
		return
	}
	rows1, pending1 := count()
	if rows1 == 0 {
		t.Fatalf("the first sync imported nothing: %s", first)
	}
	exportAll(t, cfg, tpp, balance)

	// A pending payment of the customer is booked at the bank (its Elixir
	// session cleared): after the next sync it is one booked row.
	bankDB, err := store.Open(context.Background(), filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bankDB.Close()
	l := ledger.New(bankDB, clock.System{})
	var pendingID string
	book.QueryRow(`SELECT item_id FROM items WHERE status = 'pending' LIMIT 1`).Scan(&pendingID)
	if pendingID == "" {
		t.Fatal("the customer has no pending payment in the book: the test needs one (synthetic data has pending Elixir payments)")
	}
	{
		if _, err := l.Settle(context.Background(), pendingID); err != nil {
			t.Fatalf("settle %s: %v", pendingID, err)
		}
	}
	if _, _, err := tpp("sync"); err != nil {
		t.Fatal(err)
	}
	rows2, pending2 := count()
	{
		var status string
		var n int
		book.QueryRow(`SELECT status, (SELECT COUNT(*) FROM items WHERE item_id = ?) FROM items WHERE item_id = ?`, pendingID, pendingID).Scan(&status, &n)
		if status != "booked" || n != 1 {
			t.Fatalf("the settled payment is %q in %d rows, want one booked row", status, n)
		}
		if rows2 != rows1 || pending2 != pending1-1 {
			t.Fatalf("second sync: %d rows (%d pending), first %d (%d pending): duplicates or losses", rows2, pending2, rows1, pending1)
		}
	}

	// Two syncs read each list of each account once each: a third would
	// exceed four unattended accesses a day, so it skips the accounts, says
	// what to do in its table, and its exit status says so.
	table, warnings, err := tpp("sync")
	if !errors.Is(err, errReported) || exitCode(err) != 1 {
		t.Fatalf("a third sync in a day that skipped every account: error %v", err)
	}
	if !strings.Contains(warnings, "skipped") || !strings.Contains(table, "skipped") || !strings.Contains(table, "tpp connect") {
		t.Fatalf("a third sync in a day did not keep to the limit or say what to do; it said %q %q", table, warnings)
	}

	payAndWatch(t, p, cfg, who, tpp)

	// The sandbox clock has moved a day or more on (payAndWatch passed the
	// Elixir sessions): the bank's day is another, so a sync may read every
	// account again (the CLI counts reads by the bank's day, not this
	// machine's), and connect still works (its consent's time limit is
	// asked in the bank's time).
	if table, e, err := tpp("sync"); err != nil || strings.Contains(table, "skipped") {
		t.Fatalf("a sync on the bank's next day: %v\n%s%s", err, table, e)
	}
	connectAgain(t, p, cfg, who)

	// Confirmation of funds through the same client.
	client, err := tppclient.New(tppclient.Config{TPPDir: filepath.Join(data, "sandbox", "demo-tpp"), API: "https://" + p.api,
		BankCAFile: filepath.Join(data, "sandbox", "bank-tls-ca.pem"), BankSealFile: filepath.Join(data, "sandbox", "bank-qsealc.pem"), Dialect: dialect})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := client.ConfirmFunds(ctx, who.Accounts[0].Number, "1.00", "PLN"); err != nil || !ok {
		t.Fatalf("funds for 1.00: %v %v", ok, err)
	}
	if ok, err := client.ConfirmFunds(ctx, who.Accounts[0].Number, "99999999.00", "PLN"); err != nil || ok {
		t.Fatalf("funds for 99,999,999.00: %v %v", ok, err)
	}
	var refusal *tppclient.Error
	if _, err := client.ConfirmFunds(ctx, "61109010140000071219812874", "1.00", "PLN"); !errors.As(err, &refusal) || refusal.Status != 404 {
		t.Fatalf("funds on another bank's account: %v", err)
	}
}

// exportAll writes the four formats for the last 60 days of the first
// account and checks them: JPK_WB against the XSD (xmllint), and the
// closing balance of every format against the bank's booked balance.
func exportAll(t *testing.T, cfg string, tpp func(args ...string) (string, string, error), balance string) {
	t.Helper()
	// The firm's details for statements: what an accounting office knows of its client.
	raw, _ := os.ReadFile(cfg)
	var conf map[string]any
	json.Unmarshal(raw, &conf)
	conf["owner"] = map[string]any{"name": "Kwiaciarnia Róża Sp. z o.o.", "nip": "7270025930", "regon": "471071506",
		"tax_office_code": "1009", "address": map[string]string{"Voivodeship": "łódzkie", "County": "Łódź", "Commune": "Łódź",
			"Street": "ul. Piotrkowska", "HouseNumber": "104", "City": "Łódź", "PostalCode": "90-926"}}
	raw, _ = json.Marshal(conf)
	os.WriteFile(cfg, raw, 0o600)

	// The bank's booked balance of the first account, from `tpp balance`.
	first := strings.Fields(strings.SplitN(balance, "\n", 2)[0])
	if len(first) < 4 {
		t.Fatalf("balance line %q", balance)
	}
	nrb, booked := first[0], first[3]
	to := time.Now().In(polish.Warsaw).Format(time.DateOnly)
	from := time.Now().In(polish.Warsaw).AddDate(0, 0, -60).Format(time.DateOnly)
	dir := t.TempDir()
	for _, f := range []string{"csv", "mt940", "camt053", "jpk-wb"} {
		out := filepath.Join(dir, "statement."+f)
		if _, e, err := tpp("export", "--format", f, "--from", from, "--to", to, "--account", nrb, "--out", out); err != nil {
			t.Fatalf("export %s: %v %s", f, err, e)
		}
		data, _ := os.ReadFile(out)
		if len(data) == 0 {
			t.Fatalf("export %s wrote nothing", f)
		}
		var closing string
		switch f {
		case "jpk-wb":
			var j struct {
				Salda struct {
					SaldoKoncowe string
				}
			}
			xml.Unmarshal(data, &j)
			closing = j.Salda.SaldoKoncowe
			xmllint(t, out)
		case "camt053":
			closing = regexp.MustCompile(`(?s)<Cd>CLBD</Cd>.*?<Amt Ccy="PLN">([0-9.]+)</Amt>`).FindStringSubmatch(string(data))[1]
		case "mt940":
			m := regexp.MustCompile(`:62F:([CD])\d{6}PLN([0-9,]+)`).FindStringSubmatch(string(data))
			closing = strings.ReplaceAll(m[2], ",", ".")
			if m[1] == "D" {
				closing = "-" + closing
			}
		}
		if closing != "" && closing != booked {
			t.Errorf("%s closing balance %s, the bank's booked balance %s", f, closing, booked)
		}
	}
}

// xmllint validates a JPK_WB file against the official schema kept in
// internal/export/testdata/jpk (no network).
func xmllint(t *testing.T, file string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is needed to validate JPK_WB (Debian package libxml2-utils)")
		}
		t.Logf("JPK_WB not validated: xmllint is not installed (apt-get install libxml2-utils)")
		return
	}
	jpk, _ := filepath.Abs("../../internal/export/testdata/jpk")
	cmd := exec.Command("xmllint", "--nonet", "--noout", "--schema", filepath.Join(jpk, "Schemat_JPK_WB(1)_v1-0.xsd"), file)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(jpk, "catalog.xml"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("JPK_WB does not validate against the schema: %v\n%s", err, out)
	}
}

// payAndWatch makes a payment with `tpp pay` (the customer approves it on
// the bank's page) and watches `tpp status` reach done as the sandbox clock
// passes the Elixir sessions.
func payAndWatch(t *testing.T, p *sandboxProc, cfg string, who psu, tpp func(args ...string) (string, string, error)) {
	t.Helper()
	from := who.Accounts[0].Number
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"tpp", "--config", cfg, "pay", "--from", from, "--to", "61109010140000071219812874",
			"--name", "Hurtownia Kwiatów Flora", "--amount", "12.34", "--title", "Faktura FV 12/2026"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("pay printed nothing: %v", <-done)
	}
	page := lines.Text()[strings.Index(lines.Text(), "http"):]
	back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, []string{from})
	newBrowser(t, "").get(back)
	if !lines.Scan() {
		t.Fatalf("pay said nothing more: %v", <-done)
	}
	paid := lines.Text()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("pay: %v", err)
	}
	m := regexp.MustCompile(`^payment (\S+): (\S+)$`).FindStringSubmatch(paid)
	if m == nil {
		t.Fatalf("pay said %q", paid)
	}
	id := m[1]
	if !strings.EqualFold(m[2], "pending") {
		t.Fatalf("a fresh Elixir payment is %s, want pending", m[2])
	}
	for i := 0; i < 5; i++ {
		out, e, err := tpp("status", id)
		if err != nil {
			t.Fatalf("status: %v %s", err, e)
		}
		if strings.Contains(strings.ToLower(out), ": done") {
			// status shows the history: pending, then done, with the bank's times.
			history := regexp.MustCompile(`(?m)^  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+  (\S+)$`).FindAllStringSubmatch(out, -1)
			if len(history) < 2 || !strings.EqualFold(history[0][1], "pending") || !strings.EqualFold(history[len(history)-1][1], "done") {
				t.Fatalf("status shows no history from pending to done:\n%s", out)
			}
			return
		}
		res, err := http.Post("http://"+p.web+"/sandbox/clock", "application/json", strings.NewReader(`{"advance":"26h"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	out, _, _ := tpp("status", id)
	t.Fatalf("after the sessions the payment is still %q", out)
}

// ownTPP issues and registers a TPP whose redirect_uri is on a free port of
// this machine, so that this test does not compete for the demo TPP's
// 127.0.0.1:8765 with other packages' tests running at the same time.
func ownTPP(t *testing.T, data string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := filepath.Join(t.TempDir(), "tpp")
	certsCmd(t, "issue", "--data", data, "--org-id", fmt.Sprintf("PSDPL-KNF-77%08d", port), "--name", "Biuro Rachunkowe Test",
		"--out", dir, "--register", "--redirect-uri", fmt.Sprintf("http://127.0.0.1:%d/callback", port))
	return dir
}

// connectAgain runs `tpp connect` once more, approved as the customer.
func connectAgain(t *testing.T, p *sandboxProc, cfg string, who psu) {
	t.Helper()
	connectAs(t, p, cfg, who)
}
