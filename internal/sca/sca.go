package sca

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Rules of authentication.
const (
	maxLoginFailures = 5                // failed log-ins in a row that lock a login
	lockDuration     = 15 * time.Minute // how long a locked login stays locked
	challengeTTL     = 5 * time.Minute  // validity of an SMS code or a mobile-app request
	maxCodeAttempts  = 3                // wrong SMS codes that end a challenge
)

// DB is the storage the service needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Customers finds customers by login (the ledger does).
type Customers interface {
	CustomerByLogin(ctx context.Context, login string) (ledger.Customer, error)
}

// Service authenticates customers: log-in with lockout, SMS codes and
// mobile-app approval. It keeps all its state in the database and is safe
// for concurrent use, on any number of nodes.
type Service struct {
	db        DB
	customers Customers
	clock     clock.Clock

	// OnDecision, when set, is called after a mobile-app decision has been
	// committed, with the decided challenge (the decoupled OAuth flow uses
	// it). Set it before the service is used. It runs in the caller of
	// DecideMobile; a slow hook delays that answer.
	OnDecision func(ctx context.Context, c Challenge)
}

// New returns a service over db that finds customers in customers and reads
// the time from c.
func New(db DB, customers Customers, c clock.Clock) *Service {
	return &Service{db: db, customers: customers, clock: c}
}

// Customer returns the customer who logs in with login (for pages that keep
// the login in their session).
func (s *Service) Customer(ctx context.Context, login string) (ledger.Customer, error) {
	c, err := s.customers.CustomerByLogin(ctx, login)
	if ledger.CodeOf(err) == ledger.CodeNotFound {
		return ledger.Customer{}, errUnknownLogin(login)
	}
	return c, err
}

// dummyHash is checked against when a login is unknown, so that a wrong
// login takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no customer has this password")
	if err != nil {
		panic(err)
	}
	return h
})

// Login checks a customer's login and password. A wrong login and a wrong
// password get the same answer. Five failures in a row lock the login for 15
// minutes: while locked every attempt, even with the right password, is
// refused with CodeLocked saying until when. A success resets the count.
func (s *Service) Login(ctx context.Context, login, password string) (ledger.Customer, error) {
	login = strings.TrimSpace(login)
	now := s.clock.Now()
	var failures int
	var lockedUntil int64
	err := s.db.QueryRowContext(ctx, `SELECT failures, locked_until FROM sca_logins WHERE login = $1`, login).
		Scan(&failures, &lockedUntil)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ledger.Customer{}, fmt.Errorf("read failed log-ins: %w", err)
	}
	if lockedUntil > now.UnixMicro() {
		return ledger.Customer{}, errLocked(time.UnixMicro(lockedUntil), now)
	}

	c, err := s.customers.CustomerByLogin(ctx, login)
	switch {
	case err == nil:
		err = CheckPassword(c.PasswordHash, password)
	case ledger.CodeOf(err) == ledger.CodeNotFound:
		CheckPassword(dummyHash(), password)
		err = ErrWrongPassword
	default:
		return ledger.Customer{}, fmt.Errorf("find customer: %w", err)
	}
	if err == nil {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sca_logins WHERE login = $1`, login); err != nil {
			return ledger.Customer{}, fmt.Errorf("reset failed log-ins: %w", err)
		}
		return c, nil
	}
	if !errors.Is(err, ErrWrongPassword) {
		return ledger.Customer{}, fmt.Errorf("check password of %s: %w", login, err)
	}
	return ledger.Customer{}, s.recordFailure(ctx, login, now)
}

// recordFailure counts a failed log-in in one statement (concurrent
// failures on several nodes all count) and returns the refusal to show. A
// lock that has run out starts a new count.
func (s *Service) recordFailure(ctx context.Context, login string, now time.Time) error {
	until := now.Add(lockDuration)
	var failures int
	var lockedUntil int64
	// INSERT ... RETURNING runs in a transaction: outside one, reads may go
	// to a read-only connection.
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO sca_logins (login, failures, locked_until, updated_at)
		VALUES ($1, 1, 0, $2)
		ON CONFLICT (login) DO UPDATE SET
			failures = CASE WHEN sca_logins.locked_until > 0 AND sca_logins.locked_until <= $2 THEN 1
				ELSE sca_logins.failures + 1 END,
			locked_until = CASE WHEN sca_logins.locked_until > 0 AND sca_logins.locked_until <= $2 THEN 0
				WHEN sca_logins.failures + 1 >= $4 THEN $3
				ELSE sca_logins.locked_until END,
			updated_at = $2
		RETURNING failures, locked_until`,
			login, now.UnixMicro(), until.UnixMicro(), maxLoginFailures).Scan(&failures, &lockedUntil)
	})
	if err != nil {
		return fmt.Errorf("count failed log-in: %w", err)
	}
	if lockedUntil > now.UnixMicro() {
		return errJustLocked(time.UnixMicro(lockedUntil), now)
	}
	return errWrongCredentials(maxLoginFailures - failures)
}
