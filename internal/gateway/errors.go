package gateway

import (
	"fmt"
	"net/http"
)

// Code is a stable wire code of a refusal, the same in every dialect.
type Code string

// The refusals of the trust pipeline. Each has an HTTP status and a message
// in English and Polish that says what to do.
const (
	CodeCertificateMissing   Code = "CERTIFICATE_MISSING"
	CodeCertificateInvalid   Code = "CERTIFICATE_INVALID"
	CodeCertificateExpired   Code = "CERTIFICATE_EXPIRED"
	CodeCertificateRevoked   Code = "CERTIFICATE_REVOKED"
	CodeCertificateSandbox   Code = "CERTIFICATE_SANDBOX"
	CodeCertificateNotPSD2   Code = "CERTIFICATE_NOT_PSD2"
	CodeTPPUnknown           Code = "TPP_UNKNOWN"
	CodeTPPNotLicensed       Code = "TPP_NOT_LICENSED"
	CodeTPPSuspended         Code = "TPP_SUSPENDED"
	CodeRoleNotAllowed       Code = "ROLE_NOT_ALLOWED"
	CodeSignatureMissing     Code = "SIGNATURE_MISSING"
	CodeSignatureInvalid     Code = "SIGNATURE_INVALID"
	CodeSignatureCert        Code = "SIGNATURE_CERTIFICATE_INVALID"
	CodeOrganisationMismatch Code = "ORGANISATION_MISMATCH"
	CodeRequestIDMissing     Code = "REQUEST_ID_MISSING"
	CodeRequestIDMismatch    Code = "REQUEST_ID_MISMATCH"
	CodeRequestReplayed      Code = "REQUEST_REPLAYED"
	CodeFormatError          Code = "FORMAT_ERROR"
	CodeTokenMissing         Code = "TOKEN_MISSING"
	CodeTokenInvalid         Code = "TOKEN_INVALID"
	CodeTokenExpired         Code = "TOKEN_EXPIRED"
	CodeBodyTooLarge         Code = "BODY_TOO_LARGE"
	CodeNotImplemented       Code = "NOT_IMPLEMENTED"
	CodeInternal             Code = "INTERNAL_ERROR"
	CodeUnavailable          Code = "SERVICE_UNAVAILABLE"
)

// Refusal is a request the bank will not serve, with what to tell the TPP.
type Refusal struct {
	Status int
	Code   Code
	EN, PL string // human messages: what is wrong and what to do
	Detail string // technical detail (English), appended to both messages
	// Reason is, for a certificate refusal, the check that failed (an
	// eidas.Reason), for dialects whose codes tell more than Code does.
	Reason string
}

func (r *Refusal) Error() string {
	if r.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", r.Code, r.EN, r.Detail)
	}
	return fmt.Sprintf("%s: %s", r.Code, r.EN)
}

// Message is the refusal's message in a language ("pl" or anything else
// for English), with the detail.
func (r *Refusal) Message(lang string) string {
	m := r.EN
	if lang == "pl" && r.PL != "" {
		m = r.PL
	}
	if r.Detail != "" {
		m += " (" + r.Detail + ")"
	}
	return m
}

func refuse(status int, code Code, en, pl string, detail ...any) *Refusal {
	r := &Refusal{Status: status, Code: code, EN: en, PL: pl}
	if len(detail) > 0 {
		r.Detail = fmt.Sprint(detail...)
	}
	return r
}

// NewRefusal lets handlers behind the pipeline refuse in the same format.
func NewRefusal(status int, code Code, en, pl string) *Refusal {
	return &Refusal{Status: status, Code: code, EN: en, PL: pl}
}

// NotImplemented is the refusal for an operation of the standard that this
// version does not serve yet.
func NotImplemented(operation string) *Refusal {
	return &Refusal{Status: http.StatusNotImplemented, Code: CodeNotImplemented,
		EN: fmt.Sprintf("the operation %s is not available in this version of the bank's API", operation),
		PL: fmt.Sprintf("operacja %s nie jest dostępna w tej wersji API banku", operation)}
}
