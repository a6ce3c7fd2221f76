package mbank

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
)

func TestTransactions(t *testing.T) {
	self := ledger.Party{Name: "Anna", Account: "76099000190000000000007027"}
	other := ledger.Party{Name: "Sklep", Account: "61109010140000071219812874"}
	p := ledger.Posting{TransferID: "t-1", Amount: -1, BalanceAfter: 99, Currency: "PLN", Counterparty: other, TradeDate: "2026-11-22", BookingDate: "2026-11-23"}
	d := Done(p, self)
	if d.AspspTransactionID != "t-1" || d.Amount != "-0.01" || d.TransactionCategory != "DEBIT" || d.TransactionStatus != StatusDone ||
		d.BookingDate != "2026-11-23" || d.PostTransactionBalance != "0.99" || d.Sender.AccountNumber != self.Account {
		t.Errorf("debit %+v", d)
	}
	p.Amount = 111_01
	if c := Done(p, self); c.Amount != "111.01" || c.TransactionCategory != "CREDIT" || c.Recipient.AccountNumber != self.Account {
		t.Errorf("credit %+v", c)
	}
	tr := ledger.Transfer{ID: "t-2", Amount: 5_00, Status: ledger.StatusScheduled, TradeDate: "2026-11-23", ExecutionDate: "2026-12-01", Debtor: self, Creditor: other}
	if o := Outgoing(tr); o.Amount != "-5.00" || o.TransactionStatus != StatusScheduled || o.TradeDate != "2026-12-01" {
		t.Errorf("scheduled %+v", o)
	}
	at := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) // already the 24th in Poland
	h := Held(ledger.Hold{ID: "h-1", Amount: 2_50, CreatedAt: at, ExpiresAt: at, MerchantName: "Kawiarnia"}, self)
	if h.AspspTransactionID != "h-1" || h.Amount != "-2.50" || h.TradeDate != "2026-11-24" || h.Recipient.Name != "Kawiarnia" {
		t.Errorf("hold %+v", h)
	}
}

// TestDoneAnswerIsTransactionsResponse checks that a kept page's answer,
// its items appended as kept, is the bytes json.Marshal gives of the
// TransactionsResponse it stands for: with and without a next page, with
// texts JSON escapes, and without items.
func TestDoneAnswerIsTransactionsResponse(t *testing.T) {
	t.Parallel()
	self := ledger.Party{Name: "Jan <Kowalski> & syn", Account: "39099000191000000100000001"}
	postings := []ledger.Posting{
		{Seq: 2, TransferID: "t2", Amount: -1234, Currency: "PLN", Title: `Zakup "Biedronka" <1234> & ąę`, Kind: "card",
			TradeDate: "2026-12-01", BookingDate: "2026-12-02", Counterparty: ledger.Party{Name: "Jeronimo Martins", Account: "61109010140000071219812874"}},
		{Seq: 1, TransferID: "t1", Amount: 50000, Currency: "PLN", Title: "Wynagrodzenie\u2028listopad", Kind: "elixir",
			TradeDate: "2026-11-28", BookingDate: "2026-11-28", Counterparty: ledger.Party{Name: "Pracodawca", Account: ""}},
	}
	for _, ps := range [][]ledger.Posting{postings, {}} {
		for _, links := range [][]Link{nil, NextPage("/accounts/a/transactions?cursor=x&size=2")} {
			list := make([]Transaction, 0, len(ps))
			for _, p := range ps {
				list = append(list, Done(p, self))
			}
			want, err := json.Marshal(TransactionsResponse{Transactions: list, Links: links})
			if err != nil {
				t.Fatal(err)
			}
			enc, _ := json.Marshal(list)
			got := doneAnswer{items: jws.NewPrefix(append([]byte(`{"transactions":`), enc...)), links: links}.AppendJSON(nil)
			if string(got) != string(want) {
				t.Errorf("%d items, %d links:\nappended %s\nMarshal  %s", len(ps), len(links), got, want)
			}
		}
	}
}
