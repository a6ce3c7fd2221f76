package export

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/polish"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// day returns midnight in Warsaw of a day in 2025.
func day(month time.Month, d int) time.Time {
	return time.Date(2025, month, d, 0, 0, 0, 0, polish.Warsaw)
}

// fixture returns a realistic March statement of a small company's PLN
// account: Polish letters, a split payment, a tax transfer to the
// micro-account, a ZUS transfer, a card payment without a counterparty name,
// a title over 140 characters, a foreign IBAN and a 36-character ID.
func fixture() Statement {
	return Statement{
		Account: Account{
			IBAN:       "PL20 1140 2004 0000 1234 5678 9012",
			Currency:   "PLN",
			OwnerName:  "Biuro Projektowe „Żółw” Sp. z o.o.",
			OwnerNIP:   "727-002-59-30",
			OwnerREGON: "471071506",
			OwnerAddress: Address{
				Voivodeship: "łódzkie",
				County:      "Łódź",
				Commune:     "Łódź",
				Street:      "ul. Piotrkowska",
				HouseNumber: "104",
				FlatNumber:  "5",
				City:        "Łódź",
				PostalCode:  "90-926",
			},
			BankName: "psd2bank S.A.",
			BIC:      "PSDBPLPWXXX",
		},
		From:           day(time.March, 1),
		To:             day(time.March, 31),
		OpeningBalance: 10000_00,
		ClosingBalance: 20294_92,
		CreatedAt:      time.Date(2025, time.April, 1, 8, 30, 0, 0, polish.Warsaw),
		Items: []Item{
			{
				ID: "TX-2025-0001", BookingDate: day(time.March, 3), ValueDate: day(time.March, 3),
				Amount: 12300_00, BalanceAfter: 22300_00, HasBalanceAfter: true,
				Title:            "Zapłata za fakturę FV/2025/02/117",
				CounterpartyName: "Hurtownia Łąka Sp. z o.o.", CounterpartyAccount: "52102010000000987654321098",
				CounterpartyAddress: "ul. Kwiatowa 5, 00-001 Warszawa",
				Type:                "PRZELEW PRZYCHODZĄCY", Reference: "E2E-117",
			},
			{
				ID: "TX-2025-0002", BookingDate: day(time.March, 5), ValueDate: day(time.March, 5),
				Amount: -1230_00, BalanceAfter: 21070_00, HasBalanceAfter: true, Currency: "PLN",
				Title:            "/VAT/230,00/IDC/1132456789/INV/FV 12/03/2025/TXT/usługi księgowe",
				CounterpartyName: "Biuro Rachunkowe Źródło s.c.", CounterpartyAccount: "PL30109010140000000712198128",
				CounterpartyAddress: "ul. Długa 7, 31-147 Kraków",
				Type:                "PRZELEW MPP",
			},
			{
				ID: "TX-2025-0003", BookingDate: day(time.March, 10), ValueDate: day(time.March, 10),
				Amount: -4321_00, BalanceAfter: 16749_00, HasBalanceAfter: true,
				Title:            "/TI/N7270025930/OKR/25M02/SFP/VAT7/TXT/VAT za luty 2025",
				CounterpartyName: "Mikrorachunek podatkowy", CounterpartyAccount: "06 1010 0071 2222 7270 0259 3000",
				Type: "PRZELEW PODATKOWY",
			},
			{
				// A card payment: no counterparty name or account, booked two
				// days after the purchase, no balance from the bank.
				ID: "TX-2025-0004", BookingDate: day(time.March, 12), ValueDate: day(time.March, 10),
				Amount: -89_99,
				Title:  "Płatność kartą 10.03.2025 ŻABKA Z1234 KRAKÓW",
				Type:   "TRANSAKCJA KARTĄ",
			},
			{
				ID: "TX-2025-0005", BookingDate: day(time.March, 14), ValueDate: day(time.March, 14),
				Amount: -15_00, BalanceAfter: 16644_01, HasBalanceAfter: true,
				Title:            "Opłata za prowadzenie rachunku 02/2025",
				CounterpartyName: "psd2bank S.A.",
				Type:             "OPŁATA",
			},
			{
				ID: "TX-2025-0006", BookingDate: day(time.March, 17), ValueDate: day(time.March, 17),
				Amount: 5000_00, BalanceAfter: 21644_01, HasBalanceAfter: true,
				Title: "Zaliczka na poczet umowy nr 7/2025 z dnia 14.03.2025 dotyczącej projektu " +
					"wnętrz biura przy ul. Żeromskiego 12 w Łodzi, etap pierwszy: koncepcja i wizualizacje",
				CounterpartyName:    "Przedsiębiorstwo Handlowo-Usługowe „Gęślą Jaźń” Kowalski i Wspólnicy Spółka Jawna",
				CounterpartyAccount: "PL30105000150000555566667777",
				CounterpartyAddress: "ul. Ogrodowa 1, 90-001 Łódź",
				Type:                "PRZELEW PRZYCHODZĄCY",
			},
			{
				ID: "TX-2025-0007", BookingDate: day(time.March, 20), ValueDate: day(time.March, 20),
				Amount: -1600_32, BalanceAfter: 20043_69, HasBalanceAfter: true,
				Title:            "Składki ZUS 02/2025",
				CounterpartyName: "Zakład Ubezpieczeń Społecznych", CounterpartyAccount: "14600000025260300517000000",
				Type: "PRZELEW ZUS",
			},
			{
				ID: "TX-2025-0008", BookingDate: day(time.March, 25), ValueDate: day(time.March, 24),
				Amount: 250_00, BalanceAfter: 20293_69, HasBalanceAfter: true,
				Title:            "Zwrot – pożyczka; dzięki! 100% & \"na czas\"",
				CounterpartyName: "Jan Kowalski", CounterpartyAccount: "DE89 3704 0044 0532 0130 00",
				Type: "TRF", Reference: "SEPA-REF-42",
			},
			{
				ID: "5f0c7a3e-9b1d-4c2e-8f6a-1d2e3f4a5b6c", BookingDate: day(time.March, 31), ValueDate: day(time.March, 31),
				Amount: 1_23, BalanceAfter: 20294_92, HasBalanceAfter: true,
				Title:            "Kapitalizacja odsetek",
				CounterpartyName: "psd2bank S.A.",
				Type:             "ODSETKI",
			},
		},
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept it):\n%s", path, firstDifference(got, want))
	}
}

