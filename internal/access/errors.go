package access

import (
	"fmt"

	"github.com/psd2bank/psd2bank/internal/fault"
)

// Code classifies a refusal. Codes are stable: the dialects map them to
// their HTTP statuses and wire codes, the pages to their texts.
type Code = fault.Code

var (
	// CodeNotActivated: API access to the account has not been activated.
	CodeNotActivated = fault.Define("access", "access_not_activated")
	// CodeBlocked: API access to the account is blocked.
	CodeBlocked = fault.Define("access", "access_blocked")
	// CodeLimitExceeded: a payment goes over a limit; see Error.Limit.
	CodeLimitExceeded = fault.Define("access", "limit_exceeded")
	// CodeUnknownAccount: the bank has no customer account with this number.
	CodeUnknownAccount = fault.Define("access", "unknown_account")
	// CodeNotYours: the account belongs to another customer.
	CodeNotYours = fault.Define("access", "not_yours")
	// CodeHotlineOnly: a company account's access is changed only by the
	// hotline.
	CodeHotlineOnly = fault.Define("access", "hotline_only")
	// CodeNotChangeable: the account's access cannot be changed this way
	// (a retail account in internet banking).
	CodeNotChangeable = fault.Define("access", "not_changeable")
	// CodeUnchanged: the account already has that state.
	CodeUnchanged = fault.Define("access", "unchanged")
	// CodeWrongPESEL: the PESEL given is not the customer's; see
	// Error.TriesLeft.
	CodeWrongPESEL = fault.Define("access", "wrong_pesel")
	// CodeVerificationFailed: three wrong PESELs in a row ended the check.
	CodeVerificationFailed = fault.Define("access", "verification_failed")
	// CodeDayLimit: the customer's PESEL was given wrongly too many times
	// today, across the hotline's checks; no check until tomorrow.
	CodeDayLimit = fault.Define("access", "pesel_day_limit")
	// CodeNotVerified: the hotline's change needs a passed identity check
	// (and, for a firm, who acts for it); see the message.
	CodeNotVerified = fault.Define("access", "not_verified")
	// CodeNotFound: no such identity check.
	CodeNotFound = fault.Define("access", "not_found")
	// CodeInvalid: malformed input.
	CodeInvalid = fault.Define("access", "invalid")
)

// Limit names of CodeLimitExceeded (Error.Limit).
const (
	LimitOneOffPerPayment    = "one_off.per_payment"
	LimitOneOffPerDay        = "one_off.per_day"
	LimitRecurringPerPayment = "recurring.per_payment"
	LimitRecurringPerDay     = "recurring.per_day"
)

// Error is a refusal with its message in English and Polish.
type Error = fault.Error

// CodeOf returns the code of an access error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "access") }

// Message returns the message of an access error in lang, or a generic one
// for any other error.
func Message(err error, lang string) string {
	if e := fault.Find(err, "access"); e != nil {
		return e.In(lang)
	}
	if lang == "pl" {
		return "Wystąpił błąd wewnętrzny; spróbuj ponownie później."
	}
	return "An internal error occurred; please try again later."
}

func newError(code Code, en, pl string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

func errUnknownAccount(nrb string) *Error {
	return newError(CodeUnknownAccount, "the bank has no customer account %s", "bank nie prowadzi rachunku klienta %s", maskNRB(nrb))
}

func errNotYours(nrb string) *Error {
	return newError(CodeNotYours, "account %s is not yours", "rachunek %s nie należy do ciebie", maskNRB(nrb))
}

func errUnchanged(nrb string, st State) *Error {
	en, pl := "active", "aktywny"
	if st == Blocked {
		en, pl = "blocked", "zablokowany"
	}
	return &Error{Code: CodeUnchanged,
		Message:   fmt.Sprintf("API access to account %s is already %s", maskNRB(nrb), en),
		MessagePL: fmt.Sprintf("dostęp do API rachunku %s jest już %s", maskNRB(nrb), pl)}
}

var (
	errHotlineOnly = newError(CodeHotlineOnly,
		"API access to company accounts is activated and blocked only by the hotline: call the bank, the consultant will check your identity by PESEL",
		"dostęp do API rachunków firmowych włącza i blokuje wyłącznie infolinia: zadzwoń do banku, konsultant zweryfikuje twoją tożsamość numerem PESEL")
	errRetail = newError(CodeNotChangeable,
		"API access to personal accounts is always available (PSD2); you control it by giving and revoking consents",
		"dostęp do API rachunków osobistych jest zawsze dostępny (PSD2); kontrolujesz go, udzielając i odwołując zgody")
)
