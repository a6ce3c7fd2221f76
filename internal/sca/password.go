// Package sca authenticates customers: passwords, and (with the consent
// flows) SMS codes and mobile-app approval.
package sca

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106's second recommended option scaled down to
// 19 MiB, as OWASP suggests): a login costs tens of milliseconds, never on
// the TPP request path.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash of password with a random
// salt. It waits for a free slot of the hash limiter (see Hashes) and
// answers ErrBusy when none frees in time.
func HashPassword(password string) (string, error) {
	return HashPasswordContext(context.Background(), password)
}

// HashPasswordContext is HashPassword that stops waiting for a slot when ctx
// ends.
func HashPasswordContext(ctx context.Context, password string) (string, error) {
	release, err := Hashes().acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashUnlimited(password)
}

// hashUnlimited hashes without taking a slot.
func hashUnlimited(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrWrongPassword is returned by CheckPassword for a password that does not match.
var ErrWrongPassword = errors.New("wrong login or password")

// CheckPassword tells whether password matches an encoded hash. It waits
// for a free slot of the hash limiter (see Hashes) and answers ErrBusy when
// none frees in time: a caller must not count that as a wrong password.
func CheckPassword(encoded, password string) error {
	return CheckPasswordContext(context.Background(), encoded, password)
}

// CheckPasswordContext is CheckPassword that stops waiting for a slot when
// ctx ends.
func CheckPasswordContext(ctx context.Context, encoded, password string) error {
	return checkPassword(ctx, Hashes(), encoded, password)
}

// checkPassword checks password against encoded, taking a slot of l (nil:
// the caller holds one).
func checkPassword(ctx context.Context, l *HashLimiter, encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[0] != "argon2id" || parts[1] != "v=19" {
		return fmt.Errorf("password hash is not in the argon2id format")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return fmt.Errorf("password hash parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[3])
	if err != nil {
		return fmt.Errorf("password hash salt: %w", err)
	}
	want, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("password hash key: %w", err)
	}
	if m > maxArgonMemory || t > maxArgonTime || p == 0 || len(want) == 0 || len(want) > 64 {
		return fmt.Errorf("password hash parameters m=%d,t=%d,p=%d are out of bounds", m, t, p)
	}
	if l != nil {
		release, err := l.acquire(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrWrongPassword
	}
	return nil
}

// Bounds of the parameters CheckPassword accepts from a stored hash, so that
// a hash written by hand cannot make one check take gigabytes.
const (
	maxArgonMemory = 256 * 1024
	maxArgonTime   = 16
)

// Current tells whether an encoded hash uses today's parameters; a hash
// that does not is rehashed at the next successful log-in.
func Current(encoded string) bool {
	parts := strings.Split(encoded, "$")
	return len(parts) == 5 && parts[0] == "argon2id" && parts[1] == "v=19" &&
		parts[2] == fmt.Sprintf("m=%d,t=%d,p=%d", argonMemory, argonTime, argonThreads)
}
