// Package strictjson reads JSON request bodies strictly: one meaning per
// body. encoding/json alone takes the last of two equal keys
// ({"accountNumber":B,"accountNumber":A} is A), matches keys without regard
// to case ("AccountNumber" fills accountNumber), and turns broken UTF-8 and
// lone surrogate escapes into U+FFFD; a signature check, a proxy or another
// parser may read the same bytes differently. Here all of these are refused
// with an error that names where.
//
// Every dialect's decoder uses it: PolishAPI, mBank and Berlin Group. Unknown
// fields are the dialect's choice (Options.DisallowUnknownFields): the
// PolishAPI 2.1.2 and mBank v3 schemas allow additional properties (none
// says additionalProperties: false), so those dialects ignore them.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects.
const MaxDepth = 64

// DefaultMaxBody is the body limit Read uses when given none.
const DefaultMaxBody = 1 << 20

// Error is why a body was refused.
type Error struct {
	// Path is where, as a dotted path with [i] for array elements
	// ("requestHeader.requestId", "accounts[2]"); empty for the whole body.
	Path string
	// Offset is the byte offset in the body.
	Offset int
	// Reason says what is wrong, in English.
	Reason string
	// Kind tells the class of the error.
	Kind Kind
}

// Kind classifies an Error.
type Kind int

const (
	Syntax       Kind = iota // not JSON
	DuplicateKey             // the same key twice in one object (case-insensitively)
	BadUTF8                  // broken UTF-8 or a lone surrogate escape
	TooDeep                  // nested deeper than MaxDepth
	UnknownField             // a field the operation does not know (when disallowed)
	WrongType                // valid JSON, but not the operation's schema
	TooLarge                 // over the size limit
)

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s (at byte %d)", e.Reason, e.Offset)
	}
	return fmt.Sprintf("%s: %s (at byte %d)", e.Path, e.Reason, e.Offset)
}

// ErrTooLarge is returned by Read for a body over its limit.
var ErrTooLarge = errors.New("the body is larger than allowed")

// Read reads at most max bytes of r (DefaultMaxBody when max <= 0); a
// longer body is ErrTooLarge.
func Read(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &Error{Reason: fmt.Sprintf("the body is larger than %d bytes", max), Kind: TooLarge, Offset: int(max)}
	}
	return b, nil
}

// LooksLikeJSON tells whether a body's first non-space byte opens an
// object or an array.
func LooksLikeJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// Options tune Decode.
type Options struct {
	// DisallowUnknownFields refuses object keys that match no field of
	// the target struct.
	DisallowUnknownFields bool
}

// Check validates data: exactly one JSON value, valid UTF-8 throughout, no
// lone surrogate escapes, no key twice in one object (compared as
// encoding/json matches them, case-insensitively), nesting at most MaxDepth.
func Check(data []byte) error {
	c := checker{data: data}
	c.skipSpace()
	if err := c.value(0); err != nil {
		return err
	}
	c.skipSpace()
	if c.pos != len(c.data) {
		return c.fail(Syntax, "data after the end of the JSON value")
	}
	return nil
}

// Decode checks data as Check does, then unmarshals it into v.
func Decode(data []byte, v any, opts Options) error {
	if err := Check(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if opts.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Error{Path: te.Field, Offset: int(te.Offset), Kind: WrongType,
				Reason: fmt.Sprintf("a JSON %s cannot be %s here", te.Value, describeType(te.Type.Kind().String()))}
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ := strconv.Unquote(field)
			if name == "" {
				name = field
			}
			return &Error{Path: name, Offset: int(dec.InputOffset()), Kind: UnknownField,
				Reason: "this field is not part of the operation's schema; remove it"}
		}
		return &Error{Offset: int(dec.InputOffset()), Kind: WrongType, Reason: err.Error()}
	}
	return nil
}

func describeType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

type checker struct {
	data []byte
	pos  int
	path []string
}

