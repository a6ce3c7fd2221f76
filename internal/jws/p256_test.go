package jws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"testing"
)

// p256Cases are signatures and digests around a valid signature (r, s) of
// digest by key: the valid one, its malleated twin (n-s, also valid), and
// every way to get one wrong that ECDSA's checks stop.
func p256Cases(t testing.TB, key *ecdsa.PrivateKey, other *ecdsa.PrivateKey) []struct {
	name   string
	digest []byte
	r, s   *big.Int
} {
	n := p256N
	one := big.NewInt(1)
	add := func(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) }
	sub := func(a, b *big.Int) *big.Int { return new(big.Int).Sub(a, b) }
	sign := func(k *ecdsa.PrivateKey, d []byte) (*big.Int, *big.Int) {
		r, s, err := ecdsa.Sign(rand.Reader, k, d)
		if err != nil {
			t.Fatal(err)
		}
		return r, s
	}
	digest := make([]byte, 32)
	rand.Read(digest)
	r, s := sign(key, digest)
	flipped := append([]byte(nil), digest...)
	flipped[31] ^= 1
	zero := make([]byte, 32) // e = 0: u1·G is the point at infinity
	rz, sz := sign(key, zero)
	nBytes := n.FillBytes(make([]byte, 32)) // e = n ≡ 0 too
	rn, sn := sign(key, nBytes)
	ro, so := sign(other, digest)
	max := new(big.Int).Sub(new(big.Int).Lsh(one, 256), one)
	type c = struct {
		name   string
		digest []byte
		r, s   *big.Int
	}
	return []c{
		{"valid", digest, r, s},
		{"valid, s malleated to n-s", digest, r, sub(n, s)},
		{"valid over a zero digest", zero, rz, sz},
		{"valid over a digest equal to n", nBytes, rn, sn},
		{"zero digest, signature of another", zero, r, s},
		{"digest with a bit flipped", flipped, r, s},
		{"r+1", digest, add(r, one), s},
		{"s+1", digest, r, add(s, one)},
		{"r+n", digest, add(r, n), s},
		{"s+n", digest, r, add(s, n)},
		{"r = 0", digest, new(big.Int), s},
		{"s = 0", digest, r, new(big.Int)},
		{"r = n", digest, new(big.Int).Set(n), s},
		{"s = n", digest, r, new(big.Int).Set(n)},
		{"r = 2^256-1", digest, max, s},
		{"s = 2^256-1", digest, r, max},
		{"r = 1, s = 1", digest, one, one},
		{"r negative", digest, new(big.Int).Neg(r), s},
		{"s negative", digest, r, new(big.Int).Neg(s)},
		{"another key's signature", digest, ro, so},
		{"r and s swapped", digest, s, r},
	}
}

func TestP256VerifyAgrees(t *testing.T) {
	t.Parallel()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for range 6 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		table := p256TableFor(&key.PublicKey)
		if table == nil {
			t.Fatal("no table for a P-256 key")
		}
		if again := p256TableFor(&key.PublicKey); again != table {
			t.Fatal("the key's table was built again")
		}
		accepted := 0
		for _, c := range p256Cases(t, key, other) {
			want := ecdsa.Verify(&key.PublicKey, c.digest, c.r, c.s)
			if got := table.verify(c.digest, c.r, c.s); got != want {
				t.Errorf("%s: verified %v, crypto/ecdsa says %v", c.name, got, want)
			}
			if want {
				accepted++
			}
		}
		if accepted != 4 { // the four valid cases; the rest must be refused by both
			t.Errorf("crypto/ecdsa accepted %d of the cases, want 4", accepted)
		}
	}
}

// TestP256VerifyTableIsTheKeys checks that a table is never used for
// another key: each key verifies only its own signatures.
func TestP256VerifyTableIsTheKeys(t *testing.T) {
	t.Parallel()
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := sha256.Sum256([]byte("a request"))
	r, s, _ := ecdsa.Sign(rand.Reader, a, d[:])
	if !verifyES256(&a.PublicKey, d[:], r, s) {
		t.Fatal("a's signature refused with a's key")
	}
	if verifyES256(&b.PublicKey, d[:], r, s) {
		t.Fatal("a's signature verified with b's key")
	}
	// A public key that is not a point of the curve gets no table and is
	// refused as crypto/ecdsa refuses it.
	bad := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Set(a.X), Y: new(big.Int).Add(a.Y, big.NewInt(1))}
	if p256TableFor(bad) != nil {
		t.Fatal("a table for a point off the curve")
	}
	if verifyES256(bad, d[:], r, s) {
		t.Fatal("a signature verified with a point off the curve")
	}
}

