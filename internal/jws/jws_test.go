package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a key with a self-signed certificate, made once per test binary.
type testKey struct {
	key  crypto.Signer
	cert *x509.Certificate
}

var (
	rsaKey      = sync.OnceValue(func() testKey { return newTestKey("rsa-2048", mustRSA(2048)) })
	rsaOtherKey = sync.OnceValue(func() testKey { return newTestKey("rsa-2048 other", mustRSA(2048)) })
	rsaWeakKey  = sync.OnceValue(func() testKey { return newTestKey("rsa-1024", mustRSA(1024)) })
	ecKey       = sync.OnceValue(func() testKey { return newTestKey("p-256", mustEC(elliptic.P256())) })
	ecOtherKey  = sync.OnceValue(func() testKey { return newTestKey("p-256 other", mustEC(elliptic.P256())) })
	ecP384Key   = sync.OnceValue(func() testKey { return newTestKey("p-384", mustEC(elliptic.P384())) })
)

func mustRSA(bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// newTestKey makes a self-signed certificate for key with fixed dates.
func newTestKey(name string, key crypto.Signer) testKey {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(name)) + 1000),
		Subject:      pkix.Name{CommonName: "jws test " + name, Organization: []string{"psd2bank tests"}},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return testKey{key: key, cert: cert}
}

func mustSigner(t testing.TB, k testKey, opts SignerOptions) *Signer {
	t.Helper()
	s, err := NewSigner(k.key, k.cert, opts)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func x5c(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

// signRaw signs payload under an arbitrary header JSON, bypassing the
// checks of NewSigner, to build refused inputs.
func signRaw(t testing.TB, k testKey, alg, header string, payload []byte) string {
	t.Helper()
	hs := b64(header)
	unencoded := strings.Contains(header, `"b64":false`)
	digest := hashSigningInput(hs, payload, unencoded)
	var sig []byte
	var err error
	switch alg {
	case RS256, ES256:
		sig, err = k.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	case PS256:
		sig, err = k.key.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	default:
		t.Fatalf("signRaw: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if alg == ES256 {
		if sig, err = ecdsaRawSignature(sig); err != nil {
			t.Fatal(err)
		}
	}
	return hs + ".." + base64.RawURLEncoding.EncodeToString(sig)
}

var body = []byte(`{"requestHeader":{"requestId":"7c1e5c6a-b7d2-11f0-9a5e-0242ac120002","sendDate":"2026-11-23T10:15:30Z","tppId":"PSDPL-KNF-0000000042"},"amount":"12.34"}`)

func TestSignVerifyRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		key     func() testKey
		opts    SignerOptions
		wantAlg string
	}{
		{"RS256 default", rsaKey, SignerOptions{}, RS256},
		{"PS256", rsaKey, SignerOptions{Alg: PS256}, PS256},
		{"ES256 default", ecKey, SignerOptions{}, ES256},
		{"ES256 kid typ", ecKey, SignerOptions{Kid: "PSDPL-KNF-0000000042", Typ: "JOSE"}, ES256},
		{"RS256 no x5c", rsaKey, SignerOptions{OmitX5C: true}, RS256},
		{"ES256 bare", ecKey, SignerOptions{OmitX5C: true, OmitX5TS256: true}, ES256},
		{"RS256 b64=false", rsaKey, SignerOptions{Unencoded: true}, RS256},
		{"PS256 b64=false", rsaKey, SignerOptions{Alg: PS256, Unencoded: true}, PS256},
		{"ES256 b64=false", ecKey, SignerOptions{Unencoded: true}, ES256},
		{"ES256 chain", ecKey, SignerOptions{Chain: []*x509.Certificate{rsaOtherKey().cert}}, ES256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.key()
			s := mustSigner(t, k, tc.opts)
			if s.Alg() != tc.wantAlg {
				t.Fatalf("Alg() = %s, want %s", s.Alg(), tc.wantAlg)
			}
			compact, err := s.SignDetached(body)
			if err != nil {
				t.Fatal(err)
			}
			if parts := strings.Split(compact, "."); len(parts) != 3 || parts[1] != "" {
				t.Fatalf("not detached: %s", compact)
			}
			h, err := VerifyDetached(compact, body, k.cert)
			if err != nil {
				t.Fatalf("VerifyDetached: %v", err)
			}
			if h.Alg != tc.wantAlg || h.Kid != tc.opts.Kid || h.Typ != tc.opts.Typ || h.Attached {
				t.Errorf("header = %+v", h)
			}
			if wantX5C := !tc.opts.OmitX5C; (len(h.X5C) > 0) != wantX5C || wantX5C && (!h.X5C[0].Equal(k.cert) || len(h.X5C) != 1+len(tc.opts.Chain)) {
				t.Errorf("x5c = %v, want cert first (omit=%v)", h.X5C, tc.opts.OmitX5C)
			}
			if want := ThumbprintS256(k.cert); !tc.opts.OmitX5TS256 && h.X5TS256 != want {
				t.Errorf("x5t#S256 = %q, want %q", h.X5TS256, want)
			}
			if h.Unencoded() != tc.opts.Unencoded {
				t.Errorf("Unencoded() = %v", h.Unencoded())
			}

			tampered := append([]byte(nil), body...)
			tampered[len(tampered)-3] = '5' // "12.34" -> "12.54"
			if _, err := VerifyDetached(compact, tampered, k.cert); ReasonOf(err) != ReasonBadSignature {
				t.Errorf("tampered body: err = %v, want %s", err, ReasonBadSignature)
			}
			if _, err := VerifyDetached(compact, nil, k.cert); ReasonOf(err) != ReasonBadSignature {
				t.Errorf("empty body: err = %v, want %s", err, ReasonBadSignature)
			}
		})
	}
}

