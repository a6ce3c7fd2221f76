package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/sandbox"
)

// The README's walk, with a scripted browser in place of a person, in
// PolishAPI and in Berlin Group.
func TestWalk(t *testing.T) {
	for _, c := range []struct{ dialect, says string }{
		{"polishapi", "getAccounts, signed and consented"},
		{"berlingroup", "GET /v1/accounts and their balances, signed and consented"},
	} {
		t.Run(c.dialect, func(t *testing.T) { testWalk(t, c.dialect, c.says) })
	}
}

func testWalk(t *testing.T, dialect, says string) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bank, err := sandbox.Open(ctx, sandbox.Config{DataDir: data, APIAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer bank.Close()
	ready := make(chan struct{})
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 512)
		pr.Read(buf)
		close(ready)
		io.Copy(io.Discard, pr)
	}()
	go bank.Serve(ctx, pw)
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("sandbox not ready")
	}
	var psus []struct{ Login, Password string }
	raw, _ := os.ReadFile(filepath.Join(data, "sandbox", "psus.json"))
	json.Unmarshal(raw, &psus)

	var out bytes.Buffer
	err = walk(ctx, data, dialect, &out, func(page string) { go approve(t, page, bank.WebURL(), psus[0].Login, psus[0].Password) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), says) || strings.Count(out.String(), "\n   ") < 1 {
		t.Fatalf("the walk printed:\n%s", out.String())
	}
}

// approve is the customer: log in, keep the offered accounts, approve with
// the SMS code from the sandbox, follow the redirect to the TPP.
func approve(t *testing.T, page, web, login, password string) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := func(u string, v url.Values) string {
		res, err := c.PostForm(u, v)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	form(page+"/login", url.Values{"login": {login}, "password": {password}})
	res, err := c.Get(page)
	if err != nil {
		t.Error(err)
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	v := url.Values{"method": {"sms"}}
	for _, m := range regexp.MustCompile(`name="account" value="(\d{26})"`).FindAllStringSubmatch(string(b), -1) {
		v.Add("account", m[1])
	}
	smsPage := form(page+"/approve", v)
	m := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(smsPage)
	if m == nil {
		t.Errorf("no SMS form: %s", smsPage)
		return
	}
	res, err = http.Get(web + "/sandbox/sms?login=" + url.QueryEscape(login))
	if err != nil {
		t.Error(err)
		return
	}
	var sms []struct{ Code string }
	json.NewDecoder(res.Body).Decode(&sms)
	res.Body.Close()
	if len(sms) == 0 {
		t.Error("no SMS")
		return
	}
	form(page+"/sms", url.Values{"challenge": {m[1]}, "code": {sms[0].Code}}) // follows the redirect to the TPP
}
