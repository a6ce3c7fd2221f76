package server

import "github.com/prometheus/client_golang/prometheus"

// Register adds collectors (e.g. the interface statistics' downtime gauge)
// to what /metrics serves.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }
