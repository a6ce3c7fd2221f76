package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		kind       Kind
		path       string
	}{
		{"duplicate key", `{"accountNumber":"B","accountNumber":"A"}`, DuplicateKey, "accountNumber"},
		{"duplicate key differing in case", `{"accountNumber":"B","AccountNumber":"A"}`, DuplicateKey, "AccountNumber"},
		{"duplicate via Kelvin sign", `{"k":1,"\u212a":2}`, DuplicateKey, "\u212a"},
		{"duplicate via escape", `{"a":1,"\u0061":2}`, DuplicateKey, "a"},
		{"nested duplicate", `{"requestHeader":{"requestId":"1","requestId":"2"}}`, DuplicateKey, "requestHeader.requestId"},
		{"duplicate in array element", `{"items":[{"x":1},{"x":1,"x":2}]}`, DuplicateKey, "items[1].x"},
		{"broken UTF-8 in a string", "{\"title\":\"a\xffb\"}", BadUTF8, "title"},
		{"overlong UTF-8", "{\"title\":\"\xc0\xaf\"}", BadUTF8, "title"},
		{"UTF-8 surrogate bytes", "{\"title\":\"\xed\xa0\x80\"}", BadUTF8, "title"},
		{"broken UTF-8 in a key", "{\"a\xff\":1}", BadUTF8, ""},
		{"lone high surrogate", `{"t":"\ud800"}`, BadUTF8, "t"},
		{"lone low surrogate", `{"t":"\udc00x"}`, BadUTF8, "t"},
		{"high surrogate then non-surrogate", `{"t":"\ud800\u0041"}`, BadUTF8, "t"},
		{"trailing data", `{"a":1}{"a":2}`, Syntax, ""},
		{"trailing comma", `{"a":1,}`, Syntax, ""},
		{"unclosed", `{"a":1`, Syntax, ""},
		{"control char", "{\"a\":\"x\ny\"}", Syntax, "a"},
		{"bad number", `{"a":01}`, Syntax, ""},
		{"empty", ``, Syntax, ""},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), TooDeep, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Check(%q) = %v, want a refusal", tc.body, err)
			}
			if e.Kind != tc.kind {
				t.Errorf("kind = %d, want %d (%v)", e.Kind, tc.kind, e)
			}
			if tc.path != "" && e.Path != tc.path {
				t.Errorf("path = %q, want %q (%v)", e.Path, tc.path, e)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{}`, `[]`, ` {"a":[1,-2.5e3,true,false,null,"x"],"b":{"c":"ząb \ud83d\ude00 \"q\" \\ \/"}} `,
		`{"a":1,"b":{"a":2}}`, // the same key in different objects
		`"just a string"`, `0`, `-0.1E+2`,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
		"{\"title\":\"Zażółć gęślą jaźń €\"}",
	} {
		if err := Check([]byte(body)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", body, err)
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("test case %q is not JSON", body)
		}
	}
}

func TestDecodeUnknownFields(t *testing.T) {
	t.Parallel()
	var v struct {
		Amount string `json:"amount"`
	}
	if err := Decode([]byte(`{"amount":"1.00","extra":1}`), &v, Options{}); err != nil || v.Amount != "1.00" {
		t.Fatalf("tolerant decode = %v, %+v", err, v)
	}
	err := Decode([]byte(`{"amount":"1.00","extra":1}`), &v, Options{DisallowUnknownFields: true})
	var e *Error
	if !errors.As(err, &e) || e.Kind != UnknownField || e.Path != "extra" {
		t.Fatalf("strict decode = %#v, want UnknownField at extra", err)
	}
	err = Decode([]byte(`{"amount":1}`), &v, Options{})
	if !errors.As(err, &e) || e.Kind != WrongType || e.Path != "amount" {
		t.Fatalf("wrong type = %#v, want WrongType at amount", err)
	}
	err = Decode([]byte(`{"amount":"1","amount":"2"}`), &v, Options{})
	if !errors.As(err, &e) || e.Kind != DuplicateKey {
		t.Fatalf("duplicate = %#v", err)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	if b, err := Read(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	_, err := Read(strings.NewReader("123456"), 5)
	var e *Error
	if !errors.As(err, &e) || e.Kind != TooLarge {
		t.Fatalf("over the limit: %v", err)
	}
}

// FuzzCheck: whatever Check accepts, encoding/json accepts and reads the
// same way; whatever encoding/json accepts as valid UTF-8 without
// duplicate keys, Check accepts.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"A":2}`, `[1,"\ud800"]`, "\"\xff\"", `{"x":{"y":[null]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data)
		if err == nil && !json.Valid(data) {
			t.Fatalf("Check accepted invalid JSON %q", data)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of another type: %v", err)
			}
			if e.Kind == Syntax && json.Valid(data) {
				t.Fatalf("Check called valid JSON %q a syntax error: %v", data, err)
			}
		}
	})
}
