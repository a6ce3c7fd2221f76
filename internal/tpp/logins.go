package tpp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// Audit actions of staff log-ins and lockouts.
const (
	ActionStaffLoginFailed = "staff.login_failed"
	ActionLoginUnlock      = "login.unlock"
)

// The codes of refused log-ins besides CodeUnauthenticated.
var (
	CodeLocked = fault.Define("tpp", "locked") // too many failed log-ins: the login is locked for a while
	CodeBusy   = fault.Define("tpp", "busy")   // too many log-ins at this moment: try again in a few seconds
)

var errLoginBusy = newError(CodeBusy, "too many log-ins at this moment; try again in a few seconds",
	"zbyt wiele logowań w tej chwili; spróbuj ponownie za kilka sekund")

func errLoginLocked(until, now time.Time, staff bool) *Error {
	at := until.In(polish.Warsaw).Format("15:04")
	if until.In(polish.Warsaw).Format(time.DateOnly) != now.In(polish.Warsaw).Format(time.DateOnly) {
		at = until.In(polish.Warsaw).Format("2006-01-02 15:04")
	}
	if staff {
		return newError(CodeLocked,
			"after %d failed log-ins the login is locked until %s; try again then, or ask another staff member to unlock it",
			"po %d nieudanych logowaniach login jest zablokowany do %s; spróbuj ponownie po tym czasie lub poproś innego pracownika o odblokowanie",
			lockout.MaxFailures, at)
	}
	return newError(CodeLocked, "after %d failed log-ins the login is locked until %s; try again then",
		"po %d nieudanych logowaniach login jest zablokowany do %s; spróbuj ponownie po tym czasie", lockout.MaxFailures, at)
}

func errWrongLogin(what, whatPL string, a lockout.Attempt, now time.Time, staff bool) *Error {
	if a.LockedNow() {
		return errLoginLocked(a.Until, now, staff)
	}
	return newError(CodeUnauthenticated, "wrong %s or password; attempts left before the login is locked: %d",
		"błędny %s lub hasło; pozostałe próby przed zablokowaniem loginu: %d", what, a.Left())
}

// Lockout is the guard of developers' and staff log-ins.
func (r *Registry) Lockout() *lockout.Guard { return r.guard }

// guardedLogin runs a log-in under the lockout and maps its refusals to
// registry errors.
func (r *Registry) guardedLogin(ctx context.Context, realm lockout.Realm, login, password, what, whatPL string,
	lookup func(ctx context.Context) (string, error)) (lockout.Attempt, error) {
	now := r.clock.Now()
	a, err := sca.GuardedCheck(ctx, r.guard, realm, login, password, lookup)
	var locked *lockout.LockedError
	switch {
	case err == nil:
		return a, nil
	case errors.As(err, &locked):
		return a, errLoginLocked(locked.Until, now, realm == lockout.Staff)
	case errors.Is(err, sca.ErrBusy):
		return a, errLoginBusy
	case errors.Is(err, sca.ErrWrongPassword):
		return a, errWrongLogin(what, whatPL, a, now, realm == lockout.Staff)
	}
	return a, fmt.Errorf("check password: %w", err)
}

// UnlockLogin lifts the lock of a customer's, developer's or staff login, as
// the staff member staff does in the back office; audited. It tells whether
// the login was locked. Nobody unlocks their own login.
func (r *Registry) UnlockLogin(ctx context.Context, guard *lockout.Guard, realm lockout.Realm, login, staff string) (bool, error) {
	done, err := guard.Unlock(ctx, realm, login, staff)
	if errors.Is(err, lockout.ErrOwnLogin) {
		return false, newError(CodeInvalid, "a staff member cannot unlock their own login; another staff member must",
			"pracownik nie może odblokować własnego loginu; musi to zrobić inny pracownik")
	}
	if err != nil || !done {
		return done, err
	}
	detail := string(realm)
	if src := lockout.Source(ctx); src != "" {
		detail += "; from " + src
	}
	return true, r.audit(ctx, r.db, staff, ActionLoginUnlock, login, detail)
}
