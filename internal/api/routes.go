// Package api assembles the TPP API: every operation of every dialect,
// each behind the gateway's pipeline. This file is the one place that
// lists the whole API surface.
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
const PolishAPIPrefix = "/v2_1_2.1"

// BankIDs are the mBank dialect's bank identifiers.
var BankIDs = []string{"pl-retail", "pl-corpo"}

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

// tokenless lists the operations that need no access token although they
// read or move data: PolishAPI's deleteConsent, getMultiplePayments and
// CAF carry no Authorization header (the spec); mBank's CAF and consent deletion neither (its collection).
var tokenless = map[string]bool{
	"polishapi.deleteConsent": true, "polishapi.getMultiplePayments": true,
	"polishapi.getConfirmationOfFunds": true, "mbank.fundsConfirmation": true, "mbank.deleteConsent": true,
}

// op is an operation of a dialect: its route, service and name. Those
// without a handler answer as not implemented.
type op struct {
	method, path string
	service      gateway.Service
	name         string
}

// polishAPIOperations are PolishAPI 2.1.2's operations (all POST).
var polishAPIOperations = []op{
	{"POST", "/auth/v2_1_2.1/authorize", gateway.AS, "authorize"},
	{"POST", "/auth/v2_1_2.1/authorizeExt", gateway.AS, "authorizeExt"},
	{"POST", "/auth/v2_1_2.1/token", gateway.AS, "token"},
	{"POST", "/accounts/v2_1_2.1/getAccounts", gateway.AIS, "getAccounts"},
	{"POST", "/accounts/v2_1_2.1/getAccount", gateway.AIS, "getAccount"},
	{"POST", "/accounts/v2_1_2.1/getTransactionsDone", gateway.AIS, "getTransactionsDone"},
	{"POST", "/accounts/v2_1_2.1/getTransactionsPending", gateway.AIS, "getTransactionsPending"},
	{"POST", "/accounts/v2_1_2.1/getTransactionsRejected", gateway.AIS, "getTransactionsRejected"},
	{"POST", "/accounts/v2_1_2.1/getTransactionsCancelled", gateway.AIS, "getTransactionsCancelled"},
	{"POST", "/accounts/v2_1_2.1/getTransactionsScheduled", gateway.AIS, "getTransactionsScheduled"},
	{"POST", "/accounts/v2_1_2.1/getHolds", gateway.AIS, "getHolds"},
	{"POST", "/accounts/v2_1_2.1/getTransactionDetail", gateway.AIS, "getTransactionDetail"},
	{"POST", "/accounts/v2_1_2.1/deleteConsent", gateway.AIS, "deleteConsent"},
	{"POST", "/payments/v2_1_2.1/domestic", gateway.PIS, "domestic"},
	{"POST", "/payments/v2_1_2.1/EEA", gateway.PIS, "EEA"},
	{"POST", "/payments/v2_1_2.1/nonEEA", gateway.PIS, "nonEEA"},
	{"POST", "/payments/v2_1_2.1/tax", gateway.PIS, "tax"},
	{"POST", "/payments/v2_1_2.1/bundle", gateway.PIS, "bundle"},
	{"POST", "/payments/v2_1_2.1/recurring", gateway.PIS, "recurring"},
	{"POST", "/payments/v2_1_2.1/getPayment", gateway.PIS, "getPayment"},
	{"POST", "/payments/v2_1_2.1/getBundle", gateway.PIS, "getBundle"},
	{"POST", "/payments/v2_1_2.1/getRecurringPayment", gateway.PIS, "getRecurringPayment"},
	{"POST", "/payments/v2_1_2.1/getMultiplePayments", gateway.PIS, "getMultiplePayments"},
	{"POST", "/payments/v2_1_2.1/cancelPayments", gateway.PIS, "cancelPayments"},
	{"POST", "/payments/v2_1_2.1/cancelRecurringPayment", gateway.PIS, "cancelRecurringPayment"},
	{"POST", "/confirmation/v2_1_2.1/getConfirmationOfFunds", gateway.CAF, "getConfirmationOfFunds"},
}

