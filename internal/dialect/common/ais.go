package common

import (
	"strconv"
	"time"

	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
)

// The AIS handlers' common pieces: the caller as internal/ais knows it,
// the refusals of the AIS service, and the filters both dialects read.

// AISCaller is the caller as the AIS service knows it.
func AISCaller(c *gateway.Caller) ais.Caller {
	out := ais.Caller{TPPID: c.OrgID}
	if c.Grant != nil {
		out.ConsentID, out.CustomerID = c.Grant.ConsentID, c.Grant.CustomerID
	}
	return out
}

// AISRefusal renders a refusal of the AIS service in the gateway's terms.
func AISRefusal(err error) error {
	if e := fault.Find(err, "ais"); e != nil {
		return refusalOf(e)
	}
	return Refusal(err)
}

// CheckDates refuses dates that are not YYYY-MM-DD.
func CheckDates(f ledger.ItemFilter) error {
	for _, d := range []string{f.TradeFrom, f.TradeTo, f.BookingFrom, f.BookingTo} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return FormatError("dates are YYYY-MM-DD, got "+strconv.Quote(d), "daty mają postać RRRR-MM-DD, otrzymano "+strconv.Quote(d))
		}
	}
	return nil
}

// AmountRange reads minAmount and maxAmount.
func AmountRange(lo, hi string) (money.Amount, money.Amount, error) {
	var out [2]money.Amount
	for i, s := range []string{lo, hi} {
		if s == "" {
			continue
		}
		a, err := money.Parse(s)
		if err != nil {
			return 0, 0, FormatError("minAmount and maxAmount are amounts such as 100.00, got "+strconv.Quote(s),
				"minAmount i maxAmount to kwoty, np. 100.00, otrzymano "+strconv.Quote(s))
		}
		out[i] = a
	}
	return out[0], out[1], nil
}
