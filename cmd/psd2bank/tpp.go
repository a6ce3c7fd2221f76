package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/tppclient"
)

const tppUsage = `psd2bank tpp — the TPP side: connect a customer's accounts and import their history for bookkeeping

Usage: psd2bank tpp [--config tpp.json] [--open] COMMAND [FLAGS]

Commands:
`

// tppCommand is a command of psd2bank tpp.
type tppCommand struct {
	name, args, summary string
	run                 func(ctx context.Context, t *tppRun, args []string) error
}

// tppCommands is the table `psd2bank tpp -h` lists, in this order.
var tppCommands []tppCommand

func init() {
	tppCommands = []tppCommand{
		{"init", "--sandbox DATA [--out tpp.json] [--dialect polishapi|mbank|berlingroup] [owner flags]", "write a configuration for the sandbox's demo TPP (and the firm's details for JPK_WB)", tppInit},
		{"connect", "[--dialect polishapi|mbank|berlingroup]", "ask the customer's consent: prints the bank's page, receives the redirect (--open opens the page)", tppConnect},
		{"accounts", "", "the connected accounts", tppAccountList},
		{"balance", "", "their balances, read from the bank", tppBalance},
		{"sync", "[--from YYYY-MM-DD] [--present]", "import new booked and pending items into the book", tppSync},
		{"export", "--format csv|mt940|camt053|jpk-wb --from YYYY-MM-DD --to YYYY-MM-DD [--account NRB|all]... [--out FILE|DIR]", "a statement from the book", tppExport},
		{"pay", "--to NRB --name NAME --amount 12.34 --title TITLE [--from NRB] [--date YYYY-MM-DD]", "a domestic payment the customer approves", tppPay},
		{"status", "PAYMENT_ID", "a payment's status and its history", tppStatus},
	}
}

func tppUsageText() string {
	var b strings.Builder
	b.WriteString(tppUsage)
	for _, c := range tppCommands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"psd2bank tpp COMMAND -h\" for a command's flags.\n")
	return b.String()
}

// tppRun is one run of psd2bank tpp: what the command line gave, and the
// configuration, the client and the book, opened when a command asks.
type tppRun struct {
	configPath     string
	open           bool
	getenv         func(string) string
	stdout, stderr io.Writer
	cfg            *tppConfig
	client         *tppclient.Client
	book           *tppclient.Book
}

func (t *tppRun) config() (tppConfig, error) {
	if t.cfg == nil {
		cfg, err := loadTPPConfig(t.configPath)
		if err != nil {
			return cfg, err
		}
		cfg.open = t.open
		t.cfg = &cfg
	}
	return *t.cfg, nil
}

func (t *tppRun) theClient() (*tppclient.Client, error) {
	if t.client == nil {
		cfg, err := t.config()
		if err != nil {
			return nil, err
		}
		if t.client, err = tppclient.New(tppclient.Config{TPPDir: cfg.TPPDir, BankCAFile: cfg.BankCA, BankSealFile: cfg.BankSeal,
			API: cfg.API, Dialect: cfg.Dialect, BankID: cfg.BankID, ClockURL: cfg.ClockURL}); err != nil {
			return nil, err
		}
		// The sandbox's bank keeps its own clock: what the client asks it to
		// compare uses the bank's time (unreachable: the answers' Date tells it).
		if err := t.client.SyncClock(context.Background()); err != nil {
			fmt.Fprintln(t.stderr, "note:", err)
		}
	}
	return t.client, nil
}

