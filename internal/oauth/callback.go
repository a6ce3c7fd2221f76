package oauth

import (
	"context"
	"errors"

	"github.com/psd2bank/psd2bank/internal/callback"
)

// CheckCallback checks, when the TPP sends it, a callback URL for a
// request of the TPP's client: see callback.Policy.Check. Payment
// initiation uses it for requestHeader.callbackURL, with the client of the
// access token.
func (s *Server) CheckCallback(ctx context.Context, tppID, clientID, rawURL string) error {
	client, err := s.client(ctx, tppID, clientID)
	if err != nil {
		return err
	}
	if err := s.cfg.Callbacks.Check(rawURL, client.RedirectURIs); err != nil {
		return callbackError(err)
	}
	return nil
}

// callbackError is a refused callback URL as an invalid request naming
// the field.
func callbackError(err error) *Error {
	var ce *callback.Error
	if !errors.As(err, &ce) {
		ce = &callback.Error{EN: err.Error(), PL: err.Error()}
	}
	e := newError(InvalidRequest, "requestHeader.callbackURL: %s", "requestHeader.callbackURL: %s", ce.EN)
	e.MessagePL = "requestHeader.callbackURL: " + ce.PL
	return e
}
