package gateway

import (
	"net/http"

	"github.com/psd2bank/psd2bank/internal/stats"
)

// measured labels the call for the interface statistics and, when it came
// during a planned outage of the API (recorded in the back office), refuses
// it with 503 and Retry-After before any check.
func (g *Gateway) measured(w http.ResponseWriter, r *http.Request, op Operation) *Refusal {
	stats.Label(r.Context(), string(op.Wire.Name()), string(op.Service))
	until, ok := stats.Outage(r.Context())
	if !ok {
		return nil
	}
	now := g.Clock.Now()
	w.Header().Set("Retry-After", stats.RetryAfter(until, now))
	at := until.In(stats.Warsaw).Format("2006-01-02 15:04 MST")
	return refuse(http.StatusServiceUnavailable, CodeUnavailable,
		"the bank's API is down for planned maintenance until "+at+"; try again after it (Retry-After)",
		"API banku ma planowaną przerwę techniczną do "+at+"; spróbuj ponownie po niej (Retry-After)")
}
