package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Summary is the public, unauthenticated summary for TPPs: the interfaces'
// state now, the planned outages to come, and the last full quarter's and
// the running quarter's totals.
type Summary struct {
	Now             time.Time `json:"now"`
	Status          []Status  `json:"status"`
	PlannedOutages  []Window  `json:"plannedOutages"`
	LastQuarter     Report    `json:"lastQuarter"`
	QuarterToDate   Report    `json:"quarterToDate"`
	StatisticsFiles string    `json:"statisticsFiles"`
}

// Public serves GET /status (a page in Polish or English) and
// /status.json: the Summary. Quarter totals are cached for a minute.
type Public struct {
	DB    store.Querier
	Clock clock.Clock
	Log   *slog.Logger

	mu      sync.Mutex
	cached  time.Time
	last    Report
	current Report
}

func (p *Public) summary(ctx context.Context) (Summary, error) {
	now := p.Clock.Now()
	s := Summary{Now: now.UTC(), StatisticsFiles: "psd2bank stats --quarter " + QuarterOf(now).Prev().String() + " --out DIR"}
	var err error
	if s.Status, err = Current(ctx, p.DB, now); err != nil {
		return s, err
	}
	ws, err := Windows(ctx, p.DB, now, now.AddDate(1, 0, 0))
	if err != nil {
		return s, err
	}
	s.PlannedOutages = []Window{}
	for _, w := range ws {
		if w.Cancelled == nil {
			s.PlannedOutages = append(s.PlannedOutages, w)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached.IsZero() || now.Sub(p.cached) > time.Minute || now.Before(p.cached) {
		q := QuarterOf(now)
		if p.last, err = Build(ctx, p.DB, q.Prev(), now); err != nil {
			return s, err
		}
		if p.current, err = Build(ctx, p.DB, q, now); err != nil {
			return s, err
		}
		p.cached = now
	}
	s.LastQuarter, s.QuarterToDate = p.last, p.current
	s.LastQuarter.Days, s.QuarterToDate.Days = nil, nil
	return s, nil
}

func (p *Public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s, err := p.summary(r.Context())
	if err != nil {
		if p.Log != nil {
			p.Log.Error("public statistics", "err", err)
		}
		http.Error(w, "the statistics are not available right now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	if strings.HasSuffix(r.URL.Path, ".json") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s)
		return
	}
	lang := pageLang(r)
	var buf bytes.Buffer
	if err := publicPage.Execute(&buf, publicView{S: s, L: lang}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

func pageLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "pl" || l == "en" {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "pl") {
			return "pl"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "en"
}

type publicView struct {
	S Summary
	L string
}

// T picks the Polish or English text.
func (v publicView) T(en, pl string) string {
	if v.L == "pl" {
		return pl
	}
	return en
}

// Local formats an instant in Warsaw.
func (v publicView) Local(t time.Time) string { return t.In(Warsaw).Format("2006-01-02 15:04") }

// Opt formats an optional figure.
func (v publicView) Opt(f *float64) string {
	if f == nil {
		return "–"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Name is an interface's or a state's name.
func (v publicView) Name(s string) string {
	names := map[string][2]string{
		"api":         {"dedicated interface (TPP API)", "interfejs dedykowany (API dla TPP)"},
		"web":         {"customer interface (internet banking)", "interfejs klienta (bankowość internetowa)"},
		Dedicated:     {"dedicated interface (TPP API)", "interfejs dedykowany (API dla TPP)"},
		Customer:      {"customer interface (internet banking)", "interfejs klienta (bankowość internetowa)"},
		"up":          {"available", "dostępny"},
		"down":        {"unavailable", "niedostępny"},
		"maintenance": {"planned maintenance", "planowana przerwa"},
	}
	if n, ok := names[s]; ok {
		return v.T(n[0], n[1])
	}
	return s
}

var publicPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T "Interface status and statistics" "Status i statystyki interfejsów"}} · psd2bank</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th:first-child,td:first-child{text-align:left}.down{color:#b00}.up{color:#070}</style>
</head><body>
<p><a href="?lang=pl" hreflang="pl">PL</a> | <a href="?lang=en" hreflang="en">EN</a> · <a href="/status.json">JSON</a></p>
<h1>{{.T "Interface status and statistics" "Status i statystyki interfejsów"}}</h1>
<h2>{{.T "Now" "Teraz"}} ({{.Local .S.Now}})</h2>
<ul id="status">{{range .S.Status}}<li data-channel="{{.Channel}}" data-state="{{.State}}">{{$.Name (print .Channel)}}: <strong class="{{.State}}">{{$.Name .State}}</strong>{{with .DownSince}} {{$.T "since" "od"}} {{$.Local .}}{{end}}{{with .Maintenance}} {{$.T "until" "do"}} {{$.Local .End}}{{end}}</li>{{end}}</ul>
<h2>{{.T "Planned outages" "Planowane przerwy"}}</h2>
{{if .S.PlannedOutages}}<ul id="planned">{{range .S.PlannedOutages}}<li>{{$.Name (print .Channel)}}: {{$.Local .Start}} – {{$.Local .End}} ({{.Reason}})</li>{{end}}</ul>{{else}}<p>{{.T "None announced." "Brak zapowiedzianych."}}</p>{{end}}
{{range $i, $r := .Quarters}}
<h2>{{if eq $i 0}}{{$.T "Last quarter" "Poprzedni kwartał"}}{{else}}{{$.T "This quarter so far" "Bieżący kwartał do dziś"}}{{end}}: {{$r.Quarter}}</h2>
<table><tr><th></th><th>{{$.T "uptime %" "dostępność %"}}</th><th>{{$.T "planned downtime (s)" "planowana niedostępność (s)"}}</th><th>{{$.T "unplanned downtime (s)" "nieplanowana niedostępność (s)"}}</th><th>{{$.T "calls" "wywołania"}}</th><th>{{$.T "error rate %" "odsetek błędów %"}}</th><th>{{$.T "mean (ms)" "średnio (ms)"}}</th><th>p95 (ms)</th></tr>
{{range $r.Totals}}<tr data-interface="{{.Interface}}"><td>{{$.Name .Interface}}</td><td>{{.UptimePct}}</td><td>{{.PlannedDowntimeS}}</td><td>{{.UnplannedDowntimeS}}</td><td>{{.Calls}}</td><td>{{.ErrorRatePct}}</td><td>{{$.Opt .MeanMS}}</td><td>{{$.Opt .P95MS}}</td></tr>{{end}}
</table>{{end}}
<p>{{.T "Downtime: five consecutive requests not answered within 30 s (EBA/GL/2018/07), counted from the first of them. Days are Polish days (Europe/Warsaw)." "Niedostępność: pięć kolejnych żądań bez odpowiedzi w ciągu 30 s (EBA/GL/2018/07), liczona od pierwszego z nich. Doby według czasu polskiego (Europe/Warsaw)."}}</p>
</body></html>`))

// Quarters are the last quarter and the running one.
func (v publicView) Quarters() []Report { return []Report{v.S.LastQuarter, v.S.QuarterToDate} }

// writeOutagePage answers a customer page during a planned outage of the
// customer interface.
func writeOutagePage(w http.ResponseWriter, r *http.Request, until, now time.Time) {
	w.Header().Set("Retry-After", RetryAfter(until, now))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	v := publicView{L: pageLang(r)}
	template.Must(template.New("outage").Parse(`<!doctype html><html lang="{{.L}}"><head><meta charset="utf-8"><title>{{.T "Planned maintenance" "Planowana przerwa"}}</title></head>
<body><h1>{{.T "Planned maintenance" "Planowana przerwa"}}</h1><p>{{.T "Internet banking is down for planned maintenance until" "Bankowość internetowa ma planowaną przerwę do"}} {{.U}}.</p></body></html>`)).
		Execute(w, struct {
			publicView
			U string
		}{v, v.Local(until)})
}

// RetryAfter is the Retry-After value (seconds, at least 1) until the end
// of a planned outage.
func RetryAfter(until, now time.Time) string {
	return strconv.Itoa(max(1, int(math.Ceil(until.Sub(now).Seconds()))))
}
