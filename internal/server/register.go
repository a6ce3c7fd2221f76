package server

import (
	"regexp"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds collectors (e.g. the interface statistics' downtime gauge)
// to what /metrics serves.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.described = append(m.described, cs...)
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names are the names of the bank's own metrics (all but the Go runtime's
// and the process's), sorted, whether or not they have been observed yet:
// what a dashboard may query.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.described {
			c.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for d := range ch {
		if n := fqName.FindStringSubmatch(d.String()); n != nil && !seen[n[1]] {
			seen[n[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
