package eidas

import (
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
)

// Role is a PSD2 role of a payment service provider (ETSI TS 119 495 §5.1),
// spelled as the roleOfPspName of the QC statement.
type Role string

// The four PSD2 roles.
const (
	// RolePSPAS is an account servicing PSP (a bank). It grants no access
	// to another bank's AIS or PIS API.
	RolePSPAS Role = "PSP_AS"
	// RolePSPPI is a payment initiation service provider (PIS).
	RolePSPPI Role = "PSP_PI"
	// RolePSPAI is an account information service provider (AIS).
	RolePSPAI Role = "PSP_AI"
	// RolePSPIC is a PSP issuing card-based payment instruments
	// (confirmation of funds).
	RolePSPIC Role = "PSP_IC"
)

// allRoles lists the four PSD2 roles in OID order.
var allRoles = [...]Role{RolePSPAS, RolePSPPI, RolePSPAI, RolePSPIC}

// Roles returns the four PSD2 roles in OID order.
func Roles() []Role { return slices.Clone(allRoles[:]) }

var (
	oidRoleUnspecified = asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 0}
	oidRolePSPAS       = asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 1}
	oidRolePSPPI       = asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 2}
	oidRolePSPAI       = asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 3}
	oidRolePSPIC       = asn1.ObjectIdentifier{0, 4, 0, 19495, 1, 4}
)

// OID returns the role's object identifier (0.4.0.19495.1.1 to .4), or nil
// for an unknown role.
func (r Role) OID() asn1.ObjectIdentifier {
	switch r {
	case RolePSPAS:
		return oidRolePSPAS
	case RolePSPPI:
		return oidRolePSPPI
	case RolePSPAI:
		return oidRolePSPAI
	case RolePSPIC:
		return oidRolePSPIC
	}
	return nil
}

// Valid reports whether r is one of the four PSD2 roles.
func (r Role) Valid() bool { return r.OID() != nil }

// String returns the role's name.
func (r Role) String() string { return string(r) }

// RoleForOID returns the role with the given OID.
func RoleForOID(oid asn1.ObjectIdentifier) (Role, bool) {
	for _, r := range allRoles {
		if oid.Equal(r.OID()) {
			return r, true
		}
	}
	return "", false
}

// ParseRole parses a role name such as "PSP_AI". It is case-insensitive and
// accepts the short forms "AI", "PI", "IC" and "AS".
func ParseRole(s string) (Role, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "PSP_") {
		u = "PSP_" + u
	}
	r := Role(u)
	if !r.Valid() {
		return "", fmt.Errorf("unknown PSD2 role %q: want one of PSP_AS, PSP_PI, PSP_AI, PSP_IC", s)
	}
	return r, nil
}

// ParseRoles parses a comma-separated list of roles ("PSP_AI,PSP_PI"),
// dropping duplicates and keeping the order given.
func ParseRoles(s string) ([]Role, error) {
	var roles []Role
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		r, err := ParseRole(f)
		if err != nil {
			return nil, err
		}
		roles = appendRole(roles, r)
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("no PSD2 role given: want one or more of PSP_AS, PSP_PI, PSP_AI, PSP_IC")
	}
	return roles, nil
}

func appendRole(roles []Role, r Role) []Role {
	for _, have := range roles {
		if have == r {
			return roles
		}
	}
	return append(roles, r)
}
