package common

import (
	"net/http"

	"github.com/psd2bank/psd2bank/internal/gateway"
)

// Operation is one operation of a dialect: its route, service and name.
type Operation struct {
	Method, Path string
	Service      gateway.Service
	Name         string
}

// Route is one operation on the API listener, behind the gateway
// (gateway.Wrap(Op)).
type Route struct {
	Method, Pattern string
	Op              gateway.Operation
}

// Mount is the routes of ops under prefix, each with its handler in
// implemented (by operation name); an operation without one answers as not
// implemented. AIS and PIS operations need an access token, but those in
// tokenless.
func Mount(wire gateway.Wire, prefix string, ops []Operation, implemented map[string]gateway.Handler, tokenless map[string]bool) []Route {
	out := make([]Route, 0, len(ops))
	for _, o := range ops {
		h, ok := implemented[o.Name]
		if !ok {
			h = notImplemented(o.Name)
		}
		needsToken := (o.Service == gateway.AIS || o.Service == gateway.PIS) && !tokenless[o.Name]
		out = append(out, Route{Method: o.Method, Pattern: prefix + o.Path,
			Op: gateway.Operation{Wire: wire, Service: o.Service, Name: o.Name, Token: needsToken && ok, Handler: h,
				AuditWithWrite:  ok && (o.Service == gateway.PIS && initiations[o.Name] || o.Service == gateway.AIS && aisReads[o.Name]),
				LiveInStatement: ok && needsToken && o.Service == gateway.AIS && aisReads[o.Name]}})
	}
	return out
}

// initiations are the payment initiations of PolishAPI and mBank: their
// handlers write only in the initiation's transaction, with the request's
// context, which also writes the call's audit record
// (gateway.Operation.AuditWithWrite).
var initiations = map[string]bool{"domestic": true, "EEA": true, "nonEEA": true, "tax": true,
	"bundle": true, "recurring": true, "bundleDomestic": true}

// aisReads are the account information reads of PolishAPI and mBank: their
// only writes are the consent check's (the access recorded), made with the
// request's context, so the call's audit record goes in the same commit,
// and the access token's changing facts are proven in the check's
// statement (gateway.Operation.LiveInStatement, package live).
var aisReads = map[string]bool{"getAccounts": true, "getAccount": true, "getTransactionsDone": true,
	"getTransactionsPending": true, "getTransactionsRejected": true, "getTransactionsCancelled": true,
	"getTransactionsScheduled": true, "getHolds": true, "getTransactionDetail": true,
	"accounts": true, "accountDetails": true, "transactions": true, "transactionDetails": true}

func notImplemented(name string) gateway.Handler {
	return func(http.ResponseWriter, *http.Request, *gateway.Caller) error {
		return gateway.NotImplemented(name)
	}
}

// Op is an Operation.
func Op(method, path string, service gateway.Service, name string) Operation {
	return Operation{Method: method, Path: path, Service: service, Name: name}
}
