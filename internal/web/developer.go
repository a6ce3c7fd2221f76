package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// maxUploadBody bounds a multipart upload: the largest document plus room
// for the form's other fields and encoding.
const maxUploadBody = tpp.MaxDocumentSize + 1<<20

// notices are the messages a redirect may ask a page to show (?done=...).
var notices = map[string]string{
	"uploaded":      "dev.uploaded",
	"cert_uploaded": "dev.cert_uploaded",
	"submitted":     "dev.submitted",
	"approved":      "bo.approved",
	"rejected":      "bo.rejected",
	"suspended":     "bo.suspended",
	"reinstated":    "bo.reinstated",
}

func notice(v *view, r *http.Request) {
	if key, ok := notices[r.URL.Query().Get("done")]; ok {
		v.Notice = v.T(key)
	}
}

// homeForm is the data of the developer's home page.
type homeForm struct {
	OrgID, Name, Email, LoginEmail string
}

// developer wraps a handler that needs a logged-in developer (session);
// without one the browser goes to the sign-up and log-in page.
func (s *Server) developer(h func(http.ResponseWriter, *http.Request, tpp.Developer)) http.HandlerFunc {
	return s.session(developerRealm, func(w http.ResponseWriter, r *http.Request) {
		d := developerFrom(r.Context())
		if d == nil {
			seeOther(w, r, "/developer")
			return
		}
		h(w, r, *d)
	})
}

func (s *Server) devHome(w http.ResponseWriter, r *http.Request) {
	if developerFrom(r.Context()) != nil {
		seeOther(w, r, "/developer/application")
		return
	}
	v := s.newView(w, r, "dev_home", "dev.title")
	v.D = homeForm{}
	s.render(w, http.StatusOK, v)
}

func (s *Server) devSignUp(w http.ResponseWriter, r *http.Request) {
	su := tpp.SignUp{OrgID: r.PostFormValue("org_id"), Name: r.PostFormValue("name"),
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}
	d, _, err := s.reg.SignUp(r.Context(), su)
	if err == nil {
		err = s.sessions.start(r.Context(), w, r, developerRealm, d.ID)
	}
	if err != nil {
		v := s.newView(w, r, "dev_home", "dev.title")
		v.Error = s.errorText(r, v.Lang, err)
		v.D = homeForm{OrgID: su.OrgID, Name: su.Name, Email: su.Email}
		busyRetry(w, err)
		s.render(w, statusOf(err), v)
		return
	}
	seeOther(w, r, "/developer/application")
}

func (s *Server) devLogin(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	d, err := s.reg.AuthenticateDeveloper(lockout.WithSource(r.Context(), r.RemoteAddr), email, r.PostFormValue("password"))
	if err == nil {
		err = s.sessions.start(r.Context(), w, r, developerRealm, d.ID)
	}
	if err != nil {
		v := s.newView(w, r, "dev_home", "dev.title")
		v.Error = s.errorText(r, v.Lang, err)
		v.D = homeForm{LoginEmail: email}
		busyRetry(w, err)
		s.render(w, statusOf(err), v)
		return
	}
	seeOther(w, r, "/developer/application")
}

func (s *Server) devLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.end(r.Context(), w, r, developerRealm); err != nil {
		s.log.Error("log out", "err", err)
	}
	seeOther(w, r, "/developer")
}

// appPage is the data of the developer's application page.
type appPage struct {
	App          tpp.Application
	Docs         []tpp.Document
	Certs        []tpp.AppCertificate
	DocKinds     []string
	RedirectURIs string
	TPP          *tpp.TPP // the production TPP, once approved
}

func (s *Server) loadAppPage(ctx context.Context, appID string) (appPage, error) {
	a, err := s.reg.Application(ctx, appID)
	if err != nil {
		return appPage{}, err
	}
	p := appPage{App: a, DocKinds: tpp.DocumentKinds, RedirectURIs: strings.Join(a.RedirectURIs, "\n")}
	if p.Docs, err = s.reg.Documents(ctx, appID); err != nil {
		return appPage{}, err
	}
	if p.Certs, err = s.reg.Certificates(ctx, appID); err != nil {
		return appPage{}, err
	}
	if a.Status == tpp.AppApproved {
		if t, err := s.reg.TPP(ctx, a.OrgID); err == nil {
			p.TPP = &t
		}
	}
	return p, nil
}

