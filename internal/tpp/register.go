package tpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/psd2bank/psd2bank/internal/eidas"
)

// The register of payment institutions is read in the shape of the EBA
// central PSD2 register's JSON download (the "golden copy"): an array of
// arrays of entities (a bare array of entities is accepted too), each
//
//	{
//	  "CA_OwnerID": "PL_KNF",                      // country _ NCA
//	  "EntityCode": "PSD_PI!PL_KNF!IP12/2019",
//	  "EntityType": "PSD_PI",                      // PSD_AISP, PSD_EMI, PSD_AG, ...
//	  "Properties": [
//	    {"ENT_NAT_REF_COD": "IP12/2019"},          // the national authorisation number
//	    {"ENT_NAM": "Example PI sp. z o.o."},      // or [native, latin]
//	    {"ENT_COU_RES": "PL"},
//	    {"ENT_AUT": ["2019-09-14"]}                // authorised, withdrawn, authorised, ...
//	  ],
//	  "Services": [{"PL": ["PS_070", "PS_080"]}, {"CZ": "PS_080"}],
//	  "__EBA_EntityVersion": "..."
//	}
//
// An entity is matched to a certificate's organizationIdentifier
// "PSD<CC>-<NCA>-<number>" by the country and NCA of CA_OwnerID (aliases
// folded: KNF and PFSA are the same Polish NCA) and by ENT_NAT_REF_COD, both
// compared in eidas's normalized form. ENT_AUT lists dates at which the
// entity was alternately authorised and withdrawn: an odd number of dates
// means it is authorised now.

// HostCountry is the country whose services the bank requires in the
// register: the bank serves Polish accounts.
const HostCountry = "PL"

// Service codes of the register (PSD2 Annex I).
const (
	ServiceIssuing = "PS_05A" // issuing of payment instruments (card-based: PSP_IC)
	ServicePIS     = "PS_070" // payment initiation services (PSP_PI)
	ServiceAIS     = "PS_080" // account information services (PSP_AI)
)

// RoleService maps each PSD2 certificate role that the bank's API serves to
// the register service that licenses it.
var RoleService = map[string]string{
	string(eidas.RolePSPAI): ServiceAIS,
	string(eidas.RolePSPPI): ServicePIS,
	string(eidas.RolePSPIC): ServiceIssuing,
}

// Entry is what the register says about one organisation.
type Entry struct {
	// OrgID is the organizationIdentifier the entity stands for, built from
	// the register ("PSDPL-KNF-IP12/2019").
	OrgID      string
	EntityCode string
	EntityType string
	Name       string
	Country    string // ENT_COU_RES
	// AuthorisationDates are the ENT_AUT dates, oldest first.
	AuthorisationDates []string
	// Authorised is true when the number of ENT_AUT dates is odd.
	Authorised bool
	// Services are the service codes by country ("PL": ["PS_070"]).
	Services map[string][]string
}

// Allows reports whether the entity is currently authorised and licensed in
// Poland for the service that the PSD2 role needs (PSP_AI: PS_080, PSP_PI:
// PS_070, PSP_IC: PS_05A). Other roles are never allowed.
func (e Entry) Allows(role string) bool {
	svc, ok := RoleService[role]
	if !ok || !e.Authorised {
		return false
	}
	return slices.Contains(e.Services[HostCountry], svc)
}

// Register is a parsed register of payment institutions. It is immutable
// and safe for concurrent use.
type Register struct {
	byID map[string][]Entry // normalized orgID -> entries
	n    int
}

// Len is the number of entities in the register.
func (g *Register) Len() int {
	if g == nil {
		return 0
	}
	return g.n
}

// Lookup finds the entity of a certificate's organizationIdentifier. When the
// register holds several entities for it (an old, withdrawn authorisation
// and a new one), the authorised one wins.
func (g *Register) Lookup(orgID string) (Entry, bool) {
	if g == nil {
		return Entry{}, false
	}
	o, err := eidas.ParseOrganizationID(strings.TrimSpace(orgID))
	if err != nil {
		return Entry{}, false
	}
	es := g.byID[o.Normalized()]
	if len(es) == 0 {
		return Entry{}, false
	}
	for _, e := range es {
		if e.Authorised {
			return e, true
		}
	}
	return es[0], true
}

