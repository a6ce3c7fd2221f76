package mbank

import (
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// BankIDs are the mBank dialect's bank identifiers, the first segment of
// its paths.
var BankIDs = []string{"pl-retail", "pl-corpo"}

// Operations are mBank v3's operations under /{bankId}/v3. The funds
// confirmation and consent deletion carry no access token (mBank's
// collection).
var Operations = []common.Operation{
	common.Op("POST", "/auth/authorize", gateway.AS, "authorize"),
	common.Op("POST", "/auth/token", gateway.AS, "token"),
	common.Op("GET", "/accounts", gateway.AIS, "accounts"),
	common.Op("GET", "/accounts/{accountId}", gateway.AIS, "accountDetails"),
	common.Op("GET", "/accounts/{accountId}/transactions", gateway.AIS, "transactions"),
	common.Op("GET", "/accounts/{accountId}/transactions/{transactionId}", gateway.AIS, "transactionDetails"),
	common.Op("DELETE", "/consents/{consentId}", gateway.AIS, "deleteConsent"),
	common.Op("POST", "/payments/domestic", gateway.PIS, "domestic"),
	common.Op("GET", "/payments/domestic/{paymentId}", gateway.PIS, "paymentStatus"),
	common.Op("DELETE", "/payments/domestic/{paymentId}", gateway.PIS, "cancelPayment"),
	common.Op("POST", "/payments/bundle/domestic", gateway.PIS, "bundleDomestic"),
	common.Op("GET", "/payments/bundle/domestic/{bundleId}", gateway.PIS, "bundleStatus"),
	common.Op("DELETE", "/payments/bundle/domestic/{bundleId}", gateway.PIS, "cancelBundle"),
	common.Op("POST", "/funds-confirmation", gateway.CAF, "fundsConfirmation"),
}

// tokenless are the operations that need no access token.
var tokenless = map[string]bool{"fundsConfirmation": true, "deleteConsent": true}

// Routes are mBank's operations on the API listener under each of BankIDs,
// each with its handler (Handlers) or answering as not implemented, and
// the dynamic client registration (POST /v3/register/) with reg.
func Routes(d common.Deps, reg Registrar) []common.Route {
	h := Handlers(d)
	var out []common.Route
	for _, bank := range BankIDs {
		out = append(out, common.Mount(Wire, "/"+bank+"/v3", Operations, h, tokenless)...)
	}
	return append(out, common.Route{Method: "POST", Pattern: "/v3/register/",
		Op: gateway.Operation{Wire: Wire, Service: gateway.Register, Name: "register", Handler: Register(d.Gateway, reg)}})
}
