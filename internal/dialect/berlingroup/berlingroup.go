package berlingroup

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Prefix is where the dialect is served on the API listener.
const Prefix = "/berlingroup"

// Clients lists a TPP's OAuth clients (their registered redirect URIs
// bound TPP-Redirect-URI); *tpp.Registry implements it.
type Clients interface {
	ClientsOf(ctx context.Context, tppID string) ([]tpp.Client, error)
}

// Deps are the domain services the dialect translates to.
type Deps struct {
	Gateway  *gateway.Gateway
	Ledger   *ledger.Ledger
	Consents *consent.Service
	OAuth    *oauth.Server
	Clients  Clients
	Payments *payment.Service
	// PIS initiates bundles (bulk payments) under their consent; nil: made
	// from the services above.
	PIS    *pis.Service
	Access *access.Service // nil: every account's API access is active
	// AIS passes the consent check of a read in one statement where it
	// can (nil: made from the services above when DB is an ais.DB, else
	// the consent service's check always).
	AIS *ais.Service
	DB  store.Querier
	// OnDecoupled starts the customer's approval in the mobile app.
	OnDecoupled func(ctx context.Context, res oauth.AuthorizeResult, psuLogin string) error
}

// reads are the account information reads: their only writes are the
// consent checks' (the access recorded), made with the request's context,
// so the call's audit record goes with the first of them
// (gateway.Operation.AuditWithWrite).
var reads = map[string]bool{"getAccountList": true, "readAccountDetails": true, "getBalances": true,
	"getTransactionList": true, "getTransactionDetails": true}

// Route is one operation of the dialect on the API listener.
type Route struct {
	Method, Pattern string
	Op              gateway.Operation
}

// Routes lists the dialect's operations (patterns under Prefix); those it
// does not serve answer SERVICE_INVALID.
func Routes(d Deps) []Route {
	if d.PIS == nil && d.Payments != nil {
		d.PIS = pis.New(pis.Config{Consents: d.Consents, Payments: d.Payments, Ledger: d.Ledger, Access: d.Access})
	}
	if db, ok := d.DB.(ais.DB); ok && d.AIS == nil && d.Ledger != nil && d.Consents != nil {
		d.AIS = ais.New(d.Ledger, d.Consents, d.Access, db)
	}
	s := &service{d: d}
	ops := []op{
		{"POST", "/v1/consents", gateway.AIS, "createConsent", s.createConsent},
		{"GET", "/v1/consents/{consentId}", gateway.AIS, "getConsentInformation", s.getConsent},
		{"DELETE", "/v1/consents/{consentId}", gateway.AIS, "deleteConsent", s.deleteConsent},
		{"GET", "/v1/consents/{consentId}/status", gateway.AIS, "getConsentStatus", s.getConsentStatus},
		{"POST", "/v1/consents/{consentId}/authorisations", gateway.AIS, "startConsentAuthorisation", s.startConsentAuthorisation},
		{"GET", "/v1/consents/{consentId}/authorisations", gateway.AIS, "getConsentAuthorisation", s.getConsentAuthorisations},
		{"GET", "/v1/consents/{consentId}/authorisations/{authorisationId}", gateway.AIS, "getConsentScaStatus", s.getConsentScaStatus},
		{"PUT", "/v1/consents/{consentId}/authorisations/{authorisationId}", gateway.AIS, "updateConsentsPsuData", embeddedRefused},
		{"GET", "/v1/accounts", gateway.AIS, "getAccountList", s.getAccountList},
		{"GET", "/v1/accounts/{accountId}", gateway.AIS, "readAccountDetails", s.readAccountDetails},
		{"GET", "/v1/accounts/{accountId}/balances", gateway.AIS, "getBalances", s.getBalances},
		{"GET", "/v1/accounts/{accountId}/transactions", gateway.AIS, "getTransactionList", s.getTransactionList},
		{"GET", "/v1/accounts/{accountId}/transactions/{transactionId}", gateway.AIS, "getTransactionDetails", s.getTransactionDetails},
		{"GET", "/v1/card-accounts", gateway.AIS, "getCardAccountList", noCards},
		{"GET", "/v1/card-accounts/{accountId}", gateway.AIS, "readCardAccountDetails", noCards},
		{"GET", "/v1/card-accounts/{accountId}/balances", gateway.AIS, "getCardAccountBalances", noCards},
		{"GET", "/v1/card-accounts/{accountId}/transactions", gateway.AIS, "getCardAccountTransactionList", noCards},
		{"POST", "/v1/funds-confirmations", gateway.CAF, "checkAvailabilityOfFunds", s.checkAvailabilityOfFunds},
		{"POST", "/v1/signing-baskets", gateway.PIS, "createSigningBasket", notServed("signing baskets")},
	}
	if d.Payments != nil {
		ops = append(ops, s.paymentRoutes()...)
	}
	out := make([]Route, 0, len(ops))
	for _, o := range ops {
		out = append(out, Route{Method: o.method, Pattern: Prefix + o.path,
			Op: gateway.Operation{Wire: Wire, Service: o.service, Name: o.name, Handler: o.h, AuditWithWrite: reads[o.name],
				LiveInStatement: reads[o.name]}})
	}
	return out
}

