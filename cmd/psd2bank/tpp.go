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
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/tppclient"
)

const tppUsage = `psd2bank tpp — the TPP side: connect an account and import its history for bookkeeping

  psd2bank tpp init --sandbox DATA [--out tpp.json]   a configuration for the sandbox's demo TPP
  psd2bank tpp --config tpp.json connect               ask the customer's consent (prints the bank's page; receives the redirect)
                                                       (--open also opens the page in the desktop browser)
  psd2bank tpp --config tpp.json accounts              the connected accounts
  psd2bank tpp --config tpp.json balance               their balances
  psd2bank tpp --config tpp.json sync                  import new booked and pending items into the book
  psd2bank tpp --config tpp.json export --format csv|mt940|camt053|jpk-wb --from YYYY-MM-DD --to YYYY-MM-DD
                                                       [--account NRB] [--out FILE]   a statement from the book
  psd2bank tpp --config tpp.json pay --to NRB --name NAME --amount 12.34 --title TITLE [--from NRB] [--date YYYY-MM-DD]
  psd2bank tpp --config tpp.json status PAYMENT_ID
`

// tppConfig is the TPP's configuration file.
type tppConfig struct {
	API         string `json:"api"`          // the bank's API address
	Dialect     string `json:"dialect"`      // "polishapi" or "mbank"
	BankID      string `json:"bank_id"`      // mBank's bank id (default pl-retail)
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
	open  bool // --open: open consent pages in the desktop browser
	Owner struct {
		Name          string         `json:"name"`
		NIP           string         `json:"nip"`
		REGON         string         `json:"regon"`
		Address       export.Address `json:"address"`
		TaxOfficeCode string         `json:"tax_office_code"`
	} `json:"owner"`
}

