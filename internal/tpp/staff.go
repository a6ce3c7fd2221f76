package tpp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
)

// RoleBackoffice is the staff role that reviews applications and suspends
// TPPs.
const RoleBackoffice = "backoffice"

// Staff is a member of the bank's staff who uses the back office.
type Staff struct {
	Login     string
	Role      string
	CreatedAt time.Time
}

// EnsureStaff creates a staff account, or sets the password and role of an
// existing one (the sandbox bootstrap calls it on every start).
func (r *Registry) EnsureStaff(ctx context.Context, login, password, role string) error {
	login = strings.TrimSpace(login)
	if login == "" || password == "" || role == "" {
		return newError(CodeInvalid, "a staff account needs a login, a password and a role", "konto pracownika wymaga loginu, hasła i roli")
	}
	hash, err := sca.HashPassword(password)
	if err != nil {
		return err
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		now := micros(r.clock.Now())
		res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $2, role = $3 WHERE login = $1`, login, hash, role)
		if err != nil {
			return fmt.Errorf("update staff: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (login, password_hash, role, created_at) VALUES ($1, $2, $3, $4)`,
				login, hash, role, now); err != nil {
				return fmt.Errorf("create staff: %w", err)
			}
		}
		return r.audit(ctx, tx, "system", ActionStaffEnsure, login, "role "+role)
	})
}

// AuthenticateStaff checks a staff login and password, under the lockout
// (see internal/lockout): five failures in a row lock the login for 15
// minutes, the right password included (CodeLocked), until the lock runs
// out or another staff member lifts it (UnlockLogin); CodeBusy when every
// password-hash slot is taken (nothing counted). Every failure is audited
// with the client's address (lockout.WithSource). A hash made with other
// parameters than today's is replaced at the next successful log-in.
func (r *Registry) AuthenticateStaff(ctx context.Context, login, password string) (Staff, error) {
	var s Staff
	var hash string
	var created int64
	login = strings.TrimSpace(login)
	a, err := r.guardedLogin(ctx, lockout.Staff, login, password, "login", "login", func(ctx context.Context) (string, error) {
		err := r.db.QueryRowContext(ctx, `SELECT login, role, created_at, password_hash FROM staff WHERE login = $1`,
			login).Scan(&s.Login, &s.Role, &created, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("read staff: %w", err)
		}
		return hash, nil
	})
	if err != nil {
		if c := CodeOf(err); c == CodeUnauthenticated || c == CodeLocked {
			detail := fmt.Sprintf("failure %d of %d", a.N, lockout.MaxFailures)
			if c == CodeLocked && a.N == 0 {
				detail = "refused: the login is locked"
			} else if a.LockedNow() {
				detail += "; locked until " + a.Until.Format(time.RFC3339)
			}
			if src := lockout.Source(ctx); src != "" {
				detail += "; from " + src
			}
			if aerr := r.audit(ctx, r.db, login, ActionStaffLoginFailed, login, detail); aerr != nil {
				return Staff{}, aerr
			}
		}
		return Staff{}, err
	}
	if !sca.Current(hash) {
		if h, err := sca.HashPasswordContext(ctx, password); err == nil {
			r.db.ExecContext(ctx, `UPDATE staff SET password_hash = $2 WHERE login = $1 AND password_hash = $3`, s.Login, h, hash)
		}
	}
	s.CreatedAt = fromMicros(created)
	return s, nil
}

// StaffMember returns the staff account with the given login.
func (r *Registry) StaffMember(ctx context.Context, login string) (Staff, error) {
	var s Staff
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT login, role, created_at FROM staff WHERE login = $1`, login).Scan(&s.Login, &s.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, newError(CodeNotFound, "no such staff account", "nie ma takiego konta pracownika")
	}
	if err != nil {
		return Staff{}, fmt.Errorf("read staff: %w", err)
	}
	s.CreatedAt = fromMicros(created)
	return s, nil
}
