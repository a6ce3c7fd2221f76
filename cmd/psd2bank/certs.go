package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/sandbox"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

const certsUsage = `psd2bank certs — the sandbox QTSP

  psd2bank certs issue --data DIR --org-id PSDPL-KNF-0000000000 --name "Example TPP" \
      --roles PSP_AI,PSP_PI,PSP_IC --out OUTDIR [--valid-for 720h | --expired] [--register]
  psd2bank certs revoke --data DIR --cert FILE.pem
`

func runCerts(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"certs needs a subcommand: issue or revoke (run `psd2bank certs -h`)"}
	}
	switch args[0] {
	case "issue":
		return runCertsIssue(ctx, args[1:], getenv, stdout, stderr)
	case "revoke":
		return runCertsRevoke(args[1:], getenv, stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(helpOut(stderr), "Usage:\n"+strings.TrimPrefix(certsUsage, "psd2bank certs — the sandbox QTSP\n\n")+
			"\nRun \"psd2bank certs issue -h\" or \"psd2bank certs revoke -h\" for their flags.\n")
		return nil
	default:
		return usageError{fmt.Sprintf("unknown certs subcommand %q: issue or revoke (run `psd2bank certs -h`)", args[0])}
	}
}

func runCertsIssue(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("certs issue", stderr)
	data := fs.String("data", sandbox.DefaultDataDir, "the sandbox's data `directory`")
	orgID := fs.String("org-id", "", "organizationIdentifier, e.g. PSDPL-KNF-0000000000")
	name := fs.String("name", "", "the organisation's name")
	roles := fs.String("roles", "PSP_AI,PSP_PI,PSP_IC", "PSD2 roles, comma-separated")
	out := fs.String("out", "", "output `directory` for qwac.pem, qwac.key, qsealc.pem, qsealc.key, client.json")
	validFor := fs.Duration("valid-for", 365*24*time.Hour, "validity of the certificates")
	expired := fs.Bool("expired", false, "issue certificates that have already expired (for negative tests)")
	register := fs.Bool("register", false, "add the organisation to the sandbox register and register it as a client, at once")
	redirect := fs.String("redirect-uri", sandbox.DemoRedirectURI, "the client's redirect_uri (with --register)")
	keyType := fs.String("key", "ec", "key type: ec (P-256) or rsa (2048)")
	dsn := fs.String("db", "", "the sandbox's PostgreSQL `URL`, when it runs with --db")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *orgID == "" || *name == "" || *out == "" {
		return usageError{"certs issue needs --org-id, --name and --out"}
	}
	rs, err := eidas.ParseRoles(*roles)
	if err != nil {
		return usageError{"--roles: " + err.Error()}
	}
	dir := filepath.Join(*data, "sandbox")
	if _, err := os.Stat(filepath.Join(dir, "qtsp-root.pem")); err != nil {
		return fmt.Errorf("no sandbox QTSP in %s: start `psd2bank sandbox --data %s` once first", dir, *data)
	}
	now := time.Now()
	q, err := eidas.LoadOrCreateQTSP(dir, now)
	if err != nil {
		return err
	}
	issued, err := sandbox.IssueTPP(q, sandbox.TPPCertificates{OrgID: *orgID, Name: *name, Roles: rs, ValidFor: *validFor,
		Expired: *expired, KeyType: *keyType, RedirectURI: *redirect, CRLURL: sandbox.CRLURL(dir)}, *out, now)
	if err != nil {
		return err
	}
	if *register {
		db, err := openSandboxDB(ctx, *data, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		registerPath := filepath.Join(dir, tpp.SandboxRegisterFile)
		fr, err := tpp.OpenFileRegister(registerPath, clock.System{})
		if err != nil {
			return err
		}
		client, err := sandbox.RegisterTPP(ctx, tpp.New(db, clock.System{}, fr), registerPath, issued, *name, *out, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "registered %s as client %s\n", client.TPPID, client.ClientID)
	}
	summary, _ := json.Marshal(issued.Client)
	fmt.Fprintf(stdout, "wrote qwac.pem, qwac.key, qsealc.pem, qsealc.key, client.json to %s: %s\n", *out, summary)
	return nil
}

// openSandboxDB opens the database of an existing sandbox data directory.
func openSandboxDB(ctx context.Context, data, dsn string) (*store.DB, error) {
	if dsn == "" {
		dsn = filepath.Join(data, "psd2bank.db")
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("no sandbox database at %s: start `psd2bank sandbox --data %s` once first", dsn, data)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func runCertsRevoke(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("certs revoke", stderr)
	data := fs.String("data", sandbox.DefaultDataDir, "the sandbox's data `directory`")
	certFile := fs.String("cert", "", "the certificate (PEM) to revoke")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *certFile == "" {
		return usageError{"certs revoke needs --cert"}
	}
	raw, err := os.ReadFile(*certFile)
	if err != nil {
		return err
	}
	certs, err := eidas.LoadCertificatesPEM(raw)
	if err != nil {
		return err
	}
	now := time.Now()
	q, err := eidas.LoadOrCreateQTSP(filepath.Join(*data, "sandbox"), now)
	if err != nil {
		return err
	}
	if certs[0].CheckSignatureFrom(q.Root()) != nil {
		return fmt.Errorf("%s was not issued by this sandbox's QTSP", *certFile)
	}
	if err := q.Revoke(new(big.Int).Set(certs[0].SerialNumber), now); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked certificate %s (serial %x); the CRL and a running sandbox see it at once\n", *certFile, certs[0].SerialNumber)
	return nil
}
