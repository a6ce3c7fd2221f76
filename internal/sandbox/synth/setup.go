package synth

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// person is a retail customer and the habits that shape their history.
type person struct {
	c                      *customer
	personal, savings, eur *account
	employer               ledger.Party // an employer at another bank; zero when paid by one of our firms
	salary                 money.Amount // monthly net pay from that employer, at the start
	payDay                 int          // the day of the month pay arrives; 0: the last business day
	bonusMonth             time.Month   // a month with an extra ("trzynastka"), or 0
	bills                  []bill
	housing                []regular
	cardsPerWeek           int
	subs                   []subscription
	saving                 money.Amount // moved to savings after pay day
	accountFee             money.Amount // monthly, 0 for none
	taxRefund, taxPayment  bool         // PIT-37: a refund in spring, or a payment in April
	favouriteStores        [3]int
	atmNRB                 string
}

// bill is a biller and this customer's account number and client number with it.
type bill struct {
	biller
	party ledger.Party
	ref   string
}

// regular is a fixed monthly transfer to someone outside the bank.
type regular struct {
	party  ledger.Party
	amount money.Amount
	day    int
	title  string // fmt pattern with the period "MM/YYYY"
}

// org is a business partner outside the bank, with its numbers drawn.
type org struct {
	partner
	nip     string
	account string // NRB, or IBAN for a foreign partner
}

func (o org) party() ledger.Party { return ledger.Party{Name: o.name, Account: o.account} }

// rate is the partner's VAT rate in basis points.
func (o org) rate() int64 {
	switch {
	case o.vat == 0:
		return 2300
	case o.vat < 0: // exempt
		return 0
	}
	return o.vat
}

// employee is someone a firm pays every month.
type employee struct {
	name    string
	account *account     // a customer of ours, or nil
	party   ledger.Party // at another bank
	pay     money.Amount // monthly net at the start
}

// firm is a company or corporate customer, its partners and its books.
type firm struct {
	c                      *customer
	main, vat, payroll, eu *account
	taxOffice              ledger.Party // with the firm's tax micro-account
	zus                    ledger.Party // with the firm's ZUS contribution account
	employees              []employee
	clients, suppliers     []org
	euClients, euSuppliers []org
	standing               org // a partner paid a fixed amount every month, also by a future-dated order
	// Per month of the history (see gen.monthIndex): VAT and net amounts of
	// sales and purchases, net pay, outgoing transfers, invoices issued.
	salesVAT, salesNet, purchaseVAT, netPay []money.Amount
	outgoing, invoices                      []int
}

func (f *firm) nextInvoice(g *gen, t time.Time) string {
	mi := g.monthIndex(t)
	f.invoices[mi]++
	y, m, _ := t.In(polish.Warsaw).Date()
	return fmt.Sprintf("FV %d/%02d/%d", f.invoices[mi], int(m), y)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic("synth: " + err.Error())
	}
	return v
}

// sortCode completes the first seven digits of a sort code with its check digit.
func sortCode(first7 string) string { return must(polish.SortCodeWithCheckDigit(first7)) }

// digits returns n random decimal digits.
func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.intn(10))
	}
	return string(b)
}

// extNRB returns a random account number at the bank whose sort code starts
// with first7 (a random other bank when empty).
func (g *gen) extNRB(first7 string) string {
	if first7 == "" {
		first7 = pick(g, otherBanks)
	}
	return must(polish.MakeNRB(sortCode(first7), g.digits(16)))
}

// foreignIBAN returns a random IBAN of a bank in country.
func (g *gen) foreignIBAN(country string) string {
	var bban string
	switch country {
	case "DE":
		bban = pick(g, []string{"10070000", "50010517", "37040044", "70020270"}) + g.digits(10)
	case "AT":
		bban = pick(g, []string{"12000", "20111", "32000"}) + g.digits(11)
	case "CZ":
		bban = pick(g, []string{"0800", "0100", "2700"}) + g.digits(16)
	case "NL":
		bban = pick(g, []string{"INGB", "ABNA", "RABO"}) + g.digits(10)
	case "LU":
		bban = pick(g, []string{"001", "002", "014"}) + g.digits(13)
	case "IE":
		bban = pick(g, []string{"AIBK9311", "BOFI9000"}) + g.digits(2) + g.digits(8)
	case "ES":
		bban = pick(g, []string{"2100", "0049", "0182"}) + g.digits(16)
	case "IT":
		bban = string(byte('A'+g.intn(26))) + pick(g, []string{"03069", "02008"}) + g.digits(5) + g.digits(12)
	case "PL":
		return "PL" + g.extNRB("")
	default:
		panic("synth: no IBAN format for " + country)
	}
	return country + ibanCheck(bban, country) + bban
}

