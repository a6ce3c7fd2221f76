package polish

import (
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
)

// Session is one Elixir settlement session (sesja rozliczeniowa) of KIR on a
// given business day.
type Session struct {
	Number int // 1, 2 or 3 within the day
	// Cutoff is when the bank must have accepted a payment for it to go out
	// in this session; a payment accepted at Cutoff exactly still does.
	Cutoff time.Time
	// Settled is when KIR settles the session: the funds reach the recipient
	// bank.
	Settled time.Time
	// Delivered is when KIR delivers the session's incoming file to the
	// recipient bank, which credits its customers from then on.
	Delivered time.Time
}

// elixirSchedule is the daily schedule of Elixir, in Warsaw wall-clock hours
// and minutes. Settlement at 9:30, 13:30 and 16:00 and delivery of incoming
// files from 10:30, 14:30 and 17:00 are KIR's. The submission cut-offs are the
// bank's own: 08:00 and 12:00 are mBank's published cut-offs for sessions 1 and
// 2; mBank publishes none for session 3, so 14:30 (used by ING) is taken.
// KIR's shortened days (historically no third session on 24 December) are not
// modelled.
var elixirSchedule = [3]struct{ cutoff, settled, delivered [2]int }{
	{cutoff: [2]int{8, 0}, settled: [2]int{9, 30}, delivered: [2]int{10, 30}},
	{cutoff: [2]int{12, 0}, settled: [2]int{13, 30}, delivered: [2]int{14, 30}},
	{cutoff: [2]int{14, 30}, settled: [2]int{16, 0}, delivered: [2]int{17, 0}},
}

// ElixirSessions returns the three Elixir sessions of the Warsaw calendar date
// of day, in order, or nil if it is not a business day.
func ElixirSessions(day time.Time) []Session {
	if !IsBusinessDay(day) {
		return nil
	}
	date := dateOf(day)
	at := func(hm [2]int) time.Time {
		return time.Date(date.Year(), date.Month(), date.Day(), hm[0], hm[1], 0, 0, Warsaw)
	}
	sessions := make([]Session, len(elixirSchedule))
	for i, s := range elixirSchedule {
		sessions[i] = Session{Number: i + 1, Cutoff: at(s.cutoff), Settled: at(s.settled), Delivered: at(s.delivered)}
	}
	return sessions
}

// NextElixirSession returns the first session whose cut-off is at or after t,
// on the same business day or a later one.
func NextElixirSession(t time.Time) Session {
	for day := dateOf(t); ; day = NextBusinessDay(day) {
		for _, s := range ElixirSessions(day) {
			if !s.Cutoff.Before(t) {
				return s
			}
		}
	}
}

const (
	// ExpressElixirMax is the largest amount, in PLN, that the bank sends by
	// Express Elixir, KIR's instant system. Express Elixir runs 24 hours a day
	// on every day of the year and ignores the business-day calendar. KIR
	// leaves the cap to each bank (ING: 100 000 PLN, Credit Agricole: 5 000
	// PLN); 100 000 PLN is the sandbox's default.
	ExpressElixirMax money.Amount = 100_000_00

	// SorbnetMin is the amount, in PLN, from which a payment must go through
	// SORBNET, NBP's real-time gross settlement system, rather than Elixir,
	// which takes only amounts below it. Below it SORBNET is optional.
	// Payments to tax offices and ZUS always go through Elixir, whatever the
	// amount.
	SorbnetMin money.Amount = 1_000_000_00
)

// SorbnetCutoff returns the time on the Warsaw calendar date of day until
// which the bank accepts payments for SORBNET that day: 14:30, the sandbox's
// default (ING's cut-off; other banks close between about 13:30 and 15:00). It
// returns the zero Time if day is not a business day, when SORBNET is closed.
func SorbnetCutoff(day time.Time) time.Time {
	if !IsBusinessDay(day) {
		return time.Time{}
	}
	date := dateOf(day)
	return time.Date(date.Year(), date.Month(), date.Day(), 14, 30, 0, 0, Warsaw)
}
