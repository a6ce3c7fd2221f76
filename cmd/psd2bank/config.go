package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
)

// A configuration file sets flags, one per line:
//
//	# comments and blank lines are ignored
//	db = postgres://psd2bank@db.internal:5432/psd2bank
//	trusted-proxy = 10.0.0.0/8
//	trusted-proxy = 192.168.0.0/16
//
// A name is a flag's name without dashes in front; a value runs to the end of
// the line (surrounding spaces and one pair of double quotes removed). A
// repeatable flag may be given on several lines. The environment
// (PSD2BANK_*) and the command line override the file.

// configPath finds --config in args (or PSD2BANK_CONFIG) before the flags
// are parsed, so that the file can be applied first.
func configPath(args []string, getenv func(string) string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return getenv("PSD2BANK_CONFIG")
}

// applyConfigFile sets the flags of fs named in the file at path.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usageError{fmt.Sprintf("--config: %v", err)}
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return usageError{fmt.Sprintf("%s:%d: a line must be \"name = value\", not %q", path, n, line)}
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		if name == "config" {
			return usageError{fmt.Sprintf("%s:%d: a configuration file cannot name another one", path, n)}
		}
		if fs.Lookup(name) == nil {
			return usageError{fmt.Sprintf("%s:%d: %q is not a setting of %s (run \"psd2bank %s -h\" for the list)", path, n, name, fs.Name(), fs.Name())}
		}
		if err := fs.Set(name, value); err != nil {
			return usageError{fmt.Sprintf("%s:%d: %s = %q: %v", path, n, name, value, err)}
		}
	}
	if err := lines.Err(); err != nil {
		return usageError{fmt.Sprintf("--config %s: %v", path, err)}
	}
	return nil
}