func (t *tppRun) theBook() (*tppclient.Book, error) {
	if t.book == nil {
		cfg, err := t.config()
		if err != nil {
			return nil, err
		}
		if t.book, err = tppclient.OpenBook(cfg.Book, cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	return t.book, nil
}

// both opens the client and the book.
func (t *tppRun) both() (*tppclient.Client, *tppclient.Book, error) {
	c, err := t.theClient()
	if err != nil {
		return nil, nil, err
	}
	b, err := t.theBook()
	return c, b, err
}

// flags makes a tpp command's flag set, with its help.
func (t *tppRun) flags(name, text string) *flag.FlagSet {
	fs := newFlagSet("tpp "+name, t.stderr)
	for _, c := range tppCommands {
		if c.name == name {
			text = fmt.Sprintf("psd2bank tpp %s — %s\n\nUsage: psd2bank tpp [--config tpp.json] %s %s\n%s", name, c.summary, name, c.args, text)
		}
	}
	fs.Usage = helpUsage(fs, text)
	return fs
}

// parse parses a tpp command's flags; done is true when it printed help
// (or the flags were wrong: err).
func (t *tppRun) parse(fs *flag.FlagSet, args []string, maxArgs int) (done bool, err error) {
	if err := parseArgs(fs, args); err != nil {
		if errors.Is(err, errHelpShown) {
			return true, nil
		}
		return true, err
	}
	if fs.NArg() > maxArgs {
		return true, usageError{fmt.Sprintf("tpp %s: unexpected argument %q (run `psd2bank tpp %s -h`)", strings.TrimPrefix(fs.Name(), "tpp "), fs.Arg(maxArgs), strings.TrimPrefix(fs.Name(), "tpp "))}
	}
	return false, nil
}

func runTPP(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tpp", stderr)
	configPath := fs.String("config", "tpp.json", "the TPP's configuration `file`")
	openPage := fs.Bool("open", false, "open the bank's consent page in the desktop's browser (xdg-open) for connect and pay")
	fs.Usage = helpUsage(fs, tppUsageText())
	if err := parseArgs(fs, args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	if fs.NArg() < 1 {
		return usageError{"tpp needs a command: init, connect, accounts, balance, sync, export, pay or status (run `psd2bank tpp -h`)"}
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		if len(rest) == 0 {
			fmt.Fprint(stdout, tppUsageText())
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		name, rest = rest[0], []string{"-h"}
	}
	t := &tppRun{configPath: *configPath, open: *openPage, getenv: getenv, stdout: stdout, stderr: stderr}
	defer func() {
		if t.book != nil {
			t.book.Close()
		}
	}()
	for _, c := range tppCommands {
		if c.name == name {
			return c.run(ctx, t, rest)
		}
	}
	return usageError{fmt.Sprintf("unknown tpp command %q: run `psd2bank tpp -h` for the list", name)}
}

// tppConfig is the TPP's configuration file.
type tppConfig struct {
	API         string `json:"api"`          // the bank's API address
	Dialect     string `json:"dialect"`      // "polishapi", "mbank" or "berlingroup"
	BankID      string `json:"bank_id"`      // mBank's bank id (default pl-retail)
	ClockURL    string `json:"clock_url"`    // the sandbox's clock (its bank's time); empty for a real bank
	TPPDir      string `json:"tpp_dir"`      // qwac.pem, qwac.key, qsealc.pem, qsealc.key, client.json
	BankCA      string `json:"bank_ca"`      // the bank's TLS CA
	BankSeal    string `json:"bank_seal"`    // the bank's QSealC
	Book        string `json:"book"`         // the local SQLite book
	KeyFile     string `json:"key_file"`     // encrypts the tokens in the book
	HistoryDays int    `json:"history_days"` // how far back to import (default 90)
	WarnDays    int    `json:"warn_days"`    // warn this many days before the consent ends (default 14)
	ConsentDays int    `json:"consent_days"` // how long a consent is asked for (default 180)
	// Owner describes the account holder for statements (JPK_WB needs the
	// NIP, the address and the tax office).
	Owner tppOwner `json:"owner"`
	open  bool     // --open: open consent pages in the desktop browser
}

// tppOwner is the account holder as statements describe it.
type tppOwner struct {
	Name          string         `json:"name"`
	NIP           string         `json:"nip"`
	REGON         string         `json:"regon"`
	Address       export.Address `json:"address"`
	TaxOfficeCode string         `json:"tax_office_code"`
}

func loadTPPConfig(path string) (tppConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return tppConfig{}, fmt.Errorf("configuration: %w (make one with `psd2bank tpp init`)", err)
	}
	var cfg tppConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return tppConfig{}, fmt.Errorf("configuration %s: %w", path, err)
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&cfg.TPPDir, &cfg.BankCA, &cfg.BankSeal, &cfg.Book, &cfg.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	if cfg.HistoryDays == 0 {
		cfg.HistoryDays = 90
	}
	if cfg.WarnDays == 0 {
		cfg.WarnDays = 14
	}
	if cfg.ConsentDays == 0 {
		cfg.ConsentDays = 180
	}
	return cfg, nil
}

// tppInit writes a configuration for the sandbox's demo TPP, with the
// firm's details that JPK_WB needs when given.
func tppInit(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("init", `
The configuration names the bank's API, the TPP's certificates, the book
(a local SQLite file) and how far back the first sync reads. The owner
flags are the account holder's details that statements carry: JPK_WB needs
the name, the NIP, the tax office's code and the address (województwo,
powiat, gmina, street, house number, city, postal code). They can also be
edited later in the file's "owner" section.
`)
	data := fs.String("sandbox", "./psd2bank-data", "the sandbox's data `directory`")
	out := fs.String("out", "tpp.json", "the configuration `file` to write")
	dialect := fs.String("dialect", "polishapi", "the bank's dialect: polishapi, mbank or berlingroup (NextGenPSD2 under /berlingroup/v1)")
	tppDir := fs.String("tpp", "", "the TPP's `directory` (certificates and client.json); default: the sandbox's demo TPP")
	historyDays := fs.Int("history-days", 90, "how many `days` back the first sync reads (the consent asks for as many)")
	var o tppOwner
	fs.StringVar(&o.Name, "owner-name", "", "the account holder's `name`, as statements show it")
	fs.StringVar(&o.NIP, "nip", "", "the holder's NIP (tax number; JPK_WB)")
	fs.StringVar(&o.REGON, "regon", "", "the holder's REGON (optional)")
	fs.StringVar(&o.TaxOfficeCode, "tax-office", "", "the 4-digit `code` of the holder's tax office (kod urzędu skarbowego; JPK_WB)")
	fs.StringVar(&o.Address.Voivodeship, "voivodeship", "", "województwo of the holder's address, e.g. mazowieckie (JPK_WB)")
	fs.StringVar(&o.Address.County, "county", "", "powiat (JPK_WB)")
	fs.StringVar(&o.Address.Commune, "commune", "", "gmina (JPK_WB)")
	fs.StringVar(&o.Address.Street, "street", "", "the street, e.g. \"ul. Domaniewska\" (optional)")
	fs.StringVar(&o.Address.HouseNumber, "house", "", "the house `number` (JPK_WB)")
	fs.StringVar(&o.Address.FlatNumber, "flat", "", "the flat `number` (optional)")
	fs.StringVar(&o.Address.City, "city", "", "miejscowość (JPK_WB)")
	fs.StringVar(&o.Address.PostalCode, "postal-code", "", "kod pocztowy, e.g. 00-001 (JPK_WB)")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	if !knownDialect(*dialect) {
		return usageError{fmt.Sprintf("tpp init --dialect %q: use polishapi, mbank or berlingroup", *dialect)}
	}
	if *historyDays < 1 || *historyDays > 1460 {
		return usageError{fmt.Sprintf("tpp init --history-days %d: give 1 to 1460 days", *historyDays)}
	}
	if o.NIP != "" {
		if _, err := polish.NormalizeNIP(o.NIP); err != nil {
			return usageError{fmt.Sprintf("tpp init --nip: %v", err)}
		}
	}
	if o.TaxOfficeCode != "" && !regexp.MustCompile(`^\d{4}$`).MatchString(o.TaxOfficeCode) {
		return usageError{fmt.Sprintf("tpp init --tax-office %q: the tax office's code has 4 digits, e.g. 1435", o.TaxOfficeCode)}
	}
	dir, err := filepath.Abs(filepath.Join(*data, "sandbox"))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return fmt.Errorf("start the sandbox first (no %s): %w", filepath.Join(dir, "endpoints.json"), err)
	}
	var ep struct{ API, Web string }
	json.Unmarshal(raw, &ep)
	tppPath := filepath.Join(dir, "demo-tpp")
	if *tppDir != "" {
		if tppPath, err = filepath.Abs(*tppDir); err != nil {
			return err
		}
	}
	clockURL := ""
	if ep.Web != "" {
		clockURL = ep.Web + "/sandbox/clock"
	}
	cfg := tppConfig{API: ep.API, Dialect: *dialect, TPPDir: tppPath, ClockURL: clockURL,
		BankCA: filepath.Join(dir, "bank-tls-ca.pem"), BankSeal: filepath.Join(dir, "bank-qsealc.pem"),
		Book: "tpp-book.db", KeyFile: "tpp-book.key", HistoryDays: *historyDays, WarnDays: 14, ConsentDays: 180, Owner: o}
	data2, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(*out, append(data2, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "wrote %s for the demo TPP of %s\n", *out, dir)
	if missing := o.missingForJPK(); len(missing) > 0 {
		fmt.Fprintf(t.stdout, "JPK_WB exports also need: %s (tpp init flags, or the \"owner\" section of %s)\n", strings.Join(missing, ", "), *out)
	}
	return nil
}

// missingForJPK lists the owner flags JPK_WB needs that are not set.
func (o tppOwner) missingForJPK() []string {
	var out []string
	for _, f := range []struct{ flag, v string }{{"--owner-name", o.Name}, {"--nip", o.NIP}, {"--tax-office", o.TaxOfficeCode},
		{"--voivodeship", o.Address.Voivodeship}, {"--county", o.Address.County}, {"--commune", o.Address.Commune},
		{"--house", o.Address.HouseNumber}, {"--city", o.Address.City}, {"--postal-code", o.Address.PostalCode}} {
		if strings.TrimSpace(f.v) == "" {
			out = append(out, f.flag)
		}
	}
	return out
}

// tppConnect runs the redirect flow: the consent page's address is
// printed, the customer's browser comes back to the TPP's redirect_uri (on
// this machine), the code is exchanged, and the ais-accounts consent turned
// into a history consent for every account the customer chose.
func tppConnect(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("connect", `
--dialect switches the configuration to another of the bank's dialects
(written to the configuration file): every command after it uses it. In
berlingroup the consent is the bank-offered one of NextGenPSD2 (the
customer chooses the accounts on the bank's page; their details, balances
and 730 days of transactions), valid for consent_days (180 at most), with
frequencyPerDay 4.
`)
	dialect := fs.String("dialect", "", "the bank's dialect from now on: polishapi, mbank or berlingroup (default: the configuration's)")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	if *dialect != "" {
		if !knownDialect(*dialect) {
			return usageError{fmt.Sprintf("tpp connect --dialect %q: use polishapi, mbank or berlingroup", *dialect)}
		}
		if err := t.setDialect(*dialect); err != nil {
			return err
		}
	}
	cfg, err := t.config()
	if err != nil {
		return err
	}
	c, book, err := t.both()
	if err != nil {
		return err
	}
	if c.Dialect == tppclient.DialectBerlinGroup {
		return connectBerlinGroup(ctx, t, cfg, c, book)
	}
	code, err := approveInBrowser(ctx, c, cfg.open, t.stdout, c.AuthorizeAccounts)
	if err != nil {
		return err
	}
	first, err := c.Token(ctx, code)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	accounts, err := c.AccountList(ctx, first.AccessToken)
	if err != nil {
		return fmt.Errorf("getAccounts: %w", err)
	}
	nrbs := make([]string, 0, len(accounts))
	for _, a := range accounts {
		nrbs = append(nrbs, a.AccountNumber)
	}
	tok, err := c.ExchangeForHistory(ctx, first.AccessToken, nrbs, cfg.HistoryDays, time.Duration(cfg.ConsentDays)*24*time.Hour)
	if err != nil {
		return fmt.Errorf("exchange_token: %w", err)
	}
	if err := book.SaveTokens(tok); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "connected %d accounts until %s\n", len(tok.Accounts), tok.ConsentUntil.Format(time.DateOnly))
	return nil
}

// knownDialect tells whether psd2bank tpp speaks a dialect.
func knownDialect(d string) bool {
	return d == "polishapi" || d == "mbank" || d == tppclient.DialectBerlinGroup
}

// setDialect writes a dialect into the configuration file (its other
// fields as they are) before the client is made.
func (t *tppRun) setDialect(d string) error {
	raw, err := os.ReadFile(t.configPath)
	if err != nil {
		return fmt.Errorf("configuration: %w (make one with `psd2bank tpp init`)", err)
	}
	var conf map[string]any
	if err := json.Unmarshal(raw, &conf); err != nil {
		return fmt.Errorf("configuration %s: %w", t.configPath, err)
	}
	if conf["dialect"] == d {
		return nil
	}
	conf["dialect"] = d
	out, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(t.configPath, append(out, '\n'), 0o600); err != nil {
		return err
	}
	t.cfg, t.client = nil, nil
	return nil
}

// connectBerlinGroup asks for a Berlin Group consent: the bank-offered
// consent (the customer chooses the accounts on the bank's page), approved
// by redirect back to the TPP's redirect URI; then its accounts with their
// resource ids (read with the customer present) go into the book.
func connectBerlinGroup(ctx context.Context, t *tppRun, cfg tppConfig, c *tppclient.Client, book *tppclient.Book) error {
	var consentID string
	if _, err := approveInBrowser(ctx, c, cfg.open, t.stdout, func(ctx context.Context, state string) (string, error) {
		id, page, err := c.StartConsent(ctx, state, time.Duration(cfg.ConsentDays)*24*time.Hour)
		consentID = id
		return page, err
	}); err != nil {
		return err
	}
	tok, err := c.ConsentTokens(ctx, consentID)
	if err != nil {
		return fmt.Errorf("consent %s: %w", consentID, err)
	}
	if err := book.SaveTokens(tok); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "connected %d accounts until %s (Berlin Group consent %s)\n", len(tok.Accounts), tok.ConsentUntil.Format(time.DateOnly), consentID)
	return nil
}

// approveInBrowser starts an authorization (authorize gives the bank's
// consent page for a state), prints the page, receives the customer's
// browser on the TPP's redirect_uri (on this machine) and returns the code.
func approveInBrowser(ctx context.Context, c *tppclient.Client, open bool, stdout io.Writer, authorize func(context.Context, string) (string, error)) (string, error) {
	redirect, err := url.Parse(c.Identity.RedirectURI)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", redirect.Host)
	if err != nil {
		return "", fmt.Errorf("receive the redirect on %s: %w", redirect.Host, err)
	}
	answers := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "psd2bank tpp has the bank's answer; you may close this window.")
		if f, ok := w.(http.Flusher); ok {
			f.Flush() // the browser has its page before the server stops
		}
		select {
		case answers <- r.URL.Query():
		default:
		}
	})}
	go srv.Serve(ln)
	defer func() { // let the browser's request finish, then stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	state := uuid.NewString()
	page, err := authorize(ctx, state)
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	fmt.Fprintf(stdout, "Open the bank's consent page and approve: %s\n", page)
	if open {
		if err := exec.Command("xdg-open", page).Start(); err != nil {
			fmt.Fprintf(stdout, "(could not open a browser: %v; open the address yourself)\n", err)
		}
	}
	var q url.Values
	select {
	case q = <-answers:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(10 * time.Minute):
		return "", errors.New("no answer from the bank's page within 10 minutes")
	}
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("the customer did not consent (%s)", e)
	}
	if q.Get("state") != state {
		return "", errors.New("the redirect carries another state: not this request")
	}
	return q.Get("code"), nil
}

