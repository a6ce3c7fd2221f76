package jws

import (
	"errors"
	"fmt"
)

// Reason is a stable, machine-readable code for why a signature was refused.
// Gateways map it to each dialect's wire error code and write it to the
// audit log.
type Reason string

// The reasons a JWS signature can be refused.
const (
	// ReasonMissing: there is no signature, or no certificate to check it
	// with.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: the compact serialization, the base64url, the JOSE
	// header JSON (not an object, duplicate keys, wrong types) or the b64/crit
	// pair is not well formed.
	ReasonMalformed Reason = "malformed"
	// ReasonAlgNotAllowed: alg is not one of RS256, PS256, ES256.
	ReasonAlgNotAllowed Reason = "alg_not_allowed"
	// ReasonUnknownCrit: crit names an extension other than b64.
	ReasonUnknownCrit Reason = "unknown_crit"
	// ReasonHeaderNotAllowed: the header carries a key or a key URL (jwk,
	// jku); keys are taken only from certificates.
	ReasonHeaderNotAllowed Reason = "header_not_allowed"
	// ReasonBadCertificate: an x5c entry is not standard base64 of a DER
	// X.509 certificate.
	ReasonBadCertificate Reason = "bad_certificate"
	// ReasonThumbprintMismatch: x5t#S256 is not the thumbprint of x5c[0].
	ReasonThumbprintMismatch Reason = "thumbprint_mismatch"
	// ReasonKeyMismatch: the header designates another certificate than the
	// one the signature is checked with, or alg does not fit the key type.
	ReasonKeyMismatch Reason = "key_mismatch"
	// ReasonWeakKey: the certificate's RSA key is shorter than 2048 bits.
	ReasonWeakKey Reason = "weak_key"
	// ReasonBadSignature: the signature does not verify over the message.
	ReasonBadSignature Reason = "bad_signature"
	// ReasonPayloadMismatch: the JWS carries its payload (attached form),
	// the signature over it is valid, but it is not the message the bank
	// received.
	ReasonPayloadMismatch Reason = "payload_mismatch"
)

// Error is the error returned for a refused signature. Detail is a complete
// sentence a TPP developer can act on.
type Error struct {
	Reason Reason
	Detail string
	// Err is the underlying cause, if any (for example the x509 parse
	// error); it is available through errors.Unwrap.
	Err error
}

// Error returns the human-readable sentence.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Err != nil {
		return fmt.Sprintf("JWS signature refused (%s): %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("JWS signature refused (%s)", e.Reason)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Reason, so that
// errors.Is(err, &jws.Error{Reason: jws.ReasonBadSignature}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

// ReasonOf returns the Reason of the first *Error in err's chain, or "" when
// there is none (including when err is nil).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func newError(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

func wrapError(r Reason, cause error, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...), Err: cause}
}
