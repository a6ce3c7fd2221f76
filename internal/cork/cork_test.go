package cork

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countingConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// A sealed page over real TLS: corked, its records reach the socket in one
// write, and the client reads exactly the bytes written; the next answer,
// not corked, is written record by record as before.
func TestCorkedAnswerInOneWrite(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80 kB: five TLS records and more
	var conns sync.Map                                     // remote address → *countingConn
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counted, _ := conns.Load(r.RemoteAddr)
		before := counted.(*countingConn).count()
		if r.URL.Path == "/corked" {
			uncork := Cork(r.Context())
			defer func() {
				uncork()
				if n := counted.(*countingConn).count() - before; n != 1 {
					t.Errorf("a corked answer of %d bytes took %d writes, want 1", len(body), n)
				}
			}()
		}
		w.Header().Set("Content-Length", "80000")
		w.Write(body)
		http.NewResponseController(w).Flush()
	}))
	srv.Config.ConnContext = ConnContext
	srv.Listener = countingListener{srv.Listener, &conns}
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	for _, path := range []string{"/corked", "/plain", "/corked"} {
		res, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: read %d bytes (%v), want the %d written", path, len(got), err, len(body))
		}
	}
}

type countingListener struct {
	net.Listener
	conns *sync.Map
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c}
	l.conns.Store(c.RemoteAddr().String(), cc)
	return Wrap(cc), nil
}

// Writes while corked are held, in order, and go out together; past
// maxHeld they go out at once; without a Conn under the request Cork does
// nothing.
func TestCorkHoldsInOrder(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cc := &countingConn{Conn: a}
	c := Wrap(cc)
	ctx := ConnContext(context.Background(), c)
	got := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 64<<10)
		for len(all) < 3+maxHeld+1 {
			n, err := b.Read(buf)
			if err != nil {
				break
			}
			all = append(all, buf[:n]...)
		}
		got <- all
	}()
	uncork := Cork(ctx)
	c.Write([]byte("a"))
	c.Write([]byte("bc"))
	if cc.count() != 0 {
		t.Fatal("a corked write reached the connection")
	}
	uncork()
	if cc.count() != 1 {
		t.Fatalf("uncorking wrote %d times, want 1", cc.count())
	}
	uncork = Cork(ctx)
	big := bytes.Repeat([]byte{'x'}, maxHeld)
	c.Write(big) // reaches maxHeld: written at once
	if cc.count() != 2 {
		t.Fatalf("holding %d bytes: %d writes, want 2", maxHeld, cc.count())
	}
	c.Write([]byte("y"))
	uncork()
	if all := <-got; string(all[:3]) != "abc" || !bytes.Equal(all[3:3+maxHeld], big) || string(all[3+maxHeld:]) != "y" {
		t.Fatalf("the peer read %d bytes, not abc, %d x and y", len(all), maxHeld)
	}
	if err := Cork(context.Background())(); err != nil {
		t.Fatal(err)
	}
}

// Over HTTP/2 the frames of many answers share one connection and are
// written by the server's own goroutine, not the handler's: corked or not,
// every answer arrives whole, and none is held back.
func TestCorkOverHTTP2(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 5000)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uncork := Cork(r.Context())
		defer uncork()
		w.Write(body)
		http.NewResponseController(w).Flush()
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnContext = ConnContext
	srv.Listener = Listener{srv.Listener}
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			res, err := client.Get(srv.URL + "/")
			if err != nil {
				t.Error(err)
				return
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || !bytes.Equal(got, body) || res.ProtoMajor != 2 {
				t.Errorf("answer %d: %d bytes over HTTP/%d (%v), want %d over HTTP/2", i, len(got), res.ProtoMajor, err, len(body))
			}
		})
	}
	wg.Wait()
}
