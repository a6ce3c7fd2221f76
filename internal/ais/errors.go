package ais

import "errors"

// Code is the stable code of an account-information refusal of this
// package's own. Refusals of the consent check are *consent.Error, of API
// access *access.Error, and of the ledger *ledger.Error; transports map
// each code to their wire (no HTTP status is chosen here).
type Code string

// The codes.
const (
	// CodeTokenMissing: the call carries no access token.
	CodeTokenMissing Code = "token_missing"
	// CodeAccountUnknown: the bank keeps no customer account with the
	// number or id given (told only after the consent check passed).
	CodeAccountUnknown Code = "account_unknown"
	// CodeItemUnknown: the account has no item with the id given.
	CodeItemUnknown Code = "item_unknown"
	// CodePageInvalid: the page id is not one the bank gave for this query.
	CodePageInvalid Code = "page_invalid"
	// CodeInvalid: the request is malformed; the message names the field.
	CodeInvalid Code = "invalid"
)

// Error is a refusal with a stable code and a message in English and
// Polish that says what to do.
type Error struct {
	Code      Code
	Message   string
	MessagePL string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// In returns the message in "pl" or (otherwise) English.
func (e *Error) In(lang string) string {
	if lang == "pl" && e.MessagePL != "" {
		return e.MessagePL
	}
	return e.Message
}

// CodeOf returns the code of an *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func invalid(en, pl string) *Error { return &Error{Code: CodeInvalid, Message: en, MessagePL: pl} }

func tokenMissing() *Error {
	return &Error{Code: CodeTokenMissing, Message: "this operation needs an access token", MessagePL: "ta operacja wymaga tokena dostępowego"}
}

func accountUnknown() *Error {
	return &Error{Code: CodeAccountUnknown, Message: "the bank keeps no account with this number",
		MessagePL: "bank nie prowadzi rachunku o tym numerze"}
}

func itemUnknown() *Error {
	return &Error{Code: CodeItemUnknown, Message: "the account has no item with this id",
		MessagePL: "rachunek nie ma pozycji o tym identyfikatorze"}
}

func pageInvalid() *Error {
	return &Error{Code: CodePageInvalid,
		Message:   "the page id is not one this bank gave for this query: start again from the first page, with the same filters",
		MessagePL: "identyfikator strony nie pochodzi od banku dla tego zapytania: zacznij od pierwszej strony, z tymi samymi filtrami"}
}
