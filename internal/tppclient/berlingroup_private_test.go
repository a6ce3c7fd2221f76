package tppclient

import (
	"path/filepath"
	"testing"
	"time"
)

// A Berlin Group transaction becomes the book's item: signed amount as the
// bank writes it, the creditor of a debit and the debtor of a credit (a
// Polish IBAN as its NRB, as the other dialects give it), the bank's
// balance after it, its booking day.
func TestBGItem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, raw string
		want      Item
	}{
		{"debit", `{"transactionId":"T1","entryReference":"812","bookingDate":"2026-03-02","valueDate":"2026-03-02",
			"transactionAmount":{"currency":"PLN","amount":"-12.34"},"creditorName":"Hurtownia","creditorAccount":{"iban":"PL61109010140000071219812874"},
			"remittanceInformationUnstructured":"FV 1","balanceAfterTransaction":{"balanceAmount":{"currency":"PLN","amount":"100.00"},"balanceType":"interimBooked"}}`,
			Item{ItemID: "T1", BookingDate: "2026-03-02", TradeDate: "2026-03-02", Amount: "-12.34", Currency: "PLN", Description: "FV 1",
				CounterpartyName: "Hurtownia", CounterpartyAccount: "61109010140000071219812874", BalanceAfter: "100.00"}},
		{"credit from abroad", `{"transactionId":"T2","bookingDate":"2026-03-03","transactionAmount":{"currency":"EUR","amount":"5.00"},
			"debtorName":"Max","debtorAccount":{"iban":"DE89370400440532013000"},"creditorName":"not me",
			"balanceAfterTransaction":{"balanceAmount":{"currency":"EUR","amount":"105.00"},"balanceType":"interimBooked"}}`,
			Item{ItemID: "T2", BookingDate: "2026-03-03", Amount: "5.00", Currency: "EUR", CounterpartyName: "Max",
				CounterpartyAccount: "DE89370400440532013000", BalanceAfter: "105.00"}},
		{"no transactionId", `{"entryReference":"77","transactionAmount":{"currency":"PLN","amount":"-1.00"}}`,
			Item{ItemID: "77", Amount: "-1.00", Currency: "PLN"}},
	} {
		got, err := bgItem([]byte(c.raw))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// Berlin Group's frequencyPerDay counts the bank's calendar day in Warsaw:
// four reads late in the evening spend the day, and after midnight in
// Warsaw (not 24 hours later) reads are possible again; the 24-hour
// window of the other dialects still counts them then.
func TestReadsPerBankDay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := OpenBook(filepath.Join(dir, "book.db"), filepath.Join(dir, "book.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	evening := time.Date(2026, 3, 28, 23, 10, 0, 0, bankZone) // the night before the clocks change
	for i := range UnattendedLimit {
		if err := b.countRead("c1", "A", evening.Add(time.Duration(i)*time.Minute+time.Duration(i)*123*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	b.countRead("c1", "B", evening) // another account's reads are its own
	b.countRead("c0", "A", evening) // and another consent's

	ok, used, next := b.readsAllowedIn(windowDay, "c1", "A", 1, evening.Add(30*time.Minute))
	midnight := time.Date(2026, 3, 29, 0, 0, 0, 0, bankZone)
	if ok || used != UnattendedLimit || !next.Equal(midnight) {
		t.Fatalf("at 23:40: ok %v, used %d, next %v; want refused, %d used, next at %v", ok, used, next, UnattendedLimit, midnight)
	}
	if ok, used, _ := b.readsAllowedIn(windowDay, "c1", "A", 1, midnight.Add(time.Minute)); !ok || used != 0 {
		t.Fatalf("at 00:01 the next day: ok %v, used %d; want allowed, 0 used", ok, used)
	}
	if ok, _, _ := b.readsAllowedIn(window24h, "c1", "A", 1, midnight.Add(time.Minute)); ok {
		t.Fatal("the 24-hour window allowed a fifth read within 24 hours")
	}
	if ok, used, _ := b.readsAllowedIn(windowDay, "c1", "B", 3, evening.Add(time.Hour/2)); !ok || used != 1 {
		t.Fatalf("account B: ok %v, used %d; want allowed, 1 used", ok, used)
	}
	// The 24-hour window by the times, not their text: reads with and
	// without a fraction of a second.
	b.countRead("c2", "A", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	b.countRead("c2", "A", time.Date(2026, 3, 1, 10, 0, 0, 500, time.UTC))
	if _, used, _ := b.readsAllowedIn(window24h, "c2", "A", 1, time.Date(2026, 3, 2, 9, 59, 59, 0, time.UTC)); used != 2 {
		t.Fatalf("24-hour window: %d reads counted, want 2", used)
	}
}

func TestValidIBAN(t *testing.T) {
	t.Parallel()
	for iban, want := range map[string]bool{
		"DE89370400440532013000":             true,
		"DE89 3704 0044 0532 0130 00":        true,
		"PL61109010140000071219812874":       true,
		"DE88370400440532013000":             false,
		"XX":                                 false,
		"DE89370400440532013000!":            false,
		"GB29NWBK60161331926819":             true,
		"pl61 1090 1014 0000 0712 1981 2874": true,
	} {
		if got := ValidIBAN(iban); got != want {
			t.Errorf("ValidIBAN(%q) = %v, want %v", iban, got, want)
		}
	}
}