// renderApplication shows the developer's application, with an error when
// err is not nil.
func (s *Server) renderApplication(w http.ResponseWriter, r *http.Request, d tpp.Developer, err error) {
	v := s.newView(w, r, "dev_application", "dev.application")
	v.Dev = &d
	status := http.StatusOK
	if err != nil {
		v.Error = s.errorText(r, v.Lang, err)
		status = statusOf(err)
	} else {
		notice(&v, r)
	}
	p, lerr := s.loadAppPage(r.Context(), d.ApplicationID)
	if lerr != nil {
		s.message(w, r, http.StatusInternalServerError, "title.error", s.errorText(r, v.Lang, lerr))
		return
	}
	v.D = p
	s.render(w, status, v)
}

func (s *Server) devApplication(w http.ResponseWriter, r *http.Request, d tpp.Developer) {
	s.renderApplication(w, r, d, nil)
}

// readUpload parses a multipart form of at most maxUploadBody bytes and
// returns the named file's content (empty if none was chosen).
func readUpload(w http.ResponseWriter, r *http.Request, field string) ([]byte, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", keyed(tpp.CodeTooLarge, "doc.too_big")
		}
		return nil, "", keyed(tpp.CodeInvalid, "error.bad_form")
	}
	f, fh, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", keyed(tpp.CodeInvalid, "error.bad_form")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, tpp.MaxDocumentSize+1))
	if err != nil {
		return nil, "", err
	}
	if fh.Size > tpp.MaxDocumentSize {
		b = append(b, make([]byte, 1)...) // make the registry see it is too large
	}
	return b, fh.Filename, nil
}

// keyed builds a registry error from a message key.
func keyed(code tpp.Code, key string) error {
	return &tpp.Error{Code: code, Message: translate("en", key), MessagePL: translate("pl", key)}
}

func (s *Server) devUploadDocument(w http.ResponseWriter, r *http.Request, d tpp.Developer) {
	content, name, err := readUpload(w, r, "file")
	if err == nil && content == nil {
		err = keyed(tpp.CodeInvalid, "doc.missing")
	}
	if err == nil {
		_, err = s.reg.AddDocument(r.Context(), d.ApplicationID, d.Email,
			tpp.DocumentInput{Kind: r.FormValue("kind"), Filename: name, Content: content})
	}
	if err != nil {
		s.renderApplication(w, r, d, err)
		return
	}
	seeOther(w, r, "/developer/application?done=uploaded")
}

func (s *Server) devUploadCertificate(w http.ResponseWriter, r *http.Request, d tpp.Developer) {
	content, _, err := readUpload(w, r, "certificate")
	if err == nil && len(content) == 0 {
		content = []byte(strings.TrimSpace(r.FormValue("pem")))
	}
	if err == nil && len(content) == 0 {
		err = keyed(tpp.CodeInvalid, "cert.missing")
	}
	if err == nil {
		_, err = s.reg.AddCertificate(r.Context(), d.ApplicationID, d.Email, content)
	}
	if err != nil {
		s.renderApplication(w, r, d, err)
		return
	}
	seeOther(w, r, "/developer/application?done=cert_uploaded")
}

func (s *Server) devSubmit(w http.ResponseWriter, r *http.Request, d tpp.Developer) {
	sub := tpp.Submission{PowerOfAttorney: r.PostFormValue("power_of_attorney") != "",
		RedirectURIs: strings.Split(strings.ReplaceAll(r.PostFormValue("redirect_uris"), "\r", ""), "\n")}
	if _, err := s.reg.Submit(r.Context(), d.ApplicationID, d.Email, sub); err != nil {
		s.renderApplication(w, r, d, err)
		return
	}
	seeOther(w, r, "/developer/application?done=submitted")
}

// devDocument lets a developer download a document of their own
// application; a document of another application is not found.
func (s *Server) devDocument(w http.ResponseWriter, r *http.Request, d tpp.Developer) {
	s.serveDocument(w, r, d.ApplicationID, r.PathValue("doc"))
}

// serveDocument sends a stored document as an attachment.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request, appID, docID string) {
	doc, content, err := s.reg.DocumentContent(r.Context(), appID, docID)
	if err != nil {
		lang := language(w, r)
		s.message(w, r, statusOf(err), "title.not_found", s.errorText(r, lang, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", doc.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(content)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.Filename}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Write(content)
}
