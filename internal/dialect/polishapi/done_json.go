package polishapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// doneResponse is the answer of getTransactionsDone before it is mapped:
// AppendJSON writes the bytes that encoding/json writes for
// TransactionsDoneInfoResponse{h, DoneItems(Postings, Self), PageInfo},
// without building the items and without reflection. A page is 100 items
// and about 80 kB; the per-item mapping and reflection were a fifth of the
// request's CPU and a third of its allocations. What the items share — the
// holder's side, the status, the counterparties — is encoded by
// encoding/json itself, once (partyJSON); what differs per item is
// appended here. TestDoneResponseJSON compares both byte for byte.
type doneResponse struct {
	Header   ResponseHeader
	Postings []ledger.Posting
	Self     ledger.Party
	PageInfo *PageInfo
	// Items, when not nil, is the answer's beginning up to the end of the
	// items' array, encoded before from the same Postings and Self
	// (appendItems): written as it is.
	Items *jws.Prefix
}

// MarshalJSON is AppendJSON, for a writer other than the gateway's.
func (d doneResponse) MarshalJSON() ([]byte, error) { return d.AppendJSON(nil), nil }

// JSONSizeHint is a little more than an answer's usual size: about 820
// bytes an item (gateway.JSONAppender).
func (d doneResponse) JSONSizeHint() int { return 512 + 1024*len(d.Postings) }

// AppendJSON appends the answer's JSON to b (gateway.JSONAppender).
func (d doneResponse) AppendJSON(b []byte) []byte {
	if d.Items != nil {
		b = append(b, d.Items.Bytes()...)
	} else {
		b = d.appendItems(b)
	}
	if d.PageInfo != nil {
		b = append(b, `,"pageInfo":`...)
		b = append(b, mustJSON(d.PageInfo)...)
	}
	b = append(b, `,"responseHeader":{`...)
	if d.Header.RequestID != "" {
		b = append(b, `"requestId":`...)
		b = appendJSONString(b, d.Header.RequestID)
		b = append(b, ',')
	}
	b = append(b, `"sendDate":`...)
	b = appendJSONString(b, d.Header.SendDate)
	b = append(b, `,"isCallback":`...)
	b = strconv.AppendBool(b, d.Header.IsCallback)
	return append(b, '}', '}')
}

// appendItems appends the answer up to the end of its items' array: what
// depends on the postings and the holder alone.
func (d doneResponse) appendItems(b []byte) []byte {
	b = append(b, `{"transactions":[`...)
	self := partyJSON(d.Self)
	var initiator []byte // the holder, on debits
	if d.Self.Name != "" {
		initiator = mustJSON(NameAddressOf(d.Self.Name, ""))
	}
	var day tradeDay
	for i, p := range d.Postings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDone(b, p, self, bookedStatusJSON, initiator, partyJSON(p.Counterparty), &day)
	}
	return append(b, ']')
}

// appendDone appends one booked item as done maps it and encoding/json
// writes TransactionInfo: the fields in the struct's order, the empty
// omitempty ones left out. self, status, initiator and counterparty are
// the JSON of their values ("null" for a nil pointer: left out).
func appendDone(b []byte, p ledger.Posting, self, status, initiator, counterparty []byte, day *tradeDay) []byte {
	b = append(b, `{"itemId":`...)
	b = appendJSONString(b, p.TransferID)
	b = append(b, `,"amount":"`...)
	b = abs(p.Amount).Append(b)
	b = append(b, '"')
	if p.Currency != "" {
		b = append(b, `,"currency":`...)
		b = appendJSONString(b, p.Currency)
	}
	if title := truncate(p.Title, 140); title != "" {
		b = append(b, `,"description":`...)
		b = appendJSONString(b, title)
	}
	if p.Kind != "" {
		b = append(b, `,"transactionType":`...)
		b = appendJSONString(b, p.Kind)
	}
	if dt := day.dateTime(p.TradeDate); dt != nil {
		b = append(b, `,"tradeDate":"`...)
		b = append(b, dt...)
		b = append(b, '"')
	}
	sender, recipient := counterparty, self
	b = append(b, `,"transactionCategory":`...)
	if p.Amount < 0 {
		b = append(b, `"`+Debit+`"`...)
		sender, recipient = self, counterparty
	} else {
		b = append(b, `"`+Credit+`"`...)
	}
	b = append(b, `,"transactionStatus":`...)
	b = append(b, status...)
	if initiator != nil && p.Amount < 0 {
		b = append(b, `,"initiator":`...)
		b = append(b, initiator...)
	}
	if string(sender) != "null" {
		b = append(b, `,"sender":`...)
		b = append(b, sender...)
	}
	if string(recipient) != "null" {
		b = append(b, `,"recipient":`...)
		b = append(b, recipient...)
	}
	if !p.BookedAt.IsZero() {
		b = append(b, `,"bookingDate":"`...)
		b = appendDateTime(b, p.BookedAt)
		b = append(b, '"')
	}
	b = append(b, `,"postTransactionBalance":"`...)
	b = p.BalanceAfter.Append(b)
	return append(b, `"}`...)
}

