// Package api assembles the TPP API: every operation of every dialect,
// each behind the gateway's pipeline. This file is the one place that
// mounts the whole API surface: each dialect lists its operations (its
// Operations) and holds its handlers in its own package.
package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
)

// PolishAPIPrefix is the version prefix of PolishAPI 2.1.2 paths.
const PolishAPIPrefix = polishapi.Prefix

// Deps are what the operations need.
type Deps struct {
	Gateway   *gateway.Gateway
	Registrar mbank.Registrar
	Ledger    *ledger.Ledger
	Consents  *consent.Service
	OAuth     *oauth.Server
	Payments  *payment.Service
	// Access is API access per account (refusals when not active) and the
	// customers' limits for API payments; nil allows every account.
	Access *access.Service
	// DB is where access keeps its day totals of API payments.
	DB store.Querier
	// OnDecoupled starts the customer's approval in the mobile app for a
	// decoupled authorization request (authorizeExt).
	OnDecoupled func(ctx context.Context, res oauth.AuthorizeResult, psuLogin string) error
}

// common are the dependencies of PolishAPI's and mBank's handlers.
func (d Deps) common() common.Deps {
	return common.Deps{Gateway: d.Gateway, Ledger: d.Ledger, Consents: d.Consents, OAuth: d.OAuth, Payments: d.Payments,
		Access: d.Access, DB: d.DB, OnDecoupled: d.OnDecoupled}
}

// Authenticator adapts the authorization server to the gateway's token step.
type Authenticator = common.Authenticator

// Routes returns the API's handler: every operation of every dialect, each
// behind the gateway's pipeline with its dialect's Wire. Each dialect lists
// its operations and holds its handlers in its package; this is the one
// place that mounts them all.
func Routes(d Deps) http.Handler {
	r := chi.NewRouter()
	gw := d.Gateway
	deps := d.common()
	deps.AIS = deps.AISService() // one for every dialect: one node's kept pages
	for _, rt := range polishapi.Routes(deps) {
		r.Method(rt.Method, rt.Pattern, gw.Wrap(rt.Op))
	}
	for _, rt := range mbank.Routes(deps, d.Registrar) {
		r.Method(rt.Method, rt.Pattern, gw.Wrap(rt.Op))
	}
	if d.Ledger != nil && d.Consents != nil && d.OAuth != nil && d.DB != nil {
		clients, _ := d.Registrar.(berlingroup.Clients)
		for _, rt := range berlingroup.Routes(berlingroup.Deps{Gateway: gw, Ledger: d.Ledger, Consents: d.Consents, OAuth: d.OAuth,
			Payments: d.Payments, Clients: clients, Access: d.Access, DB: d.DB, OnDecoupled: d.OnDecoupled, AIS: deps.AIS}) {
			r.Method(rt.Method, rt.Pattern, gw.Wrap(rt.Op))
		}
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"code":"NOT_FOUND","message":%q}`, "no API operation at "+r.Method+" "+r.URL.Path+
			": PolishAPI lives under "+polishapi.Prefix+"/..., mBank under /pl-retail/v3/... and /pl-corpo/v3/..., Berlin Group under /berlingroup/v1/...")
		gw.AuditUnrouted(r, http.StatusNotFound, "NOT_FOUND")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprintf(w, `{"code":"METHOD_NOT_ALLOWED","message":%q}`, r.Method+" is not an operation at "+r.URL.Path)
		gw.AuditUnrouted(r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	})
	return r
}
