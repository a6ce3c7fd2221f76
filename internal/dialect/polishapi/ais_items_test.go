package polishapi

import (
	"encoding/json"
	"testing"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

// TestDoneItemsIsDone checks that a page mapped at once (the holder's side
// built once and shared) encodes to the same bytes as its items mapped one
// by one: debits and credits, long and non-ASCII names and titles, a
// holder without a name, an item without a counterparty.
func TestDoneItemsIsDone(t *testing.T) {
	long := ledger.Party{Name: "Przedsiębiorstwo Handlowo-Usługowe Jan Kowalski i Wspólnicy Spółka Jawna", Account: outside.Account}
	items := []ledger.Posting{
		{TransferID: "t1", Amount: -1_00, BalanceAfter: 5_00, Currency: "PLN", Kind: "elixir", Title: "Rachunek", Counterparty: outside,
			TradeDate: "2026-11-22", BookingDate: "2026-11-23", BookedAt: bookedAt},
		{TransferID: "t2", Amount: 2_00, BalanceAfter: 7_00, Currency: "PLN", Kind: "internal", Title: string(make([]rune, 200)) + "żółć <&>",
			Counterparty: long, TradeDate: "2026-11-23", BookingDate: "2026-11-23", BookedAt: bookedAt},
		{TransferID: "t3", Amount: -3_00, BalanceAfter: 4_00, Currency: "PLN", Kind: "card", Title: "Sklep \u2028 x",
			TradeDate: "2026-11-23", BookingDate: "2026-11-23", BookedAt: bookedAt},
	}
	for _, holder := range []ledger.Party{self, {Account: self.Account}, {Name: "Ąę Źż \xff", Account: self.Account}} {
		var one []TransactionInfo
		for _, p := range items {
			one = append(one, Done(p, holder))
		}
		a, _ := json.Marshal(one)
		b, _ := json.Marshal(DoneItems(items, holder))
		if string(a) != string(b) {
			t.Errorf("holder %+v:\none by one %s\nat once    %s", holder, a, b)
		}
	}
	if got := NameAddressOf("  Anna  ", "").Value; len(got) != 1 || got[0] != "Anna" {
		t.Errorf("a short name: %q", got)
	}
	if got := truncate("żółć", 3); got != "żół" {
		t.Errorf("truncate: %q", got)
	}
}