// ibanCheck computes the ISO 7064 MOD 97-10 check digits of an IBAN.
func ibanCheck(bban, country string) string {
	r := 0
	for _, c := range bban + country + "00" {
		if c >= 'A' && c <= 'Z' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%02d", 98-r)
}

// accountOf returns an account number for a partner: an NRB at its bank, or
// a foreign IBAN.
func (g *gen) accountOf(sort string) string {
	if len(sort) == 2 {
		return g.foreignIBAN(sort)
	}
	return g.extNRB(sort)
}

// nip completes a NIP from its first nine digits, changing the ninth until a
// check digit exists.
func nip(first9 string) string {
	for i := 0; i < 10; i++ {
		if n, ok := polish.MakeNIP(first9[:8] + string(byte('0'+(int(first9[8]-'0')+i)%10))); ok {
			return n
		}
	}
	panic("synth: no NIP starts with " + first9[:8])
}

func (g *gen) orgs(ps []partner) []org {
	out := make([]org, len(ps))
	for i, p := range ps {
		out[i] = org{partner: p, account: g.accountOf(p.sort)}
		if p.nip9 != "" {
			out[i].nip = nip(p.nip9)
		}
	}
	return out
}

// randomName returns a Polish first name and surname.
func (g *gen) randomName() string {
	s := pick(g, surnames)
	if g.chance(500) {
		return pick(g, womenFirst) + " " + s[1]
	}
	return pick(g, menFirst) + " " + s[0]
}

// addCustomer adds a customer; born, serial and female make the PESEL.
func (g *gen) addCustomer(num int, seg ledger.Segment, name, login string, born string, serial int, female bool, phone, nip, regon, city, address string) *customer {
	birth := must(time.Parse(time.DateOnly, born))
	c := &customer{num: num, city: city, Customer: ledger.Customer{
		ID: g.newID(g.start), Segment: seg, Name: name, Login: login,
		PESEL: must(polish.MakePESEL(birth, serial, female)), NIP: nip, REGON: regon,
		Phone: phone, Address: address, CreatedAt: g.start.UTC(),
	}}
	g.customers = append(g.customers, c)
	return c
}

// addAccount opens an account with our sort code; owner is nil for the
// bank's own.
func (g *gen) addAccount(owner *customer, number, currency, typ, name string) *account {
	a := &account{
		idx: len(g.accounts), id: g.newID(g.start), nrb: must(polish.OwnNRB(number)),
		currency: currency, typ: typ, name: name, owner: owner,
	}
	la := ledger.Account{
		ID: a.id, NRB: a.nrb, Currency: currency, Type: typ, Name: name,
		OpenedOn: ledger.DateOf(g.start), CreatedAt: g.start.UTC(),
	}
	if owner == nil {
		la.AllowNegative = true
	} else {
		la.CustomerID = owner.ID
		owner.accounts = append(owner.accounts, a)
	}
	g.accounts = append(g.accounts, a)
	g.ds.Accounts = append(g.ds.Accounts, la)
	return a
}

// own opens a customer's n-th account.
func (g *gen) own(c *customer, n int, currency, typ, name string) *account {
	return g.addAccount(c, fmt.Sprintf("1000%04d%08d", c.num, n), currency, typ, name)
}

// setup creates the cast: the bank's clearing accounts, the customers and
// their accounts, and everyone outside the bank they deal with.
func (g *gen) setup() {
	g.clearing[0] = g.addAccount(nil, "9000000000000985", "PLN", ledger.TypeClearing, "Rozrachunki międzybankowe PLN (Elixir)")
	g.clearing[1] = g.addAccount(nil, "9000000000000978", "EUR", ledger.TypeClearing, "Rozrachunki międzybankowe EUR (SEPA)")

	g.jan = g.addCustomer(1, ledger.Retail, "Jan Kowalski", "jan.kowalski", "1985-03-14", 412, false,
		"+48601234567", "", "", "WARSZAWA", "ul. Grójecka 128 m. 14, 02-383 Warszawa")
	g.anna = g.addCustomer(2, ledger.Retail, "Anna Nowak", "anna.nowak", "1990-07-22", 87, true,
		"+48602345678", "", "", "WARSZAWA", "ul. Racławicka 99 m. 7, 02-634 Warszawa")
	g.piotr = g.addCustomer(3, ledger.Retail, "Piotr Wiśniewski", "piotr.wisniewski", "1978-11-05", 233, false,
		"+48603456789", "", "", "WARSZAWA", "ul. Puławska 145 m. 31, 02-715 Warszawa")
	g.kasia = g.addCustomer(4, ledger.Retail, "Katarzyna Wójcik", "katarzyna.wojcik", "1995-01-30", 561, true,
		"+48604567890", "", "", "KRAKÓW", "ul. Długa 42 m. 3, 31-146 Kraków")
	rozaC := g.addCustomer(5, ledger.Company, "Kwiaciarnia Róża Sp. z o.o.", "kwiaciarnia.roza", "1982-04-18", 145, true,
		"+48605678901", nip("521301234"), polish.MakeREGON9("14632187"), "WARSZAWA", "ul. Puławska 12, 02-512 Warszawa")
	budowaC := g.addCustomer(6, ledger.Corporate, "Budowa Polska S.A.", "budowa.polska", "1970-09-09", 318, false,
		"+48606789012", nip("526025999"), polish.MakeREGON9("01234567"), "WARSZAWA", "ul. Domaniewska 50, 02-672 Warszawa")

	jan := &person{c: g.jan,
		personal: g.own(g.jan, 1, "PLN", ledger.TypePersonal, "eKonto osobiste"),
		savings:  g.own(g.jan, 2, "PLN", ledger.TypeSavings, "Konto oszczędnościowe"),
		eur:      g.own(g.jan, 3, "EUR", ledger.TypePersonal, "Konto walutowe EUR"),
	}
	anna := &person{c: g.anna,
		personal: g.own(g.anna, 1, "PLN", ledger.TypePersonal, "eKonto osobiste"),
		savings:  g.own(g.anna, 2, "PLN", ledger.TypeSavings, "Konto oszczędnościowe"),
	}
	piotr := &person{c: g.piotr, personal: g.own(g.piotr, 1, "PLN", ledger.TypePersonal, "Konto osobiste")}
	kasia := &person{c: g.kasia, personal: g.own(g.kasia, 1, "PLN", ledger.TypePersonal, "eKonto osobiste")}

	roza := &firm{c: rozaC,
		main: g.own(rozaC, 1, "PLN", ledger.TypeBusiness, "Rachunek firmowy"),
		vat:  g.own(rozaC, 2, "PLN", ledger.TypeVAT, "Rachunek VAT"),
	}
	roza.payroll = roza.main
	budowa := &firm{c: budowaC,
		main:    g.own(budowaC, 1, "PLN", ledger.TypeCorporate, "Rachunek bieżący"),
		payroll: g.own(budowaC, 2, "PLN", ledger.TypeCorporate, "Rachunek płacowy"),
		eu:      g.own(budowaC, 3, "EUR", ledger.TypeCorporate, "Rachunek walutowy EUR"),
		vat:     g.own(budowaC, 4, "PLN", ledger.TypeVAT, "Rachunek VAT"),
	}
	g.roza, g.budowa = roza, budowa
	g.firms = []*firm{roza, budowa}
	g.retail = []*person{jan, anna, piotr, kasia}

	// Retail habits.
	jan.cardsPerWeek, jan.saving = 9, zl(1000) // paid by Budowa Polska on the last business day
	jan.bills = g.bills(jan, pge, gas, orng, play, mpwik, smo)
	jan.housing = []regular{{ledger.Party{Name: "PKO Bank Polski S.A.", Account: g.extNRB("1020102")}, 314275, 5,
		"Rata kredytu hipotecznego nr 2019/HIP/004217 za %s"}}
	jan.subs = []subscription{subscriptions[0], subscriptions[1]}
	jan.taxRefund = true

	anna.employer = ledger.Party{Name: "Mazowieckie Centrum Medyczne Sp. z o.o.", Account: g.extNRB("1240103")}
	anna.salary, anna.payDay, anna.cardsPerWeek, anna.saving = 722000, 28, 10, zl(800)
	anna.bills = g.bills(anna, pge, orng, play, smm)
	anna.subs = []subscription{subscriptions[0], subscriptions[4]}
	anna.taxRefund = true

	piotr.cardsPerWeek = 8
	piotr.bills = g.bills(piotr, pge, gas, upc, mpwik)
	piotr.housing = []regular{{ledger.Party{Name: "Marek Zając", Account: g.extNRB("1050000")}, zl(2400), 9,
		"Czynsz najmu mieszkania ul. Puławska 145/31 za %s"}}
	piotr.subs = []subscription{subscriptions[2]}
	piotr.accountFee = 990

	kasia.employer = ledger.Party{Name: "Miejskie Centrum Obsługi Oświaty w Krakowie", Account: g.extNRB("1020102")}
	kasia.salary, kasia.payDay, kasia.bonusMonth, kasia.cardsPerWeek = 612000, 1, time.March, 9
	kasia.bills = g.bills(kasia, tau, orng, play, wmk, ksm)
	kasia.subs = []subscription{subscriptions[1], subscriptions[3]}
	kasia.accountFee, kasia.taxPayment = 700, true
	for _, p := range g.retail {
		for i := range p.favouriteStores {
			p.favouriteStores[i] = 1000 + g.intn(9000)
		}
		p.atmNRB = g.extNRB("1140200")
	}

	// Firms' partners and staff.
	roza.clients, roza.suppliers = g.orgs(rozaClients), g.orgs(rozaSuppliers)
	roza.employees = []employee{{name: g.piotr.Name, account: piotr.personal, pay: zl(5800)}}
	for _, pay := range []int64{4300, 4600, 3900} {
		roza.employees = append(roza.employees, g.outsideEmployee(zl(pay)))
	}
	budowa.clients, budowa.suppliers = g.orgs(budowaClients), g.orgs(budowaSuppliers)
	budowa.euClients, budowa.euSuppliers = g.orgs(budowaForeignClients), g.orgs(budowaForeignSuppliers)
	budowa.employees = []employee{{name: g.jan.Name, account: jan.personal, pay: zl(10400)}}
	for i := range 40 {
		pay := g.between(zl(5200), zl(11500))
		if i < 3 {
			pay = g.between(zl(17000), zl(24000)) // the board
		}
		budowa.employees = append(budowa.employees, g.outsideEmployee(round(pay, 100)))
	}
	for _, f := range g.firms {
		n := len(g.months()) + 1
		f.salesVAT, f.salesNet, f.purchaseVAT, f.netPay = make([]money.Amount, n), make([]money.Amount, n), make([]money.Amount, n), make([]money.Amount, n)
		f.outgoing, f.invoices = make([]int, n), make([]int, n)
		f.taxOffice = ledger.Party{Account: must(polish.TaxMicroAccount(polish.TaxIDNIP, f.c.NIP))}
		// The individual contribution account (numer rachunku składkowego)
		// is at ZUS's sort code 60000002 and carries the payer's NIP; the
		// digits before the NIP ("026000") are an assumption to verify
		// against ZUS's published layout.
		f.zus = ledger.Party{Name: "Zakład Ubezpieczeń Społecznych", Account: must(polish.MakeNRB("60000002", "026000"+f.c.NIP))}
	}
	roza.taxOffice.Name = "Urząd Skarbowy Warszawa-Mokotów"
	budowa.taxOffice.Name = "Mazowiecki Urząd Skarbowy w Warszawie"

	g.buildPSUs()
}

// bills gives a person an account number and a client number with each biller.
func (g *gen) bills(p *person, bs ...biller) []bill {
	out := make([]bill, len(bs))
	for i, b := range bs {
		out[i] = bill{biller: b, party: ledger.Party{Name: b.name, Account: g.extNRB(b.sort)}, ref: g.digits(8)}
	}
	return out
}

func (g *gen) outsideEmployee(pay money.Amount) employee {
	name := g.randomName()
	return employee{name: name, party: ledger.Party{Name: name, Account: g.extNRB("")}, pay: pay}
}

// buildPSUs writes the customers and their accounts as the sandbox
// documents them.
func (g *gen) buildPSUs() {
	for _, c := range g.customers {
		g.ds.Customers = append(g.ds.Customers, c.Customer)
		p := PSU{
			Login: c.Login, Password: Password, PESEL: c.PESEL, Phone: c.Phone, Segment: string(c.Segment),
			Name: c.Name, NIP: c.NIP, REGON: c.REGON,
		}
		for _, a := range c.accounts {
			p.Accounts = append(p.Accounts, PSUAccount{Number: a.nrb, Currency: a.currency, Type: a.typ, Name: a.name, ID: a.id})
		}
		g.ds.PSUs = append(g.ds.PSUs, p)
	}
}

// stableAccount is the account number of a merchant: an NRB at the bank
// whose sort code starts with sort (7 digits), or an IBAN in the country sort
// (2 letters), drawn from a hash of key so that a merchant keeps its number
// whatever the seed.
func stableAccount(sort, key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	r := rand.New(rand.NewPCG(h.Sum64(), 1))
	return (&gen{rng: r}).accountOf(sort)
}

// period is "MM/YYYY" of the month of t.
func period(t time.Time) string {
	y, m, _ := t.In(polish.Warsaw).Date()
	return fmt.Sprintf("%02d/%d", int(m), y)
}
