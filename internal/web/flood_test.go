package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestLoginFloodMemory measures (it asserts nothing about time or memory)
// the memory of this process under 200 concurrent log-in posts, each to
// another customer so that every one needs a password hash. It runs only
// with PSD2BANK_LOGIN_FLOOD=N, N the hash limit (sca.SetHashLimit; 1000
// is as good as no limit, the code before issue 14). See BENCHMARKS.md.
func TestLoginFloodMemory(t *testing.T) {
	limit, _ := strconv.Atoi(os.Getenv("PSD2BANK_LOGIN_FLOOD"))
	if limit == 0 {
		t.Skip("a measurement: set PSD2BANK_LOGIN_FLOOD to the hash limit (e.g. 4, or 1000 for none)")
	}
	old := sca.Hashes()
	sca.SetHashLimit(limit, 2*time.Second)
	t.Cleanup(func() { sca.SetHashLimit(old.Size(), sca.DefaultHashWait) })
	db := storetest.SQLite(t)
	nodes := lockoutNodes(t, db)
	const n = 200
	l := ledger.New(db, clock.NewFixed(testNow))
	for i := range n {
		if _, err := l.CreateCustomer(context.Background(), ledger.Customer{Segment: ledger.Retail, Name: "c",
			Login: fmt.Sprintf("flood%03d", i), PasswordHash: customerHash()}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	base := vmHWM(t)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() { // samples the Go runtime's memory while the flood runs
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.Sys > peak.Load() {
				peak.Store(m.Sys)
			}
		}
	}()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, _, err := rawPost(nodes[0].URL, "/authorize/R1/login",
				url.Values{"login": {fmt.Sprintf("flood%03d", i)}, "password": {"wrong"}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			}
			got[status]++
		}()
	}
	wg.Wait()
	close(stop)
	took := time.Since(start)
	t.Logf("hash limit %d: answers %v in %s; peak RSS %d MiB (before the flood %d MiB); Go runtime Sys peak %d MiB; hashes at once peak %d",
		limit, got, took.Round(time.Millisecond), vmHWM(t)>>20, base>>20, peak.Load()>>20, sca.Hashes().Peak())
	if got[http.StatusUnauthorized]+got[http.StatusServiceUnavailable] != n {
		t.Errorf("answers %v", got)
	}
}

// vmHWM is the process's peak resident memory (Linux), in bytes.
func vmHWM(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
