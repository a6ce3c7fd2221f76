package gateway

import (
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

// A kept prefix's hash gives SHA-256 of the whole body, whether or not the
// body begins with the prefix, and from several calls at once.
func TestDigestPrefixIsSHA256(t *testing.T) {
	t.Parallel()
	page := []byte(`{"transactions":{"booked":[` + strings.Repeat(`{"transactionId":"x"},`, 500) + `{}]`)
	p := NewDigestPrefix(page)
	for name, body := range map[string][]byte{
		"the prefix and more":      append(append([]byte{}, page...), `,"_links":{}},"account":{}}`...),
		"the prefix alone":         page,
		"another beginning":        append([]byte(`{"x":1,`), page...),
		"the prefix, one byte off": append(append([]byte{}, page[:len(page)-1]...), '}'),
		"shorter than the prefix":  page[:10],
		"empty":                    nil,
	} {
		if got, want := p.Sum256(body), sha256.Sum256(body); got != want {
			t.Errorf("%s: %x, want %x", name, got, want)
		}
	}
	var none *DigestPrefix
	if got, want := none.Sum256(page), sha256.Sum256(page); got != want {
		t.Errorf("no prefix: %x, want %x", got, want)
	}
	body := append(append([]byte{}, page...), `,"_links":{}}}`...)
	want := sha256.Sum256(body)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := p.Sum256(body); got != want {
					t.Errorf("concurrently: %x, want %x", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