func runTPP(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "init" {
		return runTPPInit(args[1:], getenv, stdout, stderr)
	}
	fs := newFlagSet("tpp", stderr)
	configPath := fs.String("config", "tpp.json", "the TPP's configuration `file`")
	openPage := fs.Bool("open", false, "open the bank's consent page in the desktop's browser (xdg-open) for connect and pay")
	fs.Usage = func() { fmt.Fprint(stderr, tppUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() < 1 {
		fmt.Fprint(stderr, tppUsage)
		return usageError{"tpp needs one command: init, connect, accounts, balance, sync, export, pay or status"}
	}
	cfg, err := loadTPPConfig(*configPath)
	if err != nil {
		return err
	}
	cfg.open = *openPage
	client, err := tppclient.New(tppclient.Config{TPPDir: cfg.TPPDir, BankCAFile: cfg.BankCA, BankSealFile: cfg.BankSeal, API: cfg.API,
		Dialect: cfg.Dialect, BankID: cfg.BankID})
	if err != nil {
		return err
	}
	book, err := tppclient.OpenBook(cfg.Book, cfg.KeyFile)
	if err != nil {
		return err
	}
	defer book.Close()
	switch fs.Arg(0) {
	case "connect":
		return tppConnect(ctx, cfg, client, book, stdout)
	case "accounts", "balance":
		return tppAccounts(ctx, client, book, fs.Arg(0) == "balance", stdout)
	case "pay":
		return tppPay(ctx, cfg, client, book, fs.Args()[1:], stdout, stderr)
	case "status":
		return tppStatus(ctx, client, book, fs.Args()[1:], stdout, stderr)
	case "export":
		return tppExport(cfg, book, fs.Args()[1:], stdout, stderr)
	case "sync":
		return tppSync(ctx, cfg, client, book, fs.Args()[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, tppUsage)
		return usageError{fmt.Sprintf("unknown tpp command %q", fs.Arg(0))}
	}
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

// runTPPInit writes a configuration for the sandbox's demo TPP.
func runTPPInit(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tpp init", stderr)
	data := fs.String("sandbox", "./psd2bank-data", "the sandbox's data `directory`")
	out := fs.String("out", "tpp.json", "the configuration `file` to write")
	dialect := fs.String("dialect", "polishapi", "the bank's dialect: polishapi or mbank")
	tppDir := fs.String("tpp", "", "the TPP's `directory` (certificates and client.json); default: the sandbox's demo TPP")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	dir, err := filepath.Abs(filepath.Join(*data, "sandbox"))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return fmt.Errorf("start the sandbox first (no %s): %w", filepath.Join(dir, "endpoints.json"), err)
	}
	var ep struct{ API string }
	json.Unmarshal(raw, &ep)
	tppPath := filepath.Join(dir, "demo-tpp")
	if *tppDir != "" {
		if tppPath, err = filepath.Abs(*tppDir); err != nil {
			return err
		}
	}
	cfg := tppConfig{API: ep.API, Dialect: *dialect, TPPDir: tppPath,
		BankCA: filepath.Join(dir, "bank-tls-ca.pem"), BankSeal: filepath.Join(dir, "bank-qsealc.pem"),
		Book: "tpp-book.db", KeyFile: "tpp-book.key", HistoryDays: 90, WarnDays: 14, ConsentDays: 180}
	data2, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(*out, append(data2, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s for the demo TPP of %s\n", *out, dir)
	return nil
}

// tppConnect runs the redirect flow: the consent page's address is
// printed, the customer's browser comes back to the TPP's redirect_uri (on
// this machine), the code is exchanged, and the ais-accounts consent turned
// into a history consent for every account the customer chose.
func tppConnect(ctx context.Context, cfg tppConfig, c *tppclient.Client, book *tppclient.Book, stdout io.Writer) error {
	code, err := approveInBrowser(ctx, c, cfg.open, stdout, c.AuthorizeAccounts)
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
	t, err := c.ExchangeForHistory(ctx, first.AccessToken, nrbs, cfg.HistoryDays, time.Duration(cfg.ConsentDays)*24*time.Hour)
	if err != nil {
		return fmt.Errorf("exchange_token: %w", err)
	}
	if err := book.SaveTokens(t); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "connected %d accounts until %s\n", len(t.Accounts), t.ConsentUntil.Format(time.DateOnly))
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
		select {
		case answers <- r.URL.Query():
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
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
// and keeps it in the book for `status`.
func tppPay(ctx context.Context, cfg tppConfig, c *tppclient.Client, book *tppclient.Book, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tpp pay", stderr)
	var t tppclient.Transfer
	fs.StringVar(&t.From, "from", "", "the customer's account (NRB); default: the first connected account")
	fs.StringVar(&t.To, "to", "", "the recipient's account (NRB)")
	fs.StringVar(&t.RecipientName, "name", "", "the recipient's name")
	fs.StringVar(&t.Amount, "amount", "", "the amount, e.g. 123.45")
	fs.StringVar(&t.Currency, "currency", "PLN", "the currency")
	fs.StringVar(&t.Title, "title", "", "the title")
	fs.StringVar(&t.ExecutionDate, "date", "", "execution date YYYY-MM-DD (default: today)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if t.From == "" {
		if tok, err := book.Tokens(); err == nil && len(tok.Accounts) > 0 {
			t.From = tok.Accounts[0]
		}
	}
	if t.From == "" || t.To == "" || t.RecipientName == "" || t.Amount == "" || t.Title == "" {
		return usageError{"pay needs --to, --name, --amount and --title (and --from when not connected)"}
	}
	code, err := approveInBrowser(ctx, c, cfg.open, stdout, func(ctx context.Context, state string) (string, error) {
		return c.AuthorizePayment(ctx, state, t)
	})
	if err != nil {
		return err
	}
	tok, err := c.Token(ctx, code)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	p, err := c.Initiate(ctx, tok, t)
	if err != nil {
		return fmt.Errorf("initiate: %w", err)
	}
	if err := book.SavePayment(p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "payment %s: %s\n", p.ID, p.Status)
	return nil
}

// tppStatus reads a payment's status.
func tppStatus(ctx context.Context, c *tppclient.Client, book *tppclient.Book, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return usageError{"status needs the payment id"}
	}
	p, err := book.Payment(args[0])
	if err != nil {
		return err
	}
	if p, err = c.Status(ctx, p); err != nil {
		return err
	}
	if err := book.SavePayment(p); err != nil { // the refreshed token
		return err
	}
	fmt.Fprintf(stdout, "payment %s: %s\n", p.ID, p.Status)
	return nil
}

func tppAccounts(ctx context.Context, c *tppclient.Client, book *tppclient.Book, balances bool, stdout io.Writer) error {
	t, err := book.Tokens()
	if err != nil {
		return err
	}
	if !balances {
		for _, nrb := range t.Accounts {
			fmt.Fprintln(stdout, nrb)
		}
		return nil
	}
	if time.Now().After(t.ExpiresAt.Add(-30 * time.Second)) {
		if t, err = c.Refresh(ctx, t); err != nil {
			return fmt.Errorf("refresh the access token: %w", err)
		}
		if err := book.SaveTokens(t); err != nil {
			return err
		}
	}
	for _, nrb := range t.Accounts {
		a, err := c.Account(ctx, t, nrb, true)
		if err != nil {
			return fmt.Errorf("account %s: %w", nrb, err)
		}
		fmt.Fprintf(stdout, "%s  %s  booked %s  available %s\n", nrb, a.Currency, a.BookingBalance, a.AvailableBalance)
	}
	return nil
}

// tppExport writes a statement of one account from the book.
func tppExport(cfg tppConfig, book *tppclient.Book, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tpp export", stderr)
	format := fs.String("format", "csv", "csv, mt940, camt053 or jpk-wb")
	fromS := fs.String("from", "", "first booking day, YYYY-MM-DD")
	toS := fs.String("to", "", "last booking day, YYYY-MM-DD")
	account := fs.String("account", "", "the account (NRB); default: the first of the consent")
	outPath := fs.String("out", "", "output `file`; default: standard output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	from, err1 := time.ParseInLocation(time.DateOnly, *fromS, polish.Warsaw)
	to, err2 := time.ParseInLocation(time.DateOnly, *toS, polish.Warsaw)
	if err1 != nil || err2 != nil || to.Before(from) {
		return usageError{"export needs --from and --to as YYYY-MM-DD, from not after to"}
	}
	t, err := book.Tokens()
	if err != nil {
		return err
	}
	nrb := *account
	if nrb == "" {
		if len(t.Accounts) == 0 {
			return errors.New("the consent covers no account")
		}
		nrb = t.Accounts[0]
	}
	owner := export.Account{IBAN: nrb, OwnerName: cfg.Owner.Name, OwnerNIP: cfg.Owner.NIP, OwnerREGON: cfg.Owner.REGON,
		OwnerAddress: cfg.Owner.Address, BankName: "psd2bank (sandbox)"}
	st, notes, err := book.Statement(owner, from, to)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if st.Account.Currency == "" {
		st.Account.Currency = "PLN"
	}
	st.CreatedAt = time.Now()
	// The whole statement is made before anything is written: a failure
	// leaves no file, and a file is only ever complete (written aside,
	// then renamed into place).
	var buf bytes.Buffer
	switch *format {
	case "csv":
		err = export.WriteCSV(&buf, st, export.CSVOptions{})
	case "mt940":
		err = export.WriteMT940(&buf, st, export.MT940Options{})
	case "camt053":
		err = export.WriteCamt053(&buf, st, export.Camt053Options{MessageID: "PSD2BANK-" + st.CreatedAt.UTC().Format("20060102150405")})
	case "jpk-wb":
		var warnings []export.Warning
		warnings, err = export.WriteJPKWB(&buf, st, export.JPKWBOptions{TaxOfficeCode: cfg.Owner.TaxOfficeCode})
		for _, wn := range warnings {
			fmt.Fprintln(stderr, "warning:", wn.Message)
		}
	default:
		return usageError{fmt.Sprintf("unknown format %q: csv, mt940, camt053 or jpk-wb", *format)}
	}
	if err != nil {
		return err
	}
	if *outPath == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(*outPath, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %s, %s to %s, %d items, opening balance %s, closing balance %s %s\n", *outPath, *format,
		bankDate(st.From), bankDate(st.To), len(st.Items), st.OpeningBalance, st.ClosingBalance, st.Account.Currency)
	return nil
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

// tppSync imports new items into the book and reports each account.
func tppSync(ctx context.Context, cfg tppConfig, c *tppclient.Client, book *tppclient.Book, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tpp sync", stderr)
	from := fs.String("from", "", "re-read every account's items booked from this `day` (YYYY-MM-DD) on: repairs a book whose items do not add up")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("sync takes no arguments, got %q", fs.Arg(0))}
	}
	rep, err := c.SyncWith(ctx, book, tppclient.SyncOptions{HistoryDays: cfg.HistoryDays, WarnDays: cfg.WarnDays, From: *from, Progress: stderr})
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "synced %d accounts: %d pages, %d items\n", rep.Accounts, rep.Pages, rep.Items)
	return nil
}
