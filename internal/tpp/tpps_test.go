package tpp_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
)

var testNow = time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC)

var allRoles = []eidas.Role{eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC}

// fixture is a registry on a fresh database with the test register.
type fixture struct {
	reg *tpp.Registry
	clk *clock.Fixed
	ctx context.Context
}

func newFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	g, err := tpp.LoadRegister(filepath.Join("testdata", "eba-register.json"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(testNow)
	return fixture{reg: tpp.New(db, clk, g), clk: clk, ctx: context.Background()}
}

func wantCode(t *testing.T, err error, code tpp.Code) {
	t.Helper()
	if tpp.CodeOf(err) != code {
		t.Fatalf("error %v (code %q), want code %q", err, tpp.CodeOf(err), code)
	}
}

func TestRegisterSandbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const org = "PSDPL-KNF-0000000001"
		qwac, qseal := tpptest.SandboxPair(t, testNow, org, "Demo TPP", allRoles...)
		reg := tpp.SandboxRegistration{OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal,
			RedirectURIs: []string{"http://localhost:8081/callback"}, ClientID: "demo-client"}
		c, err := f.reg.RegisterSandbox(f.ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientID != "demo-client" || c.TPPID != org || !c.AllowsRedirect("http://localhost:8081/callback") || c.AllowsRedirect("http://localhost:8081/") {
			t.Errorf("client = %+v", c)
		}
		got, err := f.reg.TPP(f.ctx, "PSDPL-PFSA-0000000001") // an alias finds it
		if err != nil {
			t.Fatal(err)
		}
		if got.Environment != tpp.EnvSandbox || !got.Active() || got.Name != "Demo TPP" {
			t.Errorf("TPP = %+v", got)
		}

		// Idempotent: the same fixed client is returned, not a second one.
		again, err := f.reg.RegisterSandbox(f.ctx, reg)
		if err != nil || again.ClientID != "demo-client" {
			t.Fatalf("again: %+v, %v", again, err)
		}
		// Without a fixed client_id a new client is added.
		reg.ClientID = ""
		other, err := f.reg.RegisterSandbox(f.ctx, reg)
		if err != nil || other.ClientID == "demo-client" || other.ClientID == "" {
			t.Fatalf("new client: %+v, %v", other, err)
		}
		clients, err := f.reg.ClientsOf(f.ctx, org)
		if err != nil || len(clients) != 2 {
			t.Fatalf("ClientsOf = %v, %v; want 2", clients, err)
		}
		if c, err := f.reg.Client(f.ctx, other.ClientID); err != nil || c.TPPID != org {
			t.Errorf("Client(%s) = %+v, %v", other.ClientID, c, err)
		}
		certs, err := f.reg.CertificatesOf(f.ctx, org)
		if err != nil || len(certs) != 2 {
			t.Fatalf("CertificatesOf = %v, %v; want the QWAC and the QSealC once", certs, err)
		}

		// Refusals.
		ca := tpptest.NewCA(t, testNow)
		pq, ps := ca.Pair(t, org, "Demo TPP", allRoles...)
		_, otherSeal := tpptest.SandboxPair(t, testNow, "PSDPL-KNF-0000000002", "Other", allRoles...)
		for name, bad := range map[string]tpp.SandboxRegistration{
			"production certificates": {OrgID: org, Name: "Demo TPP", QWACPEM: pq, QSealCPEM: ps},
			"swapped kinds":           {OrgID: org, Name: "Demo TPP", QWACPEM: qseal, QSealCPEM: qwac},
			"another organisation":    {OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: otherSeal},
			"not PEM":                 {OrgID: org, Name: "Demo TPP", QWACPEM: []byte("hello"), QSealCPEM: qseal},
			"bad org id":              {OrgID: "KNF-1", Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal},
			"http redirect":           {OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal, RedirectURIs: []string{"http://tpp.example/cb"}},
		} {
			if _, err := f.reg.RegisterSandbox(f.ctx, bad); err == nil {
				t.Errorf("%s: registered", name)
			}
		}
	})
}

func TestCertificateByThumbprint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const org = "PSDPL-KNF-0000000001"
		qwac, qseal := tpptest.SandboxPair(t, testNow, org, "Demo TPP", allRoles...)
		if _, err := f.reg.RegisterSandbox(f.ctx, tpp.SandboxRegistration{OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal}); err != nil {
			t.Fatal(err)
		}
		seal := tpptest.Parse(t, qseal)
		x5t := eidas.Fingerprint(seal)
		got, err := f.reg.CertificateByThumbprint(f.ctx, org, x5t)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(seal) {
			t.Error("CertificateByThumbprint returned another certificate")
		}
		_, err = f.reg.CertificateByThumbprint(f.ctx, org, "AAAA")
		wantCode(t, err, tpp.CodeNotFound)
		_, err = f.reg.CertificateByThumbprint(f.ctx, "PSDPL-KNF-0000000009", x5t)
		wantCode(t, err, tpp.CodeNotFound)
	})
}

