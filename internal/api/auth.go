package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/pis"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// The authorization server's operations in both dialects: a translation
// of the wire to oauth.Server and back.

func authHandlers(d Deps) map[string]gateway.Handler {
	if d.OAuth == nil {
		return nil
	}
	a := authAPI{s: d.OAuth, deps: d}
	if d.Payments != nil && d.Consents != nil && d.Ledger != nil {
		a.pis = pis.New(pis.Config{Consents: d.Consents, Payments: d.Payments, Ledger: d.Ledger, Access: d.Access})
	}
	return map[string]gateway.Handler{
		"polishapi.authorize":    a.polishAuthorize(false),
		"polishapi.authorizeExt": a.polishAuthorize(true),
		"polishapi.token":        a.polishToken,
		"mbank.authorize":        a.mbankAuthorize,
		"mbank.token":            a.mbankToken,
	}
}

type authAPI struct {
	s    *oauth.Server
	deps Deps
	pis  *pis.Service // checks the payments of pis consents; nil: none
}

// Authenticator adapts the authorization server to the gateway's token step.
// With TPPs set (the gateway's Directory is the bank's TPP registry, as in
// sandbox and serve) it also reads the TPP's status with the token, in one
// statement (gateway.CallerLookup).
type Authenticator struct {
	S    *oauth.Server
	TPPs bool
}

// StatusAndToken reads the TPP's registration and authenticates the access
// token in one statement, when TPPs is set.
func (a Authenticator) StatusAndToken(ctx context.Context, orgID, token, thumbprint string) (gateway.TPPStatus, gateway.Grant, error, bool, error) {
	if !a.TPPs {
		return gateway.TPPStatus{}, gateway.Grant{}, nil, false, nil
	}
	st, t, tokenErr, err := a.S.AuthenticateWithTPP(ctx, token, orgID, thumbprint)
	if err != nil {
		return gateway.TPPStatus{}, gateway.Grant{}, nil, false, err
	}
	out := gateway.TPPStatus{Known: st.Known, Active: st.Active, Environment: st.Environment, Reason: st.Reason}
	if tokenErr != nil {
		return out, gateway.Grant{}, oauthRefusal(tokenErr), true, nil
	}
	return out, gateway.Grant{ConsentID: t.ConsentID, CustomerID: t.CustomerID, ClientID: t.ClientID, Scope: string(t.Scope)}, nil, true, nil
}

// Authenticate resolves an access token for the gateway.
func (a Authenticator) Authenticate(ctx context.Context, token, tppID, thumbprint string) (gateway.Grant, error) {
	t, err := a.S.Authenticate(ctx, token, tppID, thumbprint)
	if err != nil {
		return gateway.Grant{}, oauthRefusal(err)
	}
	return gateway.Grant{ConsentID: t.ConsentID, CustomerID: t.CustomerID, ClientID: t.ClientID, Scope: string(t.Scope)}, nil
}

// oauthRefusal renders an authorization server error in the gateway's terms:
// the OAuth error code is the wire code.
func oauthRefusal(err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return err
	}
	status := oe.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return &gateway.Refusal{Status: status, Code: gateway.Code(oe.Code), EN: oe.In("en"), PL: oe.In("pl")}
}

func badRequest(en, pl string, detail error) error {
	r := gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError, en, pl)
	if detail != nil {
		r.Detail = detail.Error()
	}
	return r
}

// --- PolishAPI ---

type polishScopeDetails struct {
	PrivilegeList    []map[string]json.RawMessage `json:"privilegeList"`
	ScopeGroupType   string                       `json:"scopeGroupType"`
	ConsentID        string                       `json:"consentId"`
	ScopeTimeLimit   string                       `json:"scopeTimeLimit"`
	ThrottlingPolicy string                       `json:"throttlingPolicy"`
}

type polishAuthorizeRequest struct {
	RequestHeader struct {
		RequestID          string `json:"requestId"`
		PSUIdentifierValue string `json:"psuIdentifierValue"`
		CallbackURL        string `json:"callbackURL"`
		APIKey             string `json:"apiKey"`
	} `json:"requestHeader"`
	ResponseType string             `json:"response_type"`
	ClientID     string             `json:"client_id"`
	RedirectURI  string             `json:"redirect_uri"`
	Scope        string             `json:"scope"`
	ScopeDetails polishScopeDetails `json:"scope_details"`
	State        string             `json:"state"`
	EatCode      string             `json:"eatCode"`
}

// parseTime reads PolishAPI's date-time (YYYY-MM-DDThh:mm:ss[.mmm] with or
// without a zone; without one it is Polish time) and RFC 3339.
func parseTime(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, polish.Warsaw); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a date-time such as 2026-12-31T23:59:59.000Z", field, s)
}

