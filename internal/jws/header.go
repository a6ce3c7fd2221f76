package jws

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The signature algorithms this package accepts and produces (RFC 7518
// §3.1). Everything else, "none" and the HMAC family included, is refused.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA key of at least 2048 bits
	PS256 = "PS256" // RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt
	ES256 = "ES256" // ECDSA P-256 with SHA-256, signature R||S (64 bytes)
)

const allowedAlgs = "RS256, PS256 or ES256"

// Limits that keep a hostile header cheap to refuse. A header with a chain
// of three 2 KB certificates is about 11 KB once encoded.
const (
	maxHeaderSegment    = 32 << 10 // base64url characters of the protected header
	maxSignatureSegment = 1400     // base64url of a 1024-byte (RSA-8192) signature is 1366
	maxX5C              = 10       // certificates in x5c
	maxJSONDepth        = 16       // nesting of the header JSON
)

// Header is a parsed and checked JWS protected header (RFC 7515 §4).
type Header struct {
	Alg string // RS256, PS256 or ES256
	Kid string
	Typ string
	// X5C is the certificate chain from x5c, signing certificate first.
	// It is parsed but not validated: the caller checks the chain.
	X5C []*x509.Certificate
	// X5TS256 is x5t#S256 as sent: base64url (no padding) of the SHA-256 of
	// the signing certificate's DER. When X5C is given too, they agree.
	X5TS256 string
	// X5U is x5u as sent. This package never fetches it.
	X5U  string
	Crit []string
	// B64 is the RFC 7797 b64 parameter; nil when absent. When present it
	// is false and crit lists "b64".
	B64 *bool
	// Raw is the decoded protected header JSON, exactly as received.
	Raw []byte
	// Attached reports that the compact JWS carried its payload (h.p.s)
	// instead of the detached form (h..s) the dialects require.
	Attached bool
	// Payload is the embedded payload, decoded, when Attached.
	Payload []byte
}

// Unencoded reports whether the payload is signed as is (RFC 7797 b64=false)
// rather than base64url-encoded.
func (h *Header) Unencoded() bool { return h.B64 != nil && !*h.B64 }

// parsed is a compact JWS split into its checked parts.
type parsed struct {
	header     *Header
	headerSeg  string // BASE64URL(UTF8(JWS Protected Header)) as received
	payloadSeg string // the middle part as received; "" when detached
	sig        []byte
}

// ParseHeader parses a compact JWS in the detached form
// BASE64URL(header) + ".." + BASE64URL(signature) (RFC 7515 Appendix F) and
// checks its protected header strictly:
//
//   - the header is a JSON object in UTF-8 with no duplicate member names;
//   - alg is RS256, PS256 or ES256;
//   - crit, when present, lists only "b64", and b64 is then present and
//     false (RFC 7797); b64 is never present without crit;
//   - jwk and jku are refused: keys come only from certificates;
//   - x5c entries are standard base64 (not base64url) of DER certificates;
//   - x5t#S256 is base64url of a SHA-256 and, with x5c, matches x5c[0].
//
// The attached form h.p.s is accepted too and reported in Header.Attached.
// The signature itself is not verified: see VerifyDetached. Every error is
// an *Error.
func ParseHeader(compact string) (*Header, error) {
	p, err := parse(compact)
	if err != nil {
		return nil, err
	}
	return p.header, nil
}

