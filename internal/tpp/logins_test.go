package tpp_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// TestStaffHashMigrated: a staff password hashed with other argon2id
// parameters than customers' (an older bank's) still logs in, and the log-in
// replaces the hash with one of today's parameters.
func TestStaffHashMigrated(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if err := f.reg.EnsureStaff(f.ctx, "ewa", "staff password", tpp.RoleBackoffice); err != nil {
			t.Fatal(err)
		}
		salt := make([]byte, 16)
		rand.Read(salt)
		enc := base64.RawStdEncoding
		old := fmt.Sprintf("argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", 8*1024, 1, 1, enc.EncodeToString(salt),
			enc.EncodeToString(argon2.IDKey([]byte("staff password"), salt, 1, 8*1024, 1, 32)))
		if sca.Current(old) {
			t.Fatal("the old hash reads as current")
		}
		if _, err := db.ExecContext(f.ctx, `UPDATE staff SET password_hash = $1 WHERE login = 'ewa'`, old); err != nil {
			t.Fatal(err)
		}
		if _, err := f.reg.AuthenticateStaff(f.ctx, "ewa", "staff password"); err != nil {
			t.Fatalf("log-in with the old hash: %v", err)
		}
		var now string
		if err := db.QueryRowContext(f.ctx, `SELECT password_hash FROM staff WHERE login = 'ewa'`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		if now == old || !sca.Current(now) {
			t.Fatalf("hash after the log-in: %q", now)
		}
		if _, err := f.reg.AuthenticateStaff(f.ctx, "ewa", "staff password"); err != nil {
			t.Fatalf("log-in with the new hash: %v", err)
		}
	})
}
