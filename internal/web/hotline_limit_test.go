package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestHotlinePESELDayLimitPage: in the back office, five wrong PESELs in a
// day across two checks end the customer's checks: the fifth answer and a
// new check say so clearly (429), in English and Polish.
func TestHotlinePESELDayLimitPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAccessEnv(t, db)
		c := e.client(t)
		res := e.post(t, c, "/backoffice/login", url.Values{"login": {"anna"}, "password": {"back office password"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("staff log-in: %d\n%s", res.status, res.body)
		}
		start := func() (string, response) {
			res := e.post(t, c, "/backoffice/hotline/customers/"+e.firma.ID+"/checks?lang=en", nil)
			return strings.TrimPrefix(res.header.Get("Location"), "/backoffice/hotline/checks/"), res
		}
		var last response
		for _, tries := range []int{3, 2} {
			id, res := start()
			if res.status != http.StatusSeeOther || id == "" {
				t.Fatalf("start a check: %d\n%s", res.status, res.body)
			}
			for range tries {
				last = e.post(t, c, "/backoffice/hotline/checks/"+id+"/pesel?lang=en", url.Values{"pesel": {e.otherP}})
			}
		}
		wantBody(t, last, http.StatusTooManyRequests, "wrongly 5 times today", "no more identity checks of this customer by phone today")
		_, res = start()
		wantBody(t, res, http.StatusTooManyRequests, "no more identity checks of this customer by phone today")
		res = e.post(t, c, "/backoffice/hotline/customers/"+e.firma.ID+"/checks?lang=pl", nil)
		wantBody(t, res, http.StatusTooManyRequests, "dziś nie można już weryfikować tego klienta")
	})
}
