package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// psd2bank tpp through Berlin Group, end to end over mTLS against the
// sandbox: a configuration made for PolishAPI switches to berlingroup at
// connect (the customer approves the bank-offered consent on the bank's
// pages and comes back to TPP-Redirect-URI), then every command after it
// speaks NextGenPSD2, signed with the TPP's QSealC: accounts, balance,
// sync into the book (the bank's order and balance after each item),
// exports that end at the bank's booked balance, unattended syncs that
// stop before the bank's frequencyPerDay refuses them, a payment approved
// on the bank's pages and its ISO 20022 status following the ledger.
func TestTPPBerlinGroup(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	cfg := filepath.Join(t.TempDir(), "tpp.json")
	if err := run(context.Background(), []string{"tpp", "init", "--sandbox", data, "--out", cfg, "--dialect", "polishapi", "--tpp", ownTPP(t, data)},
		func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	tpp := func(args ...string) (string, string, error) {
		var o, e strings.Builder
		err := run(context.Background(), append([]string{"tpp", "--config", cfg}, args...), func(string) string { return "" }, &o, &e)
		return o.String(), e.String(), err
	}
	if err := run(context.Background(), []string{"tpp", "--config", cfg, "connect", "--dialect", "swift"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "berlingroup") {
		t.Fatalf("connect --dialect swift: %v", err)
	}
	var who psu // a customer with a payment waiting for its Elixir session
	for _, u := range readPSUs(t, data) {
		if u.Login == "kwiaciarnia.roza" {
			who = u
		}
	}

	// connect --dialect berlingroup: the page is the bank's, the browser
	// comes back to the TPP's redirect URI.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"tpp", "--config", cfg, "connect", "--dialect", "berlingroup"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("connect printed nothing: %v", <-done)
	}
	page := lines.Text()[strings.Index(lines.Text(), "http"):]
	if !strings.HasPrefix(page, "http://"+p.web+"/authorize/") {
		t.Fatalf("the consent page %q is not the bank's", page)
	}
	back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
	newBrowser(t, "").get(back)
	if !lines.Scan() || !strings.Contains(lines.Text(), "connected") || !strings.Contains(lines.Text(), "Berlin Group consent") {
		t.Fatalf("connect said %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(cfg)
	var conf struct{ Dialect string }
	json.Unmarshal(raw, &conf)
	if conf.Dialect != "berlingroup" {
		t.Fatalf("the configuration's dialect after connect --dialect berlingroup: %q", conf.Dialect)
	}

	accounts, _, err := tpp("accounts")
	if err != nil || strings.Count(accounts, "\n") != len(who.Accounts) {
		t.Fatalf("accounts: %q %v (the customer has %d)", accounts, err, len(who.Accounts))
	}
	for _, a := range who.Accounts {
		if !strings.Contains(accounts, a.Number) {
			t.Fatalf("accounts lack %s: %q", a.Number, accounts)
		}
	}
	balance, _, err := tpp("balance")
	if err != nil || strings.Count(balance, "available") != len(who.Accounts) {
		t.Fatalf("balance: %q %v", balance, err)
	}

	// sync: every account, without the customer.
	out, e, err := tpp("sync")
	if err != nil || !strings.Contains(out, "synced") {
		t.Fatalf("sync: %v\n%s\n%s", err, out, e)
	}
	book, err := sql.Open("sqlite", filepath.Join(filepath.Dir(cfg), "tpp-book.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	var rows, unbalanced, unplaced int
	book.QueryRow(`SELECT COUNT(*), COALESCE(SUM(balance_after = ''), 0), COALESCE(SUM(day_pos = 0), 0) FROM items WHERE status = 'booked'`).Scan(&rows, &unbalanced, &unplaced)
	if rows == 0 || unbalanced != 0 || unplaced != 0 {
		t.Fatalf("the book after a Berlin Group sync: %d booked items, %d without the bank's balance after, %d without their place in the day", rows, unbalanced, unplaced)
	}
	exportAll(t, cfg, tpp, balance)

	// Unattended syncs go on until the bank's day has no read left for an
	// account: the CLI skips it then, before the bank would refuse (no
	// account fails), and says until when.
	t.Logf("first sync: %d booked items\n%s", rows, out)
	skipped := false
	for i := 0; i < 5 && !skipped; i++ {
		out, e, err := tpp("sync")
		if strings.Contains(out, "failed") {
			t.Fatalf("sync %d: an account failed: the CLI's count of reads is not the bank's\n%s\n%s", i+2, out, e)
		}
		if strings.Contains(out, "skipped") {
			skipped = true
			if err == nil || !strings.Contains(out, "today (the bank's day, Europe/Warsaw)") {
				t.Fatalf("a skipped account: exit %v, table:\n%s", err, out)
			}
		}
	}
	if !skipped {
		t.Fatal("five more unattended syncs a day and no account was skipped: frequencyPerDay is 4")
	}
	// With the customer present, reads do not count.
	if out, e, err := tpp("sync", "--present"); err != nil || strings.Contains(out, "skipped") {
		t.Fatalf("sync --present: %v\n%s\n%s", err, out, e)
	}

	// pay: a PLN domestic transfer, approved on the bank's page; its status
	// follows the ledger to ACSC as the sandbox's clock passes the session.
	from := who.Accounts[0].Number
	pr, pw = io.Pipe()
	go func() {
		done <- run(context.Background(), []string{"tpp", "--config", cfg, "pay", "--from", from, "--to", "61109010140000071219812874",
			"--name", "Hurtownia Kwiatów Flora", "--amount", "12,34", "--title", "Faktura FV 13/2026"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines = bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("pay printed nothing: %v", <-done)
	}
	page = lines.Text()[strings.Index(lines.Text(), "http"):]
	back = newBrowser(t, "http://"+p.web).consentBySMS(page, who, []string{from})
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
	if m == nil || (m[2] != "ACCP" && m[2] != "ACSP" && m[2] != "ACSC") {
		t.Fatalf("pay said %q: want the payment accepted after the customer's approval", paid)
	}
	id := m[1]
	for i := 0; ; i++ {
		out, e, err := tpp("status", id)
		if err != nil {
			t.Fatalf("status: %v %s", err, e)
		}
		if strings.Contains(out, ": ACSC") {
			history := regexp.MustCompile(`(?m)^  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+  (\S+)$`).FindAllStringSubmatch(out, -1)
			if len(history) < 2 || history[len(history)-1][1] != "ACSC" {
				t.Fatalf("status shows no history up to ACSC:\n%s", out)
			}
			break
		}
		if i == 5 {
			t.Fatalf("after the sessions the payment is still:\n%s", out)
		}
		res, err := http.Post("http://"+p.web+"/sandbox/clock", "application/json", strings.NewReader(`{"advance":"26h"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A foreign IBAN needs EUR (SEPA); checked before the customer is asked.
	if _, _, err := tpp("pay", "--to", "DE89370400440532013000", "--name", "Max", "--amount", "1", "--title", "x"); err == nil ||
		!strings.Contains(err.Error(), "--to") {
		t.Fatalf("a German IBAN in PLN: %v", err)
	}

	// EUR from a EUR account goes by SEPA, to a foreign IBAN; a
	// configuration made for berlingroup from the start.
	var jan psu
	for _, u := range readPSUs(t, data) {
		if u.Login == "jan.kowalski" {
			jan = u
		}
	}
	if len(jan.Accounts) < 3 {
		t.Fatal("jan.kowalski has no third (EUR) account: the test needs one")
	}
	eur := jan.Accounts[2].Number // the synthetic bank's EUR account of jan.kowalski
	cfg2 := filepath.Join(t.TempDir(), "tpp.json")
	if err := run(context.Background(), []string{"tpp", "init", "--sandbox", data, "--out", cfg2, "--dialect", "berlingroup", "--tpp", ownTPP(t, data)},
		func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	connectAs(t, p, cfg2, jan)
	pr, pw = io.Pipe()
	go func() {
		done <- run(context.Background(), []string{"tpp", "--config", cfg2, "pay", "--from", eur, "--to", "DE89 3704 0044 0532 0130 00", "--currency", "EUR",
			"--name", "Max Mustermann", "--amount", "10.00", "--title", "Invoice 42"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	lines = bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("pay printed nothing: %v", <-done)
	}
	page = lines.Text()[strings.Index(lines.Text(), "http"):]
	back = newBrowser(t, "http://"+p.web).consentBySMS(page, jan, []string{eur})
	newBrowser(t, "").get(back)
	if !lines.Scan() {
		t.Fatalf("pay said nothing more: %v", <-done)
	}
	paid = lines.Text()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("pay EUR: %v", err)
	}
	if m := regexp.MustCompile(`^payment (\S+): (ACCP|ACSP|ACSC|PDNG)$`).FindStringSubmatch(paid); m == nil {
		t.Fatalf("pay EUR said %q", paid)
	} else if out, e, err := tpp2(cfg2, "status", m[1]); err != nil || !strings.Contains(out, "payment "+m[1]) {
		t.Fatalf("status of the SEPA payment: %v %s %s", err, out, e)
	}
}

// tpp2 runs `psd2bank tpp` with another configuration.
func tpp2(cfg string, args ...string) (string, string, error) {
	var o, e strings.Builder
	err := run(context.Background(), append([]string{"tpp", "--config", cfg}, args...), func(string) string { return "" }, &o, &e)
	return o.String(), e.String(), err
}
