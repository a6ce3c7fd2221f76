package sca_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var testNow = time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC) // 10:00 in Warsaw

// The password hash is made once: argon2id is slow on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := sca.HashPassword("right password")
	if err != nil {
		panic(err)
	}
	return h
})

type env struct {
	svc  *sca.Service
	clk  *clock.Fixed
	jan  ledger.Customer
	anna ledger.Customer
}

func newEnv(t *testing.T, db *store.DB) env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	l := ledger.New(db, clk)
	jan, err := l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Jan Kowalski", Login: "jan",
		PasswordHash: passwordHash(), Phone: "+48600100200"})
	if err != nil {
		t.Fatal(err)
	}
	anna, err := l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Anna Nowak", Login: "anna",
		PasswordHash: passwordHash(), Phone: "+48600100300"})
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: sca.New(db, l, clk), clk: clk, jan: jan, anna: anna}
}

func wantCode(t *testing.T, what string, err error, code sca.Code) *sca.Error {
	t.Helper()
	if got := sca.CodeOf(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	e, _ := err.(*sca.Error)
	return e
}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if c, err := e.svc.Login(ctx, "jan", "right password"); err != nil || c.ID != e.jan.ID {
			t.Fatalf("right password: %+v, %v", c, err)
		}
		// A wrong login and a wrong password read the same.
		_, errLogin := e.svc.Login(ctx, "nobody", "right password")
		wantCode(t, "unknown login", errLogin, sca.CodeWrongCredentials)
		_, errPassword := e.svc.Login(ctx, "anna", "wrong")
		wantCode(t, "wrong password", errPassword, sca.CodeWrongCredentials)
		if errLogin.Error() != errPassword.Error() {
			t.Errorf("unknown login says %q, wrong password %q", errLogin, errPassword)
		}

		// A success resets the count: four failures, a success, four more
		// failures do not lock.
		for range 4 {
			_, err := e.svc.Login(ctx, "jan", "wrong")
			wantCode(t, "failure", err, sca.CodeWrongCredentials)
		}
		if _, err := e.svc.Login(ctx, "jan", "right password"); err != nil {
			t.Fatalf("after 4 failures: %v", err)
		}
		for i := range 4 {
			_, err := e.svc.Login(ctx, "jan", "wrong")
			wantCode(t, "failure", err, sca.CodeWrongCredentials)
			if i == 3 && !strings.Contains(err.Error(), "Attempts left before the login is locked: 1") {
				t.Errorf("fourth failure says %q", err)
			}
		}
		// The fifth failure locks; the sixth attempt, right password or
		// not, is refused saying until when (10:15 in Warsaw).
		_, err := e.svc.Login(ctx, "jan", "wrong")
		le := wantCode(t, "fifth failure", err, sca.CodeLocked)
		if !le.RetryAfter.Equal(testNow.Add(15*time.Minute)) || !strings.Contains(le.Message, "10:15") {
			t.Fatalf("fifth failure: %+v", le)
		}
		e.clk.Advance(14 * time.Minute)
		_, err = e.svc.Login(ctx, "jan", "right password")
		le = wantCode(t, "sixth attempt", err, sca.CodeLocked)
		if !strings.Contains(le.Message, "until 10:15") || !strings.Contains(le.In("pl"), "do 10:15") {
			t.Fatalf("sixth attempt: %q / %q", le.Message, le.In("pl"))
		}
		// Another login is not affected.
		if _, err := e.svc.Login(ctx, "anna", "right password"); err != nil {
			t.Fatalf("anna while jan is locked: %v", err)
		}
		// Released after 15 minutes; a failure then starts a new count.
		e.clk.Advance(time.Minute)
		_, err = e.svc.Login(ctx, "jan", "wrong")
		wantCode(t, "failure after the lock", err, sca.CodeWrongCredentials)
		if c, err := e.svc.Login(ctx, "jan", "right password"); err != nil || c.Login != "jan" {
			t.Fatalf("after the lock: %+v, %v", c, err)
		}
	})
}

