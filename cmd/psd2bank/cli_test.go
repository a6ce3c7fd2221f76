package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/psd2bank/psd2bank/internal/tppclient"
)

// cli runs psd2bank with args and no environment.
func cli(args ...string) (stdout, stderr string, err error) {
	var o, e strings.Builder
	err = run(context.Background(), args, func(string) string { return "" }, &o, &e)
	return o.String(), e.String(), err
}

// -h and --help on every command and subcommand print help on stdout and
// do nothing else: no configuration is read, no consent started, no file
// written, nothing on stderr, success.
func TestHelpOnEveryCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var all [][]string
	for _, c := range commands {
		if c.run != nil {
			all = append(all, []string{c.name})
		}
	}
	for _, c := range tppCommands {
		all = append(all, []string{"tpp", c.name}, []string{"tpp", "--config", "missing.json", c.name})
	}
	all = append(all, []string{"certs", "issue"}, []string{"certs", "revoke"}, []string{"tpp"})
	for _, args := range all {
		for _, h := range []string{"-h", "--help", "-help"} {
			out, errOut, err := cli(append(append([]string{}, args...), h)...)
			if err != nil || errOut != "" || !strings.Contains(out, "psd2bank") {
				t.Errorf("psd2bank %s %s: error %v, stderr %q, stdout %q", strings.Join(args, " "), h, err, errOut, out)
			}
		}
		if out, _, err := cli(append([]string{"help"}, args...)...); err != nil || !strings.Contains(out, "psd2bank") {
			t.Errorf("psd2bank help %s: %v %q", strings.Join(args, " "), err, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("help wrote files: %v", entries)
	}

	// --help lists every command; tpp -h every tpp command.
	out, _, _ := cli("--help")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("psd2bank --help does not list %s:\n%s", c.name, out)
		}
	}
	out, _, _ = cli("tpp", "-h")
	for _, c := range tppCommands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("psd2bank tpp -h does not list %s:\n%s", c.name, out)
		}
	}
}

func TestVersionAndUnknownCommands(t *testing.T) {
	t.Parallel()
	if out, _, err := cli("version"); err != nil || !strings.HasPrefix(out, "psd2bank ") {
		t.Errorf("version: %v %q", err, out)
	}
	if out, _, err := cli("--version"); err != nil || !strings.HasPrefix(out, "psd2bank ") {
		t.Errorf("--version: %v %q", err, out)
	}
	for _, args := range [][]string{{"fly"}, {"tpp", "fly"}, {"certs", "fly"}, {"help", "fly"}} {
		out, errOut, err := cli(args...)
		if exitCode(err) != 2 || !strings.HasPrefix(err.Error(), "unknown") || !strings.Contains(err.Error(), `"fly"`) || out != "" || errOut != "" {
			t.Errorf("%v: error %v (exit %d), stdout %q, stderr %q; want the unknown command named first, exit 2", args, err, exitCode(err), out, errOut)
		}
	}
	// A wrong flag is a usage error that says so, with nothing else.
	if _, errOut, err := cli("migrate", "--nope"); exitCode(err) != 2 || !strings.Contains(err.Error(), "-nope") || errOut != "" {
		t.Errorf("migrate --nope: %v, stderr %q", err, errOut)
	}
}