// tppPay asks the customer to approve one domestic payment, initiates it
// and keeps it in the book for `status`. What can be checked here is
// checked before the customer is asked: the accounts' NRBs, the amount
// (positive, as many decimals as the currency has; 12,50 is 12.50), the
// date (not before the bank's today).
func tppPay(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("pay", `
The customer approves the payment on the bank's page (printed; --open opens
it), then it is initiated. The amount may be written 12.50 or 12,50.
`)
	var tr tppclient.Transfer
	fs.StringVar(&tr.From, "from", "", "the customer's account (NRB); default: the first connected account")
	fs.StringVar(&tr.To, "to", "", "the recipient's account (NRB)")
	fs.StringVar(&tr.RecipientName, "name", "", "the recipient's name")
	fs.StringVar(&tr.Amount, "amount", "", "the amount, e.g. 123.45 or 123,45")
	fs.StringVar(&tr.Currency, "currency", "PLN", "the currency")
	fs.StringVar(&tr.Title, "title", "", "the title")
	fs.StringVar(&tr.ExecutionDate, "date", "", "execution date YYYY-MM-DD (default: today)")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	if tr.To == "" || tr.RecipientName == "" || tr.Amount == "" || tr.Title == "" {
		return usageError{"tpp pay needs --to, --name, --amount and --title (run `psd2bank tpp pay -h`)"}
	}
	// Checks that need nothing but the command line come first.
	if err := checkTransfer(&tr, time.Now()); err != nil {
		return err
	}
	cfg, err := t.config()
	if err != nil {
		return err
	}
	c, book, err := t.both()
	if err != nil {
		return err
	}
	if tr.From == "" {
		if tok, err := book.Tokens(); err == nil && len(tok.Accounts) > 0 {
			tr.From = tok.Accounts[0]
		} else {
			return usageError{"tpp pay needs --from: no account is connected yet"}
		}
	}
	// The date against the bank's today (the sandbox's clock may run ahead).
	if err := checkTransfer(&tr, c.BankNow(ctx)); err != nil {
		return err
	}
	if c.Dialect == tppclient.DialectBerlinGroup {
		return payBerlinGroup(ctx, t, cfg, c, book, tr)
	}
	if len(tr.To) != 26 {
		return usageError{fmt.Sprintf("tpp pay --to %s: a foreign IBAN is paid by SEPA, in the berlingroup dialect (`psd2bank tpp connect --dialect berlingroup`)", tr.To)}
	}
	code, err := approveInBrowser(ctx, c, cfg.open, t.stdout, func(ctx context.Context, state string) (string, error) {
		return c.AuthorizePayment(ctx, state, tr)
	})
	if err != nil {
		return err
	}
	tok, err := c.Token(ctx, code)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	p, err := c.Initiate(ctx, tok, tr)
	if err != nil {
		return fmt.Errorf("initiate: %w", err)
	}
	if err := book.SavePayment(p); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "payment %s: %s\n", p.ID, p.Status)
	return nil
}

