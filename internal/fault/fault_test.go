package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/psd2bank/psd2bank/internal/fault"
)

func TestFindByDomain(t *testing.T) {
	t.Parallel()
	inner := fault.New(fault.Define("test_a", "gone"), "gone %d", "nie ma %d", 1)
	outer := fault.New(fault.Define("test_b", "refused"), "refused", "odmowa").Wrap(inner)
	err := fmt.Errorf("calling: %w", outer)
	if e := fault.Find(err, "test_a"); e != inner || e.Message != "gone 1" || e.In("pl") != "nie ma 1" {
		t.Fatalf("Find test_a = %+v", e)
	}
	if c := fault.CodeIn(err, "test_b"); c != "test_b.refused" || c.Domain() != "test_b" || c.Name() != "refused" {
		t.Fatalf("CodeIn test_b = %q", c)
	}
	if fault.Find(err, "test_c") != nil || fault.Find(errors.New("x"), "test_a") != nil {
		t.Fatal("Find found a domain that is not in the chain")
	}
	if e, ok := fault.As(err); !ok || e != outer {
		t.Fatalf("As = %v", e)
	}
	if got := (&fault.Error{Field: "amount", Message: "too big"}).Error(); got != "amount: too big" {
		t.Fatalf("Error() = %q", got)
	}
	if fault.Define("test_a", "gone"); len(fault.Codes()) != 2 {
		t.Fatalf("Codes = %v, want each code once", fault.Codes())
	}
}
