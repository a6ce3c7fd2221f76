package berlingroup

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// HTTP signatures as NextGenPSD2 uses them (the Implementation Guidelines
// §12, after draft-cavage-http-signatures-10): a Digest of the body, and a
// Signature over a list of headers, made with the key of the certificate
// that keyId names (SN=<serial>,CA=<issuer DN>).

// Header names of the signature.
const (
	HeaderDigest               = "Digest"
	HeaderSignature            = "Signature"
	HeaderSignatureCertificate = "TPP-Signature-Certificate"
	HeaderRequestID            = "X-Request-ID"
)

// Algorithms the bank accepts and uses.
const (
	AlgRSASHA256   = "rsa-sha256"
	AlgECDSASHA256 = "ecdsa-sha256"
)

// signatureParams is a parsed Signature header.
type signatureParams struct {
	KeyID     string
	Algorithm string
	Headers   []string // lower case, in signing order
	Signature []byte
}

// parseSignature reads keyId="...",algorithm="...",headers="...",signature="...".
func parseSignature(v string) (signatureParams, error) {
	var p signatureParams
	seen := map[string]bool{}
	for rest := strings.TrimSpace(v); rest != ""; {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return p, fmt.Errorf("expected name=\"value\" at %q", truncate(rest, 30))
		}
		name := strings.TrimSpace(rest[:eq])
		rest = strings.TrimSpace(rest[eq+1:])
		if !strings.HasPrefix(rest, `"`) {
			return p, fmt.Errorf("the value of %s must be in double quotes", name)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return p, fmt.Errorf("the value of %s has no closing quote", name)
		}
		value := rest[1 : 1+end]
		rest = strings.TrimSpace(rest[end+2:])
		if rest != "" {
			if rest[0] != ',' {
				return p, fmt.Errorf("expected a comma after %s", name)
			}
			rest = strings.TrimSpace(rest[1:])
		}
		if seen[name] {
			return p, fmt.Errorf("%s is given twice", name)
		}
		seen[name] = true
		switch name {
		case "keyId":
			p.KeyID = value
		case "algorithm":
			p.Algorithm = strings.ToLower(value)
		case "headers":
			p.Headers = strings.Fields(strings.ToLower(value))
		case "signature":
			sig, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return p, fmt.Errorf("signature is not base64: %v", err)
			}
			p.Signature = sig
		}
	}
	switch {
	case p.KeyID == "":
		return p, errors.New("keyId is missing")
	case p.Algorithm == "":
		return p, errors.New("algorithm is missing")
	case len(p.Headers) == 0:
		return p, errors.New("headers is missing")
	case len(p.Signature) == 0:
		return p, errors.New("signature is missing")
	}
	return p, nil
}

// signingString builds the string a signature covers: "name: value" for
// each header, joined by newlines; (request-target) is the method in
// lower case, a space, and the path with its query.
func signingString(headers []string, h http.Header, method, target string) (string, error) {
	var b strings.Builder
	for i, name := range headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		var value string
		if name == "(request-target)" {
			value = strings.ToLower(method) + " " + target
		} else {
			values := h.Values(name)
			if len(values) == 0 {
				return "", fmt.Errorf("the signed header %s is not in the request", name)
			}
			value = strings.Join(values, ", ")
		}
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(value))
	}
	return b.String(), nil
}

// verifyWith checks sig over msg with cert's key under alg.
func verifyWith(alg string, cert *x509.Certificate, msg string, sig []byte) error {
	sum := sha256.Sum256([]byte(msg))
	switch alg {
	case AlgRSASHA256, "sha256withrsa", "rsa-sha-256":
		k, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an RSA key; the certificate's key is %T", alg, cert.PublicKey)
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig)
	case AlgECDSASHA256, "sha256withecdsa":
		k, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an EC key; the certificate's key is %T", alg, cert.PublicKey)
		}
		if !jws.VerifyASN1(k, sum[:], sig) { // with the key's table on P-256
			return errors.New("the ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("algorithm %q is not supported: use %s or %s", alg, AlgRSASHA256, AlgECDSASHA256)
}

// sign signs msg with key, choosing the algorithm from the key.
func sign(key crypto.Signer, msg string) (alg string, sig []byte, err error) {
	sum := sha256.Sum256([]byte(msg))
	switch key.Public().(type) {
	case *rsa.PublicKey:
		alg = AlgRSASHA256
	case *ecdsa.PublicKey:
		alg = AlgECDSASHA256 // crypto.Signer gives ASN.1 DER
	default:
		return "", nil, fmt.Errorf("unsupported key %T", key.Public())
	}
	sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256)
	return alg, sig, err
}

// Digest is the Digest header's value for body: SHA-256=<base64>.
func Digest(body []byte) string {
	return digestAfter(body, nil)
}

