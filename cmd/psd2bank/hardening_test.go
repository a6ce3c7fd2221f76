package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSandboxRefusesCrossSiteToolPosts: a page of another site cannot
// move the sandbox clock or approve a mobile-app challenge through the
// visitor's browser (a text/plain form post with the browser's headers);
// curl-style posts still work. Every page, / included, carries the
// security headers, and psus.json (the test customers' passwords) is
// readable by its owner only.
func TestSandboxRefusesCrossSiteToolPosts(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data, "--argon2-concurrency", "2")
	base := "http://" + p.web

	var before struct{ Now string }
	getJSON(t, base+"/sandbox/clock", &before)
	for _, tc := range []struct{ path, body string }{
		{"/sandbox/clock", `{"advance":"240h"}`},
		{"/sandbox/mobile/approve", `{"login":"nobody"}`},
	} {
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
			{"Origin": "https://evil.example"},
		} {
			req, _ := http.NewRequest(http.MethodPost, base+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "text/plain")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("cross-site POST %s with %v: %d %s", tc.path, h, res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
	}
	var after struct{ Now string }
	getJSON(t, base+"/sandbox/clock", &after)
	if after.Now[:10] != before.Now[:10] {
		t.Fatalf("a cross-site post moved the clock: %s -> %s", before.Now, after.Now)
	}
	// Same-origin and header-less (curl) posts pass.
	req, _ := http.NewRequest(http.MethodPost, base+"/sandbox/mobile/approve", strings.NewReader(`{"login":"nobody"}`))
	req.Header.Set("Origin", base)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("same-origin approve of an unknown login: %d, want 404", res.StatusCode)
	}

	for _, path := range []string{"/", "/healthz", "/developer", "/backoffice/login", "/sandbox/clock"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: security headers %v", path, h)
		}
	}

	fi, err := os.Stat(filepath.Join(data, "sandbox", "psus.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("psus.json has mode %v, want 0600", fi.Mode().Perm())
	}
}
