package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config file sets flags; the environment overrides it and the command
// line overrides both; repeatable flags accumulate.
func TestConfigFilePrecedence(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "psd2bank.conf")
	os.WriteFile(path, []byte("# comment\n\ndb = from-file\napi-addr = \"1.2.3.4:1\"\nweb-addr = file:2\ntrusted-proxy = 10.0.0.0/8\ntrusted-proxy = 192.168.0.0/16\n"), 0o600)
	fs := newFlagSet("serve", io.Discard)
	db, api, webAddr := fs.String("db", "", ""), fs.String("api-addr", "", ""), fs.String("web-addr", "", "")
	fs.String("config", "", "")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxy", "")
	args := []string{"--config", path, "--db", "from-args"}
	env := map[string]string{"PSD2BANK_API_ADDR": "from-env:3", "PSD2BANK_DB": "from-env"}
	if got := configPath(args, func(k string) string { return env[k] }); got != path {
		t.Fatalf("configPath = %q", got)
	}
	if err := applyConfigFile(fs, path); err != nil {
		t.Fatal(err)
	}
	if err := parse(fs, args, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *db != "from-args" || *api != "from-env:3" || *webAddr != "file:2" || proxies.String() != "10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("db %q api %q web %q proxies %q", *db, *api, *webAddr, proxies.String())
	}
	if got := configPath([]string{"--config=x.conf"}, func(string) string { return "" }); got != "x.conf" {
		t.Errorf("configPath(--config=x.conf) = %q", got)
	}
	if got := configPath(nil, func(k string) string { return map[string]string{"PSD2BANK_CONFIG": "env.conf"}[k] }); got != "env.conf" {
		t.Errorf("configPath from the environment = %q", got)
	}
}

// A config file's mistakes are refused before anything starts, naming the
// file, the line and the fix.
func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ content, want string }{
		{"db = x\nseal-certificate = /etc/seal.pem\n", `:2: "seal-certificate" is not a setting of serve`},
		{"db\n", `:1: a line must be "name = value"`},
		{"api-behind-proxy = perhaps\n", `:1: api-behind-proxy = "perhaps"`},
		{"config = other.conf\n", `:1: a configuration file cannot name another one`},
	} {
		path := filepath.Join(t.TempDir(), "bad.conf")
		os.WriteFile(path, []byte(tc.content), 0o600)
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"serve", "--config", path}, func(string) string { return "" }, io.Discard, &stderr)
		if _, usage := err.(usageError); !usage || !strings.Contains(err.Error(), path+tc.want) {
			t.Errorf("%q: %v, want a usage error with %q", tc.content, err, tc.want)
		}
	}
	err := run(context.Background(), []string{"serve", "--config", filepath.Join(t.TempDir(), "missing.conf")},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("a missing config file: %v", err)
	}
}