// mbankOperations are mBank v3's operations under /{bankId}/v3.
var mbankOperations = []op{
	{"POST", "/auth/authorize", gateway.AS, "authorize"},
	{"POST", "/auth/token", gateway.AS, "token"},
	{"GET", "/accounts", gateway.AIS, "accounts"},
	{"GET", "/accounts/{accountId}", gateway.AIS, "accountDetails"},
	{"GET", "/accounts/{accountId}/transactions", gateway.AIS, "transactions"},
	{"GET", "/accounts/{accountId}/transactions/{transactionId}", gateway.AIS, "transactionDetails"},
	{"DELETE", "/consents/{consentId}", gateway.AIS, "deleteConsent"},
	{"POST", "/payments/domestic", gateway.PIS, "domestic"},
	{"GET", "/payments/domestic/{paymentId}", gateway.PIS, "paymentStatus"},
	{"DELETE", "/payments/domestic/{paymentId}", gateway.PIS, "cancelPayment"},
	{"POST", "/payments/bundle/domestic", gateway.PIS, "bundleDomestic"},
	{"GET", "/payments/bundle/domestic/{bundleId}", gateway.PIS, "bundleStatus"},
	{"DELETE", "/payments/bundle/domestic/{bundleId}", gateway.PIS, "cancelBundle"},
	{"POST", "/funds-confirmation", gateway.CAF, "fundsConfirmation"},
}

// Routes returns the API's handler: every operation of every dialect, each
// behind the gateway's pipeline with its dialect's Wire.
func Routes(d Deps) http.Handler {
	r := chi.NewRouter()
	gw := d.Gateway
	// Each dialect's implemented operations by name; its handlers live in
	// its package.
	deps := d.common()
	mount := func(wire gateway.Wire, prefix string, ops []op, implemented map[string]gateway.Handler) {
		for _, o := range ops {
			key := string(wire.Name()) + "." + o.name
			h, ok := implemented[o.name]
			if !ok {
				h = notImplemented(o.name)
			}
			needsToken := (o.service == gateway.AIS || o.service == gateway.PIS) && !tokenless[key]
			r.Method(o.method, prefix+o.path, gw.Wrap(gateway.Operation{Wire: wire, Service: o.service, Name: o.name, Token: needsToken && ok, Handler: h}))
		}
	}
	mount(polishapi.Wire, PolishAPIPrefix, polishAPIOperations, polishapi.Handlers(deps))
	mbankHandlers := mbank.Handlers(deps)
	for _, bank := range BankIDs {
		mount(mbank.Wire, "/"+bank+"/v3", mbankOperations, mbankHandlers)
	}
	r.Post("/v3/register/", gw.Wrap(gateway.Operation{Wire: mbank.Wire, Service: gateway.Register, Name: "register",
		Handler: mbank.Register(gw, d.Registrar)}).ServeHTTP)
	if d.Ledger != nil && d.Consents != nil && d.OAuth != nil && d.DB != nil {
		clients, _ := d.Registrar.(berlingroup.Clients)
		for _, rt := range berlingroup.Routes(berlingroup.Deps{Gateway: gw, Ledger: d.Ledger, Consents: d.Consents, OAuth: d.OAuth,
			Payments: d.Payments, Clients: clients, Access: d.Access, DB: d.DB, OnDecoupled: d.OnDecoupled}) {
			r.Method(rt.Method, rt.Pattern, gw.Wrap(rt.Op))
		}
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"code":"NOT_FOUND","message":%q}`, "no API operation at "+r.Method+" "+r.URL.Path+
			": PolishAPI lives under "+PolishAPIPrefix+"/..., mBank under /pl-retail/v3/... and /pl-corpo/v3/..., Berlin Group under /berlingroup/v1/...")
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

func notImplemented(name string) gateway.Handler {
	return func(http.ResponseWriter, *http.Request, *gateway.Caller) error {
		return gateway.NotImplemented(name)
	}
}
