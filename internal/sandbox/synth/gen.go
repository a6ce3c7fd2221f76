package synth

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// gen is one run of the generator. It first plans every event of the
// history (a time and a function), then runs the plans in time order: each
// event sees the running balances as they stand at its time, and skips or
// shrinks spending that would overdraw an account.
type gen struct {
	rng   *rand.Rand // everything but identifiers
	idRng *rand.Rand // the random bits of identifiers
	now   time.Time
	start time.Time // when the accounts were opened: 08:00 in Warsaw, on the day HistoryDays-1 days before today
	days  []day     // every calendar day from the day of start to the day of now
	ds    *Dataset

	customers []*customer
	accounts  []*account // clearing accounts first, then customers', in Dataset order
	clearing  [2]*account
	plans     []plan

	// Named parts of the cast, for the patterns that tie them together.
	jan, anna, piotr, kasia *customer
	roza, budowa            *firm
	firms                   []*firm
	retail                  []*person
}

// day is one calendar day of the history.
type day struct {
	date     time.Time // midnight in Warsaw
	business bool
}

type customer struct {
	ledger.Customer
	num      int    // the 4-digit customer number in account numbers
	city     string // where the customer shops, upper case as on card slips
	accounts []*account
}

type account struct {
	idx      int // in gen.accounts and Dataset.Accounts
	id       string
	nrb      string
	currency string
	typ      string
	name     string
	owner    *customer // nil for the bank's clearing accounts
	balance  money.Amount
	postings int64
}

// party is how the account appears on the other side's statement.
func (a *account) party() ledger.Party {
	if a.owner == nil {
		return ledger.Party{Name: polish.OwnBankName, Account: a.nrb}
	}
	return ledger.Party{Name: a.owner.Name, Account: a.nrb}
}

type plan struct {
	at  time.Time
	seq int
	fn  func(at time.Time)
}

const (
	pcgStream = 0x7073_6432_6261_6e6b // "psd2bank"
	idStream  = 0x6964_7332_7365_6564
)

func newGen(seed int64, now time.Time) *gen {
	g := &gen{
		rng:   rand.New(rand.NewPCG(uint64(seed), pcgStream)),
		idRng: rand.New(rand.NewPCG(uint64(seed), idStream)),
		now:   now,
		ds:    &Dataset{},
	}
	first := dateOf(now).AddDate(0, 0, 1-HistoryDays)
	g.start = at(first, 8, 0, 0)
	for d := first; !d.After(now); d = d.AddDate(0, 0, 1) {
		g.days = append(g.days, day{date: d, business: polish.IsBusinessDay(d)})
	}
	return g
}

// dateOf is midnight in Warsaw of t's Warsaw calendar date.
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(polish.Warsaw).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, polish.Warsaw)
}

// ---- randomness

func (g *gen) intn(n int) int { return g.rng.IntN(n) }

// chance is true with probability permille/1000.
func (g *gen) chance(permille int) bool { return g.rng.IntN(1000) < permille }

// between is uniform in [lo, hi].
func (g *gen) between(lo, hi money.Amount) money.Amount {
	if hi <= lo {
		return lo
	}
	return lo + money.Amount(g.rng.Int64N(int64(hi-lo)+1))
}

// skewed is in [lo, hi], small values more likely: lo + (hi-lo)·u².
func (g *gen) skewed(lo, hi money.Amount) money.Amount {
	u := g.rng.Int64N(1 << 20)
	return lo + money.Amount((int64(hi-lo)*(u*u>>20))>>20)
}

// round rounds a down to a multiple of unit (in minor units), at least unit.
func round(a, unit money.Amount) money.Amount {
	if a < unit {
		return unit
	}
	return a / unit * unit
}

// pick returns a random element of xs.
func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// weighted returns the index of a random weight, each index as likely as its weight.
func (g *gen) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := g.rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

// zl is a whole number of currency units.
func zl(units int64) money.Amount { return money.Amount(units * 100) }

