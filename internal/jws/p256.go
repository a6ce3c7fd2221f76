package jws

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"math/big"
	"sync"

	"filippo.io/nistec"
)

// ES256 verification with a table kept per key.
//
// An ECDSA verification computes u1·G + u2·Q, G the curve's generator and
// Q the signer's public key. The standard library multiplies by G with
// tables of G's multiples built into it, but by Q with a general
// constant-time multiplication — five doublings and an addition per 5-bit
// window, two thirds of a verification's time (BenchmarkVerifyDetached).
// A TPP signs every request with the same QSealC key, so the bank keeps
// for each key it verifies a table of Q's multiples, as the library keeps
// G's: entry [i][d-1] is d·2^(6i)·Q. u2·Q is then the sum of one entry per
// 6-bit digit of u2 — 43 additions and no doubling. The table depends on
// the public key alone, which cannot change (a parsed certificate's key);
// everything a signature brings is checked anew each time.
//
// The arithmetic is filippo.io/nistec's (the standard library's P-256
// code, exported); what is here is the ECDSA equation of FIPS 186-5
// §6.4.2 around it. No secret is involved in a verification, so nothing
// here needs to run in constant time. TestP256VerifyAgrees and
// FuzzP256Verify check it against crypto/ecdsa.Verify.

const (
	p256Window  = 6
	p256Windows = (256 + p256Window - 1) / p256Window // 43
	p256Digits  = 1<<p256Window - 1                   // nonzero digits of a window
)

type p256Table [p256Windows][p256Digits]nistec.P256Point

var p256N = elliptic.P256().Params().N

// newP256Table is Q's table, Q given in uncompressed form.
func newP256Table(q *nistec.P256Point) *p256Table {
	t := new(p256Table)
	base := nistec.NewP256Point().Set(q) // 2^(6i)·Q
	for i := range p256Windows {
		t[i][0].Set(base)
		for d := 1; d < p256Digits; d++ {
			t[i][d].Add(&t[i][d-1], base)
		}
		base.Add(&t[i][p256Digits-1], base)
	}
	return t
}

// verify tells whether (r, s) is a valid ECDSA signature of digest (the
// SHA-256 of the signing input) by the table's key.
func (t *p256Table) verify(digest []byte, r, s *big.Int) bool {
	// r and s in [1, n-1].
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(p256N) >= 0 || s.Cmp(p256N) >= 0 {
		return false
	}
	// e: the digest's leftmost 256 bits (all of a SHA-256).
	if len(digest) > 32 {
		digest = digest[:32]
	}
	e := new(big.Int).SetBytes(digest)
	w := new(big.Int).ModInverse(s, p256N)
	u1 := e.Mul(e, w)
	u1.Mod(u1, p256N)
	u2 := w.Mul(r, w)
	u2.Mod(u2, p256N)

	var b [32]byte
	x, err := nistec.NewP256Point().ScalarBaseMult(u1.FillBytes(b[:]))
	if err != nil {
		return false
	}
	u2.FillBytes(b[:])
	for i := range p256Windows {
		if d := digitAt(&b, i*p256Window); d != 0 {
			x.Add(x, &t[i][d-1])
		}
	}
	xb, err := x.BytesX() // fails for the point at infinity
	if err != nil {
		return false
	}
	v := new(big.Int).SetBytes(xb)
	if v.Cmp(p256N) >= 0 {
		v.Sub(v, p256N)
	}
	return v.Cmp(r) == 0
}

// digitAt is the window of p256Window bits of the 256-bit big-endian k
// that starts at bit (0 the least significant).
func digitAt(k *[32]byte, bit int) int {
	d := 0
	for j := range p256Window {
		n := bit + j
		if n < 256 && k[31-n/8]>>(n%8)&1 == 1 {
			d |= 1 << j
		}
	}
	return d
}

// p256Tables are the tables of the keys verified lately, by the key's
// uncompressed encoding. At most maxP256Tables are kept (260 KB each):
// beyond, an arbitrary one is dropped.
var p256Tables = struct {
	sync.Mutex
	m map[string]*p256Entry
}{m: map[string]*p256Entry{}}

const maxP256Tables = 64

type p256Entry struct {
	once  sync.Once
	table *p256Table // nil when the key is not a valid point
}

// p256TableFor is pub's table, built on its first use (about 2 ms); nil
// when pub is not a point of P-256.
func p256TableFor(pub *ecdsa.PublicKey) *p256Table {
	if pub.Curve != elliptic.P256() || pub.X == nil || pub.Y == nil || pub.X.Sign() < 0 || pub.Y.Sign() < 0 ||
		pub.X.BitLen() > 256 || pub.Y.BitLen() > 256 {
		return nil
	}
	var enc [65]byte // 0x04 || X || Y; SetBytes checks that the point is on the curve
	enc[0] = 4
	pub.X.FillBytes(enc[1:33])
	pub.Y.FillBytes(enc[33:])
	p256Tables.Lock()
	e := p256Tables.m[string(enc[:])]
	if e == nil {
		if len(p256Tables.m) >= maxP256Tables {
			for k := range p256Tables.m {
				delete(p256Tables.m, k)
				break
			}
		}
		e = new(p256Entry)
		p256Tables.m[string(enc[:])] = e
	}
	p256Tables.Unlock()
	e.once.Do(func() {
		if q, err := nistec.NewP256Point().SetBytes(enc[:]); err == nil {
			e.table = newP256Table(q)
		}
	})
	return e.table
}

// verifyES256 is ecdsa.Verify(pub, digest, r, s) for a P-256 key, with
// the key's table.
func verifyES256(pub *ecdsa.PublicKey, digest []byte, r, s *big.Int) bool {
	if t := p256TableFor(pub); t != nil {
		return t.verify(digest, r, s)
	}
	return ecdsa.Verify(pub, digest, r, s)
}

// VerifyASN1 is ecdsa.VerifyASN1(pub, digest, sig) — for the HTTP
// signatures of Berlin Group, whose ECDSA signatures are ASN.1 DER — with
// the key's table when pub is on P-256. A signature that is not in
// canonical DER (whatever else crypto/ecdsa makes of it) is left to
// crypto/ecdsa, so the answer is always its answer.
func VerifyASN1(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err == nil && len(rest) == 0 && rs.R != nil && rs.S != nil {
		if again, err := asn1.Marshal(rs); err == nil && bytes.Equal(again, sig) {
			if t := p256TableFor(pub); t != nil {
				return t.verify(digest, rs.R, rs.S)
			}
		}
	}
	return ecdsa.VerifyASN1(pub, digest, sig)
}