// payBerlinGroup initiates a Berlin Group payment (PLN: the Polish
// domestic transfer; EUR: SEPA), sends the customer to the bank's page to
// approve it, and reads its status once they are back.
func payBerlinGroup(ctx context.Context, t *tppRun, cfg tppConfig, c *tppclient.Client, book *tppclient.Book, tr tppclient.Transfer) error {
	var p tppclient.Payment
	_, err := approveInBrowser(ctx, c, cfg.open, t.stdout, func(ctx context.Context, state string) (string, error) {
		q, page, err := c.StartPayment(ctx, state, tr)
		p = q
		return page, err
	})
	if p.ID == "" {
		if err != nil {
			return fmt.Errorf("initiate: %w", err)
		}
		return errors.New("initiate: the bank gave no payment id")
	}
	if q, serr := c.Status(ctx, p); serr == nil {
		p = q
		p.Observe(c.BankNow(ctx))
	} else if err == nil {
		err = fmt.Errorf("status: %w", serr)
	}
	if serr := book.SavePayment(p); serr != nil {
		return serr
	}
	fmt.Fprintf(t.stdout, "payment %s: %s\n", p.ID, p.Status)
	return err
}

// checkTransfer checks and normalises what a payment's command line says:
// the NRBs (checksum; spaces and a PL prefix allowed), the amount and the
// execution date against today (the bank's).
func checkTransfer(tr *tppclient.Transfer, today time.Time) error {
	for _, f := range []struct {
		flag string
		v    *string
	}{{"--to", &tr.To}, {"--from", &tr.From}} {
		if *f.v == "" {
			continue
		}
		nrb, err := polish.NormalizeNRB(*f.v)
		if err != nil {
			// A foreign IBAN, paid by SEPA in EUR (berlingroup).
			if iban := strings.ToUpper(strings.ReplaceAll(*f.v, " ", "")); f.flag == "--to" && strings.EqualFold(strings.TrimSpace(tr.Currency), "EUR") &&
				!strings.HasPrefix(iban, "PL") && tppclient.ValidIBAN(iban) {
				*f.v = iban
				continue
			}
			return usageError{fmt.Sprintf("tpp pay %s: %v", f.flag, err)}
		}
		*f.v = nrb
	}
	tr.Currency = strings.ToUpper(strings.TrimSpace(tr.Currency))
	amount := strings.TrimSpace(tr.Amount)
	if strings.Count(amount, ",") == 1 && !strings.Contains(amount, ".") {
		amount = strings.Replace(amount, ",", ".", 1) // 12,50: the Polish way of writing 12.50
	}
	a, err := money.ParseIn(amount, tr.Currency)
	if err != nil {
		return usageError{fmt.Sprintf("tpp pay --amount %q: %v", tr.Amount, err)}
	}
	if a <= 0 {
		return usageError{fmt.Sprintf("tpp pay --amount %q: a payment needs an amount above zero", tr.Amount)}
	}
	tr.Amount = amount
	if n := len([]rune(tr.Title)); n > 140 {
		return usageError{fmt.Sprintf("tpp pay --title has %d characters; a transfer's title has at most 140", n)}
	}
	if tr.ExecutionDate != "" {
		d, err := time.ParseInLocation(time.DateOnly, tr.ExecutionDate, polish.Warsaw)
		if err != nil {
			return usageError{fmt.Sprintf("tpp pay --date %q: give a day as YYYY-MM-DD", tr.ExecutionDate)}
		}
		if day := today.In(polish.Warsaw).Format(time.DateOnly); tr.ExecutionDate < day {
			return usageError{fmt.Sprintf("tpp pay --date %s is in the past (today is %s at the bank): give today or a later day", tr.ExecutionDate, day)}
		}
		if d.After(today.AddDate(1, 0, 0)) {
			return usageError{fmt.Sprintf("tpp pay --date %s is more than a year ahead", tr.ExecutionDate)}
		}
	}
	return nil
}

