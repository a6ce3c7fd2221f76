package access_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestHotlinePESELDayLimit is issue 14's oracle attack: checks started one
// after another, each tried with wrong PESELs (some at once, two
// consultants), then the right PESEL. After 5 wrong PESELs in the day the
// right one is refused, new checks are refused, every refusal is audited,
// and the tries left told count the day's limit; the next day the customer
// can be checked again.
func TestHotlinePESELDayLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		other, _ := polish.MakePESEL(time.Date(1975, 1, 2, 0, 0, 0, 0, time.UTC), 7, true)

		// Check 1: two wrong tries.
		v1, err := e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			e.svc.VerifyPESEL(ctx, v1.ID, "konsultant", other)
		}
		// Check 2: two wrong tries; the second is told 1 try left (the
		// day's limit, not the check's 3).
		v2, err := e.svc.StartVerification(ctx, "konsultant2", e.company.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.svc.VerifyPESEL(ctx, v2.ID, "konsultant2", other)
		_, err = e.svc.VerifyPESEL(ctx, v2.ID, "konsultant2", other)
		if ae := wantCode(t, "4th wrong of the day", err, access.CodeWrongPESEL); ae.TriesLeft != 1 {
			t.Errorf("tries left %d, want 1", ae.TriesLeft)
		}
		// Check 3 and check 1 again, ten wrong tries at once from two
		// consultants: one is the 5th of the day; all end refused.
		v3, err := e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		codes := map[access.Code]int{}
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := []string{v3.ID, v1.ID}[i%2]
				_, err := e.svc.VerifyPESEL(ctx, id, "konsultant", other)
				mu.Lock()
				codes[access.CodeOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[access.CodeWrongPESEL] != 0 || codes[access.CodeDayLimit] < 1 {
			t.Fatalf("answers to ten wrong tries at once: %v", codes)
		}
		// The right PESEL, on any check, is refused now; so is a new check.
		for _, id := range []string{v3.ID, v2.ID} {
			got, err := e.svc.VerifyPESEL(ctx, id, "konsultant", e.pesel)
			if c := access.CodeOf(err); c != access.CodeDayLimit && c != access.CodeVerificationFailed {
				t.Fatalf("right PESEL after the day's limit: %+v, %v", got, err)
			}
		}
		_, err = e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		ae := wantCode(t, "new check after the day's limit", err, access.CodeDayLimit)
		if ae.Message == "" || ae.MessagePL == "" {
			t.Errorf("messages %q / %q", ae.Message, ae.MessagePL)
		}
		// Exactly 5 wrong PESELs were checked, whatever arrived at once.
		audit, _ := e.svc.Audit(ctx, e.company.ID, 0)
		checked, limit := 0, 0
		for _, a := range audit {
			switch a.Action {
			case access.ActionVerificationWrong, access.ActionVerificationFailed:
				checked++
			case access.ActionVerificationDayLimit:
				limit++
			}
		}
		if checked != 4 || limit < 3 {
			t.Errorf("audit: %d wrong tries checked (want 4, the 5th is the limit's), %d day-limit rows", checked, limit)
		}
		// Another customer is not affected; tomorrow this one is checked again.
		if _, err := e.svc.StartVerification(ctx, "konsultant", e.corporate.ID); err != nil {
			t.Fatalf("another customer: %v", err)
		}
		e.clk.Advance(24 * time.Hour)
		v, err := e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		if err != nil {
			t.Fatalf("next day: %v", err)
		}
		if got, err := e.svc.VerifyPESEL(ctx, v.ID, "konsultant", e.pesel); err != nil || got.Status != access.VerificationVerified {
			t.Fatalf("right PESEL the next day: %+v, %v", got, err)
		}
	})
}
