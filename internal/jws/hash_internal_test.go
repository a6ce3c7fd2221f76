package jws

import (
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHashSigningInput checks the chunked hashing against the signing input
// built whole — SHA-256 of header + "." + payload, the payload in base64url
// without padding or as it is — for payloads of every length around the
// chunk boundaries and headers shorter and longer than the buffer.
func TestHashSigningInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, header := range []string{"", "eyJhbGciOiJFUzI1NiJ9", strings.Repeat("h", 1023), strings.Repeat("x5c", 1500)} {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 767, 768, 769, 770, 771, 1535, 1536, 1537, 1538, 5000, 80_001} {
			payload := make([]byte, n)
			for i := range payload {
				payload[i] = byte(rng.UintN(256))
			}
			for _, raw := range []bool{false, true} {
				want := header + "." + base64.RawURLEncoding.EncodeToString(payload)
				if raw {
					want = header + "." + string(payload)
				}
				if got := hashSigningInput(header, payload, raw); got != sha256.Sum256([]byte(want)) {
					t.Errorf("header of %d bytes, payload of %d bytes, raw %v: wrong digest", len(header), n, raw)
				}
			}
		}
	}
}