// tradeDay is DayTime of the last trade date met: the items of a page,
// newest first, mostly share their day with the item before.
type tradeDay struct {
	day     string
	set, ok bool
	buf     [40]byte
	n       int
}

// dateTime is DayTime(day) as bytes, nil when DayTime gives "".
func (d *tradeDay) dateTime(day string) []byte {
	if !d.set || day != d.day {
		d.day, d.set, d.ok = day, true, false
		if t, err := time.ParseInLocation(time.DateOnly, day, polish.Warsaw); err == nil {
			d.ok, d.n = true, len(appendDateTime(d.buf[:0], t))
		}
	}
	if !d.ok {
		return nil
	}
	return d.buf[:d.n]
}

// appendDateTime appends DateTime(t) of a non-zero t: the moment in Polish
// time as "2006-01-02T15:04:05.000Z07:00", written without parsing the
// layout for each item (AppendFormat, for years it would write otherwise).
func appendDateTime(b []byte, t time.Time) []byte {
	t = t.In(polish.Warsaw)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, min, sec := t.Clock()
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = two(b, int(month))
	b = append(b, '-')
	b = two(b, day)
	b = append(b, 'T')
	b = two(b, hour)
	b = append(b, ':')
	b = two(b, min)
	b = append(b, ':')
	b = two(b, sec)
	ms := t.Nanosecond() / 1e6
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	_, offset := t.Zone()
	if offset == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	b = append(b, sign)
	b = two(b, offset/3600)
	b = append(b, ':')
	return two(b, offset/60%60)
}

var bookedStatusJSON = mustJSON(bookedStatus())

// parties holds the JSON of the parties of recent pages: party(p) depends
// on nothing but p (the bank directory is compiled in), and a page often
// shows the same counterparties as the pages before it — mapping and
// encoding them was a third of the page's encoding.
var parties struct {
	sync.RWMutex
	json map[ledger.Party][]byte
}

// maxParties bounds parties; when it is full it starts again empty.
const maxParties = 4096

// partyJSON is the JSON of party(p) ("null" when it is nil).
func partyJSON(p ledger.Party) []byte {
	parties.RLock()
	data, ok := parties.json[p]
	parties.RUnlock()
	if ok {
		return data
	}
	data = mustJSON(party(p))
	// The key's strings are cut from a whole page read from the database:
	// copied, so that the cache does not keep pages alive.
	p = ledger.Party{Name: strings.Clone(p.Name), Account: strings.Clone(p.Account)}
	parties.Lock()
	if parties.json == nil || len(parties.json) >= maxParties {
		parties.json = make(map[ledger.Party][]byte, 256)
	}
	parties.json[p] = data
	parties.Unlock()
	return data
}

// mustJSON is encoding/json's encoding of a value that always encodes.
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// appendJSONString appends s as encoding/json writes a string (with its
// default HTML escaping): quoted; '"' and '\' escaped; control characters
// as \b, \f, \n, \r, \t or \u00XX; '<', '>' and '&' as \u003c, \u003e,
// \u0026; U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid
// UTF-8 as \ufffd. (Not jws.appendJSString, which escapes as JavaScript's
// JSON.stringify does for mBank's signed message: '<', '>', '&', U+2028
// and U+2029 left as they are, invalid UTF-8 as a raw U+FFFD. The answers'
// bytes must stay those encoding/json wrote: TestDoneResponseJSON.)
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

var _ gateway.JSONAppender = doneResponse{}
