package spec

import "testing"

func TestLoads(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"createConsent", "getAccountList", "getBalances", "getTransactionList", "initiatePayment", "checkAvailabilityOfFunds"} {
		if _, err := Operation(id); err != nil {
			t.Fatal(err)
		}
	}
	// A body the schema refuses must fail.
	if err := ValidateResponse("getConsentStatus", 200, []byte(`{"consentStatus":"nonsense"}`)); err == nil {
		t.Fatal("an unknown consentStatus passed")
	}
	if err := ValidateResponse("getConsentStatus", 200, []byte(`{"consentStatus":"valid","extra":1}`)); err == nil {
		t.Fatal("an unknown property passed")
	}
	if err := ValidateResponse("getConsentStatus", 200, []byte(`{"consentStatus":"valid"}`)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateSchema(t *testing.T) {
	t.Parallel()
	ok := `{"debtorAccount":{"iban":"PL61109010140000071219812874"},"instructedAmount":{"currency":"PLN","amount":"1.00"},
		"creditorAccount":{"iban":"PL61109010140000071219812874"},"creditorName":"A","startDate":"2030-01-01","frequency":"Monthly"}`
	if err := ValidateSchema("periodicPaymentInitiationWithStatusResponse", []byte(ok)); err != nil {
		t.Fatal(err)
	}
	if ValidateSchema("periodicPaymentInitiationWithStatusResponse", []byte(`{"debtorAccount":{}}`)) == nil {
		t.Fatal("a body without its required fields passed")
	}
	if ValidateSchema("periodicPaymentInitiationWithStatusResponse", []byte(ok[:len(ok)-1]+`,"frequncy":"x"}`)) == nil {
		t.Fatal("an unknown property passed")
	}
}
