package synth_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sandbox/synth"
)

// now is a Monday morning in Warsaw.
var now = time.Date(2026, 11, 23, 10, 17, 0, 0, polish.Warsaw)

// generated caches datasets: generating one takes a fraction of a second,
// and most tests read the same one.
var generated = map[string]*synth.Dataset{}

func dataset(t testing.TB, seed int64, at time.Time) *synth.Dataset {
	t.Helper()
	key := fmt.Sprint(seed, "@", at.Format(time.RFC3339Nano))
	if ds, ok := generated[key]; ok {
		return ds
	}
	ds := synth.Generate(seed, at)
	generated[key] = ds
	return ds
}

// moments are the instants the structural tests generate for: an ordinary
// Monday, Christmas night, the night the clocks go forward, and New Year's
// Eve after the last Elixir session.
var moments = []time.Time{
	now,
	time.Date(2025, 12, 25, 3, 0, 0, 0, polish.Warsaw),
	time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC),
	time.Date(2027, 12, 31, 23, 59, 59, 0, polish.Warsaw),
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := synth.Generate(42, now), synth.Generate(42, now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two datasets of the same seed and instant differ")
	}
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("two datasets of the same seed and instant serialise differently")
	}
	c := synth.Generate(43, now)
	if reflect.DeepEqual(a.History, c.History) {
		t.Fatal("seeds 42 and 43 give the same history")
	}
	if a.History[0].ID == c.History[0].ID {
		t.Error("seeds 42 and 43 give the same identifiers")
	}
	// The cast does not depend on the seed: it is documented.
	if !reflect.DeepEqual(psuNumbers(a), psuNumbers(c)) {
		t.Error("the customers' logins and account numbers depend on the seed")
	}
}

func psuNumbers(ds *synth.Dataset) []string {
	var out []string
	for _, p := range ds.PSUs {
		out = append(out, p.Login, p.PESEL, p.NIP, p.REGON, p.Phone)
		for _, a := range p.Accounts {
			out = append(out, a.Number)
		}
	}
	return out
}

func TestGenerateCounts(t *testing.T) {
	for _, at := range moments {
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			ds := dataset(t, 1, at)
			segments := map[ledger.Segment]int{}
			for _, c := range ds.Customers {
				segments[c.Segment]++
			}
			if len(ds.Customers) < 6 || segments[ledger.Retail] == 0 || segments[ledger.Company] == 0 || segments[ledger.Corporate] == 0 {
				t.Errorf("customers by segment: %v", segments)
			}
			customerAccounts, eur, clearing := 0, 0, 0
			for _, a := range ds.Accounts {
				switch {
				case a.CustomerID == "":
					clearing++
					if a.Type != ledger.TypeClearing || !a.AllowNegative {
						t.Errorf("bank account %s: type %s, allow negative %v", a.NRB, a.Type, a.AllowNegative)
					}
				default:
					customerAccounts++
					if a.Currency == "EUR" {
						eur++
					}
				}
			}
			if customerAccounts < 10 || eur == 0 || clearing != 2 {
				t.Errorf("%d customer accounts, %d in EUR, %d clearing accounts", customerAccounts, eur, clearing)
			}
			items := customerItems(ds)
			if items < 20_000 || items > 60_000 {
				t.Errorf("%d items on customer accounts, want 20,000-60,000", items)
			}
			first, last := ds.History[0].BookedAt, ds.History[len(ds.History)-1].BookedAt
			if span := last.Sub(first); span < 720*24*time.Hour {
				t.Errorf("history spans %v, from %v to %v", span, first, last)
			}
			if first.Before(at.AddDate(0, 0, -synth.HistoryDays)) || last.After(at) {
				t.Errorf("history from %v to %v, now is %v", first, last, at)
			}
			if len(ds.Holds) < 8 || len(ds.Pending) < 2 || len(ds.Pending) > 4 || len(ds.Scheduled) < 3 || len(ds.Scheduled) > 6 {
				t.Errorf("%d holds, %d pending, %d scheduled", len(ds.Holds), len(ds.Pending), len(ds.Scheduled))
			}
			t.Logf("%d customers, %d customer accounts, %d transfers, %d items on customer accounts, %d holds, %d pending, %d scheduled",
				len(ds.Customers), customerAccounts, len(ds.History), items, len(ds.Holds), len(ds.Pending), len(ds.Scheduled))
		})
	}
}

