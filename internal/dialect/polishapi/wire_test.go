package polishapi

import (
	"net/http/httptest"
	"testing"

	"github.com/psd2bank/psd2bank/internal/gateway"
)

// The body's requestHeader is read once, when the request id is taken, and
// the token check uses what was read: the token in the body must still be
// the Authorization header's, and a body whose header was not read before
// is read then.
func TestBodyHeaderReadOnceForTheTokenCheck(t *testing.T) {
	t.Parallel()
	body := []byte(`{"requestHeader":{"requestId":"4f1f7a52-8f6b-4c5e-9d4b-6f1f3b2a1c00","token":"token-A","tppId":"PSDPL-KNF-1"},"accountNumber":"x"}`)
	for _, tc := range []struct {
		name, token string
		readID      bool
		ok          bool
	}{
		{"same token, header read", "token-A", true, true},
		{"another token, header read", "token-B", true, false},
		{"same token, header not read", "token-A", false, true},
		{"another token, header not read", "token-B", false, false},
	} {
		c := &gateway.Caller{OrgID: "PSDPL-KNF-1", Body: body}
		if tc.readID {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set(HeaderRequestID, "4f1f7a52-8f6b-4c5e-9d4b-6f1f3b2a1c00")
			if id, ref := (wire{}).RequestID(r, c, gateway.Operation{}); ref != nil || id == "" {
				t.Fatalf("%s: RequestID = %q, %v", tc.name, id, ref)
			}
			if c.BodyHeader == nil {
				t.Fatalf("%s: the body's header was not kept", tc.name)
			}
		}
		ref := (wire{}).CheckToken(c, tc.token)
		if (ref == nil) != tc.ok {
			t.Errorf("%s: CheckToken = %v, want ok %v", tc.name, ref, tc.ok)
		}
		if ref != nil && ref.Code != gateway.CodeTokenInvalid {
			t.Errorf("%s: code %s, want %s", tc.name, ref.Code, gateway.CodeTokenInvalid)
		}
	}
	// A body without requestHeader: no token in it, refused.
	c := &gateway.Caller{Body: []byte(`{}`)}
	if ref := (wire{}).CheckToken(c, "token-A"); ref == nil {
		t.Error("a body without requestHeader passed the token check")
	}
}
