package web

import (
	"bytes"
	"errors"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// The back office's interface statistics: the quarter's days side by side
// for the dedicated and the customer interface (SVG charts drawn on the
// server, a table), the CSV and JSON files, the state now, and the planned
// outages (record one ahead, cancel one).

func (s *Server) statsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /backoffice/stats", s.staff(s.boStats))
	mux.HandleFunc("GET /backoffice/stats/files/{file}", s.staff(s.boStatsFile))
	mux.HandleFunc("POST /backoffice/stats/maintenance", s.staff(s.boPlanOutage))
	mux.HandleFunc("POST /backoffice/stats/maintenance/{id}/cancel", s.staff(s.boCancelOutage))
}

// interfacesDown is the banner's news: channels down or in planned
// maintenance now, with times in Warsaw.
func (s *Server) interfacesDown(r *http.Request) []stats.Status {
	if s.stats == nil {
		return nil
	}
	st, err := stats.Current(r.Context(), s.statsDB, s.sessions.clock.Now())
	if err != nil {
		s.log.Error("interface status", "err", err)
		return nil
	}
	var out []stats.Status
	for _, c := range st {
		if c.State == "up" {
			continue
		}
		if c.DownSince != nil {
			t := c.DownSince.In(stats.Warsaw)
			c.DownSince = &t
		}
		if c.Maintenance != nil {
			m := *c.Maintenance
			m.End = m.End.In(stats.Warsaw)
			c.Maintenance = &m
		}
		out = append(out, c)
	}
	return out
}

type statsDay struct {
	Date     string
	Ded, Cus stats.Row
}

type outageRow struct {
	stats.Window
	Start, End, Announced string
	Cancellable           bool
}

type statsPage struct {
	Quarter, Prev, Next string
	Files               string
	Now                 []stats.Status
	Totals              []stats.Row
	Days                []statsDay
	Charts              []template.HTML
	Outages             []outageRow
	Form                outageForm
}

type outageForm struct{ Channel, Start, End, Reason string }

func (s *Server) boStats(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderStats(w, r, st, http.StatusOK, outageForm{Channel: "api"}, "")
}

