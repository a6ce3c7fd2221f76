package berlingroup

import (
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
