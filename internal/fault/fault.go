// Package fault is the one error model of the bank's domain: every domain
// package (consent, oauth, payment, access, ais, sca, ledger, tpp) refuses
// with a *fault.Error — a stable code, the message in English and Polish
// that says what to do, the field it is about and, where waiting helps,
// when to try again. No domain package chooses an HTTP status: each
// transport maps codes to its statuses and wire codes in one table (the
// PolishAPI and mBank table in internal/dialect/common, Berlin Group's in
// internal/dialect/berlingroup, the pages' in internal/web), and a test
// checks that every code has an entry in every table.
//
// A code is "domain.name" (e.g. "consent.expired"); Define makes one and
// records it in Codes.
package fault

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Code is a stable error code, "domain.name".
type Code string

// Domain is the package the code belongs to ("consent" of "consent.expired").
func (c Code) Domain() string {
	d, _, _ := strings.Cut(string(c), ".")
	return d
}

// Name is the code without its domain ("expired" of "consent.expired").
func (c Code) Name() string {
	_, n, _ := strings.Cut(string(c), ".")
	return n
}

var (
	mu    sync.Mutex
	codes []Code
)

// Define makes the code domain.name and records it (see Codes). Domain
// packages define their codes once, as package variables.
func Define(domain, name string) Code {
	c := Code(domain + "." + name)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(codes, c) {
		codes = append(codes, c)
	}
	return c
}

// Codes are every code defined so far (by the packages linked in), sorted.
func Codes() []Code {
	mu.Lock()
	defer mu.Unlock()
	out := slices.Clone(codes)
	slices.Sort(out)
	return out
}

// Error is a domain refusal.
type Error struct {
	Code Code
	// Field is the field of the request it is about, when one is
	// (e.g. "recipient.accountNumber"); the message does not repeat it.
	Field     string
	Message   string // English
	MessagePL string // Polish
	// RetryAfter is, where waiting helps, when to try again (a consent's
	// next unattended access, a locked login's release).
	RetryAfter time.Time
	// TriesLeft is, where tries are counted, how many are left.
	TriesLeft int
	// Limit names the limit exceeded and LimitAmount its value in minor
	// units (access's limits).
	Limit       string
	LimitAmount int64
	cause       error
}

// New is an error of code with an English and a Polish format that take
// the same arguments.
func New(code Code, en, pl string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Code: code, Message: en, MessagePL: pl}
	}
	return &Error{Code: code, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// Wrap is e with cause behind it (errors.As finds both).
func (e *Error) Wrap(cause error) *Error {
	e.cause = cause
	return e
}

// Error returns the English message, after the field when there is one.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Unwrap returns the error behind, if any.
func (e *Error) Unwrap() error { return e.cause }

// In returns the message in lang ("pl", or anything else for English).
func (e *Error) In(lang string) string {
	if lang == "pl" && e.MessagePL != "" {
		return e.MessagePL
	}
	return e.Message
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Find returns the first *Error of domain in err's chain, or nil.
func Find(err error, domain string) *Error {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Code.Domain() == domain {
			return e
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if e := Find(x, domain); e != nil {
					return e
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// CodeIn returns the code of the first *Error of domain in err's chain, or
// "".
func CodeIn(err error, domain string) Code {
	if e := Find(err, domain); e != nil {
		return e.Code
	}
	return ""
}
