package ais

import "github.com/psd2bank/psd2bank/internal/fault"

// Code is the stable code of an account-information refusal of this
// package's own, a fault.Code of the "ais" domain. Refusals of the consent
// check are consent's, of API access access's, and of the ledger the
// ledger's; transports map each code to their wire (no HTTP status is
// chosen here).
type Code = fault.Code

// The codes.
var (
	// CodeTokenMissing: the call carries no access token.
	CodeTokenMissing = fault.Define("ais", "token_missing")
	// CodeAccountUnknown: the bank keeps no customer account with the
	// number or id given (told only after the consent check passed).
	CodeAccountUnknown = fault.Define("ais", "account_unknown")
	// CodeItemUnknown: the account has no item with the id given.
	CodeItemUnknown = fault.Define("ais", "item_unknown")
	// CodePageInvalid: the page id is not one the bank gave for this query.
	CodePageInvalid = fault.Define("ais", "page_invalid")
	// CodeInvalid: the request is malformed; the message names the field.
	CodeInvalid = fault.Define("ais", "invalid")
)

// Error is a refusal (the bank's one error type, fault.Error) with a
// stable code and a message in English and Polish that says what to do.
type Error = fault.Error

// CodeOf returns the code of an AIS *Error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "ais") }

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
