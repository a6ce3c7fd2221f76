package polish

import (
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
)

func TestElixirSessions(t *testing.T) {
	got := ElixirSessions(warsaw(2026, 3, 2, 17, 45)) // a Monday
	want := []Session{
		{1, warsaw(2026, 3, 2, 8, 0), warsaw(2026, 3, 2, 9, 30), warsaw(2026, 3, 2, 10, 30)},
		{2, warsaw(2026, 3, 2, 12, 0), warsaw(2026, 3, 2, 13, 30), warsaw(2026, 3, 2, 14, 30)},
		{3, warsaw(2026, 3, 2, 14, 30), warsaw(2026, 3, 2, 16, 0), warsaw(2026, 3, 2, 17, 0)},
	}
	if len(got) != len(want) {
		t.Fatalf("ElixirSessions = %v; want %v", got, want)
	}
	for i := range want {
		if got[i].Number != want[i].Number || !got[i].Cutoff.Equal(want[i].Cutoff) ||
			!got[i].Settled.Equal(want[i].Settled) || !got[i].Delivered.Equal(want[i].Delivered) {
			t.Errorf("session %d = %+v; want %+v", i+1, got[i], want[i])
		}
	}
	// The cut-offs are Warsaw wall-clock times in summer too.
	if s := ElixirSessions(day(2026, 7, 1)); len(s) != 3 || !s[0].Cutoff.Equal(time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("ElixirSessions(2026-07-01)[0] = %+v; want a cut-off at 06:00 UTC", s)
	}
	for _, d := range []time.Time{day(2026, 3, 7), day(2026, 3, 8), day(2025, 12, 24), day(2026, 1, 6)} {
		if s := ElixirSessions(d); s != nil {
			t.Errorf("ElixirSessions(%v) = %v; want none", d, s)
		}
	}
}

func TestNextElixirSession(t *testing.T) {
	tests := []struct {
		t      time.Time
		number int
		cutoff time.Time
	}{
		{warsaw(2026, 3, 2, 7, 0), 1, warsaw(2026, 3, 2, 8, 0)},
		{warsaw(2026, 3, 2, 8, 0), 1, warsaw(2026, 3, 2, 8, 0)}, // at the cut-off exactly
		{warsaw(2026, 3, 2, 8, 0).Add(time.Second), 2, warsaw(2026, 3, 2, 12, 0)},
		{warsaw(2026, 3, 2, 14, 30), 3, warsaw(2026, 3, 2, 14, 30)},
		{warsaw(2026, 3, 2, 14, 31), 1, warsaw(2026, 3, 3, 8, 0)},
		{warsaw(2026, 3, 6, 15, 0), 1, warsaw(2026, 3, 9, 8, 0)},     // Friday afternoon to Monday
		{warsaw(2026, 3, 7, 7, 0), 1, warsaw(2026, 3, 9, 8, 0)},      // Saturday morning to Monday
		{warsaw(2025, 12, 23, 20, 0), 1, warsaw(2025, 12, 29, 8, 0)}, // over Christmas 2025
		{warsaw(2026, 4, 3, 16, 0), 1, warsaw(2026, 4, 7, 8, 0)},     // over Easter 2026
		{time.Date(2026, 3, 2, 7, 1, 0, 0, time.UTC), 2, warsaw(2026, 3, 2, 12, 0)},
	}
	for _, tt := range tests {
		got := NextElixirSession(tt.t)
		if got.Number != tt.number || !got.Cutoff.Equal(tt.cutoff) {
			t.Errorf("NextElixirSession(%v) = session %d at %v; want session %d at %v", tt.t, got.Number, got.Cutoff, tt.number, tt.cutoff)
		}
	}
}

func TestSorbnet(t *testing.T) {
	if got, want := SorbnetCutoff(warsaw(2026, 3, 2, 9, 0)), warsaw(2026, 3, 2, 14, 30); !got.Equal(want) {
		t.Errorf("SorbnetCutoff(Monday) = %v; want %v", got, want)
	}
	for _, d := range []time.Time{day(2026, 3, 7), day(2026, 6, 4)} {
		if got := SorbnetCutoff(d); !got.IsZero() {
			t.Errorf("SorbnetCutoff(%v) = %v; want the zero time", d, got)
		}
	}
	if SorbnetMin.String() != "1000000.00" {
		t.Errorf("SorbnetMin = %v; want 1000000.00", SorbnetMin)
	}
	if ExpressElixirMax.String() != "100000.00" {
		t.Errorf("ExpressElixirMax = %v; want 100000.00", ExpressElixirMax)
	}
	if ExpressElixirMax >= SorbnetMin || ExpressElixirMax <= money.Amount(0) {
		t.Errorf("ExpressElixirMax %v is not between 0 and SorbnetMin %v", ExpressElixirMax, SorbnetMin)
	}
}
