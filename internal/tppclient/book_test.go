package tppclient

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/polish"
)

func testBook(t *testing.T) *Book {
	t.Helper()
	dir := t.TempDir()
	b, err := OpenBook(filepath.Join(dir, "book.db"), filepath.Join(dir, "book.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

const testNRB = "38099000191000000600000002"

// day builds a bank list (newest first) from items given oldest first as
// "id amount balanceAfter" on one booking day.
func list(day string, oldestFirst ...string) []received {
	out := make([]received, len(oldestFirst))
	for i, s := range oldestFirst {
		f := strings.Fields(s)
		out[len(out)-1-i] = received{Item: Item{ItemID: f[0], BookingDate: day, TradeDate: day, Amount: f[1], BalanceAfter: f[2],
			Currency: "PLN", Description: "item " + f[0]}, raw: []byte(`{}`)}
	}
	return out
}

// newest-first concatenation of day lists given oldest day first.
func days(lists ...[]received) []received {
	var out []received
	for i := len(lists) - 1; i >= 0; i-- {
		out = append(out, lists[i]...)
	}
	return out
}

func warsawDay(s string) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, s, polish.Warsaw)
	return d
}

func statement(t *testing.T, b *Book, from, to string) (export.Statement, error) {
	t.Helper()
	s, _, err := b.Statement(export.Account{IBAN: testNRB}, warsawDay(from), warsawDay(to))
	return s, err
}

// A payroll day: the account is funded with exactly the salaries it pays,
// so the balance starts and ends the day at zero. The balances alone allow
// several orders (the day is a cycle); the book keeps the bank's.
func TestBookKeepsTheBanksOrderOfADay(t *testing.T) {
	t.Parallel()
	b := testBook(t)
	ctx := context.Background()
	now := warsawDay("2026-11-02").Add(12 * time.Hour)
	payday := list("2026-10-31",
		"salary1 -3000.00 -3000.00", // an overdraft for a moment, as a cycle allows
		"fund 5000.00 2000.00",
		"salary2 -2000.00 0.00",
	)
	before := list("2026-10-30", "fee -5.00 0.00") // the day before also ends at zero
	if err := b.storeBooked(ctx, testNRB, "2026-10-30", days(before, payday), now); err != nil {
		t.Fatal(err)
	}
	s, err := statement(t, b, "2026-10-31", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range s.Items {
		ids = append(ids, it.ID)
	}
	if got := strings.Join(ids, " "); got != "salary1 fund salary2" {
		t.Fatalf("the day's items in the order %s, the bank's is salary1 fund salary2", got)
	}
	if s.OpeningBalance != 0 || s.ClosingBalance != 0 {
		t.Fatalf("opening %s closing %s, want 0.00 and 0.00", s.OpeningBalance, s.ClosingBalance)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}

	// The same day read again (the incremental sync's overlap) and an item
	// booked later that day: still three plus one items, in the bank's order.
	payday = list("2026-10-31", "salary1 -3000.00 -3000.00", "fund 5000.00 2000.00", "salary2 -2000.00 0.00", "late 7.00 7.00")
	if err := b.storeBooked(ctx, testNRB, "2026-10-31", days(payday), now); err != nil {
		t.Fatal(err)
	}
	all, _ := b.bookedItems(testNRB)
	if len(all) != 5 {
		t.Fatalf("after the overlap the book holds %d items, want 5 (never doubled)", len(all))
	}
	s, err = statement(t, b, "2026-10-30", "2026-11-02")
	if err != nil || s.ClosingBalance != 700 || len(s.Items) != 5 || s.Items[4].ID != "late" {
		t.Fatalf("statement after the overlap: %v, closing %s, %d items", err, s.ClosingBalance, len(s.Items))
	}
}

// A pending payment is one row that becomes booked; a pending row the bank
// no longer lists goes.
func TestBookPendingBecomesBooked(t *testing.T) {
	t.Parallel()
	b := testBook(t)
	ctx := context.Background()
	now := warsawDay("2026-11-02").Add(12 * time.Hour)
	pending := list("2026-11-02", "p1 -10.00 x", "p2 -20.00 x")
	for i := range pending {
		pending[i].BalanceAfter, pending[i].BookingDate = "", ""
	}
	if err := b.storePending(ctx, testNRB, "2026-10-30", pending, now); err != nil {
		t.Fatal(err)
	}
	if err := b.storeBooked(ctx, testNRB, "2026-10-30", list("2026-11-02", "p1 -10.00 90.00"), now); err != nil {
		t.Fatal(err)
	}
	// p1 was booked, p2 cancelled: the bank lists neither as pending.
	if err := b.storePending(ctx, testNRB, "2026-10-30", nil, now); err != nil {
		t.Fatal(err)
	}
	items, _ := b.Items(testNRB)
	if len(items) != 1 || items[0].ItemID != "p1" || items[0].Status != "booked" || items[0].DayPos != 1 {
		t.Fatalf("items %+v, want p1 booked alone", items)
	}
	// A later pending list never turns a booked item back.
	if err := b.storePending(ctx, testNRB, "2026-10-30", pending[1:], now); err != nil { // p1 pending again
		t.Fatal(err)
	}
	if items, _ = b.Items(testNRB); items[0].Status != "booked" {
		t.Fatalf("a pending answer overwrote the booked item: %+v", items[0])
	}
}

// A book that lost an item: the statement names the first item that breaks
// the chain and the day to re-sync from; a period the book does not cover
// is refused; an account never synced is an error.
func TestStatementRefusesWhatDoesNotAddUp(t *testing.T) {
	t.Parallel()
	b := testBook(t)
	ctx := context.Background()
	now := warsawDay("2026-11-05").Add(12 * time.Hour)
	// 2026-11-02's second item is missing.
	if err := b.storeBooked(ctx, testNRB, "2026-11-01", days(
		list("2026-11-01", "a 100.00 100.00"),
		list("2026-11-02", "b -10.00 90.00"),
		list("2026-11-03", "d 5.00 75.00", "e 1.00 76.00"),
	), now); err != nil {
		t.Fatal(err)
	}
	_, err := statement(t, b, "2026-11-03", "2026-11-04")
	var chain *ChainError
	if !errors.As(err, &chain) || chain.Item.ItemID != "d" || chain.Prev.ItemID != "b" || chain.ResyncFrom != "2026-11-02" ||
		!strings.Contains(err.Error(), "sync --from 2026-11-02") {
		t.Fatalf("a lost item: %v", err)
	}
	if _, err := statement(t, b, "2026-11-01", "2026-11-02"); err != nil {
		t.Fatalf("the period before the break adds up: %v", err)
	}
	if _, err := statement(t, b, "2026-10-01", "2026-11-02"); err == nil || !strings.Contains(err.Error(), "sync --from 2026-10-01") {
		t.Fatalf("a period before the book's history: %v", err)
	}
	if _, _, err := b.Statement(export.Account{IBAN: "65099000191000000600000001"}, warsawDay("2026-11-01"), warsawDay("2026-11-02")); !errors.Is(err, ErrNotInBook) {
		t.Fatalf("an account not in the book: %v", err)
	}
	// A period without items has the balance of its time: the bank's
	// balance after the item before it.
	if s, err := statement(t, b, "2026-11-04", "2026-11-05"); err != nil || s.OpeningBalance != 7600 || s.ClosingBalance != 7600 || len(s.Items) != 0 {
		t.Fatalf("an empty period: %v, opening %s closing %s", err, s.OpeningBalance, s.ClosingBalance)
	}
	if s, err := statement(t, b, "2026-11-01", "2026-11-01"); err != nil || s.ClosingBalance != 10000 {
		t.Fatalf("one day: %v %s", err, s.ClosingBalance)
	}
}

// A book made before day_pos existed opens, keeps its items and orders a
// day by its balance chain until a re-sync places them.
func TestOldBookUpgrades(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "book.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE items (
    account TEXT NOT NULL, item_id TEXT NOT NULL, status TEXT NOT NULL,
    booking_date TEXT NOT NULL DEFAULT '', trade_date TEXT NOT NULL DEFAULT '', amount TEXT NOT NULL, currency TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', counterparty_name TEXT NOT NULL DEFAULT '', counterparty_account TEXT NOT NULL DEFAULT '',
    balance_after TEXT NOT NULL DEFAULT '', raw TEXT NOT NULL, synced_at TEXT NOT NULL,
    PRIMARY KEY (account, item_id))`); err != nil {
		t.Fatal(err)
	}
	// ids sort against the bank's order; on 2026-11-01, the book's first
	// day, the balance comes back to where it started (a cycle whose start
	// only the bank's order tells).
	for i, it := range []string{"01 r 5.00 5.00", "01 q -5.00 0.00", "02 z 1.00 1.00", "02 y 2.00 3.00", "02 x -1.00 2.00"} {
		f := strings.Fields(it)
		if _, err := db.Exec(`INSERT INTO items VALUES (?, ?, 'booked', ?, ?, ?, 'PLN', '', '', '', ?, '{}', ?)`,
			testNRB, f[1], "2026-11-"+f[0], "2026-11-"+f[0], f[2], f[3], fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := OpenBook(path, filepath.Join(dir, "book.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := statement(t, b, "2026-11-02", "2026-11-02")
	if err != nil || len(s.Items) != 3 || s.Items[0].ID != "z" || s.Items[2].ID != "x" || s.ClosingBalance != 200 {
		t.Fatalf("an old book's day: %v %+v", err, s.Items)
	}
	if _, err := statement(t, b, "2026-11-01", "2026-11-01"); err == nil || !strings.Contains(err.Error(), "sync --from 2026-11-01") {
		t.Fatalf("an old book's day that only the bank's order can settle: %v", err)
	}
}

// The daily limit as the bank counts it: 4 unattended reads of an account
// in any 24 hours of the bank's clock, per consent.
func TestReadsFollowTheBanksWindow(t *testing.T) {
	t.Parallel()
	b := testBook(t)
	t0 := time.Date(2026, 11, 2, 23, 0, 0, 0, polish.Warsaw)
	for _, at := range []time.Time{t0, t0, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)} {
		if err := b.countRead("c1", testNRB, at); err != nil {
			t.Fatal(err)
		}
	}
	// After midnight the calendar day is another, but not the bank's window.
	if ok, used, next := b.readsAllowed("c1", testNRB, 2, t0.Add(2*time.Hour)); ok || used != 4 || !next.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("after midnight: ok %v, used %d, next %s", ok, used, next)
	}
	if ok, _, next := b.readsAllowed("c1", testNRB, 1, t0.Add(2*time.Hour)); ok || !next.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("one read after midnight: ok %v, next %s", ok, next)
	}
	if ok, used, _ := b.readsAllowed("c1", testNRB, 2, t0.Add(24*time.Hour+time.Second)); !ok || used != 2 {
		t.Fatalf("24 hours later: ok %v, used %d", ok, used)
	}
	if ok, used, _ := b.readsAllowed("c2", testNRB, 2, t0.Add(time.Hour)); !ok || used != 0 {
		t.Fatalf("a new consent: ok %v, used %d", ok, used)
	}
}

// Where a sync starts: Overlap days before the last sync, not before the
// newest item (an account without items for months would ask further back
// than the consent allows), never before the consent's history.
func TestSyncFrom(t *testing.T) {
	t.Parallel()
	b := testBook(t)
	now := warsawDay("2026-12-04").Add(10 * time.Hour)
	o := SyncOptions{HistoryDays: 90}
	if got := syncFrom(b, testNRB, now, o); got != "2026-09-05" {
		t.Fatalf("the first sync from %s, want 90 days back", got)
	}
	// Synced on 2026-12-01; the newest item is from August.
	if err := b.storeBooked(context.Background(), testNRB, "2026-08-01", list("2026-08-10", "old 1.00 1.00"), warsawDay("2026-12-01").Add(9*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := syncFrom(b, testNRB, now, o); got != "2026-11-28" {
		t.Fatalf("the next sync from %s, want 3 days before the last sync", got)
	}
	if got := syncFrom(b, testNRB, now.AddDate(1, 0, 0), o); got != "2027-09-05" {
		t.Fatalf("a sync a year later from %s, want no further back than the consent's 90 days", got)
	}
	if got := syncFrom(b, testNRB, now, SyncOptions{HistoryDays: 90, From: "2026-10-01"}); got != "2026-10-01" {
		t.Fatalf("sync --from: %s", got)
	}
}
