package berlingroup

import (
	"net/http"
	"testing"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/fault/faulttest"
)

// Every domain code has Berlin Group's answer: a status and the
// standard's code.
func TestEveryCodeHasAWireAnswer(t *testing.T) {
	t.Parallel()
	faulttest.CheckTable(t, "berlingroup.wireErrors", func(c fault.Code) bool {
		w, ok := wireErrors[c]
		return ok && w.status >= 400 && w.code != ""
	})
}

// Not found means the same everywhere.
func TestNotFoundIsOneStatus(t *testing.T) {
	t.Parallel()
	faulttest.CheckNotFound(t, "wireErrors", func(c fault.Code) int { return wireErrors[c].status }, func(c fault.Code) int {
		if c.Domain() == "consent" {
			return http.StatusForbidden // CONSENT_UNKNOWN, as the standards say
		}
		return http.StatusNotFound
	})
}
