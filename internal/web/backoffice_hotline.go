package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// This file serves the hotline consultant's pages in the back office: find
// the customer, check the caller's identity by PESEL (three wrong tries in a
// row end the check), record who acts for the firm, then activate or block
// API access to chosen accounts; and the audit of access, limits and
// consents.

func (s *Server) hotlineRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /backoffice/hotline", s.staff(s.boHotline))
	mux.HandleFunc("GET /backoffice/hotline/customers/{id}", s.staff(s.boHotlineCustomer))
	mux.HandleFunc("POST /backoffice/hotline/customers/{id}/checks", s.staff(s.boHotlineStart))
	mux.HandleFunc("GET /backoffice/hotline/checks/{check}", s.staff(s.boHotlineCheck))
	mux.HandleFunc("POST /backoffice/hotline/checks/{check}/pesel", s.staff(s.boHotlinePESEL))
	mux.HandleFunc("POST /backoffice/hotline/checks/{check}/representative", s.staff(s.boHotlineRepresentative))
	mux.HandleFunc("POST /backoffice/hotline/checks/{check}/access", s.staff(s.boHotlineAccess))
	mux.HandleFunc("GET /backoffice/access-audit", s.staff(s.boAccessAudit))
}

// hotlineSearch is the data of the search page.
type hotlineSearch struct {
	Query     string
	Customers []ledger.Customer
	Searched  bool
}

