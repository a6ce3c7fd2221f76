package sandbox

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/psd2bank/psd2bank/internal/server"
)

// A second node on other ports does not take endpoints.json from a
// running first node; once the first is gone, it does.
func TestEndpointsNotTakenFromARunningNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep1 := server.Endpoints{API: "https://127.0.0.1:1", Web: "http://" + first.Addr().String()}
	ep2 := server.Endpoints{API: "https://127.0.0.1:2", Web: "http://127.0.0.1:3"}
	read := func() server.Endpoints {
		var e server.Endpoints
		raw, _ := os.ReadFile(filepath.Join(dir, endpointsFile))
		json.Unmarshal(raw, &e)
		return e
	}
	writeEndpoints(dir, ep1, log)
	if got := writeEndpoints(dir, ep2, log); filepath.Base(got) == endpointsFile {
		t.Fatalf("the second node wrote %s over a running node's", got)
	}
	if read() != ep1 {
		t.Fatalf("endpoints.json = %+v, want the first node's", read())
	}
	first.Close()
	writeEndpoints(dir, ep2, log)
	if read() != ep2 {
		t.Fatalf("a gone node's endpoints.json was kept: %+v", read())
	}
}
