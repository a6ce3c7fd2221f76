package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// helpWriter is the stderr that run hands to commands: it remembers
// stdout, where a command's help goes (`-h` is asked for, not a mistake).
type helpWriter struct {
	io.Writer // stderr
	stdout    io.Writer
}

func withHelp(stdout, stderr io.Writer) io.Writer {
	if _, ok := stderr.(*helpWriter); ok {
		return stderr
	}
	return &helpWriter{Writer: stderr, stdout: stdout}
}

// helpOut is where help goes: stdout when the command runs under run.
func helpOut(stderr io.Writer) io.Writer {
	if h, ok := stderr.(*helpWriter); ok {
		return h.stdout
	}
	return stderr
}

// flagOutput holds what the flag package writes while parsing (its error
// and the usage), so that parse can send it to stdout for -h and to
// stderr for a mistake.
type flagOutput struct {
	bytes.Buffer
	stderr io.Writer
}

// newFlagSet returns a flag set whose help goes to stdout and whose
// complaints go to stderr, and whose flags take their defaults from
// PSD2BANK_* environment variables (set by parse).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{stderr: stderr})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of psd2bank %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// helpUsage is a Usage for fs that prints text, then the flags.
func helpUsage(fs *flag.FlagSet, text string) func() {
	return func() {
		fmt.Fprint(fs.Output(), text)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
}

// errHelpShown is flag.ErrHelp after the help was printed: the command
// does nothing else and succeeds.
var errHelpShown = flag.ErrHelp

// parse parses args after applying the environment: a flag given on the
// command line wins over PSD2BANK_<NAME> (upper case, dashes as
// underscores), which wins over the default. -h, -help or --help prints the
// help to stdout and returns flag.ErrHelp (the command then stops, with
// success); a mistake is a usageError, with the flag package's words.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := "PSD2BANK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = usageError{fmt.Sprintf("%s=%q: %v", key, v, err)}
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (run with -h for the flags)", fs.Arg(0))}
	}
	return nil
}

// parseArgs is fs.Parse with parse's treatment of help and mistakes; it
// allows arguments after the flags.
func parseArgs(fs *flag.FlagSet, args []string) error {
	out, _ := fs.Output().(*flagOutput)
	err := fs.Parse(args)
	if out == nil {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			return usageError{err.Error()}
		}
		return err
	}
	defer out.Reset()
	if errors.Is(err, flag.ErrHelp) {
		helpOut(out.stderr).Write(out.Bytes())
		return errHelpShown
	}
	if err != nil {
		return usageError{err.Error() + " (run with -h for the flags)"}
	}
	return nil
}

// listFlag collects a repeatable string flag (also comma-separated).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