func (sd polishScopeDetails) toOAuth(dialect string) (oauth.ScopeDetails, error) {
	out := oauth.ScopeDetails{ConsentID: sd.ConsentID, ScopeGroupType: sd.ScopeGroupType, ThrottlingPolicy: sd.ThrottlingPolicy}
	if sd.ScopeTimeLimit != "" {
		t, err := parseTime("scope_details.scopeTimeLimit", sd.ScopeTimeLimit)
		if err != nil {
			return out, err
		}
		out.ScopeTimeLimit = t
	}
	for i, item := range sd.PrivilegeList {
		var account string
		if raw, ok := item["accountNumber"]; ok {
			if err := json.Unmarshal(raw, &account); err != nil {
				return out, fmt.Errorf("scope_details.privilegeList[%d].accountNumber must be a string", i)
			}
		}
		names := make([]string, 0, len(item))
		for k := range item {
			if k != "accountNumber" && k != "accountId" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if dialect == "mbank" {
				ps, err := consent.FromMBank(account, name, item[name])
				if err != nil {
					return out, fmt.Errorf("scope_details.privilegeList[%d]: %w", i, err)
				}
				out.Privileges = append(out.Privileges, ps...)
				continue
			}
			p, err := consent.FromPolishAPI(account, name, item[name])
			if err != nil {
				return out, fmt.Errorf("scope_details.privilegeList[%d]: %w", i, err)
			}
			out.Privileges = append(out.Privileges, p)
		}
	}
	return out, nil
}

func (a authAPI) polishAuthorize(decoupled bool) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req polishAuthorizeRequest
		if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
			return badRequest("the body is not an AuthorizeRequest", "treść nie jest żądaniem AuthorizeRequest", err)
		}
		sd, err := req.ScopeDetails.toOAuth("polishapi")
		if err != nil {
			return badRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
		}
		ar := oauth.AuthorizeRequest{Dialect: "polishapi", TPPID: c.OrgID, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
			ResponseType: req.ResponseType, Scope: req.Scope, State: req.State, ScopeDetails: sd,
			QWACThumbprint: c.QWACInfo.FingerprintS256}
		if decoupled {
			if req.EatCode == "" {
				return badRequest("authorizeExt needs eatCode: the one-time code of the customer's authorization tool",
					"authorizeExt wymaga eatCode: jednorazowego kodu z narzędzia autoryzacyjnego klienta", nil)
			}
			ar.Decoupled, ar.PSULogin = true, req.RequestHeader.PSUIdentifierValue
			ar.CallbackURL, ar.APIKey = req.RequestHeader.CallbackURL, req.RequestHeader.APIKey
			if ar.RedirectURI == "" {
				ar.RedirectURI = ar.CallbackURL
			}
		}
		customerID := ""
		if decoupled && a.deps.Ledger != nil && ar.PSULogin != "" {
			if cust, err := a.deps.Ledger.CustomerByLogin(r.Context(), ar.PSULogin); err == nil {
				customerID = cust.ID
			}
		}
		if err := a.checkConsentedPayments(r.Context(), consent.DialectPolishAPI, c.OrgID, customerID, req.ScopeDetails); err != nil {
			return err
		}
		withOrders(consent.DialectPolishAPI, ar.ScopeDetails.Privileges)
		res, err := a.s.Authorize(r.Context(), ar)
		if err != nil {
			return oauthRefusal(err)
		}
		if decoupled {
			if a.deps.OnDecoupled != nil {
				if err := a.deps.OnDecoupled(r.Context(), res, ar.PSULogin); err != nil {
					return badRequest("the customer's mobile app cannot be asked: "+err.Error(),
						"nie można wysłać prośby do aplikacji mobilnej klienta", nil)
				}
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return gateway.WriteJSON(w, http.StatusOK, map[string]any{
			"responseHeader":   responseHeader(c),
			"aspspRedirectUri": res.RedirectURI,
		})
	}
}

func responseHeader(c *gateway.Caller) gateway.ResponseHeader {
	return gateway.ResponseHeader{RequestID: c.RequestID, SendDate: gateway.FormatDateTime(time.Now()), IsCallback: false}
}

type polishTokenRequest struct {
	GrantType     string              `json:"grant_type"`
	Code          string              `json:"Code"`
	LowerCode     string              `json:"code"`
	RedirectURI   string              `json:"redirect_uri"`
	ClientID      string              `json:"client_id"`
	RefreshToken  string              `json:"refresh_token"`
	ExchangeToken string              `json:"exchange_token"`
	Scope         string              `json:"scope"`
	ScopeDetails  *polishScopeDetails `json:"scope_details"`
	IsUserSession bool                `json:"is_user_session"`
}

