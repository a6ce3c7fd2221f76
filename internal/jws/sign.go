package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// SignerOptions choose the protected header a Signer writes. The zero value
// gives {"alg":...,"x5c":[cert],"x5t#S256":...}.
type SignerOptions struct {
	// Alg is "" to choose from the key (ES256 for P-256, RS256 for RSA), or
	// PS256 for an RSA key.
	Alg string
	// Kid and Typ, when not empty, are written as kid and typ.
	Kid string
	Typ string
	// OmitX5C leaves out x5c; OmitX5TS256 leaves out x5t#S256.
	OmitX5C     bool
	OmitX5TS256 bool
	// Chain holds intermediate certificates, written in x5c after cert.
	Chain []*x509.Certificate
	// Unencoded signs the payload as is (RFC 7797): the header gets
	// "b64":false and "crit":["b64"].
	Unencoded bool
}

// Signer makes detached JWS signatures with one key. Its protected header is
// encoded once, so a signature costs one hash over the header and the
// encoded payload, and one private-key operation. It is safe for concurrent
// use if the key is.
type Signer struct {
	key       crypto.Signer
	alg       string
	opts      crypto.SignerOpts
	headerSeg string // BASE64URL(UTF8(JWS Protected Header))
	unencoded bool
	cert      *x509.Certificate
}

// protectedHeader fixes the member order of the headers a Signer writes.
type protectedHeader struct {
	Alg     string   `json:"alg"`
	Typ     string   `json:"typ,omitempty"`
	Kid     string   `json:"kid,omitempty"`
	X5C     []string `json:"x5c,omitempty"`
	X5TS256 string   `json:"x5t#S256,omitempty"`
	B64     *bool    `json:"b64,omitempty"`
	Crit    []string `json:"crit,omitempty"`
}

// NewSigner returns a Signer for key, whose certificate is cert. The key must
// be the certificate's: RSA of at least 2048 bits, or ECDSA P-256. It may
// live in an HSM behind crypto.Signer.
func NewSigner(key crypto.Signer, cert *x509.Certificate, opts SignerOptions) (*Signer, error) {
	if key == nil || cert == nil {
		return nil, errors.New("jws: NewSigner needs a key and its certificate")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("jws: the signing key is not the key of certificate %s", describe(cert))
	}
	s := &Signer{key: key, alg: opts.Alg, unencoded: opts.Unencoded, cert: cert}
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("jws: RSA key of %d bits; at least %d are needed", k.N.BitLen(), minRSABits)
		}
		switch s.alg {
		case "", RS256:
			s.alg, s.opts = RS256, crypto.SHA256
		case PS256:
			s.opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		default:
			return nil, fmt.Errorf("jws: alg %q cannot be used with an RSA key; use RS256 or PS256", s.alg)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("jws: EC key on %s; ES256 needs P-256", k.Curve.Params().Name)
		}
		if s.alg != "" && s.alg != ES256 {
			return nil, fmt.Errorf("jws: alg %q cannot be used with an EC key; use ES256", s.alg)
		}
		s.alg, s.opts = ES256, crypto.SHA256
	default:
		return nil, fmt.Errorf("jws: %T keys are not supported; use RSA or ECDSA P-256", key.Public())
	}

	ph := protectedHeader{Alg: s.alg, Typ: opts.Typ, Kid: opts.Kid}
	if !opts.OmitX5C {
		for _, c := range append([]*x509.Certificate{cert}, opts.Chain...) {
			ph.X5C = append(ph.X5C, base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
	if !opts.OmitX5TS256 {
		ph.X5TS256 = ThumbprintS256(cert)
	}
	if opts.Unencoded {
		ph.B64, ph.Crit = new(false), []string{"b64"}
	}
	raw, err := json.Marshal(ph)
	if err != nil {
		return nil, fmt.Errorf("jws: encoding the header: %w", err)
	}
	// Never write a header that VerifyDetached would refuse.
	if _, err := parseHeaderJSON(raw); err != nil {
		return nil, fmt.Errorf("jws: the header would be refused: %w", err)
	}
	s.headerSeg = base64.RawURLEncoding.EncodeToString(raw)
	return s, nil
}

// Key is the signing key, for signatures of other formats (Berlin Group's
// HTTP signatures) made with the same seal.
func (s *Signer) Key() crypto.Signer { return s.key }

// Certificate is the key's certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// Alg returns the algorithm the Signer uses.
func (s *Signer) Alg() string { return s.alg }

// SignDetached signs payload, the exact bytes of the message, and returns the
// detached compact JWS BASE64URL(header) + ".." + BASE64URL(signature).
func (s *Signer) SignDetached(payload []byte) (string, error) {
	return s.signDigest(hashSigningInput(s.headerSeg, payload, s.unencoded))
}

// signDigest returns the detached compact JWS of the signing input whose
// SHA-256 is digest.
func (s *Signer) signDigest(digest [sha256.Size]byte) (string, error) {
	sig, err := s.key.Sign(rand.Reader, digest[:], s.opts)
	if err != nil {
		return "", fmt.Errorf("jws: signing: %w", err)
	}
	if s.alg == ES256 {
		if sig, err = ecdsaRawSignature(sig); err != nil {
			return "", err
		}
	}
	out := make([]byte, 0, len(s.headerSeg)+2+base64.RawURLEncoding.EncodedLen(len(sig)))
	out = append(out, s.headerSeg...)
	out = append(out, '.', '.')
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	return string(out), nil
}

// ecdsaRawSignature converts the ASN.1 DER signature crypto.Signer returns
// for ECDSA into the JWS form R||S, each 32 bytes big-endian.
func ecdsaRawSignature(der []byte) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, errors.New("jws: the key returned a malformed ECDSA signature")
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}
