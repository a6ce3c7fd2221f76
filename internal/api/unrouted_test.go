package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/api"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// Probing the API for operations that are not there leaves audit rows:
// an unknown path (404) and a known path with the wrong method (405).
func TestUnroutedRequestsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		gw := &gateway.Gateway{DB: db, Clock: clock.NewFixed(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		h := api.Routes(api.Deps{Gateway: gw})
		for _, tc := range []struct {
			method, path string
			status       int
			code         string
		}{
			{"GET", "/admin/../etc/passwd", 404, "NOT_FOUND"},
			{"GET", "/v2_1_2.1/nothing-here", 404, "NOT_FOUND"},
			{"DELETE", api.PolishAPIPrefix + "/accounts/v2_1_2.1/getAccounts", 405, "METHOD_NOT_ALLOWED"},
		} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.status)
			}
			var code, method string
			var status int
			err := db.QueryRowContext(context.Background(), `SELECT code, method, status FROM request_audit WHERE path = $1`,
				httptest.NewRequest(tc.method, tc.path, nil).URL.Path).Scan(&code, &method, &status)
			if err != nil || code != tc.code || method != tc.method || status != tc.status {
				t.Fatalf("%s %s: audit %q %q %d (%v)", tc.method, tc.path, code, method, status, err)
			}
		}
	})
}