// percent returns a·bp/10000, rounded half up.
func percent(a money.Amount, bp int64) money.Amount {
	return money.Amount((int64(a)*bp + 5000) / 10000)
}

// comma writes an amount with a decimal comma, as split payment titles do.
func comma(a money.Amount) string { return strings.Replace(a.String(), ".", ",", 1) }

// ---- identifiers

// newID returns a UUIDv7 whose time prefix is at in milliseconds and whose
// other bits come from the identifier source.
func (g *gen) newID(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	r1, r2 := g.idRng.Uint64(), g.idRng.Uint64()
	b[6], b[7] = byte(r1>>8), byte(r1)
	for i := range 8 {
		b[8+i] = byte(r2 >> (56 - 8*i))
	}
	b[6] = 0x70 | b[6]&0x0f // version 7
	b[8] = 0x80 | b[8]&0x3f // variant 10
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// ---- time

// at returns the Warsaw wall-clock time h:m:s on the day of d.
func at(d time.Time, h, m, s int) time.Time {
	y, mo, dd := d.In(polish.Warsaw).Date()
	return time.Date(y, mo, dd, h, m, s, 0, polish.Warsaw)
}

// within returns a random second in [h0:00, h1:00) on the day of d.
func (g *gen) within(d time.Time, h0, h1 int) time.Time {
	return at(d, h0, 0, 0).Add(time.Duration(g.rng.IntN((h1-h0)*3600)) * time.Second)
}

// elixirIn is when an incoming Elixir transfer sent on d is credited: in the
// delivery window of one of the day's three sessions, on the first business
// day on or after d.
func (g *gen) elixirIn(d time.Time) time.Time {
	s := polish.ElixirSessions(polish.BusinessDayOnOrAfter(d))
	return s[g.weighted([]int{5, 3, 2})].Delivered.Add(time.Duration(g.rng.IntN(40*60)) * time.Second)
}

// elixirOut is when an outgoing Elixir transfer ordered on d is booked: when
// one of the day's sessions settles, on the first business day on or after d.
func (g *gen) elixirOut(d time.Time) time.Time {
	s := polish.ElixirSessions(polish.BusinessDayOnOrAfter(d))
	return s[g.weighted([]int{4, 4, 2})].Settled.Add(time.Duration(g.rng.IntN(10*60)) * time.Second)
}

// monthDay is the d-th day of the month of m (the last day if the month is
// shorter), at midnight in Warsaw.
func monthDay(m time.Time, d int) time.Time {
	y, mo, _ := m.Date()
	last := time.Date(y, mo+1, 0, 0, 0, 0, 0, polish.Warsaw).Day()
	return time.Date(y, mo, min(d, last), 0, 0, 0, 0, polish.Warsaw)
}

// months lists the first day of every month from the month of start to the
// month of now.
func (g *gen) months() []time.Time {
	var out []time.Time
	y, m, _ := g.start.In(polish.Warsaw).Date()
	for t := time.Date(y, m, 1, 0, 0, 0, 0, polish.Warsaw); !t.After(g.now); t = t.AddDate(0, 1, 0) {
		out = append(out, t)
	}
	return out
}

// monthIndex numbers the months from the month of start.
func (g *gen) monthIndex(t time.Time) int {
	y0, m0, _ := g.start.In(polish.Warsaw).Date()
	y, m, _ := t.In(polish.Warsaw).Date()
	return (y-y0)*12 + int(m-m0)
}

// inHistory reports whether t is after the accounts were opened and not
// after now.
func (g *gen) inHistory(t time.Time) bool { return t.After(g.start) && !t.After(g.now) }

// ---- planning and booking

// on plans fn to run at t, if t falls within the history.
func (g *gen) on(t time.Time, fn func(at time.Time)) {
	if !g.inHistory(t) {
		return
	}
	g.plans = append(g.plans, plan{at: t, seq: len(g.plans), fn: fn})
}

// run runs every plan in time order.
func (g *gen) run() {
	slices.SortFunc(g.plans, func(a, b plan) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, p := range g.plans {
		p.fn(p.at)
	}
	g.plans = nil
}

// clearingOf is the bank's clearing account of a currency.
func (g *gen) clearingOf(currency string) *account {
	if currency == "EUR" {
		return g.clearing[1]
	}
	return g.clearing[0]
}

// can reports whether a customer account can pay amount now.
func (a *account) can(amount money.Amount) bool { return amount > 0 && a.balance >= amount }

// upTo shrinks amount to what the account holds, keeping keep in it;
// ok is false when less than least would be left to pay.
func (a *account) upTo(amount, keep, least money.Amount) (money.Amount, bool) {
	amount = min(amount, a.balance-keep)
	return amount, amount >= least && amount > 0
}

// book records a transfer from one account to another at t. A side on a
// clearing account is the outside party given; trade is the day of the
// underlying operation (zero: the day of t). The caller has made sure that a
// customer's debit account can pay.
func (g *gen) book(t time.Time, kind string, from, to *account, outside ledger.Party, amount money.Amount, title string, trade time.Time) {
	if amount <= 0 {
		panic(fmt.Sprintf("synth: %s transfer of %s", kind, amount))
	}
	if from.owner != nil && from.balance < amount {
		panic(fmt.Sprintf("synth: %s %q would overdraw %s: balance %s, amount %s", kind, title, from.nrb, from.balance, amount))
	}
	if from.currency != to.currency {
		panic(fmt.Sprintf("synth: %s between %s and %s", kind, from.currency, to.currency))
	}
	debtor, creditor := from.party(), to.party()
	if from.owner == nil {
		debtor = outside
	}
	if to.owner == nil {
		creditor = outside
	}
	if trade.IsZero() {
		trade = t
	}
	from.balance -= amount
	to.balance += amount
	from.postings++
	to.postings++
	g.ds.History = append(g.ds.History, ledger.HistoricalTransfer{
		TransferRequest: ledger.TransferRequest{
			ID: g.newID(t), Kind: kind, DebitAccountID: from.id, CreditAccountID: to.id,
			Debtor: debtor, Creditor: creditor, Amount: amount, Currency: from.currency,
			Title: title, TradeDate: ledger.DateOf(trade), ExecutionDate: ledger.DateOf(trade),
		},
		BookedAt: t.UTC(),
	})
}

// pay books a transfer from a customer account to someone outside the bank.
func (g *gen) pay(t time.Time, kind string, from *account, to ledger.Party, amount money.Amount, title string) {
	g.book(t, kind, from, g.clearingOf(from.currency), to, amount, title, time.Time{})
}

// receive books a transfer from someone outside the bank to a customer account.
func (g *gen) receive(t time.Time, kind string, to *account, from ledger.Party, amount money.Amount, title string) {
	g.book(t, kind, g.clearingOf(to.currency), to, from, amount, title, time.Time{})
}

// move books a transfer between two accounts of the bank.
func (g *gen) move(t time.Time, kind string, from, to *account, amount money.Amount, title string) {
	g.book(t, kind, from, to, ledger.Party{}, amount, title, time.Time{})
}

// finish writes the final balances and item counts into the dataset's
// accounts.
func (g *gen) finish() {
	held := make([]money.Amount, len(g.accounts))
	for _, h := range g.ds.Holds {
		held[g.accountByID(h.AccountID).idx] += h.Amount
	}
	for _, p := range g.ds.Pending {
		held[g.accountByID(p.DebitAccountID).idx] += p.Amount
	}
	for i, a := range g.accounts {
		acc := &g.ds.Accounts[i]
		acc.Booked = a.balance
		acc.Available = a.balance - held[i]
		acc.LastSeq = a.postings
	}
}

func (g *gen) accountByID(id string) *account {
	for _, a := range g.accounts {
		if a.id == id {
			return a
		}
	}
	panic("synth: no account " + id)
}