// smsCode reads the code of the newest SMS to login.
func smsCode(t *testing.T, e env, login string) string {
	t.Helper()
	msgs, err := e.svc.SMSOutbox(context.Background(), login, 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox of %s: %v, %v", login, msgs, err)
	}
	return msgs[0].Code
}

func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestSMSCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		start := func() (sca.Challenge, string) {
			t.Helper()
			c, err := e.svc.StartSMS(ctx, e.jan, "consent:R1", "Zgoda dla Demo TPP: dostęp do rachunków")
			if err != nil {
				t.Fatal(err)
			}
			return c, smsCode(t, e, "jan")
		}

		t.Run("right code, then reuse", func(t *testing.T) {
			c, code := start()
			if c.Status != sca.StatusPending || !c.ExpiresAt.Equal(testNow.Add(5*time.Minute)) {
				t.Fatalf("new challenge: %+v", c)
			}
			msgs, _ := e.svc.SMSOutbox(ctx, "jan", 10)
			want := "Kod SMS: " + code + ". Zgoda dla Demo TPP: dostęp do rachunków. psd2bank"
			if len(code) != 6 || msgs[0].Text != want {
				t.Fatalf("SMS %q, want %q", msgs[0].Text, want)
			}
			// Another customer cannot use it.
			wantCode(t, "anna's attempt", e.svc.VerifySMS(ctx, c.ID, e.anna.ID, code), sca.CodeNotFound)
			if err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, code); err != nil {
				t.Fatalf("right code: %v", err)
			}
			got, err := e.svc.Challenge(ctx, c.ID)
			if err != nil || got.Status != sca.StatusApproved || !got.Consumed {
				t.Fatalf("after the right code: %+v, %v", got, err)
			}
			wantCode(t, "reuse", e.svc.VerifySMS(ctx, c.ID, e.jan.ID, code), sca.CodeUsed)
		})

		t.Run("wrong code three times", func(t *testing.T) {
			c, code := start()
			wantCode(t, "malformed", e.svc.VerifySMS(ctx, c.ID, e.jan.ID, "12ab"), sca.CodeInvalid)
			for left := 2; left >= 1; left-- {
				err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, otherCode(code))
				if we := wantCode(t, "wrong code", err, sca.CodeWrongCode); we.TriesLeft != left {
					t.Fatalf("tries left %d, want %d (%v)", we.TriesLeft, left, err)
				}
			}
			err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, otherCode(code))
			if fe := wantCode(t, "third wrong code", err, sca.CodeCodeFailed); !strings.Contains(fe.In("pl"), "trzy razy") {
				t.Fatalf("Polish: %q", fe.In("pl"))
			}
			// Even the right code no longer works.
			wantCode(t, "right code after", e.svc.VerifySMS(ctx, c.ID, e.jan.ID, code), sca.CodeCodeFailed)
			if got, _ := e.svc.Challenge(ctx, c.ID); got.Status != sca.StatusFailed || got.Attempts != 3 {
				t.Fatalf("after three wrong codes: %+v", got)
			}
		})

		t.Run("expired", func(t *testing.T) {
			c, code := start()
			e.clk.Advance(5 * time.Minute)
			err := e.svc.VerifySMS(ctx, c.ID, e.jan.ID, code)
			if xe := wantCode(t, "expired", err, sca.CodeExpired); !strings.Contains(xe.Message, "request a new one") {
				t.Fatalf("expired: %q", xe.Message)
			}
			if got, _ := e.svc.Challenge(ctx, c.ID); got.Status != sca.StatusExpired {
				t.Fatalf("status %q", got.Status)
			}
		})

		t.Run("no phone", func(t *testing.T) {
			nophone := e.jan
			nophone.Phone = ""
			_, err := e.svc.StartSMS(ctx, nophone, "x", "y")
			wantCode(t, "no phone", err, sca.CodeNoPhone)
		})
	})
}