type service struct{ d Deps }

// op is an operation: its route (under Prefix), service, name and handler.
type op struct {
	method, path string
	service      gateway.Service
	name         string
	h            gateway.Handler
}

func (s *service) now() time.Time { return s.d.Consents.Now() }

func noCards(http.ResponseWriter, *http.Request, *gateway.Caller) error {
	return refuse(http.StatusMethodNotAllowed, CodeServiceInvalid,
		"this bank keeps no card accounts: the card account service is not offered (use /v1/accounts)",
		"bank nie prowadzi rachunków kart: usługa rachunków kartowych nie jest oferowana (użyj /v1/accounts)")
}

func notServed(what string) gateway.Handler {
	return func(http.ResponseWriter, *http.Request, *gateway.Caller) error {
		return refuse(http.StatusMethodNotAllowed, CodeServiceInvalid,
			"this bank does not offer "+what, "bank nie oferuje usługi: "+what)
	}
}

func embeddedRefused(http.ResponseWriter, *http.Request, *gateway.Caller) error {
	return refuse(http.StatusBadRequest, CodeScaMethodUnknown,
		"embedded SCA is not offered: the customer authorises at the bank (redirect, _links.scaRedirect) or in the bank's mobile app (decoupled)",
		"wbudowane SCA nie jest oferowane: klient autoryzuje w banku (przekierowanie, _links.scaRedirect) lub w aplikacji mobilnej banku (odseparowane)")
}

// writeJSON answers with status and v; the gateway signs it.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return gateway.WriteJSON(w, status, v)
}

// decodeStrict reads a JSON body, refusing fields the standard does not define.
func decodeStrict(body []byte, v any, shape string) error {
	if ct := bytes.TrimSpace(body); len(ct) > 0 && ct[0] == '<' {
		return refuse(http.StatusUnsupportedMediaType, CodeFormatError,
			"this bank accepts JSON bodies only (application/json); XML (pain.001) is not offered",
			"bank przyjmuje tylko treść JSON (application/json); XML (pain.001) nie jest obsługiwany")
	}
	// strictjson: duplicate keys, broken UTF-8 and data after the object
	// refused too; unknown fields refused as the standard's schemas say.
	if err := strictjson.Decode(body, v, strictjson.Options{DisallowUnknownFields: true}); err != nil {
		return formatError("the body is not a valid "+shape+": "+err.Error(), "treść nie jest poprawnym obiektem "+shape+": "+err.Error())
	}
	return nil
}

// link is an href in _links.
type link struct {
	Href string `json:"href"`
}

// psuPresent tells whether the customer takes part (PSU-IP-Address sent):
// reads without it count towards frequencyPerDay.
func psuPresent(r *http.Request) bool { return r.Header.Get("PSU-IP-Address") != "" }

// consentRefusal maps the consent service's refusals to the standard
// (wireErrors); other errors pass unchanged.
func consentRefusal(err error) error {
	ce := fault.Find(err, "consent")
	if ce == nil {
		return err
	}
	return domainRefusal(ce, ce.Message, ce.MessagePL)
}

// accessRefusal maps API access per account to the standard (wireErrors).
func accessRefusal(err error) error {
	ae := fault.Find(err, "access")
	if ae == nil {
		return err
	}
	return domainRefusal(ae, ae.In("en"), ae.In("pl"))
}

// checkAccess refuses an account whose API access is not active.
func (s *service) checkAccess(ctx context.Context, nrb, svc string) error {
	if s.d.Access == nil || nrb == "" {
		return nil
	}
	return accessRefusal(s.d.Access.Check(ctx, nrb, svc))
}

// IBAN of a Polish NRB.
func ibanOf(nrb string) string { return "PL" + nrb }

// nrbOf reads a Polish IBAN into its NRB.
func nrbOf(iban string) (string, bool) {
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	n, ok := strings.CutPrefix(iban, "PL")
	if !ok || len(n) != 26 {
		return "", false
	}
	if _, err := strconv.ParseUint(n[:18], 10, 64); err != nil {
		return "", false
	}
	if _, err := strconv.ParseUint(n[18:], 10, 64); err != nil {
		return "", false
	}
	return n, validIBAN(iban)
}

// validIBAN checks the ISO 13616 check digits.
func validIBAN(iban string) bool {
	s := iban[4:] + iban[:4]
	rem := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// param is a path parameter.
func param(r *http.Request, name string) string { return chi.URLParam(r, name) }
