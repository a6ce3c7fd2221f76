// Package sandbox runs the sandbox bank: the bank of internal/bank plus the
// sandbox QTSP, synthetic data, the /sandbox/* endpoints and the movable
// clock. It creates (on first start) or reuses (later) a data directory with
// a database full of synthetic customers and history, and serves the TPP API
// and the web pages on two listeners, as SANDBOX-CONTRACT.md describes.
package sandbox

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/psd2bank/psd2bank/internal/bank"
	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sandbox/synth"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// Config is what `psd2bank sandbox` is started with.
type Config struct {
	DataDir  string   // default ./psd2bank-data
	APIAddr  string   // default 127.0.0.1:8443
	WebAddr  string   // default 127.0.0.1:8080
	APIHosts []string // extra host names for the API's server certificate
	DB       string   // optional PostgreSQL URL instead of the SQLite file in DataDir
	Seed     int64    // seed of the synthetic data (first start only)
	// AdminAddr is the admin listener's address (pprof, /metrics); "" is off.
	AdminAddr string
}

// Defaults of the contract.
const (
	DefaultDataDir = "./psd2bank-data"
	DefaultAPIAddr = "127.0.0.1:8443"
	DefaultWebAddr = "127.0.0.1:8080"
	DefaultSeed    = 1
)

// The sandbox's back-office account (the hotline and TPP review pages).
const (
	BackofficeLogin    = "backoffice"
	BackofficePassword = "sandbox-backoffice"
)

// settings keys
const (
	settingSeed      = "sandbox.seed"
	settingCreatedAt = "sandbox.created_at"
	settingClock     = "sandbox.clock_offset"
)

// Bank is a started sandbox: the bank (its services, handlers and workers)
// with the movable clock.
type Bank struct {
	*bank.Bank
	cfg    Config
	Clock  *clock.Shared // one value in the database for every node
	webURL atomic.Value  // string: http://host:port of the web listener, once it listens

	hashPassword func(string) (string, error) // sca.HashPassword unless a test sets a cheaper one
	trust        *trust
	log          *slog.Logger
	dir          string // DataDir/sandbox
}

