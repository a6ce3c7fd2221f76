package consent

import "github.com/psd2bank/psd2bank/internal/fault"

// Code classifies a consent error: a fault.Code of the "consent" domain,
// stable and meant for machines.
type Code = fault.Code

// The error codes.
var (
	CodeInvalid             = fault.Define("consent", "invalid")                // a malformed consent or argument
	CodeInvalidPrivileges   = fault.Define("consent", "invalid_privileges")     // privileges that do not fit the scope
	CodeDuplicate           = fault.Define("consent", "consent_duplicate")      // the TPP's consentId was used before
	CodeNotFound            = fault.Define("consent", "consent_not_found")      // no consent with that id (bank side)
	CodeWrongState          = fault.Define("consent", "wrong_state")            // a transition the status does not allow
	CodeAlreadyRevoked      = fault.Define("consent", "already_revoked")        // revoking a revoked consent
	CodeUnknown             = fault.Define("consent", "consent_unknown")        // no such consent for this TPP
	CodeNotAuthorised       = fault.Define("consent", "not_authorised")         // the customer has not authorised it yet
	CodeRejected            = fault.Define("consent", "rejected")               // the customer refused it
	CodeRevoked             = fault.Define("consent", "revoked")                // the customer revoked it
	CodeRevokedByTPP        = fault.Define("consent", "revoked_by_tpp")         // the TPP revoked it
	CodeExpired             = fault.Define("consent", "expired")                // scopeTimeLimit or the 180-day rule
	CodePrivilegeMissing    = fault.Define("consent", "privilege_missing")      // the consent lacks the privilege
	CodeAccountNotInConsent = fault.Define("consent", "account_not_in_consent") // the privilege does not cover the account
	CodeHistoryTooLong      = fault.Define("consent", "history_too_long")       // further back than maxAllowedHistoryLong
	CodeUsageExhausted      = fault.Define("consent", "usage_exhausted")        // a single-use privilege already used
	CodeAccessLimit         = fault.Define("consent", "access_limit")           // the consent's unattended accesses in its window used
)

// Error is a consent error (the bank's one error type, fault.Error): a
// stable code and a message for people in English and Polish that says
// what to do; RetryAfter is, for CodeAccessLimit, when the next access is
// possible. The transports choose the HTTP status.
type Error = fault.Error

// CodeOf returns the code of the consent *Error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "consent") }

// newError builds an *Error from an English and a Polish format that take
// the same arguments.
func newError(code Code, en, pl string, args ...any) *Error {
	return fault.New(code, en, pl, args...)
}

// Mask shows only the last 4 digits of an account number.
func Mask(nrb string) string {
	if len(nrb) <= 4 {
		return "****"
	}
	return "…" + nrb[len(nrb)-4:]
}
