package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
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
	if err := run(context.Background(), []string{"tpp", "init", "--sandbox", data, "--out", cfg, "--dialect", dialect}, func(string) string { return "" }, &out, io.Discard); err != nil {
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
		if u.Login == "katarzyna.wojcik" {
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
	// exceed four unattended accesses a day, so it skips the accounts.
	_, warnings, err := tpp("sync")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warnings, "skipped") {
		t.Fatalf("a third sync in a day did not keep to the limit; it said %q", warnings)
	}
}
