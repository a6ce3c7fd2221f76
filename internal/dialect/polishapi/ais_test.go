package polishapi

import (
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

var (
	bookedAt = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	self     = ledger.Party{Name: "Anna Kowalska", Account: "76099000190000000000007027"}
	outside  = ledger.Party{Name: "Zakład Energetyczny", Account: "61109010140000071219812874"}
)

func TestDone(t *testing.T) {
	debit := ledger.Posting{ID: "posting-1", TransferID: "transfer-1", Seq: 7, Amount: -123_45, BalanceAfter: -10_00, Currency: "PLN",
		Kind: "elixir", Title: "Rachunek", Counterparty: outside, TradeDate: "2026-11-22", BookingDate: "2026-11-23", BookedAt: bookedAt}
	d := Done(debit, self)
	if d.ItemID != "transfer-1" {
		t.Errorf("itemId %q: want the transfer's id, which the item had while pending", d.ItemID)
	}
	if d.Amount != "123.45" || d.TransactionCategory != Debit || d.PostTransactionBalance != "-10.00" || d.Currency != "PLN" {
		t.Errorf("amount %s %s, balance %s", d.Amount, d.TransactionCategory, d.PostTransactionBalance)
	}
	if d.Sender.AccountNumber != self.Account || d.Recipient.AccountNumber != outside.Account || d.Recipient.NameAddress.Value[0] != outside.Name {
		t.Errorf("sender %+v recipient %+v", d.Sender, d.Recipient)
	}
	if d.Recipient.Bank == nil || d.Recipient.Bank.Code != "10901014" || d.Recipient.Bank.CountryCode != "PL" || d.Recipient.Bank.Name == "" {
		t.Errorf("recipient's bank %+v", d.Recipient.Bank)
	}
	if d.TradeDate != "2026-11-22T00:00:00.000+01:00" || d.BookingDate != "2026-11-23T10:30:00.000+01:00" {
		t.Errorf("dates %s %s: want Polish time with its offset", d.TradeDate, d.BookingDate)
	}
	if d.Description != "Rachunek" || d.TransactionType != "elixir" || d.TransactionStatus.Code != "booked" {
		t.Errorf("description %q type %q status %+v", d.Description, d.TransactionType, d.TransactionStatus)
	}

	credit := debit
	credit.Amount = 5000_00
	c := Done(credit, self)
	if c.Amount != "5000.00" || c.TransactionCategory != Credit || c.Recipient.AccountNumber != self.Account || c.Sender.AccountNumber != outside.Account {
		t.Errorf("credit: %+v", c)
	}
	if c.Initiator != nil {
		t.Errorf("a credit's initiator is not the account holder: %+v", c.Initiator)
	}
}

func TestOutgoing(t *testing.T) {
	tr := ledger.Transfer{ID: "t-1", Kind: "elixir", Debtor: self, Creditor: outside, Amount: 15_00, Currency: "PLN", Title: "Czynsz",
		Status: ledger.StatusScheduled, ExecutionDate: "2026-12-03", TradeDate: "2026-11-23", UpdatedAt: bookedAt}
	if s := Scheduled(tr); s.TradeDate != "2026-12-03T00:00:00.000+01:00" || s.TransactionStatus.Code != "scheduled" || s.Amount != "15.00" {
		t.Errorf("scheduled: %+v", s)
	}
	tr.Status, tr.StatusReason = ledger.StatusRejected, strings.Repeat("x", 200)
	r := Rejected(tr)
	if len(r.RejectionReason) != 140 || r.RejectionDate != "2026-11-23T10:30:00.000+01:00" || r.ItemID != "t-1" || r.TransactionCategory != Debit {
		t.Errorf("rejected: %+v", r)
	}
	if p := Pending(tr); p.Sender.AccountNumber != self.Account || p.Recipient.AccountNumber != outside.Account {
		t.Errorf("pending: %+v", p)
	}
}

func TestHoldItem(t *testing.T) {
	card := ledger.Hold{ID: "h-1", Amount: 45_99, Currency: "PLN", Description: "Kawa", MerchantName: "Kawiarnia", MerchantCity: "Kraków",
		CreatedAt: bookedAt, ExpiresAt: bookedAt.Add(7 * 24 * time.Hour)}
	h := HoldItem(card, self)
	if h.ItemID != "h-1" || h.TransactionType != "card" || h.Amount != "45.99" || h.HoldExpirationDate != "2026-11-30T10:30:00.000+01:00" {
		t.Errorf("card hold: %+v", h)
	}
	if got := h.Recipient.NameAddress.Value; len(got) != 2 || got[0] != "Kawiarnia" || got[1] != "Kraków" {
		t.Errorf("merchant %v", got)
	}
	card.TransferID = "t-9"
	if h := HoldItem(card, self); h.ItemID != "t-9" || h.TransactionType != "transfer" {
		t.Errorf("a payment's hold is the payment's item: %+v", h)
	}
}

func TestNameAddressOf(t *testing.T) {
	na := NameAddressOf("Przedsiębiorstwo Handlowo-Usługowe Jan Kowalski i Wspólnicy", "ul. Marszałkowska 100 lok. 12, 00-026 Warszawa, Polska, Europa")
	if len(na.Value) != 4 {
		t.Fatalf("%d lines, want 4: %q", len(na.Value), na.Value)
	}
	for _, l := range na.Value {
		if n := len([]rune(l)); n == 0 || n > 35 {
			t.Errorf("line %q: %d characters", l, n)
		}
	}
	if got := NameAddressOf("", "").Value; len(got) != 1 {
		t.Errorf("empty: %q", got)
	}
}

func TestInfo(t *testing.T) {
	a := ledger.Account{NRB: self.Account, Currency: "PLN", Type: ledger.TypePersonal, Name: "eKonto", Booked: -5_00, Available: -7_00}
	i := Info(a, ledger.Customer{Segment: ledger.Retail, Name: "Anna", Address: "ul. Długa 1, Warszawa"})
	if i.AvailableBalance != "0.00" || i.BookingBalance != "-5.00" || i.AccountHolderType != HolderIndividual || len(i.NameAddress.Value) != 3 {
		t.Errorf("%+v", i)
	}
	if got := Info(a, ledger.Customer{Segment: ledger.Company}).AccountHolderType; got != HolderCorporation {
		t.Errorf("company: %s", got)
	}
	if b := BaseInfo(a); b.AccountType.Code != "personal" || b.PsuRelations[0].TypeOfRelation != "Owner" {
		t.Errorf("%+v", b)
	}
}
