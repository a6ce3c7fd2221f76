package tpp_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

func TestRegisterLookupAndAllows(t *testing.T) {
	g, err := tpp.LoadRegister(filepath.Join("testdata", "eba-register.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 9 {
		t.Errorf("Len = %d, want 9 entities (the header record is not one)", g.Len())
	}
	all := []string{"PSP_AI", "PSP_PI", "PSP_IC", "PSP_AS"}
	tests := []struct {
		name       string
		orgID      string
		found      bool
		authorised bool
		allows     []string // the roles of `all` that are allowed
		wantName   string
	}{
		{"full PI, certificate spelling", "PSDPL-KNF-IP12/2019", true, true, []string{"PSP_AI", "PSP_PI", "PSP_IC"}, "Example Payment Institution sp. z o.o."},
		{"full PI, PFSA alias and no separators", "PSDPL-PFSA-IP122019", true, true, []string{"PSP_AI", "PSP_PI", "PSP_IC"}, ""},
		{"register says PFSA, certificate says KNF", "PSDPL-KNF-0000012345", true, true, []string{"PSP_AI", "PSP_PI"}, "Alias Payments S.A."},
		{"withdrawn licence (two ENT_AUT dates)", "PSDPL-KNF-IP7/2018", true, false, nil, ""},
		{"PIS-only PI (service as a string)", "PSDPL-KNF-IP30/2020", true, true, []string{"PSP_PI"}, ""},
		{"AIS-only AISP", "PSDPL-KNF-AISP5/2021", true, true, []string{"PSP_AI"}, ""},
		{"authorised again (three ENT_AUT dates)", "PSDPL-KNF-IP3/2017", true, true, []string{"PSP_PI"}, ""},
		{"foreign EMI passported for AIS into PL", "PSDLT-BL-LB000123", true, true, []string{"PSP_AI"}, ""},
		{"foreign PI not passported into PL", "PSDFR-ACPR-16598", true, true, nil, ""},
		{"agent without ENT_AUT is not authorised", "PSDPL-KNF-AG0001", true, false, nil, ""},
		{"unknown number", "PSDPL-KNF-0123456789", false, false, nil, ""},
		{"unknown NCA", "PSDPL-XYZ-IP12/2019", false, false, nil, ""},
		{"not an organisation identifier", "IP12/2019", false, false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := g.Lookup(tt.orgID)
			if ok != tt.found {
				t.Fatalf("Lookup(%q) found = %v, want %v", tt.orgID, ok, tt.found)
			}
			if e.Authorised != tt.authorised {
				t.Errorf("Authorised = %v, want %v (dates %v)", e.Authorised, tt.authorised, e.AuthorisationDates)
			}
			if tt.wantName != "" && e.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", e.Name, tt.wantName)
			}
			for _, role := range all {
				want := false
				for _, a := range tt.allows {
					want = want || a == role
				}
				if got := e.Allows(role); got != want {
					t.Errorf("Allows(%s) = %v, want %v (services %v)", role, got, want, e.Services)
				}
			}
		})
	}
}

func TestParseRegisterRejectsNonJSON(t *testing.T) {
	for _, in := range []string{``, `{}`, `not json`, `[[1,`} {
		if _, err := tpp.ParseRegister([]byte(in)); err == nil {
			t.Errorf("ParseRegister(%q) succeeded", in)
		}
	}
	// A flat array of entities is accepted as well.
	g, err := tpp.ParseRegister([]byte(`[{"CA_OwnerID":"PL_KNF","EntityCode":"X","EntityType":"PSD_AISP",
		"Properties":[{"ENT_NAT_REF_COD":"1"},{"ENT_AUT":["2020-01-01"]}],"Services":[{"PL":"PS_080"}]}]`))
	if err != nil || g.Len() != 1 {
		t.Fatalf("flat array: %v, %d entities", err, g.Len())
	}
	if e, ok := g.Lookup("PSDPL-KNF-1"); !ok || !e.Allows("PSP_AI") {
		t.Errorf("flat array entity: %+v, %v", e, ok)
	}
}

