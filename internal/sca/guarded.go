package sca

import (
	"context"
	"errors"
	"sync"

	"github.com/psd2bank/psd2bank/internal/lockout"
)

// guardDummyHash is checked against when a login is unknown, so that a
// wrong login takes as long as a wrong password.
var guardDummyHash = sync.OnceValue(func() string {
	h, err := hashUnlimited("no account has this password")
	if err != nil {
		panic(err)
	}
	return h
})

// GuardedCheck checks a log-in's password under the lockout of g, for any
// realm (customers here; developers and staff in internal/tpp). In order:
// a login locked now is refused at once (*lockout.LockedError, nothing
// hashed); a password-hash slot is taken (ErrBusy when none frees in time,
// nothing counted); the attempt is counted as failed (lockout.Guard.Begin,
// which may refuse it as locked); the password is checked against the hash
// that lookup returns ("" for no such account: a dummy hash is checked so
// that the answer takes as long); a wrong password answers ErrWrongPassword
// with the attempt (Left, LockedNow) and is audited; a right one clears the
// count unless a concurrent attempt locked the login (*lockout.LockedError).
func GuardedCheck(ctx context.Context, g *lockout.Guard, realm lockout.Realm, login, password string,
	lookup func(ctx context.Context) (string, error)) (lockout.Attempt, error) {
	if err := g.Check(ctx, realm, login); err != nil {
		return lockout.Attempt{}, err
	}
	l := Hashes()
	release, err := l.acquire(ctx)
	if err != nil {
		return lockout.Attempt{}, err
	}
	defer release()
	a, err := g.Begin(ctx, realm, login)
	if err != nil {
		return lockout.Attempt{}, err
	}
	hash, err := lookup(ctx)
	if err != nil {
		// Nothing was checked: give the attempt back.
		g.Abandon(ctx, a)
		return lockout.Attempt{}, err
	}
	known := hash != ""
	if !known {
		hash = guardDummyHash()
	}
	err = checkPassword(ctx, nil, hash, password)
	release()
	if err == nil && !known {
		err = ErrWrongPassword
	}
	if errors.Is(err, ErrWrongPassword) {
		if ferr := g.Fail(ctx, a); ferr != nil {
			return a, ferr
		}
		return a, ErrWrongPassword
	}
	if err != nil {
		g.Abandon(ctx, a)
		return a, err
	}
	return a, g.Succeed(ctx, a)
}
