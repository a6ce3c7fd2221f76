// Package lockout locks logins after failed log-ins, for every kind of
// log-in: customers (internet banking and the consent pages), TPP
// developers (the portal) and the bank's staff (the back office). All its
// state is in the database, so that any number of nodes agree.
//
// An attempt is counted as failed BEFORE its password is checked: Begin
// reserves it in one conditional statement inside a transaction (refusing
// it while the login is locked, and locking the login when it is the 5th),
// and only then may the caller run the (slow) password check. A right
// password then clears what its own attempt counted (Succeed); a wrong one
// leaves it counted (Fail). So 100 wrong passwords sent at once to any
// number of nodes get at most 5 password checks, the login is locked, and
// the right password is refused until the lock ends; a success never clears
// a lock that another attempt set. An attempt cut short by a crash stays
// counted as a failure.
package lockout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Realm says whose log-in it is.
type Realm string

// The realms.
const (
	Customer  Realm = "customer"
	Developer Realm = "developer"
	Staff     Realm = "staff"
)

// Rules of the lockout.
const (
	MaxFailures  = 5                // failed log-ins in a row that lock a login
	LockDuration = 15 * time.Minute // how long a locked login stays locked
)

// The events of the log-in audit.
const (
	EventFailed   = "failed"   // a wrong login or password
	EventLocked   = "locked"   // the failure that locked the login
	EventRefused  = "refused"  // an attempt refused because the login is locked
	EventUnlocked = "unlocked" // a staff member lifted a lock
)

// DB is the storage the guard needs.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Guard counts failed log-ins and locks logins. Safe for concurrent use on
// any number of nodes.
type Guard struct {
	db    DB
	clock clock.Clock
	obs   *obs.Observer
}

// Observe makes the guard log and count every log-in's outcome with o (the
// bank sets it once, before the guard is used).
func (g *Guard) Observe(o *obs.Observer) { g.obs = o }

// observed is the one place a log-in's outcome is logged and counted, once
// it is committed.
func (g *Guard) observed(ctx context.Context, realm Realm, login, outcome string, failures int) {
	g.obs.Login(ctx, string(realm), login, outcome, Source(ctx), failures)
}

// New returns a guard over db reading the time from c.
func New(db DB, c clock.Clock) *Guard { return &Guard{db: db, clock: c} }

// LockedError refuses an attempt while its login is locked.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the login is locked after %d failed log-ins until %s", MaxFailures, e.Until.UTC().Format(time.RFC3339))
}

// Attempt is a reserved log-in attempt: counted as failed until Succeed.
type Attempt struct {
	Realm Realm
	Login string
	Seq   int64 // the attempt's number among all of the login's attempts
	N     int   // the failure count this attempt made (1..MaxFailures)
	Until time.Time
	// Source is the client's address (from the context, see WithSource).
	Source string
}

// Left is how many more failures the login takes before it is locked,
// counting this attempt as failed.
func (a Attempt) Left() int { return max(MaxFailures-a.N, 0) }

// LockedNow tells whether this attempt, failed, locked the login.
func (a Attempt) LockedNow() bool { return !a.Until.IsZero() }

type sourceKey struct{}

// WithSource returns ctx carrying the client's address (host of
// http.Request.RemoteAddr), which the audit records.
func WithSource(ctx context.Context, remoteAddr string) context.Context {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		remoteAddr = h
	}
	return context.WithValue(ctx, sourceKey{}, remoteAddr)
}

// Source returns the client's address carried by ctx, or "".
func Source(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// Normalize is the form a login is counted under (trimmed; developers'
// emails in lower case).
func Normalize(realm Realm, login string) string {
	login = strings.TrimSpace(login)
	if realm == Developer {
		login = strings.ToLower(login)
	}
	return login
}

// Check tells, without counting anything, whether the login is locked now
// (a *LockedError, audited as refused); callers use it to refuse early,
// before they wait for a password-hash slot. Begin decides all the same.
func (g *Guard) Check(ctx context.Context, realm Realm, login string) error {
	var until int64
	err := g.db.QueryRowContext(ctx, `SELECT locked_until FROM login_attempts WHERE realm = $1 AND login = $2`,
		string(realm), Normalize(realm, login)).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read log-in lock: %w", err)
	}
	if until > g.clock.Now().UnixMicro() {
		if err := g.audit(ctx, g.db, realm, Normalize(realm, login), EventRefused, Source(ctx), "", ""); err != nil {
			return err
		}
		g.observed(ctx, realm, Normalize(realm, login), obs.LoginRefused, 0)
		return &LockedError{Until: time.UnixMicro(until).UTC()}
	}
	return nil
}

