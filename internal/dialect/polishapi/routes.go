package polishapi

import (
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// Prefix is the version prefix of PolishAPI 2.1.2 paths.
const Prefix = "/v2_1_2.1"

// Operations are PolishAPI 2.1.2's operations (all POST, under Prefix).
// deleteConsent, getMultiplePayments and getConfirmationOfFunds carry no
// Authorization header (the spec): getMultiplePayments has a token per
// payment in its body.
var Operations = []common.Operation{
	common.Op("POST", "/auth/v2_1_2.1/authorize", gateway.AS, "authorize"),
	common.Op("POST", "/auth/v2_1_2.1/authorizeExt", gateway.AS, "authorizeExt"),
	common.Op("POST", "/auth/v2_1_2.1/token", gateway.AS, "token"),
	common.Op("POST", "/accounts/v2_1_2.1/getAccounts", gateway.AIS, "getAccounts"),
	common.Op("POST", "/accounts/v2_1_2.1/getAccount", gateway.AIS, "getAccount"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionsDone", gateway.AIS, "getTransactionsDone"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionsPending", gateway.AIS, "getTransactionsPending"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionsRejected", gateway.AIS, "getTransactionsRejected"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionsCancelled", gateway.AIS, "getTransactionsCancelled"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionsScheduled", gateway.AIS, "getTransactionsScheduled"),
	common.Op("POST", "/accounts/v2_1_2.1/getHolds", gateway.AIS, "getHolds"),
	common.Op("POST", "/accounts/v2_1_2.1/getTransactionDetail", gateway.AIS, "getTransactionDetail"),
	common.Op("POST", "/accounts/v2_1_2.1/deleteConsent", gateway.AIS, "deleteConsent"),
	common.Op("POST", "/payments/v2_1_2.1/domestic", gateway.PIS, "domestic"),
	common.Op("POST", "/payments/v2_1_2.1/EEA", gateway.PIS, "EEA"),
	common.Op("POST", "/payments/v2_1_2.1/nonEEA", gateway.PIS, "nonEEA"),
	common.Op("POST", "/payments/v2_1_2.1/tax", gateway.PIS, "tax"),
	common.Op("POST", "/payments/v2_1_2.1/bundle", gateway.PIS, "bundle"),
	common.Op("POST", "/payments/v2_1_2.1/recurring", gateway.PIS, "recurring"),
	common.Op("POST", "/payments/v2_1_2.1/getPayment", gateway.PIS, "getPayment"),
	common.Op("POST", "/payments/v2_1_2.1/getBundle", gateway.PIS, "getBundle"),
	common.Op("POST", "/payments/v2_1_2.1/getRecurringPayment", gateway.PIS, "getRecurringPayment"),
	common.Op("POST", "/payments/v2_1_2.1/getMultiplePayments", gateway.PIS, "getMultiplePayments"),
	common.Op("POST", "/payments/v2_1_2.1/cancelPayments", gateway.PIS, "cancelPayments"),
	common.Op("POST", "/payments/v2_1_2.1/cancelRecurringPayment", gateway.PIS, "cancelRecurringPayment"),
	common.Op("POST", "/confirmation/v2_1_2.1/getConfirmationOfFunds", gateway.CAF, "getConfirmationOfFunds"),
}

// tokenless are the operations that need no access token.
var tokenless = map[string]bool{"deleteConsent": true, "getMultiplePayments": true, "getConfirmationOfFunds": true}

// Routes are PolishAPI's operations on the API listener, each with its
// handler (Handlers) or answering as not implemented.
func Routes(d common.Deps) []common.Route {
	return common.Mount(Wire, Prefix, Operations, Handlers(d), tokenless)
}