func TestSandboxRegisterSeed(t *testing.T) {
	g, err := tpp.ParseRegister(tpp.SandboxRegisterSeed())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		orgID      string
		authorised bool
		ai, pi     bool
	}{
		{tpp.SandboxWithdrawnOrgID, false, false, false},
		{tpp.SandboxPISOnlyOrgID, true, false, true},
		{tpp.SandboxAISOnlyOrgID, true, true, false},
	}
	for _, tt := range tests {
		e, ok := g.Lookup(tt.orgID)
		if !ok {
			t.Fatalf("%s is not in the seed", tt.orgID)
		}
		if e.Authorised != tt.authorised || e.Allows("PSP_AI") != tt.ai || e.Allows("PSP_PI") != tt.pi {
			t.Errorf("%s: authorised %v AI %v PI %v, want %v %v %v", tt.orgID, e.Authorised, e.Allows("PSP_AI"), e.Allows("PSP_PI"),
				tt.authorised, tt.ai, tt.pi)
		}
	}
}

func TestFileRegisterReloadsAfterAddToRegisterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), tpp.SandboxRegisterFile)
	if err := tpp.EnsureRegisterFile(path); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC))
	reg, err := tpp.OpenFileRegister(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	const org = "PSDPL-KNF-0000000042"
	if _, ok := reg.Lookup(org); ok {
		t.Fatal("found before it was added")
	}
	add := tpp.EntryInput{OrgID: org, Name: "Fresh TPP", Roles: []string{"PSP_AI", "PSP_PI", "PSP_IC"},
		AuthorisedOn: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}
	if err := tpp.AddToRegisterFile(path, add); err != nil {
		t.Fatal(err)
	}
	// Within the second after the last check the old version is served...
	if _, ok := reg.Lookup(org); ok {
		t.Error("reloaded before a second had passed")
	}
	// ...and after it, the new one.
	clk.Advance(1100 * time.Millisecond)
	e, ok := reg.Lookup(org)
	if !ok || !e.Allows("PSP_AI") || !e.Allows("PSP_PI") || !e.Allows("PSP_IC") || e.Name != "Fresh TPP" {
		t.Fatalf("after reload: %+v, %v", e, ok)
	}
	if _, ok := reg.Lookup(tpp.SandboxPISOnlyOrgID); !ok {
		t.Error("the seed entities were lost")
	}

	// Updating the same organisation replaces its entity (no duplicate).
	add.Roles = []string{"PSP_AI"}
	add.OrgID = "PSDPL-PFSA-0000000042" // the alias names the same organisation
	if err := tpp.AddToRegisterFile(path, add); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	e, _ = reg.Lookup(org)
	if !e.Allows("PSP_AI") || e.Allows("PSP_PI") {
		t.Errorf("after update: %+v", e)
	}
	if n := reg.Register().Len(); n != 4 {
		t.Errorf("Len = %d, want 4 (3 seed + 1)", n)
	}

	// A broken file keeps the last good version in use.
	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if _, ok := reg.Lookup(org); !ok {
		t.Error("a broken file dropped the last good register")
	}
	if reg.Err() == nil {
		t.Error("Err is nil after a broken file")
	}

	// Concurrent lookups and reloads are safe (run with -race).
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				clk.Advance(300 * time.Millisecond)
				reg.Lookup(org)
				if i == 0 {
					tpp.AddToRegisterFile(path, add)
				}
			}
		}()
	}
	wg.Wait()
}

func TestAddToRegisterFileRefusesBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range []tpp.EntryInput{
		{OrgID: "nope", Name: "X", Roles: []string{"PSP_AI"}, AuthorisedOn: day},
		{OrgID: "PSDPL-KNF-1", Name: "", Roles: []string{"PSP_AI"}, AuthorisedOn: day},
		{OrgID: "PSDPL-KNF-1", Name: "X", Roles: nil, AuthorisedOn: day},
		{OrgID: "PSDPL-KNF-1", Name: "X", Roles: []string{"PSP_AS"}, AuthorisedOn: day},
		{OrgID: "PSDPL-KNF-1", Name: "X", Roles: []string{"PSP_AI"}},
	} {
		if err := tpp.AddToRegisterFile(path, in); err == nil {
			t.Errorf("AddToRegisterFile(%+v) succeeded", in)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a refused entry created the file")
	}
}