// Entries returns every entity, ordered by organisation identifier.
func (g *Register) Entries() []Entry {
	var out []Entry
	for _, es := range g.byID {
		out = append(out, es...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OrgID < out[j].OrgID })
	return out
}

// LoadRegister reads a register file in the EBA JSON shape.
func LoadRegister(path string) (*Register, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read register: %w", err)
	}
	g, err := ParseRegister(b)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", path, err)
	}
	return g, nil
}

// ebaEntity is one entity of the EBA JSON.
type ebaEntity struct {
	CAOwnerID  string                       `json:"CA_OwnerID"`
	EntityCode string                       `json:"EntityCode"`
	EntityType string                       `json:"EntityType"`
	Properties []map[string]json.RawMessage `json:"Properties"`
	Services   []map[string]json.RawMessage `json:"Services"`
}

// ParseRegister parses a register in the EBA JSON shape. Objects that are
// not entities (no CA_OwnerID or EntityCode, such as header records) are
// skipped, as are entities whose CA_OwnerID or national reference is
// missing or malformed.
func ParseRegister(b []byte) (*Register, error) {
	raws, err := entityObjects(b)
	if err != nil {
		return nil, err
	}
	g := &Register{byID: map[string][]Entry{}}
	for _, raw := range raws {
		var ent ebaEntity
		if err := json.Unmarshal(raw, &ent); err != nil {
			continue // not an entity object
		}
		e, key, ok := ent.entry()
		if !ok {
			continue
		}
		g.byID[key] = append(g.byID[key], e)
		g.n++
	}
	return g, nil
}

// entityObjects returns the raw JSON objects of the file: the elements of
// the inner arrays of an array of arrays, or of a flat array.
func entityObjects(b []byte) ([]json.RawMessage, error) {
	var top []json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("not an EBA register JSON (an array of arrays of entities): %w", err)
	}
	var out []json.RawMessage
	for _, el := range top {
		el = bytes.TrimSpace(el)
		if len(el) > 0 && el[0] == '[' {
			var inner []json.RawMessage
			if err := json.Unmarshal(el, &inner); err != nil {
				return nil, fmt.Errorf("not an EBA register JSON: %w", err)
			}
			out = append(out, inner...)
			continue
		}
		out = append(out, el)
	}
	return out, nil
}

// entry converts an EBA entity; key is its normalized organisation id.
func (ent ebaEntity) entry() (Entry, string, bool) {
	country, nca, ok := strings.Cut(ent.CAOwnerID, "_")
	if !ok || ent.EntityCode == "" {
		return Entry{}, "", false
	}
	nca = strings.ToUpper(strings.ReplaceAll(nca, "-", "")) // "FIN-FSA" is "FINFSA" in certificates
	e := Entry{EntityCode: ent.EntityCode, EntityType: ent.EntityType, Services: map[string][]string{}}
	var ref string
	for _, p := range ent.Properties {
		for k, v := range p {
			switch k {
			case "ENT_NAT_REF_COD":
				ref = firstString(v)
			case "ENT_NAM":
				names := stringList(v)
				if len(names) > 0 {
					e.Name = names[len(names)-1] // [native, latin]: the latin form
				}
			case "ENT_COU_RES":
				e.Country = firstString(v)
			case "ENT_AUT":
				e.AuthorisationDates = stringList(v)
			}
		}
	}
	if ref == "" {
		return Entry{}, "", false
	}
	o, err := eidas.ParseOrganizationID("PSD" + strings.ToUpper(country) + "-" + nca + "-" + ref)
	if err != nil {
		return Entry{}, "", false
	}
	e.OrgID = o.String()
	e.Authorised = len(e.AuthorisationDates)%2 == 1
	for _, s := range ent.Services {
		for c, v := range s {
			e.Services[c] = append(e.Services[c], stringList(v)...)
		}
	}
	return e, o.Normalized(), true
}

// stringList reads a JSON string or array of strings.
func stringList(v json.RawMessage) []string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}
	}
	var l []string
	if json.Unmarshal(v, &l) == nil {
		return l
	}
	return nil
}

func firstString(v json.RawMessage) string {
	if l := stringList(v); len(l) > 0 {
		return strings.TrimSpace(l[0])
	}
	return ""
}
