package oauth

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

// A decoupled result whose deciding node died before delivering it (the row
// is committed with the decision; nothing else happened) is delivered by
// another node's DeliverDue, once, and its code is then erased; a result
// still within the deciding node's grace, or delivered, is left alone.
func TestDeliverDueTakesOverAfterACrash(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		var got []string
		fail := 1
		s := New(Config{DB: db, Clock: clock.NewFixed(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)), DeliverBackoff: time.Millisecond,
			Deliver: func(_ context.Context, url string, body []byte) error {
				mu.Lock()
				defer mu.Unlock()
				if fail > 0 {
					fail--
					return errors.New("callback down")
				}
				got = append(got, url+" "+string(body))
				return nil
			}})
		for _, id := range []string{"crashed", "fresh"} {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return queueCallback(ctx, tx, pending{ID: id, TPPID: "PSDPL-KNF-0000000001", CallbackURL: "https://tpp.example/" + id},
					map[string]string{"code": "secret-" + id, "state": "st"})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// "crashed" was queued a minute ago and never claimed.
		if _, err := db.ExecContext(ctx, `UPDATE oauth_callbacks SET created_at = $1 WHERE request_id = 'crashed'`,
			micros(time.Now().Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 3 { // three nodes sweep at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.DeliverDue(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if len(got) != 1 || got[0] != `https://tpp.example/crashed {"code":"secret-crashed","state":"st"}` {
			t.Fatalf("delivered %q, want the crashed request's result once (after one failure)", got)
		}
		var body string
		var attempts int
		var delivered *int64
		if err := db.QueryRowContext(ctx, `SELECT body, attempts, delivered_at FROM oauth_callbacks WHERE request_id = 'crashed'`).
			Scan(&body, &attempts, &delivered); err != nil || body != "" || attempts != 2 || delivered == nil {
			t.Errorf("after delivery: body %q attempts %d delivered %v (%v)", body, attempts, delivered, err)
		}
		if n, err := s.DeliverDue(ctx); err != nil || n != 0 {
			t.Errorf("a second sweep took up %d (%v)", n, err)
		}
		// The deciding node delivers its own at once.
		if err := s.deliver(ctx, "fresh"); err != nil || len(got) != 2 {
			t.Errorf("the deciding node's delivery: %v, %q", err, got)
		}
	})
}
