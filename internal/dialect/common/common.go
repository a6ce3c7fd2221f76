// Package common is what the PolishAPI and mBank handlers share: the
// domain calls behind their operations (PIS, Auth, CAF), the reading of
// scope_details, and the refusal of domain errors in the gateway's terms
// (the codes are the same in both dialects). Each dialect's handlers live
// in its own package (internal/dialect/polishapi, internal/dialect/mbank)
// and are mounted by internal/api's route table. Berlin Group has its own
// handlers and does not use this package.
package common

import (
	"context"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Deps are what the operations of PolishAPI and mBank need.
type Deps struct {
	Gateway  *gateway.Gateway
	Ledger   *ledger.Ledger
	Consents *consent.Service
	OAuth    *oauth.Server
	Payments *payment.Service
	// Access is API access per account (refusals when not active) and the
	// customers' limits for API payments; nil allows every account.
	Access *access.Service
	// DB is where access keeps its day totals of API payments.
	DB store.Querier
	// OnDecoupled starts the customer's approval in the mobile app for a
	// decoupled authorization request (authorizeExt).
	OnDecoupled func(ctx context.Context, res oauth.AuthorizeResult, psuLogin string) error
	// AIS is the account information service the dialects share (one
	// node's kept pages, see ais/pages.go); nil: made from the above.
	AIS *ais.Service
}

// AISService is d.AIS, or one made from d's services (nil without a
// ledger and consents): the one-statement consent check when DB is an
// ais.DB, the separate checks without it.
func (d Deps) AISService() *ais.Service {
	if d.AIS != nil || d.Ledger == nil || d.Consents == nil {
		return d.AIS
	}
	db, _ := d.DB.(ais.DB)
	return ais.New(d.Ledger, d.Consents, d.Access, db)
}
