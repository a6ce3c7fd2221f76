// Package mbank is the mBank v3 dialect: its wire types and handlers.
package mbank

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Registrar registers clients (the bank's TPP registry).
type Registrar interface {
	RegisterDynamic(ctx context.Context, reg tpp.DynamicRegistration) (tpp.Client, error)
}

// RegisterRequest is the body of POST /v3/register/.
type RegisterRequest struct {
	SoftwareStatement string `json:"software_statement"`
}

// SoftwareStatement is the payload of the software statement: a JWT sealed
// with the TPP's QSealC.
type SoftwareStatement struct {
	Issuer       string   `json:"iss"`
	ClientName   string   `json:"client_name"`
	ContactEmail string   `json:"sub_contact_email"`
	RedirectURIs []string `json:"redirect_uris"`
}

// RegisterResponse answers a registration.
type RegisterResponse struct {
	ClientID     string   `json:"client_id"`
	ClientName   string   `json:"client_name"`
	RedirectURIs []string `json:"redirect_uris"`
	TPPID        string   `json:"tpp_id"`
}

// Register is the handler of POST /v3/register/ (dynamic client
// registration): the software statement must be sealed by a QSealC of the
// organisation of the QWAC, and name it as its issuer.
func Register(gw *gateway.Gateway, reg Registrar) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req RegisterRequest
		if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil || req.SoftwareStatement == "" {
			return gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError,
				`the body must be {"software_statement": "<JWS sealed with your QSealC>"}`,
				`treść musi mieć postać {"software_statement": "<JWS opatrzony pieczęcią QSealC>"}`)
		}
		h, err := jws.ParseHeader(req.SoftwareStatement)
		if err != nil || !h.Attached {
			return gateway.NewRefusal(http.StatusBadRequest, gateway.CodeSignatureInvalid,
				"software_statement must be a compact JWS with its payload attached (header.payload.signature)",
				"software_statement musi być zwartym JWS z dołączoną treścią (nagłówek.treść.podpis)")
		}
		sealCert, ref := gw.VerifySealed(r.Context(), req.SoftwareStatement, h.Payload, c.OrgID, gateway.Register)
		if ref != nil {
			return ref
		}
		var st SoftwareStatement
		if err := json.Unmarshal(h.Payload, &st); err != nil {
			return gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError,
				"the software statement's payload is not a JSON object", "treść software statement nie jest obiektem JSON")
		}
		if !strings.EqualFold(st.Issuer, c.OrgID) {
			return gateway.NewRefusal(http.StatusForbidden, gateway.CodeOrganisationMismatch,
				"the software statement's iss must be your organizationIdentifier ("+c.OrgID+")",
				"pole iss software statement musi być Twoim organizationIdentifier ("+c.OrgID+")")
		}
		client, err := reg.RegisterDynamic(r.Context(), tpp.DynamicRegistration{
			QWAC: c.QWAC, QSealC: sealCert, ClientName: st.ClientName, ContactEmail: st.ContactEmail, RedirectURIs: st.RedirectURIs,
		})
		if err != nil {
			code := tpp.CodeOf(err)
			if code == "" {
				return err
			}
			status, wire := http.StatusBadRequest, gateway.CodeFormatError
			switch code {
			case tpp.CodeNotLicensed:
				status, wire = http.StatusForbidden, gateway.CodeTPPNotLicensed
			case tpp.CodeSuspended:
				status, wire = http.StatusForbidden, gateway.CodeTPPSuspended
			case tpp.CodeSandboxCertificate, tpp.CodeCertificate:
				status, wire = http.StatusUnauthorized, gateway.CodeCertificateInvalid
			}
			return &gateway.Refusal{Status: status, Code: wire, EN: tpp.Message(err, "en"), PL: tpp.Message(err, "pl")}
		}
		return gateway.WriteJSON(w, http.StatusCreated, RegisterResponse{
			ClientID: client.ClientID, ClientName: client.Name, RedirectURIs: client.RedirectURIs, TPPID: client.TPPID,
		})
	}
}
