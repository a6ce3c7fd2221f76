package mbank

import (
	"maps"

	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// Handlers are mBank's implemented operations by name (the route table in
// internal/api mounts them); an operation whose services d lacks is absent
// and answers as not implemented.
func Handlers(d common.Deps) map[string]gateway.Handler {
	out := map[string]gateway.Handler{}
	if a := common.NewAuth(d); a != nil {
		h := authAPI{a}
		out["authorize"], out["token"] = h.mbankAuthorize, h.mbankToken
	}
	if d.Ledger != nil && d.Consents != nil {
		s := &aisService{svc: d.AISService()}
		maps.Copy(out, map[string]gateway.Handler{
			"accounts":           s.mbankAccounts,
			"accountDetails":     s.mbankAccountDetails,
			"transactions":       s.mbankTransactions,
			"transactionDetails": s.mbankTransactionDetails,
			"deleteConsent":      s.mbankDeleteConsent,
		})
	}
	if p := common.NewPIS(d); p != nil {
		s := &pisService{p}
		maps.Copy(out, map[string]gateway.Handler{
			"domestic":       s.mbankDomestic,
			"paymentStatus":  s.mbankStatus,
			"cancelPayment":  s.mbankCancel,
			"bundleDomestic": s.mbankBundle,
			"bundleStatus":   s.mbankBundleStatus,
			"cancelBundle":   s.mbankCancelBundle,
		})
	}
	if c := common.NewCAF(d); c != nil {
		s := &cafService{c}
		out["fundsConfirmation"] = s.mbankFundsConfirmation
	}
	return out
}

type authAPI struct{ *common.Auth }

// aisService holds the AIS handlers.
type aisService struct {
	svc *ais.Service
}

type pisService struct{ *common.PIS }

type cafService struct{ *common.CAF }

// transactionStatuses are mBank's transactionStatus of each list.
var transactionStatuses = [...]string{
	ais.KindDone:      StatusDone,
	ais.KindPending:   StatusPending,
	ais.KindRejected:  StatusRejected,
	ais.KindCancelled: StatusCancelled,
	ais.KindScheduled: StatusScheduled,
	ais.KindHolds:     StatusHold,
}

// refusal renders a domain error in mBank's terms.
func refusal(err error) error { return common.Refusal(err) }

// aisRefusal renders a refusal of the AIS service in mBank's terms.
func aisRefusal(err error) error { return common.AISRefusal(err) }

// formatError is a FORMAT_ERROR refusal.
func formatError(en, pl string) *gateway.Refusal { return common.FormatError(en, pl) }