func parse(compact string) (*parsed, error) {
	if compact == "" {
		return nil, newError(ReasonMissing, "The JWS signature is missing: send the detached JWS of the message in the signature header.")
	}
	first := strings.IndexByte(compact, '.')
	last := strings.LastIndexByte(compact, '.')
	if first < 0 || first == last {
		return nil, newError(ReasonMalformed, "The JWS signature is not a compact JWS: expected BASE64URL(header)..BASE64URL(signature), three parts separated by dots with the middle one empty.")
	}
	headerSeg, payloadSeg, sigSeg := compact[:first], compact[first+1:last], compact[last+1:]
	if strings.IndexByte(payloadSeg, '.') >= 0 {
		return nil, newError(ReasonMalformed, "The JWS signature has more than three dot-separated parts; a compact JWS has exactly three.")
	}

	if headerSeg == "" {
		return nil, newError(ReasonMalformed, "The JWS protected header (the part before the first dot) is empty.")
	}
	if len(headerSeg) > maxHeaderSegment {
		return nil, newError(ReasonMalformed, "The JWS protected header is %d characters long; the limit is %d.", len(headerSeg), maxHeaderSegment)
	}
	h, err := parseHeaderSegment(headerSeg)
	if err != nil {
		return nil, err
	}

	if sigSeg == "" {
		return nil, newError(ReasonMalformed, "The JWS signature part (after the last dot) is empty.")
	}
	if len(sigSeg) > maxSignatureSegment {
		return nil, newError(ReasonMalformed, "The JWS signature part is %d characters long; no %s signature is longer than %d characters.", len(sigSeg), allowedAlgs, maxSignatureSegment)
	}
	sig, err := decodeB64URL(sigSeg)
	if err != nil {
		return nil, newError(ReasonMalformed, "The JWS signature part is not base64url without padding: %v.", err)
	}

	if payloadSeg != "" {
		h.Attached = true
		if h.Unencoded() {
			h.Payload = []byte(payloadSeg)
		} else if h.Payload, err = decodeB64URL(payloadSeg); err != nil {
			return nil, newError(ReasonMalformed, "The JWS payload part is not base64url without padding: %v; send the detached form BASE64URL(header)..BASE64URL(signature).", err)
		}
	}
	return &parsed{header: h, headerSeg: headerSeg, payloadSeg: payloadSeg, sig: sig}, nil
}

// headerCache keeps the headers that passed every check, by their encoded
// segment: a TPP sends the same protected header (with the same x5c) on
// every request. Callers get a copy, as parse fills in per-message fields.
var (
	headerCache      sync.Map // header segment -> *Header
	headerCacheCount atomic.Int64
)

const maxCachedHeaders = 4096

func parseHeaderSegment(seg string) (*Header, error) {
	if c, ok := headerCache.Load(seg); ok {
		h := *c.(*Header)
		return &h, nil
	}
	raw, err := decodeB64URL(seg)
	if err != nil {
		return nil, newError(ReasonMalformed, "The JWS protected header is not base64url without padding (RFC 7515 §2): %v.", err)
	}
	h, err := parseHeaderJSON(raw)
	if err != nil {
		return nil, err
	}
	if headerCacheCount.Add(1) > maxCachedHeaders {
		headerCache.Clear()
		headerCacheCount.Store(1)
	}
	cached := *h
	headerCache.Store(seg, &cached)
	return h, nil
}

// parseHeaderJSON checks the decoded protected header and fills a Header.
func parseHeaderJSON(raw []byte) (*Header, error) {
	if !utf8.Valid(raw) {
		return nil, newError(ReasonMalformed, "The JWS protected header is not valid UTF-8.")
	}
	if err := checkJSONObject(raw); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil { // cannot fail after checkJSONObject
		return nil, wrapError(ReasonMalformed, err, "The JWS protected header is not a JSON object: %v.", err)
	}
	h := &Header{Raw: raw}

	alg, ok, err := stringParam(m, "alg")
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, newError(ReasonMalformed, `The JWS protected header has no "alg"; use %s.`, allowedAlgs)
	case alg != RS256 && alg != PS256 && alg != ES256:
		return nil, newError(ReasonAlgNotAllowed, `The JWS alg %q is not allowed; use %s.`, alg, allowedAlgs)
	}
	h.Alg = alg

	if err := parseCrit(m, h); err != nil {
		return nil, err
	}
	for _, name := range []string{"jwk", "jku"} {
		if _, ok := m[name]; ok {
			return nil, newError(ReasonHeaderNotAllowed, `The JWS protected header carries %q; the bank takes the signing key only from your QSealC: send it in "x5c" or name a registered one by "x5t#S256".`, name)
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"kid", &h.Kid}, {"typ", &h.Typ}, {"x5u", &h.X5U}, {"x5t#S256", &h.X5TS256}} {
		if *p.dst, _, err = stringParam(m, p.name); err != nil {
			return nil, err
		}
	}
	if err := parseX5C(m, h); err != nil {
		return nil, err
	}
	if _, ok := m["x5t#S256"]; ok {
		if d, err := decodeB64URL(h.X5TS256); err != nil || len(d) != sha256.Size {
			return nil, newError(ReasonMalformed, `The JWS "x5t#S256" must be the base64url (no padding) SHA-256 of the certificate's DER, 43 characters; got %q.`, truncate(h.X5TS256, 64))
		}
		if len(h.X5C) > 0 && h.X5TS256 != ThumbprintS256(h.X5C[0]) {
			return nil, newError(ReasonThumbprintMismatch, `The JWS "x5t#S256" is not the SHA-256 thumbprint of the first "x5c" certificate; they must designate the same certificate.`)
		}
	}
	return h, nil
}

