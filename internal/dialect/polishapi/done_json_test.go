package polishapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
)

// doneByReflection is what getTransactionsDone wrote before doneResponse:
// the items mapped by DoneItems, encoded by encoding/json.
func doneByReflection(t *testing.T, d doneResponse) []byte {
	t.Helper()
	data, err := json.Marshal(TransactionsDoneInfoResponse{ResponseHeader: d.Header, Transactions: DoneItems(d.Postings, d.Self), PageInfo: d.PageInfo})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDoneResponseJSON checks that the hand-written encoding of a
// getTransactionsDone answer gives exactly the bytes encoding/json gives
// for the mapped items: every character JSON or encoding/json escapes
// (quotes, backslashes, control characters, HTML's <, > and &, U+2028,
// U+2029, invalid UTF-8), non-ASCII text, titles and names past their
// limits, every optional field empty and set (currency, kind, trade date,
// valid or not, booking time, counterparty name and account, the
// holder's name, the request id, the next page), debits and credits,
// negative balances, an empty page — and then pages of random items.
func TestDoneResponseJSON(t *testing.T) {
	tricky := "\"q\" \\b\\ </script> & \x00\x01\x08\x0c\n\r\t\x1f\x7f \u2028\u2029 \xff\xfe ż€😀 end"
	long := strings.Repeat("Długi tytuł 😀 ", 20)
	items := []ledger.Posting{
		{TransferID: "t1", Amount: -1_00, BalanceAfter: 5_00, Currency: "PLN", Kind: "elixir", Title: "Rachunek", Counterparty: outside,
			TradeDate: "2026-11-22", BookingDate: "2026-11-23", BookedAt: bookedAt},
		{TransferID: "t2<&>", Amount: 2_00, BalanceAfter: -7_05, Currency: "EUR", Kind: "internal", Title: long,
			Counterparty: ledger.Party{Name: long, Account: "PL" + outside.Account}, TradeDate: "2026-03-29", BookedAt: bookedAt.AddDate(0, 4, 0)},
		{TransferID: tricky, Amount: -3_00, BalanceAfter: 0, Title: tricky, Counterparty: ledger.Party{Name: tricky, Account: tricky},
			TradeDate: "not a date", BookedAt: time.Time{}},
		{TransferID: "", Amount: money.Amount(-1 << 62), BalanceAfter: money.Amount(1 << 62), Counterparty: ledger.Party{Account: outside.Account}},
		{TransferID: "t5", Amount: 1, BalanceAfter: -1, Currency: "PLN", Title: "   ", Counterparty: ledger.Party{Name: "Jan"},
			TradeDate: "2026-10-25", BookedAt: time.Date(2026, 10, 25, 0, 59, 59, 999_999_999, time.UTC)},
	}
	holders := []ledger.Party{self, {Account: self.Account}, {Name: tricky, Account: self.Account}, {}}
	headers := []ResponseHeader{{RequestID: "r-1", SendDate: "2026-11-23T10:00:00.000Z"}, {SendDate: "x<y"}, {RequestID: tricky, IsCallback: true}}
	pages := []*PageInfo{nil, {NextPage: "next&page"}, {PreviousPage: "p", NextPage: tricky}}
	n := 0
	for _, h := range holders {
		for i, hd := range headers {
			for _, ps := range [][]ledger.Posting{items, nil, items[2:3]} {
				d := doneResponse{Header: hd, Postings: ps, Self: h, PageInfo: pages[i]}
				want := doneByReflection(t, d)
				got := d.AppendJSON([]byte("prefix"))
				if !bytes.Equal(got[len("prefix"):], want) || string(got[:len("prefix")]) != "prefix" {
					t.Fatalf("holder %q, header %q, %d items:\nappended %s\nencoding/json %s", h.Name, hd.RequestID, len(ps), got, want)
				}
				if m, err := json.Marshal(d); err != nil || !bytes.Equal(m, want) {
					t.Fatalf("json.Marshal of the answer (MarshalJSON): %v\n%s\nwant %s", err, m, want)
				}
				n++
			}
		}
	}

	// Random pages: strings drawn from characters that are escaped, that
	// are not, and bytes that are not UTF-8.
	rng := rand.New(rand.NewPCG(12, 12))
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "<", ">", "&", "\n", "\t", "\x00", "\x1b", "\x7f", "ą", "Ż", "€", "😀",
		"\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80", ",", "/", "'"}
	str := func(max int) string {
		var sb strings.Builder
		for range rng.IntN(max + 1) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	days := []string{"2026-01-01", "2026-03-29", "2026-10-25", "2026-12-31", "", "2026-02-30"}
	for range 200 {
		ps := make([]ledger.Posting, rng.IntN(20))
		parties := []ledger.Party{outside, {}, {Name: str(50)}, {Account: str(30)}, {Name: str(80), Account: outside.Account}}
		for i := range ps {
			ps[i] = ledger.Posting{TransferID: str(10), Amount: money.Amount(rng.Int64N(2_000_000) - 1_000_000), BalanceAfter: money.Amount(rng.Int64N(1<<50) - 1<<49),
				Currency: str(3), Kind: str(8), Title: str(200), Counterparty: parties[rng.IntN(len(parties))], TradeDate: days[rng.IntN(len(days))],
				BookedAt: time.UnixMicro(rng.Int64N(2_000_000_000_000_000))}
		}
		d := doneResponse{Header: ResponseHeader{RequestID: str(5), SendDate: str(5)}, Postings: ps, Self: ledger.Party{Name: str(40), Account: str(26)}}
		if rng.IntN(2) == 0 {
			d.PageInfo = &PageInfo{NextPage: str(10)}
		}
		want := doneByReflection(t, d)
		if got := d.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("random page:\nappended      %q\nencoding/json %q", got, want)
		}
		if !json.Valid(want) {
			t.Fatalf("not JSON: %q", want)
		}
		n++
	}
	t.Logf("%d answers compared", n)
}