// customerItems counts the booked items on customer accounts: one per
// customer side of each transfer.
func customerItems(ds *synth.Dataset) int {
	own := ownership(ds)
	n := 0
	for _, h := range ds.History {
		if own[h.DebitAccountID] != "" {
			n++
		}
		if own[h.CreditAccountID] != "" {
			n++
		}
	}
	return n
}

// ownership maps account ids to their owner's id ("" for the bank's own).
func ownership(ds *synth.Dataset) map[string]string {
	m := map[string]string{}
	for _, a := range ds.Accounts {
		m[a.ID] = a.CustomerID
	}
	return m
}

func TestEveryKindOccurs(t *testing.T) {
	ds := dataset(t, 1, now)
	seen := map[string]int{}
	for _, h := range ds.History {
		seen[h.Kind]++
	}
	for _, k := range synth.Kinds {
		if seen[k] == 0 {
			t.Errorf("no %s transfer in the history", k)
		}
	}
	for k := range seen {
		if !slices.Contains(synth.Kinds, k) {
			t.Errorf("kind %q is not among synth.Kinds", k)
		}
	}
	t.Logf("by kind: %v", seen)
}

var (
	uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	phone  = regexp.MustCompile(`^\+486[0-9]{8}$`)
	// splitTitle is the split payment title of §3.4 of the domain notes.
	splitTitle = regexp.MustCompile(`^/VAT/([0-9]{1,10},[0-9]{2})/IDC/([0-9A-Z]{1,14})/INV/([^/].{0,34}?)/TXT/(.{0,33})$`)
	taxTitle   = regexp.MustCompile(`^/TI/([NP])([0-9]+)/OKR/([0-9]{2}(R|M[0-9]{2}))/SFP/([A-Z0-9-]{1,7})/$`)
)

