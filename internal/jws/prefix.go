package jws

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"sync"
)

// A Prefix is the start of payloads one Signer signs again and again — a
// page of history that has not changed, followed by what does (the page
// link, the response header). The signing input's hash over it is computed
// once per Signer and continued for each payload that begins with it:
// SHA-256 and base64url over a 78 kB page are most of what a signature
// costs. A payload that does not begin with the prefix is signed in full,
// so a wrong prefix costs time, never a wrong signature.
//
// A Prefix is safe for concurrent use.
type Prefix struct {
	b []byte

	mu     sync.Mutex
	signer *Signer     // whose header h starts with
	h      hash.Cloner // over headerSeg "." and the encoding of b[:n]
	n      int
}

// NewPrefix returns a Prefix of b, which it keeps: the caller must not
// change b afterwards.
func NewPrefix(b []byte) *Prefix { return &Prefix{b: b} }

// Bytes returns the prefix's bytes, which the caller must not change.
func (p *Prefix) Bytes() []byte { return p.b }

// state returns a hash of s's signing input over the prefix's first n
// bytes, for the caller to continue: computed on the first call for s, a
// copy of the kept state after that.
func (p *Prefix) state(s *Signer) (hash.Hash, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signer != s {
		h := sha256.New()
		writeHeaderSeg(h, s.headerSeg)
		n := len(p.b)
		if !s.unencoded {
			n -= n % 3 // whole base64 groups: the rest is encoded with what follows it
		}
		writePayload(h, p.b[:n], s.unencoded)
		p.signer, p.h, p.n = s, h.(hash.Cloner), n
	}
	c, err := p.h.Clone()
	if err != nil { // unreachable: crypto/sha256 clones
		return nil, 0
	}
	return c, p.n
}

// SignDetachedAfter is SignDetached of payload, which usually begins with
// p's bytes (p may be nil): the hash over them is then not computed again.
func (s *Signer) SignDetachedAfter(payload []byte, p *Prefix) (string, error) {
	if p == nil || !bytes.HasPrefix(payload, p.b) {
		return s.SignDetached(payload)
	}
	h, n := p.state(s)
	if h == nil {
		return s.SignDetached(payload)
	}
	writePayload(h, payload[n:], s.unencoded)
	var digest [sha256.Size]byte
	h.Sum(digest[:0])
	return s.signDigest(digest)
}
