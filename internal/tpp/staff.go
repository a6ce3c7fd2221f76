package tpp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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

// AuthenticateStaff checks a staff login and password.
func (r *Registry) AuthenticateStaff(ctx context.Context, login, password string) (Staff, error) {
	var s Staff
	var hash string
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT login, role, created_at, password_hash FROM staff WHERE login = $1`,
		strings.TrimSpace(login)).Scan(&s.Login, &s.Role, &created, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		sca.CheckPassword(dummyHash, password)
		return Staff{}, newError(CodeUnauthenticated, "wrong login or password", "błędny login lub hasło")
	}
	if err != nil {
		return Staff{}, fmt.Errorf("read staff: %w", err)
	}
	if err := sca.CheckPassword(hash, password); err != nil {
		return Staff{}, newError(CodeUnauthenticated, "wrong login or password", "błędny login lub hasło")
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
