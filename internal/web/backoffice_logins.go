package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// The back office's log-ins page: the logins locked now (customers,
// developers, staff) with an unlock button, and the log-in audit (failures
// with their source address, locks, refusals, unlocks).

func (s *Server) loginRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /backoffice/logins", s.staff(s.boLogins))
	mux.HandleFunc("POST /backoffice/logins/unlock", s.staff(s.boUnlock))
}

type loginsPage struct {
	Locks   []lockout.Lock
	Entries []lockout.Entry
}

// GET /backoffice/logins
func (s *Server) boLogins(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	s.renderLogins(w, r, st, http.StatusOK, "")
}

func (s *Server) renderLogins(w http.ResponseWriter, r *http.Request, st tpp.Staff, status int, errText string) {
	g := s.reg.Lockout()
	locks, err := g.Locks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries, err := g.Audit(r.Context(), lockout.Realm(r.URL.Query().Get("realm")), 300)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.staffView(w, r, st, "bo_logins", "bo.logins")
	v.D = loginsPage{Locks: locks, Entries: entries}
	v.Error = errText
	if r.URL.Query().Get("unlocked") != "" {
		v.Notice = translate(v.Lang, "bo.logins.unlocked")
	}
	s.render(w, status, v)
}

// POST /backoffice/logins/unlock (realm, login): another staff member
// lifts a lock; audited.
func (s *Server) boUnlock(w http.ResponseWriter, r *http.Request, st tpp.Staff) {
	realm := lockout.Realm(r.PostFormValue("realm"))
	login := strings.TrimSpace(r.PostFormValue("login"))
	lang := language(w, r)
	switch realm {
	case lockout.Customer, lockout.Developer, lockout.Staff:
	default:
		s.renderLogins(w, r, st, http.StatusUnprocessableEntity, translate(lang, "bo.logins.bad_realm"))
		return
	}
	done, err := s.reg.UnlockLogin(lockout.WithSource(r.Context(), r.RemoteAddr), s.reg.Lockout(), realm, login, st.Login)
	if err != nil {
		s.renderLogins(w, r, st, statusOf(err), s.errorText(r, lang, err))
		return
	}
	if !done {
		s.renderLogins(w, r, st, http.StatusConflict, translate(lang, "bo.logins.not_locked"))
		return
	}
	seeOther(w, r, "/backoffice/logins?unlocked="+url.QueryEscape(login))
}

func init() {
	for lang, texts := range loginMessages {
		for key, text := range texts {
			if _, dup := messages[lang][key]; dup {
				panic("web: message key " + key + " is defined twice")
			}
			messages[lang][key] = text
		}
	}
}

var loginMessages = map[string]map[string]string{
	"en": {
		"bo.logins":            "Log-ins",
		"bo.logins.locked":     "Locked logins",
		"bo.logins.none":       "No login is locked.",
		"bo.logins.realm":      "Kind",
		"bo.logins.login":      "Login",
		"bo.logins.failures":   "Failures",
		"bo.logins.until":      "Locked until",
		"bo.logins.unlock":     "Unlock",
		"bo.logins.unlocked":   "The login was unlocked.",
		"bo.logins.not_locked": "This login is not locked (any more).",
		"bo.logins.bad_realm":  "Choose the kind of login: customer, developer or staff.",
		"bo.logins.audit":      "Refused log-ins, locks and unlocks",
		"bo.logins.event":      "Event",
		"bo.logins.source":     "Address",
		"bo.logins.actor":      "Staff",
		"bo.logins.own":        "Your own login is unlocked by another staff member.",
	},
	"pl": {
		"bo.logins":            "Logowania",
		"bo.logins.locked":     "Zablokowane loginy",
		"bo.logins.none":       "Żaden login nie jest zablokowany.",
		"bo.logins.realm":      "Rodzaj",
		"bo.logins.login":      "Login",
		"bo.logins.failures":   "Nieudane próby",
		"bo.logins.until":      "Zablokowany do",
		"bo.logins.unlock":     "Odblokuj",
		"bo.logins.unlocked":   "Login został odblokowany.",
		"bo.logins.not_locked": "Ten login nie jest (już) zablokowany.",
		"bo.logins.bad_realm":  "Wybierz rodzaj loginu: klient, deweloper lub pracownik.",
		"bo.logins.audit":      "Odrzucone logowania, blokady i odblokowania",
		"bo.logins.event":      "Zdarzenie",
		"bo.logins.source":     "Adres",
		"bo.logins.actor":      "Pracownik",
		"bo.logins.own":        "Własny login odblokowuje inny pracownik.",
	},
}