// parseCrit checks crit and b64 together (RFC 7515 §4.1.11, RFC 7797 §6).
func parseCrit(m map[string]json.RawMessage, h *Header) error {
	crit, ok, err := stringArrayParam(m, "crit")
	if err != nil {
		return err
	}
	if ok {
		if len(crit) == 0 {
			return newError(ReasonMalformed, `The JWS "crit" is an empty list, which RFC 7515 §4.1.11 forbids; omit it.`)
		}
		for i, name := range crit {
			if name != "b64" {
				return newError(ReasonUnknownCrit, `The JWS "crit" lists %q, which the bank does not understand; the only critical extension accepted is "b64".`, name)
			}
			if i > 0 {
				return newError(ReasonMalformed, `The JWS "crit" lists "b64" more than once.`)
			}
		}
		h.Crit = crit
	}
	rawB64, ok := m["b64"]
	switch {
	case !ok && len(h.Crit) > 0:
		return newError(ReasonMalformed, `The JWS "crit" lists "b64" but the header has no "b64" parameter.`)
	case !ok:
		return nil
	}
	switch string(bytes.TrimSpace(rawB64)) {
	case "false":
		f := false
		h.B64 = &f
	case "true":
		return newError(ReasonMalformed, `The JWS "b64": true is the default; omit "b64", or set it to false and list it in "crit".`)
	default:
		return newError(ReasonMalformed, `The JWS "b64" must be the JSON boolean false.`)
	}
	if len(h.Crit) == 0 {
		return newError(ReasonMalformed, `The JWS has "b64": false but "crit" does not list "b64"; RFC 7797 §6 requires "crit": ["b64"].`)
	}
	return nil
}

// certCache keeps the certificates parsed from x5c values: a TPP sends the
// same QSealC with every request, and parsing it costs more than verifying
// the signature. Parsed certificates are immutable, so sharing them is safe.
// The cache is emptied when it reaches maxCachedCerts entries.
var (
	certCache      sync.Map // base64 DER -> *x509.Certificate
	certCacheCount atomic.Int64
)

const maxCachedCerts = 4096

func cacheCert(b64 string, cert *x509.Certificate) {
	if certCacheCount.Add(1) > maxCachedCerts {
		certCache.Clear()
		certCacheCount.Store(1)
	}
	certCache.Store(b64, cert)
}

func parseX5C(m map[string]json.RawMessage, h *Header) error {
	entries, ok, err := stringArrayParam(m, "x5c")
	if err != nil || !ok {
		return err
	}
	if len(entries) == 0 {
		return newError(ReasonMalformed, `The JWS "x5c" is an empty list; put your QSealC first, or omit "x5c".`)
	}
	if len(entries) > maxX5C {
		return newError(ReasonMalformed, `The JWS "x5c" has %d certificates; the limit is %d.`, len(entries), maxX5C)
	}
	h.X5C = make([]*x509.Certificate, len(entries))
	for i, s := range entries {
		if !isStdBase64(s) {
			hint := ""
			if strings.ContainsAny(s, "-_") {
				hint = " (it looks base64url-encoded)"
			}
			return newError(ReasonBadCertificate, `The JWS "x5c"[%d] is not standard padded base64 of a DER certificate%s; x5c uses base64, not base64url (RFC 7515 §4.1.6).`, i, hint)
		}
		if c, ok := certCache.Load(s); ok {
			h.X5C[i] = c.(*x509.Certificate)
			continue
		}
		der, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return wrapError(ReasonBadCertificate, err, `The JWS "x5c"[%d] is not standard padded base64 of a DER certificate: %v.`, i, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return wrapError(ReasonBadCertificate, err, `The JWS "x5c"[%d] is not a DER X.509 certificate: %v.`, i, err)
		}
		cacheCert(s, cert)
		h.X5C[i] = cert
	}
	return nil
}