// tppStatus reads a payment's status and shows what the book knows of its
// history.
func tppStatus(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("status", "\nReads the payment's status from the bank and prints every status it had, with when it was seen.\n")
	if done, err := t.parse(fs, args, 1); done {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"tpp status needs the payment's id (as `psd2bank tpp pay` printed it)"}
	}
	c, book, err := t.both()
	if err != nil {
		return err
	}
	p, err := book.Payment(fs.Arg(0))
	if err != nil {
		return err
	}
	if p, err = c.Status(ctx, p); err != nil {
		return err
	}
	p.Observe(c.BankNow(ctx))
	if err := book.SavePayment(p); err != nil { // the refreshed token, the history
		return err
	}
	fmt.Fprintf(t.stdout, "payment %s: %s\n", p.ID, p.Status)
	for _, h := range p.History {
		fmt.Fprintf(t.stdout, "  %s  %s\n", h.At.In(polish.Warsaw).Format("2006-01-02 15:04:05 MST"), h.Status)
	}
	return nil
}

// tppAccountList lists the consent's accounts.
func tppAccountList(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("accounts", "")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	book, err := t.theBook()
	if err != nil {
		return err
	}
	tok, err := book.Tokens()
	if err != nil {
		return err
	}
	for _, nrb := range tok.Accounts {
		fmt.Fprintln(t.stdout, nrb)
	}
	return nil
}

