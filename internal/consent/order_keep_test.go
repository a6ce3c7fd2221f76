package consent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/psd2bank/psd2bank/internal/payment"
)

// What the initiation reads of a consent's kept payment is what reading its
// JSON gives, whether the order was kept beforehand (KeepOrder), read once
// before, or never seen; and the copy handed out shares nothing with what
// is kept.
func TestKeptOrderIsWhatReadingGives(t *testing.T) {
	t.Parallel()
	order := func(title string) *payment.Consented {
		return &payment.Consented{Orders: []payment.Order{{Type: "domestic", SenderAccount: "61109010140000071219812874",
			Recipient: payment.Recipient{Name: "Jan Kowalski", Account: "27114020040000300201355387"}, Amount: 12345, Currency: "PLN",
			Title: title, Tax: &payment.TaxInfo{FormCode: "PIT-37", PayerID: "85010112345"},
			Split: &payment.SplitPayment{VATAmount: 23, InvoiceNumber: "FV/1"}, Recurrence: &payment.Recurrence{StartDate: "2027-01-04"}}}}
	}
	read := func(js []byte) *payment.Consented {
		var o payment.Consented
		if err := json.Unmarshal(js, &o); err != nil {
			t.Fatal(err)
		}
		return &o
	}
	kept := order("kept beforehand")
	KeepOrder(kept)
	for _, o := range []*payment.Consented{kept, order("never seen")} {
		js, _ := json.Marshal(o)
		for i := range 2 { // the second time the order is kept either way
			got, err := readOrder(string(js))
			if err != nil {
				t.Fatal(err)
			}
			if want := read(js); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, read %d: %+v, want %+v", o.Orders[0].Title, i, got, want)
			}
			// The caller's copy is its own.
			got.Orders[0].Title, got.Orders[0].Tax.PayerID, got.Orders[0].Split.NIP, got.Orders[0].Recurrence.EndDate = "changed", "x", "y", "z"
			again, _ := readOrder(string(js))
			if !reflect.DeepEqual(again, read(js)) {
				t.Fatalf("%s: a change to a copy reached the kept order: %+v", o.Orders[0].Title, again.Orders[0])
			}
		}
	}
	if _, err := readOrder(`{"Orders":`); err == nil {
		t.Error("a broken JSON was read")
	}
}
