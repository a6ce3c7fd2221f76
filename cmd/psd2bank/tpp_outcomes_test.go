package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// tpp sync and balance go on past an account whose API access its holder
// blocked: each account's outcome in a table, what to do, exit status 1.
func TestTPPSyncAndBalanceGoOnPastABlockedAccount(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	cfg := filepath.Join(t.TempDir(), "tpp.json")
	tpp := tppCLI(t, data, cfg, "polishapi", ownTPP(t, data))
	var who psu
	for _, u := range readPSUs(t, data) {
		if u.Login == "budowa.polska" { // a corporate customer: blocks API access itself
			who = u
		}
	}
	connectAs(t, p, cfg, who)

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := ledger.New(db, clock.System{})
	blocked := who.Accounts[1].Number
	acct, err := l.AccountByNRB(ctx, blocked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := access.New(db, l, clock.System{}).ChangeByCustomer(ctx, acct.CustomerID, blocked, access.Blocked, "sms", "test: block"); err != nil {
		t.Fatal(err)
	}

	table, _, err := tpp("sync")
	if !errors.Is(err, errReported) {
		t.Fatalf("sync with a blocked account: %v\n%s", err, table)
	}
	for _, a := range who.Accounts {
		line := lineWith(table, a.Number)
		want := "synced"
		if a.Number == blocked {
			want = "failed"
		}
		if !strings.Contains(line, want) {
			t.Errorf("sync's table says %q for %s, want %s:\n%s", line, a.Number, want, table)
		}
	}
	if !strings.Contains(table, "internet banking") {
		t.Errorf("sync's table does not say what to do about the blocked account:\n%s", table)
	}

	out, errOut, err := tpp("balance")
	if !errors.Is(err, errReported) || strings.Contains(out, blocked) || !strings.Contains(errOut, blocked) || !strings.Contains(errOut, "internet banking") {
		t.Fatalf("balance with a blocked account: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	if n := strings.Count(out, "available"); n != len(who.Accounts)-1 {
		t.Fatalf("balance read %d accounts, want the %d not blocked:\n%s", n, len(who.Accounts)-1, out)
	}
}

func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
