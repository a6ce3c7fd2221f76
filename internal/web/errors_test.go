package web

import (
	"net/http"
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

// Not found means the same everywhere.
func TestNotFoundIsOneStatus(t *testing.T) {
	t.Parallel()
	faulttest.CheckNotFound(t, "pageErrors", func(c fault.Code) int { return pageErrors[c].status }, func(fault.Code) int { return http.StatusNotFound })
}