// GET /backoffice/hotline?q=...
func (s *Server) boHotline(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	q := r.URL.Query().Get("q")
	found, err := s.access.FindCustomers(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_hotline", "bo.hotline")
	v.D = hotlineSearch{Query: q, Customers: found, Searched: q != ""}
	s.render(w, http.StatusOK, v)
}

// hotlineCustomer is the data of a customer's page, with the identity
// check of the call when there is one.
type hotlineCustomer struct {
	Customer ledger.Customer
	Accounts []hotlineAccount
	Check    *access.Verification
	Verified bool // the check passed and, for a firm, names who acts
	Audit    []access.AuditEntry
}

type hotlineAccount struct {
	access.AccountStatus
	Number            string
	History           []access.Change
	OneOff, Recurring ibLimitView // as internet banking shows them ("" is no limit)
}

// renderHotlineCustomer shows a customer (and the call's check, when
// checkID is not empty), with errText as the page's error.
func (s *Server) renderHotlineCustomer(w http.ResponseWriter, r *http.Request, st tpp.Staff, customerID, checkID string, status int, errText string) {
	ctx := r.Context()
	p := hotlineCustomer{}
	if checkID != "" {
		c, err := s.access.Verification(ctx, checkID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Check, customerID = &c, c.CustomerID
	}
	c, err := s.access.Customer(ctx, customerID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Customer = c
	if p.Check != nil {
		p.Verified = p.Check.Status == access.VerificationVerified && !p.Check.Expired(s.sessions.clock.Now()) &&
			(c.Segment == ledger.Retail || p.Check.Representative != "")
	}
	list, err := s.access.Accounts(ctx, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range list {
		h, err := s.access.History(ctx, a.Account.NRB, 10)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Accounts = append(p.Accounts, hotlineAccount{AccountStatus: a, Number: FormatNRB(a.Account.NRB), History: h,
			OneOff: limitView(a.Limits.OneOff), Recurring: limitView(a.Limits.Recurring)})
	}
	if p.Audit, err = s.access.Audit(ctx, c.ID, 50); err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_hotline_customer", "bo.hotline")
	v.Error = errText
	if errText == "" {
		if key, ok := hotlineNotices[r.URL.Query().Get("done")]; ok {
			v.Notice = v.T(key)
		}
	}
	v.D = p
	s.render(w, status, v)
}

var hotlineNotices = map[string]string{
	"verified":       "hl.done.verified",
	"representative": "hl.done.representative",
	"activated":      "hl.done.activated",
	"blocked":        "hl.done.blocked",
}

// GET /backoffice/hotline/customers/{id}
func (s *Server) boHotlineCustomer(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderHotlineCustomer(w, r, st, r.PathValue("id"), "", http.StatusOK, "")
}

// POST /backoffice/hotline/customers/{id}/checks: starts the identity
// check of a call.
func (s *Server) boHotlineStart(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	v, err := s.access.StartVerification(r.Context(), st.Login, r.PathValue("id"))
	if access.CodeOf(err) == access.CodeDayLimit {
		s.renderHotlineCustomer(w, r, st, r.PathValue("id"), "", http.StatusTooManyRequests,
			capitalize(access.Message(err, language(w, r))))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, "/backoffice/hotline/checks/"+url.PathEscape(v.ID))
}

// GET /backoffice/hotline/checks/{check}
func (s *Server) boHotlineCheck(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderHotlineCustomer(w, r, st, "", r.PathValue("check"), http.StatusOK, "")
}

// hotlineRefused shows the check's page again with a refusal.
func (s *Server) hotlineRefused(w http.ResponseWriter, r *http.Request, st tpp.Staff, checkID string, err error) {
	code := access.CodeOf(err)
	if code == "" {
		s.fail(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	switch code {
	case access.CodeVerificationFailed, access.CodeNotVerified, access.CodeNotYours:
		status = http.StatusForbidden
	case access.CodeDayLimit:
		status = http.StatusTooManyRequests
	case access.CodeUnchanged:
		status = http.StatusConflict
	}
	s.renderHotlineCustomer(w, r, st, "", checkID, status, capitalize(access.Message(err, language(w, r))))
}

// POST /backoffice/hotline/checks/{check}/pesel
func (s *Server) boHotlinePESEL(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	id := r.PathValue("check")
	if _, err := s.access.VerifyPESEL(r.Context(), id, st.Login, r.PostFormValue("pesel")); err != nil {
		s.hotlineRefused(w, r, st, id, err)
		return
	}
	seeOther(w, r, "/backoffice/hotline/checks/"+url.PathEscape(id)+"?done=verified")
}

// POST /backoffice/hotline/checks/{check}/representative
func (s *Server) boHotlineRepresentative(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	id := r.PathValue("check")
	if _, err := s.access.RecordRepresentative(r.Context(), id, st.Login, r.PostFormValue("name"), r.PostFormValue("role")); err != nil {
		s.hotlineRefused(w, r, st, id, err)
		return
	}
	seeOther(w, r, "/backoffice/hotline/checks/"+url.PathEscape(id)+"?done=representative")
}

// POST /backoffice/hotline/checks/{check}/access: account (one or more),
// state, reason.
func (s *Server) boHotlineAccess(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	id := r.PathValue("check")
	if err := r.ParseForm(); err != nil {
		s.hotlineRefused(w, r, st, id, &access.Error{Code: access.CodeInvalid, Message: "The form could not be read.",
			MessagePL: "Nie udało się odczytać formularza."})
		return
	}
	accounts := r.PostForm["account"]
	if len(accounts) == 0 {
		s.hotlineRefused(w, r, st, id, &access.Error{Code: access.CodeInvalid, Message: "Choose at least one account.",
			MessagePL: "Wybierz co najmniej jeden rachunek."})
		return
	}
	to := access.State(r.PostFormValue("state"))
	for _, nrb := range accounts {
		if _, err := s.access.ChangeByHotline(r.Context(), id, st.Login, nrb, to, r.PostFormValue("reason")); err != nil {
			if errors.As(err, new(*access.Error)) {
				s.hotlineRefused(w, r, st, id, err)
				return
			}
			s.fail(w, r, err)
			return
		}
	}
	done := "activated"
	if to == access.Blocked {
		done = "blocked"
	}
	seeOther(w, r, "/backoffice/hotline/checks/"+url.PathEscape(id)+"?done="+done)
}

// GET /backoffice/access-audit?customer=ID
func (s *Server) boAccessAudit(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	entries, err := s.access.Audit(r.Context(), r.URL.Query().Get("customer"), 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_access_audit", "bo.access_audit")
	v.D = entries
	s.render(w, http.StatusOK, v)
}