func (a authAPI) token(c *gateway.Caller, dialect string) (oauth.TokenResponse, error) {
	var req polishTokenRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return oauth.TokenResponse{}, badRequest("the body is not a TokenRequest", "treść nie jest żądaniem TokenRequest", err)
	}
	code := req.Code
	if code == "" {
		code = req.LowerCode // mBank and many PolishAPI banks spell it lower-case
	}
	tr := oauth.TokenRequest{TPPID: c.OrgID, QWACThumbprint: c.QWACInfo.FingerprintS256, GrantType: req.GrantType,
		ClientID: req.ClientID, Code: code, RedirectURI: req.RedirectURI, RefreshToken: req.RefreshToken,
		ExchangeToken: req.ExchangeToken, Scope: req.Scope, IsUserSession: req.IsUserSession}
	if req.ScopeDetails != nil {
		sd, err := req.ScopeDetails.toOAuth(dialect)
		if err != nil {
			return oauth.TokenResponse{}, badRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
		}
		tr.ScopeDetails = &sd
	}
	res, err := a.s.Token(context.Background(), tr)
	if err != nil {
		return oauth.TokenResponse{}, oauthRefusal(err)
	}
	return res, nil
}

func (a authAPI) polishToken(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	res, err := a.token(c, "polishapi")
	if err != nil {
		return err
	}
	body := map[string]any{
		"responseHeader": responseHeader(c),
		"access_token":   res.AccessToken,
		"token_type":     res.TokenType,
		"expires_in":     strconv.Itoa(res.ExpiresIn),
		"scope":          res.Scope,
		"scope_details":  a.scopeDetailsOut(r.Context(), res.Consent, "polishapi"),
	}
	if res.RefreshToken != "" {
		body["refresh_token"] = res.RefreshToken
	}
	return gateway.WriteJSON(w, http.StatusOK, body)
}

// scopeDetailsOut renders the consent the token stands for: one privilege
// list entry per account (mBank adds the bank's accountId, used in its paths).
func (a authAPI) scopeDetailsOut(ctx context.Context, c consent.Consent, dialect string) map[string]any {
	type entry = map[string]any
	byAccount := map[string]entry{}
	var order []string
	for _, p := range c.Privileges {
		e, ok := byAccount[p.AccountNumber]
		if !ok {
			e = entry{}
			if p.AccountNumber != "" {
				e["accountNumber"] = p.AccountNumber
				if dialect == "mbank" && a.deps.Ledger != nil {
					if acct, err := a.deps.Ledger.AccountByNRB(ctx, p.AccountNumber); err == nil {
						e["accountId"] = acct.ID
					}
				}
			}
			byAccount[p.AccountNumber] = e
			order = append(order, p.AccountNumber)
		}
		body := map[string]any{"scopeUsageLimit": p.ScopeUsageLimit}
		if p.MaxAllowedHistoryLong > 0 {
			body["maxAllowedHistoryLong"] = p.MaxAllowedHistoryLong
		}
		e[p.Name] = body
	}
	list := make([]entry, 0, len(order))
	for _, k := range order {
		list = append(list, byAccount[k])
	}
	return map[string]any{
		"privilegeList":    list,
		"consentId":        c.TPPConsentID,
		"scopeTimeLimit":   gateway.FormatDateTime(c.ScopeTimeLimit),
		"throttlingPolicy": nonEmpty(c.ThrottlingPolicy, "psd2Regulatory"),
	}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// --- mBank ---

type mbankAuthorizeRequest struct {
	ResponseType string             `json:"response_type"`
	ClientID     string             `json:"client_id"`
	RedirectURI  string             `json:"redirect_uri"`
	Scope        string             `json:"scope"`
	State        string             `json:"state"`
	ScopeDetails polishScopeDetails `json:"scope_details"`
}

func (a authAPI) mbankAuthorize(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req mbankAuthorizeRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return badRequest("the body is not an authorize request", "treść nie jest żądaniem autoryzacji", err)
	}
	sd, err := req.ScopeDetails.toOAuth("mbank")
	if err != nil {
		return badRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
	}
	sd.ScopeGroupType = strings.ToLower(strings.ReplaceAll(sd.ScopeGroupType, "_", "-"))
	if err := a.checkConsentedPayments(r.Context(), consent.DialectMBank, c.OrgID, "", req.ScopeDetails); err != nil {
		return err
	}
	withOrders(consent.DialectMBank, sd.Privileges)
	res, err := a.s.Authorize(r.Context(), oauth.AuthorizeRequest{Dialect: "mbank", TPPID: c.OrgID, ClientID: req.ClientID,
		RedirectURI: req.RedirectURI, ResponseType: req.ResponseType, Scope: req.Scope, State: req.State, ScopeDetails: sd,
		QWACThumbprint: c.QWACInfo.FingerprintS256})
	if err != nil {
		return oauthRefusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, map[string]any{"authorizationRedirectUri": res.RedirectURI})
}

func (a authAPI) mbankToken(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	res, err := a.token(c, "mbank")
	if err != nil {
		return err
	}
	body := map[string]any{
		"access_token":  res.AccessToken,
		"token_type":    res.TokenType,
		"expires_in":    res.ExpiresIn,
		"scope":         res.Scope,
		"scope_details": a.scopeDetailsOut(r.Context(), res.Consent, "mbank"),
	}
	if res.RefreshToken != "" {
		body["refresh_token"] = res.RefreshToken
	}
	return gateway.WriteJSON(w, http.StatusOK, body)
}
