package clock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// Two sandbox nodes on one database keep one clock: a move on one shows on
// the other, and neither can move it back — not even a node that had not
// yet seen the other's move.
func TestSharedClockTwoNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		real := clock.NewFixed(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
		a, err := clock.OpenShared(ctx, db, real, 0, time.Hour) // refreshes only when asked
		if err != nil {
			t.Fatal(err)
		}
		b, err := clock.OpenShared(ctx, db, real, 5*time.Hour, time.Hour) // the row exists: its offset wins
		if err != nil {
			t.Fatal(err)
		}
		if !a.Now().Equal(b.Now()) {
			t.Fatalf("two nodes, two clocks: %v and %v", a.Now(), b.Now())
		}
		start := a.Now()
		if _, err := a.Advance(ctx, 26*time.Hour); err != nil {
			t.Fatal(err)
		}
		// b has not read it yet: setting an earlier time than a's is
		// refused by the database, and b learns the time.
		got, err := b.Set(ctx, start.Add(time.Hour))
		if !errors.Is(err, clock.ErrBackwards) {
			t.Fatalf("b moved the shared clock back: %v, %v", got, err)
		}
		if !got.Equal(start.Add(26 * time.Hour)) {
			t.Fatalf("b reads %v after the refusal, want %v", got, start.Add(26*time.Hour))
		}
		// b moves it further; a sees it once it reads again.
		if _, err := b.Set(ctx, start.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if want := start.Add(48 * time.Hour); !a.Now().Equal(want) || !b.Now().Equal(want) {
			t.Fatalf("a %v, b %v, want both %v", a.Now(), b.Now(), want)
		}
		if _, err := a.Advance(ctx, -time.Hour); !errors.Is(err, clock.ErrBackwards) {
			t.Fatalf("negative advance: %v", err)
		}
		// A fresh node (a restart) reads the shared time.
		c, err := clock.OpenShared(ctx, db, real, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Now().Equal(start.Add(48 * time.Hour)) {
			t.Fatalf("a restarted node reads %v", c.Now())
		}
	})
}

// Concurrent advances on two nodes all count: the offset is added in the
// database, not computed from a node's copy.
func TestSharedClockConcurrentAdvances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		real := clock.NewFixed(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
		a, _ := clock.OpenShared(ctx, db, real, 0, time.Hour)
		b, _ := clock.OpenShared(ctx, db, real, 0, time.Hour)
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			n := a
			if i%2 == 1 {
				n = b
			}
			wg.Go(func() {
				if _, err := n.Advance(ctx, time.Hour); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		a.Refresh(ctx)
		if a.Offset() != 10*time.Hour {
			t.Fatalf("offset %v after ten one-hour advances", a.Offset())
		}
	})
}
