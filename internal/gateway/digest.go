package gateway

import (
	"bytes"
	"crypto/sha256"
	"hash"
)

// DigestPrefix is a beginning an answer usually has, with SHA-256's state
// over it: an answer that begins with it is hashed from where the state
// left off (a Berlin Group transaction list read again: its Digest header
// over the same 100 items). It is shared by concurrent calls and never
// changed after NewDigestPrefix.
type DigestPrefix struct {
	prefix []byte
	state  hash.Cloner // SHA-256 over prefix; only cloned
}

// NewDigestPrefix is prefix with SHA-256's state over it.
func NewDigestPrefix(prefix []byte) *DigestPrefix {
	h := sha256.New()
	h.Write(prefix)
	return &DigestPrefix{prefix: prefix, state: h.(hash.Cloner)} // crypto/sha256's hashes are Cloners
}

// Sum256 is SHA-256 of body: from the kept state when body begins with the
// prefix, else over the whole body.
func (p *DigestPrefix) Sum256(body []byte) [32]byte {
	if p != nil && bytes.HasPrefix(body, p.prefix) {
		if h, err := p.state.Clone(); err == nil {
			h.Write(body[len(p.prefix):])
			var sum [32]byte
			h.Sum(sum[:0])
			return sum
		}
	}
	return sha256.Sum256(body)
}
