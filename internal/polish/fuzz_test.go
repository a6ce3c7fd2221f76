package polish

import (
	"errors"
	"testing"
)

// checkKind fails the test if err is not nil and wraps none of the package's
// error kinds.
func checkKind(t *testing.T, input string, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrDate) {
		t.Fatalf("%q: error %q has no known kind", input, err)
	}
}

func FuzzNormalizeNRB(f *testing.F) {
	for _, s := range []string{"61109010140000071219812874", "PL 68 1050 0002 4795 0863 5839 5003",
		"98101000712222526030051700", "61114020040000310247036258", "92114020050000123456789012", "", "PL", "DE89"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeNRB(s)
		checkKind(t, s, err)
		// The lookups take any text too.
		BankName(s)
		micro, zus := IsTaxMicroAccount(s), IsZUSAccount(s)
		if err != nil {
			if micro || zus {
				t.Fatalf("%q is not an NRB but IsTaxMicroAccount = %v, IsZUSAccount = %v", s, micro, zus)
			}
			return
		}
		if again, err := NormalizeNRB(n); err != nil || again != n {
			t.Fatalf("NormalizeNRB(%q) = %q, %v; not idempotent (from %q)", n, again, err, s)
		}
		if made, err := MakeNRB(n[2:10], n[10:]); err != nil || made != n {
			t.Fatalf("MakeNRB(%q, %q) = %q, %v; want %q", n[2:10], n[10:], made, err, n)
		}
		if iban, err := NormalizeIBAN("PL" + n); err != nil || iban != "PL"+n {
			t.Fatalf("NormalizeIBAN(PL%s) = %q, %v", n, iban, err)
		}
	})
}

func FuzzNormalizeIBAN(f *testing.F) {
	for _, s := range []string{"PL61109010140000071219812874", "gb82 west 1234 5698 7654 32",
		"FR1420041010050500013M02606", "GB82WEST12345698765433", "DEıı370400440532013000", "", "XX00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iban, err := NormalizeIBAN(s)
		checkKind(t, s, err)
		if err != nil {
			return
		}
		if again, err := NormalizeIBAN(iban); err != nil || again != iban {
			t.Fatalf("NormalizeIBAN(%q) = %q, %v; not idempotent (from %q)", iban, again, err, s)
		}
		if len(iban) != ibanLengths[iban[:2]] {
			t.Fatalf("NormalizeIBAN(%q) = %q: wrong length for %s", s, iban, iban[:2])
		}
		if iban[:2] == "PL" {
			if n, err := NormalizeNRB(iban); err != nil || n != iban[2:] {
				t.Fatalf("NormalizeNRB(%q) = %q, %v", iban, n, err)
			}
		}
	})
}

func FuzzValidatePESEL(f *testing.F) {
	for _, s := range []string{"44051401458", "02270803624", "44051401459", "00000000000", "99023100000", "", "4405140145８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		birth, sex, err := ValidatePESEL(s)
		checkKind(t, s, err)
		if err != nil {
			return
		}
		if sex != Male && sex != Female {
			t.Fatalf("ValidatePESEL(%q) sex = %q", s, sex)
		}
		// Rebuild the number from what was decoded, with this package's
		// convention for the sex digit, and compare all but the last two digits.
		serial := int(s[6]-'0')*100 + int(s[7]-'0')*10 + int(s[8]-'0')
		made, err := MakePESEL(birth, serial, sex == Female)
		if err != nil || made[:9] != s[:9] {
			t.Fatalf("MakePESEL(%v, %d, %v) = %q, %v; want it to start with %q", birth, serial, sex == Female, made, err, s[:9])
		}
	})
}

func FuzzNormalizeNIP(f *testing.F) {
	for _, s := range []string{"1234563218", "123-456-32-18", "PL 526 104 08 28", "1234563211", "1234560020", "0000000000", "", "pl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nip, err := NormalizeNIP(s)
		checkKind(t, s, err)
		if err != nil {
			return
		}
		if again, err := NormalizeNIP(nip); err != nil || again != nip {
			t.Fatalf("NormalizeNIP(%q) = %q, %v; not idempotent (from %q)", nip, again, err, s)
		}
		if made, ok := MakeNIP(nip[:9]); !ok || made != nip {
			t.Fatalf("MakeNIP(%q) = %q, %v; want %q", nip[:9], made, ok, nip)
		}
	})
}

func FuzzValidateREGON(f *testing.F) {
	for _, s := range []string{"123456785", "12345678512347", "123456786", "12345678612347", "", "12345678-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateREGON(s)
		checkKind(t, s, err)
		if err != nil {
			return
		}
		if got := MakeREGON9(s[:8]); got != s[:9] {
			t.Fatalf("MakeREGON9(%q) = %q; want %q (from %q)", s[:8], got, s[:9], s)
		}
	})
}
