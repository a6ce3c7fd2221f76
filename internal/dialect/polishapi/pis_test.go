package polishapi

import (
	"testing"

	"github.com/psd2bank/psd2bank/internal/payment"
)

func TestTaxPeriod(t *testing.T) {
	for _, tc := range []struct {
		in   TransactionInfoTax
		want string
	}{
		{TransactionInfoTax{Year: 2026, PeriodType: "M", PeriodID: "10"}, "26M10"},
		{TransactionInfoTax{Year: 2026, PeriodType: "R"}, "26R"},
		{TransactionInfoTax{Year: 2026, PeriodType: "k", PeriodID: "03"}, "26K03"},
		{TransactionInfoTax{PeriodID: "26J0504"}, "26J0504"},
		{TransactionInfoTax{}, "0"},
	} {
		if got := TaxPeriod(tc.in); got != tc.want {
			t.Errorf("TaxPeriod(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The idempotency hash ignores the requestHeader (new in every retry) but
// not the payment.
func TestRequestHash(t *testing.T) {
	a := RequestHash([]byte(`{"requestHeader":{"requestId":"1"},"tppTransactionId":"k","transferData":{"amount":"1.00"}}`))
	b := RequestHash([]byte(`{"transferData":{"amount":"1.00"},"requestHeader":{"requestId":"2","token":"x"},"tppTransactionId":"k"}`))
	c := RequestHash([]byte(`{"requestHeader":{"requestId":"1"},"tppTransactionId":"k","transferData":{"amount":"2.00"}}`))
	if a != b || a == c {
		t.Fatalf("hashes: %s %s %s", a, b, c)
	}
}

func TestPaymentOrder(t *testing.T) {
	p := PaymentOrder{Recipient: RecipientPIS{AccountNumber: "PL61109010140000071219812874", NameAddress: NameAddress{Value: []string{"Jan", "ul. Długa 1", "Warszawa"}}},
		TransferData: TransferData{Description: "t", Amount: "12.30"}, System: "ExpressElixir", DeliveryMode: "ExpressD0", TPPTransactionID: "k"}
	o, err := p.Order(payment.Domestic)
	if err != nil {
		t.Fatal(err)
	}
	if o.Amount != 12_30 || o.Currency != "PLN" || o.Recipient.Name != "Jan" || o.Recipient.Address != "ul. Długa 1, Warszawa" ||
		o.System != payment.SystemExpressElixir || o.DeliveryMode != payment.ExpressD0 {
		t.Fatalf("order = %+v", o)
	}
	for _, bad := range []PaymentOrder{
		{TransferData: TransferData{Amount: "12.3"}},
		{TransferData: TransferData{Amount: "1.00"}, System: "BlueCash"},
		{TransferData: TransferData{Amount: "1.00"}, ExecutionMode: "FutureDated"},
	} {
		if _, err := bad.Order(payment.Domestic); payment.CodeOf(err) == "" {
			t.Errorf("%+v: no payment error: %v", bad, err)
		}
	}
}
