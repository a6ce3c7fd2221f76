package bank_test

import (
	"context"
	"testing"

	"github.com/psd2bank/psd2bank/internal/bank"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// The directory keeps a TPP's registration only once a read found it
// active, and answers it without reading, with the key the statements
// find it by; a TPP read while suspended, or never read, is not kept.
func TestDirectoryKeepsActiveTPPs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, row := range []struct{ id, status string }{{"PSDPL-KNF-0000000001", "active"}, {"PSDPL-KNF-0000000002", "suspended"}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO tpps (id, norm_id, name, environment, status, suspended_reason, created_at, updated_at)
				VALUES ($1, $2, 'T', 'sandbox', $3, '', 0, 0)`, row.id, tpp.LookupKey(row.id), row.status); err != nil {
				t.Fatal(err)
			}
		}
		d := bank.Directory{R: tpp.New(db, clock.System{}, nil), Kept: new(live.Kept[gateway.TPPStatus])}
		for _, id := range []string{"PSDPL-KNF-0000000001", "PSDPL-KNF-0000000002", "PSDPL-KNF-0000000003"} {
			if _, _, ok := d.CachedTPPStatus(id); ok {
				t.Fatalf("%s kept before any read", id)
			}
			if _, err := d.TPPStatus(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		st, norm, ok := d.CachedTPPStatus("PSDPL-KNF-0000000001")
		if !ok || st != (gateway.TPPStatus{Known: true, Active: true, Environment: "sandbox"}) || norm != tpp.LookupKey("PSDPL-KNF-0000000001") {
			t.Fatalf("the active TPP: %+v %q %v", st, norm, ok)
		}
		for _, id := range []string{"PSDPL-KNF-0000000002", "PSDPL-KNF-0000000003"} {
			if _, _, ok := d.CachedTPPStatus(id); ok {
				t.Errorf("%s kept (suspended, or unknown)", id)
			}
		}
	})
}
