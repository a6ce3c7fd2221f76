package jws

import (
	"bytes"
	"testing"
)

// benchBody is a 1 KiB JSON-ish body, the size of a typical PolishAPI
// request or a one-page account list response.
var benchBody = bytes.Repeat([]byte(`{"a":"0123456789abcdef0123456789"},`), 1024/35+1)[:1024]

var benchKeys = []struct {
	alg string
	key func() testKey
}{{ES256, ecKey}, {RS256, rsaKey}}

func BenchmarkSignDetached(b *testing.B) {
	for _, bk := range benchKeys {
		b.Run(bk.alg, func(b *testing.B) {
			s := mustSigner(b, bk.key(), SignerOptions{})
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				if _, err := s.SignDetached(benchBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyDetached(b *testing.B) {
	for _, bk := range benchKeys {
		b.Run(bk.alg, func(b *testing.B) {
			k := bk.key()
			compact, err := mustSigner(b, k, SignerOptions{}).SignDetached(benchBody)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				if _, err := VerifyDetached(compact, benchBody, k.cert); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMBankPayload(b *testing.B) {
	v := mbankVectors[1]
	body := []byte(v.body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		MBankPayload(v.uri, v.header, body)
	}
}
