package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"math/big"
)

// minRSABits is the smallest RSA modulus accepted for RS256 and PS256.
const minRSABits = 2048

// VerifyDetached verifies the compact JWS against payload, the message that
// was signed, with the public key of cert, and returns the checked header.
//
// The signing input is BASE64URL(header) + "." + BASE64URL(payload), or
// BASE64URL(header) + "." + payload when the header has b64=false. The
// header is checked as by ParseHeader; then:
//
//   - when the header has x5c, x5c[0] must be cert, and when it has
//     x5t#S256, it must be cert's thumbprint (else ReasonKeyMismatch);
//   - alg must fit the key: RS256 and PS256 need RSA of at least 2048 bits,
//     ES256 needs P-256 and a 64-byte R||S signature (not DER);
//   - the signature must verify (else ReasonBadSignature);
//   - in the attached form h.p.s, which is accepted but reported in
//     Header.Attached, the embedded payload must be exactly payload
//     (else ReasonPayloadMismatch).
//
// The caller chooses cert: x5c[0] after validating its chain, or a
// registered certificate found by x5t#S256 or kid. Neither the chain, the
// validity period nor the key usage of cert is checked here. Every error is
// an *Error.
func VerifyDetached(compact string, payload []byte, cert *x509.Certificate) (*Header, error) {
	s, err := ParseSignature(compact)
	if err != nil {
		return nil, err
	}
	return s.Header, s.Verify(payload, cert)
}

// Signature is a parsed compact JWS: its header checked, ready to verify.
// Parse once when the header is needed to find the certificate.
type Signature struct {
	Header *Header
	p      *parsed
}

// ParseSignature parses a compact JWS as ParseHeader does, keeping what
// Verify needs.
func ParseSignature(compact string) (*Signature, error) {
	p, err := parse(compact)
	if err != nil {
		return nil, err
	}
	return &Signature{Header: p.header, p: p}, nil
}

// Verify checks the signature over payload with cert, as VerifyDetached.
func (s *Signature) Verify(payload []byte, cert *x509.Certificate) error {
	p, h := s.p, s.Header
	if cert == nil {
		return newError(ReasonMissing, `No certificate is known for this JWS signature: send your QSealC in "x5c", or register it and name it by "x5t#S256".`)
	}
	if len(h.X5C) > 0 && !bytes.Equal(h.X5C[0].Raw, cert.Raw) {
		return newError(ReasonKeyMismatch, `The JWS "x5c"[0] is not the certificate %s that the bank checks this signature with.`, describe(cert))
	}
	if h.X5TS256 != "" && h.X5TS256 != ThumbprintS256(cert) {
		return newError(ReasonKeyMismatch, `The JWS "x5t#S256" does not designate the certificate %s that the bank checks this signature with; its thumbprint is %s.`, describe(cert), ThumbprintS256(cert))
	}
	if err := checkKey(h.Alg, cert); err != nil {
		return err
	}

	var digest [sha256.Size]byte
	if h.Attached {
		digest = hashSigningInput(p.headerSeg, []byte(p.payloadSeg), true)
	} else {
		digest = hashSigningInput(p.headerSeg, payload, h.Unencoded())
	}
	if err := verifySignature(h, cert, digest[:], p.sig); err != nil {
		return err
	}
	if h.Attached && !bytes.Equal(h.Payload, payload) {
		return newError(ReasonPayloadMismatch, "The JWS carries a payload (attached form) that differs from the message the bank received, first at byte %d (signed %d bytes, received %d); sign exactly the message you send and send the detached form BASE64URL(header)..BASE64URL(signature).",
			firstDifference(h.Payload, payload), len(h.Payload), len(payload))
	}
	return nil
}

// checkKey checks that alg fits cert's public key.
func checkKey(alg string, cert *x509.Certificate) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if alg == ES256 {
			return newError(ReasonKeyMismatch, "The JWS alg is ES256 but the certificate %s has an RSA key; use RS256 or PS256 with it.", describe(cert))
		}
		if bits := pub.N.BitLen(); bits < minRSABits {
			return newError(ReasonWeakKey, "The certificate %s has a %d-bit RSA key; signatures need at least %d bits.", describe(cert), bits, minRSABits)
		}
	case *ecdsa.PublicKey:
		if alg != ES256 {
			return newError(ReasonKeyMismatch, "The JWS alg is %s but the certificate %s has an EC key; use ES256 with it.", alg, describe(cert))
		}
		if pub.Curve != elliptic.P256() {
			return newError(ReasonKeyMismatch, "The certificate %s has an EC key on %s; ES256 needs P-256.", describe(cert), pub.Curve.Params().Name)
		}
	default:
		return newError(ReasonKeyMismatch, "The certificate %s has a %s key; JWS signatures need RSA (RS256, PS256) or EC P-256 (ES256).", describe(cert), cert.PublicKeyAlgorithm)
	}
	return nil
}

