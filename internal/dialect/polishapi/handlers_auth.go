package polishapi

import (
	"net/http"
	"strconv"

	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// The authorization server's operations (authorize, authorizeExt, token):
// a translation of the wire to oauth.Server and back.

type polishAuthorizeRequest struct {
	RequestHeader struct {
		RequestID          string `json:"requestId"`
		PSUIdentifierValue string `json:"psuIdentifierValue"`
		CallbackURL        string `json:"callbackURL"`
		APIKey             string `json:"apiKey"`
	} `json:"requestHeader"`
	ResponseType string              `json:"response_type"`
	ClientID     string              `json:"client_id"`
	RedirectURI  string              `json:"redirect_uri"`
	Scope        string              `json:"scope"`
	ScopeDetails common.ScopeDetails `json:"scope_details"`
	State        string              `json:"state"`
	EatCode      string              `json:"eatCode"`
}

func (a authAPI) polishAuthorize(decoupled bool) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req polishAuthorizeRequest
		if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
			return common.BadRequest("the body is not an AuthorizeRequest", "treść nie jest żądaniem AuthorizeRequest", err)
		}
		sd, err := req.ScopeDetails.ToOAuth(privileges)
		if err != nil {
			return common.BadRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
		}
		ar := oauth.AuthorizeRequest{Dialect: "polishapi", TPPID: c.OrgID, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
			ResponseType: req.ResponseType, Scope: req.Scope, State: req.State, ScopeDetails: sd,
			QWACThumbprint: c.QWACInfo.FingerprintS256}
		if decoupled {
			if req.EatCode == "" {
				return common.BadRequest("authorizeExt needs eatCode: the one-time code of the customer's authorization tool",
					"authorizeExt wymaga eatCode: jednorazowego kodu z narzędzia autoryzacyjnego klienta", nil)
			}
			ar.Decoupled, ar.PSULogin = true, req.RequestHeader.PSUIdentifierValue
			ar.CallbackURL, ar.APIKey = req.RequestHeader.CallbackURL, req.RequestHeader.APIKey
			if ar.RedirectURI == "" {
				ar.RedirectURI = ar.CallbackURL
			}
		}
		customerID := ""
		if decoupled && a.Deps.Ledger != nil && ar.PSULogin != "" {
			if cust, err := a.Deps.Ledger.CustomerByLogin(r.Context(), ar.PSULogin); err == nil {
				customerID = cust.ID
			}
		}
		if err := a.CheckConsentedPayments(r.Context(), c.OrgID, customerID, req.ScopeDetails, privilegeName, ConsentedPayment); err != nil {
			return err
		}
		common.WithOrders(ConsentedPayment, ar.ScopeDetails.Privileges)
		res, err := a.S.Authorize(r.Context(), ar)
		if err != nil {
			return common.OAuthRefusal(err)
		}
		if decoupled {
			if a.Deps.OnDecoupled != nil {
				if err := a.Deps.OnDecoupled(r.Context(), res, ar.PSULogin); err != nil {
					return common.BadRequest("the customer's mobile app cannot be asked: "+err.Error(),
						"nie można wysłać prośby do aplikacji mobilnej klienta", nil)
				}
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return gateway.WriteJSON(w, http.StatusOK, map[string]any{
			"responseHeader":   common.ResponseHeader(c),
			"aspspRedirectUri": res.RedirectURI,
		})
	}
}

func (a authAPI) polishToken(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	res, err := a.Token(c, privileges)
	if err != nil {
		return err
	}
	body := map[string]any{
		"responseHeader": common.ResponseHeader(c),
		"access_token":   res.AccessToken,
		"token_type":     res.TokenType,
		"expires_in":     strconv.Itoa(res.ExpiresIn),
		"scope":          res.Scope,
		"scope_details":  a.ScopeDetailsOut(r.Context(), res.Consent, false),
	}
	if res.RefreshToken != "" {
		body["refresh_token"] = res.RefreshToken
	}
	return gateway.WriteJSON(w, http.StatusOK, body)
}
