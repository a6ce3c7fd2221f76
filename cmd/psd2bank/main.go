// Command psd2bank is the whole bank in one binary: the sandbox, the
// production server, migrations, the sandbox QTSP and the TPP-side client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	defaultGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "psd2bank:", err)
		}
		os.Exit(exitCode(err))
	}
}

// defaultGCPercent is the garbage collector's target when GOGC is not set:
// the heap may grow to five times what is live (tens of megabytes for a
// bank serving pages of 78 kB) before a collection, instead of twice. On
// two cores it took the AIS page from about 930 to 1,580 requests/s and
// p99 from 24 to 13 ms, the bench client being this binary too, for about
// twice the memory (BENCHMARKS.md, issue 12). Go's default (100) and any
// other value stay one GOGC=... away, and GOMEMLIMIT still bounds memory.
const defaultGCPercent = 400

func defaultGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported is a failure the command has already told the user about
// (a table of outcomes, say): exit code 1, nothing more printed.
var errReported = errors.New("failed (see above)")

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// command is one command of psd2bank: its name, its arguments and a line
// of what it does for the help, and what runs it.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands is the command table; `psd2bank help` lists it in this order. A
// new command adds itself from its own file:
//
//	func init() { registerCommand(command{name: "bench", args: "[--db URL]", summary: "...", run: runBench}) }
var commands = []command{
	{"sandbox", "[--data DIR] [--api-addr HOST:PORT] [--web-addr HOST:PORT] [--db URL] [--seed N]",
		"the whole bank with synthetic customers, a test QTSP and a demo TPP, on this machine", runSandbox},
	{"serve", "[--config FILE] --db URL --qtsp-roots FILE --register FILE --seal-cert FILE --seal-key FILE (--tls-cert FILE --tls-key FILE | --api-behind-proxy --trusted-proxy CIDR)",
		"the bank in production", runServe},
	{"migrate", "--db URL", "bring a database's schema up to date", runMigrate},
	{"certs", "issue|revoke ...", "the sandbox QTSP: issue a TPP's certificates (and register it), revoke one", runCerts},
	{"tpp", "init|connect|accounts|balance|sync|export|pay|status ...",
		"the TPP side: connect a customer's accounts, import their history, export statements, make payments", runTPP},
	{"version", "", "the version of this psd2bank", runVersion},
	{"help", "[COMMAND]", "this list, or a command's help", nil},
}

// registerCommand adds a command to the table, before version and help.
func registerCommand(c command) {
	n := len(commands) - 2
	commands = append(commands[:n], append([]command{c}, commands[n:]...)...)
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usageText() string {
	var b strings.Builder
	b.WriteString("psd2bank — an open-source PSD2 bank API\n\nUsage: psd2bank COMMAND [FLAGS]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nRun \"psd2bank COMMAND -h\" (or \"psd2bank help COMMAND\") for a command's flags.\n" +
		"Every flag can also be set by an environment variable PSD2BANK_<FLAG>, e.g. PSD2BANK_DATA, PSD2BANK_DB.\n" +
		"Exit status: 0 done, 1 failed, 2 a mistake in the command line.\n")
	return b.String()
}

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	stderr = withHelp(stdout, stderr)
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return usageError{"no command given: run `psd2bank help` for the list of commands"}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 && name == "help" {
			c, ok := findCommand(rest[0])
			if !ok || c.run == nil {
				return usageError{fmt.Sprintf("unknown command %q: run `psd2bank help` for the list of commands", rest[0])}
			}
			return c.run(ctx, append(rest[1:], "-h"), getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usageText())
		return nil
	case "--version", "-version":
		name = "version"
	}
	c, ok := findCommand(name)
	if !ok || c.run == nil {
		return usageError{fmt.Sprintf("unknown command %q: run `psd2bank help` for the list of commands", name)}
	}
	return c.run(ctx, rest, getenv, stdout, stderr)
}

// runVersion prints the module version and the commit it was built from.
func runVersion(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	fs.Usage = helpUsage(fs, "psd2bank version — the version of this psd2bank and the commit it was built from\n\nUsage: psd2bank version\n")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	fmt.Fprintln(stdout, "psd2bank", version())
	return nil
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += fmt.Sprintf(" (commit %s, %s%s)", rev, at, dirty)
	}
	return v + " " + bi.GoVersion
}