// Begin reserves an attempt, counting it as failed: while the login is
// locked it answers a *LockedError (audited as refused) and counts
// nothing. A lock that has run out starts a new count. The attempt that
// makes the count MaxFailures locks the login at once; if its password
// turns out right, Succeed lifts that lock (nobody else got in meanwhile).
func (g *Guard) Begin(ctx context.Context, realm Realm, login string) (Attempt, error) {
	login = Normalize(realm, login)
	now := g.clock.Now().UnixMicro()
	a := Attempt{Realm: realm, Login: login, Source: Source(ctx)}
	var lockedUntil int64
	var refused bool
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		lockedUntil, refused = 0, false
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_attempts (realm, login, failures, locked_until, seq, updated_at)
			VALUES ($1, $2, 0, 0, 0, $3) ON CONFLICT (realm, login) DO NOTHING`, string(realm), login, now); err != nil {
			return err
		}
		// One conditional statement: on PostgreSQL it takes the row lock
		// and re-reads the row after a concurrent update commits, so every
		// attempt on every node gets its own count.
		var until int64
		err := tx.QueryRowContext(ctx, `UPDATE login_attempts SET
				failures = CASE WHEN locked_until > 0 AND locked_until <= $3 THEN 1 ELSE failures + 1 END,
				locked_until = CASE
					WHEN (CASE WHEN locked_until > 0 AND locked_until <= $3 THEN 1 ELSE failures + 1 END) >= $4 THEN CAST($5 AS BIGINT)
					ELSE 0 END,
				seq = seq + 1,
				updated_at = $3
			WHERE realm = $1 AND login = $2 AND locked_until <= $3
			RETURNING failures, seq, locked_until`,
			string(realm), login, now, MaxFailures, now+LockDuration.Microseconds()).Scan(&a.N, &a.Seq, &until)
		if errors.Is(err, sql.ErrNoRows) {
			// Locked: the row is there (inserted above) with a lock in
			// the future.
			if err := tx.QueryRowContext(ctx, `SELECT locked_until FROM login_attempts WHERE realm = $1 AND login = $2`,
				string(realm), login).Scan(&lockedUntil); err != nil {
				return err
			}
			// (A lock lifted between the two statements still refuses
			// this attempt: the caller may try again.)
			refused, lockedUntil = true, max(lockedUntil, now)
			return g.audit(ctx, tx, realm, login, EventRefused, a.Source, "", "")
		}
		if err != nil {
			return err
		}
		if until > 0 {
			a.Until = time.UnixMicro(until).UTC()
		}
		return nil
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("count log-in attempt: %w", err)
	}
	if refused {
		g.observed(ctx, realm, login, obs.LoginRefused, 0)
		return Attempt{}, &LockedError{Until: time.UnixMicro(lockedUntil).UTC()}
	}
	return a, nil
}

// Fail records that the attempt's password was wrong (it is counted
// already): the audit gets a row with the source address.
func (g *Guard) Fail(ctx context.Context, a Attempt) error {
	event, detail, outcome := EventFailed, fmt.Sprintf("failure %d of %d", a.N, MaxFailures), obs.LoginFailed
	if a.LockedNow() {
		event, outcome = EventLocked, obs.LoginLocked
		detail += "; locked until " + a.Until.Format(time.RFC3339)
	}
	if err := g.audit(ctx, g.db, a.Realm, a.Login, event, a.Source, "", detail); err != nil {
		return err
	}
	g.observed(ctx, a.Realm, a.Login, outcome, a.N)
	return nil
}

// Succeed records that the attempt's password was right. When no other
// attempt came after it, the count (and a lock that this attempt itself
// set) is cleared. When another attempt came after it and the login is
// locked now, the success does not count: a *LockedError, and the caller
// refuses the log-in.
func (g *Guard) Succeed(ctx context.Context, a Attempt) error {
	now := g.clock.Now().UnixMicro()
	var lockedUntil int64
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		lockedUntil = 0
		res, err := tx.ExecContext(ctx, `UPDATE login_attempts SET failures = 0, locked_until = 0, updated_at = $4
			WHERE realm = $1 AND login = $2 AND seq = $3`, string(a.Realm), a.Login, a.Seq, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		err = tx.QueryRowContext(ctx, `SELECT locked_until FROM login_attempts WHERE realm = $1 AND login = $2`,
			string(a.Realm), a.Login).Scan(&lockedUntil)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if lockedUntil > now {
			return g.audit(ctx, tx, a.Realm, a.Login, EventRefused, a.Source, "", "right password while locked by concurrent failures")
		}
		lockedUntil = 0
		return nil
	})
	if err != nil {
		return fmt.Errorf("record log-in: %w", err)
	}
	if lockedUntil > 0 {
		g.observed(ctx, a.Realm, a.Login, obs.LoginRefused, 0)
		return &LockedError{Until: time.UnixMicro(lockedUntil).UTC()}
	}
	g.observed(ctx, a.Realm, a.Login, obs.LoginOK, 0)
	return nil
}

// Abandon gives back an attempt that was never checked (no slot to hash
// the password in): when no other attempt came after it, its count (and a
// lock it set) is undone; otherwise it stays counted.
func (g *Guard) Abandon(ctx context.Context, a Attempt) error {
	_, err := g.db.ExecContext(ctx, `UPDATE login_attempts SET failures = failures - 1, seq = seq + 1,
		locked_until = CASE WHEN failures - 1 < $4 THEN 0 ELSE locked_until END
		WHERE realm = $1 AND login = $2 AND seq = $3 AND failures > 0`, string(a.Realm), a.Login, a.Seq, MaxFailures)
	if err != nil {
		return fmt.Errorf("give back log-in attempt: %w", err)
	}
	return nil
}

// Unlock lifts the lock of a login, as a staff member does in the back
// office (audited with their login); it tells whether the login was
// locked. Nobody unlocks their own login.
func (g *Guard) Unlock(ctx context.Context, realm Realm, login, staff string) (bool, error) {
	login = Normalize(realm, login)
	if realm == Staff && login == Normalize(Staff, staff) {
		return false, ErrOwnLogin
	}
	now := g.clock.Now().UnixMicro()
	var done bool
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE login_attempts SET failures = 0, locked_until = 0, seq = seq + 1, updated_at = $3
			WHERE realm = $1 AND login = $2 AND locked_until > $3`, string(realm), login, now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		done = n == 1
		if !done {
			return nil
		}
		return g.audit(ctx, tx, realm, login, EventUnlocked, Source(ctx), staff, "")
	})
	if err != nil {
		return false, fmt.Errorf("unlock login: %w", err)
	}
	return done, nil
}

