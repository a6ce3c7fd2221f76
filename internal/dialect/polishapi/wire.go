package polishapi

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// The dialect's headers: the request id (equal to requestHeader.requestId)
// and the detached JWS of the body, on requests and responses.
const (
	HeaderRequestID = gateway.HeaderPolishAPIRequestID
	HeaderSignature = gateway.HeaderPolishAPISignature
)

// Wire is PolishAPI's side of the gateway's pipeline.
var Wire gateway.Wire = wire{}

type wire struct{}

func (wire) Name() gateway.Dialect { return gateway.PolishAPI }

// RequestID: X-REQUEST-ID must equal the body's requestHeader.requestId;
// requestHeader.tppId, when given, must be the QWAC's organisation.
func (wire) RequestID(r *http.Request, c *gateway.Caller, _ gateway.Operation) (string, *gateway.Refusal) {
	headerID := r.Header.Get(HeaderRequestID)
	var body struct {
		RequestHeader *bodyHeader `json:"requestHeader"`
	}
	if err := json.Unmarshal(c.Body, &body); err != nil {
		return headerID, gateway.Refuse(http.StatusBadRequest, gateway.CodeFormatError, "the request body is not valid JSON", "treść żądania nie jest poprawnym JSON-em", err)
	}
	if body.RequestHeader != nil {
		c.BodyHeader = body.RequestHeader
	}
	if body.RequestHeader == nil || body.RequestHeader.RequestID == "" {
		return headerID, gateway.Refuse(http.StatusBadRequest, gateway.CodeRequestIDMissing,
			"the body has no requestHeader.requestId", "w treści brak requestHeader.requestId")
	}
	if headerID == "" {
		return body.RequestHeader.RequestID, gateway.Refuse(http.StatusBadRequest, gateway.CodeRequestIDMissing,
			"the X-REQUEST-ID header is missing: send the same UUID as requestHeader.requestId",
			"brak nagłówka X-REQUEST-ID: wyślij ten sam UUID co requestHeader.requestId")
	}
	if headerID != body.RequestHeader.RequestID {
		return headerID, gateway.Refuse(http.StatusBadRequest, gateway.CodeRequestIDMismatch,
			"X-REQUEST-ID must equal requestHeader.requestId", "X-REQUEST-ID musi być równy requestHeader.requestId",
			fmt.Sprintf("header %q, body %q", headerID, body.RequestHeader.RequestID))
	}
	if t := body.RequestHeader.TPPID; t != "" && !gateway.SameOrg(t, c.OrgID) {
		return headerID, gateway.Refuse(http.StatusForbidden, gateway.CodeOrganisationMismatch,
			"requestHeader.tppId names another organisation than your QWAC", "requestHeader.tppId wskazuje inną organizację niż Twój certyfikat QWAC",
			fmt.Sprintf("tppId %q, QWAC %q", t, c.OrgID))
	}
	return headerID, nil
}

// bodyHeader is what the pipeline reads of a body's requestHeader: read
// once, by RequestID, and kept in the Caller for CheckToken.
type bodyHeader struct {
	RequestID string `json:"requestId"`
	TPPID     string `json:"tppId"`
	Token     string `json:"token"`
}

// VerifyRequest: X-JWS-SIGNATURE is a detached JWS of the body.
func (wire) VerifyRequest(r *http.Request, c *gateway.Caller, op gateway.Operation, g *gateway.Gateway) (*x509.Certificate, *gateway.Refusal) {
	return verifyJWS(r, c, op, g, HeaderSignature, c.Body)
}

// CheckToken: requestHeader.token must be the Authorization header's token.
func (wire) CheckToken(c *gateway.Caller, token string) *gateway.Refusal {
	h, ok := c.BodyHeader.(*bodyHeader)
	if !ok {
		var body struct {
			RequestHeader bodyHeader `json:"requestHeader"`
		}
		json.Unmarshal(c.Body, &body)
		h = &body.RequestHeader
	}
	if h.Token != token {
		return gateway.Refuse(http.StatusUnauthorized, gateway.CodeTokenInvalid,
			"requestHeader.token must be the same access token as in the Authorization header",
			"requestHeader.token musi być tym samym tokenem co w nagłówku Authorization")
	}
	return nil
}

// Error is PolishAPI's error body.
type Error struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	Code           string         `json:"code"`
	Message        string         `json:"message"`
}

func (wire) ErrorBody(ref *gateway.Refusal, requestID, lang string, now time.Time) (int, any) {
	return ref.Status, Error{
		ResponseHeader: ResponseHeader{RequestID: requestID, SendDate: gateway.FormatDateTime(now), IsCallback: false},
		Code:           string(ref.Code), Message: ref.Message(lang),
	}
}

func (wire) SignResponse(h http.Header, c *gateway.Caller, body []byte, seal *jws.Signer) error {
	sig, err := seal.SignDetachedAfter(body, c.SealPrefix)
	if err != nil {
		return err
	}
	h.Set(HeaderSignature, sig)
	return nil
}

// verifyJWS checks a detached JWS in header over payload.
func verifyJWS(r *http.Request, c *gateway.Caller, op gateway.Operation, g *gateway.Gateway, header string, payload []byte) (*x509.Certificate, *gateway.Refusal) {
	compact := r.Header.Get(header)
	if compact == "" {
		return nil, gateway.Refuse(http.StatusUnauthorized, gateway.CodeSignatureMissing,
			"the "+header+" header is missing: sign every request with your QSealC (detached JWS)",
			"brak nagłówka "+header+": podpisuj każde żądanie pieczęcią QSealC (odłączony JWS)")
	}
	return g.VerifySealed(r.Context(), compact, payload, c.OrgID, op.Service)
}