// verifySignature checks sig over digest with cert's key; checkKey has
// already matched h.Alg and the key type.
func verifySignature(h *Header, cert *x509.Certificate, digest, sig []byte) error {
	switch alg := h.Alg; alg {
	case RS256, PS256:
		key := cert.PublicKey.(*rsa.PublicKey)
		if len(sig) != key.Size() {
			return newError(ReasonBadSignature, "The %s signature is %d bytes long; with this %d-bit key it must be %d.", alg, len(sig), key.N.BitLen(), key.Size())
		}
		var err error
		if alg == RS256 {
			err = rsa.VerifyPKCS1v15(key, crypto.SHA256, digest, sig)
		} else {
			err = rsa.VerifyPSS(key, crypto.SHA256, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			return badSignature(h, cert)
		}
	case ES256:
		if len(sig) != 64 {
			return newError(ReasonBadSignature, "The ES256 signature is %d bytes long; JWS uses the 64-byte R||S form (RFC 7518 §3.4), not DER.", len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !verifyES256(cert.PublicKey.(*ecdsa.PublicKey), digest, r, s) {
			return badSignature(h, cert)
		}
	default: // unreachable: parseHeaderJSON allows nothing else
		return newError(ReasonAlgNotAllowed, "The JWS alg %q is not allowed; use %s.", h.Alg, allowedAlgs)
	}
	return nil
}

func badSignature(h *Header, cert *x509.Certificate) error {
	input := `BASE64URL(header) + "." + BASE64URL(message)`
	if h.Unencoded() {
		input = `BASE64URL(header) + "." + message`
	}
	return newError(ReasonBadSignature, "The %s signature does not verify with the key of the certificate %s over %s; sign exactly the message sent, with this certificate's key.", h.Alg, describe(cert), input)
}

// hashSigningInput returns the SHA-256 of headerSeg + "." + payload, with the
// payload base64url-encoded unless raw (RFC 7797 b64=false, or a payload
// segment already in its encoded form). It streams the encoding into the
// hash instead of building the signing input.
func hashSigningInput(headerSeg string, payload []byte, raw bool) [sha256.Size]byte {
	h := sha256.New()
	writeHeaderSeg(h, headerSeg)
	writePayload(h, payload, raw)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// writeHeaderSeg writes headerSeg + "." to h.
func writeHeaderSeg(h hash.Hash, headerSeg string) {
	// Written in chunks through a buffer on the stack: io.WriteString would
	// copy the header (with its certificate chain, kilobytes) to the heap.
	var buf [1024]byte
	for s := headerSeg; s != ""; {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	h.Write([]byte{'.'})
}

// writePayload writes payload to h, base64url-encoded unless raw. Written
// in pieces that are whole 3-byte groups, it continues what an earlier
// call wrote of the same payload (the encoding of whole groups, piece by
// piece, is the encoding of their concatenation).
func writePayload(h hash.Hash, payload []byte, raw bool) {
	if raw {
		h.Write(payload)
		return
	}
	// A base64 stream encoder would be a heap object; a buffer on the stack
	// is not. Only the last chunk may end short of a whole group, and it
	// alone ends the encoding unpadded.
	var buf [1024]byte
	const chunk = len(buf) / 4 * 3
	for len(payload) > 0 {
		n := min(len(payload), chunk)
		base64.RawURLEncoding.Encode(buf[:], payload[:n])
		h.Write(buf[:base64.RawURLEncoding.EncodedLen(n)])
		payload = payload[n:]
	}
}

// describe names a certificate in a message by subject and serial number.
func describe(cert *x509.Certificate) string {
	serial := "?"
	if cert.SerialNumber != nil {
		serial = cert.SerialNumber.Text(16)
	}
	return fmt.Sprintf("%q (serial %s)", cert.Subject.String(), serial)
}

func firstDifference(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
