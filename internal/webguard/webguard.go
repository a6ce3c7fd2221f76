// Package webguard holds HTTP middleware that the web listeners share:
// security headers on every answer, and refusal of cross-site posts to
// sandbox tools (the clock and mobile-app approval).
package webguard

import (
	"net/http"
	"strings"
)

// CSP is the Content-Security-Policy of pages that are not the web
// package's own (which sets its own): no scripts, no inline styles, no
// framing, forms only to the same origin.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Headers sets security headers on every answer of next: nosniff, no
// framing, a strict Referrer-Policy and (unless next sets its own) CSP.
func Headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// SameSite refuses, with 403 and a JSON error naming the fix, a
// state-changing request that a page of another site made a browser send:
// a cross-site Sec-Fetch-Site, or (from browsers without it) an Origin
// other than the request's host (http.CrossOriginProtection). Tools such as
// curl send neither header and pass, so `curl -d '{...}'` keeps working.
func SameSite(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse(w, http.StatusForbidden, "cross_site",
			"requests sent by a page of another site are refused: call this sandbox tool from your own code or with curl")
	}))
	return p.Handler(next)
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The message has no quotes or backslashes to escape but the origin's;
	// keep the answer valid JSON all the same.
	w.Write([]byte(`{"error":` + quote(msg) + `,"code":"` + code + `"}` + "\n"))
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(" ")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
