package tppclient

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBookIsPrivate: the book (account data, encrypted tokens) and its key
// are created readable by their owner only, and an existing book is made so.
func TestBookIsPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, key := filepath.Join(dir, "tpp-book.db"), filepath.Join(dir, "tpp-book.key")
	for range 2 {
		b, err := OpenBook(path, key)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		for _, f := range []string{path, key} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
			}
		}
		os.Chmod(path, 0o644) // an old, world-readable book: the next open tightens it
	}
}
