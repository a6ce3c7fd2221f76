package jws

import (
	"bytes"
	"sync"
	"testing"
)

// RS256 is deterministic: a signature continued from a Prefix must be the
// very signature SignDetached makes, whatever the prefix's length modulo
// the base64 group, and whether or not the payload begins with it.
func TestSignDetachedAfterIsSignDetached(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte(`{"itemId":"ą€😀","amount":"1.00"},`), 200)
	for _, opts := range []SignerOptions{{}, {Unencoded: true}} {
		s := mustSigner(t, rsaKey(), opts)
		for cut := len(long) - 3; cut <= len(long); cut++ {
			p := NewPrefix(long[:cut])
			for _, payload := range [][]byte{
				long[:cut], // the prefix alone
				append(append([]byte(nil), long[:cut]...), `"pageInfo":{},"responseHeader":{}}`...),
				append(append([]byte(nil), long[:cut]...), 'x'),
				long[:cut-1],                     // shorter than the prefix
				append([]byte("X"), long[1:]...), // another first byte
				nil,
			} {
				want, err := s.SignDetached(payload)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 { // the first computes the state, the second copies it
					got, err := s.SignDetachedAfter(payload, p)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("b64=%v cut %d payload of %d bytes: SignDetachedAfter differs from SignDetached", !opts.Unencoded, cut, len(payload))
					}
				}
			}
		}
	}
}

// One Prefix used by two signers (a key rolled over) and from many
// goroutines: each signature verifies under its own signer's certificate.
func TestPrefixTwoSignersConcurrently(t *testing.T) {
	t.Parallel()
	prefix := bytes.Repeat([]byte("0123456789"), 1000)
	p := NewPrefix(prefix)
	signers := []struct {
		s *Signer
		k testKey
	}{{mustSigner(t, ecKey(), SignerOptions{}), ecKey()}, {mustSigner(t, rsaKey(), SignerOptions{}), rsaKey()}}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			sg := signers[i%2]
			payload := append(append([]byte(nil), prefix...), byte('a'+i))
			compact, err := sg.s.SignDetachedAfter(payload, p)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := VerifyDetached(compact, payload, sg.k.cert); err != nil {
				t.Errorf("signer %d: %v", i%2, err)
			}
		})
	}
	wg.Wait()
}
