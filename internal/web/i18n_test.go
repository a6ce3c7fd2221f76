package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestTranslationsComplete checks that both languages have the same keys
// and that every key a template names literally exists.
func TestTranslationsComplete(t *testing.T) {
	for key := range messages["en"] {
		if _, ok := messages["pl"][key]; !ok {
			t.Errorf("%q has no Polish text", key)
		}
	}
	for key := range messages["pl"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("%q has no English text", key)
		}
	}
	literal := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(templateFS, n)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages["en"][m[1]]; !ok {
				t.Errorf("%s uses the unknown key %q", n, m[1])
			}
		}
	}
	// Keys built from values: statuses, document kinds, filters.
	for _, prefix := range [][]string{
		{"status.", "draft", "submitted", "approved", "rejected", "active", "suspended"},
		{"kind.", "register_extract", "licence", "power_of_attorney", "other"},
		{"filter.", "submitted", "approved", "rejected", "draft", "all"},
	} {
		for _, v := range prefix[1:] {
			if _, ok := messages["en"][prefix[0]+v]; !ok {
				t.Errorf("missing key %s%s", prefix[0], v)
			}
		}
	}
	for _, key := range notices {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("notice key %q is unknown", key)
		}
	}
}