func TestES256SignatureIsRawRS(t *testing.T) {
	compact, err := mustSigner(t, ecKey(), SignerOptions{}).SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(compact[strings.LastIndexByte(compact, '.')+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("ES256 signature is %d bytes (%v), want 64", len(sig), err)
	}
}

func TestSignerHeaderLayout(t *testing.T) {
	k := ecKey()
	s := mustSigner(t, k, SignerOptions{Kid: "seal-1", Typ: "JOSE", Unencoded: true})
	raw, _ := base64.RawURLEncoding.DecodeString(s.headerSeg)
	want := `{"alg":"ES256","typ":"JOSE","kid":"seal-1","x5c":["` + x5c(k.cert) + `"],"x5t#S256":"` + ThumbprintS256(k.cert) + `","b64":false,"crit":["b64"]}`
	if string(raw) != want {
		t.Errorf("header\n got %s\nwant %s", raw, want)
	}
	s = mustSigner(t, rsaKey(), SignerOptions{OmitX5C: true, OmitX5TS256: true})
	if raw, _ := base64.RawURLEncoding.DecodeString(s.headerSeg); string(raw) != `{"alg":"RS256"}` {
		t.Errorf("bare header = %s", raw)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		opts SignerOptions
	}{
		{"nil key", nil, ecKey().cert, SignerOptions{}},
		{"nil cert", ecKey().key, nil, SignerOptions{}},
		{"key of another cert", ecKey().key, ecOtherKey().cert, SignerOptions{}},
		{"RSA-1024", rsaWeakKey().key, rsaWeakKey().cert, SignerOptions{}},
		{"P-384", ecP384Key().key, ecP384Key().cert, SignerOptions{}},
		{"PS256 on EC", ecKey().key, ecKey().cert, SignerOptions{Alg: PS256}},
		{"ES256 on RSA", rsaKey().key, rsaKey().cert, SignerOptions{Alg: ES256}},
		{"RS512", rsaKey().key, rsaKey().cert, SignerOptions{Alg: "RS512"}},
		{"Ed25519", edKey, ecKey().cert, SignerOptions{}},
	}
	for _, tc := range cases {
		if _, err := NewSigner(tc.key, tc.cert, tc.opts); err == nil {
			t.Errorf("%s: NewSigner succeeded", tc.name)
		}
	}
}

func TestVerifyDetachedRefusals(t *testing.T) {
	rk, ek, other := rsaKey(), ecKey(), ecOtherKey()
	tp := ThumbprintS256
	good := func(header string) string { return signRaw(t, ek, ES256, header, body) }
	goodSig := func() string { // a valid signature part to pair with hand-made headers
		c := good(`{"alg":"ES256"}`)
		return c[strings.LastIndexByte(c, '.')+1:]
	}()
	hmacSig := func(header string) string {
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write([]byte(b64(header) + "." + base64.RawURLEncoding.EncodeToString(body)))
		return b64(header) + ".." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	derSig := func() string {
		d := hashSigningInput(b64(`{"alg":"ES256"}`), body, false)
		sig, _ := ek.key.Sign(rand.Reader, d[:], crypto.SHA256)
		return b64(`{"alg":"ES256"}`) + ".." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	attached := func(payload []byte) string { // signed over payload, which it embeds
		c := signRaw(t, ek, ES256, `{"alg":"ES256"}`, payload)
		i := strings.IndexByte(c, '.')
		return c[:i+1] + base64.RawURLEncoding.EncodeToString(payload) + c[i+1:]
	}

	cases := []struct {
		name    string
		compact string
		payload []byte
		cert    *x509.Certificate
		want    Reason
	}{
		// The compact serialization.
		{"empty", "", body, ek.cert, ReasonMissing},
		{"one part", b64(`{"alg":"ES256"}`), body, ek.cert, ReasonMalformed},
		{"two parts", b64(`{"alg":"ES256"}`) + "." + goodSig, body, ek.cert, ReasonMalformed},
		{"four parts", b64(`{"alg":"ES256"}`) + ".a.b." + goodSig, body, ek.cert, ReasonMalformed},
		{"empty header", ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"empty signature", b64(`{"alg":"ES256"}`) + "..", body, ek.cert, ReasonMalformed},
		{"padded header", base64.URLEncoding.EncodeToString([]byte(`{"alg":"ES256","x":12}`)) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"newline in header", b64(`{"alg":"ES256"}`)[:4] + "\n" + b64(`{"alg":"ES256"}`)[4:] + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"std base64 signature", b64(`{"alg":"ES256"}`) + ".." + strings.NewReplacer("-", "+", "_", "/").Replace(goodSig) + "+/", body, ek.cert, ReasonMalformed},
		{"whitespace around", " " + good(`{"alg":"ES256"}`), body, ek.cert, ReasonMalformed},

		// The header JSON.
		{"not JSON", b64(`alg=ES256`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"array", b64(`["ES256"]`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"trailing data", b64(`{"alg":"ES256"}{}`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"invalid UTF-8", b64("{\"alg\":\"ES256\",\"kid\":\"\xff\"}") + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"duplicate alg", b64(`{"alg":"ES256","alg":"none"}`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"duplicate escaped", b64(`{"alg":"ES256","\u0061lg":"ES256"}`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"duplicate nested", good(`{"alg":"ES256","ext":{"a":1,"a":2}}`), body, ek.cert, ReasonMalformed},
		{"too deep", good(`{"alg":"ES256","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), body, ek.cert, ReasonMalformed},
		{"alg missing", good(`{"typ":"JOSE"}`), body, ek.cert, ReasonMalformed},
		{"alg not string", b64(`{"alg":["ES256"]}`) + ".." + goodSig, body, ek.cert, ReasonMalformed},
		{"kid null", good(`{"alg":"ES256","kid":null}`), body, ek.cert, ReasonMalformed},
		{"typ number", good(`{"alg":"ES256","typ":1}`), body, ek.cert, ReasonMalformed},

		// alg.
		{"alg none", b64(`{"alg":"none"}`) + "..", body, ek.cert, ReasonAlgNotAllowed},
		{"alg HS256", hmacSig(`{"alg":"HS256"}`), body, ek.cert, ReasonAlgNotAllowed},
		{"alg RS512", b64(`{"alg":"RS512"}`) + ".." + goodSig, body, rk.cert, ReasonAlgNotAllowed},
		{"alg lower case", b64(`{"alg":"es256"}`) + ".." + goodSig, body, ek.cert, ReasonAlgNotAllowed},
		{"alg EdDSA", b64(`{"alg":"EdDSA"}`) + ".." + goodSig, body, ek.cert, ReasonAlgNotAllowed},

		// crit and b64.
		{"crit foo", good(`{"alg":"ES256","crit":["foo"],"foo":1}`), body, ek.cert, ReasonUnknownCrit},
		{"crit b64 and foo", good(`{"alg":"ES256","b64":false,"crit":["b64","foo"],"foo":1}`), body, ek.cert, ReasonUnknownCrit},
		{"crit sigT (JAdES)", good(`{"alg":"ES256","crit":["sigT"],"sigT":"2026-11-23T10:15:30Z"}`), body, ek.cert, ReasonUnknownCrit},
		{"crit empty", good(`{"alg":"ES256","crit":[]}`), body, ek.cert, ReasonMalformed},
		{"crit not array", good(`{"alg":"ES256","crit":"b64","b64":false}`), body, ek.cert, ReasonMalformed},
		{"crit b64 twice", good(`{"alg":"ES256","b64":false,"crit":["b64","b64"]}`), body, ek.cert, ReasonMalformed},
		{"crit b64 without b64", good(`{"alg":"ES256","crit":["b64"]}`), body, ek.cert, ReasonMalformed},
		{"b64 false without crit", good(`{"alg":"ES256","b64":false}`), body, ek.cert, ReasonMalformed},
		{"b64 true", good(`{"alg":"ES256","b64":true,"crit":["b64"]}`), body, ek.cert, ReasonMalformed},
		{"b64 string", good(`{"alg":"ES256","b64":"false","crit":["b64"]}`), body, ek.cert, ReasonMalformed},

		// Keys in the header.
		{"jwk", good(`{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}`), body, ek.cert, ReasonHeaderNotAllowed},
		{"jku", good(`{"alg":"ES256","jku":"https://attacker.example/jwks"}`), body, ek.cert, ReasonHeaderNotAllowed},

		// x5c and x5t#S256.
		{"x5c base64url", good(`{"alg":"ES256","x5c":["` + base64.RawURLEncoding.EncodeToString(ek.cert.Raw) + `"]}`), body, ek.cert, ReasonBadCertificate},
		{"x5c not DER", good(`{"alg":"ES256","x5c":["` + base64.StdEncoding.EncodeToString([]byte("not a certificate")) + `"]}`), body, ek.cert, ReasonBadCertificate},
		{"x5c with newline", good(`{"alg":"ES256","x5c":["` + x5c(ek.cert)[:10] + `\n` + x5c(ek.cert)[10:] + `"]}`), body, ek.cert, ReasonBadCertificate},
		{"x5c empty", good(`{"alg":"ES256","x5c":[]}`), body, ek.cert, ReasonMalformed},
		{"x5c string", good(`{"alg":"ES256","x5c":"` + x5c(ek.cert) + `"}`), body, ek.cert, ReasonMalformed},
		{"x5c and x5t disagree", good(`{"alg":"ES256","x5c":["` + x5c(ek.cert) + `"],"x5t#S256":"` + tp(other.cert) + `"}`), body, ek.cert, ReasonThumbprintMismatch},
		{"x5t padded", good(`{"alg":"ES256","x5t#S256":"` + tp(ek.cert) + `="}`), body, ek.cert, ReasonMalformed},
		{"x5t hex", good(`{"alg":"ES256","x5t#S256":"` + strings.Repeat("ab", 32) + `"}`), body, ek.cert, ReasonMalformed},

		// The certificate the caller chose.
		{"no certificate", good(`{"alg":"ES256"}`), body, nil, ReasonMissing},
		{"x5c names another cert", signRaw(t, other, ES256, `{"alg":"ES256","x5c":["`+x5c(other.cert)+`"]}`, body), body, ek.cert, ReasonKeyMismatch},
		{"x5t names another cert", signRaw(t, other, ES256, `{"alg":"ES256","x5t#S256":"`+tp(other.cert)+`"}`, body), body, ek.cert, ReasonKeyMismatch},
		{"signed by another key", signRaw(t, other, ES256, `{"alg":"ES256"}`, body), body, ek.cert, ReasonBadSignature},
		{"another key claiming the cert", signRaw(t, other, ES256, `{"alg":"ES256","x5t#S256":"`+tp(ek.cert)+`"}`, body), body, ek.cert, ReasonBadSignature},
		{"RSA key another cert", signRaw(t, rsaOtherKey(), RS256, `{"alg":"RS256"}`, body), body, rk.cert, ReasonBadSignature},
		{"ES256 on RSA cert", good(`{"alg":"ES256"}`), body, rk.cert, ReasonKeyMismatch},
		{"RS256 on EC cert", signRaw(t, rk, RS256, `{"alg":"RS256"}`, body), body, ek.cert, ReasonKeyMismatch},
		{"PS256 on EC cert", signRaw(t, rk, PS256, `{"alg":"PS256"}`, body), body, ek.cert, ReasonKeyMismatch},
		{"ES256 on P-384 cert", good(`{"alg":"ES256"}`), body, ecP384Key().cert, ReasonKeyMismatch},
		{"RSA-1024", signRaw(t, rsaWeakKey(), RS256, `{"alg":"RS256"}`, body), body, rsaWeakKey().cert, ReasonWeakKey},

		// The signature.
		{"ES256 DER signature", derSig, body, ek.cert, ReasonBadSignature},
		{"RS256 as PS256", b64(`{"alg":"PS256"}`) + ".." + func() string {
			c := signRaw(t, rk, RS256, `{"alg":"PS256"}`, body)
			return c[strings.LastIndexByte(c, '.')+1:]
		}(), body, rk.cert, ReasonBadSignature},
		{"short RSA signature", b64(`{"alg":"RS256"}`) + ".." + goodSig, body, rk.cert, ReasonBadSignature},
		{"b64 false header, payload signed encoded", func() string {
			hs := b64(`{"alg":"ES256","b64":false,"crit":["b64"]}`)
			d := hashSigningInput(hs, body, false)
			der, _ := ek.key.Sign(rand.Reader, d[:], crypto.SHA256)
			sig, _ := ecdsaRawSignature(der)
			return hs + ".." + base64.RawURLEncoding.EncodeToString(sig)
		}(), body, ek.cert, ReasonBadSignature},

		// The attached form.
		{"attached other payload", attached([]byte(`{"amount":"99999.00"}`)), body, ek.cert, ReasonPayloadMismatch},
		{"attached bad base64", b64(`{"alg":"ES256"}`) + ".%%%." + goodSig, body, ek.cert, ReasonMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := VerifyDetached(tc.compact, tc.payload, tc.cert)
			if err == nil {
				t.Fatalf("VerifyDetached succeeded: %+v", h)
			}
			if got := ReasonOf(err); got != tc.want {
				t.Fatalf("reason = %q, want %q; error: %v", got, tc.want, err)
			}
			checkMessage(t, err)
			if tc.want == ReasonKeyMismatch || tc.want == ReasonWeakKey || tc.want == ReasonBadSignature ||
				tc.want == ReasonMissing && tc.cert == nil || tc.want == ReasonPayloadMismatch {
				return // these need the certificate; the header alone is fine
			}
			if _, err := ParseHeader(tc.compact); ReasonOf(err) != tc.want {
				t.Errorf("ParseHeader: reason = %q, want %q (%v)", ReasonOf(err), tc.want, err)
			}
		})
	}
}

// checkMessage checks that an error is an *Error whose text is a sentence.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *Error: %v", err, err)
	}
	msg := err.Error()
	if msg == "" || !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
		t.Errorf("message is not a sentence: %q", msg)
	}
	if !errors.Is(err, &Error{Reason: e.Reason}) {
		t.Errorf("errors.Is does not match its own reason")
	}
}

func TestVerifyDetachedAccepts(t *testing.T) {
	ek := ecKey()
	cases := []struct {
		name, header string
		payload      []byte
	}{
		{"unknown parameters are ignored", `{"alg":"ES256","x5t":"ignored","cty":"json","ALG":"none","iat":1e999}`, body},
		{"b64 false with crit", `{"alg":"ES256","b64":false,"crit":["b64"]}`, body},
		{"b64 false, payload with dots and newlines", `{"b64":false,"crit":["b64"],"alg":"ES256"}`, []byte("a.b\n.c")},
		{"x5c and x5t agree", `{"alg":"ES256","x5c":["` + x5c(ek.cert) + `"],"x5t#S256":"` + ThumbprintS256(ek.cert) + `"}`, body},
		{"mBank style header", `{"alg":"ES256","typ":"JWT","x5u":"https://tpp.example/qseal.pem","x5t#S256":"` + ThumbprintS256(ek.cert) + `"}`, body},
		{"whitespace in JSON", " {\n\t\"alg\" : \"ES256\" } ", body},
		{"empty payload", `{"alg":"ES256"}`, []byte{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			compact := signRaw(t, ek, ES256, tc.header, tc.payload)
			h, err := VerifyDetached(compact, tc.payload, ek.cert)
			if err != nil {
				t.Fatal(err)
			}
			if h.Alg != ES256 || string(h.Raw) != tc.header {
				t.Errorf("header = %+v", h)
			}
		})
	}

	t.Run("attached same payload", func(t *testing.T) {
		c := signRaw(t, ek, ES256, `{"alg":"ES256"}`, body)
		i := strings.IndexByte(c, '.')
		c = c[:i+1] + base64.RawURLEncoding.EncodeToString(body) + c[i+1:]
		h, err := VerifyDetached(c, body, ek.cert)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Attached || string(h.Payload) != string(body) {
			t.Errorf("Attached = %v, Payload = %q", h.Attached, h.Payload)
		}
	})
}

func TestParseHeader(t *testing.T) {
	ek := ecKey()
	header := `{"alg":"PS256","kid":"k","typ":"JOSE","x5u":"https://tpp.example/c.pem","x5c":["` + x5c(ek.cert) + `","` + x5c(rsaKey().cert) + `"],"x5t#S256":"` + ThumbprintS256(ek.cert) + `","b64":false,"crit":["b64"]}`
	h, err := ParseHeader(b64(header) + "..AAAA")
	if err != nil {
		t.Fatal(err)
	}
	if h.Alg != PS256 || h.Kid != "k" || h.Typ != "JOSE" || h.X5U != "https://tpp.example/c.pem" ||
		len(h.X5C) != 2 || !h.X5C[0].Equal(ek.cert) || !h.X5C[1].Equal(rsaKey().cert) ||
		h.X5TS256 != ThumbprintS256(ek.cert) || !h.Unencoded() || len(h.Crit) != 1 || string(h.Raw) != header || h.Attached {
		t.Errorf("header = %+v", h)
	}
	if !json.Valid(h.Raw) {
		t.Error("Raw is not JSON")
	}
}

func TestReasonOf(t *testing.T) {
	if ReasonOf(nil) != "" || ReasonOf(errors.New("x")) != "" {
		t.Error("ReasonOf of a non-*Error is not empty")
	}
	wrapped := errors.Join(errors.New("context"), newError(ReasonUnknownCrit, "x."))
	if ReasonOf(wrapped) != ReasonUnknownCrit {
		t.Error("ReasonOf does not look through wrapping")
	}
	cause := errors.New("cause")
	if e := wrapError(ReasonBadCertificate, cause, "x."); !errors.Is(e, cause) {
		t.Error("Unwrap does not return the cause")
	}
	if (&Error{Reason: ReasonMalformed}).Error() == "" {
		t.Error("empty message without Detail")
	}
}
