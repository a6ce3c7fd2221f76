package mbank

import (
	"encoding/json"
	"testing"

	"github.com/psd2bank/psd2bank/internal/payment"
)

// The collection's split payment and recurring payment bodies translate.
func TestDomesticPaymentOrder(t *testing.T) {
	var p DomesticPayment
	if err := json.Unmarshal([]byte(`{"recipient":{"accountNumber":"61109010140000071219812874","name":"Jan Kowalski",
		"nameAddressStructured":{"addressStructured":{"countryCode":"PL","townName":"Warszawa","streetName":"Uchwały","buildingNumber":"1","postCode":"00-123"},"name":"AdresRecipient"}},
		"sender":{},"transferData":{"description":"Transfer","amount":"0.01","currency":"PLN"},"deliveryMode":"STANDARD_D1","system":"ELIXIR",
		"executionMode":"IMMEDIATE","splitPayment":true,"transactionInfoSp":{"spInvoiceNumber":"FVS-1","spTaxIdentificationNumber":"5260300517","spTaxAmount":"0.23","spDescription":"Split"}}`), &p); err != nil {
		t.Fatal(err)
	}
	o, err := p.Order()
	if err != nil {
		t.Fatal(err)
	}
	if o.Recipient.Address != "Uchwały 1, 00-123 Warszawa" || o.Split == nil || o.Split.VATAmount != 23 || o.System != payment.SystemElixir || o.DeliveryMode != payment.StandardD1 {
		t.Fatalf("order = %+v", o)
	}
	p.SplitPayment, p.TransactionInfoSp, p.ExecutionMode = false, nil, "RECURRING"
	p.TransferData.Recurrence = &Recurrence{StartDate: "2026-12-01", DayOffOffsetType: "BEFORE"}
	p.TransferData.Recurrence.Frequency.PeriodType, p.TransferData.Recurrence.Frequency.PeriodValue = "WEEK", 1
	if o, err = p.Order(); err != nil || o.Recurrence == nil || o.Recurrence.PeriodType != payment.Week || o.Recurrence.DayOff != payment.Before {
		t.Fatalf("recurring order = %+v, %v", o.Recurrence, err)
	}
	p.TransferData.Recurrence = nil
	if _, err := p.Order(); payment.CodeOf(err) != payment.CodeInvalidRecurrence {
		t.Fatalf("RECURRING without recurrence: %v", err)
	}
}

func TestPaymentOf(t *testing.T) {
	r := PaymentOf(payment.Payment{ID: "id", TPPTransactionID: "k", Status: payment.StatusPending, System: payment.SystemElixir, FutureDated: true}, "/pl-retail/v3/payments/domestic/id")
	if r.Status != PaymentPending || r.ExecutionMode != ExecFutureDated || r.Links[0].Href != "/pl-retail/v3/payments/domestic/id" || r.Links[0].Action != "GET" {
		t.Fatalf("%+v", r)
	}
}