// firstDifference shows where two outputs start to differ.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-40)
	return "got:  ..." + string(got[from:min(len(got), i+40)]) + "\nwant: ..." + string(want[from:min(len(want), i+40)])
}

func TestFixtureIsConsistent(t *testing.T) {
	if err := fixture().Check(); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	s := fixture()
	tests := []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"statement.csv.golden", func(b *bytes.Buffer) error { return WriteCSV(b, s, CSVOptions{DecimalComma: true}) }},
		{"statement-cp1250.csv.golden", func(b *bytes.Buffer) error {
			return WriteCSV(b, s, CSVOptions{Encoding: EncodingCP1250, DecimalComma: true})
		}},
		{"statement.mt940.golden", func(b *bytes.Buffer) error {
			return WriteMT940(b, s, MT940Options{StatementNumber: 3})
		}},
		{"statement-mbank.mt940.golden", func(b *bytes.Buffer) error {
			return WriteMT940(b, s, MT940Options{Dialect: DialectMBank, StatementNumber: 3})
		}},
		{"statement.camt053.xml.golden", func(b *bytes.Buffer) error {
			return WriteCamt053(b, s, Camt053Options{MessageID: "PSD2BANK-20250401-0001", SequenceNumber: 3})
		}},
		{"statement.jpkwb.xml.golden", func(b *bytes.Buffer) error {
			_, err := WriteJPKWB(b, s, JPKWBOptions{TaxOfficeCode: "1009"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
		})
	}
}
