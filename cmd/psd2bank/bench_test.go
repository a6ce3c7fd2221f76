package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchCommand runs `psd2bank bench` for a moment against a sandbox
// in this process: AIS with the bare-server comparison, CAF, and Berlin
// Group's transaction list with the bare-server comparison. Every
// request must be served (no errors), and the report must give requests/s,
// p50/p90/p99 and the ratio.
func TestBenchCommand(t *testing.T) {
	data := t.TempDir()
	startSandbox(t, "--data", data)
	for _, tc := range []struct {
		op   string
		args []string
	}{
		{"ais", []string{"--bare"}},
		{"caf", nil},
		{"bg", []string{"--bare"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			var out, progress bytes.Buffer
			args := append([]string{"bench", "--sandbox", data, "--op", tc.op, "--clients", "2", "--duration", "1s"}, tc.args...)
			if err := run(context.Background(), args, func(string) string { return "" }, &out, &progress); err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			t.Logf("\n%s", out.String())
			bank := regexp.MustCompile(`(?m)^bank\s+(\d+) requests\s+([\d.]+) req/s\s+p50 \S+\s+p90 \S+\s+p99 \S+\s+errors (\d+)$`).FindStringSubmatch(out.String())
			if bank == nil {
				t.Fatalf("no bank line in\n%s", out.String())
			}
			if n, _ := strconv.Atoi(bank[1]); n < 1 {
				t.Errorf("no request served")
			}
			if bank[3] != "0" {
				t.Errorf("%s errors:\n%s", bank[3], out.String())
			}
			if !strings.Contains(progress.String(), "requests") {
				t.Errorf("no progress line: %q", progress.String())
			}
			if len(tc.args) > 0 {
				if !regexp.MustCompile(`(?m)^bare TLS\s+\d+ requests .* errors 0$`).MatchString(out.String()) ||
					!regexp.MustCompile(`(?m)^ratio\s+\d+\.\d{3} `).MatchString(out.String()) {
					t.Errorf("no bare-server line or ratio in\n%s", out.String())
				}
			}
		})
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--sandbox", data, "--op", "nothing", "--duration", "1s"},
		func(string) string { return "" }, &bytes.Buffer{}, &stderr); err == nil || !strings.Contains(err.Error(), `unknown --op "nothing"`) {
		t.Errorf("an unknown operation: %v", err)
	}
}