// tpp pay checks what it can before anything else (no configuration is
// even read): the NRBs, the amount in the currency's decimals, the date.
func TestTPPPayChecksLocally(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "none.json")
	pay := func(extra ...string) error {
		args := map[string]string{"--to": "61109010140000071219812874", "--name": "Flora", "--amount": "12.34", "--title": "FV 1"}
		for i := 0; i+1 < len(extra); i += 2 {
			args[extra[i]] = extra[i+1]
		}
		line := []string{"tpp", "--config", cfg, "pay"}
		for k, v := range args {
			line = append(line, k, v)
		}
		_, _, err := cli(line...)
		return err
	}
	for _, tc := range []struct {
		flag, value, says string
	}{
		{"--to", "61109010140000071219812875", "--to"},
		{"--to", "6110901014000007121981287", "--to"},
		{"--from", "12345", "--from"},
		{"--amount", "0", "above zero"},
		{"--amount", "0,00", "above zero"},
		{"--amount", "-5", "--amount"},
		{"--amount", "12.345", "--amount"},
		{"--amount", "12,345", "--amount"},
		{"--amount", "1.234,50", "--amount"},
		{"--amount", "abc", "--amount"},
		{"--date", "2020-01-01", "past"},
		{"--date", "2026-13-01", "--date"},
		{"--title", strings.Repeat("x", 141), "140"},
		{"--currency", "XYZ", "--amount"},
		{"--to", "DE89370400440532013000", "--to"}, // a foreign IBAN goes by SEPA, in EUR
	} {
		err := pay(tc.flag, tc.value)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("pay %s %q: %v; want a usage error mentioning %q", tc.flag, tc.value, err, tc.says)
		}
	}
	// 12,50 is the Polish way of writing 12.50; NRBs with spaces and PL are
	// fine: the checks pass and only the missing configuration stops it.
	// A foreign IBAN in EUR (SEPA, berlingroup) passes when its check
	// digits are right.
	if err := pay("--to", "DE88370400440532013000", "--currency", "EUR"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--to") {
		t.Errorf("pay to a German IBAN with wrong check digits: %v; want a usage error about --to", err)
	}
	for _, extra := range [][]string{{"--amount", "12,50"}, {"--to", "PL61 1090 1014 0000 0712 1981 2874"}, {"--amount", "1000", "--currency", "JPY"},
		{"--to", "DE89 3704 0044 0532 0130 00", "--currency", "EUR"}} {
		if err := pay(extra...); err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "configuration") {
			t.Errorf("pay %v: %v; want the checks passed and the configuration missing", extra, err)
		}
	}
}

// A book with one account's items, as sync leaves it, for the export tests.
func exportBook(t *testing.T) (cfg string, accounts []string) {
	t.Helper()
	dir := t.TempDir()
	accounts = []string{"38099000191000000600000002", "65099000191000000600000001"}
	conf := tppConfig{Book: "book.db", KeyFile: "book.key", Dialect: "polishapi"}
	raw, _ := json.Marshal(conf)
	cfg = filepath.Join(dir, "tpp.json")
	os.WriteFile(cfg, raw, 0o600)
	book, err := tppclient.OpenBook(filepath.Join(dir, "book.db"), filepath.Join(dir, "book.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := book.SaveTokens(tppclient.Tokens{Accounts: accounts}); err != nil {
		t.Fatal(err)
	}
	book.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, acct := range accounts {
		for i, it := range [][]string{
			{"a", "2026-11-02", "1", "100.00", "100.00"},
			{"b", "2026-11-02", "2", "-40.00", "60.00"},
			{"c", "2026-11-03", "1", "-60.00", "0.00"},
			{"d", "2026-11-04", "1", "15.00", "15.00"},
		} {
			if _, err := db.Exec(`INSERT INTO items (account, item_id, status, booking_date, trade_date, amount, currency, balance_after,
				raw, synced_at, day_pos, description, counterparty_name) VALUES (?, ?, 'booked', ?, ?, ?, 'PLN', ?, '{}', ?, ?, 'Faktura', 'Flora')`,
				acct, it[0], it[1], it[1], it[3], it[4], i, it[2]); err != nil {
				t.Fatal(err)
			}
		}
		db.Exec(`INSERT INTO coverage (account, booked_from, synced_at) VALUES (?, '2026-11-01', '2026-11-05T12:00:00Z')`, acct)
	}
	// The second account lost item c (a sync failed half-way in an older version).
	db.Exec(`DELETE FROM items WHERE account = ? AND item_id = 'c'`, accounts[1])
	return cfg, accounts
}

func TestTPPExportCommand(t *testing.T) {
	t.Parallel()
	cfg, accounts := exportBook(t)
	dir := t.TempDir()
	export := func(args ...string) (string, string, error) {
		return cli(append([]string{"tpp", "--config", cfg, "export", "--format", "csv", "--from", "2026-11-02", "--to", "2026-11-04"}, args...)...)
	}

	// An NRB with spaces; it says what it wrote.
	out := filepath.Join(dir, "one.csv")
	stdout, _, err := export("--account", "38 0990 0019 1000 0006 0000 0002", "--out", out)
	if err != nil || !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "4 items") ||
		!strings.Contains(stdout, "opening balance 0.00") || !strings.Contains(stdout, "closing balance 15.00 PLN") {
		t.Fatalf("export with spaces: %v %q", err, stdout)
	}

	// An account not in the book is an error, and writes nothing.
	out = filepath.Join(dir, "none.csv")
	if _, _, err := export("--account", "61109010140000071219812874", "--out", out); err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "not in the book") {
		t.Fatalf("an account not in the book: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed export left %s", out)
	}
	if _, _, err := export("--account", "38099000191000000600000003"); exitCode(err) != 2 {
		t.Fatalf("an NRB with a wrong checksum: %v", err)
	}

	// A book that does not add up: the first item that breaks the chain,
	// the day to re-sync from; an earlier file is left as it was.
	out = filepath.Join(dir, "broken.csv")
	os.WriteFile(out, []byte("the previous statement"), 0o644)
	_, _, err = export("--account", accounts[1], "--out", out)
	if err == nil || !strings.Contains(err.Error(), "item d") || !strings.Contains(err.Error(), "sync --from 2026-11-02") {
		t.Fatalf("a broken chain: %v", err)
	}
	if raw, _ := os.ReadFile(out); string(raw) != "the previous statement" {
		t.Fatalf("a failed export touched %s: %q", out, raw)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	// --account all (or repeated) writes a file per account into a
	// directory; the broken one fails and the exit status says so.
	outDir := filepath.Join(dir, "all")
	stdout, stderr, err := export("--account", "all", "--out", outDir)
	if !errors.Is(err, errReported) || !strings.Contains(stderr, accounts[1]) || !strings.Contains(stdout, accounts[0]) {
		t.Fatalf("--account all: %v %q %q", err, stdout, stderr)
	}
	files, _ := os.ReadDir(outDir)
	if len(files) != 1 || !strings.HasPrefix(files[0].Name(), accounts[0]) {
		t.Fatalf("--account all wrote %v", files)
	}
	if _, _, err := export("--account", accounts[0], "--account", accounts[1]); exitCode(err) != 2 {
		t.Fatalf("several accounts without --out: %v", err)
	}

	// JPK_WB without the holder's details says which are missing, and
	// writes nothing.
	out = filepath.Join(dir, "jpk.xml")
	_, _, err = cli("tpp", "--config", cfg, "export", "--format", "jpk-wb", "--from", "2026-11-02", "--to", "2026-11-04", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "--nip") || !strings.Contains(err.Error(), "--tax-office") {
		t.Fatalf("JPK_WB without the owner: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed JPK_WB export left %s", out)
	}
}