// TestP256TablesBounded checks that no more than maxP256Tables tables are
// kept, and that a key whose table was dropped still verifies.
func TestP256TablesBounded(t *testing.T) {
	first, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := sha256.Sum256([]byte("x"))
	r, s, _ := ecdsa.Sign(rand.Reader, first, d[:])
	for i := range maxP256Tables + 3 {
		k := &first.PublicKey
		if i > 0 {
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			k = &other.PublicKey
		}
		p256TableFor(k)
	}
	p256Tables.Lock()
	kept := len(p256Tables.m)
	p256Tables.Unlock()
	if kept > maxP256Tables {
		t.Fatalf("%d tables kept, at most %d", kept, maxP256Tables)
	}
	if !verifyES256(&first.PublicKey, d[:], r, s) {
		t.Fatal("a valid signature refused after the tables were bounded")
	}
}

func FuzzP256Verify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range p256Cases(f, key, key) {
		if c.r.Sign() >= 0 && c.s.Sign() >= 0 {
			f.Add(c.digest, c.r.Bytes(), c.s.Bytes())
		}
	}
	table := p256TableFor(&key.PublicKey)
	f.Fuzz(func(t *testing.T, digest, rb, sb []byte) {
		r, s := new(big.Int).SetBytes(rb), new(big.Int).SetBytes(sb)
		if got, want := table.verify(digest, r, s), ecdsa.Verify(&key.PublicKey, digest, r, s); got != want {
			t.Fatalf("verified %v, crypto/ecdsa says %v (digest %x r %x s %x)", got, want, digest, rb, sb)
		}
	})
}

// TestVerifyASN1Agrees checks VerifyASN1 against crypto/ecdsa.VerifyASN1
// on DER signatures: valid ones, the cases of p256Cases encoded, and
// encodings crypto/ecdsa may refuse (a leading zero too many, trailing
// bytes, a truncated one, not ASN.1 at all), and on a P-384 key.
func TestVerifyASN1Agrees(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	accepted := 0
	check := func(name string, pub *ecdsa.PublicKey, digest, sig []byte) {
		want := ecdsa.VerifyASN1(pub, digest, sig)
		if got := VerifyASN1(pub, digest, sig); got != want {
			t.Errorf("%s: verified %v, crypto/ecdsa says %v", name, got, want)
		}
		if want {
			accepted++
		}
	}
	for _, c := range p256Cases(t, key, other) {
		check(c.name, &key.PublicKey, c.digest, der(c.r, c.s))
	}
	d := sha256.Sum256([]byte("GET /v1/accounts"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, d[:])
	check("valid", &key.PublicKey, d[:], sig)
	check("trailing bytes", &key.PublicKey, d[:], append(append([]byte(nil), sig...), 0))
	check("truncated", &key.PublicKey, d[:], sig[:len(sig)-1])
	check("not ASN.1", &key.PublicKey, d[:], []byte("signature"))
	check("empty", &key.PublicKey, d[:], nil)
	// A leading zero too many in r: the same numbers, not canonical DER.
	var rs struct{ R, S *big.Int }
	asn1.Unmarshal(sig, &rs)
	rb := append([]byte{0, 0}, rs.R.Bytes()...)
	sb := rs.S.Bytes()
	if sb[0]&0x80 != 0 {
		sb = append([]byte{0}, sb...)
	}
	body := append(append([]byte{0x02, byte(len(rb))}, rb...), append([]byte{0x02, byte(len(sb))}, sb...)...)
	check("a leading zero too many", &key.PublicKey, d[:], append([]byte{0x30, byte(len(body))}, body...))
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	d384 := sha256.Sum256([]byte("P-384"))
	sig384, _ := ecdsa.SignASN1(rand.Reader, p384, d384[:])
	check("P-384", &p384.PublicKey, d384[:], sig384)
	if accepted != 6 { // the four valid cases, the valid signature, P-384's
		t.Errorf("crypto/ecdsa accepted %d signatures, want 6", accepted)
	}
}