// ErrOwnLogin refuses a staff member unlocking their own login.
var ErrOwnLogin = errors.New("a login is unlocked by another staff member, not by its owner")

// Lock is a locked login.
type Lock struct {
	Realm    Realm
	Login    string
	Failures int
	Until    time.Time
}

// Locks lists the logins locked now, newest lock first.
func (g *Guard) Locks(ctx context.Context) ([]Lock, error) {
	rows, err := g.db.QueryContext(ctx, `SELECT realm, login, failures, locked_until FROM login_attempts
		WHERE locked_until > $1 ORDER BY locked_until DESC, realm, login LIMIT 500`, g.clock.Now().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read locked logins: %w", err)
	}
	defer rows.Close()
	var out []Lock
	for rows.Next() {
		var l Lock
		var realm string
		var until int64
		if err := rows.Scan(&realm, &l.Login, &l.Failures, &until); err != nil {
			return nil, err
		}
		l.Realm, l.Until = Realm(realm), time.UnixMicro(until).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// Entry is a row of the log-in audit.
type Entry struct {
	At     time.Time
	Realm  Realm
	Login  string
	Event  string
	Source string
	Actor  string
	Detail string
}

// Audit returns the newest audit rows, newest first, at most limit
// (default 200); a non-empty realm keeps only its rows.
func (g *Guard) Audit(ctx context.Context, realm Realm, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 200
	}
	q, args := `SELECT at, realm, login, event, source, actor, detail FROM login_audit ORDER BY at DESC, id DESC LIMIT $1`, []any{limit}
	if realm != "" {
		q, args = `SELECT at, realm, login, event, source, actor, detail FROM login_audit WHERE realm = $2
			ORDER BY at DESC, id DESC LIMIT $1`, append(args, string(realm))
	}
	rows, err := g.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read log-in audit: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var realm string
		var at int64
		if err := rows.Scan(&at, &realm, &e.Login, &e.Event, &e.Source, &e.Actor, &e.Detail); err != nil {
			return nil, err
		}
		e.At, e.Realm = time.UnixMicro(at).UTC(), Realm(realm)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (g *Guard) audit(ctx context.Context, q store.Querier, realm Realm, login, event, source, actor, detail string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO login_audit (id, at, realm, login, event, source, actor, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		uuid.Must(uuid.NewV7()).String(), g.clock.Now().UnixMicro(), string(realm), login, event, source, actor, detail)
	if err != nil {
		return fmt.Errorf("write log-in audit: %w", err)
	}
	return nil
}
