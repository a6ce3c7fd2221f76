package web_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/web"
)

// Behind a TLS-terminating proxy the bank sees plain HTTP; with an https
// public address configured, the session cookie is Secure all the same.
// Without one (the sandbox's plain http pages) it is not.
func TestCookiesSecureWhenPublicAddressIsHTTPS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.signUp(t, e.client(t), licensedOrg, "dev@firm.example")
		for _, tc := range []struct {
			public string
			secure bool
		}{{"https://bank.example", true}, {"", false}, {"http://127.0.0.1:8080", false}} {
			s := web.New(web.Deps{Registry: e.reg, DB: db, Clock: e.clk, Sandbox: true, PublicURL: tc.public})
			srv := httptest.NewServer(s.Handler())
			form := url.Values{"email": {"dev@firm.example"}, "password": {"developer password"}}
			res, err := e.client(t).PostForm(srv.URL+"/developer/login?lang=en", form)
			srv.Close()
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			cookies := res.Header.Values("Set-Cookie")
			if len(cookies) == 0 {
				t.Fatalf("public %q: no cookie set (%d)", tc.public, res.StatusCode)
			}
			for _, c := range cookies {
				if got := strings.Contains(c, "; Secure"); got != tc.secure {
					t.Errorf("public %q: cookie %q, want Secure=%v", tc.public, c, tc.secure)
				}
			}
		}
	})
}
