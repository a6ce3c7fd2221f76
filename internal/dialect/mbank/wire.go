package mbank

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// The dialect's headers: a request id, the caller's organisation and the
// JWS over the uri, the signed headers and the body (jws.MBankPayload);
// answers carry JWS-Signature over the body.
const (
	HeaderRequestID = gateway.HeaderMBankRequestID
	HeaderTPPID     = gateway.HeaderMBankTPPID
	HeaderSignature = gateway.HeaderMBankSignature
)

// Wire is mBank v3's side of the gateway's pipeline.
var Wire gateway.Wire = wire{}

type wire struct{}

func (wire) Name() gateway.Dialect { return gateway.MBank }

// RequestID: TPP-Request-ID, and TPP-ID naming the QWAC's organisation
// (the registration call names the TPP in its software statement).
func (wire) RequestID(r *http.Request, c *gateway.Caller, op gateway.Operation) (string, *gateway.Refusal) {
	id := r.Header.Get(HeaderRequestID)
	if id == "" {
		return "", gateway.Refuse(http.StatusBadRequest, gateway.CodeRequestIDMissing,
			"the TPP-Request-ID header is missing: send a new UUID with every request",
			"brak nagłówka TPP-Request-ID: wysyłaj nowy UUID z każdym żądaniem")
	}
	switch t := r.Header.Get(HeaderTPPID); {
	case t == "" && op.Service == gateway.Register:
	case t == "":
		return id, gateway.Refuse(http.StatusBadRequest, gateway.CodeFormatError, "the TPP-ID header is missing: send your organizationIdentifier",
			"brak nagłówka TPP-ID: wyślij swój organizationIdentifier")
	case !gateway.SameOrg(t, c.OrgID):
		return id, gateway.Refuse(http.StatusForbidden, gateway.CodeOrganisationMismatch,
			"the TPP-ID header names another organisation than your QWAC", "nagłówek TPP-ID wskazuje inną organizację niż Twój certyfikat QWAC",
			fmt.Sprintf("TPP-ID %q, QWAC %q", t, c.OrgID))
	}
	return id, nil
}

// VerifyRequest: JWS-Signature is a detached JWS of jws.MBankPayload.
func (wire) VerifyRequest(r *http.Request, c *gateway.Caller, op gateway.Operation, g *gateway.Gateway) (*x509.Certificate, *gateway.Refusal) {
	compact := r.Header.Get(HeaderSignature)
	if compact == "" {
		return nil, gateway.Refuse(http.StatusUnauthorized, gateway.CodeSignatureMissing,
			"the "+HeaderSignature+" header is missing: sign every request with your QSealC (detached JWS)",
			"brak nagłówka "+HeaderSignature+": podpisuj każde żądanie pieczęcią QSealC (odłączony JWS)")
	}
	return g.VerifySealed(r.Context(), compact, jws.MBankPayload(jws.MBankRequestURI(r), r.Header, c.Body), c.OrgID, op.Service)
}

// Error is mBank's error body.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (wire) ErrorBody(ref *gateway.Refusal, _, lang string, _ time.Time) (int, any) {
	return ref.Status, Error{Code: string(ref.Code), Message: mbankWords.Replace(ref.Message(lang))}
}

// mbankWords are PolishAPI's names, in the domain's messages, that mBank
// spells otherwise: the TPP's key of a payment is tppPaymentId (the
// TPP-Payment-ID header, transfers[].tppPaymentId of a bundle).
var mbankWords = strings.NewReplacer("tppTransactionId", "tppPaymentId")

func (wire) SignResponse(h http.Header, c *gateway.Caller, body []byte, seal *jws.Signer) error {
	// A kept page's answer begins with what its seal's hash was kept over
	// (c.SealPrefix, set by the handler); any other is hashed in full.
	var prefix *jws.Prefix
	if c != nil {
		prefix = c.SealPrefix
	}
	sig, err := seal.SignDetachedAfter(body, prefix)
	if err != nil {
		return err
	}
	h.Set(HeaderSignature, sig)
	return nil
}