func TestIdentityNumbers(t *testing.T) {
	ds := dataset(t, 1, now)
	if len(ds.PSUs) != len(ds.Customers) {
		t.Fatalf("%d PSUs, %d customers", len(ds.PSUs), len(ds.Customers))
	}
	logins := map[string]bool{}
	for i, p := range ds.PSUs {
		c := ds.Customers[i]
		if p.Login != c.Login || p.Name != c.Name || p.PESEL != c.PESEL || p.Segment != string(c.Segment) {
			t.Errorf("PSU %s does not match customer %s", p.Login, c.Login)
		}
		if logins[p.Login] || !regexp.MustCompile(`^[a-z]+\.[a-z]+$`).MatchString(p.Login) {
			t.Errorf("login %q is repeated or not like jan.kowalski", p.Login)
		}
		logins[p.Login] = true
		if p.Password != synth.Password || c.PasswordHash != "" {
			t.Errorf("%s: password %q, hash %q", p.Login, p.Password, c.PasswordHash)
		}
		if _, _, err := polish.ValidatePESEL(p.PESEL); err != nil {
			t.Errorf("%s: %v", p.Login, err)
		}
		if !phone.MatchString(p.Phone) {
			t.Errorf("%s: phone %q is not +48 6xx xxx xxx", p.Login, p.Phone)
		}
		if c.Segment == ledger.Retail {
			if p.NIP != "" || p.REGON != "" {
				t.Errorf("%s: a person with NIP %q and REGON %q", p.Login, p.NIP, p.REGON)
			}
		} else {
			if err := polish.ValidateNIP(p.NIP); err != nil {
				t.Errorf("%s: %v", p.Login, err)
			}
			if err := polish.ValidateREGON(p.REGON); err != nil {
				t.Errorf("%s: %v", p.Login, err)
			}
		}
		for _, a := range p.Accounts {
			if err := polish.ValidateNRB(a.Number); err != nil {
				t.Errorf("%s: %v", p.Login, err)
			}
		}
	}
	var types []string
	for _, a := range ds.Accounts {
		if err := polish.ValidateNRB(a.NRB); err != nil {
			t.Error(err)
		}
		if a.NRB[2:10] != polish.OwnSortCode {
			t.Errorf("account %s is not under our sort code %s", a.NRB, polish.OwnSortCode)
		}
		types = append(types, a.Type)
	}
	for _, want := range []string{ledger.TypePersonal, ledger.TypeSavings, ledger.TypeBusiness, ledger.TypeVAT, ledger.TypeCorporate} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s account", want)
		}
	}
	b, err := json.Marshal(ds.PSUs)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"login":`, `"password":`, `"pesel":`, `"phone":`, `"segment":`, `"name":`, `"accounts":`, `"number":`, `"currency":`, `"type":`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("psus.json has no %s field", field)
		}
	}
}

// TestTransfers checks every history item: order, identifiers, parties and
// their account numbers, titles, and the structured titles of tax, ZUS and
// split payments.
func TestTransfers(t *testing.T) {
	for _, at := range moments {
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			checkTransfers(t, dataset(t, 1, at))
		})
	}
}

func checkTransfers(t *testing.T, ds *synth.Dataset) {
	own := ownership(ds)
	nip := map[string]string{} // account id -> owner's NIP
	for _, c := range ds.Customers {
		for _, a := range ds.Accounts {
			if a.CustomerID == c.ID {
				nip[a.ID] = c.NIP
			}
		}
	}
	ids := map[string]bool{}
	structured := map[string]int{}
	var last time.Time
	errors := 0
	fail := func(format string, args ...any) {
		if errors++; errors <= 20 {
			t.Errorf(format, args...)
		}
	}
	for i, h := range ds.History {
		if h.BookedAt.Before(last) {
			fail("item %d booked at %v, before %v", i, h.BookedAt, last)
		}
		last = h.BookedAt
		checkID(t, fail, ids, h.ID, h.BookedAt)
		if h.Amount <= 0 || h.Title == "" || utf8.RuneCountInString(h.Title) > 140 {
			fail("item %d: amount %s, title %q", i, h.Amount, h.Title)
		}
		if h.TradeDate > ledger.DateOf(h.BookedAt) || h.ExecutionDate == "" {
			fail("item %d: traded %s, executed %s, booked %s", i, h.TradeDate, h.ExecutionDate, h.BookedAt)
		}
		for _, side := range []struct {
			id    string
			party ledger.Party
		}{{h.DebitAccountID, h.Debtor}, {h.CreditAccountID, h.Creditor}} {
			if side.party.Name == "" || side.party.Account == "" {
				fail("item %d (%s %q): party %+v", i, h.Kind, h.Title, side.party)
				continue
			}
			var err error
			if c := side.party.Account[0]; c >= '0' && c <= '9' {
				err = polish.ValidateNRB(side.party.Account)
			} else {
				err = polish.ValidateIBAN(side.party.Account)
			}
			if err != nil {
				fail("item %d (%s %q): %v", i, h.Kind, h.Title, err)
			}
		}
		outside := h.Creditor
		if own[h.DebitAccountID] == "" {
			outside = h.Debtor
		}
		switch h.Kind {
		case synth.KindTax:
			if m := taxTitle.FindStringSubmatch(h.Title); m != nil {
				structured[m[5]]++
				if !polish.IsTaxMicroAccount(outside.Account) {
					fail("item %d: tax %q to %s, not a tax micro-account", i, h.Title, outside.Account)
				}
				if m[1] == "N" {
					if err := polish.ValidateNIP(m[2]); err != nil || m[2] != nip[h.DebitAccountID] {
						fail("item %d: tax title %q: NIP %s of payer %s (%v)", i, h.Title, m[2], nip[h.DebitAccountID], err)
					}
				} else if _, _, err := polish.ValidatePESEL(m[2]); err != nil {
					fail("item %d: tax title %q: %v", i, h.Title, err)
				}
			}
		case synth.KindZUS:
			if !polish.IsZUSAccount(h.Creditor.Account) || !strings.HasPrefix(h.Title, "PRZELEW ZUS; NIP: "+nip[h.DebitAccountID]+";") {
				fail("item %d: ZUS %q to %s", i, h.Title, h.Creditor.Account)
			}
			structured["ZUS"]++
		case synth.KindSplit:
			m := splitTitle.FindStringSubmatch(h.Title)
			if m == nil {
				fail("item %d: split payment title %q", i, h.Title)
				break
			}
			if err := polish.ValidateNIP(m[2]); err != nil {
				fail("item %d: split payment title %q: %v", i, h.Title, err)
			}
			structured["MPP"]++
			vat, err := money.Parse(strings.Replace(m[1], ",", ".", 1))
			if err != nil {
				fail("item %d: split payment title %q: %v", i, h.Title, err)
			}
			// A leg on a VAT account carries at most the VAT.
			for _, id := range []string{h.DebitAccountID, h.CreditAccountID} {
				if accountType(ds, id) == ledger.TypeVAT && h.Amount > vat {
					fail("item %d: %s on a VAT account, title says VAT %s", i, h.Amount, vat)
				}
			}
		}
	}
	// Two firms pay their dues every month; the retail customers pay PIT-37
	// now and then.
	for _, form := range []string{"VAT-7", "CIT-8", "PIT-4R", "ZUS"} {
		if structured[form] < 40 {
			t.Errorf("%d %s payments in two years", structured[form], form)
		}
	}
	if structured["PIT-37"] == 0 || structured["MPP"] < 1000 {
		t.Errorf("structured titles: %v", structured)
	}
}

func checkID(t *testing.T, fail func(string, ...any), seen map[string]bool, id string, at time.Time) {
	t.Helper()
	if !uuidV7.MatchString(id) || seen[id] {
		fail("identifier %q is not a new UUIDv7", id)
		return
	}
	seen[id] = true
	var ms int64
	for _, c := range strings.ReplaceAll(id, "-", "")[:12] {
		ms = ms<<4 | int64(strings.IndexRune("0123456789abcdef", c))
	}
	if ms != at.UnixMilli() {
		fail("identifier %s has time %d, the item %d", id, ms, at.UnixMilli())
	}
}

func accountType(ds *synth.Dataset, id string) string {
	for _, a := range ds.Accounts {
		if a.ID == id {
			return a.Type
		}
	}
	return ""
}

// TestBalances replays the history: no customer account is ever below
// zero, and each ends at the balance the dataset states; holds and pending
// transfers fit in what is available.
func TestBalances(t *testing.T) {
	for _, at := range moments {
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			ds := dataset(t, 1, at)
			own := ownership(ds)
			balance := map[string]money.Amount{}
			items := map[string]int64{}
			for i, h := range ds.History {
				balance[h.DebitAccountID] -= h.Amount
				balance[h.CreditAccountID] += h.Amount
				items[h.DebitAccountID]++
				items[h.CreditAccountID]++
				if own[h.DebitAccountID] != "" && balance[h.DebitAccountID] < 0 {
					t.Fatalf("item %d (%q) overdraws account %s", i, h.Title, h.DebitAccountID)
				}
			}
			held := map[string]money.Amount{}
			for _, h := range ds.Holds {
				held[h.AccountID] += h.Amount
				if h.Amount <= 0 || h.Kind != "card" || h.MerchantName == "" || h.MerchantCity == "" || h.Description == "" ||
					!h.ExpiresAt.After(at) || h.CreatedAt.After(at) || at.Sub(h.CreatedAt) > 48*time.Hour || own[h.AccountID] == "" {
					t.Errorf("hold %+v", h)
				}
			}
			for _, p := range ds.Pending {
				held[p.DebitAccountID] += p.Amount
				if p.Kind != synth.KindElixir || p.ExecutionDate != ledger.DateOf(at) || p.Creditor.Name == "" || polish.ValidateNRB(p.Creditor.Account) != nil {
					t.Errorf("pending %+v", p)
				}
			}
			for _, s := range ds.Scheduled {
				due, err := time.ParseInLocation(time.DateOnly, s.ExecutionDate, polish.Warsaw)
				if err != nil || s.ExecutionDate <= ledger.DateOf(at) || due.After(at.AddDate(0, 0, 61)) || s.Amount <= 0 || s.Title == "" || s.Creditor.Name == "" {
					t.Errorf("scheduled %+v", s)
				}
			}
			var sum = map[string]money.Amount{}
			for _, a := range ds.Accounts {
				sum[a.Currency] += a.Booked
				if a.Booked != balance[a.ID] || a.LastSeq != items[a.ID] || a.Available != a.Booked-held[a.ID] {
					t.Errorf("account %s: states booked %s available %s items %d; the history gives %s, holds %s, %d items",
						a.NRB, a.Booked, a.Available, a.LastSeq, balance[a.ID], held[a.ID], items[a.ID])
				}
				if a.CustomerID != "" && a.Available < 0 {
					t.Errorf("account %s: available %s", a.NRB, a.Available)
				}
			}
			for cur, s := range sum {
				if s != 0 {
					t.Errorf("%s balances sum to %s", cur, s)
				}
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		synth.Generate(1, now)
	}
}
