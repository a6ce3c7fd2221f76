package consent

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Code classifies a consent error; it is stable and meant for machines.
type Code string

// The error codes.
const (
	CodeInvalid             Code = "invalid"                // a malformed consent or argument
	CodeInvalidPrivileges   Code = "invalid_privileges"     // privileges that do not fit the scope
	CodeDuplicate           Code = "consent_duplicate"      // the TPP's consentId was used before
	CodeNotFound            Code = "consent_not_found"      // no consent with that id (bank side)
	CodeWrongState          Code = "wrong_state"            // a transition the status does not allow
	CodeAlreadyRevoked      Code = "already_revoked"        // revoking a revoked consent
	CodeUnknown             Code = "consent_unknown"        // no such consent for this TPP
	CodeNotAuthorised       Code = "not_authorised"         // the customer has not authorised it yet
	CodeRejected            Code = "rejected"               // the customer refused it
	CodeRevoked             Code = "revoked"                // the customer revoked it
	CodeRevokedByTPP        Code = "revoked_by_tpp"         // the TPP revoked it
	CodeExpired             Code = "expired"                // scopeTimeLimit or the 180-day rule
	CodePrivilegeMissing    Code = "privilege_missing"      // the consent lacks the privilege
	CodeAccountNotInConsent Code = "account_not_in_consent" // the privilege does not cover the account
	CodeHistoryTooLong      Code = "history_too_long"       // further back than maxAllowedHistoryLong
	CodeUsageExhausted      Code = "usage_exhausted"        // a single-use privilege already used
	CodeAccessLimit         Code = "access_limit"           // the consent's unattended accesses in its window used
)

// Error is a consent error: a stable code, the HTTP status class it maps to,
// and a message for people in English and Polish that says what to do.
type Error struct {
	Code      Code
	Status    int    // HTTP status class: 400, 403, 404, 409, 429
	Message   string // English
	MessagePL string // Polish
	// RetryAfter is, for CodeAccessLimit, when the next access is possible.
	RetryAfter time.Time
}

// Error returns the English message.
func (e *Error) Error() string { return e.Message }

// In returns the message in lang ("pl" or anything else for English).
func (e *Error) In(lang string) string {
	if lang == "pl" && e.MessagePL != "" {
		return e.MessagePL
	}
	return e.Message
}

// CodeOf returns the code of the *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var statusOf = map[Code]int{
	CodeInvalid:             http.StatusBadRequest,
	CodeInvalidPrivileges:   http.StatusBadRequest,
	CodeDuplicate:           http.StatusConflict,
	CodeNotFound:            http.StatusNotFound,
	CodeWrongState:          http.StatusConflict,
	CodeAlreadyRevoked:      http.StatusConflict,
	CodeUnknown:             http.StatusForbidden,
	CodeNotAuthorised:       http.StatusForbidden,
	CodeRejected:            http.StatusForbidden,
	CodeRevoked:             http.StatusForbidden,
	CodeRevokedByTPP:        http.StatusForbidden,
	CodeExpired:             http.StatusForbidden,
	CodePrivilegeMissing:    http.StatusForbidden,
	CodeAccountNotInConsent: http.StatusForbidden,
	CodeHistoryTooLong:      http.StatusBadRequest,
	CodeUsageExhausted:      http.StatusForbidden,
	CodeAccessLimit:         http.StatusTooManyRequests,
}

// newError builds an *Error from an English and a Polish format that take
// the same arguments.
func newError(code Code, en, pl string, args ...any) *Error {
	return &Error{Code: code, Status: statusOf[code], Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// Mask shows only the last 4 digits of an account number.
func Mask(nrb string) string {
	if len(nrb) <= 4 {
		return "****"
	}
	return "…" + nrb[len(nrb)-4:]
}
