package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // the page's Warsaw time must not depend on the host's tz database
)

// The sandbox's landing page: what a newcomer sees at the root of the web
// listener — where to start, the test customers, every page and tool with
// its address, and where the documentation is. It names no password (they
// are in psus.json, readable by the sandbox's user only).

const indexCSSPath = "/sandbox/assets/index.css"

var warsaw = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err) // unreachable: time/tzdata embeds it
	}
	return loc
}()

type indexCustomer struct {
	Login, Name, Segment string
	Accounts             int
}

type indexData struct {
	Warsaw, UTC string
	API, Web    string
	Data, Dir   string
	Customers   []indexCustomer
}

func (b *Bank) index(w http.ResponseWriter, r *http.Request) {
	now := b.Clock.Now()
	d := indexData{Warsaw: now.In(warsaw).Format("2006-01-02 15:04"), UTC: now.UTC().Format(time.RFC3339),
		Data: b.cfg.DataDir, Dir: b.dir, API: "https://" + b.cfg.APIAddr, Web: "http://" + r.Host}
	if u, ok := b.apiURL.Load().(string); ok && u != "" {
		d.API = u
	}
	if raw, err := os.ReadFile(filepath.Join(b.dir, "psus.json")); err == nil {
		var psus []psuFile
		if json.Unmarshal(raw, &psus) == nil {
			for _, p := range psus {
				d.Customers = append(d.Customers, indexCustomer{Login: p.Login, Name: p.Name, Segment: p.Segment, Accounts: len(p.Accounts)})
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := indexPage.Execute(w, d); err != nil {
		b.log.Error("the landing page failed", "err", err)
	}
}

func serveIndexCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write([]byte(indexCSS))
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>psd2bank sandbox</title>
<link rel="stylesheet" href="` + indexCSSPath + `">
</head>
<body>
<header><h1>psd2bank sandbox</h1>
<p>A whole PSD2 bank with synthetic customers, running on this machine. The sandbox clock reads
<strong>{{.Warsaw}} (Europe/Warsaw)</strong>, {{.UTC}} in UTC.</p></header>
<main>
<section>
<h2>Start here: a TPP, a consent, a signed call</h2>
<ol>
<li>In another terminal, run the demo TPP: <code>go run ./examples/demo-tpp --data {{.Data}}</code>.
It asks the bank for consent and prints the address of a <strong>consent page</strong>
(<code>{{.Web}}/authorize/…</code>). Consent pages open only from a TPP's request: there is no list of them.</li>
<li>Open that address, log in as a test customer (below), check what the TPP asks, keep the accounts
ticked and approve with an SMS code.</li>
<li>The code is in the customer's <strong>SMS box</strong>, e.g. <a href="/sandbox/sms?login=jan.kowalski">/sandbox/sms?login=jan.kowalski</a>.</li>
<li>The bank sends the browser back to the TPP, which calls the API with its token.</li>
</ol>
<p>Your own TPP: <code>go run ./cmd/psd2bank certs issue --help</code> issues sandbox certificates and
registers the TPP; <code>go run ./cmd/psd2bank tpp --help</code> is a TPP on the command line.</p>
</section>
{{if .Customers}}<section>
<h2>Test customers</h2>
<p>Their passwords, PESEL numbers and account numbers are in <code>{{.Dir}}/psus.json</code>.</p>
<table>
<thead><tr><th>Login</th><th>Name</th><th>Segment</th><th>Accounts</th><th>SMS box</th></tr></thead>
<tbody>{{range .Customers}}
<tr><td><code>{{.Login}}</code></td><td>{{.Name}}</td><td>{{.Segment}}</td><td>{{.Accounts}}</td>
<td><a href="/sandbox/sms?login={{.Login}}">SMS</a></td></tr>{{end}}
</tbody></table>
</section>{{end}}
<section>
<h2>Pages</h2>
<ul>
<li><a href="/ib">/ib</a> — internet banking: accounts, API access per account, limits, consents (log in as a test customer)</li>
<li><a href="/developer">/developer</a> — developer portal: onboarding to production</li>
<li><a href="/backoffice">/backoffice</a> — back office: onboarding review, the hotline, log-ins, statistics (sandbox login <code>backoffice</code> / <code>sandbox-backoffice</code>)</li>
<li><a href="/status">/status</a> — the interfaces' availability and performance (<a href="/status.json">JSON</a>)</li>
</ul>
</section>
<section>
<h2>The TPP API</h2>
<p><code>{{.API}}</code>, over mutual TLS with a sandbox QWAC and signed with a QSealC (the demo TPP's are in
<code>{{.Dir}}/demo-tpp/</code>): PolishAPI 2.1.2 under <code>/v2_1_2.1/</code>, mBank v3 under
<code>/pl-retail/v3/</code> and <code>/pl-corpo/v3/</code>, Berlin Group NextGenPSD2 under <code>/berlingroup/v1/</code>.
The API's server certificate is verified with <code>{{.Dir}}/bank-tls-ca.pem</code>, the bank's response
signatures with <code>{{.Dir}}/bank-qsealc.pem</code>.</p>
</section>
<section>
<h2>Sandbox tools</h2>
<ul>
<li><a href="/sandbox/clock">/sandbox/clock</a> — the sandbox clock; move it forward with
<code>curl -X POST -d '{"advance":"26h"}' {{.Web}}/sandbox/clock</code></li>
<li><code>/sandbox/sms?login=…</code> — the SMS codes the bank sent a customer</li>
<li><code>POST /sandbox/mobile/approve</code> — approve in the "mobile app":
<code>curl -X POST -d '{"login":"jan.kowalski"}' {{.Web}}/sandbox/mobile/approve</code></li>
<li><a href="/sandbox/qtsp/crl">/sandbox/qtsp/crl</a> — the sandbox QTSP's revocation list</li>
</ul>
</section>
<section>
<h2>For the operator</h2>
<ul>
<li><a href="/healthz">/healthz</a> — health (the database answers)</li>
<li><a href="/metrics">/metrics</a> — Prometheus metrics (a Grafana dashboard: <code>docs/grafana-dashboard.json</code>)</li>
</ul>
</section>
<section>
<h2>Documentation</h2>
<p>In the repository: <code>README.md</code> (start, the dialects, the sandbox, the TPP command line,
logs and metrics) and <code>docs/architecture.md</code> (how the code is laid out). The sandbox's files:
<code>{{.Dir}}/</code>; where this sandbox listens: <code>{{.Dir}}/endpoints.json</code>.</p>
</section>
</main>
</body></html>
`))

const indexCSS = `body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#f3f5f8;margin:0}
header{background:#0b3d6e;color:#fff;padding:1.25rem max(1rem,calc((100% - 58rem)/2))}
header h1{margin:0 0 .25rem;font-size:1.6rem}
header p{margin:0;opacity:.9}
main{max-width:60rem;margin:0 auto;padding:1rem}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:.5rem 1.25rem 1rem;margin:1rem 0}
h2{font-size:1.15rem;color:#0b3d6e}
code{background:#eef2f6;border-radius:4px;padding:0 .25rem;font-size:.9em;overflow-wrap:anywhere}
a{color:#0b5cad}
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e6ebf0}
td code{white-space:nowrap;overflow-wrap:normal}
li{margin:.3rem 0}
`