// TestWriteJSONAppends checks that the gateway's WriteJSON writes an
// appender's bytes to a writer other than the gateway's (whose buffer
// gateway's TestWriteJSONAppender covers).
func TestWriteJSONAppends(t *testing.T) {
	d := doneResponse{Header: ResponseHeader{RequestID: "r", SendDate: "s"}, Postings: []ledger.Posting{{TransferID: "t", Amount: 1, Title: "<&>"}}, Self: self}
	want := doneByReflection(t, d)
	rec := httptest.NewRecorder()
	if err := gateway.WriteJSON(rec, 201, d); err != nil || !bytes.Equal(rec.Body.Bytes(), want) || rec.Code != 201 {
		t.Fatalf("WriteJSON: %v, %d %s, want %s", err, rec.Code, rec.Body.Bytes(), want)
	}
}

// TestPartyJSONBounded checks that the parties' JSON cache gives what
// encoding/json gives for party(p), on a miss and on a hit, that it never
// holds more than maxParties, and that its keys are copies (not the
// caller's strings, which may be cut from a whole page).
func TestPartyJSONBounded(t *testing.T) {
	page := strings.Repeat("Jan Kowalski ", 1000)
	for i := range maxParties + 10 {
		p := ledger.Party{Name: page[:13+i%500], Account: strconv.Itoa(i)}
		want := mustJSON(party(p))
		if got := partyJSON(p); !bytes.Equal(got, want) {
			t.Fatalf("%d: %s, want %s", i, got, want)
		}
		if got := partyJSON(p); !bytes.Equal(got, want) {
			t.Fatalf("%d, hit: %s, want %s", i, got, want)
		}
	}
	parties.RLock()
	defer parties.RUnlock()
	if n := len(parties.json); n > maxParties || n == 0 {
		t.Errorf("%d parties held, at most %d", n, maxParties)
	}
	for p := range parties.json {
		if p.Name != "" && unsafe.StringData(p.Name) == unsafe.StringData(page) {
			t.Fatalf("a key shares the caller's string")
		}
	}
}

// TestAppendDateTime checks the hand-written date-time against DateTime
// (time's AppendFormat) for instants around Poland's clock changes, in
// the years of local mean time and war-time offsets, at the ends of the
// four-digit years and past them, and at random; and the trade day kept
// from item to item against DayTime, the same day, another, and days that
// are not dates.
func TestAppendDateTime(t *testing.T) {
	var ts []time.Time
	for _, y := range []int{2025, 2026} {
		for _, m := range []time.Month{time.March, time.October} {
			for h := -3; h <= 3; h++ {
				last := time.Date(y, m+1, 0, 1, 0, 0, 0, time.UTC)
				for last.Weekday() != time.Sunday {
					last = last.AddDate(0, 0, -1)
				}
				ts = append(ts, last.Add(time.Duration(h)*30*time.Minute), last.Add(time.Duration(h)*30*time.Minute-time.Nanosecond))
			}
		}
	}
	ts = append(ts, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1900, 6, 1, 12, 0, 0, 999_999_999, time.UTC),
		time.Date(1944, 6, 1, 12, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 22, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC), time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		ts = append(ts, time.Unix(rng.Int64N(8_000_000_000)-4_000_000_000, rng.Int64N(1e9)))
	}
	for _, tm := range ts {
		if got, want := string(appendDateTime(nil, tm)), DateTime(tm); got != want {
			t.Errorf("%v: %s, want %s", tm.UTC(), got, want)
		}
	}
	var d tradeDay
	for _, day := range []string{"", "", "2026-03-29", "2026-03-29", "2026-10-25", "x", "x", "2026-02-30", "2026-10-25", "", "1900-01-01"} {
		got := d.dateTime(day)
		if want := DayTime(day); string(got) != want || (got == nil) != (want == "") {
			t.Errorf("day %q: %q, want %q", day, got, want)
		}
	}
}
