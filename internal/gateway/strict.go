package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// strictBody refuses a JSON body that has more than one meaning: a key
// twice in one object, broken UTF-8, a lone surrogate escape (see
// strictjson). It runs for every dialect before any handler reads the body,
// so no decoder, signature check or audit sees an ambiguous body.
func strictBody(r *http.Request, body []byte) *Refusal {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if !strictjson.LooksLikeJSON(body) && !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "json") {
		return nil
	}
	err := strictjson.Check(body)
	if err == nil {
		return nil
	}
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return refuse(http.StatusBadRequest, CodeFormatError, "the request body is not valid JSON", "treść żądania nie jest poprawnym JSON-em", err)
	}
	where, gdzie := "", ""
	if e.Path != "" {
		where, gdzie = " (field "+e.Path+")", " (pole "+e.Path+")"
	}
	switch e.Kind {
	case strictjson.DuplicateKey:
		return refuse(http.StatusBadRequest, CodeFormatError,
			"the request body has the same key twice in one object"+where+": send each field once",
			"treść żądania zawiera ten sam klucz dwa razy w jednym obiekcie"+gdzie+": wyślij każde pole raz", e)
	case strictjson.BadUTF8:
		return refuse(http.StatusBadRequest, CodeFormatError,
			"the request body is not valid UTF-8"+where+": encode the text as UTF-8",
			"treść żądania nie jest poprawnym UTF-8"+gdzie+": zakoduj tekst w UTF-8", e)
	default:
		return refuse(http.StatusBadRequest, CodeFormatError,
			"the request body is not valid JSON"+where+": "+e.Reason,
			"treść żądania nie jest poprawnym JSON-em"+gdzie+": "+e.Reason, e)
	}
}
