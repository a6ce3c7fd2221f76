package synth

import (
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// splitThreshold is the gross amount from which an invoice for goods and
// services of Annex 15 of the VAT act must be paid by split payment.
const splitThreshold = 15_000_00

// vatOf splits a gross amount at a VAT rate in basis points.
func vatOf(gross money.Amount, rateBp int64) (net, vat money.Amount) {
	vat = money.Amount((int64(gross)*rateBp + (10000+rateBp)/2) / (10000 + rateBp))
	return gross - vat, vat
}

// splitTitle is the title of a split payment: the VAT amount with a decimal
// comma, the seller's NIP, the invoice and a free text of at most 33
// characters.
func splitTitle(vat money.Amount, sellerNIP, invoice, text string) string {
	if r := []rune(text); len(r) > 33 {
		text = string(r[:33])
	}
	return fmt.Sprintf("/VAT/%s/IDC/%s/INV/%s/TXT/%s", comma(vat), sellerNIP, invoice, text)
}

// taxTitle is the title of a payment to a tax micro-account for a month.
func taxTitle(nip string, month time.Time, form string) string {
	y, m, _ := month.Date()
	return fmt.Sprintf("/TI/N%s/OKR/%02dM%02d/SFP/%s/", nip, y%100, int(m), form)
}

// supplierInvoice makes up the number of a supplier's invoice.
func (g *gen) supplierInvoice(t time.Time) string {
	y, m, _ := t.In(polish.Warsaw).Date()
	switch g.intn(3) {
	case 0:
		return fmt.Sprintf("FS/%05d/%d", 1+g.intn(40000), y)
	case 1:
		return fmt.Sprintf("F/%d/%02d/%04d", y, int(m), 1+g.intn(3000))
	default:
		return fmt.Sprintf("%d/%02d/%d/FV", 1+g.intn(900), int(m), y)
	}
}

// sale records the VAT and net amount of a sale of f at t.
func (g *gen) sale(f *firm, t time.Time, net, vat money.Amount) {
	mi := g.monthIndex(t)
	f.salesNet[mi] += net
	f.salesVAT[mi] += vat
}

// splitIn books a client's split payment of an invoice of f: net to the main
// account, VAT to the VAT account.
func (g *gen) splitIn(t time.Time, f *firm, client org, gross money.Amount, text string) {
	net, vat := vatOf(gross, client.rate())
	title := splitTitle(vat, f.c.NIP, f.nextInvoice(g, t), text)
	g.receive(t, KindSplit, f.main, client.party(), net, title)
	g.receive(t, KindSplit, f.vat, client.party(), vat, title)
	g.sale(f, t, net, vat)
}

// splitOut pays a supplier's invoice by split payment: the VAT from f's VAT
// account as far as it is funded, the rest from the main account. It
// reports whether f could pay.
func (g *gen) splitOut(t time.Time, f *firm, to org, gross money.Amount, text string) bool {
	_, vat := vatOf(gross, to.rate())
	fromVAT := min(vat, f.vat.balance)
	if !f.main.can(gross - fromVAT) {
		return false
	}
	title := splitTitle(vat, to.nip, g.supplierInvoice(t), text)
	g.pay(t, KindSplit, f.main, to.party(), gross-fromVAT, title)
	if fromVAT > 0 {
		g.pay(t, KindSplit, f.vat, to.party(), fromVAT, title)
	}
	mi := g.monthIndex(t)
	f.purchaseVAT[mi] += vat
	f.outgoing[mi]++
	return true
}

// splitBetween books a split payment from one of our firms to another:
// net from main account to main account, VAT from VAT account to VAT
// account, and any VAT the payer's VAT account cannot cover from its main
// account to the payee's VAT account.
func (g *gen) splitBetween(t time.Time, payer, payee *firm, gross money.Amount, rateBp int64, text string) {
	net, vat := vatOf(gross, rateBp)
	fromVAT := min(vat, payer.vat.balance)
	if !payer.main.can(gross - fromVAT) {
		return
	}
	title := splitTitle(vat, payee.c.NIP, payee.nextInvoice(g, t), text)
	g.move(t, KindSplit, payer.main, payee.main, net, title)
	if fromVAT > 0 {
		g.move(t, KindSplit, payer.vat, payee.vat, fromVAT, title)
	}
	if rest := vat - fromVAT; rest > 0 {
		g.move(t, KindSplit, payer.main, payee.vat, rest, title)
	}
	g.sale(payee, t, net, vat)
	payer.purchaseVAT[g.monthIndex(t)] += vat
}

// invoiceOut pays a supplier's invoice by an ordinary Elixir transfer.
func (g *gen) invoiceOut(t time.Time, f *firm, to org, gross money.Amount, text string) {
	if !f.main.can(gross) {
		return
	}
	g.pay(t, KindElixir, f.main, to.party(), gross, fmt.Sprintf("Zapłata za %s - %s", g.supplierInvoice(t), text))
	_, vat := vatOf(gross, to.rate())
	mi := g.monthIndex(t)
	f.purchaseVAT[mi] += vat
	f.outgoing[mi]++
}

// planSupplier plans paying a supplier on day d: by split payment when the
// law requires it or the firm chooses to, by an ordinary transfer otherwise.
func (g *gen) planSupplier(f *firm, d time.Time, s org, gross money.Amount, splitPermille int) {
	split := gross >= splitThreshold || g.chance(splitPermille)
	g.on(g.elixirOut(d), func(t time.Time) {
		if split {
			g.splitOut(t, f, s, gross, s.what)
		} else {
			g.invoiceOut(t, f, s, gross, s.what)
		}
	})
}

// binomial is the number of successes in n trials of permille/1000 each.
func (g *gen) binomial(n, permille int) int {
	k := 0
	for range n {
		if g.chance(permille) {
			k++
		}
	}
	return k
}

func weightsOf(os []org) []int {
	w := make([]int, len(os))
	for i, o := range os {
		w[i] = o.weight
	}
	return w
}

// planPayroll pays a firm's staff for each month on the day payDay gives;
// period gives the month the pay is for.
func (g *gen) planPayroll(f *firm, payDay func(m time.Time) time.Time, period0 func(m time.Time) time.Time) {
	for _, m := range g.months() {
		per := period0(m)
		pmi := g.monthIndex(per)
		if pmi < 0 {
			continue
		}
		amounts := make([]money.Amount, len(f.employees))
		var total money.Amount
		for i, e := range f.employees {
			amounts[i] = round(e.pay+percent(e.pay, int64(400*(pmi/12)))+g.between(-zl(60), zl(140)), 1)
			total += amounts[i]
		}
		title := "Wynagrodzenie za " + period(per)
		g.on(g.within(payDay(m), 8, 10), func(t time.Time) {
			if f.payroll != f.main {
				need := total - f.payroll.balance
				if need > 0 && f.main.can(need) {
					g.move(t, KindInternal, f.main, f.payroll, need, "Zasilenie rachunku płacowego - wynagrodzenia "+period(per))
				}
			}
			for i, e := range f.employees {
				if !f.payroll.can(amounts[i]) {
					continue
				}
				if e.account != nil {
					g.move(t, KindSalary, f.payroll, e.account, amounts[i], title)
				} else {
					g.pay(t, KindSalary, f.payroll, e.party, amounts[i], title)
					f.outgoing[g.monthIndex(t)]++
				}
				f.netPay[pmi] += amounts[i]
			}
		})
	}
}

// planDues plans a firm's monthly dues for the month before: ZUS by the
// 15th, PIT-4R and the CIT-8 advance by the 20th, VAT-7 by the 25th (from
// the VAT account first). citBp is the CIT advance as a share of net sales.
func (g *gen) planDues(f *firm, citBp int64) {
	for _, m := range g.months() {
		pm := m.AddDate(0, -1, 0)
		pmi := g.monthIndex(pm)
		if pmi < 0 {
			continue
		}
		zusDay := polish.BusinessDayOnOrBefore(monthDay(m, 12+g.intn(4)))
		g.on(g.elixirOut(zusDay), func(t time.Time) {
			amount, ok := f.main.upTo(percent(f.netPay[pmi], 5870), 0, zl(10))
			if !ok {
				return
			}
			title := fmt.Sprintf("PRZELEW ZUS; NIP: %s; ID UZUP.: R %s; TYP WPŁATY: S; DEKLARACJA: 01 %d%02d", f.c.NIP, f.c.REGON, pm.Year(), int(pm.Month()))
			g.pay(t, KindZUS, f.main, f.zus, amount, title)
			f.outgoing[g.monthIndex(t)]++
		})
		pitDay := polish.BusinessDayOnOrBefore(monthDay(m, 17+g.intn(4)))
		g.on(g.elixirOut(pitDay), func(t time.Time) {
			if amount, ok := f.main.upTo(round(percent(f.netPay[pmi], 1050), 100), 0, zl(1)); ok {
				g.pay(t, KindTax, f.main, f.taxOffice, amount, taxTitle(f.c.NIP, pm, "PIT-4R"))
				f.outgoing[g.monthIndex(t)]++
			}
			if amount, ok := f.main.upTo(round(percent(f.salesNet[pmi], citBp), 100), 0, zl(1)); ok {
				g.pay(t, KindTax, f.main, f.taxOffice, amount, taxTitle(f.c.NIP, pm, "CIT-8"))
				f.outgoing[g.monthIndex(t)]++
			}
		})
		vatDay := polish.BusinessDayOnOrBefore(monthDay(m, 22+g.intn(4)))
		g.on(g.elixirOut(vatDay), func(t time.Time) {
			due := round(f.salesVAT[pmi]-f.purchaseVAT[pmi], 100)
			if due <= 0 {
				return
			}
			title := taxTitle(f.c.NIP, pm, "VAT-7")
			fromVAT := min(due, f.vat.balance)
			if fromVAT > 0 {
				g.pay(t, KindTax, f.vat, f.taxOffice, fromVAT, title)
			}
			if rest, ok := f.main.upTo(due-fromVAT, 0, 1); ok {
				g.pay(t, KindTax, f.main, f.taxOffice, rest, title)
			}
			f.outgoing[g.monthIndex(t)]++
		})
	}
}

// planFees plans the bank's monthly fees on a firm's account: a fixed fee
// and, on the main account, a fee per outgoing transfer of the month before.
func (g *gen) planFees(f *firm, a *account, fixed, perTransfer money.Amount) {
	for _, m := range g.months() {
		pm := m.AddDate(0, -1, 0)
		pmi := g.monthIndex(pm)
		if pmi < 0 {
			continue
		}
		g.on(at(m, 6, 15, 0), func(t time.Time) {
			bank := g.clearingOf(a.currency).party()
			if a.can(fixed) {
				g.pay(t, KindFee, a, bank, fixed, fmt.Sprintf("Opłata za prowadzenie rachunku %s za %s", a.name, period(pm)))
			}
			if n := f.outgoing[pmi]; perTransfer > 0 && n > 0 && a.can(perTransfer*money.Amount(n)) {
				g.pay(t, KindFee, a, bank, perTransfer*money.Amount(n), fmt.Sprintf("Prowizja za przelewy zewnętrzne (%d szt.) za %s", n, period(pm)))
			}
		})
	}
}

// planFuel plans fuel card payments of a firm's vans and cars.
func (g *gen) planFuel(f *firm, trials, permille int) {
	weights := make([]int, len(fuelMerchants))
	for i, m := range fuelMerchants {
		weights[i] = m.weight
	}
	for _, d := range g.days[1:] {
		if !d.business {
			continue
		}
		for range g.binomial(trials, permille) {
			m := fuelMerchants[g.weighted(weights)]
			name, city := g.slip(m, [3]int{}, "")
			g.onCard(f.main, g.within(d.date, 6, 20), g.within(d.date.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: stableAccount(m.sort, m.title)}, g.skewed(m.lo, m.hi), cardTitle(name, city))
		}
	}
}

// planMonthly plans a fixed monthly payment of a firm to a partner outside
// the bank, by split payment when split is true.
func (g *gen) planMonthly(f *firm, to org, day int, gross money.Amount, split bool, every int) {
	for i, m := range g.months() {
		if i%every != 0 {
			continue
		}
		g.on(g.elixirOut(monthDay(m, day)), func(t time.Time) {
			text := fmt.Sprintf("%s %s", to.what, period(m))
			if split {
				g.splitOut(t, f, to, gross, text)
			} else {
				g.invoiceOut(t, f, to, gross, text)
			}
		})
	}
}

// planRoza plans Kwiaciarnia Róża: card sales settled daily by the card
// acquirer, invoices of hotels and agencies paid by split payment, flowers
// from wholesalers, rent, utilities, a van, four employees, and the dues.
func (g *gen) planRoza() {
	f := g.roza
	acquirer := ledger.Party{Name: "Polskie ePłatności S.A.", Account: stableAccount("1140200", "Polskie ePłatności")}
	tid := fmt.Sprintf("%08d", 410000+g.intn(9999))
	var unsettled money.Amount
	var from time.Time
	for _, d := range g.days[1:] {
		if d.business && unsettled > 0 {
			gross := unsettled
			title := fmt.Sprintf("Rozliczenie transakcji kartowych z dnia %s TID %s", ledger.DateOf(from), tid)
			if !from.Equal(d.date.AddDate(0, 0, -1)) {
				title = fmt.Sprintf("Rozliczenie transakcji kartowych %s - %s TID %s", ledger.DateOf(from), ledger.DateOf(d.date.AddDate(0, 0, -1)), tid)
			}
			g.on(g.elixirIn(d.date), func(t time.Time) {
				net, vat := vatOf(gross, 800)
				g.receive(t, KindElixir, f.main, acquirer, gross-percent(gross, 110), title)
				g.sale(f, t, net, vat)
			})
			unsettled = 0
		}
		if unsettled == 0 {
			from = d.date
		}
		unsettled += g.floristDay(d.date)
	}
	weights := weightsOf(f.clients)
	sweights := weightsOf(f.suppliers)
	for _, d := range g.days[1:] {
		if !d.business {
			continue
		}
		if g.chance(320) {
			c := f.clients[g.weighted(weights)]
			gross := g.skewed(c.lo, c.hi)
			g.on(g.elixirIn(d.date), func(t time.Time) { g.splitIn(t, f, c, gross, c.what) })
		}
		for range g.binomial(2, 280) {
			s := f.suppliers[g.weighted(sweights)]
			g.planSupplier(f, d.date, s, g.skewed(s.lo, s.hi), 450)
		}
		if d.date.Weekday() == time.Monday || g.chance(80) {
			m := fuelMerchants[0]
			name, city := g.slip(m, [3]int{4312, 4312, 1187}, "WARSZAWA")
			g.onCard(f.main, g.within(d.date, 7, 19), g.within(d.date.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: stableAccount(m.sort, m.title)}, g.between(zl(150), zl(420)), cardTitle(name, city))
		}
		if g.chance(90) {
			amount := g.skewed(zl(80), zl(1200))
			name := "MAKRO CASH AND CARRY 12"
			g.onCard(f.main, g.within(d.date, 6, 10), g.within(d.date.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: stableAccount("1050000", "MAKRO")}, amount, cardTitle(name, "WARSZAWA"))
		}
	}
	landlord := org{partner: partner{name: "Zarząd Nieruchomości Mokotów Sp. z o.o.", what: "Najem lokalu Puławska 12"}, nip: nip("521287654"), account: g.extNRB("1240103")}
	g.planMonthly(f, landlord, 5, 738000, true, 1)
	power := org{partner: partner{name: "PGE Obrót S.A.", what: "Energia elektryczna - lokal"}, nip: nip("815159312"), account: g.extNRB("1020102")}
	internet := org{partner: partner{name: "Orange Polska S.A.", what: "Orange Biznes - internet i telefon"}, nip: nip("526025099"), account: g.extNRB("1050000")}
	g.planMonthly(f, power, 18, g.between(zl(520), zl(980)), false, 1)
	g.planMonthly(f, internet, 12, 24599, false, 1)
	f.standing = internet
	g.planPayroll(f, func(m time.Time) time.Time { return polish.BusinessDayOnOrBefore(monthDay(m, 10)) },
		func(m time.Time) time.Time { return m.AddDate(0, -1, 0) })
	g.planDues(f, 250)
	g.planFees(f, f.main, 3900, 90)
}

// floristDay is a day's card sales of the flower shop: more on Saturdays,
// little on Sundays, a lot on Valentine's Day, Women's Day, Mother's Day and
// before All Saints' Day.
func (g *gen) floristDay(d time.Time) money.Amount {
	amount := g.between(zl(600), zl(3600))
	switch d.Weekday() {
	case time.Saturday:
		amount = g.between(zl(900), zl(5200))
	case time.Sunday:
		amount = g.between(zl(200), zl(1400))
	}
	switch _, m, day := d.Date(); {
	case m == time.February && day == 14, m == time.March && day == 8, m == time.May && day == 26:
		amount *= 4
	case m == time.October && day >= 30, m == time.November && day == 1, m == time.December && day == 24:
		amount = amount * 5 / 2
	}
	return amount
}

// planBudowa plans Budowa Polska: clients paying large invoices by split
// payment, many suppliers and subcontractors, fuel cards, rent, leasing and
// insurance, a payroll account for 41 people, dues, flowers from Kwiaciarnia
// Róża, and a EUR account for partners abroad.
func (g *gen) planBudowa() {
	f := g.budowa
	cweights, sweights := weightsOf(f.clients), weightsOf(f.suppliers)
	for _, d := range g.days[1:] {
		if !d.business {
			continue
		}
		for range g.binomial(6, 400) {
			c := f.clients[g.weighted(cweights)]
			gross := round(g.skewed(c.lo, c.hi), 1)
			g.on(g.elixirIn(d.date), func(t time.Time) { g.splitIn(t, f, c, gross, c.what) })
		}
		for range g.binomial(22, 550) {
			s := f.suppliers[g.weighted(sweights)]
			g.planSupplier(f, d.date, s, g.skewed(s.lo, s.hi), 400)
		}
	}
	g.planFuel(f, 10, 500)
	g.planExpenses(f)
	office := org{partner: partner{name: "Prime Office Park Sp. z o.o.", what: "Najem biura Domaniewska 50"}, nip: nip("521356789"), account: g.extNRB("1240103")}
	leasing := org{partner: partner{name: "PKO Leasing S.A.", what: "Rata leasingowa umowa 2023/L/04512"}, nip: nip("951198765"), account: g.extNRB("1020102")}
	insurer := org{partner: partner{name: "TUiR Warta S.A.", what: "Składka OC/CAR polisa 908-22-431-0077", vat: -1}, nip: nip("521012345"), account: g.extNRB("1160220")}
	g.planMonthly(f, office, 4, 10455000, true, 1)
	g.planMonthly(f, leasing, 20, 4871240, false, 1)
	f.standing = leasing
	g.planMonthly(f, insurer, 8, 3987500, false, 3)
	g.planPayroll(f, func(m time.Time) time.Time { return polish.BusinessDayOnOrBefore(monthDay(m, 31)) },
		func(m time.Time) time.Time { return m })
	g.planDues(f, 150)
	g.planFees(f, f.main, 25000, 50)
	g.planFees(f, f.payroll, 5000, 0)
	g.planFees(f, f.eu, 1000, 0)
	for _, m := range g.months() {
		// Flowers for the office from Kwiaciarnia Róża, paid by split payment.
		gross := g.between(zl(1200), zl(3500))
		g.on(g.within(polish.BusinessDayOnOrAfter(monthDay(m, 12)), 9, 15), func(t time.Time) {
			g.splitBetween(t, f, g.roza, gross, 800, "Kwiaty do biura i na uroczystości")
		})
		// Partners abroad, in EUR.
		for range 1 + g.intn(3) {
			c := f.euClients[g.weighted(weightsOf(f.euClients))]
			amount := round(g.skewed(c.lo, c.hi), 1)
			d := polish.BusinessDayOnOrAfter(monthDay(m, 1+g.intn(28)))
			g.on(g.within(d, 9, 17), func(t time.Time) {
				g.receive(t, KindSEPA, f.eu, c.party(), amount, fmt.Sprintf("%s, INV EU/%d/%s", c.what, 1+g.intn(400), period(t)))
			})
		}
		for range 5 + g.intn(5) {
			s := f.euSuppliers[g.weighted(weightsOf(f.euSuppliers))]
			amount := round(g.skewed(s.lo, s.hi), 1)
			d := polish.BusinessDayOnOrAfter(monthDay(m, 1+g.intn(28)))
			g.on(g.within(d, 9, 16), func(t time.Time) {
				if f.eu.can(amount) {
					g.pay(t, KindSEPA, f.eu, s.party(), amount, fmt.Sprintf("Invoice RE-%d-%04d %s", t.Year(), 1+g.intn(9999), s.what))
				}
			})
		}
	}
}

// buildingStores are where Budowa Polska's site managers buy small things
// by card.
var buildingStores = []merchant{
	{title: "CASTORAMA", store: true, lo: 4000, hi: 250000, weight: 3, sort: "2490000"},
	{title: "LEROY MERLIN", store: true, lo: 4000, hi: 220000, weight: 3, sort: "1050000"},
	{title: "PSB MRÓWKA", store: true, lo: 2500, hi: 120000, weight: 2, sort: "1020102"},
	{title: "BIURO PLUS", store: true, lo: 3000, hi: 60000, weight: 1, sort: "1140200"},
	{title: "MAKRO CASH AND CARRY", store: true, lo: 5000, hi: 90000, weight: 1, sort: "1050000"},
}

// planExpenses plans Budowa Polska's small spending: card purchases on
// building sites and refunds of employees' business trips.
func (g *gen) planExpenses(f *firm) {
	weights := make([]int, len(buildingStores))
	for i, m := range buildingStores {
		weights[i] = m.weight
	}
	sites := []string{"Warszawa", "Kraków", "Wrocław", "Rzeszów", "Frankfurt nad Menem", "Ostrawa", "Łódź"}
	for _, d := range g.days[1:] {
		if !d.business {
			continue
		}
		for range g.binomial(4, 400) {
			m := buildingStores[g.weighted(weights)]
			name, _ := g.slip(m, [3]int{}, "")
			city := pick(g, cities[:8])
			g.onCard(f.main, g.within(d.date, 7, 18), g.within(d.date.AddDate(0, 0, 1), 3, 6),
				ledger.Party{Name: name, Account: stableAccount(m.sort, m.title)}, g.skewed(m.lo, m.hi), cardTitle(name, city))
		}
		for range g.binomial(4, 300) {
			e := f.employees[1+g.intn(len(f.employees)-1)]
			amount := g.skewed(zl(60), zl(1400))
			title := fmt.Sprintf("Zwrot kosztów delegacji %s - %s", ledger.DateOf(d.date.AddDate(0, 0, -3-g.intn(20))), pick(g, sites))
			g.on(g.elixirOut(d.date), func(t time.Time) {
				if f.main.can(amount) {
					g.pay(t, KindElixir, f.main, e.party, amount, title)
					f.outgoing[g.monthIndex(t)]++
				}
			})
		}
	}
}
