package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Accounting exports are right over any period (issue 17), as a property
// over the sandbox's two years, in both dialects: every account of every
// test customer is connected and synced in full, then the bank books more
// items on the same day (among them transfers that take a balance back to
// where it was, as a payroll account's day does), and an incremental sync
// reads the last days again. After each sync, over the whole history and
// over random periods, every format's opening balance plus its items is
// its closing balance, the items are the bank's in the bank's order with
// the bank's balance after each, and the closing balance is the bank's
// balance at the end of the period. The bank's own database is the oracle.
// Berlin Group runs over two customers only (jan.kowalski: two PLN
// accounts and a EUR one; kwiaciarnia.roza: two PLN accounts), to keep the
// test's time: each of its pages is a signed request and a read, and the
// first import of two years is made with the customer present (sync
// --present), as its frequencyPerDay would allow four pages a day.
func TestExportsAddUpOverAnyPeriod(t *testing.T) {
	if testing.Short() {
		t.Skip("the sandbox's whole history in both dialects")
	}
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	tppDir := ownTPP(t, data)
	bankDB, err := sql.Open("sqlite", "file:"+filepath.Join(data, "psd2bank.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer bankDB.Close()
	rng := rand.New(rand.NewPCG(17, uint64(time.Now().UnixNano())))
	seed := rng.Uint64()
	t.Logf("random periods from seed %d", seed)
	rng = rand.New(rand.NewPCG(17, seed))
	booked := false
	for _, dialect := range []string{"polishapi", "mbank", "berlingroup"} {
		t.Run(dialect, func(t *testing.T) {
			psus, firstSync := readPSUs(t, data), []string{"sync"}
			if dialect == "berlingroup" {
				psus = slices.DeleteFunc(psus, func(u psu) bool { return u.Login != "jan.kowalski" && u.Login != "kwiaciarnia.roza" })
				firstSync = []string{"sync", "--present"}
			}
			for _, who := range psus {
				cfg := filepath.Join(t.TempDir(), "tpp.json")
				tpp := tppCLI(t, data, cfg, dialect, tppDir)
				connectAs(t, p, cfg, who)
				if _, e, err := tpp(firstSync...); err != nil {
					t.Fatalf("%s: first sync: %v\n%s", who.Login, err, e)
				}
				checkExports(t, bankDB, tpp, who, rng, "after the first sync", false)
				if !booked { // once: both dialects' second syncs read them
					bookSameDayCycles(t, data)
					booked = true
				}
				if _, e, err := tpp("sync"); err != nil {
					t.Fatalf("%s: incremental sync: %v\n%s", who.Login, err, e)
				}
				checkExports(t, bankDB, tpp, who, rng, "after an incremental sync", true)
			}
		})
	}
}

// tppCLI writes a TPP configuration for the sandbox (two years of history,
// the firm's details for JPK_WB) and returns a runner of `psd2bank tpp`.
func tppCLI(t *testing.T, data, cfg, dialect, tppDir string) func(args ...string) (string, string, error) {
	t.Helper()
	if err := run(context.Background(), []string{"tpp", "init", "--sandbox", data, "--out", cfg, "--dialect", dialect, "--tpp", tppDir},
		func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(cfg)
	var conf map[string]any
	json.Unmarshal(raw, &conf)
	conf["history_days"] = 729
	conf["owner"] = map[string]any{"name": "Budowa Polska S.A.", "nip": "5213000009", "tax_office_code": "1471",
		"address": map[string]string{"Voivodeship": "mazowieckie", "County": "Warszawa", "Commune": "Warszawa",
			"Street": "ul. Domaniewska", "HouseNumber": "50", "City": "Warszawa", "PostalCode": "02-672"}}
	raw, _ = json.Marshal(conf)
	os.WriteFile(cfg, raw, 0o600)
	return func(args ...string) (string, string, error) {
		var o, e strings.Builder
		err := run(context.Background(), append([]string{"tpp", "--config", cfg}, args...), func(string) string { return "" }, &o, &e)
		return o.String(), e.String(), err
	}
}

// connectAs runs `tpp connect` and approves it as the customer, every
// account ticked.
func connectAs(t *testing.T, p *sandboxProc, cfg string, who psu) {
	t.Helper()
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
	back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
	newBrowser(t, "").get(back)
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("connect as %s: %v", who.Login, err)
	}
}

// bookSameDayCycles books, today, transfers back and forth between each
// customer's accounts of one currency: each account's balance returns to
// where it was within the day, so only the bank's order tells the day's
// items apart (a chain of balances alone has several starts). It also
// books the payments waiting for their Elixir session.
func bookSameDayCycles(t *testing.T, data string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "psd2bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := ledger.New(db, clock.System{})
	n := 0
	for _, who := range readPSUs(t, data) {
		var accts []ledger.Account
		for _, a := range who.Accounts {
			acct, err := l.AccountByNRB(ctx, a.Number)
			if err != nil {
				t.Fatal(err)
			}
			accts = append(accts, acct)
		}
		for i, a := range accts {
			for _, b := range accts[i+1:] {
				if a.Currency != b.Currency {
					continue
				}
				for _, m := range []struct {
					from, to ledger.Account
					amount   money.Amount
				}{{a, b, 10000}, {b, a, 10000}, {a, b, 2500}, {b, a, 2500}, {a, b, 100}} {
					if _, err := l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: m.from.ID, CreditAccountID: m.to.ID,
						Amount: m.amount, Title: "Przeksięgowanie testowe"}); err == nil {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no same-day transfer could be booked: the test needs customers with two accounts in one currency")
	}
	// Pending payments waiting for their Elixir session are booked now:
	// the incremental sync turns their pending rows into booked ones.
	rows, err := db.QueryContext(ctx, `SELECT id FROM transfers WHERE status = 'pending'`)
	if err != nil {
		t.Fatal(err)
	}
	var pending []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		pending = append(pending, id)
	}
	rows.Close()
	settled := 0
	for _, id := range pending {
		if _, err := l.Settle(ctx, id); err == nil {
			settled++
		}
	}
	if settled == 0 {
		t.Fatal("no pending payment to book: the test needs the sandbox's pending Elixir payments")
	}
}

// bankPosting is a booked item as the bank's database keeps it.
type bankPosting struct {
	id            string
	seq           int64
	day           string
	amount, after money.Amount
}

func bankPostings(t *testing.T, db *sql.DB, nrb string) []bankPosting {
	t.Helper()
	rows, err := db.Query(`SELECT p.transfer_id, p.seq, p.booking_date, p.amount, p.balance_after FROM postings p
		JOIN accounts a ON a.id = p.account_id WHERE a.nrb = ? ORDER BY p.seq`, nrb)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []bankPosting
	for rows.Next() {
		var p bankPosting
		var amount, after int64
		if err := rows.Scan(&p.id, &p.seq, &p.day, &amount, &after); err != nil {
			t.Fatal(err)
		}
		p.amount, p.after = money.Amount(amount), money.Amount(after)
		out = append(out, p)
	}
	return out
}

// parsed is what a test reads back from an exported file.
type parsed struct {
	opening, closing money.Amount
	ids              []string       // when the format carries them whole
	amounts          []money.Amount // signed
	balances         []money.Amount // running balances, when the format has them
}

// checkExports exports every account of the customer over random periods,
// one format each, and (whole) over its whole synced history in every
// format, and compares each file with the bank's database.
func checkExports(t *testing.T, db *sql.DB, tpp func(args ...string) (string, string, error), who psu, rng *rand.Rand, when string, whole bool) {
	t.Helper()
	formats := []string{"csv", "mt940", "camt053", "jpk-wb"}
	today := time.Now().In(polish.Warsaw)
	first := today.AddDate(0, 0, -729)
	dir := t.TempDir()
	for _, a := range who.Accounts {
		bank := bankPostings(t, db, a.Number)
		type period struct{ from, to time.Time }
		var periods []period
		if whole {
			periods = append(periods, period{first, today})
		}
		for range 4 {
			x, y := first.AddDate(0, 0, rng.IntN(730)), first.AddDate(0, 0, rng.IntN(730))
			if y.Before(x) {
				x, y = y, x
			}
			if rng.IntN(3) == 0 { // short periods too: a day or a few
				y = x.AddDate(0, 0, rng.IntN(4))
			}
			periods = append(periods, period{x, y})
		}
		for i, per := range periods {
			fs := formats
			if !whole || i > 0 { // a random period: one format each, in turn
				k := (i + rng.IntN(len(formats))) % len(formats)
				fs = formats[k : k+1]
			}
			from, to := per.from.Format(time.DateOnly), per.to.Format(time.DateOnly)
			// The oracle: the bank's items booked in the period, in its order,
			// up to the newest item that the sync read.
			var want []bankPosting
			opening, known := money.Amount(0), false
			for _, p := range bank {
				if p.day < from {
					opening, known = p.after, true
				} else if p.day <= to {
					want = append(want, p)
				}
			}
			if !known && len(want) > 0 {
				opening, known = want[0].after-want[0].amount, true
			}
			for _, f := range fs {
				what := fmt.Sprintf("%s %s, %s %s to %s, %s", when, who.Login, a.Number, from, to, f)
				out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.%s", a.Number, from, to, f))
				_, e, err := tpp("export", "--account", a.Number, "--format", f, "--from", from, "--to", to, "--out", out)
				if err != nil {
					if f == "jpk-wb" && len(want) == 0 && strings.Contains(err.Error(), "at least one item") {
						if _, serr := os.Stat(out); serr == nil {
							t.Errorf("%s: a failed export left %s behind", what, out)
						}
						continue
					}
					if !known && len(bank) == 0 && strings.Contains(err.Error(), "no booked item") {
						continue // an account that never had an item: its balance is unknown
					}
					t.Fatalf("%s: %v\n%s", what, err, e)
				}
				raw, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				got := parseExport(t, f, raw)
				compareWithBank(t, what, got, want, opening)
			}
		}
	}
}

func compareWithBank(t *testing.T, what string, got parsed, want []bankPosting, opening money.Amount) {
	t.Helper()
	closing := opening
	if len(want) > 0 {
		closing = want[len(want)-1].after
	}
	sum := got.opening
	for _, a := range got.amounts {
		sum += a
	}
	switch {
	case sum != got.closing:
		t.Errorf("%s: opening %s plus the items is %s, the closing balance says %s", what, got.opening, sum, got.closing)
	case got.opening != opening:
		t.Errorf("%s: opening balance %s, the bank's %s", what, got.opening, opening)
	case got.closing != closing:
		t.Errorf("%s: closing balance %s, the bank's balance at the end of the period %s", what, got.closing, closing)
	case len(got.amounts) != len(want):
		t.Errorf("%s: %d items, the bank booked %d", what, len(got.amounts), len(want))
	default:
		for i, w := range want {
			if got.amounts[i] != w.amount || (got.ids != nil && got.ids[i] != w.id) || (got.balances != nil && got.balances[i] != w.after) {
				var id string
				var bal money.Amount
				if got.ids != nil {
					id = got.ids[i]
				}
				if got.balances != nil {
					bal = got.balances[i]
				}
				t.Errorf("%s: item %d is %s %s (balance after %s), the bank's is %s %s (balance after %s)",
					what, i+1, id, got.amounts[i], bal, w.id, w.amount, w.after)
				return
			}
		}
	}
}

func parseExport(t *testing.T, format string, raw []byte) parsed {
	t.Helper()
	amount := func(s string) money.Amount {
		a, err := money.ParseSigned(strings.ReplaceAll(strings.TrimSpace(s), ",", "."))
		if err != nil {
			t.Fatalf("%s: amount %q: %v", format, s, err)
		}
		return a
	}
	var p parsed
	switch format {
	case "csv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF"))))
		r.Comma, r.FieldsPerRecord = ';', -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		p.ids, p.balances = []string{}, []money.Amount{}
		inItems := false
		for _, row := range rows {
			switch {
			case len(row) == 0 || (len(row) == 1 && row[0] == ""):
				inItems = false
			case row[0] == "#Saldo początkowe":
				p.opening = amount(row[1])
			case row[0] == "#Saldo końcowe":
				p.closing = amount(row[1])
			case row[0] == "#Data księgowania":
				inItems = true
			case inItems:
				p.amounts = append(p.amounts, amount(row[5]))
				p.balances = append(p.balances, amount(row[7]))
				p.ids = append(p.ids, row[10])
			}
		}
	case "mt940":
		sts, err := export.ParseMT940(bytes.NewReader(raw))
		if err != nil || len(sts) != 1 {
			t.Fatalf("MT940: %d statements, %v", len(sts), err)
		}
		p.opening, p.closing = sts[0].OpeningBalance, sts[0].ClosingBalance
		for _, it := range sts[0].Items {
			p.amounts = append(p.amounts, it.Amount)
		}
	case "camt053":
		var doc struct {
			Stmt struct {
				Bal []struct {
					Cd        string `xml:"Tp>CdOrPrtry>Cd"`
					Amt       string `xml:"Amt"`
					CdtDbtInd string `xml:"CdtDbtInd"`
				} `xml:"Bal"`
				Ntry []struct {
					Ref       string `xml:"NtryRef"`
					Amt       string `xml:"Amt"`
					CdtDbtInd string `xml:"CdtDbtInd"`
				} `xml:"Ntry"`
			} `xml:"BkToCstmrStmt>Stmt"`
		}
		if err := xml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		signed := func(a, ind string) money.Amount {
			if ind == "DBIT" {
				return -amount(a)
			}
			return amount(a)
		}
		for _, b := range doc.Stmt.Bal {
			switch b.Cd {
			case "OPBD":
				p.opening = signed(b.Amt, b.CdtDbtInd)
			case "CLBD":
				p.closing = signed(b.Amt, b.CdtDbtInd)
			}
		}
		for _, n := range doc.Stmt.Ntry {
			p.amounts = append(p.amounts, signed(n.Amt, n.CdtDbtInd))
		}
	case "jpk-wb":
		var doc struct {
			Opening string `xml:"Salda>SaldoPoczatkowe"`
			Closing string `xml:"Salda>SaldoKoncowe"`
			Rows    []struct {
				Kwota string `xml:"KwotaOperacji"`
				Saldo string `xml:"SaldoOperacji"`
			} `xml:"WyciagWiersz"`
		}
		if err := xml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		p.opening, p.closing = amount(doc.Opening), amount(doc.Closing)
		p.balances = []money.Amount{}
		for _, r := range doc.Rows {
			p.amounts = append(p.amounts, amount(r.Kwota))
			p.balances = append(p.balances, amount(r.Saldo))
		}
	}
	return p
}