func (s *Server) renderStats(w http.ResponseWriter, r *http.Request, st tpp.Staff, status int, form outageForm, errText string) {
	v := s.staffView(w, r, st, "bo_stats", "bo.stats")
	v.Error = errText
	if n := r.URL.Query().Get("notice"); n == "planned" || n == "cancelled" {
		v.Notice = translate(v.Lang, "stats.notice."+n)
	}
	now := s.sessions.clock.Now()
	q := stats.QuarterOf(now)
	if qs := r.URL.Query().Get("quarter"); qs != "" {
		parsed, err := stats.ParseQuarter(qs)
		if err != nil {
			v.Error = translate(v.Lang, "stats.bad_quarter")
			status = http.StatusBadRequest
		} else {
			q = parsed
		}
	}
	ctx := r.Context()
	rep, err := stats.Build(ctx, s.statsDB, q, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, err := stats.Current(ctx, s.statsDB, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := stats.Quarter{Year: q.Year, Q: q.Q + 1}
	if q.Q == 4 {
		next = stats.Quarter{Year: q.Year + 1, Q: 1}
	}
	p := statsPage{Quarter: q.String(), Prev: q.Prev().String(), Next: next.String(), Files: stats.FileName(q),
		Now: cur, Totals: rep.Totals, Form: form}
	byDate := map[string]int{}
	for _, row := range rep.Days {
		i, ok := byDate[row.Date]
		if !ok {
			i = len(p.Days)
			byDate[row.Date] = i
			p.Days = append(p.Days, statsDay{Date: row.Date})
		}
		if row.Interface == stats.Dedicated {
			p.Days[i].Ded = row
		} else {
			p.Days[i].Cus = row
		}
	}
	p.Charts = statsCharts(v.Lang, p.Days)
	ws, err := stats.Windows(ctx, s.statsDB, q.Start(), now.AddDate(1, 0, 0))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, win := range ws {
		p.Outages = append(p.Outages, outageRow{Window: win,
			Start: win.Start.In(stats.Warsaw).Format("2006-01-02 15:04"), End: win.End.In(stats.Warsaw).Format("2006-01-02 15:04"),
			Announced:   win.AnnouncedAt.In(stats.Warsaw).Format("2006-01-02 15:04"),
			Cancellable: win.Cancelled == nil && win.End.After(now)})
	}
	v.D = p
	s.render(w, status, v)
}

func statsCharts(lang string, days []statsDay) []template.HTML {
	labels := make([]string, len(days))
	up := [2][]float64{}
	mean := [2][]float64{}
	p95 := [2][]float64{}
	errs := [2][]float64{}
	opt := func(f *float64) float64 {
		if f == nil {
			return math.NaN()
		}
		return *f
	}
	for i, d := range days {
		labels[i] = d.Date
		for j, row := range []stats.Row{d.Ded, d.Cus} {
			up[j] = append(up[j], row.UptimePct)
			mean[j] = append(mean[j], opt(row.MeanMS))
			p95[j] = append(p95[j], opt(row.P95MS))
			errs[j] = append(errs[j], row.ErrorRatePct)
		}
	}
	names := [2]string{translate(lang, "stats.dedicated"), translate(lang, "stats.customer")}
	colours := [2]string{"#1f5fa8", "#c05a00"}
	series := func(vals [2][]float64) []stats.Series {
		return []stats.Series{{Name: names[0], Colour: colours[0], Values: vals[0]}, {Name: names[1], Colour: colours[1], Values: vals[1]}}
	}
	lo := 99.0
	for _, vs := range up {
		for _, v := range vs {
			lo = math.Min(lo, math.Floor(v))
		}
	}
	return []template.HTML{
		stats.LineChart(translate(lang, "stats.chart.uptime"), "%", labels, series(up), lo, 100),
		stats.LineChart(translate(lang, "stats.chart.mean"), "ms", labels, series(mean), 0, 0),
		stats.LineChart(translate(lang, "stats.chart.p95"), "ms", labels, series(p95), 0, 0),
		stats.LineChart(translate(lang, "stats.chart.errors"), "%", labels, series(errs), 0, 0),
	}
}

// boStatsFile downloads a quarter's file: psd2bank-stats-2026Q4.csv or .json.
func (s *Server) boStatsFile(w http.ResponseWriter, r *http.Request, _ tpp.Staff) {
	name := r.PathValue("file")
	base, ext, ok := strings.Cut(name, ".")
	qs, okPrefix := strings.CutPrefix(base, "psd2bank-stats-")
	q, err := stats.ParseQuarter(qs)
	if !ok || !okPrefix || err != nil || (ext != "csv" && ext != "json") {
		s.message(w, r, http.StatusNotFound, "title.not_found", translate(language(w, r), "error.not_found"))
		return
	}
	rep, err := stats.Build(r.Context(), s.statsDB, q, s.sessions.clock.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if ext == "csv" {
		err = rep.WriteCSV(&buf)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		err = rep.WriteJSON(&buf)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+stats.FileName(q)+"."+ext+`"`)
	w.Write(buf.Bytes())
}

func (s *Server) boPlanOutage(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	form := outageForm{Channel: r.PostFormValue("channel"), Start: r.PostFormValue("start"), End: r.PostFormValue("end"),
		Reason: r.PostFormValue("reason")}
	lang := language(w, r)
	start, err1 := time.ParseInLocation("2006-01-02T15:04", form.Start, stats.Warsaw)
	end, err2 := time.ParseInLocation("2006-01-02T15:04", form.End, stats.Warsaw)
	switch {
	case err1 != nil:
		s.renderStats(w, r, st, http.StatusUnprocessableEntity, form, "start: "+translate(lang, "stats.bad_time"))
		return
	case err2 != nil:
		s.renderStats(w, r, st, http.StatusUnprocessableEntity, form, "end: "+translate(lang, "stats.bad_time"))
		return
	}
	if _, err := s.stats.Maintenance().Plan(r.Context(), stats.Channel(form.Channel), start, end, form.Reason, st.Login); err != nil {
		var se *stats.Error
		if errors.As(err, &se) {
			status := http.StatusUnprocessableEntity
			if se.Code == "CONFLICT" {
				status = http.StatusConflict
			}
			s.renderStats(w, r, st, status, form, capitalize(se.Message(lang)))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("planned outage recorded", "channel", form.Channel, "start", start, "end", end, "by", st.Login)
	seeOther(w, r, "/backoffice/stats?notice=planned")
}

func (s *Server) boCancelOutage(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	if err := s.stats.Maintenance().Cancel(r.Context(), r.PathValue("id")); err != nil {
		var se *stats.Error
		if errors.As(err, &se) {
			s.renderStats(w, r, st, http.StatusNotFound, outageForm{Channel: "api"}, capitalize(se.Message(language(w, r))))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("planned outage cancelled", "id", r.PathValue("id"), "by", st.Login)
	seeOther(w, r, "/backoffice/stats?notice=cancelled")
}