// tpp init takes the holder's details for JPK_WB and checks them.
func TestTPPInitOwner(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "sandbox"), 0o755)
	os.WriteFile(filepath.Join(data, "sandbox", "endpoints.json"), []byte(`{"api":"https://127.0.0.1:1","web":"http://127.0.0.1:2"}`), 0o644)
	out := filepath.Join(t.TempDir(), "tpp.json")
	if _, _, err := cli("tpp", "init", "--sandbox", data, "--out", out, "--nip", "5213000001"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--nip") {
		t.Fatalf("a wrong NIP: %v", err)
	}
	stdout, _, err := cli("tpp", "init", "--sandbox", data, "--out", out)
	if err != nil || !strings.Contains(stdout, "JPK_WB exports also need: --owner-name, --nip") {
		t.Fatalf("init without the owner: %v %q", err, stdout)
	}
	stdout, _, err = cli("tpp", "init", "--sandbox", data, "--out", out, "--owner-name", "Budowa Polska S.A.", "--nip", "521-300-00-09",
		"--tax-office", "1471", "--voivodeship", "mazowieckie", "--county", "Warszawa", "--commune", "Warszawa", "--street", "ul. Domaniewska",
		"--house", "50", "--city", "Warszawa", "--postal-code", "02-672")
	if err != nil || strings.Contains(stdout, "also need") {
		t.Fatalf("init with the owner: %v %q", err, stdout)
	}
	c, err := loadTPPConfig(out)
	if err != nil || c.Owner.TaxOfficeCode != "1471" || c.Owner.Address.PostalCode != "02-672" || c.ClockURL != "http://127.0.0.1:2/sandbox/clock" {
		t.Fatalf("the configuration: %v %+v", err, c)
	}
}
