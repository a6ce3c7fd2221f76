package common

import (
	"net/http"
	"testing"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/fault/faulttest"
)

// Every domain code has PolishAPI's and mBank's answer: a status and a
// wire code.
func TestEveryCodeHasAWireAnswer(t *testing.T) {
	t.Parallel()
	faulttest.CheckTable(t, "common.Errors (PolishAPI, mBank)", func(c fault.Code) bool {
		w, ok := Errors[c]
		return ok && w.Status >= 400 && w.Code != ""
	})
}

// Not found means the same everywhere.
func TestNotFoundIsOneStatus(t *testing.T) {
	t.Parallel()
	faulttest.CheckNotFound(t, "Errors", func(c fault.Code) int { return Errors[c].Status }, func(c fault.Code) int {
		if c.Domain() == "consent" {
			return http.StatusForbidden // CONSENT_UNKNOWN, as the standards say
		}
		return http.StatusNotFound
	})
}
