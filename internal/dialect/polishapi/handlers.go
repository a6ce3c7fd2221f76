package polishapi

import (
	"encoding/json"
	"maps"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Handlers are PolishAPI's implemented operations by name (the route
// table in internal/api mounts them); an operation whose services d lacks
// is absent and answers as not implemented.
func Handlers(d common.Deps) map[string]gateway.Handler {
	out := map[string]gateway.Handler{}
	if a := common.NewAuth(d); a != nil {
		h := authAPI{a}
		maps.Copy(out, map[string]gateway.Handler{
			"authorize":    h.polishAuthorize(false),
			"authorizeExt": h.polishAuthorize(true),
			"token":        h.polishToken,
		})
	}
	maps.Copy(out, aisHandlers(d))
	if p := common.NewPIS(d); p != nil {
		s := &pisService{p}
		maps.Copy(out, map[string]gateway.Handler{
			"domestic":               s.polishPayment(payment.Domestic, consent.PrivDomestic),
			"EEA":                    s.polishPayment(payment.EEA, consent.PrivEEA),
			"nonEEA":                 s.polishPayment(payment.NonEEA, consent.PrivNonEEA),
			"tax":                    s.polishPayment(payment.Tax, consent.PrivTax),
			"bundle":                 s.polishBundle,
			"recurring":              s.polishRecurring,
			"getPayment":             s.polishGetPayment,
			"getBundle":              s.polishGetBundle,
			"getRecurringPayment":    s.polishGetRecurring,
			"getMultiplePayments":    s.polishGetMultiple,
			"cancelPayments":         s.polishCancel,
			"cancelRecurringPayment": s.polishCancelRecurring,
		})
	}
	if c := common.NewCAF(d); c != nil {
		s := &cafService{c}
		out["getConfirmationOfFunds"] = s.polishConfirmationOfFunds
	}
	return out
}

type authAPI struct{ *common.Auth }

type pisService struct{ *common.PIS }

type cafService struct{ *common.CAF }

func (s *pisService) header(c *gateway.Caller) ResponseHeader {
	return NewResponseHeader(c.RequestID, s.Now())
}

// privileges reads a privilege of PolishAPI's scope_details.
func privileges(account, name string, raw json.RawMessage) ([]consent.Privilege, error) {
	p, err := consent.FromPolishAPI(account, name, raw)
	if err != nil {
		return nil, err
	}
	return []consent.Privilege{p}, nil
}

// privilegeName returns our name of a PolishAPI privilege (the same).
func privilegeName(name string) (string, error) {
	return consent.NormalizePrivilegeName(consent.DialectPolishAPI, name)
}

// refusal renders a domain error in PolishAPI's terms.
func refusal(err error) error { return common.Refusal(err) }

// aisRefusal renders a refusal of the AIS service in PolishAPI's terms.
func aisRefusal(err error) error { return common.AISRefusal(err) }

// formatError is a FORMAT_ERROR refusal.
func formatError(en, pl string) *gateway.Refusal { return common.FormatError(en, pl) }
