// Package api assembles the TPP API: every operation of every dialect,
// each behind the gateway's pipeline. This file is the one place that
// lists the whole API surface.
package api

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// PolishAPIPrefix is the version prefix of PolishAPI 2.1.2 paths.
const PolishAPIPrefix = "/v2_1_2.1"

// BankIDs are the mBank dialect's bank identifiers.
var BankIDs = []string{"pl-retail", "pl-corpo"}

// Deps are what the operations need.
type Deps struct {
	Gateway   *gateway.Gateway
	Registrar mbank.Registrar
}

// Operation names, by dialect and service. Handlers that later issues
// implement are registered here as not implemented until then.
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

// Routes returns the API's handler.
func Routes(d Deps) http.Handler {
	r := chi.NewRouter()
	gw := d.Gateway
	implemented := map[string]gateway.Handler{} // filled as the AIS, PIS, CAF and AS issues land
	for _, o := range polishAPIOperations {
		h, ok := implemented["polishapi."+o.name]
		if !ok {
			h = notImplemented(o.name)
		}
		r.Method(o.method, PolishAPIPrefix+o.path, gw.Wrap(gateway.Operation{Dialect: gateway.PolishAPI, Service: o.service, Name: o.name, Handler: h}))
	}
	for _, bank := range BankIDs {
		for _, o := range mbankOperations {
			h, ok := implemented["mbank."+o.name]
			if !ok {
				h = notImplemented(o.name)
			}
			r.Method(o.method, "/"+bank+"/v3"+o.path, gw.Wrap(gateway.Operation{Dialect: gateway.MBank, Service: o.service, Name: o.name, Handler: h}))
		}
	}
	r.Post("/v3/register/", gw.Wrap(gateway.Operation{Dialect: gateway.MBank, Service: gateway.Register, Name: "register",
		Handler: mbank.Register(gw, d.Registrar)}).ServeHTTP)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"code":"NOT_FOUND","message":%q}`, "no API operation at "+r.Method+" "+r.URL.Path+
			": PolishAPI lives under "+PolishAPIPrefix+"/..., mBank under /pl-retail/v3/... and /pl-corpo/v3/...")
	})
	return r
}

func notImplemented(name string) gateway.Handler {
	return func(http.ResponseWriter, *http.Request, *gateway.Caller) error {
		return gateway.NotImplemented(name)
	}
}