// digestAfter is Digest(body), continuing from the hash kept over prefix
// when body begins with it.
func digestAfter(body []byte, prefix *gateway.DigestPrefix) string {
	sum := prefix.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// checkDigest checks a Digest header (SHA-256 or SHA-512; several
// comma-separated values must all match) against body.
func checkDigest(v string, body []byte) error {
	n := 0
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		alg, val, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q is not ALGORITHM=base64", truncate(part, 40))
		}
		var sum []byte
		switch strings.ToUpper(alg) {
		case "SHA-256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "SHA-512":
			s := sha512.Sum512(body)
			sum = s[:]
		default:
			continue
		}
		got, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return fmt.Errorf("the %s digest is not base64", alg)
		}
		if subtle.ConstantTimeCompare(got, sum) != 1 {
			return fmt.Errorf("the %s digest is not the digest of the body sent", strings.ToUpper(alg))
		}
		n++
	}
	if n == 0 {
		return errors.New("no SHA-256 or SHA-512 digest")
	}
	return nil
}

// KeyID is the keyId of a certificate: SN=<serial in hex>,CA=<issuer DN>.
func KeyID(cert *x509.Certificate) string {
	return "SN=" + strings.ToUpper(cert.SerialNumber.Text(16)) + ",CA=" + cert.Issuer.String()
}

// keyIDMatches tells whether keyId names cert: the serial (hex, or
// decimal when it has no hex letters and the hex reading fails) and the
// issuer DN (as RFC 4514, or URL-encoded).
func keyIDMatches(keyID string, cert *x509.Certificate) bool {
	sn, ca, ok := strings.Cut(keyID, ",CA=")
	if !ok {
		return false
	}
	sn, ok = strings.CutPrefix(strings.TrimSpace(sn), "SN=")
	if !ok {
		return false
	}
	serial, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(sn), "0x"), 16)
	if !ok || serial.Cmp(cert.SerialNumber) != 0 {
		dec, okd := new(big.Int).SetString(sn, 10)
		if !okd || dec.Cmp(cert.SerialNumber) != 0 {
			return false
		}
	}
	if u, err := url.QueryUnescape(ca); err == nil && strings.Contains(ca, "%") {
		ca = u
	}
	return normalDN(ca) == normalDN(cert.Issuer.String())
}

func normalDN(dn string) string {
	parts := strings.Split(dn, ",")
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// parseCertificate reads TPP-Signature-Certificate: base64 DER, with or
// without PEM armour.
func parseCertificate(v string) (*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "-----BEGIN") {
		block, _ := pem.Decode([]byte(strings.ReplaceAll(v, `\n`, "\n")))
		if block == nil {
			return nil, errors.New("the PEM could not be read")
		}
		return x509.ParseCertificate(block.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	return x509.ParseCertificate(der)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SignRequest signs a request as a TPP does: X-Request-ID must be set; it
// sets Digest (of body), TPP-Signature-Certificate and Signature over
// digest, x-request-id and whichever of psu-id, psu-corporate-id,
// tpp-redirect-uri and date the request carries.
func SignRequest(r *http.Request, body []byte, key crypto.Signer, cert *x509.Certificate) error {
	r.Header.Set(HeaderDigest, Digest(body))
	r.Header.Set(HeaderSignatureCertificate, base64.StdEncoding.EncodeToString(cert.Raw))
	headers := []string{"digest", "x-request-id"}
	for _, h := range mustSign {
		if r.Header.Get(h) != "" {
			headers = append(headers, h)
		}
	}
	return SignHeaders(r, headers, key, cert)
}

// SignHeaders sets Signature over the given headers (lower case).
func SignHeaders(r *http.Request, headers []string, key crypto.Signer, cert *x509.Certificate) error {
	msg, err := signingString(headers, r.Header, r.Method, r.URL.RequestURI())
	if err != nil {
		return err
	}
	alg, sig, err := sign(key, msg)
	if err != nil {
		return err
	}
	r.Header.Set(HeaderSignature, fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		KeyID(cert), alg, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// VerifyResponse checks the bank's signature of an answer: Digest of the
// body, and Signature over at least digest, by cert (bank-qsealc.pem).
func VerifyResponse(h http.Header, body []byte, cert *x509.Certificate) error {
	if err := checkDigest(h.Get(HeaderDigest), body); err != nil {
		return err
	}
	p, err := parseSignature(h.Get(HeaderSignature))
	if err != nil {
		return err
	}
	if !keyIDMatches(p.KeyID, cert) {
		return fmt.Errorf("keyId %q does not name the bank's seal", p.KeyID)
	}
	if len(p.Headers) == 0 || p.Headers[0] != "digest" {
		return errors.New("the signature does not cover the digest")
	}
	msg, err := signingString(p.Headers, h, "", "")
	if err != nil {
		return err
	}
	return verifyWith(p.Algorithm, cert, msg, p.Signature)
}