// tppBalance reads each account's balances; an account the bank refuses
// does not stop the others, and the table says what to do.
func tppBalance(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("balance", "\nEach account read costs one of the four reads a day the bank allows without the customer.\n")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	c, book, err := t.both()
	if err != nil {
		return err
	}
	rep, err := c.Balances(ctx, book)
	if err != nil {
		return err
	}
	failed := false
	for _, b := range rep {
		if b.Err == nil {
			fmt.Fprintf(t.stdout, "%s  %s  booked %s  available %s\n", b.Account, b.Currency, b.Booked, b.Available)
		}
	}
	for _, b := range rep {
		if b.Err != nil {
			if !failed {
				fmt.Fprintln(t.stderr, "\nnot read:")
				failed = true
			}
			fmt.Fprintf(t.stderr, "  %s  %s\n      %s\n", b.Account, b.Outcome.Problem, b.Outcome.Hint)
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// tppExport writes statements of accounts from the book.
func tppExport(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("export", `
The statement is made from the book (run sync first), in the bank's order,
with the bank's balance after each item; opening and closing balances are
the bank's. A book whose items do not add up is named at the first item
that breaks, with the day to re-sync from (sync --from DAY). Nothing is
written when the statement cannot be made. With several accounts, --out
is a directory and each account gets its own file in it.

The account holder's details (JPK_WB needs NIP, tax office and address)
come from the configuration's "owner" section: see tpp init -h.
`)
	format := fs.String("format", "csv", "csv, mt940, camt053 or jpk-wb")
	fromS := fs.String("from", "", "first booking `day`, YYYY-MM-DD")
	toS := fs.String("to", "", "last booking `day`, YYYY-MM-DD")
	var accounts listFlag
	fs.Var(&accounts, "account", "the account (NRB; spaces allowed), repeatable, or all; default: the first of the consent")
	outPath := fs.String("out", "", "output `file` (a directory with several accounts); default: standard output")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	ext := map[string]string{"csv": "csv", "mt940": "sta", "camt053": "xml", "jpk-wb": "xml"}[*format]
	if ext == "" {
		return usageError{fmt.Sprintf("tpp export --format %q: csv, mt940, camt053 or jpk-wb", *format)}
	}
	from, err1 := time.ParseInLocation(time.DateOnly, *fromS, polish.Warsaw)
	to, err2 := time.ParseInLocation(time.DateOnly, *toS, polish.Warsaw)
	if err1 != nil || err2 != nil || to.Before(from) {
		return usageError{"tpp export needs --from and --to as YYYY-MM-DD, from not after to"}
	}
	cfg, err := t.config()
	if err != nil {
		return err
	}
	book, err := t.theBook()
	if err != nil {
		return err
	}
	tok, err := book.Tokens()
	if err != nil {
		return err
	}
	nrbs, err := exportAccounts(accounts, tok.Accounts)
	if err != nil {
		return err
	}
	dir := ""
	if len(nrbs) > 1 {
		if *outPath == "" {
			return usageError{"tpp export with several accounts needs --out DIR: each account gets its own file there"}
		}
		dir = *outPath
	} else if st, err := os.Stat(*outPath); *outPath != "" && err == nil && st.IsDir() {
		dir = *outPath
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	failed := false
	for _, nrb := range nrbs {
		data, st, err := makeStatement(cfg, book, nrb, *format, from, to, t.stderr)
		if err != nil {
			if len(nrbs) == 1 {
				return err
			}
			fmt.Fprintf(t.stderr, "psd2bank: %s: %v\n", nrb, err)
			failed = true
			continue
		}
		path := *outPath
		if dir != "" {
			path = filepath.Join(dir, fmt.Sprintf("%s_%s_%s_%s.%s", nrb, *fromS, *toS, *format, ext))
		}
		summary := fmt.Sprintf("%s, %s to %s, %d items, opening balance %s, closing balance %s %s", *format,
			bankDate(st.From), bankDate(st.To), len(st.Items), st.OpeningBalance, st.ClosingBalance, st.Account.Currency)
		if path == "" {
			if _, err := t.stdout.Write(data); err != nil {
				return err
			}
			fmt.Fprintf(t.stderr, "wrote the statement of %s: %s\n", nrb, summary)
			continue
		}
		if err := writeFileAtomic(path, data); err != nil {
			return err
		}
		fmt.Fprintf(t.stdout, "wrote %s: %s\n", path, summary)
	}
	if failed {
		return errReported
	}
	return nil
}

// exportAccounts resolves --account values: NRBs (spaces and PL allowed)
// of the consent, or all of them.
func exportAccounts(asked []string, consent []string) ([]string, error) {
	if len(asked) == 0 {
		if len(consent) == 0 {
			return nil, errors.New("the consent covers no account")
		}
		return consent[:1], nil
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range asked {
		if strings.EqualFold(a, "all") {
			for _, n := range consent {
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
			continue
		}
		nrb, err := polish.NormalizeNRB(a)
		if err != nil {
			return nil, usageError{fmt.Sprintf("tpp export --account: %v", err)}
		}
		if !slices.Contains(consent, nrb) {
			return nil, fmt.Errorf("account %s is not in the book: the consent covers %s (`psd2bank tpp accounts`)", nrb, strings.Join(consent, ", "))
		}
		if !seen[nrb] {
			seen[nrb] = true
			out = append(out, nrb)
		}
	}
	return out, nil
}

// makeStatement makes one account's statement in a format, whole, in
// memory: a failure writes nothing.
func makeStatement(cfg tppConfig, book *tppclient.Book, nrb, format string, from, to time.Time, stderr io.Writer) ([]byte, export.Statement, error) {
	owner := export.Account{IBAN: nrb, OwnerName: cfg.Owner.Name, OwnerNIP: cfg.Owner.NIP, OwnerREGON: cfg.Owner.REGON,
		OwnerAddress: cfg.Owner.Address, BankName: "psd2bank (sandbox)"}
	st, notes, err := book.Statement(owner, from, to)
	if err != nil {
		return nil, st, err
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s: %s\n", nrb, n)
	}
	if st.Account.Currency == "" {
		st.Account.Currency = "PLN"
	}
	st.CreatedAt = time.Now()
	var buf bytes.Buffer
	switch format {
	case "csv":
		err = export.WriteCSV(&buf, st, export.CSVOptions{})
	case "mt940":
		err = export.WriteMT940(&buf, st, export.MT940Options{})
	case "camt053":
		err = export.WriteCamt053(&buf, st, export.Camt053Options{MessageID: "PSD2BANK-" + st.CreatedAt.UTC().Format("20060102150405")})
	case "jpk-wb":
		if missing := cfg.Owner.missingForJPK(); len(missing) > 0 {
			return nil, st, fmt.Errorf("JPK_WB needs the account holder's details: %s (set them with `psd2bank tpp init`, or in the \"owner\" section of the configuration)",
				strings.Join(missing, ", "))
		}
		var warnings []export.Warning
		warnings, err = export.WriteJPKWB(&buf, st, export.JPKWBOptions{TaxOfficeCode: cfg.Owner.TaxOfficeCode})
		for _, wn := range warnings {
			fmt.Fprintln(stderr, "warning:", wn.Message)
		}
	}
	return buf.Bytes(), st, err
}

func bankDate(t time.Time) string { return t.In(polish.Warsaw).Format(time.DateOnly) }

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place: path is either left as it was or holds all of data.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tppSync imports new items into the book and reports each account in a
// table; the exit status says whether any account was not synced.
func tppSync(ctx context.Context, t *tppRun, args []string) error {
	fs := t.flags("sync", `
Each account's booked items are read from a few days before the newest
one in the book (the first time: history_days back), and its pending ones;
nothing is doubled. Each account costs two of the four reads a day the
bank allows without the customer (in berlingroup: one per page of its
list, counted per calendar day in Warsaw); an account whose reads are
spent, or whose API access its holder blocked, is reported and the
others go on.
`)
	from := fs.String("from", "", "re-read every account's items booked from this `day` (YYYY-MM-DD) on: repairs a book whose items do not add up")
	present := fs.Bool("present", false, "the customer runs this sync themselves: the bank is told so, and the reads do not count against the four a day without them "+
		"(in berlingroup every page of a list is a read: a first import of a long history needs it)")
	if done, err := t.parse(fs, args, 0); done {
		return err
	}
	cfg, err := t.config()
	if err != nil {
		return err
	}
	c, book, err := t.both()
	if err != nil {
		return err
	}
	rep, err := c.SyncWith(ctx, book, tppclient.SyncOptions{HistoryDays: cfg.HistoryDays, WarnDays: cfg.WarnDays, From: *from, Progress: t.stderr, Present: *present})
	for _, w := range rep.Warnings {
		fmt.Fprintln(t.stderr, "warning:", w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "synced %d accounts: %d pages, %d items\n", rep.Accounts, rep.Pages, rep.Items)
	for _, o := range rep.Outcomes {
		fmt.Fprintf(t.stdout, "  %s  %-7s %6d items", o.Account, o.Status, o.Items)
		if o.Problem != "" {
			fmt.Fprintf(t.stdout, "  %s", o.Problem)
		}
		fmt.Fprintln(t.stdout)
		if o.Hint != "" {
			fmt.Fprintf(t.stdout, "      what to do: %s\n", o.Hint)
		}
	}
	if rep.Failed() {
		return errReported
	}
	return nil
}
