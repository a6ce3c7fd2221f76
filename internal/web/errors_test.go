package web

import (
	"testing"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/fault/faulttest"
)

// Every domain code has its page: a status and a title.
func TestEveryCodeHasAPage(t *testing.T) {
	t.Parallel()
	faulttest.CheckTable(t, "web.pageErrors", func(c fault.Code) bool {
		p, ok := pageErrors[c]
		return ok && p.status >= 400 && p.title != ""
	})
}
