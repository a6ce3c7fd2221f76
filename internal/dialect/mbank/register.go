// Package mbank is the mBank v3 dialect: its wire types and handlers.
package mbank

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	// JWKS names the key that sealed the statement when its header does
	// not, as mBank's collection sends it: {"keys":[{"kty":"RSA",
	// "alg":"RS256","x5u":...,"x5t#S256":...}]}.
	JWKS struct {
		Keys []JWK `json:"keys"`
	} `json:"jwks"`
}

// JWK is a key of the software statement's jwks (RFC 7517 §4): the bank
// finds the certificate by x5c, or by x5t#S256 among the organisation's
// registered QSealCs. x5u is kept as the TPP's publication address and not
// fetched.
type JWK struct {
	Kty     string   `json:"kty"`
	Alg     string   `json:"alg"`
	Use     string   `json:"use"`
	Kid     string   `json:"kid"`
	X5U     string   `json:"x5u"`
	X5TS256 string   `json:"x5t#S256"`
	X5C     []string `json:"x5c"`
}

// keyRefs are the certificates the statement's jwks names. The payload is
// read before the signature is checked only to find the key; nothing else
// of it is used until the signature verifies.
func keyRefs(payload []byte) ([]gateway.KeyRef, *gateway.Refusal) {
	var st SoftwareStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError,
			"the software statement's payload is not a JSON object", "treść software statement nie jest obiektem JSON")
	}
	var refs []gateway.KeyRef
	for i, k := range st.JWKS.Keys {
		ref := gateway.KeyRef{X5TS256: k.X5TS256}
		for j, b64 := range k.X5C {
			der, err := base64.StdEncoding.DecodeString(b64)
			var cert *x509.Certificate
			if err == nil {
				cert, err = x509.ParseCertificate(der)
			}
			if err != nil {
				return nil, gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError,
					fmt.Sprintf("jwks.keys[%d].x5c[%d] is not a base64 DER certificate (RFC 7517 §4.7): %v", i, j, err),
					fmt.Sprintf("jwks.keys[%d].x5c[%d] nie jest certyfikatem DER w base64 (RFC 7517 §4.7): %v", i, j, err))
			}
			ref.X5C = append(ref.X5C, cert)
		}
		refs = append(refs, ref)
	}
	return refs, nil
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
		keys, ref := keyRefs(h.Payload)
		if ref != nil {
			return ref
		}
		sealCert, ref := gw.VerifySealed(r.Context(), req.SoftwareStatement, h.Payload, c.OrgID, gateway.Register, keys...)
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
