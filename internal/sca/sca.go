package sca

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Rules of authentication.
const (
	maxLoginFailures = lockout.MaxFailures // failed log-ins in a row that lock a login
	challengeTTL     = 5 * time.Minute     // validity of an SMS code or a mobile-app request
	maxCodeAttempts  = 3                   // wrong SMS codes that end a challenge
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
	guard     *lockout.Guard

	// OnDecision, when set, is called after a mobile-app decision has been
	// committed, with the decided challenge (the decoupled OAuth flow uses
	// it). Set it before the service is used. It runs in the caller of
	// DecideMobile; a slow hook delays that answer.
	OnDecision func(ctx context.Context, c Challenge)
	// Obs logs and counts the SMS codes sent (never a code); nil: nothing.
	Obs *obs.Observer
}

// New returns a service over db that finds customers in customers and reads
// the time from c.
func New(db DB, customers Customers, c clock.Clock) *Service {
	return &Service{db: db, customers: customers, clock: c, guard: lockout.New(db, c)}
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

// Login checks a customer's login and password. A wrong login and a wrong
// password get the same answer. Five failures in a row — however they
// arrive, on however many nodes — lock the login for 15 minutes: while
// locked every attempt, even with the right password, is refused with
// CodeLocked saying until when, and a success never clears a lock that
// another attempt set (see internal/lockout). When every password-hash slot
// is taken the answer is CodeBusy and nothing is counted. Refusals are
// audited with the client's address (lockout.WithSource).
func (s *Service) Login(ctx context.Context, login, password string) (ledger.Customer, error) {
	login = strings.TrimSpace(login)
	now := s.clock.Now()
	var c ledger.Customer
	a, err := GuardedCheck(ctx, s.guard, lockout.Customer, login, password, func(ctx context.Context) (string, error) {
		var err error
		c, err = s.customers.CustomerByLogin(ctx, login)
		switch {
		case err == nil:
			return c.PasswordHash, nil
		case ledger.CodeOf(err) == ledger.CodeNotFound:
			return "", nil
		default:
			return "", fmt.Errorf("find customer: %w", err)
		}
	})
	var locked *lockout.LockedError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &locked):
		return ledger.Customer{}, errLocked(locked.Until, now)
	case errors.Is(err, ErrBusy):
		return ledger.Customer{}, errBusy
	case errors.Is(err, ErrWrongPassword):
		if a.LockedNow() {
			return ledger.Customer{}, errJustLocked(a.Until, now)
		}
		return ledger.Customer{}, errWrongCredentials(a.Left())
	}
	return ledger.Customer{}, fmt.Errorf("check password of %s: %w", login, err)
}

// Guard is the lockout of customers' log-ins (the back office lists and
// lifts locks through it).
func (s *Service) Guard() *lockout.Guard { return s.guard }
