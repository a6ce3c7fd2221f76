package tpp_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
)

// signUp opens a developer account and application for org.
func (f fixture) signUp(t *testing.T, org, email string) (tpp.Developer, tpp.Application) {
	t.Helper()
	d, a, err := f.reg.SignUp(f.ctx, tpp.SignUp{OrgID: org, Name: "Example PI sp. z o.o.", Email: email, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return d, a
}

// complete uploads every piece an application needs.
func (f fixture) complete(t *testing.T, appID, actor string, qwac, qseal []byte) {
	t.Helper()
	for _, kind := range []string{tpp.DocRegisterExtract, tpp.DocLicence} {
		if _, err := f.reg.AddDocument(f.ctx, appID, actor, tpp.DocumentInput{Kind: kind, Filename: kind + ".pdf", Content: tpptest.PDF}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][]byte{qwac, qseal} {
		if _, err := f.reg.AddCertificate(f.ctx, appID, actor, c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignUpAndLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, a := f.signUp(t, "PSDPL-KNF-IP12/2019", "Dev@Example.pl")
		if a.Status != tpp.AppDraft || a.Environment != tpp.EnvProduction || d.Email != "dev@example.pl" || d.ApplicationID != a.ID {
			t.Errorf("signed up %+v %+v", d, a)
		}
		if _, err := f.reg.AuthenticateDeveloper(f.ctx, "dev@example.pl", "correct horse battery"); err != nil {
			t.Error(err)
		}
		_, err := f.reg.AuthenticateDeveloper(f.ctx, "dev@example.pl", "wrong")
		wantCode(t, err, tpp.CodeUnauthenticated)
		_, err = f.reg.AuthenticateDeveloper(f.ctx, "nobody@example.pl", "wrong")
		wantCode(t, err, tpp.CodeUnauthenticated)

		for name, s := range map[string]tpp.SignUp{
			"taken email":    {OrgID: "PSDPL-KNF-1", Name: "X", Email: "DEV@example.pl", Password: "0123456789"},
			"short password": {OrgID: "PSDPL-KNF-1", Name: "X", Email: "a@example.pl", Password: "short"},
			"bad email":      {OrgID: "PSDPL-KNF-1", Name: "X", Email: "not an email", Password: "0123456789"},
			"bad org id":     {OrgID: "KNF 1", Name: "X", Email: "b@example.pl", Password: "0123456789"},
			"no name":        {OrgID: "PSDPL-KNF-1", Name: " ", Email: "c@example.pl", Password: "0123456789"},
		} {
			if _, _, err := f.reg.SignUp(f.ctx, s); err == nil {
				t.Errorf("%s: signed up", name)
			}
		}
	})
}

func TestDocumentChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, a := f.signUp(t, "PSDPL-KNF-IP12/2019", "dev@example.pl")
		png := []byte("\x89PNG\r\n\x1a\n rest")
		d, err := f.reg.AddDocument(f.ctx, a.ID, "dev@example.pl", tpp.DocumentInput{Kind: tpp.DocLicence, Filename: `C:\scans\licence.png`, Content: png})
		if err != nil {
			t.Fatal(err)
		}
		if d.ContentType != "image/png" || d.Filename != "licence.png" {
			t.Errorf("document = %+v", d)
		}
		got, content, err := f.reg.DocumentContent(f.ctx, a.ID, d.ID)
		if err != nil || !bytes.Equal(content, png) || got.Kind != tpp.DocLicence {
			t.Errorf("DocumentContent = %+v, %q, %v", got, content, err)
		}
		_, _, err = f.reg.DocumentContent(f.ctx, "another-application", d.ID)
		wantCode(t, err, tpp.CodeNotFound)

		tests := []struct {
			name string
			in   tpp.DocumentInput
			code tpp.Code
			text string
		}{
			{"too large", tpp.DocumentInput{Kind: tpp.DocLicence, Filename: "big.pdf", Content: append([]byte("%PDF-"), make([]byte, tpp.MaxDocumentSize)...)}, tpp.CodeTooLarge, "5 MiB"},
			{"not a PDF", tpp.DocumentInput{Kind: tpp.DocLicence, Filename: "licence.pdf", Content: []byte("MZ\x90\x00 an executable")}, tpp.CodeUnsupportedType, "PDF, PNG or JPEG"},
			{"empty", tpp.DocumentInput{Kind: tpp.DocLicence, Filename: "e.pdf"}, tpp.CodeInvalid, "empty"},
			{"unknown kind", tpp.DocumentInput{Kind: "selfie", Filename: "a.pdf", Content: tpptest.PDF}, tpp.CodeInvalid, "kind"},
		}
		for _, tt := range tests {
			_, err := f.reg.AddDocument(f.ctx, a.ID, "dev@example.pl", tt.in)
			if tpp.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("%s: %v (code %q), want code %q and %q", tt.name, err, tpp.CodeOf(err), tt.code, tt.text)
			}
		}

		// A certificate of another organisation is refused.
		ca := tpptest.NewCA(t, testNow)
		other := ca.Issue(t, "PSDPL-KNF-0123456789", "Other", eidas.KindQWAC, eidas.RolePSPAI)
		_, err = f.reg.AddCertificate(f.ctx, a.ID, "dev@example.pl", other)
		wantCode(t, err, tpp.CodeCertificate)
		_, err = f.reg.AddCertificate(f.ctx, a.ID, "dev@example.pl", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		wantCode(t, err, tpp.CodeCertificate)
		// A new QWAC replaces the old one (the PFSA alias is the same organisation).
		for range 2 {
			if _, err := f.reg.AddCertificate(f.ctx, a.ID, "dev@example.pl", ca.Issue(t, "PSDPL-PFSA-IP12/2019", "Example", eidas.KindQWAC, eidas.RolePSPAI)); err != nil {
				t.Fatal(err)
			}
		}
		certs, err := f.reg.Certificates(f.ctx, a.ID)
		if err != nil || len(certs) != 1 || certs[0].Kind != tpp.KindQWAC || certs[0].Sandbox || !certs[0].Qualified ||
			!slices.Equal(certs[0].Roles, []string{"PSP_AI"}) {
			t.Errorf("certificates = %+v, %v", certs, err)
		}
	})
}

