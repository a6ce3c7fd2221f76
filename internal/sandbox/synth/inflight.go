package synth

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// inFlight makes what is under way at now: card holds of the last day or
// so, transfers submitted today and waiting for the next Elixir session,
// and future-dated transfers. Holds and pending transfers never exceed an
// account's available balance.
func (g *gen) inFlight() {
	held := make([]money.Amount, len(g.accounts))
	available := func(a *account) money.Amount { return a.balance - held[a.idx] }

	// Card holds.
	weights := make([]int, len(domesticMerchants))
	for i, m := range domesticMerchants {
		weights[i] = m.weight
	}
	hold := func(a *account, name, city string, amount money.Amount) {
		amount = min(amount, available(a)/4)
		if amount < 100 {
			return
		}
		created := g.now.Add(-time.Duration(5*60+g.intn(30*3600)) * time.Second)
		held[a.idx] += amount
		g.ds.Holds = append(g.ds.Holds, ledger.Hold{
			ID: g.newID(created), AccountID: a.id, Amount: amount, Currency: a.currency, Status: "active", Kind: "card",
			Description: cardTitle(name, city), MerchantName: name, MerchantCity: city,
			CreatedAt: created.UTC(), ExpiresAt: created.Add(7 * 24 * time.Hour).UTC(),
		})
	}
	for _, p := range g.retail {
		for range 2 + g.intn(3) {
			m := domesticMerchants[g.weighted(weights)]
			name, city := g.slip(m, p.favouriteStores, p.c.city)
			hold(p.personal, name, city, g.skewed(m.lo, m.hi))
		}
		if p.eur != nil {
			s := eurOnline[0]
			hold(p.eur, s.title, s.city, g.skewed(s.lo, s.hi))
		}
	}
	for range 2 {
		m := fuelMerchants[g.intn(len(fuelMerchants))]
		name, city := g.slip(m, [3]int{}, "")
		hold(g.budowa.main, name, city, g.skewed(m.lo, m.hi))
	}
	slices.SortStableFunc(g.ds.Holds, func(a, b ledger.Hold) int { return a.CreatedAt.Compare(b.CreatedAt) })

	// Transfers submitted today, before now, for the next Elixir session.
	today := dateOf(g.now)
	kasia, roza, budowa := g.retail[3], g.roza, g.budowa
	orange := billOf(kasia, orng.name)
	flora, gravel := supplierOf(roza, "Hurtownia Kwiatów Flora Sp. z o.o."), supplierOf(budowa, "Kruszywa Mazowsze Sp. z o.o.")
	pending := []struct {
		from   *account
		to     ledger.Party
		amount money.Amount
		title  string
	}{
		{kasia.personal, orange.party, g.between(orange.lo, orange.hi),
			fmt.Sprintf(orange.title, period(g.now), fmt.Sprintf("F/%s/%02d/%02d", orange.ref[:6], int(g.now.Month()), g.now.Year()%100))},
		{roza.main, flora.party(), g.between(flora.lo, flora.hi), fmt.Sprintf("Zapłata za %s - %s", g.supplierInvoice(g.now), flora.what)},
		{budowa.main, gravel.party(), g.between(gravel.lo, gravel.hi), fmt.Sprintf("Zapłata za %s - %s", g.supplierInvoice(g.now), gravel.what)},
	}
	for _, p := range pending {
		amount := min(p.amount, available(p.from)/2)
		if amount <= 0 {
			continue
		}
		submitted := g.now.Add(-time.Duration(60+g.intn(2*3600)) * time.Second)
		if submitted.Before(today) {
			submitted = today
		}
		held[p.from.idx] += amount
		g.ds.Pending = append(g.ds.Pending, ledger.TransferRequest{
			ID: g.newID(submitted), Kind: KindElixir, DebitAccountID: p.from.id, CreditAccountID: g.clearing[0].id,
			Debtor: p.from.party(), Creditor: p.to, Amount: amount, Currency: p.from.currency, Title: p.title,
			TradeDate: ledger.DateOf(g.now), ExecutionDate: ledger.DateOf(g.now),
		})
	}

	// Future-dated transfers: standing orders and one-off payments.
	jan, anna, piotr := g.retail[0], g.retail[1], g.retail[2]
	coop := billOf(anna, smm.name)
	scheduled := []struct {
		from, to *account // to is nil for a payment leaving the bank
		party    ledger.Party
		day      int
		amount   money.Amount
		title    string
	}{
		{jan.personal, nil, jan.housing[0].party, jan.housing[0].day, jan.housing[0].amount, jan.housing[0].title},
		{piotr.personal, nil, piotr.housing[0].party, piotr.housing[0].day, piotr.housing[0].amount, piotr.housing[0].title},
		{anna.personal, nil, coop.party, coop.day, g.between(coop.lo, coop.hi), fmt.Sprintf(coop.title, "%s", coop.ref)},
		{budowa.main, nil, budowa.standing.party(), 20, 4871240, budowa.standing.what + " za %s"},
		{roza.main, nil, roza.standing.party(), 12, 24599, roza.standing.what + " %s"},
		{kasia.personal, anna.personal, ledger.Party{}, 1 + g.intn(28), zl(300 + g.rng.Int64N(900)), "Za wakacje - zaliczka %s"},
	}
	for _, s := range scheduled {
		due := g.nextDay(s.day)
		to, creditor, kind := s.to, s.party, KindInternal
		if to == nil {
			to, kind = g.clearingOf(s.from.currency), KindElixir
			due = polish.BusinessDayOnOrAfter(due)
		} else {
			creditor = to.party()
		}
		ordered := g.now.Add(-time.Duration(3600+g.intn(10*24*3600)) * time.Second)
		g.ds.Scheduled = append(g.ds.Scheduled, ledger.TransferRequest{
			ID: g.newID(ordered), Kind: kind, DebitAccountID: s.from.id, CreditAccountID: to.id,
			Debtor: s.from.party(), Creditor: creditor, Amount: s.amount, Currency: s.from.currency,
			Title: fmt.Sprintf(s.title, period(due)), TradeDate: ledger.DateOf(ordered), ExecutionDate: ledger.DateOf(due),
		})
	}
	slices.SortStableFunc(g.ds.Scheduled, func(a, b ledger.TransferRequest) int { return cmp.Compare(a.ExecutionDate, b.ExecutionDate) })
}

// nextDay is the first date after today that falls on day d of its month
// (the month's last day when it is shorter).
func (g *gen) nextDay(d int) time.Time {
	today := dateOf(g.now)
	for m := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, polish.Warsaw); ; m = m.AddDate(0, 1, 0) {
		if due := monthDay(m, d); due.After(today) {
			return due
		}
	}
}

func billOf(p *person, name string) bill {
	for _, b := range p.bills {
		if b.name == name {
			return b
		}
	}
	panic("synth: " + p.c.Login + " has no bill from " + name)
}

func supplierOf(f *firm, name string) org {
	for _, s := range f.suppliers {
		if s.name == name {
			return s
		}
	}
	panic("synth: " + f.c.Login + " has no supplier " + name)
}
