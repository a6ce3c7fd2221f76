package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// staff wraps a handler that needs a logged-in member of staff with the
// back-office role (session); without a session the browser goes to the
// log-in page.
func (s *Server) staff(h func(http.ResponseWriter, *http.Request, tpp.Staff)) http.HandlerFunc {
	return s.session(backofficeRealm, func(w http.ResponseWriter, r *http.Request) {
		st := staffFrom(r.Context())
		if st == nil {
			seeOther(w, r, "/backoffice/login")
			return
		}
		if st.Role != tpp.RoleBackoffice {
			s.message(w, r, http.StatusForbidden, "title.forbidden", translate(language(w, r), "bo.forbidden"))
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h(w, r, *st)
			return
		}
		// An action: the one place the back office's actions are logged
		// and counted (the route, never the form's values).
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(sw, r, *st)
		action := r.Pattern
		if action == "" {
			action = r.Method + " " + r.URL.Path
		}
		s.obs.BackOffice(r.Context(), st.Login, action, sw.status)
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *Server) boHome(w http.ResponseWriter, r *http.Request, _ tpp.Staff) {
	seeOther(w, r, "/backoffice/applications")
}

type loginForm struct{ Login string }

func (s *Server) boLoginPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "bo_login", "bo.title")
	v.D = loginForm{}
	s.render(w, http.StatusOK, v)
}

func (s *Server) boLogin(w http.ResponseWriter, r *http.Request) {
	login := r.PostFormValue("login")
	st, err := s.reg.AuthenticateStaff(lockout.WithSource(r.Context(), r.RemoteAddr), login, r.PostFormValue("password"))
	if err == nil {
		err = s.sessions.start(r.Context(), w, r, backofficeRealm, st.Login)
	}
	if err != nil {
		v := s.newView(w, r, "bo_login", "bo.title")
		v.Error = s.errorText(r, v.Lang, err)
		v.D = loginForm{Login: login}
		busyRetry(w, err)
		s.render(w, statusOf(err), v)
		return
	}
	seeOther(w, r, "/backoffice/applications")
}

func (s *Server) boLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.end(r.Context(), w, r, backofficeRealm); err != nil {
		s.log.Error("log out", "err", err)
	}
	seeOther(w, r, "/backoffice/login")
}

// staffView starts a back-office page.
func (s *Server) staffView(w http.ResponseWriter, r *http.Request, st tpp.Staff, page, title string) view {
	v := s.newView(w, r, page, title)
	v.Staff = &st
	v.Down = s.interfacesDown(r)
	return v
}

var applicationFilters = []string{tpp.AppSubmitted, tpp.AppApproved, tpp.AppRejected, tpp.AppDraft, "all"}

type applicationsPage struct {
	Status  string
	Filters []string
	Apps    []tpp.Application
}

func (s *Server) boApplications(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	status := r.URL.Query().Get("status")
	if !slices.Contains(applicationFilters, status) {
		status = tpp.AppSubmitted
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	apps, err := s.reg.Applications(r.Context(), filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_applications", "bo.applications")
	v.D = applicationsPage{Status: status, Filters: applicationFilters, Apps: apps}
	s.render(w, http.StatusOK, v)
}

// reviewPage is the data of an application's page in the back office.
type reviewPage struct {
	App   tpp.Application
	Docs  []tpp.Document
	Certs []tpp.AppCertificate
	Entry *tpp.Entry // what the register says, nil when absent
}

// renderReview shows an application to staff, with an error when err is
// not nil.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, st tpp.Staff, id string, err error) {
	ctx := r.Context()
	a, lerr := s.reg.Application(ctx, id)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	p := reviewPage{App: a}
	if p.Docs, lerr = s.reg.Documents(ctx, id); lerr == nil {
		p.Certs, lerr = s.reg.Certificates(ctx, id)
	}
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	if l := s.reg.Licences(); l != nil {
		if e, ok := l.Lookup(a.OrgID); ok {
			p.Entry = &e
		}
	}
	v := s.staffView(w, r, st, "bo_application", "bo.application")
	status := http.StatusOK
	if err != nil {
		v.Error = s.errorText(r, v.Lang, err)
		status = statusOf(err)
	} else {
		notice(&v, r)
	}
	v.D = p
	s.render(w, status, v)
}

func (s *Server) boApplication(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderReview(w, r, st, r.PathValue("id"), nil)
}

func (s *Server) boDocument(w http.ResponseWriter, r *http.Request, _ tpp.Staff) {
	s.serveDocument(w, r, r.PathValue("id"), r.PathValue("doc"))
}

func (s *Server) boApprove(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	id := r.PathValue("id")
	if _, _, err := s.reg.Approve(r.Context(), id, st.Login); err != nil {
		s.renderReview(w, r, st, id, err)
		return
	}
	seeOther(w, r, "/backoffice/applications/"+url.PathEscape(id)+"?done=approved")
}

func (s *Server) boReject(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	id := r.PathValue("id")
	if _, err := s.reg.Reject(r.Context(), id, st.Login, r.PostFormValue("reason")); err != nil {
		s.renderReview(w, r, st, id, err)
		return
	}
	seeOther(w, r, "/backoffice/applications/"+url.PathEscape(id)+"?done=rejected")
}

type tppsPage struct{ TPPs []tpp.TPP }

// renderTPPs shows the TPPs, with an error when err is not nil.
func (s *Server) renderTPPs(w http.ResponseWriter, r *http.Request, st tpp.Staff, err error) {
	tpps, lerr := s.reg.TPPs(r.Context())
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	v := s.staffView(w, r, st, "bo_tpps", "bo.tpps")
	status := http.StatusOK
	if err != nil {
		v.Error = s.errorText(r, v.Lang, err)
		status = statusOf(err)
	} else {
		notice(&v, r)
	}
	v.D = tppsPage{TPPs: tpps}
	s.render(w, status, v)
}

func (s *Server) boTPPs(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderTPPs(w, r, st, nil)
}

func (s *Server) boSuspend(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	if err := s.reg.Suspend(r.Context(), r.PostFormValue("tpp_id"), r.PostFormValue("reason"), st.Login); err != nil {
		s.renderTPPs(w, r, st, err)
		return
	}
	seeOther(w, r, "/backoffice/tpps?done=suspended")
}

func (s *Server) boReinstate(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	if err := s.reg.Reinstate(r.Context(), r.PostFormValue("tpp_id"), st.Login); err != nil {
		s.renderTPPs(w, r, st, err)
		return
	}
	seeOther(w, r, "/backoffice/tpps?done=reinstated")
}

type auditPage struct{ Entries []tpp.AuditEntry }

func (s *Server) boAudit(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	entries, err := s.reg.Audit(r.Context(), r.URL.Query().Get("subject"), 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_audit", "bo.audit")
	v.D = auditPage{Entries: entries}
	s.render(w, http.StatusOK, v)
}
