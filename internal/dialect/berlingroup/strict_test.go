package berlingroup

import (
	"errors"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/gateway"
)

// Berlin Group bodies: a key twice, broken UTF-8 and unknown fields are
// format errors naming the field; a clean body decodes.
func TestDecodeStrictRefusesAmbiguousBodies(t *testing.T) {
	t.Parallel()
	type body struct {
		InstructedAmount struct {
			Amount string `json:"amount"`
		} `json:"instructedAmount"`
	}
	for _, tc := range []struct{ body, field string }{
		{`{"instructedAmount":{"amount":"1.00","amount":"1000.00"}}`, "instructedAmount.amount"},
		{`{"instructedAmount":{"amount":"1.00","Amount":"1000.00"}}`, "instructedAmount.Amount"},
		{"{\"instructedAmount\":{\"amount\":\"1\xff\"}}", "instructedAmount.amount"},
		{`{"instructedAmount":{"amount":"1.00"},"creditorAgentX":"x"}`, "creditorAgentX"},
	} {
		var v body
		err := decodeStrict([]byte(tc.body), &v, "payment")
		var ref *gateway.Refusal
		if !errors.As(err, &ref) || ref.Code != CodeFormatError || !strings.Contains(ref.EN, tc.field) {
			t.Errorf("%q: %v, want a format error naming %s", tc.body, err, tc.field)
		}
	}
	var v body
	if err := decodeStrict([]byte(`{"instructedAmount":{"amount":"1.00"}}`), &v, "payment"); err != nil || v.InstructedAmount.Amount != "1.00" {
		t.Fatalf("clean body: %v %+v", err, v)
	}
}
