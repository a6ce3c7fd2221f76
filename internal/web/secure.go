package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

type secureKey struct{}

// isHTTPS tells whether a configured public address is https.
func isHTTPS(publicURL string) bool {
	u, err := url.Parse(strings.TrimSpace(publicURL))
	return err == nil && strings.EqualFold(u.Scheme, "https")
}

// secureBehindProxy marks every request as reached over https when the
// public address is (the TLS ends at a proxy in front of the bank).
func secureBehindProxy(https bool, h http.Handler) http.Handler {
	if !https {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), secureKey{}, true)))
	})
}

// secureRequest tells whether cookies set in answer to r must be Secure:
// the request came over TLS, or the public address is https.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || r.Context().Value(secureKey{}) != nil
}
