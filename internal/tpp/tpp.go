// Package tpp is the bank's registry of third party providers (TPPs): the
// TPPs it knows, their OAuth clients and registered certificates, the
// national/EBA register of payment institutions that says what each TPP is
// licensed for, and the onboarding of a TPP to production through an
// application with documents and certificates that the back office reviews.
//
// Sandbox access is immediate (RegisterSandbox, used by the sandbox bootstrap
// and by `psd2bank certs issue --register`); production access is granted by
// approving an application, which needs qualified (not sandbox-issued)
// certificates and an organisation authorised in the register for the roles
// of its certificates. mBank's dynamic client registration (POST
// /v3/register/) goes through RegisterDynamic.
//
// Every change is written to the audit table in the same transaction as the
// change. Errors are *Error values with a stable Code and a message in
// English and Polish.
package tpp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/store"
)

// DB is the storage the registry needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Licences tells what the register of payment institutions says about an
// organisation. *Register and *FileRegister implement it.
type Licences interface {
	Lookup(orgID string) (Entry, bool)
}

// Registry is the bank's registry of TPPs, clients, certificates, onboarding
// applications and back-office staff. It is safe for concurrent use.
type Registry struct {
	db       DB
	clock    clock.Clock
	licences Licences
	guard    *lockout.Guard
}

// New returns a registry over db whose time comes from c. licences is the
// register of payment institutions consulted when an application is
// approved and when a client registers dynamically; nil means no register
// is configured, and then approval is refused.
func New(db DB, c clock.Clock, licences Licences) *Registry {
	return &Registry{db: db, clock: c, licences: licences, guard: lockout.New(db, c)}
}

// Licences returns the register the registry consults (nil if none).
func (r *Registry) Licences() Licences { return r.licences }

// Environments and statuses.
const (
	EnvSandbox    = "sandbox"
	EnvProduction = "production"

	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Code classifies a registry error.
type Code = fault.Code

// The error codes.
var (
	CodeInvalid            = fault.Define("tpp", "invalid")             // malformed input
	CodeNotFound           = fault.Define("tpp", "not_found")           // no such TPP, client, application...
	CodeConflict           = fault.Define("tpp", "conflict")            // already exists, or belongs to someone else
	CodeIncomplete         = fault.Define("tpp", "incomplete")          // an application lacks a required piece
	CodeWrongState         = fault.Define("tpp", "wrong_state")         // not allowed in the current status
	CodeNotLicensed        = fault.Define("tpp", "not_licensed")        // the register does not authorise it
	CodeSandboxCertificate = fault.Define("tpp", "sandbox_certificate") // a sandbox certificate where a qualified one is needed
	CodeCertificate        = fault.Define("tpp", "certificate")         // a certificate is unusable (unparseable, wrong org, expired)
	CodeSuspended          = fault.Define("tpp", "suspended")           // the TPP is suspended
	CodeUnauthenticated    = fault.Define("tpp", "unauthenticated")     // wrong login or password
	CodeTooLarge           = fault.Define("tpp", "too_large")           // a document is too large
	CodeUnsupportedType    = fault.Define("tpp", "unsupported_type")    // a document is not a PDF, PNG or JPEG
)

// Error is a registry error: a code for machines and a message for people,
// in English and in Polish.
type Error = fault.Error

// newError builds an *Error from an English and a Polish format that take the
// same arguments.
func newError(code Code, en, pl string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// CodeOf returns the code of the *Error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "tpp") }

// Message returns a message for people about err in lang: the text of the
// *Error in its chain, or a generic sentence for any other error (whose
// details are for the log, not for the page).
func Message(err error, lang string) string {
	if e := fault.Find(err, "tpp"); e != nil {
		return e.In(lang)
	}
	if lang == "pl" {
		return "Wystąpił błąd wewnętrzny; spróbuj ponownie później."
	}
	return "An internal error occurred; please try again later."
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// NewClientID returns a new random client_id: a UUID (version 4), as mBank
// gives its TPPs; it is URL-safe.
func NewClientID() string { return uuid.NewString() }

// NormalizeOrgID returns the normalized form of a PSD2 organizationIdentifier
// (see eidas.OrganizationID.Normalized), by which TPPs are found.
func NormalizeOrgID(id string) (string, error) {
	o, err := eidas.ParseOrganizationID(strings.TrimSpace(id))
	if err != nil {
		return "", newError(CodeInvalid,
			"%q is not a PSD2 organisation identifier: it must look like PSDPL-KNF-0123456789 (\"PSD\", the country, the supervisor's code and the authorisation number)",
			"%q nie jest identyfikatorem organizacji PSD2: powinien wyglądać jak PSDPL-KNF-0123456789 (\"PSD\", kraj, kod organu nadzoru i numer zezwolenia)",
			id)
	}
	return o.Normalized(), nil
}

// LookupKey is the key a TPP is found by (tpps.norm_id): the normalised
// organisation id, or id itself when it is not a PSD2 one (which then
// finds nothing).
func LookupKey(id string) string {
	n, err := NormalizeOrgID(id)
	if err != nil {
		return id
	}
	return n
}

// ValidateRedirectURIs checks each redirect URI: an absolute https URL
// without a fragment, or http on a loopback host (for local development).
func ValidateRedirectURIs(uris []string) error {
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return newError(CodeInvalid,
				"the redirect URI %q is not an absolute URL",
				"adres przekierowania %q nie jest bezwzględnym adresem URL", s)
		}
		if u.Fragment != "" || strings.Contains(s, "#") {
			return newError(CodeInvalid,
				"the redirect URI %q must not have a fragment (#...)",
				"adres przekierowania %q nie może zawierać fragmentu (#...)", s)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			return newError(CodeInvalid,
				"the redirect URI %q must use https (http is allowed only for localhost)",
				"adres przekierowania %q musi używać https (http jest dozwolone tylko dla localhost)", s)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// cleanURIs trims the URIs, drops empty ones and duplicates, keeping order.
func cleanURIs(uris []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, u := range uris {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}

func encodeURIs(uris []string) string {
	if uris == nil {
		uris = []string{}
	}
	b, _ := json.Marshal(uris)
	return string(b)
}

func decodeURIs(s string) []string {
	var uris []string
	if err := json.Unmarshal([]byte(s), &uris); err != nil || uris == nil {
		return []string{}
	}
	return uris
}
