// Package berlingroup is the Berlin Group NextGenPSD2 1.3.12 dialect,
// served under /berlingroup/v1/...: its wire types, its handlers and its
// side of the gateway's pipeline (HTTP signatures, tppMessages errors). It
// is a translation over the bank's domain services (consent, oauth,
// ledger, access): the rules stay there.
package berlingroup

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// Name is the dialect's name.
const Name gateway.Dialect = "berlingroup"

// MaxDateSkew bounds how far a signed Date may be from the bank's clock.
const MaxDateSkew = 5 * time.Minute

// Wire is Berlin Group's side of the gateway's pipeline.
var Wire gateway.Wire = wire{}

type wire struct{}

func (wire) Name() gateway.Dialect { return Name }

// SignsEmptyAnswers: every answer carries Digest and Signature, a 204 too.
func (wire) SignsEmptyAnswers() bool { return true }

// RequestID is X-Request-ID (the gateway checks that it is a UUID and
// refuses it the second time).
func (wire) RequestID(r *http.Request, _ *gateway.Caller, _ gateway.Operation) (string, *gateway.Refusal) {
	id := r.Header.Get(HeaderRequestID)
	if id == "" {
		return "", gateway.Refuse(http.StatusBadRequest, CodeFormatError,
			"the X-Request-ID header is missing: send a new UUID with every request",
			"brak nagłówka X-Request-ID: wysyłaj nowy UUID z każdym żądaniem")
	}
	return id, nil
}

// mustSign are the headers the signature must cover whenever they are sent.
var mustSign = []string{"psu-id", "psu-corporate-id", "tpp-redirect-uri", "date"}

// VerifyRequest checks Digest, TPP-Signature-Certificate and Signature.
func (wire) VerifyRequest(r *http.Request, c *gateway.Caller, op gateway.Operation, g *gateway.Gateway) (*x509.Certificate, *gateway.Refusal) {
	digest := r.Header.Get(HeaderDigest)
	if digest == "" {
		return nil, gateway.Refuse(http.StatusBadRequest, CodeFormatError,
			"the Digest header is missing: send SHA-256=<base64 of the SHA-256 of the body> (of the empty body when there is none)",
			"brak nagłówka Digest: wyślij SHA-256=<base64 skrótu SHA-256 treści> (pustej treści, gdy jej nie ma)")
	}
	if err := checkDigest(digest, c.Body); err != nil {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the Digest header does not match the body: compute it over the exact bytes you send",
			"nagłówek Digest nie pasuje do treści: oblicz go z dokładnie wysyłanych bajtów", err)
	}
	sigHeader := r.Header.Get(HeaderSignature)
	if sigHeader == "" {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureMissing,
			"the Signature header is missing: sign digest and x-request-id (and psu-id, psu-corporate-id, tpp-redirect-uri, date when sent) with your QSealC",
			"brak nagłówka Signature: podpisz digest i x-request-id (oraz psu-id, psu-corporate-id, tpp-redirect-uri, date, gdy są wysyłane) pieczęcią QSealC")
	}
	certHeader := r.Header.Get(HeaderSignatureCertificate)
	if certHeader == "" {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeCertificateMissing,
			"the TPP-Signature-Certificate header is missing: send your QSealC, base64 DER",
			"brak nagłówka TPP-Signature-Certificate: wyślij certyfikat QSealC (base64 DER)")
	}
	cert, err := parseCertificate(certHeader)
	if err != nil {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeCertificateInvalid,
			"TPP-Signature-Certificate is not a certificate: send your QSealC, base64 DER",
			"TPP-Signature-Certificate nie jest certyfikatem: wyślij certyfikat QSealC (base64 DER)", err)
	}
	params, err := parseSignature(sigHeader)
	if err != nil {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			`the Signature header cannot be read: send keyId="SN=...,CA=...",algorithm="rsa-sha256",headers="digest x-request-id ...",signature="..."`,
			`nie można odczytać nagłówka Signature: wyślij keyId="SN=...,CA=...",algorithm="rsa-sha256",headers="digest x-request-id ...",signature="..."`, err)
	}
	for _, h := range append([]string{"digest", "x-request-id"}, mustSign...) {
		if (h == "digest" || h == "x-request-id" || r.Header.Get(h) != "") && !slices.Contains(params.Headers, h) {
			return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
				"the signature must cover the "+h+" header: add it to headers=\"...\"",
				"podpis musi obejmować nagłówek "+h+": dodaj go do headers=\"...\"",
				"signed: ", strings.Join(params.Headers, " "))
		}
	}
	if !keyIDMatches(params.KeyID, cert) {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature's keyId does not name the certificate in TPP-Signature-Certificate: use SN=<its serial in hex>,CA=<its issuer DN>",
			"keyId podpisu nie wskazuje certyfikatu z TPP-Signature-Certificate: użyj SN=<numer seryjny hex>,CA=<DN wystawcy>",
			"expected ", KeyID(cert))
	}
	if _, ref := g.VerifySeal(r.Context(), []*x509.Certificate{cert}, c.OrgID, op.Service); ref != nil {
		return nil, ref
	}
	if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, gateway.Refuse(http.StatusBadRequest, CodeFormatError, "the Date header is not an HTTP date (RFC 7231)",
				"nagłówek Date nie jest datą HTTP (RFC 7231)")
		}
		if skew := t.Sub(g.Now()); skew > MaxDateSkew || skew < -MaxDateSkew {
			return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
				"the signed Date is more than 5 minutes away from the bank's clock: sign with the current time",
				"podpisana data (Date) różni się od zegara banku o ponad 5 minut: podpisuj z bieżącym czasem",
				"bank's clock ", g.Now().UTC().Format(time.RFC1123))
		}
	}
	msg, err := signingString(params.Headers, r.Header, r.Method, r.URL.RequestURI())
	if err != nil {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature names a header the request does not carry", "podpis wskazuje nagłówek, którego nie ma w żądaniu", err)
	}
	if err := verifyWith(params.Algorithm, cert, msg, params.Signature); err != nil {
		return nil, gateway.Refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature does not verify: sign the headers named in headers=\"...\", each as \"name: value\", joined by newlines, with your QSealC's key",
			"podpis się nie weryfikuje: podpisz nagłówki z headers=\"...\" w postaci \"nazwa: wartość\" rozdzielone znakami nowej linii, kluczem certyfikatu QSealC", err)
	}
	return cert, nil
}

