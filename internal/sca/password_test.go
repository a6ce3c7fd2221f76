package sca

import (
	"errors"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("sandbox-Haslo1")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("sandbox-Haslo1")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if err := CheckPassword(h, "sandbox-Haslo1"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := CheckPassword(h, "sandbox-haslo1"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := CheckPassword("plain", "plain"); err == nil || errors.Is(err, ErrWrongPassword) {
		t.Fatalf("malformed hash: %v", err)
	}
}

// BenchmarkCheckPassword is the cost of one argon2id check (19 MiB, t=2).
func BenchmarkCheckPassword(b *testing.B) {
	h, err := HashPassword("sandbox-Haslo1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		CheckPassword(h, "wrong")
	}
}
