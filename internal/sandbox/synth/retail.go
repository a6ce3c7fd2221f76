package synth

import (
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// plan plans the whole history.
func (g *gen) plan() {
	g.planOpenings()
	for _, p := range g.retail {
		g.planPerson(p)
	}
	g.planRoza()
	g.planBudowa()
	g.planTies()
}

// planOpenings gives every customer account its first item: the money
// brought from the customer's account at another bank when it was opened.
func (g *gen) planOpenings() {
	type opening struct {
		a      *account
		lo, hi money.Amount
	}
	var openings []opening
	for _, p := range g.retail {
		openings = append(openings, opening{p.personal, zl(2_500), zl(9_000)})
		if p.savings != nil {
			openings = append(openings, opening{p.savings, zl(8_000), zl(30_000)})
		}
		if p.eur != nil {
			openings = append(openings, opening{p.eur, zl(800), zl(2_500)})
		}
	}
	openings = append(openings,
		opening{g.roza.main, zl(60_000), zl(110_000)},
		opening{g.roza.vat, zl(3_000), zl(9_000)},
		opening{g.budowa.main, zl(12_000_000), zl(18_000_000)},
		opening{g.budowa.payroll, zl(100_000), zl(200_000)},
		opening{g.budowa.eu, zl(250_000), zl(500_000)},
		opening{g.budowa.vat, zl(200_000), zl(400_000)},
	)
	for i, o := range openings {
		a := o.a
		amount := round(g.between(o.lo, o.hi), 100)
		from := ledger.Party{Name: a.owner.Name, Account: g.extNRB("")}
		kind, title := KindElixir, "Saldo otwarcia - przeniesienie środków z rachunku w innym banku"
		switch {
		case a.currency == "EUR":
			from.Account = "PL" + from.Account
			kind = KindSEPA
		case a.typ == ledger.TypeVAT:
			title = "Saldo otwarcia - przeniesienie środków z rachunku VAT w innym banku"
		}
		g.on(g.start.Add(time.Hour+time.Duration(i)*time.Minute), func(t time.Time) {
			g.receive(t, kind, a, from, amount, title)
		})
	}
}

// planPerson plans a retail customer's own life: pay, cards, cash, bills,
// rent or loan, savings and interest, fees, taxes, and euros.
func (g *gen) planPerson(p *person) {
	months := g.months()
	for _, m := range months {
		mi := g.monthIndex(m)
		// Pay from an employer at another bank.
		if p.salary > 0 {
			d := polish.BusinessDayOnOrBefore(monthDay(m, max(p.payDay, 1)))
			amount := p.salary + percent(p.salary, int64(450*(mi/12))) + g.between(-zl(120), zl(260))
			title := "Wynagrodzenie za " + period(m)
			g.on(g.elixirIn(d), func(t time.Time) { g.receive(t, KindSalary, p.personal, p.employer, amount, title) })
			if m.Month() == p.bonusMonth {
				bonus := percent(p.salary, 8500) + g.between(0, zl(300))
				title := fmt.Sprintf("Dodatkowe wynagrodzenie roczne za %d", m.Year()-1)
				g.on(g.elixirIn(monthDay(m, 26)), func(t time.Time) { g.receive(t, KindSalary, p.personal, p.employer, bonus, title) })
			}
		}
		// Bills.
		for bi, b := range p.bills {
			if (mi+bi)%b.every != 0 {
				continue
			}
			amount := g.between(b.lo, b.hi)
			if b.winter && (m.Month() >= time.October || m.Month() <= time.March) {
				amount = amount * 16 / 10
			}
			ref := b.ref
			if strings.Contains(b.title, "FV") || strings.Contains(b.title, "Faktura") {
				ref = fmt.Sprintf("F/%s/%02d/%02d", b.ref[:6], int(m.Month()), m.Year()%100)
			}
			title := fmt.Sprintf(b.title, period(m), ref)
			g.on(g.elixirOut(monthDay(m, b.day-2+g.intn(5))), func(t time.Time) {
				if p.personal.can(amount) {
					g.pay(t, KindElixir, p.personal, b.party, amount, title)
				}
			})
		}
		// Rent or a loan instalment.
		for _, r := range p.housing {
			title := fmt.Sprintf(r.title, period(m))
			g.on(g.elixirOut(monthDay(m, r.day)), func(t time.Time) {
				if p.personal.can(r.amount) {
					g.pay(t, KindElixir, p.personal, r.party, r.amount, title)
				}
			})
		}
		// Cash.
		for range 1 + g.intn(2) {
			d := monthDay(m, 1+g.intn(28))
			amount := round(g.between(zl(100), zl(800)), zl(50))
			name := fmt.Sprintf("EURONET %04d", 1000+g.intn(9000))
			g.onCard(p.personal, g.within(d, 8, 21), g.within(d.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: p.atmNRB}, amount,
				fmt.Sprintf("WYPŁATA GOTÓWKI Z BANKOMATU %s %s", name, p.c.city))
		}
		// Subscriptions.
		for si, s := range p.subs {
			d := monthDay(m, 3+7*si)
			g.onCard(p.personal, g.within(d, 0, 6), g.within(d.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: s.title, Account: stableAccount(s.sort, s.title)}, s.amount, cardTitle(s.title, s.city))
		}
		// Savings, and interest on them.
		if p.savings != nil {
			amount := round(p.saving+g.between(-zl(500), zl(700)), zl(100))
			g.on(g.within(polish.BusinessDayOnOrAfter(monthDay(m, p.savingDay())), 19, 22), func(t time.Time) {
				if a, ok := p.personal.upTo(amount, zl(1500), zl(200)); ok {
					g.move(t, KindInternal, p.personal, p.savings, round(a, zl(100)), "Przelew własny - oszczędności")
				}
			})
			if g.chance(120) {
				back := round(g.between(zl(1000), zl(6000)), zl(100))
				title := pick(g, []string{"Przelew własny - wakacje", "Przelew własny - remont", "Przelew własny - samochód", "Przelew własny"})
				g.on(g.within(monthDay(m, 5+g.intn(20)), 18, 22), func(t time.Time) {
					if p.savings.can(back) {
						g.move(t, KindInternal, p.savings, p.personal, back, title)
					}
				})
			}
			rate := int64(max(520-6*mi, 300)) // basis points a year
			g.on(at(monthDay(m, 31), 23, 30, 0), func(t time.Time) { g.interest(t, p.savings, rate) })
		}
		// The bank's fee.
		if p.accountFee > 0 {
			title := "Opłata za prowadzenie rachunku za " + period(m.AddDate(0, -1, 0))
			g.on(at(m, 6, 10, 0), func(t time.Time) {
				if p.personal.can(p.accountFee) {
					g.pay(t, KindFee, p.personal, g.clearing[0].party(), p.accountFee, title)
				}
			})
		}
		// Income tax for last year: a refund, or a payment by the end of April.
		switch {
		case m.Month() == time.May && p.taxRefund:
			amount := g.between(zl(150), zl(2600))
			office := ledger.Party{Name: "Urząd Skarbowy Warszawa-Ochota", Account: stableAccount("1010101", "US Warszawa-Ochota")}
			title := fmt.Sprintf("ZWROT NADPŁATY PIT-37 ZA %d", m.Year()-1)
			g.on(g.elixirIn(monthDay(m, 4+g.intn(25))), func(t time.Time) { g.receive(t, KindTax, p.personal, office, amount, title) })
		case m.Month() == time.April && p.taxPayment:
			amount := g.between(zl(120), zl(950))
			office := ledger.Party{Name: "Urząd Skarbowy Kraków-Śródmieście", Account: must(polish.TaxMicroAccount(polish.TaxIDPESEL, p.c.PESEL))}
			title := fmt.Sprintf("/TI/P%s/OKR/%02dR/SFP/PIT-37/", p.c.PESEL, (m.Year()-1)%100)
			g.on(g.elixirOut(monthDay(m, 20+g.intn(8))), func(t time.Time) {
				if p.personal.can(amount) {
					g.pay(t, KindTax, p.personal, office, amount, title)
				}
			})
		}
	}
	g.planCards(p)
	if p.eur != nil {
		g.planEuro(p)
	}
}

// savingDay is the day of the month when a person moves money to savings:
// a couple of days after pay.
func (p *person) savingDay() int {
	if p.payDay == 0 || p.payDay > 26 {
		return 2
	}
	return p.payDay + 2
}

// interest capitalises a month's interest on a savings account and withholds
// the 19% tax on it.
func (g *gen) interest(t time.Time, a *account, rateBp int64) {
	gross := money.Amount(int64(a.balance) * rateBp / 120_000)
	if gross <= 0 {
		return
	}
	bank := g.clearingOf(a.currency).party()
	g.receive(t, KindInterest, a, bank, gross, fmt.Sprintf("Kapitalizacja odsetek za %s, oprocentowanie %s%%", period(t), comma(money.Amount(rateBp))))
	if tax := percent(gross, 1900); tax > 0 {
		g.pay(t, KindTax, a, bank, tax, "Podatek od odsetek (art. 30a ust. 1 pkt 3 ustawy o PIT)")
	}
}

// onCard plans a card payment made at buy and booked at book.
func (g *gen) onCard(a *account, buy, book time.Time, merchant ledger.Party, amount money.Amount, title string) {
	g.on(book, func(t time.Time) {
		if a.can(amount) {
			g.book(t, KindCard, a, g.clearingOf(a.currency), merchant, amount, title, buy)
		}
	})
}

// cardTitle is how a card payment appears on a statement.
func cardTitle(name, city string) string {
	return "ZAKUP PRZY UŻYCIU KARTY " + name + " " + city
}

// slip returns the merchant's name and city as the card slip prints them.
func (g *gen) slip(m merchant, stores [3]int, home string) (name, city string) {
	name, city = m.title, m.city
	if m.store {
		n := stores[g.intn(3)]
		if home != "" && g.chance(150) || home == "" {
			n = 1000 + g.intn(9000)
		}
		name = fmt.Sprintf("%s %d", m.title, n)
		if m.title == "ŻABKA Z" {
			name = fmt.Sprintf("ŻABKA Z%d", n)
		}
	}
	if city == "" {
		city = home
		if city == "" || g.chance(100) {
			city = pick(g, cities)
		}
	}
	return name, city
}

// planCards plans a person's everyday card payments in PLN.
func (g *gen) planCards(p *person) {
	weights := make([]int, len(domesticMerchants))
	for i, m := range domesticMerchants {
		weights[i] = m.weight
	}
	perDay := p.cardsPerWeek * 1000 / 7 // per mille
	for _, d := range g.days[1:] {
		rate := perDay
		if wd := d.date.Weekday(); wd == time.Saturday || wd == time.Friday {
			rate = rate * 13 / 10
		}
		n := 0
		for range 4 {
			if g.chance(rate / 4) {
				n++
			}
		}
		for range n {
			m := domesticMerchants[g.weighted(weights)]
			amount := g.skewed(m.lo, m.hi)
			name, city := g.slip(m, p.favouriteStores, p.c.city)
			g.onCard(p.personal, g.within(d.date, 7, 22), g.within(d.date.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: stableAccount(m.sort, m.title)}, amount, cardTitle(name, city))
		}
	}
}

// planEuro plans a person's EUR account: a monthly invoice paid from
// Germany by SEPA, card payments online and on holidays abroad.
func (g *gen) planEuro(p *person) {
	client := ledger.Party{Name: "Müller Software GmbH", Account: stableAccount("DE", "Müller Software GmbH")}
	weights := make([]int, len(eurOnline))
	for i, m := range eurOnline {
		weights[i] = m.weight
	}
	tripWeights := make([]int, len(trips))
	for i, tr := range trips {
		tripWeights[i] = tr.weight
	}
	for _, m := range g.months() {
		y, mo, _ := m.Date()
		amount := g.between(zl(850), zl(1450))
		title := fmt.Sprintf("Invoice JK/%d/%02d - software consulting", y, int(mo))
		g.on(g.within(polish.BusinessDayOnOrAfter(monthDay(m, 6+g.intn(6))), 9, 16), func(t time.Time) {
			g.receive(t, KindSEPA, p.eur, client, amount, title)
		})
		for range 1 + g.intn(3) {
			s := eurOnline[g.weighted(weights)]
			d := monthDay(m, 1+g.intn(28))
			g.onCard(p.eur, g.within(d, 8, 23), g.within(d.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: s.title, Account: stableAccount(s.sort, s.title)}, g.skewed(s.lo, s.hi), cardTitle(s.title, s.city))
		}
		// A few days abroad in about four months a year, mostly in summer.
		chance := 200
		if mo >= time.May && mo <= time.September {
			chance = 450
		}
		if !g.chance(chance) {
			continue
		}
		tr := trips[g.weighted(tripWeights)]
		first := monthDay(m, 1+g.intn(22))
		for i := range 3 + g.intn(5) {
			d := first.AddDate(0, 0, i)
			for range 2 + g.intn(4) {
				shop := pick(g, tr.shops)
				g.onCard(p.eur, g.within(d, 8, 23), g.within(d.AddDate(0, 0, 1+g.intn(2)), 3, 6),
					ledger.Party{Name: shop, Account: stableAccount(tr.country, shop)}, g.skewed(tr.lo, tr.hi), cardTitle(shop, tr.city))
			}
		}
	}
}

// planTies plans transfers between the test customers that are not pay or
// invoices: friends settling up, and a customer paying the florist.
func (g *gen) planTies() {
	jan, anna, piotr, kasia := g.retail[0].personal, g.retail[1].personal, g.retail[2].personal, g.retail[3].personal
	ties := []struct {
		from, to *account
		perMonth int // per mille chance of each of two transfers a month
		lo, hi   int64
		titles   []string
	}{
		{jan, anna, 900, 20, 400, []string{"Zwrot za bilety", "Za kolację", "Bilety na koncert", "Zwrot za zakupy", "Prezent dla Kasi - składka", "Zwrot za bilety do kina"}},
		{anna, jan, 500, 15, 250, []string{"Za pizzę", "Zwrot za taksówkę", "Oddaję za kino", "Za zakupy"}},
		{piotr, jan, 400, 30, 300, []string{"Za paliwo - wyjazd", "Zwrot pożyczki", "Mecz - bilety", "Oddaję, dzięki!"}},
		{kasia, anna, 450, 40, 600, []string{"Za wakacje - moja część", "Zrzutka na prezent", "Noclegi Zakopane", "Bilety lotnicze - zwrot"}},
		{jan, piotr, 250, 50, 500, []string{"Pożyczka", "Za grilla", "Zwrot za narzędzia"}},
	}
	for _, m := range g.months() {
		for _, tie := range ties {
			for range 2 {
				if !g.chance(tie.perMonth) {
					continue
				}
				amount := zl(tie.lo + g.rng.Int64N(tie.hi-tie.lo+1))
				title := pick(g, tie.titles)
				from, to := tie.from, tie.to
				g.on(g.within(monthDay(m, 1+g.intn(28)), 8, 23), func(t time.Time) {
					if from.can(amount) {
						g.move(t, KindInternal, from, to, amount, title)
					}
				})
			}
		}
		// Now and then Anna orders flowers from Kwiaciarnia Róża and pays by transfer.
		if g.chance(250) {
			amount := g.between(zl(120), zl(450))
			title := fmt.Sprintf("Zamówienie nr %d - bukiet", 100+g.intn(900))
			g.on(g.within(monthDay(m, 1+g.intn(28)), 9, 21), func(t time.Time) {
				if anna.can(amount) {
					g.move(t, KindInternal, anna, g.roza.main, amount, title)
				}
			})
		}
	}
}