// SignResponse sets X-Request-ID, Digest and Signature (over digest and
// x-request-id) made with the bank's seal.
func (wire) SignResponse(h http.Header, c *gateway.Caller, body []byte, seal *jws.Signer) error {
	if c.RequestID != "" {
		h.Set(HeaderRequestID, c.RequestID)
	}
	h.Set(HeaderDigest, digestAfter(body, c.DigestPrefix))
	headers := []string{"digest"}
	if c.RequestID != "" {
		headers = append(headers, "x-request-id")
	}
	msg, err := signingString(headers, h, "", "")
	if err != nil {
		return err
	}
	alg, sig, err := sign(seal.Key(), msg)
	if err != nil {
		return err
	}
	h.Set(HeaderSignature, fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		KeyID(seal.Certificate()), alg, strings.Join(headers, " "), b64(sig)))
	return nil
}

// TPPMessage is a tppMessages entry.
type TPPMessage struct {
	Category string `json:"category"`
	Code     string `json:"code"`
	Path     string `json:"path,omitempty"`
	Text     string `json:"text,omitempty"`
}

// ErrorBody is the error body of NextGenPSD2.
type ErrorBody struct {
	TPPMessages []TPPMessage `json:"tppMessages"`
}

// ErrorBody maps the refusal to the standard's code and status.
func (wire) ErrorBody(ref *gateway.Refusal, _, lang string, _ time.Time) (int, any) {
	status, code := wireCode(ref)
	text := ref.Message(lang)
	if code == CodeFormatError && ref.Code == gateway.CodeRequestReplayed {
		if lang == "pl" {
			text = "ten X-Request-ID został już użyty: każde żądanie wysyłaj z nowym UUID"
		} else {
			text = "this X-Request-ID was already used: send a new UUID with every request"
		}
	}
	return status, ErrorBody{TPPMessages: []TPPMessage{{Category: "ERROR", Code: code, Text: limitText(text)}}}
}

// limitText keeps text within the standard's 500 characters.
func limitText(s string) string {
	if utf8.RuneCountInString(s) <= 500 {
		return s
	}
	r := []rune(s)
	return string(r[:499]) + "…"
}

// wireCode maps a refusal to the standard's status and code. Codes the
// handlers of this package chose are the standard's already.
func wireCode(ref *gateway.Refusal) (int, string) {
	switch ref.Code {
	case gateway.CodeCertificateMissing:
		return 401, CodeCertificateMissing
	case gateway.CodeCertificateExpired:
		return 401, CodeCertificateExpired
	case gateway.CodeCertificateRevoked:
		return 401, CodeCertificateRevoked
	case gateway.CodeCertificateInvalid, gateway.CodeCertificateSandbox, gateway.CodeCertificateNotPSD2,
		gateway.CodeOrganisationMismatch, gateway.CodeTPPUnknown:
		return 401, CodeCertificateInvalid
	case gateway.CodeSignatureCert:
		switch eidas.Reason(ref.Reason) {
		case eidas.ReasonExpired, eidas.ReasonNotYetValid:
			return 401, CodeCertificateExpired
		case eidas.ReasonRevoked:
			return 401, CodeCertificateRevoked
		}
		return 401, CodeCertificateInvalid
	case gateway.CodeTPPSuspended:
		return 401, CodeCertificateBlocked
	case gateway.CodeRoleNotAllowed, gateway.CodeTPPNotLicensed:
		return 401, CodeRoleInvalid
	case gateway.CodeSignatureMissing:
		return 401, CodeSignatureMissing
	case gateway.CodeSignatureInvalid:
		return 401, CodeSignatureInvalid
	case gateway.CodeRequestIDMissing, gateway.CodeRequestIDMismatch, gateway.CodeRequestReplayed, gateway.CodeBodyTooLarge:
		return 400, CodeFormatError
	case gateway.CodeTokenMissing, gateway.CodeTokenInvalid, gateway.CodeTokenExpired:
		return 401, CodeTokenInvalid
	case gateway.CodeNotImplemented:
		return 405, CodeServiceInvalid
	case gateway.CodeInternal:
		return 500, "INTERNAL_SERVER_ERROR"
	case gateway.CodeUnavailable:
		return 503, "SERVICE_UNAVAILABLE"
	}
	return ref.Status, string(ref.Code)
}
