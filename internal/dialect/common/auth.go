package common

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/pis"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// The authorization server's operations in both dialects: a translation
// of the wire to oauth.Server and back.

// Auth is what both dialects' authorization handlers share: the
// authorization server, the check of the payments a consent carries, and
// the token operation.
type Auth struct {
	S    *oauth.Server
	Deps Deps
	PIS  *pis.Service // checks the payments of pis consents; nil: none
}

// NewAuth is the Auth of d, or nil without an authorization server.
func NewAuth(d Deps) *Auth {
	if d.OAuth == nil {
		return nil
	}
	a := &Auth{S: d.OAuth, Deps: d}
	if d.Payments != nil && d.Consents != nil && d.Ledger != nil {
		a.PIS = pis.New(pis.Config{Consents: d.Consents, Payments: d.Payments, Ledger: d.Ledger, Access: d.Access})
	}
	return a
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
	if tokenErr != nil {
		return statusOf(st), gateway.Grant{}, OAuthRefusal(tokenErr), true, nil
	}
	return statusOf(st), grantOf(t), nil, true, nil
}

// statusOf is the TPP's registration in the gateway's terms.
func statusOf(st oauth.TPPStatus) gateway.TPPStatus {
	return gateway.TPPStatus{Known: st.Known, Active: st.Active, Environment: st.Environment, Reason: st.Reason}
}

// grantOf is an access token's grant in the gateway's terms.
func grantOf(t oauth.Token) gateway.Grant {
	return gateway.Grant{ConsentID: t.ConsentID, CustomerID: t.CustomerID, ClientID: t.ClientID, Scope: string(t.Scope)}
}

// CachedStatusAndToken is StatusAndToken from what an earlier read kept
// (oauth.Server.Cached), when TPPs is set: the token's hash and the TPP's
// normalised id name what the caller must still check (package live).
func (a Authenticator) CachedStatusAndToken(orgID, token, thumbprint string) (gateway.TPPStatus, gateway.Grant, string, string, bool) {
	if !a.TPPs {
		return gateway.TPPStatus{}, gateway.Grant{}, "", "", false
	}
	st, t, h, norm, ok := a.S.Cached(token, orgID, thumbprint)
	if !ok {
		return gateway.TPPStatus{}, gateway.Grant{}, "", "", false
	}
	return statusOf(st), grantOf(t), h, norm, true
}

// Authenticate resolves an access token for the gateway.
func (a Authenticator) Authenticate(ctx context.Context, token, tppID, thumbprint string) (gateway.Grant, error) {
	t, err := a.S.Authenticate(ctx, token, tppID, thumbprint)
	if err != nil {
		return gateway.Grant{}, OAuthRefusal(err)
	}
	return grantOf(t), nil
}

// OAuthRefusal renders an authorization server error in the gateway's
// terms (by Errors: the OAuth error code is the wire code); other errors
// pass unchanged.
func OAuthRefusal(err error) error {
	if e := fault.Find(err, "oauth"); e != nil {
		return refusalOf(e)
	}
	return err
}

// BadRequest is a FORMAT_ERROR refusal with the parser's detail.
func BadRequest(en, pl string, detail error) error {
	r := gateway.NewRefusal(http.StatusBadRequest, gateway.CodeFormatError, en, pl)
	if detail != nil {
		r.Detail = detail.Error()
	}
	return r
}

// --- PolishAPI ---

// PrivilegeReader reads one privilege of a privilegeList entry in a
// dialect's words (consent.FromPolishAPI, mbank.Privileges).
type PrivilegeReader func(account, name string, raw json.RawMessage) ([]consent.Privilege, error)

