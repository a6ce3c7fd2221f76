package mbank

import (
	"context"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// The authorization server's operations (auth/authorize, auth/token): a
// translation of the wire to oauth.Server and back.

type mbankAuthorizeRequest struct {
	ResponseType string              `json:"response_type"`
	ClientID     string              `json:"client_id"`
	RedirectURI  string              `json:"redirect_uri"`
	Scope        string              `json:"scope"`
	State        string              `json:"state"`
	ScopeDetails common.ScopeDetails `json:"scope_details"`
}

func (a authAPI) mbankAuthorize(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req mbankAuthorizeRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return common.BadRequest("the body is not an authorize request", "treść nie jest żądaniem autoryzacji", err)
	}
	sd, err := req.ScopeDetails.ToOAuth(Privileges)
	if err != nil {
		return common.BadRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
	}
	sd.ScopeGroupType = strings.ToLower(strings.ReplaceAll(sd.ScopeGroupType, "_", "-"))
	if err := a.CheckConsentedPayments(r.Context(), c.OrgID, "", req.ScopeDetails, PrivilegeName, ConsentedPayment); err != nil {
		return err
	}
	common.WithOrders(ConsentedPayment, sd.Privileges)
	res, err := a.S.Authorize(r.Context(), oauth.AuthorizeRequest{Dialect: "mbank", TPPID: c.OrgID, ClientID: req.ClientID,
		RedirectURI: req.RedirectURI, ResponseType: req.ResponseType, Scope: req.Scope, State: req.State, ScopeDetails: sd,
		QWACThumbprint: c.QWACInfo.FingerprintS256})
	if err != nil {
		return common.OAuthRefusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, map[string]any{"authorizationRedirectUri": res.RedirectURI})
}

func (a authAPI) mbankToken(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	res, err := a.Token(c, Privileges)
	if err != nil {
		return err
	}
	body := map[string]any{
		"access_token":  res.AccessToken,
		"token_type":    res.TokenType,
		"expires_in":    res.ExpiresIn,
		"scope":         res.Scope,
		"scope_details": ScopeDetailsOut(res.Consent, a.accountID(r.Context())),
	}
	if res.RefreshToken != "" {
		body["refresh_token"] = res.RefreshToken
	}
	return gateway.WriteJSON(w, http.StatusOK, body)
}

// accountID gives the bank's id of an account (mBank's accountId), "" when
// unknown.
func (a authAPI) accountID(ctx context.Context) func(nrb string) string {
	return func(nrb string) string {
		if a.Deps.Ledger == nil {
			return ""
		}
		acct, err := a.Deps.Ledger.AccountByNRB(ctx, nrb)
		if err != nil {
			return ""
		}
		return acct.ID
	}
}
