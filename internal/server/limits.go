package server

import (
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Limits bound what one client can make a listener hold: time to send the
// headers and the body, idle keep-alive connections, header and body size,
// connections at once from one address, and HTTP/2 streams and buffers.
// Zero fields take the defaults below (DefaultLimits).
type Limits struct {
	// ReadHeaderTimeout bounds the TLS handshake and the request headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a body
	// that has not arrived within it is dropped with the connection.
	ReadTimeout time.Duration
	// WriteTimeout bounds handling a request and writing its response.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// APIBody and WebBody bound request bodies on each listener; BodyRoutes
	// raise or lower the bound for paths starting with a prefix (the
	// longest matching prefix wins).
	APIBody, WebBody int64
	BodyRoutes       map[string]int64
	// MaxConnsPerAddr caps the connections open at once from one client
	// address on each listener; the excess is closed at once. Addresses in
	// Unlimited (a TLS-terminating proxy) are not capped.
	MaxConnsPerAddr int
	Unlimited       []netip.Prefix
	// HTTP2 sets the HTTP/2 limits; nil takes DefaultLimits' values.
	HTTP2 *http.HTTP2Config
}

// DefaultLimits are the limits of both `sandbox` and `serve`: far above
// what a TPP or a customer's browser needs, far below what ties up the
// server.
var DefaultLimits = Limits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      2 * time.Minute,
	IdleTimeout:       2 * time.Minute,
	MaxHeaderBytes:    64 << 10,
	APIBody:           1 << 20,
	WebBody:           256 << 10,
	// The developer portal takes document uploads (tpp.MaxDocumentSize,
	// 5 MiB, plus the form around it).
	BodyRoutes:      map[string]int64{"/developer/": 7 << 20},
	MaxConnsPerAddr: 256,
	HTTP2: &http.HTTP2Config{
		MaxConcurrentStreams:          100,
		MaxReadFrameSize:              1 << 16,
		MaxDecoderHeaderTableSize:     4 << 10,
		MaxEncoderHeaderTableSize:     4 << 10,
		MaxReceiveBufferPerConnection: 1 << 20,
		MaxReceiveBufferPerStream:     1 << 20,
		SendPingTimeout:               time.Minute,
		PingTimeout:                   15 * time.Second,
		WriteByteTimeout:              30 * time.Second,
	},
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.APIBody == 0 {
		l.APIBody = d.APIBody
	}
	if l.WebBody == 0 {
		l.WebBody = d.WebBody
	}
	if l.BodyRoutes == nil {
		l.BodyRoutes = d.BodyRoutes
	}
	if l.MaxConnsPerAddr == 0 {
		l.MaxConnsPerAddr = d.MaxConnsPerAddr
	}
	if l.HTTP2 == nil {
		l.HTTP2 = d.HTTP2
	}
	return l
}

// server returns an http.Server with the limits.
func (l Limits) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		HTTP2:             l.HTTP2,
	}
}

// LimitBody bounds request bodies: max bytes, or the bound of the longest
// prefix in routes that the path starts with. A body longer than the bound
// fails the handler's read (http.MaxBytesReader, which also closes the
// connection). With early, a declared Content-Length over the bound is
// refused with 413 before anything is read; without it the handler reads
// up to one byte over the bound, so that it can refuse in its own format
// (the API gateway answers in the dialect's).
func LimitBody(h http.Handler, max int64, routes map[string]int64, early bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, best := max, -1
		for prefix, n := range routes {
			if strings.HasPrefix(r.URL.Path, prefix) && len(prefix) > best {
				limit, best = n, len(prefix)
			}
		}
		if !early {
			limit++
		} else if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		h.ServeHTTP(w, r)
	})
}