func TestRegisterDynamic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ca := tpptest.NewCA(t, testNow)
		const org = "PSDPL-KNF-IP12/2019" // authorised for everything in testdata
		q, s := ca.Pair(t, org, "Example PI", allRoles...)
		c, err := f.reg.RegisterDynamic(f.ctx, tpp.DynamicRegistration{QWAC: tpptest.Parse(t, q), QSealC: tpptest.Parse(t, s),
			ClientName: "My application", ContactEmail: "dev@example.pl", RedirectURIs: []string{"https://tpp.example.pl/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientID == "" || c.Name != "My application" || c.TPPID != org {
			t.Errorf("client = %+v", c)
		}
		got, err := f.reg.TPP(f.ctx, org)
		if err != nil || got.Environment != tpp.EnvProduction {
			t.Errorf("TPP = %+v, %v", got, err)
		}

		// Not in the register, withdrawn: refused.
		for _, o := range []string{"PSDPL-KNF-0123456789", "PSDPL-KNF-IP7/2018"} {
			q, s := ca.Pair(t, o, "X", allRoles...)
			_, err := f.reg.RegisterDynamic(f.ctx, tpp.DynamicRegistration{QWAC: tpptest.Parse(t, q), QSealC: tpptest.Parse(t, s)})
			wantCode(t, err, tpp.CodeNotLicensed)
		}
		// A suspended TPP cannot register more clients.
		if err := f.reg.Suspend(f.ctx, org, "fraud investigation", "anna"); err != nil {
			t.Fatal(err)
		}
		_, err = f.reg.RegisterDynamic(f.ctx, tpp.DynamicRegistration{QWAC: tpptest.Parse(t, q), QSealC: tpptest.Parse(t, s)})
		wantCode(t, err, tpp.CodeSuspended)
	})
}

func TestSuspendReinstate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const org = "PSDPL-KNF-0000000001"
		qwac, qseal := tpptest.SandboxPair(t, testNow, org, "Demo TPP", allRoles...)
		if _, err := f.reg.RegisterSandbox(f.ctx, tpp.SandboxRegistration{OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.reg.Suspend(f.ctx, org, "  ", "anna"), tpp.CodeInvalid)
		wantCode(t, f.reg.Suspend(f.ctx, "PSDPL-KNF-0000000009", "x", "anna"), tpp.CodeNotFound)
		wantCode(t, f.reg.Reinstate(f.ctx, org, "anna"), tpp.CodeWrongState)

		f.clk.Advance(time.Minute)
		if err := f.reg.Suspend(f.ctx, org, "licence under review", "anna"); err != nil {
			t.Fatal(err)
		}
		got, _ := f.reg.TPP(f.ctx, org)
		if got.Active() || got.Status != tpp.StatusSuspended || got.SuspendedReason != "licence under review" {
			t.Errorf("after suspend: %+v", got)
		}
		// Sandbox registration again does not lift the suspension.
		if _, err := f.reg.RegisterSandbox(f.ctx, tpp.SandboxRegistration{OrgID: org, Name: "Demo TPP", QWACPEM: qwac, QSealCPEM: qseal}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.reg.TPP(f.ctx, org); got.Active() {
			t.Error("sandbox registration reinstated a suspended TPP")
		}
		f.clk.Advance(time.Minute)
		if err := f.reg.Reinstate(f.ctx, org, "bartek"); err != nil {
			t.Fatal(err)
		}
		got, _ = f.reg.TPP(f.ctx, org)
		if !got.Active() || got.SuspendedReason != "" {
			t.Errorf("after reinstate: %+v", got)
		}

		audit, err := f.reg.Audit(f.ctx, org, 0)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Actor+" "+a.Action)
		}
		for _, want := range []string{"bartek " + tpp.ActionTPPReinstate, "anna " + tpp.ActionTPPSuspend, "sandbox " + tpp.ActionSandboxRegister} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit %v lacks %q", actions, want)
			}
		}
		if audit[0].Action != tpp.ActionTPPReinstate || audit[0].Actor != "bartek" {
			t.Errorf("newest audit entry = %+v", audit[0])
		}
		for _, a := range audit {
			if a.Action == tpp.ActionTPPSuspend && a.Detail != "licence under review" {
				t.Errorf("suspend audit detail = %q", a.Detail)
			}
		}
	})
}