// ScopeDetails is the scope_details of PolishAPI's authorize and token
// requests; mBank's are the same shape.
type ScopeDetails struct {
	PrivilegeList    []map[string]json.RawMessage `json:"privilegeList"`
	ScopeGroupType   string                       `json:"scopeGroupType"`
	ConsentID        string                       `json:"consentId"`
	ScopeTimeLimit   string                       `json:"scopeTimeLimit"`
	ThrottlingPolicy string                       `json:"throttlingPolicy"`
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

// ToOAuth reads scope_details, each privilege with read.
func (sd ScopeDetails) ToOAuth(read PrivilegeReader) (oauth.ScopeDetails, error) {
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
			ps, err := read(account, name, item[name])
			if err != nil {
				return out, fmt.Errorf("scope_details.privilegeList[%d]: %w", i, err)
			}
			out.Privileges = append(out.Privileges, ps...)
		}
	}
	return out, nil
}

// ResponseHeader is the responseHeader of an answer to c.
func ResponseHeader(c *gateway.Caller) gateway.ResponseHeader {
	return gateway.ResponseHeader{RequestID: c.RequestID, SendDate: gateway.FormatDateTime(time.Now()), IsCallback: false}
}

// TokenRequest is the body of PolishAPI's token (and mBank's).
type TokenRequest struct {
	GrantType     string        `json:"grant_type"`
	Code          string        `json:"Code"`
	LowerCode     string        `json:"code"`
	RedirectURI   string        `json:"redirect_uri"`
	ClientID      string        `json:"client_id"`
	RefreshToken  string        `json:"refresh_token"`
	ExchangeToken string        `json:"exchange_token"`
	Scope         string        `json:"scope"`
	ScopeDetails  *ScopeDetails `json:"scope_details"`
	IsUserSession bool          `json:"is_user_session"`
}

// Token runs the token operation of c's body, reading privileges with read.
func (a *Auth) Token(c *gateway.Caller, read PrivilegeReader) (oauth.TokenResponse, error) {
	var req TokenRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return oauth.TokenResponse{}, BadRequest("the body is not a TokenRequest", "treść nie jest żądaniem TokenRequest", err)
	}
	code := req.Code
	if code == "" {
		code = req.LowerCode // mBank and many PolishAPI banks spell it lower-case
	}
	tr := oauth.TokenRequest{TPPID: c.OrgID, QWACThumbprint: c.QWACInfo.FingerprintS256, GrantType: req.GrantType,
		ClientID: req.ClientID, Code: code, RedirectURI: req.RedirectURI, RefreshToken: req.RefreshToken,
		ExchangeToken: req.ExchangeToken, Scope: req.Scope, IsUserSession: req.IsUserSession}
	if req.ScopeDetails != nil {
		sd, err := req.ScopeDetails.ToOAuth(read)
		if err != nil {
			return oauth.TokenResponse{}, BadRequest("scope_details cannot be read", "nie można odczytać scope_details", err)
		}
		tr.ScopeDetails = &sd
	}
	res, err := a.S.Token(context.Background(), tr)
	if err != nil {
		return oauth.TokenResponse{}, OAuthRefusal(err)
	}
	return res, nil
}

// ScopeDetailsOut renders the consent the token stands for: one privilege
// list entry per account; withAccountID adds the bank's accountId (mBank
// uses it in its paths).
func (a *Auth) ScopeDetailsOut(ctx context.Context, c consent.Consent, withAccountID bool) map[string]any {
	type entry = map[string]any
	byAccount := map[string]entry{}
	var order []string
	for _, p := range c.Privileges {
		e, ok := byAccount[p.AccountNumber]
		if !ok {
			e = entry{}
			if p.AccountNumber != "" {
				e["accountNumber"] = p.AccountNumber
				if withAccountID && a.Deps.Ledger != nil {
					if acct, err := a.Deps.Ledger.AccountByNRB(ctx, p.AccountNumber); err == nil {
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
		"throttlingPolicy": NonEmpty(c.ThrottlingPolicy, "psd2Regulatory"),
	}
}

// NonEmpty is s, or def when s is empty.
func NonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// --- mBank ---
