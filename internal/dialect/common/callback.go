package common

import (
	"context"

	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/oauth"
)

// CheckCallback refuses, at initiation, a requestHeader.callbackURL the
// bank would not call: not https, not on a host of the TPP's client (the
// access token's), or naming a non-public address (see callback.Policy).
// The payment is then not created.
func (s *PIS) CheckCallback(ctx context.Context, c *gateway.Caller, raw string) error {
	if raw == "" {
		return nil
	}
	a, ok := s.Tokens.(Authenticator)
	if !ok || a.S == nil || c.Grant == nil {
		// No authorization server to name the client's hosts (a bank
		// assembled without one, as in unit tests): https and a public
		// address at least.
		return callbackRefusal(callback.Strict.CheckSend(raw))
	}
	err := a.S.CheckCallback(ctx, c.OrgID, c.Grant.ClientID, raw)
	if oe := fault.Find(err, "oauth"); oe != nil && oe.Code == oauth.InvalidRequest {
		return FormatError(oe.In("en"), oe.In("pl"))
	}
	if err != nil {
		return OAuthRefusal(err)
	}
	return nil
}

func callbackRefusal(err error) error {
	if ce, ok := err.(*callback.Error); ok && ce != nil {
		return FormatError("requestHeader.callbackURL: "+ce.EN, "requestHeader.callbackURL: "+ce.PL)
	}
	return err
}
