package sandbox

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/psd2bank/psd2bank/internal/server"
)

// writeEndpoints records where this node listens. endpoints.json names the
// sandbox other commands talk to: a second node sharing the data directory
// (and the database) on other ports does not take it over while the node
// it names still answers; it writes endpoints-<pid>.json instead, and says
// so. A file left by a node that is gone is replaced.
func writeEndpoints(dir string, ep server.Endpoints, log *slog.Logger) string {
	data, err := json.Marshal(ep)
	if err != nil {
		return ""
	}
	path := filepath.Join(dir, endpointsFile)
	if raw, err := os.ReadFile(path); err == nil {
		var old server.Endpoints
		if json.Unmarshal(raw, &old) == nil && old.Web != ep.Web && answers(old.Web) {
			path = filepath.Join(dir, fmt.Sprintf("endpoints-%d.json", os.Getpid()))
			log.Info("another sandbox node listed in endpoints.json is running: this node's addresses go to "+filepath.Base(path),
				"other_web", old.Web, "web", ep.Web)
		}
	}
	if err := writeFile(path, append(data, '\n'), 0o644); err != nil {
		log.Warn("could not record the endpoints", "file", path, "err", err)
	}
	return path
}

// answers tells whether something accepts connections at a listener's URL.
func answers(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	c, err := net.DialTimeout("tcp", u.Host, 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
