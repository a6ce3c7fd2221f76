package live_test

import (
	"context"
	"errors"
	"testing"

	"github.com/psd2bank/psd2bank/internal/live"
)

// A check owed gives its facts to the statements (Args) until a statement
// proves them (Proven) or the read confirms them (Confirm, once: its
// answer is kept); without a check there is nothing to prove or read.
func TestCheck(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	if got := live.Args(bg); got[0] != "" || got[1] != "" || got[2] != "" {
		t.Fatalf("Args without a check: %v", got)
	}
	if err := live.Confirm(bg); err != nil {
		t.Fatalf("Confirm without a check: %v", err)
	}

	reads := 0
	refusal := errors.New("token revoked")
	c := live.New("h", "tpp", "production", func(context.Context) error { reads++; return refusal })
	ctx := live.With(bg, c)
	if got := live.Args(ctx); got[0] != "h" || got[1] != "tpp" || got[2] != "production" {
		t.Fatalf("Args of a check owed: %v", got)
	}
	if err := live.Confirm(ctx); err != refusal || c.Refusal() != refusal {
		t.Fatalf("Confirm: %v, Refusal %v", err, c.Refusal())
	}
	if err := c.Settle(ctx); err != refusal || reads != 1 {
		t.Fatalf("Settle again: %v after %d reads, want the kept refusal after 1", err, reads)
	}
	if got := live.Args(ctx); got[0] != "" {
		t.Fatalf("Args of a check settled: %v", got)
	}

	p := live.New("h", "tpp", "", func(context.Context) error { reads++; return refusal })
	pctx := live.With(bg, p)
	live.Proven(pctx)
	if err := p.Settle(pctx); err != nil || reads != 1 || p.Refusal() != nil {
		t.Fatalf("Settle of a check proven: %v after %d reads", err, reads)
	}
}

// Kept gives back what was put under a key, and holds at most Max: the
// one put when full empties it first.
func TestKept(t *testing.T) {
	t.Parallel()
	k := live.Kept[int]{Max: 2}
	if _, ok := k.Get("a"); ok {
		t.Fatal("kept before any Put")
	}
	k.Put("a", 1)
	k.Put("b", 2)
	if v, ok := k.Get("a"); !ok || v != 1 {
		t.Fatalf("a: %d %v", v, ok)
	}
	k.Put("c", 3) // full: emptied, then c kept
	if _, ok := k.Get("a"); ok {
		t.Fatal("a kept beyond Max")
	}
	if v, ok := k.Get("c"); !ok || v != 3 {
		t.Fatalf("c: %d %v", v, ok)
	}
}
