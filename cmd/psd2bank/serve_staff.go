package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/webguard"
)

// staffHandler is what `serve` puts on the staff listener (--staff-addr):
// the back office, /metrics and /healthz. The customers' listener serves
// neither the back office nor the metrics, so that an operator can keep
// them on an internal network; without --staff-addr they are not served.
func staffHandler(portal http.Handler, metrics *server.Metrics, health http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Handle("/backoffice", portal)
	r.Handle("/backoffice/*", portal)
	r.Handle("/metrics", metrics.Handler())
	r.Handle("/healthz", health)
	return metrics.Count("staff", webguard.Headers(r))
}