func (c *checker) fail(kind Kind, reason string) *Error {
	return &Error{Path: c.pathString(), Offset: c.pos, Reason: reason, Kind: kind}
}

func (c *checker) pathString() string {
	var b strings.Builder
	for _, p := range c.path {
		if strings.HasPrefix(p, "[") || b.Len() == 0 {
			b.WriteString(p)
		} else {
			b.WriteByte('.')
			b.WriteString(p)
		}
	}
	return b.String()
}

func (c *checker) skipSpace() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\r', '\n':
			c.pos++
		default:
			return
		}
	}
}

func (c *checker) value(depth int) error {
	if c.pos >= len(c.data) {
		return c.fail(Syntax, "the body ends where a value was expected")
	}
	switch b := c.data[c.pos]; {
	case b == '{':
		if depth >= MaxDepth {
			return c.fail(TooDeep, fmt.Sprintf("nested deeper than %d levels", MaxDepth))
		}
		return c.object(depth + 1)
	case b == '[':
		if depth >= MaxDepth {
			return c.fail(TooDeep, fmt.Sprintf("nested deeper than %d levels", MaxDepth))
		}
		return c.array(depth + 1)
	case b == '"':
		_, err := c.str()
		return err
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	default:
		if b >= utf8.RuneSelf && !utf8.Valid(c.data[c.pos:min(len(c.data), c.pos+4)]) {
			return c.fail(BadUTF8, "broken UTF-8")
		}
		return c.fail(Syntax, fmt.Sprintf("unexpected %q where a value was expected", c.data[c.pos:c.pos+1]))
	}
}

func (c *checker) literal(word string) error {
	if !bytes.HasPrefix(c.data[c.pos:], []byte(word)) {
		return c.fail(Syntax, "not a JSON value (true, false, null, a number, a string, an object or an array)")
	}
	c.pos += len(word)
	return nil
}

func (c *checker) number() error {
	start := c.pos
	if c.data[c.pos] == '-' {
		c.pos++
	}
	digits := func() int {
		n := 0
		for c.pos < len(c.data) && c.data[c.pos] >= '0' && c.data[c.pos] <= '9' {
			c.pos++
			n++
		}
		return n
	}
	if c.pos < len(c.data) && c.data[c.pos] == '0' {
		c.pos++
	} else if digits() == 0 {
		c.pos = start
		return c.fail(Syntax, "a malformed number")
	}
	if c.pos < len(c.data) && c.data[c.pos] == '.' {
		c.pos++
		if digits() == 0 {
			return c.fail(Syntax, "a malformed number")
		}
	}
	if c.pos < len(c.data) && (c.data[c.pos] == 'e' || c.data[c.pos] == 'E') {
		c.pos++
		if c.pos < len(c.data) && (c.data[c.pos] == '+' || c.data[c.pos] == '-') {
			c.pos++
		}
		if digits() == 0 {
			return c.fail(Syntax, "a malformed number")
		}
	}
	return nil
}

// str reads a string starting at its opening quote and returns its
// decoded value.
func (c *checker) str() (string, error) {
	c.pos++ // "
	var out strings.Builder
	for {
		if c.pos >= len(c.data) {
			return "", c.fail(Syntax, "a string is not closed")
		}
		b := c.data[c.pos]
		switch {
		case b == '"':
			c.pos++
			return out.String(), nil
		case b == '\\':
			r, err := c.escape()
			if err != nil {
				return "", err
			}
			out.WriteRune(r)
		case b < 0x20:
			return "", c.fail(Syntax, "a control character inside a string must be escaped")
		case b < utf8.RuneSelf:
			out.WriteByte(b)
			c.pos++
		default:
			r, size := utf8.DecodeRune(c.data[c.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", c.fail(BadUTF8, "broken UTF-8 inside a string: send the text as UTF-8")
			}
			out.WriteRune(r)
			c.pos += size
		}
	}
}

func (c *checker) escape() (rune, error) {
	if c.pos+1 >= len(c.data) {
		return 0, c.fail(Syntax, "a string is not closed")
	}
	e := c.data[c.pos+1]
	c.pos += 2
	switch e {
	case '"', '\\', '/':
		return rune(e), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := c.hex4()
		if !ok {
			return 0, c.fail(Syntax, `a \u escape needs four hex digits`)
		}
		if r < 0xD800 || r > 0xDFFF {
			return r, nil
		}
		if r >= 0xDC00 {
			return 0, c.fail(BadUTF8, "a lone low surrogate escape (not a character)")
		}
		if c.pos+1 < len(c.data) && c.data[c.pos] == '\\' && c.data[c.pos+1] == 'u' {
			save := c.pos
			c.pos += 2
			lo, ok := c.hex4()
			if ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, nil
			}
			c.pos = save
		}
		return 0, c.fail(BadUTF8, "a lone high surrogate escape (not a character)")
	default:
		c.pos -= 2
		return 0, c.fail(Syntax, fmt.Sprintf(`%q is not a JSON escape`, "\\"+string(e)))
	}
}

