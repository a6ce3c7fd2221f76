package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/sandbox"
	"github.com/psd2bank/psd2bank/internal/stats"
)

// TestStatisticsThroughTheSandbox: the sandbox measures its own traffic on
// both interfaces; the back office plans an outage, during which the API
// answers the dialect's 503 with Retry-After and the public status says so;
// `psd2bank stats` then writes the quarter with every call counted.
func TestStatisticsThroughTheSandbox(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	api, web := "https://"+p.api, "http://"+p.web
	demo := loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data)

	// Three AIS calls refused (no token), two internet-banking pages, one
	// consent page that does not exist.
	for range 3 {
		if a := demo.polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts"); a.status != 401 {
			t.Fatalf("getAccounts without a token = %d %s", a.status, a.body)
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/ib", "/ib", "/authorize/no-such-request"} {
		res, err := noRedirect.Get(web + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	// The back office plans an outage of the API two hours ahead.
	jar, _ := cookiejar.New(nil)
	bo := &http.Client{Jar: jar}
	res, err := bo.PostForm(web+"/backoffice/login", url.Values{"login": {sandbox.BackofficeLogin}, "password": {sandbox.BackofficePassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var clk struct{ Now time.Time }
	getJSON(t, web+"/sandbox/clock", &clk)
	if clk.Now.IsZero() {
		t.Fatal("the sandbox clock did not say its time")
	}
	local := func(t time.Time) string { return t.In(stats.Warsaw).Format("2006-01-02T15:04") }
	start := clk.Now.Add(2 * time.Hour).Truncate(time.Minute)
	// Too early first: refused, naming the field.
	page := postPage(t, bo, web+"/backoffice/stats/maintenance", url.Values{"channel": {"api"},
		"start": {local(clk.Now.Add(10 * time.Minute))}, "end": {local(start.Add(time.Hour))}, "reason": {"upgrade"}}, 422)
	if !strings.Contains(page, "Start: a planned outage must be announced at least 60 minutes ahead") {
		t.Fatalf("early outage page does not say why:\n%s", page)
	}
	postPage(t, bo, web+"/backoffice/stats/maintenance", url.Values{"channel": {"api"},
		"start": {local(start)}, "end": {local(start.Add(time.Hour))}, "reason": {"database upgrade"}}, 200)
	var sum stats.Summary
	getJSON(t, web+"/status.json", &sum)
	if len(sum.PlannedOutages) != 1 || sum.PlannedOutages[0].Reason != "database upgrade" || sum.Status[0].State != "up" {
		t.Fatalf("public summary before the outage: %+v", sum)
	}

	// Half an hour into the outage.
	res, err = http.Post(web+"/sandbox/clock", "application/json", strings.NewReader(`{"advance":"2h30m"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	a := demo.polishAPI(t, api, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts")
	retry, _ := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != 503 || a.code != "SERVICE_UNAVAILABLE" || !strings.Contains(a.message, "planned maintenance") || retry < 1700 || retry > 1800 {
		t.Fatalf("during the outage: %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	if m := demo.call(t, api, "GET", "/pl-retail/v3/accounts", nil, ""); m.status != 503 || m.code != "SERVICE_UNAVAILABLE" || m.header.Get("Retry-After") == "" {
		t.Fatalf("mBank during the outage: %d Retry-After %q %s", m.status, m.header.Get("Retry-After"), m.body)
	}
	getJSON(t, web+"/status.json", &sum)
	if sum.Status[0].State != "maintenance" || sum.Status[1].State != "up" {
		t.Fatalf("public status during the outage: %+v", sum.Status)
	}
	page = getPage(t, bo, web+"/backoffice/stats")
	for _, want := range []string{`data-down="api"`, "planned maintenance", "<svg", `id="download-csv"`} {
		if !strings.Contains(page, want) {
			t.Errorf("back-office statistics page lacks %q", want)
		}
	}
	csvPage := getPage(t, bo, web+"/backoffice/stats/files/"+stats.FileName(stats.QuarterOf(sum.Now))+".csv")
	if !strings.HasPrefix(csvPage, "date,interface,") {
		t.Errorf("the CSV download starts %.40q", csvPage)
	}

	p.stop() // the last flush
	out := t.TempDir()
	q := stats.QuarterOf(sum.Now)
	var stdout strings.Builder
	if err := run(context.Background(), []string{"stats", "--data", data, "--quarter", q.String(), "--out", out},
		func(string) string { return "" }, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, stats.FileName(q)+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	sums := map[string]map[string]int{}
	var planned float64
	for _, r := range recs[1:] {
		if sums[r[1]] == nil {
			sums[r[1]] = map[string]int{}
		}
		for _, c := range []string{"calls", "refused", "planned_calls", "ib_calls", "consent_calls", "ais_calls"} {
			n, _ := strconv.Atoi(r[col[c]])
			sums[r[1]][c] += n
		}
		if r[1] == "dedicated" {
			s, _ := strconv.ParseFloat(r[col["planned_downtime_s"]], 64)
			planned += s
		}
	}
	if d := sums["dedicated"]; d["calls"] != 5 || d["refused"] != 3 || d["planned_calls"] != 2 || d["ais_calls"] != 5 {
		t.Errorf("dedicated interface in the file: %v", d)
	}
	if c := sums["customer"]; c["calls"] != 3 || c["ib_calls"] != 2 || c["consent_calls"] != 1 {
		t.Errorf("customer interface in the file: %v", c)
	}
	if planned < 1800 || planned > 3600 {
		t.Errorf("planned downtime %v s: want the outage's time so far (30 to 60 min)", planned)
	}
	if !strings.Contains(stdout.String(), "wrote ") {
		t.Errorf("stats said %q", stdout.String())
	}
}

func postPage(t *testing.T, c *http.Client, u string, form url.Values, want int) string {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("POST %s = %d, want %d:\n%s", u, res.StatusCode, want, body)
	}
	return string(body)
}

func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %d:\n%s", u, res.StatusCode, body)
	}
	return string(body)
}