func TestMobile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		var decisions []sca.Challenge
		e.svc.OnDecision = func(_ context.Context, c sca.Challenge) { decisions = append(decisions, c) }

		_, err := e.svc.DecideMobile(ctx, "jan", true)
		wantCode(t, "nothing pending", err, sca.CodeNothingPending)
		_, err = e.svc.DecideMobile(ctx, "nobody", true)
		wantCode(t, "unknown login", err, sca.CodeUnknownLogin)

		// The newest pending challenge is the one decided.
		older, err := e.svc.StartMobile(ctx, e.jan, "consent:R1", "Zgoda dla Demo TPP")
		if err != nil {
			t.Fatal(err)
		}
		newer, err := e.svc.StartMobile(ctx, e.jan, "consent:R2", "Zgoda dla Demo TPP")
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.DecideMobile(ctx, "jan", true)
		if err != nil || got.ID != newer.ID || got.Status != sca.StatusApproved {
			t.Fatalf("approve: %+v, %v (want %s)", got, err, newer.ID)
		}
		if len(decisions) != 1 || decisions[0].ID != newer.ID {
			t.Fatalf("OnDecision calls: %+v", decisions)
		}
		// Acting on the approval works once, and only for its customer.
		_, err = e.svc.Consume(ctx, newer.ID, e.anna.ID)
		wantCode(t, "anna consumes", err, sca.CodeNotFound)
		if c, err := e.svc.Consume(ctx, newer.ID, e.jan.ID); err != nil || c.Status != sca.StatusApproved {
			t.Fatalf("consume: %+v, %v", c, err)
		}
		_, err = e.svc.Consume(ctx, newer.ID, e.jan.ID)
		wantCode(t, "consume twice", err, sca.CodeUsed)
		// A pending one is returned as it is.
		if c, err := e.svc.Consume(ctx, older.ID, e.jan.ID); err != nil || c.Status != sca.StatusPending || c.Consumed {
			t.Fatalf("consume pending: %+v, %v", c, err)
		}

		got, err = e.svc.DecideMobile(ctx, "jan", false)
		if err != nil || got.ID != older.ID || got.Status != sca.StatusRejected {
			t.Fatalf("reject: %+v, %v", got, err)
		}
		if c, _ := e.svc.Challenge(ctx, older.ID); c.Status != sca.StatusRejected || c.DecidedAt.IsZero() {
			t.Fatalf("after rejection: %+v", c)
		}

		// An expired challenge cannot be decided.
		late, err := e.svc.StartMobile(ctx, e.jan, "consent:R3", "Zgoda")
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(5 * time.Minute)
		_, err = e.svc.DecideMobile(ctx, "jan", true)
		wantCode(t, "expired", err, sca.CodeNothingPending)
		if c, _ := e.svc.Challenge(ctx, late.ID); c.Status != sca.StatusExpired {
			t.Fatalf("late: %+v", c)
		}
		_, err = e.svc.Consume(ctx, late.ID, e.jan.ID)
		wantCode(t, "consume expired", err, sca.CodeExpired)
		_, err = e.svc.Challenge(ctx, "no-such-id")
		wantCode(t, "no such challenge", err, sca.CodeNotFound)
		if len(decisions) != 2 {
			t.Fatalf("OnDecision calls: %d", len(decisions))
		}
	})
}

func TestSMSOutboxNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for _, text := range []string{"pierwszy", "drugi", "trzeci"} {
			if _, err := e.svc.StartSMS(ctx, e.jan, "p", text); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Second)
		}
		if _, err := e.svc.StartSMS(ctx, e.anna, "p", "anny"); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.svc.SMSOutbox(ctx, "jan", 2)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("outbox: %v, %v", msgs, err)
		}
		if !strings.Contains(msgs[0].Text, "trzeci") || !strings.Contains(msgs[1].Text, "drugi") ||
			!strings.Contains(msgs[0].Text, msgs[0].Code) || !msgs[0].SentAt.After(msgs[1].SentAt) {
			t.Fatalf("outbox: %+v", msgs)
		}
	})
}
