package sca_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestConcurrentWrongSMSCodes: ten wrong codes sent at once are each told
// the truth: two are told 2 and 1 tries left, the one that used the last
// try and all the others that the code no longer works; the right code is
// then refused too.
func TestConcurrentWrongSMSCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		c, err := e.svc.StartSMS(ctx, e.jan, "consent:R1", "Zgoda")
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := e.svc.SMSOutbox(ctx, "jan", 1)
		right := msgs[0].Code
		wrong := "111111"
		if right == wrong {
			wrong = "222222"
		}
		var mu sync.Mutex
		var left []int
		failed := 0
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, wrong)
				mu.Lock()
				defer mu.Unlock()
				switch sca.CodeOf(err) {
				case sca.CodeWrongCode:
					var se *sca.Error
					errors.As(err, &se)
					left = append(left, se.TriesLeft)
				case sca.CodeCodeFailed:
					failed++
				default:
					t.Errorf("wrong code: %v", err)
				}
			}()
		}
		wg.Wait()
		sort.Ints(left)
		if len(left) != 2 || left[0] != 1 || left[1] != 2 || failed != 8 {
			t.Fatalf("tries left told %v, %d told the code failed; want [1 2] and 8", left, failed)
		}
		if err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, right); sca.CodeOf(err) != sca.CodeCodeFailed {
			t.Fatalf("right code after three wrong ones: %v", err)
		}
		got, err := e.svc.Challenge(ctx, c.ID)
		if err != nil || got.Attempts != 3 || got.Status != sca.StatusFailed {
			t.Fatalf("challenge %+v, %v", got, err)
		}
	})
}

// TestHashLimit: however many password checks are asked for at once, at
// most the limiter's size run at once; when every slot stays taken for the
// whole wait, the answer is ErrBusy. Not parallel: it replaces the
// process's limiter.
func TestHashLimit(t *testing.T) {
	old := sca.Hashes()
	t.Cleanup(func() { sca.SetHashLimit(old.Size(), sca.DefaultHashWait) })
	h := passwordHash()

	sca.SetHashLimit(2, time.Minute)
	l := sca.Hashes()
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := "wrong"
			if i%2 == 0 {
				pw = "right password"
			}
			err := sca.CheckPassword(h, pw)
			if pw == "wrong" && errors.Is(err, sca.ErrWrongPassword) {
				err = nil
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("check: %v", err)
		}
	}
	if l.Peak() > 2 || l.Peak() < 1 {
		t.Fatalf("%d password hashes ran at once, limit 2", l.Peak())
	}

	sca.SetHashLimit(1, 20*time.Millisecond)
	l = sca.Hashes()
	release, err := l.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := sca.CheckPassword(h, "right password"); !errors.Is(err, sca.ErrBusy) {
		t.Fatalf("check with every slot taken: %v", err)
	}
	if _, err := sca.HashPassword("x"); !errors.Is(err, sca.ErrBusy) {
		t.Fatalf("hash with every slot taken: %v", err)
	}
	if l.Refused() != 2 {
		t.Errorf("refused %d", l.Refused())
	}
	release()
	release() // a second release gives nothing back twice
	if err := sca.CheckPassword(h, "right password"); err != nil {
		t.Fatalf("check once the slot is free: %v", err)
	}
	// A hash whose parameters would take gigabytes is refused unchecked.
	if err := sca.CheckPassword("argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", "x"); err == nil ||
		errors.Is(err, sca.ErrWrongPassword) {
		t.Fatalf("huge parameters: %v", err)
	}
}
