package stats

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Series is one line of a chart: a value per day (NaN: no value).
type Series struct {
	Name   string
	Colour string
	Values []float64
}

// LineChart renders a line chart as inline SVG (no scripts, no external
// resources): one point per label (day), one line per series, the y axis
// from lo to hi (hi ≤ lo: the data's range). Everything it writes is
// escaped.
func LineChart(title, unit string, labels []string, series []Series, lo, hi float64) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 240.0, 56.0, 12.0, 28.0, 36.0
	if hi <= lo {
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for _, v := range s.Values {
				if !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		if math.IsInf(lo, 1) {
			lo, hi = 0, 1
		}
		if lo > 0 {
			lo = 0
		}
		if hi <= lo {
			hi = lo + 1
		}
	}
	n := len(labels)
	x := func(i int) float64 {
		if n <= 1 {
			return left
		}
		return left + float64(i)*(w-left-right)/float64(n-1)
	}
	y := func(v float64) float64 {
		v = math.Max(lo, math.Min(hi, v))
		return top + (hi-v)*(h-top-bottom)/(hi-lo)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s" class="chart">`, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%g" y="16" font-size="13" font-family="sans-serif">%s</text>`, left, html.EscapeString(title))
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="10" text-anchor="end" font-family="sans-serif">%s %s</text>`, left-4, y(v)+3, axisNum(v), html.EscapeString(unit))
	}
	if n > 0 {
		for _, i := range []int{0, n / 2, n - 1} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="10" text-anchor="middle" font-family="sans-serif">%s</text>`, x(i), h-bottom+16, html.EscapeString(labels[i]))
		}
	}
	for si, s := range series {
		var pts []string
		flush := func() {
			if len(pts) == 1 {
				xy := strings.Split(pts[0], ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2" fill="%s"/>`, xy[0], xy[1], html.EscapeString(s.Colour))
			} else if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, html.EscapeString(s.Colour), strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range s.Values {
			if i >= n {
				break
			}
			if math.IsNaN(v) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		flush()
		lx := left + float64(si)*200
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="%s"/>`, lx, h-12, html.EscapeString(s.Colour))
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" font-family="sans-serif">%s</text>`, lx+14, h-3, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func axisNum(v float64) string {
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
