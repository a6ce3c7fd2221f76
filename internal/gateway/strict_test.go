package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// A body with two meanings (a key twice, broken UTF-8, a lone surrogate)
// is refused as a format error naming the field, in each dialect, even when
// it is correctly signed — and the handler never runs.
func TestAmbiguousBodiesRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, gateway.Sandbox)
		a := newTPP(t, b.qtsp, orgA, all)
		resign := func(body string) func(r *http.Request, b *[]byte) {
			return func(r *http.Request, bp *[]byte) {
				*bp = []byte(strings.Replace(body, "REQID", r.Header.Get("X-REQUEST-ID"), 1))
				sig, err := a.signer.SignDetached(*bp)
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("X-JWS-SIGNATURE", sig)
			}
		}
		polish := []struct{ name, body, field string }{
			{"duplicate key", `{"requestHeader":{"requestId":"REQID","tppId":"` + orgA + `","tppId":"PSDPL-KNF-0000000009"}}`, "requestHeader.tppId"},
			{"duplicate key by case", `{"requestHeader":{"requestId":"REQID","tppId":"` + orgA + `"},"RequestHeader":{}}`, "RequestHeader"},
			{"broken UTF-8", "{\"requestHeader\":{\"requestId\":\"REQID\",\"tppId\":\"" + orgA + "\"},\"title\":\"a\xffb\"}", "title"},
			{"lone surrogate", `{"requestHeader":{"requestId":"REQID","tppId":"` + orgA + `"},"title":"\udc00"}`, "title"},
		}
		for _, tc := range polish {
			ans := b.do(t, a, b.polishAPI(t, a, "domestic", "", resign(tc.body)))
			if ans.status != 400 || ans.code != string(gateway.CodeFormatError) || !strings.Contains(ans.msg, tc.field) {
				t.Errorf("PolishAPI %s: %d %s %q, want 400 %s naming %s", tc.name, ans.status, ans.code, ans.msg, gateway.CodeFormatError, tc.field)
			}
			if strings.Contains(string(ans.body), `"tpp":`) {
				t.Errorf("PolishAPI %s: the handler ran: %s", tc.name, ans.body)
			}
			if _, decision, code := b.lastAudit(t); decision == "allowed" || code != string(gateway.CodeFormatError) {
				t.Errorf("PolishAPI %s: audit %s %s", tc.name, decision, code)
			}
		}
		for _, body := range []string{
			`{"transferData":{"amount":"1.00","amount":"1000.00"}}`,
			"{\"transferData\":{\"description\":\"\xc0\xaf\"}}",
		} {
			ans := b.do(t, a, b.mbank(t, a, orgA, "POST", "/pl-retail/v3/payments/domestic", []byte(body)))
			if ans.status != 400 || !strings.Contains(string(ans.body), "transferData.") {
				t.Errorf("mBank %q: %d %s, want 400 naming the field", body, ans.status, ans.body)
			}
		}
		// The same body sent once, well formed, passes.
		ans := b.do(t, a, b.mbank(t, a, orgA, "POST", "/pl-retail/v3/payments/domestic", []byte(`{"transferData":{"amount":"1.00","description":"Zażółć"}}`)))
		if ans.status != 200 {
			t.Fatalf("well-formed mBank body: %d %s", ans.status, ans.body)
		}
	})
}
