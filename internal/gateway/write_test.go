package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
)

type appended struct{ Text string }

func (a appended) JSONSizeHint() int { return 100 }

func (a appended) AppendJSON(b []byte) []byte {
	data, _ := json.Marshal(struct{ Text string }{a.Text})
	return append(b, data...)
}

// TestWriteJSONAppender checks that the gateway's buffer receives a
// JSONAppender's bytes after what it holds already, small and larger than
// the buffer's free space, and that the status and content type are set.
func TestWriteJSONAppender(t *testing.T) {
	for _, text := range []string{"short", string(bytes.Repeat([]byte("x"), 100_000))} {
		w := newBufferedWriter()
		w.body.WriteString("head")
		if err := WriteJSON(w, 202, appended{text}); err != nil {
			t.Fatal(err)
		}
		want := `head{"Text":"` + text + `"}`
		if w.body.String() != want || w.status != 202 || w.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%d bytes of text: body %.40q (%d bytes), status %d, %q", len(text), w.body.String(), w.body.Len(), w.status, w.header.Get("Content-Type"))
		}
		w.release()
	}
}
