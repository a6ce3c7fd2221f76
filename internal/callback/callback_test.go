package callback

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	registered := []string{"https://tpp.example/cb", "https://203.0.114.7/cb"}
	loopbackTPP := []string{"http://127.0.0.1:8765/callback"}
	cases := []struct {
		policy     Policy
		url        string
		registered []string
		ok         bool
	}{
		{Strict, "https://tpp.example/notify", registered, true},
		{Strict, "https://TPP.example./notify", registered, true},
		{Strict, "https://api.tpp.example:8443/notify", registered, true},
		{Strict, "https://203.0.114.7/n", registered, true},
		{Strict, "https://eviltpp.example/notify", registered, false},
		{Strict, "https://tpp.example.evil.example/notify", registered, false},
		{Strict, "http://tpp.example/notify", registered, false},
		{Strict, "ftp://tpp.example/notify", registered, false},
		{Strict, "https://user:pw@tpp.example/notify", registered, false},
		{Strict, "tpp.example/notify", registered, false},
		{Strict, "https://tpp.example/notify", nil, false},
		{Strict, "https://127.0.0.1/cb", []string{"https://127.0.0.1/"}, false},
		{Strict, "https://localhost/cb", []string{"https://localhost/"}, false},
		{Strict, "https://[::1]/cb", []string{"https://[::1]/"}, false},
		{Strict, "https://10.1.2.3/cb", []string{"https://10.1.2.3/"}, false},
		{Strict, "https://169.254.169.254/latest/meta-data", []string{"https://169.254.169.254/"}, false},
		{Strict, "https://[fe80::1]/cb", []string{"https://[fe80::1]/"}, false},
		{Strict, "https://[::ffff:192.168.1.1]/cb", []string{"https://[::ffff:192.168.1.1]/"}, false},
		{Strict, "https://100.64.0.1/cb", []string{"https://100.64.0.1/"}, false},
		{Strict, "https://0.0.0.0/cb", []string{"https://0.0.0.0/"}, false},
		{Strict, "http://127.0.0.1:9999/cb", loopbackTPP, false},
		{Sandbox, "http://127.0.0.1:9999/cb", loopbackTPP, true},
		{Sandbox, "https://127.0.0.1:9999/cb", loopbackTPP, true},
		{Sandbox, "http://127.0.0.1:9999/cb", registered, false}, // not this TPP's host
		{Sandbox, "http://10.0.0.1/cb", []string{"http://10.0.0.1/"}, false},
		{Sandbox, "http://tpp.example/cb", registered, false}, // http only on loopback
	}
	for _, tc := range cases {
		err := tc.policy.Check(tc.url, tc.registered)
		if (err == nil) != tc.ok {
			t.Errorf("loopback=%v Check(%q, %v) = %v, want ok=%v", tc.policy.AllowLoopback, tc.url, tc.registered, err, tc.ok)
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.PL == "" || e.EN == "") {
			t.Errorf("Check(%q) error without both languages: %#v", tc.url, err)
		}
	}
}

// The dialer refuses a non-public address after resolution: a name that
// resolves to loopback is refused by the strict client even when the URL
// checks are bypassed, and redirects are never followed.
func TestClientRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, u := range []string{srv.URL + "/cb", "http://localhost" + port + "/cb"} {
		_, err := Strict.Client().Post(u, "application/json", strings.NewReader("{}"))
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("strict client to %s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	if err := Strict.Post(context.Background(), Strict.Client(), srv.URL+"/cb", []byte("{}")); err == nil {
		t.Error("strict Post to loopback succeeded")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server was reached %d times", n)
	}
	// The sandbox allows loopback; a redirect is not followed (3xx is a failure).
	if err := Sandbox.Post(context.Background(), Sandbox.Client(), srv.URL+"/cb", []byte("{}")); err != nil {
		t.Fatalf("sandbox Post to loopback: %v", err)
	}
	if err := Sandbox.Post(context.Background(), Sandbox.Client(), srv.URL+"/redirect", []byte("{}")); err == nil {
		t.Fatal("a redirect answer counted as delivered")
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("the server was reached %d times, want 2 (no redirect followed)", n)
	}
}
