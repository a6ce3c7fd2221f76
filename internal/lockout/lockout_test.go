package lockout_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var testNow = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func locked(t *testing.T, what string, err error) *lockout.LockedError {
	t.Helper()
	var le *lockout.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("%s: %v, want a lock", what, err)
	}
	return le
}

func fail(t *testing.T, g *lockout.Guard, realm lockout.Realm, login string) lockout.Attempt {
	t.Helper()
	ctx := context.Background()
	a, err := g.Begin(ctx, realm, login)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if err := g.Fail(ctx, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSuccessNeverClearsAnotherLock: a right password whose check started
// before concurrent failures locked the login is refused; the 5th attempt
// right after 4 failures logs in and leaves no lock; a lock runs out.
func TestSuccessNeverClearsAnotherLock(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(testNow)
		g := lockout.New(db, clk)

		right, err := g.Begin(ctx, lockout.Customer, "jan") // its check is slow
		if err != nil {
			t.Fatal(err)
		}
		// The right one counts as the 1st until it succeeds: 4 failures
		// after it make 5 and lock.
		for i := range 4 {
			a := fail(t, g, lockout.Customer, "jan")
			if a.N != i+2 || a.LockedNow() != (i == 3) {
				t.Fatalf("failure %d: %+v", i+2, a)
			}
		}
		le := locked(t, "the right password checked while the login got locked", g.Succeed(ctx, right))
		if !le.Until.Equal(testNow.Add(lockout.LockDuration)) {
			t.Errorf("locked until %v", le.Until)
		}
		locked(t, "an attempt while locked", func() error { _, err := g.Begin(ctx, lockout.Customer, "jan"); return err }())
		locked(t, "check while locked", g.Check(ctx, lockout.Customer, "jan"))

		// The lock runs out: a new count starts.
		clk.Advance(lockout.LockDuration)
		for range 4 {
			fail(t, g, lockout.Customer, "jan")
		}
		fifth, err := g.Begin(ctx, lockout.Customer, "jan")
		if err != nil || !fifth.LockedNow() {
			t.Fatalf("5th attempt: %+v, %v", fifth, err)
		}
		// While its check runs, others are refused...
		locked(t, "during the 5th check", func() error { _, err := g.Begin(ctx, lockout.Customer, "jan"); return err }())
		// ...and a right 5th password lifts only its own lock.
		if err := g.Succeed(ctx, fifth); err != nil {
			t.Fatalf("right 5th password: %v", err)
		}
		if err := g.Check(ctx, lockout.Customer, "jan"); err != nil {
			t.Fatalf("after a success: %v", err)
		}
		a, err := g.Begin(ctx, lockout.Customer, "jan")
		if err != nil || a.N != 1 {
			t.Fatalf("after a success the count restarts: %+v, %v", a, err)
		}
		// An attempt cut short (a crash after Begin) stays counted.
		for range 4 {
			g.Begin(ctx, lockout.Customer, "jan")
		}
		locked(t, "after five attempts that never finished", g.Check(ctx, lockout.Customer, "jan"))

		// Realms are apart.
		if err := g.Check(ctx, lockout.Staff, "jan"); err != nil {
			t.Fatalf("staff jan: %v", err)
		}
	})
}

// TestConcurrentAttemptsTwoNodes: 60 attempts at once on two handles (two
// nodes on PostgreSQL) reserve exactly 5; the others are refused.
func TestConcurrentAttemptsTwoNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFixed(testNow)
		guards := []*lockout.Guard{lockout.New(db, clk)}
		if db.Engine() == store.Postgres {
			dsn := storetest.PostgresURL(t)
			var dbs []*store.DB
			for range 2 {
				d, err := store.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				d.SetMaxOpenConns(6)
				t.Cleanup(func() { d.Close() })
				dbs = append(dbs, d)
			}
			if _, err := dbs[0].Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			guards = []*lockout.Guard{lockout.New(dbs[0], clk), lockout.New(dbs[1], clk)}
		}
		var mu sync.Mutex
		var reserved []int
		refused := 0
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := guards[i%len(guards)].Begin(context.Background(), lockout.Staff, "boss")
				mu.Lock()
				defer mu.Unlock()
				var le *lockout.LockedError
				switch {
				case err == nil:
					reserved = append(reserved, a.N)
				case errors.As(err, &le):
					refused++
				default:
					t.Errorf("begin: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(reserved) != lockout.MaxFailures || refused != 60-lockout.MaxFailures {
			t.Fatalf("reserved %v, refused %d", reserved, refused)
		}
		seen := map[int]bool{}
		for _, n := range reserved {
			seen[n] = true
		}
		for n := 1; n <= lockout.MaxFailures; n++ {
			if !seen[n] {
				t.Errorf("no attempt got count %d: %v", n, reserved)
			}
		}
	})
}

// TestUnlock: another staff member unlocks (audited with their login);
// nobody unlocks their own login; an unlocked login is not unlocked again.
func TestUnlock(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := lockout.WithSource(context.Background(), "192.0.2.7:5555")
		g := lockout.New(db, clock.NewFixed(testNow))
		for range lockout.MaxFailures {
			a, err := g.Begin(ctx, lockout.Staff, "boss")
			if err != nil {
				t.Fatal(err)
			}
			g.Fail(ctx, a)
		}
		if _, err := g.Unlock(ctx, lockout.Staff, "boss", "boss"); !errors.Is(err, lockout.ErrOwnLogin) {
			t.Fatalf("own unlock: %v", err)
		}
		locks, err := g.Locks(ctx)
		if err != nil || len(locks) != 1 || locks[0].Login != "boss" || locks[0].Realm != lockout.Staff {
			t.Fatalf("locks %+v, %v", locks, err)
		}
		if done, err := g.Unlock(ctx, lockout.Staff, "boss", "ola"); !done || err != nil {
			t.Fatalf("unlock: %v, %v", done, err)
		}
		if done, err := g.Unlock(ctx, lockout.Staff, "boss", "ola"); done || err != nil {
			t.Fatalf("second unlock: %v, %v", done, err)
		}
		if err := g.Check(ctx, lockout.Staff, "boss"); err != nil {
			t.Fatal(err)
		}
		entries, err := g.Audit(ctx, lockout.Staff, 0)
		if err != nil {
			t.Fatal(err)
		}
		events := map[string]int{}
		for _, e := range entries {
			events[e.Event]++
			if e.Source != "192.0.2.7" {
				t.Errorf("source %q", e.Source)
			}
			if e.Event == lockout.EventUnlocked && e.Actor != "ola" {
				t.Errorf("unlock by %q", e.Actor)
			}
		}
		if events[lockout.EventFailed] != 4 || events[lockout.EventLocked] != 1 || events[lockout.EventUnlocked] != 1 {
			t.Errorf("audit events %v", events)
		}
	})
}
