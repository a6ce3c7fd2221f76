package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
)

// bodies are the response buffers of finished requests, reused: an AIS
// page is about 80 kB, which every request would otherwise allocate and
// grow anew.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody bounds the buffers kept for reuse.
const maxPooledBody = 1 << 20

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: http.Header{}, body: bodies.Get().(*bytes.Buffer)}
}

// release gives the body's buffer back once the response is sent.
func (b *bufferedWriter) release() {
	if b.body != nil && b.body.Cap() <= maxPooledBody {
		b.body.Reset()
		bodies.Put(b.body)
	}
	b.body = nil
}

// JSONAppender is a value that appends its own JSON, without reflection:
// a large answer that is hot (a page of items) implements it, and
// WriteJSON appends it straight into the gateway's buffer. Its bytes must
// be those json.Marshal gives for what it stands for.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
	// JSONSizeHint is about how many bytes AppendJSON appends, so that the
	// buffer grows once to hold them (and not by doubling, then copied).
	JSONSizeHint() int
}

// writeJSON is WriteJSON into the gateway's buffer: encoded straight into
// it, the same bytes json.Marshal gives (without the encoder's newline).
func (b *bufferedWriter) writeJSON(status int, v any) error {
	if a, ok := v.(JSONAppender); ok {
		// Appended into the buffer's free space, grown once beforehand:
		// no copy when it fits.
		b.body.Grow(a.JSONSizeHint())
		b.body.Write(a.AppendJSON(b.body.AvailableBuffer()))
	} else {
		start := b.body.Len()
		if err := json.NewEncoder(b.body).Encode(v); err != nil {
			b.body.Truncate(start)
			return err
		}
		b.body.Truncate(b.body.Len() - 1)
	}
	b.header.Set("Content-Type", "application/json; charset=utf-8")
	if b.status == 0 {
		b.status = status
	}
	return nil
}
