package main

import (
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
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/tppclient"
)

const tppUsage = `psd2bank tpp — the TPP side: connect an account and import its history for bookkeeping

  psd2bank tpp init --sandbox DATA [--out tpp.json]   a configuration for the sandbox's demo TPP
  psd2bank tpp --config tpp.json connect               ask the customer's consent (prints the bank's page; receives the redirect)
  psd2bank tpp --config tpp.json accounts              the connected accounts
  psd2bank tpp --config tpp.json balance               their balances
  psd2bank tpp --config tpp.json sync                  import new booked and pending items into the book
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
}

func runTPP(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "init" {
		return runTPPInit(args[1:], getenv, stdout, stderr)
	}
	fs := newFlagSet("tpp", stderr)
	configPath := fs.String("config", "tpp.json", "the TPP's configuration `file`")
	fs.Usage = func() { fmt.Fprint(stderr, tppUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, tppUsage)
		return usageError{"tpp needs one command: init, connect, accounts, balance or sync"}
	}
	cfg, err := loadTPPConfig(*configPath)
	if err != nil {
		return err
	}
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
	case "sync":
		rep, err := client.Sync(ctx, book, cfg.HistoryDays, cfg.WarnDays, stderr)
		for _, w := range rep.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "synced %d accounts: %d pages, %d items\n", rep.Accounts, rep.Pages, rep.Items)
		return nil
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
	cfg := tppConfig{API: ep.API, Dialect: *dialect, TPPDir: filepath.Join(dir, "demo-tpp"),
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
	redirect, err := url.Parse(c.Identity.RedirectURI)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", redirect.Host)
	if err != nil {
		return fmt.Errorf("receive the redirect on %s: %w", redirect.Host, err)
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
	page, err := c.AuthorizeAccounts(ctx, state)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	fmt.Fprintf(stdout, "Open the bank's consent page and approve: %s\n", page)
	var q url.Values
	select {
	case q = <-answers:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Minute):
		return errors.New("no answer from the bank's page within 10 minutes")
	}
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("the customer did not consent (%s)", e)
	}
	if q.Get("state") != state {
		return errors.New("the redirect carries another state: not this connect")
	}
	first, err := c.Token(ctx, q.Get("code"))
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