func TestSubmitNamesEachMissingPiece(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const org = "PSDPL-KNF-IP12/2019"
		ca := tpptest.NewCA(t, testNow)
		qwac, qseal := ca.Pair(t, org, "Example PI", allRoles...)
		pdf := func(kind string) func(tpp.Application) error {
			return func(a tpp.Application) error {
				_, err := f.reg.AddDocument(f.ctx, a.ID, "dev", tpp.DocumentInput{Kind: kind, Filename: "x.pdf", Content: tpptest.PDF})
				return err
			}
		}
		cert := func(pem []byte) func(tpp.Application) error {
			return func(a tpp.Application) error {
				_, err := f.reg.AddCertificate(f.ctx, a.ID, "dev", pem)
				return err
			}
		}
		pieces := map[string]func(tpp.Application) error{
			"a register extract":   pdf(tpp.DocRegisterExtract),
			"a licence":            pdf(tpp.DocLicence),
			"a QWAC certificate":   cert(qwac),
			"a QSealC certificate": cert(qseal),
			"a power of attorney":  pdf(tpp.DocPowerOfAttorney),
		}
		i := 0
		for missing := range pieces {
			i++
			_, a := f.signUp(t, org, "dev"+string(rune('a'+i))+"@example.pl")
			for name, add := range pieces {
				if name != missing {
					if err := add(a); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := f.reg.Submit(f.ctx, a.ID, "dev", tpp.Submission{PowerOfAttorney: true})
			wantCode(t, err, tpp.CodeIncomplete)
			if !strings.Contains(err.Error(), missing) {
				t.Errorf("without %s: %q does not name it", missing, err)
			}
			if pl := err.(*tpp.Error).In("pl"); !strings.HasPrefix(pl, "Wniosku nie można") {
				t.Errorf("Polish message = %q", pl)
			}
		}
		// Without the power-of-attorney checkbox, no power of attorney is needed.
		_, a := f.signUp(t, org, "nopoa@example.pl")
		f.complete(t, a.ID, "nopoa@example.pl", qwac, qseal)
		a, err := f.reg.Submit(f.ctx, a.ID, "nopoa@example.pl", tpp.Submission{RedirectURIs: []string{"https://tpp.example.pl/cb", ""}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != tpp.AppSubmitted || a.SubmittedAt.IsZero() || !slices.Equal(a.RedirectURIs, []string{"https://tpp.example.pl/cb"}) {
			t.Errorf("submitted = %+v", a)
		}
		// A submitted application no longer changes.
		_, err = f.reg.AddDocument(f.ctx, a.ID, "nopoa@example.pl", tpp.DocumentInput{Kind: tpp.DocOther, Filename: "x.pdf", Content: tpptest.PDF})
		wantCode(t, err, tpp.CodeWrongState)
		_, err = f.reg.Submit(f.ctx, a.ID, "nopoa@example.pl", tpp.Submission{})
		wantCode(t, err, tpp.CodeWrongState)
		// An empty application names all four pieces at once.
		_, empty := f.signUp(t, org, "empty@example.pl")
		_, err = f.reg.Submit(f.ctx, empty.ID, "empty@example.pl", tpp.Submission{})
		if want := "it lacks a register extract, a licence, a QWAC certificate and a QSealC certificate."; !strings.Contains(err.Error(), want) {
			t.Errorf("empty application: %q, want %q", err, want)
		}
	})
}

func TestReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ca := tpptest.NewCA(t, testNow)
		n := 0
		submitted := func(org string, qwac, qseal []byte) tpp.Application {
			t.Helper()
			n++
			email := "dev" + string(rune('a'+n)) + "@example.pl"
			_, a := f.signUp(t, org, email)
			f.complete(t, a.ID, email, qwac, qseal)
			a, err := f.reg.Submit(f.ctx, a.ID, email, tpp.Submission{RedirectURIs: []string{"https://tpp.example.pl/cb"}})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		// Rejection needs a reason; the applicant may then submit again.
		const org = "PSDPL-KNF-IP12/2019"
		q, s := ca.Pair(t, org, "Example PI", allRoles...)
		a := submitted(org, q, s)
		_, err := f.reg.Reject(f.ctx, a.ID, "anna", "  ")
		wantCode(t, err, tpp.CodeInvalid)
		a, err = f.reg.Reject(f.ctx, a.ID, "anna", "The licence scan is unreadable.")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != tpp.AppRejected || a.Reason != "The licence scan is unreadable." || a.ReviewedBy != "anna" || a.ReviewedAt.IsZero() {
			t.Errorf("rejected = %+v", a)
		}
		_, _, err = f.reg.Approve(f.ctx, a.ID, "anna")
		wantCode(t, err, tpp.CodeWrongState)
		if _, err := f.reg.AddDocument(f.ctx, a.ID, "deva@example.pl", tpp.DocumentInput{Kind: tpp.DocLicence, Filename: "licence2.pdf", Content: tpptest.PDF}); err != nil {
			t.Fatal(err)
		}
		resubmit := tpp.Submission{RedirectURIs: []string{"https://tpp.example.pl/cb"}}
		if a, err = f.reg.Submit(f.ctx, a.ID, "deva@example.pl", resubmit); err != nil || a.Reason != "" {
			t.Fatalf("resubmitted: %+v, %v", a, err)
		}

		// Approval is refused, naming the condition, for...
		sq, ss := tpptest.SandboxPair(t, testNow, org, "Example PI", allRoles...)
		uq, us := ca.Pair(t, "PSDPL-KNF-0123456789", "Unknown", allRoles...)
		wq, ws := ca.Pair(t, "PSDPL-KNF-IP7/2018", "Withdrawn", allRoles...)
		pq, ps := ca.Pair(t, "PSDPL-KNF-IP30/2020", "PIS only", allRoles...)
		refusals := []struct {
			name string
			app  tpp.Application
			want string
		}{
			{"sandbox certificates", submitted(org, sq, ss), "the QWAC is a sandbox certificate"},
			{"an organisation not in the register", submitted("PSDPL-KNF-0123456789", uq, us), "is not in the register"},
			{"a withdrawn licence", submitted("PSDPL-KNF-IP7/2018", wq, ws), "as withdrawn"},
			{"a role the register does not license", submitted("PSDPL-KNF-IP30/2020", pq, ps), "for PSP_AI (service PS_080)"},
		}
		for _, tt := range refusals {
			_, _, err := f.reg.Approve(f.ctx, tt.app.ID, "anna")
			wantCode(t, err, tpp.CodeNotLicensed)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %q does not say %q", tt.name, err, tt.want)
			}
			if got, _ := f.reg.Application(f.ctx, tt.app.ID); got.Status != tpp.AppSubmitted {
				t.Errorf("%s: status %s after a refused approval", tt.name, got.Status)
			}
		}
		if _, err := f.reg.TPP(f.ctx, "PSDPL-KNF-0123456789"); tpp.CodeOf(err) != tpp.CodeNotFound {
			t.Errorf("a refused approval created a TPP: %v", err)
		}

		// Approval works for qualified certificates of a licensed organisation.
		a, c, err := f.reg.Approve(f.ctx, a.ID, "anna")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != tpp.AppApproved || a.ClientID == "" || a.ClientID != c.ClientID || !c.AllowsRedirect("https://tpp.example.pl/cb") {
			t.Errorf("approved %+v, client %+v", a, c)
		}
		got, err := f.reg.TPP(f.ctx, org)
		if err != nil || got.Environment != tpp.EnvProduction || !got.Active() {
			t.Errorf("TPP = %+v, %v", got, err)
		}
		if _, err := f.reg.CertificateByThumbprint(f.ctx, org, eidas.Fingerprint(tpptest.Parse(t, s))); err != nil {
			t.Errorf("the approved QSealC is not registered: %v", err)
		}

		// A suspended TPP's next application is refused until it is reinstated.
		if err := f.reg.Suspend(f.ctx, org, "investigation", "anna"); err != nil {
			t.Fatal(err)
		}
		next := submitted(org, q, s)
		_, _, err = f.reg.Approve(f.ctx, next.ID, "anna")
		if tpp.CodeOf(err) != tpp.CodeNotLicensed || !strings.Contains(err.Error(), "is suspended") {
			t.Errorf("approval for a suspended TPP: %v", err)
		}

		// Every step is in the audit.
		audit, err := f.reg.Audit(f.ctx, a.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range audit {
			actions = append(actions, e.Action)
		}
		for _, want := range []string{tpp.ActionApplicationCreate, tpp.ActionDocumentAdd, tpp.ActionCertificateAdd,
			tpp.ActionApplicationSubmit, tpp.ActionApplicationReject, tpp.ActionApplicationApprove} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit of the application %v lacks %s", actions, want)
			}
		}
		all, err := f.reg.Audit(f.ctx, "", 0)
		if err != nil || len(all) < len(audit) {
			t.Errorf("Audit all = %d entries, %v", len(all), err)
		}
	})
}

func TestEnsureStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if err := f.reg.EnsureStaff(f.ctx, "anna", "first password", tpp.RoleBackoffice); err != nil {
			t.Fatal(err)
		}
		if err := f.reg.EnsureStaff(f.ctx, "anna", "second password", tpp.RoleBackoffice); err != nil {
			t.Fatal(err)
		}
		if _, err := f.reg.AuthenticateStaff(f.ctx, "anna", "first password"); tpp.CodeOf(err) != tpp.CodeUnauthenticated {
			t.Errorf("old password: %v", err)
		}
		s, err := f.reg.AuthenticateStaff(f.ctx, "anna", "second password")
		if err != nil || s.Role != tpp.RoleBackoffice {
			t.Errorf("AuthenticateStaff = %+v, %v", s, err)
		}
		_, err = f.reg.AuthenticateStaff(f.ctx, "nobody", "x")
		wantCode(t, err, tpp.CodeUnauthenticated)
	})
}
