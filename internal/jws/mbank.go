package jws

import (
	"net/http"
	"unicode/utf8"
)

// mbankSignedHeaders is jwsAllowedHeaders from mBank's Postman environment,
// sorted as the collection's script sorts header names (JavaScript's
// default string order, which is byte order for these ASCII names).
var mbankSignedHeaders = [...]string{
	"authorization",
	"client-id",
	"company-context",
	"psu-context-id",
	"psu-context-id-type",
	"psu-id",
	"psu-id-type",
	"psu-ip-address",
	"psu-ip-port",
	"psu-session",
	"psu-user-agent",
	"send-date",
	"tpp-bundle-id",
	"tpp-id",
	"tpp-payment-id",
	"tpp-request-id",
}

// mbankHeaderKeys are the http.Header keys of mbankSignedHeaders.
var mbankHeaderKeys = func() (keys [len(mbankSignedHeaders)]string) {
	for i, name := range mbankSignedHeaders {
		keys[i] = http.CanonicalHeaderKey(name)
	}
	return keys
}()

// MBankSignedHeaders lists, lower-cased and sorted, the request headers the
// mBank dialect's signature covers when they are present: the
// jwsAllowedHeaders variable of mBank's Postman environment. It is a copy
// for reference; changing it does not change MBankPayload.
var MBankSignedHeaders = mbankSignedHeaders[:]

// MBankPayload returns the message an mBank-dialect JWS-Signature signs, byte
// for byte as the jwsInternalScript of mBank's Postman collection builds it:
//
//	{"uri":<uri>,"headers":{<name>:<value>,...},"body":<body>}
//
// with the members in that order and no whitespace (JSON.stringify). uri is
// the request target without scheme and host: the path, which includes the
// bank id (/pl-retail/v3/accounts), then "?" and the query when there is one
// (see MBankRequestURI). headers has, in MBankSignedHeaders order, each of
// those headers present in h (keyed canonically, as net/http does) by its
// lower-case name; a header sent several times becomes a JSON array of its
// values, as in Postman's header object. body is the raw request body as a
// JSON string, "" when there is none (GET, DELETE).
//
// Strings are escaped as JSON.stringify does: \" \\ \b \f \n \r \t, other
// control characters as \u00xx, everything else, including '<', '>', '&',
// U+2028 and U+2029 (which encoding/json would escape), written as is.
// Invalid UTF-8, which a JavaScript client cannot produce, becomes U+FFFD
// byte by byte; callers should refuse bodies that are not UTF-8.
//
// The signature is an ordinary detached JWS (b64 true) of these bytes:
// check it with VerifyDetached(sig, MBankPayload(...), cert).
func MBankPayload(uri string, h http.Header, body []byte) []byte {
	b := make([]byte, 0, 64+len(uri)+len(body)+40*len(mbankSignedHeaders))
	b = append(b, `{"uri":`...)
	b = appendJSString(b, []byte(uri))
	b = append(b, `,"headers":{`...)
	n := 0
	for i, name := range mbankSignedHeaders {
		values := h[mbankHeaderKeys[i]]
		if len(values) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSString(b, []byte(name))
		b = append(b, ':')
		if len(values) == 1 {
			b = appendJSString(b, []byte(values[0]))
			continue
		}
		b = append(b, '[')
		for i, v := range values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, []byte(v))
		}
		b = append(b, ']')
	}
	b = append(b, `},"body":`...)
	b = appendJSString(b, body)
	return append(b, '}')
}

// MBankRequestURI returns the uri member of the mBank signed message for r:
// the request target as the client sent it, path and query, without scheme
// and host. Behind a proxy that rewrites the path, rebuild the original
// target (with its /{bankId} prefix) instead.
func MBankRequestURI(r *http.Request) string {
	if len(r.RequestURI) > 0 && r.RequestURI[0] == '/' {
		return r.RequestURI
	}
	uri := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		uri += "?" + r.URL.RawQuery
	}
	return uri
}

// appendJSString appends s as a JSON string escaped exactly as JavaScript's
// JSON.stringify escapes it — not as encoding/json does (its HTML escaping
// of '<', '>', '&', U+2028 and U+2029), which polishapi's appendJSONString
// follows for the answers: the two rules differ, so the two appenders stay
// apart.
func appendJSString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