// stringParam returns the string member name of m, whether it is present,
// and an error when it is present but not a JSON string.
func stringParam(m map[string]json.RawMessage, name string) (string, bool, error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	var s string
	if !isJSONKind(raw, '"') || json.Unmarshal(raw, &s) != nil {
		return "", true, newError(ReasonMalformed, "The JWS header parameter %q must be a JSON string.", name)
	}
	return s, true, nil
}

// stringArrayParam is stringParam for an array of strings.
func stringArrayParam(m map[string]json.RawMessage, name string) ([]string, bool, error) {
	raw, ok := m[name]
	if !ok {
		return nil, false, nil
	}
	var items []json.RawMessage
	if !isJSONKind(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return nil, true, newError(ReasonMalformed, "The JWS header parameter %q must be a JSON array of strings.", name)
	}
	out := make([]string, len(items))
	for i, item := range items {
		if !isJSONKind(item, '"') || json.Unmarshal(item, &out[i]) != nil {
			return nil, true, newError(ReasonMalformed, "The JWS header parameter %q must be a JSON array of strings.", name)
		}
	}
	return out, true, nil
}

// isJSONKind reports whether the JSON value raw starts with c: '"' for a
// string, '[' for an array. It rules out null, which json.Unmarshal would
// silently accept for any type.
func isJSONKind(raw json.RawMessage, c byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == c
}

// checkJSONObject checks that raw is exactly one JSON object, with no
// duplicate member names at any depth, and nothing after it.
func checkJSONObject(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return newError(ReasonMalformed, "The JWS protected header is not a JSON object.")
	}
	if err := walkJSON(dec, '{', 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return newError(ReasonMalformed, "The JWS protected header has data after its JSON object.")
	}
	return nil
}

// walkJSON reads the members of the object or array whose opening delimiter
// open was just read, through its closing delimiter.
func walkJSON(dec *json.Decoder, open json.Delim, depth int) error {
	if depth > maxJSONDepth {
		return newError(ReasonMalformed, "The JWS protected header nests JSON deeper than %d levels.", maxJSONDepth)
	}
	var seen map[string]bool
	if open == '{' {
		seen = make(map[string]bool)
	}
	for dec.More() {
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return malformedJSON(err)
			}
			key := tok.(string) // the decoder only returns strings in key position
			if seen[key] {
				return newError(ReasonMalformed, "The JWS protected header has the member %q more than once; duplicate names are refused.", key)
			}
			seen[key] = true
		}
		tok, err := dec.Token()
		if err != nil {
			return malformedJSON(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if err := walkJSON(dec, d, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return malformedJSON(err)
	}
	return nil
}

func malformedJSON(err error) error {
	return wrapError(ReasonMalformed, err, "The JWS protected header is not valid JSON: %v.", err)
}

// ThumbprintS256 returns the x5t#S256 of cert: base64url, without padding,
// of the SHA-256 of its DER encoding (RFC 7515 §4.1.8).
func ThumbprintS256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// decodeB64URL decodes unpadded base64url strictly: only the 64 URL-safe
// characters (the standard decoder would skip CR and LF), and no stray bits
// in the last character.
func decodeB64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !isB64URLChar(s[i]) {
			return nil, errors.New("character " + quoteByte(s[i]) + " is not in the base64url alphabet")
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

func isB64URLChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// isStdBase64 reports whether s uses only the standard base64 alphabet and
// padding (the standard decoder would skip CR and LF).
func isStdBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return s != ""
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
