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
