package export

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
)

// camtDocument is the part of camt.053.001.02 that the tests read back.
type camtDocument struct {
	XMLName xml.Name `xml:"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02 Document"`
	MsgID   string   `xml:"BkToCstmrStmt>GrpHdr>MsgId"`
	Stmt    struct {
		ID   string `xml:"Id"`
		IBAN string `xml:"Acct>Id>IBAN"`
		Ccy  string `xml:"Acct>Ccy"`
		Bal  []struct {
			Code string     `xml:"Tp>CdOrPrtry>Cd"`
			Amt  camtAmount `xml:"Amt"`
			Ind  string     `xml:"CdtDbtInd"`
			Date string     `xml:"Dt>Dt"`
		} `xml:"Bal"`
		Summary struct {
			Count   int    `xml:"TtlNtries>NbOfNtries"`
			Sum     string `xml:"TtlNtries>Sum"`
			Net     string `xml:"TtlNtries>TtlNetNtryAmt"`
			NetInd  string `xml:"TtlNtries>CdtDbtInd"`
			Credits string `xml:"TtlCdtNtries>Sum"`
			Debits  string `xml:"TtlDbtNtries>Sum"`
		} `xml:"TxsSummry"`
		Entries []struct {
			Ref     string     `xml:"NtryRef"`
			Amt     camtAmount `xml:"Amt"`
			Ind     string     `xml:"CdtDbtInd"`
			Status  string     `xml:"Sts"`
			Booked  string     `xml:"BookgDt>Dt"`
			Value   string     `xml:"ValDt>Dt"`
			Debtor  string     `xml:"NtryDtls>TxDtls>RltdPties>Dbtr>Nm"`
			Cred    string     `xml:"NtryDtls>TxDtls>RltdPties>Cdtr>Nm"`
			DbtIBAN string     `xml:"NtryDtls>TxDtls>RltdPties>DbtrAcct>Id>IBAN"`
			CdtIBAN string     `xml:"NtryDtls>TxDtls>RltdPties>CdtrAcct>Id>IBAN"`
			Ustrd   []string   `xml:"NtryDtls>TxDtls>RmtInf>Ustrd"`
		} `xml:"Ntry"`
	} `xml:"BkToCstmrStmt>Stmt"`
}

type camtAmount struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

func mustParse(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return a
}

func signed(t *testing.T, value, ind string) money.Amount {
	t.Helper()
	a := mustParse(t, value)
	switch ind {
	case "CRDT":
		return a
	case "DBIT":
		return -a
	}
	t.Fatalf("CdtDbtInd %q", ind)
	return 0
}

func TestCamt053ReadBack(t *testing.T) {
	s := fixture()
	var b bytes.Buffer
	if err := WriteCamt053(&b, s, Camt053Options{MessageID: "MSG-1"}); err != nil {
		t.Fatal(err)
	}
	var doc camtDocument
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	st := doc.Stmt
	if doc.MsgID != "MSG-1" || st.ID != "MSG-1" || st.IBAN != "PL20114020040000123456789012" || st.Ccy != "PLN" {
		t.Errorf("header %q %q %q %q", doc.MsgID, st.ID, st.IBAN, st.Ccy)
	}
	if len(st.Bal) != 2 || st.Bal[0].Code != "OPBD" || st.Bal[1].Code != "CLBD" {
		t.Fatalf("balances %+v", st.Bal)
	}
	opening := signed(t, st.Bal[0].Amt.Value, st.Bal[0].Ind)
	closing := signed(t, st.Bal[1].Amt.Value, st.Bal[1].Ind)
	if opening != s.OpeningBalance || closing != s.ClosingBalance || st.Bal[0].Date != "2025-03-01" || st.Bal[1].Date != "2025-03-31" {
		t.Errorf("balances %s on %s, %s on %s", opening, st.Bal[0].Date, closing, st.Bal[1].Date)
	}
	if len(st.Entries) != len(s.Items) || st.Summary.Count != len(s.Items) {
		t.Fatalf("%d entries, summary %d, want %d", len(st.Entries), st.Summary.Count, len(s.Items))
	}
	var total, credits, debits money.Amount
	for i, e := range st.Entries {
		it := s.Items[i]
		a := signed(t, e.Amt.Value, e.Ind)
		if a != it.Amount || e.Amt.Ccy != "PLN" || e.Status != "BOOK" || e.Booked != isoDate(it.BookingDate) || e.Value != isoDate(it.valueDate()) {
			t.Errorf("entry %d: %s %s %s %s %s", i+1, a, e.Amt.Ccy, e.Status, e.Booked, e.Value)
		}
		if strings.Contains(e.Amt.Value, ",") || strings.HasPrefix(e.Amt.Value, "-") {
			t.Errorf("entry %d amount %q is not a positive dot decimal", i+1, e.Amt.Value)
		}
		name, iban := e.Debtor, e.DbtIBAN
		if it.IsDebit() {
			name, iban = e.Cred, e.CdtIBAN
			debits -= a
		} else {
			credits += a
		}
		total += a
		if name != it.CounterpartyName {
			t.Errorf("entry %d: counterparty %q, want %q", i+1, name, it.CounterpartyName)
		}
		if want, _, _ := counterpartyIBAN(it.CounterpartyAccount); iban != want {
			t.Errorf("entry %d: IBAN %q, want %q", i+1, iban, want)
		}
		if got := strings.Join(e.Ustrd, ""); got != it.Title {
			t.Errorf("entry %d: title %q, want %q", i+1, got, it.Title)
		}
		for _, u := range e.Ustrd {
			if len([]rune(u)) > 140 {
				t.Errorf("entry %d: Ustrd of %d characters", i+1, len([]rune(u)))
			}
		}
	}
	if opening+total != closing {
		t.Errorf("opening %s + entries %s != closing %s", opening, total, closing)
	}
	if mustParse(t, st.Summary.Credits) != credits || mustParse(t, st.Summary.Debits) != debits ||
		mustParse(t, st.Summary.Sum) != credits+debits || signed(t, st.Summary.Net, st.Summary.NetInd) != total {
		t.Errorf("summary %+v; credits %s, debits %s", st.Summary, credits, debits)
	}
	if len(st.Entries[5].Ustrd) != 2 {
		t.Errorf("the long title is in %d Ustrd, want 2", len(st.Entries[5].Ustrd))
	}
}

func TestCamt053Refuses(t *testing.T) {
	if err := WriteCamt053(&bytes.Buffer{}, fixture(), Camt053Options{}); err == nil {
		t.Errorf("empty message ID accepted")
	}
	if err := WriteCamt053(&bytes.Buffer{}, fixture(), Camt053Options{MessageID: strings.Repeat("M", 36)}); err == nil {
		t.Errorf("36-character message ID accepted")
	}
	s := fixture()
	s.CreatedAt = time.Time{}
	if err := WriteCamt053(&bytes.Buffer{}, s, Camt053Options{MessageID: "M"}); err == nil {
		t.Errorf("zero CreatedAt accepted")
	}
}