func (c *checker) hex4() (rune, bool) {
	if c.pos+4 > len(c.data) {
		return 0, false
	}
	var r rune
	for _, h := range c.data[c.pos : c.pos+4] {
		r <<= 4
		switch {
		case h >= '0' && h <= '9':
			r |= rune(h - '0')
		case h >= 'a' && h <= 'f':
			r |= rune(h-'a') + 10
		case h >= 'A' && h <= 'F':
			r |= rune(h-'A') + 10
		default:
			return 0, false
		}
	}
	c.pos += 4
	return r, true
}

func (c *checker) object(depth int) error {
	c.pos++ // {
	c.skipSpace()
	if c.pos < len(c.data) && c.data[c.pos] == '}' {
		c.pos++
		return nil
	}
	seen := map[string]string{}
	for {
		c.skipSpace()
		if c.pos >= len(c.data) || c.data[c.pos] != '"' {
			return c.fail(Syntax, "an object key (a string) was expected")
		}
		keyAt := c.pos
		key, err := c.str()
		if err != nil {
			return err
		}
		folded := fold(key)
		if first, dup := seen[folded]; dup {
			c.path = append(c.path, key)
			c.pos = keyAt
			if first == key {
				return c.fail(DuplicateKey, "this key appears twice in one object: send it once")
			}
			return c.fail(DuplicateKey, fmt.Sprintf("this key and %q are the same key (keys are matched regardless of case): send it once", first))
		}
		seen[folded] = key
		c.skipSpace()
		if c.pos >= len(c.data) || c.data[c.pos] != ':' {
			return c.fail(Syntax, "a colon was expected after an object key")
		}
		c.pos++
		c.skipSpace()
		c.path = append(c.path, key)
		if err := c.value(depth); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		c.skipSpace()
		if c.pos >= len(c.data) {
			return c.fail(Syntax, "an object is not closed")
		}
		switch c.data[c.pos] {
		case ',':
			c.pos++
		case '}':
			c.pos++
			return nil
		default:
			return c.fail(Syntax, "a comma or a closing brace was expected")
		}
	}
}

func (c *checker) array(depth int) error {
	c.pos++ // [
	c.skipSpace()
	if c.pos < len(c.data) && c.data[c.pos] == ']' {
		c.pos++
		return nil
	}
	for i := 0; ; i++ {
		c.skipSpace()
		c.path = append(c.path, "["+strconv.Itoa(i)+"]")
		if err := c.value(depth); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		c.skipSpace()
		if c.pos >= len(c.data) {
			return c.fail(Syntax, "an array is not closed")
		}
		switch c.data[c.pos] {
		case ',':
			c.pos++
		case ']':
			c.pos++
			return nil
		default:
			return c.fail(Syntax, "a comma or a closing bracket was expected")
		}
	}
}

// fold maps a key to the form under which encoding/json considers two
// keys the same field: Unicode simple case folding, each rune to the
// smallest rune of its folding orbit (so K, k and the Kelvin sign agree).
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}
