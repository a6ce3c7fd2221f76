// Command psd2bank is the whole bank in one binary: the sandbox, the
// production server, migrations, the sandbox QTSP and the TPP-side client.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "psd2bank:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

const usage = `psd2bank — an open-source PSD2 bank API

Usage:
  psd2bank sandbox [--data DIR] [--api-addr HOST:PORT] [--web-addr HOST:PORT] [--api-host NAME]... [--db URL] [--seed N]
  psd2bank serve [--config FILE] --db URL --qtsp-roots FILE --register FILE --seal-cert FILE --seal-key FILE (--tls-cert FILE --tls-key FILE | --api-behind-proxy --trusted-proxy CIDR)
  psd2bank certs issue --data DIR --org-id ID --name NAME --roles PSP_AI,PSP_PI,PSP_IC --out DIR [--valid-for D | --expired] [--register]
  psd2bank certs revoke --data DIR --cert FILE
  psd2bank tpp init --sandbox DATA | psd2bank tpp --config FILE connect|accounts|balance|sync
  psd2bank migrate --db URL
  psd2bank help

Run "psd2bank COMMAND -h" for the flags of a command.
Every flag can also be set by an environment variable PSD2BANK_<FLAG>, e.g. PSD2BANK_DATA, PSD2BANK_DB.
`

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "sandbox":
		return runSandbox(ctx, rest, getenv, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "certs":
		return runCerts(ctx, rest, getenv, stdout, stderr)
	case "tpp":
		return runTPP(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}
