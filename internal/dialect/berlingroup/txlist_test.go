package berlingroup

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A transaction list's answer is the bytes json.Marshal gives of the same
// members in the same order, with and without booked and pending items,
// and it begins with its prefix (the items), whose Digest hash is kept.
func TestTxListAnswerIsMarshal(t *testing.T) {
	t.Parallel()
	booked, err := json.Marshal([]Transaction{{TransactionID: "t1", EntryReference: "7", BookingDate: "2026-12-01",
		TransactionAmount: Amount{Currency: "PLN", Amount: "-1.50"}, RemittanceInformationUnstructured: "coffee \"<&>\""}})
	if err != nil {
		t.Fatal(err)
	}
	pending := []Transaction{{TransactionID: "h1", TransactionAmount: Amount{Currency: "PLN", Amount: "-2.00"}, CreditorName: "Shop"}}
	links := map[string]link{"account": {"/berlingroup/v1/accounts/a1"}, "first": {"/x?a=1&b=2"}}
	account := AccountReference{IBAN: "PL61109010140000071219812874", Currency: "PLN"}
	for name, c := range map[string]struct {
		booked  json.RawMessage
		pending []Transaction
	}{
		"booked":               {booked, nil},
		"pending":              {nil, pending},
		"both":                 {booked, pending},
		"booked, none of them": {json.RawMessage(`[]`), nil},
	} {
		a := txListAnswer{account: account, links: links, booked: c.booked, pending: c.pending}
		got := a.AppendJSON(nil)
		type transactions struct {
			Booked  json.RawMessage `json:"booked,omitempty"`
			Links   map[string]link `json:"_links"`
			Pending []Transaction   `json:"pending,omitempty"`
		}
		want, err := json.Marshal(struct {
			Transactions transactions     `json:"transactions"`
			Account      AccountReference `json:"account"`
		}{transactions{c.booked, links, c.pending}, account})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
		if prefix := a.AppendPrefix(nil); !bytes.HasPrefix(got, prefix) || c.booked != nil && !bytes.HasSuffix(prefix, c.booked) {
			t.Errorf("%s: the answer does not begin with its prefix %s", name, prefix)
		}
	}
}