// Open prepares the data directory and the database: on the first start it
// generates the synthetic bank; later it reuses what is there.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bank, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	dir := filepath.Join(cfg.DataDir, "sandbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	b := &Bank{cfg: cfg, log: log, dir: dir}
	db, err := b.openDB(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.assemble(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

// assemble builds the sandbox on its database: the clock where it was left,
// psus.json, the register, the sandbox QTSP and the demo TPP, and the bank.
func (b *Bank) assemble(ctx context.Context, db *store.DB) error {
	offset, err := setting(ctx, db, settingClock)
	if err != nil {
		return err
	}
	d, _ := time.ParseDuration(offset) // the offset kept before the shared clock, if any
	if b.Clock, err = clock.OpenShared(ctx, db, clock.System{}, d, 0); err != nil {
		return err
	}
	if err := b.writePSUs(ctx, db); err != nil {
		return err
	}
	registerPath := filepath.Join(b.dir, tpp.SandboxRegisterFile)
	if err := tpp.EnsureRegisterFile(registerPath); err != nil {
		return fmt.Errorf("sandbox register: %w", err)
	}
	fr, err := tpp.OpenFileRegister(registerPath, b.Clock)
	if err != nil {
		return fmt.Errorf("sandbox register: %w", err)
	}
	if b.trust, err = b.bootstrapTrust(ctx, tpp.New(db, b.Clock, fr), fr); err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(b.trust.qtsp.Root())
	b.Bank, err = bank.New(bank.Config{DB: db, Clock: b.Clock, Log: b.log, Sandbox: true, Register: fr,
		QWACs:   &eidas.Verifier{Roots: roots, Revocation: b.trust.qtsp, Clock: b.Clock.Now},
		QSealCs: &eidas.Verifier{Roots: roots, Revocation: b.trust.qtsp, Clock: b.Clock.Now},
		Seal:    b.trust.seal, WebURL: b.WebURL, Callbacks: bank.CallbackConfig{Policy: callback.Sandbox}})
	if err != nil {
		return err
	}
	if err := b.Registry.EnsureStaff(ctx, BackofficeLogin, BackofficePassword, tpp.RoleBackoffice); err != nil {
		return fmt.Errorf("back-office account: %w", err)
	}
	return b.activateFirms(ctx)
}

// Close closes the database.
func (b *Bank) Close() error { return b.DB.Close() }

// Dir is DataDir/sandbox, where the contract's files are.
func (b *Bank) Dir() string { return b.dir }

// openDB opens the database, creating the synthetic bank when it is new.
// With SQLite the new bank is built in a temporary file and renamed into
// place, so that an interrupted first start leaves nothing half-made.
func (b *Bank) openDB(ctx context.Context) (*store.DB, error) {
	if b.cfg.DB != "" {
		db, err := store.Open(ctx, b.cfg.DB)
		if err != nil {
			return nil, err
		}
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := b.bootstrap(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	path := filepath.Join(b.cfg.DataDir, "psd2bank.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		tmp := path + ".new"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
		db, err := store.Open(ctx, tmp)
		if err != nil {
			return nil, err
		}
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := b.populate(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
		if err := db.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// populate fills a new database with the synthetic bank.
func (b *Bank) populate(ctx context.Context, db *store.DB) error {
	start := time.Now()
	now := clock.System{}.Now()
	ds := synth.Generate(b.cfg.Seed, now)
	l := ledger.New(db, clock.System{})
	hashes := map[string]string{}
	hash := func(p string) (string, error) {
		if h, ok := hashes[p]; ok {
			return h, nil
		}
		hashFn := sca.HashPassword
		if b.hashPassword != nil {
			hashFn = b.hashPassword
		}
		h, err := hashFn(p)
		hashes[p] = h
		return h, err
	}
	if err := synth.Load(ctx, l, ds, hash); err != nil {
		return fmt.Errorf("load synthetic data: %w", err)
	}
	// The seed marks a finished bank: written with the building mark's
	// removal in one transaction (see bootstrap).
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for k, v := range map[string]string{
			settingSeed:      strconv.FormatInt(b.cfg.Seed, 10),
			settingCreatedAt: now.UTC().Format(time.RFC3339Nano),
		} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)`, k, v); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE name = $1`, settingBuilding)
		return err
	}); err != nil {
		return fmt.Errorf("finish the sandbox bank: %w", err)
	}
	// The customers' accounts (those psus.json lists); the bank's own
	// clearing accounts apart.
	own := 0
	for _, a := range ds.Accounts {
		if a.CustomerID == "" {
			own++
		}
	}
	b.log.Info("sandbox bank created", "customers", len(ds.Customers), "accounts", len(ds.Accounts)-own,
		"clearing_accounts", own, "transfers", len(ds.History), "seed", b.cfg.Seed, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func setting(ctx context.Context, db *store.DB, name string) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if err != nil && !errors.Is(err, errNoRows) {
		return "", err
	}
	return v, nil
}

// psuFile is the shape of psus.json (SANDBOX-CONTRACT.md).
type psuFile struct {
	Login    string       `json:"login"`
	Password string       `json:"password"`
	PESEL    string       `json:"pesel"`
	Phone    string       `json:"phone"`
	Segment  string       `json:"segment"`
	Name     string       `json:"name"`
	NIP      string       `json:"nip,omitempty"`
	REGON    string       `json:"regon,omitempty"`
	Accounts []psuAccount `json:"accounts"`
}

type psuAccount struct {
	Number   string `json:"number"`
	Currency string `json:"currency"`
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
}

// writePSUs writes psus.json from the seed the bank was created with. The
// generator is deterministic, so the file can always be made again.
func (b *Bank) writePSUs(ctx context.Context, db *store.DB) error {
	seed, err := setting(ctx, db, settingSeed)
	if err != nil {
		return err
	}
	created, err := setting(ctx, db, settingCreatedAt)
	if err != nil {
		return err
	}
	s, err := strconv.ParseInt(seed, 10, 64)
	if err != nil {
		return fmt.Errorf("the database has no sandbox seed (%q): was it made by `psd2bank sandbox`?", seed)
	}
	at, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return fmt.Errorf("sandbox creation time %q: %w", created, err)
	}
	ds := synth.Generate(s, at)
	out := make([]psuFile, 0, len(ds.PSUs))
	for _, p := range ds.PSUs {
		f := psuFile{Login: p.Login, Password: p.Password, PESEL: p.PESEL, Phone: p.Phone, Segment: p.Segment,
			Name: p.Name, NIP: p.NIP, REGON: p.REGON, Accounts: []psuAccount{}}
		for _, a := range p.Accounts {
			f.Accounts = append(f.Accounts, psuAccount{Number: a.Number, Currency: a.Currency, Type: a.Type, Name: a.Name})
		}
		out = append(out, f)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	// The test customers' passwords: readable by the sandbox's user only.
	return writeFile(filepath.Join(b.dir, "psus.json"), append(data, '\n'), 0o600)
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil { // a left-over tmp keeps its mode
		return err
	}
	return os.Rename(tmp, path)
}

// Serve starts both listeners, prints the ready line to stdout when both
// accept connections, and serves until ctx ends.
func (b *Bank) Serve(ctx context.Context, stdout io.Writer) error {
	apiAddr, webAddr := b.cfg.APIAddr, b.cfg.WebAddr
	if apiAddr == "" {
		apiAddr = DefaultAPIAddr
	}
	if webAddr == "" {
		webAddr = DefaultWebAddr
	}
	tlsConfig, err := b.apiTLS()
	if err != nil {
		return err
	}
	go b.Run(ctx)
	if _, err := server.StartAdmin(ctx, b.cfg.AdminAddr, b.Metrics, b.log); err != nil {
		return err
	}
	cfg := server.Config{APIAddr: apiAddr, WebAddr: webAddr, APITLS: tlsConfig, Log: b.log, Metrics: b.Metrics,
		API: b.API(), Web: b.Web(b.webHandler())}
	return server.Serve(ctx, cfg, func(ep server.Endpoints) {
		b.webURL.Store(ep.Web)
		writeEndpoints(b.dir, ep, b.log)
		fmt.Fprintf(stdout, "psd2bank sandbox ready: api=%s web=%s\n", ep.API, ep.Web)
	})
}
