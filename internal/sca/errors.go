package sca

import (
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Code classifies an SCA refusal. Codes are stable: pages and APIs map them
// to their own statuses and texts.
type Code = fault.Code

var (
	// CodeWrongCredentials: the login or the password is wrong (the two are
	// never told apart).
	CodeWrongCredentials = fault.Define("sca", "wrong_credentials")
	// CodeLocked: too many failed log-ins in a row; see Error.RetryAfter.
	CodeLocked = fault.Define("sca", "locked")
	// CodeWrongCode: a wrong SMS code; see Error.TriesLeft.
	CodeWrongCode = fault.Define("sca", "wrong_code")
	// CodeCodeFailed: the SMS code was entered wrongly too many times and
	// no longer works.
	CodeCodeFailed = fault.Define("sca", "code_failed")
	// CodeExpired: the challenge is past its validity.
	CodeExpired = fault.Define("sca", "expired")
	// CodeUsed: the challenge was already used (or decided).
	CodeUsed = fault.Define("sca", "used")
	// CodeNotFound: no such challenge for this customer.
	CodeNotFound = fault.Define("sca", "not_found")
	// CodeUnknownLogin: no customer has this login (sandbox tools only; the
	// log-in itself answers CodeWrongCredentials).
	CodeUnknownLogin = fault.Define("sca", "unknown_login")
	// CodeNothingPending: the customer has no pending mobile-app challenge.
	CodeNothingPending = fault.Define("sca", "nothing_pending")
	// CodeNoPhone: the customer has no phone number for SMS codes.
	CodeNoPhone = fault.Define("sca", "no_phone")
	// CodeBusy: every password-hash slot is taken; try again in a moment
	// (nothing was counted).
	CodeBusy = fault.Define("sca", "busy")
	// CodeInvalid: the input is malformed (e.g. a code that is not 6 digits).
	CodeInvalid = fault.Define("sca", "invalid")
)

// Error is an SCA refusal, with its message in English and Polish.
type Error = fault.Error

// CodeOf returns the code of an SCA error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "sca") }

// Message returns the message of an SCA error in lang, or a generic one for
// any other error (whose details are not for customers).
func Message(err error, lang string) string {
	if e := fault.Find(err, "sca"); e != nil {
		return e.In(lang)
	}
	if lang == "pl" {
		return "Wystąpił błąd wewnętrzny; spróbuj ponownie później."
	}
	return "An internal error occurred; please try again later."
}

func newError(code Code, en, pl string) *Error {
	return &Error{Code: code, Message: en, MessagePL: pl}
}

// clockTime formats an instant for customers: the time of day in Poland,
// with the date when it is not today.
func clockTime(t, now time.Time) string {
	t, now = t.In(polish.Warsaw), now.In(polish.Warsaw)
	if t.Format(time.DateOnly) == now.Format(time.DateOnly) {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

func errWrongCredentials(left int) *Error {
	e := newError(CodeWrongCredentials, "Wrong login or password.", "Nieprawidłowy login lub hasło.")
	if left > 0 {
		e.Message += fmt.Sprintf(" Attempts left before the login is locked: %d.", left)
		e.MessagePL += fmt.Sprintf(" Pozostałe próby przed zablokowaniem loginu: %d.", left)
	}
	return e
}

func errJustLocked(until, now time.Time) *Error {
	at := clockTime(until, now)
	e := newError(CodeLocked,
		fmt.Sprintf("Wrong login or password. After %d failed attempts the login is locked until %s.", maxLoginFailures, at),
		fmt.Sprintf("Nieprawidłowy login lub hasło. Po %d nieudanych próbach login jest zablokowany do %s.", maxLoginFailures, at))
	e.RetryAfter = until
	return e
}

func errLocked(until, now time.Time) *Error {
	at := clockTime(until, now)
	e := newError(CodeLocked,
		fmt.Sprintf("The login is locked after %d failed attempts until %s; try again after that time.", maxLoginFailures, at),
		fmt.Sprintf("Login jest zablokowany po %d nieudanych próbach do %s; spróbuj ponownie po tym czasie.", maxLoginFailures, at))
	e.RetryAfter = until
	return e
}

func errWrongCode(left int) *Error {
	e := newError(CodeWrongCode,
		fmt.Sprintf("Wrong SMS code. Tries left: %d.", left),
		fmt.Sprintf("Nieprawidłowy kod SMS. Pozostałe próby: %d.", left))
	e.TriesLeft = left
	return e
}

var (
	errCodeFailed = newError(CodeCodeFailed,
		"The SMS code was entered wrongly three times and no longer works; start again to get a new code.",
		"Kod SMS wpisano błędnie trzy razy i przestał działać; zacznij od nowa, aby otrzymać nowy kod.")
	errSMSExpired = newError(CodeExpired,
		"The SMS code has expired; request a new one.",
		"Kod SMS wygasł; poproś o nowy.")
	errMobileExpired = newError(CodeExpired,
		"The request for approval in the mobile app has expired; start again.",
		"Prośba o zatwierdzenie w aplikacji mobilnej wygasła; zacznij od nowa.")
	errUsed = newError(CodeUsed,
		"This confirmation was already used; start again.",
		"To potwierdzenie zostało już wykorzystane; zacznij od nowa.")
	errNotFound = newError(CodeNotFound,
		"No such confirmation request.",
		"Nie ma takiej prośby o potwierdzenie.")
	errNoPhone = newError(CodeNoPhone,
		"No phone number is registered for SMS codes; use the mobile app or contact the bank.",
		"Brak zarejestrowanego numeru telefonu dla kodów SMS; użyj aplikacji mobilnej lub skontaktuj się z bankiem.")
	errBusy = newError(CodeBusy,
		"Too many log-ins at this moment; try again in a few seconds.",
		"Zbyt wiele logowań w tej chwili; spróbuj ponownie za kilka sekund.")
	errCodeFormat = newError(CodeInvalid,
		"Enter the 6-digit code from the SMS.",
		"Wpisz 6-cyfrowy kod z SMS-a.")
)

func errUnknownLogin(login string) *Error {
	return newError(CodeUnknownLogin,
		fmt.Sprintf("No customer has the login %q.", login),
		fmt.Sprintf("Żaden klient nie ma loginu %q.", login))
}

func errNothingPending(login string) *Error {
	return newError(CodeNothingPending,
		fmt.Sprintf("Customer %q has no request waiting for approval in the mobile app.", login),
		fmt.Sprintf("Klient %q nie ma prośby oczekującej na zatwierdzenie w aplikacji mobilnej.", login))
}
