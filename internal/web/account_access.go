package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// This file serves internet banking's account-holder pages at /ib/...: a
// customer logs in (sca.Login, the "bank" session realm shared with the
// consent pages), sees API access per account, activates or blocks it
// (corporate customers, with SCA), sets limits of API payments (with SCA),
// and sees and revokes consents. A change that needs SCA starts a
// challenge whose purpose carries the change; the change is applied only
// once the challenge is approved, by this customer.

//go:embed templates/ib/*.html
var ibFS embed.FS

// CustomerConsents lists a customer's consents (consent.Service does).
type CustomerConsents interface {
	ForCustomer(ctx context.Context, customerID string) ([]consent.Consent, error)
	LastUsed(ctx context.Context, id string) (time.Time, bool)
}

// accessRoutes adds internet banking's /ib pages (with SCA) and the
// hotline's back-office pages (with the registry).
func (s *Server) accessRoutes(mux *http.ServeMux) {
	if s.sca != nil {
		assets, _ := fs.Sub(assetFS, "assets")
		mux.HandleFunc("GET /ib/assets/portal.css", func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, assets, "portal.css")
		})
		mux.HandleFunc("GET /ib", func(w http.ResponseWriter, r *http.Request) { seeOther(w, r, "/ib/accounts") })
		mux.HandleFunc("GET /ib/{$}", func(w http.ResponseWriter, r *http.Request) { seeOther(w, r, "/ib/accounts") })
		mux.HandleFunc("GET /ib/login", s.ib(s.ibLoginPage, false))
		mux.HandleFunc("POST /ib/login", s.ib(s.ibLogin, false))
		mux.HandleFunc("POST /ib/logout", s.ib(s.ibLogout, false))
		mux.HandleFunc("GET /ib/accounts", s.ib(s.ibAccounts, true))
		mux.HandleFunc("POST /ib/accounts/{nrb}/access", s.ib(s.ibAccessChange, true))
		mux.HandleFunc("POST /ib/accounts/{nrb}/limits", s.ib(s.ibLimitsChange, true))
		mux.HandleFunc("GET /ib/confirm", s.ib(s.ibConfirmPage, true))
		mux.HandleFunc("POST /ib/confirm", s.ib(s.ibConfirm, true))
		mux.HandleFunc("GET /ib/consents", s.ib(s.ibConsents, true))
		mux.HandleFunc("POST /ib/consents/{id}/revoke", s.ib(s.ibRevoke, true))
	}
	if s.reg != nil {
		s.hotlineRoutes(mux)
	}
}

// ibReq is one request to the /ib pages.
type ibReq struct {
	lang string
	cust *ledger.Customer
}

// ib wraps an /ib handler: the customer of the session (session), or (when
// needed) a redirect to the log-in page.
func (s *Server) ib(h func(http.ResponseWriter, *http.Request, *ibReq), needLogin bool) http.HandlerFunc {
	return s.session(bankRealm, func(w http.ResponseWriter, r *http.Request) {
		ir := &ibReq{lang: language(w, r), cust: customerFrom(r.Context())}
		if needLogin && ir.cust == nil {
			seeOther(w, r, "/ib/login")
			return
		}
		h(w, r, ir)
	})
}

// GET /ib/login
func (s *Server) ibLoginPage(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	if ir.cust != nil {
		seeOther(w, r, "/ib/accounts")
		return
	}
	v := s.newView(w, r, "ib_login", "ib.login.title")
	if r.URL.Query().Get("relogin") != "" {
		v.Notice = translate(ir.lang, "ib.relogin")
	}
	v.D = struct{ Login string }{}
	s.render(w, http.StatusOK, v)
}

// POST /ib/login
func (s *Server) ibLogin(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	login := strings.TrimSpace(r.PostFormValue("login"))
	c, err := s.sca.Login(lockout.WithSource(r.Context(), r.RemoteAddr), login, r.PostFormValue("password"))
	if err == nil {
		err = s.sessions.start(r.Context(), w, r, bankRealm, c.Login)
	}
	if err != nil {
		if code := sca.CodeOf(err); code == sca.CodeWrongCredentials || code == sca.CodeLocked || code == sca.CodeBusy {
			v := s.newView(w, r, "ib_login", "ib.login.title")
			v.Error = sca.Message(err, ir.lang)
			v.D = struct{ Login string }{login}
			status := http.StatusUnauthorized
			switch code {
			case sca.CodeLocked:
				status = http.StatusTooManyRequests
			case sca.CodeBusy:
				status = http.StatusServiceUnavailable
				w.Header().Set("Retry-After", retryAfterBusy)
			}
			s.render(w, status, v)
			return
		}
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, "/ib/accounts")
}

// POST /ib/logout
func (s *Server) ibLogout(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	if err := s.sessions.end(r.Context(), w, r, bankRealm); err != nil {
		s.log.Error("log out", "err", err)
	}
	seeOther(w, r, "/ib/login")
}

// ibAccountView is an account as the /ib/accounts page shows it.
type ibAccountView struct {
	NRB, Number, Name, Currency string
	State                       string
	ChangedAt, Channel, Reason  string
	OneOff, Recurring           ibLimitView
	History                     []access.Change
	Booked, Available           string     // balances
	Recent                      []ibTxView // the newest booked items
}

// ibTxView is a booked item as internet banking lists it.
type ibTxView struct {
	Date, Party, Account, Title, Amount, Balance string
	Debit                                        bool
}

// recentItems is how many booked items internet banking shows per account.
const recentItems = 5

// historyReader reads an account's booked items (the ledger does); when
// Deps.Accounts has it, internet banking shows each account's recent
// history.
type historyReader interface {
	BookedItems(ctx context.Context, q ledger.BookedQuery) ([]ledger.Posting, bool, error)
}

// recent is an account's newest booked items.
func (s *Server) recent(ctx context.Context, a ledger.Account) ([]ibTxView, error) {
	h, ok := s.accounts.(historyReader)
	if !ok {
		return nil, nil
	}
	items, _, err := h.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, Limit: recentItems})
	if err != nil {
		return nil, err
	}
	out := make([]ibTxView, 0, len(items))
	for _, it := range items {
		out = append(out, ibTxView{Date: it.BookingDate, Party: it.Counterparty.Name, Account: FormatNRB(it.Counterparty.Account),
			Title: it.Title, Amount: it.Amount.String(), Balance: it.BalanceAfter.String(), Debit: it.Amount < 0})
	}
	return out, nil
}

type ibLimitView struct{ PerPayment, PerDay string }

func limitView(l access.Limit) ibLimitView {
	v := ibLimitView{}
	if l.PerPayment > 0 {
		v.PerPayment = l.PerPayment.String()
	}
	if l.PerDay > 0 {
		v.PerDay = l.PerDay.String()
	}
	return v
}

// ibAccountsPage is the data of /ib/accounts.
type ibAccountsPage struct {
	Segment  string
	Accounts []ibAccountView
}

var ibNotices = map[string]string{
	"blocked":   "ib.done.blocked",
	"activated": "ib.done.activated",
	"limits":    "ib.done.limits",
	"revoked":   "ib.done.revoked",
}

// GET /ib/accounts
func (s *Server) ibAccounts(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	s.renderIBAccounts(w, r, ir, http.StatusOK, "")
}

func (s *Server) renderIBAccounts(w http.ResponseWriter, r *http.Request, ir *ibReq, status int, errText string) {
	list, err := s.access.Accounts(r.Context(), ir.cust.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := ibAccountsPage{Segment: string(ir.cust.Segment)}
	for _, a := range list {
		av := ibAccountView{NRB: a.Account.NRB, Number: FormatNRB(a.Account.NRB), Name: a.Account.Name,
			Currency: a.Account.Currency, State: string(a.Status.State), Reason: a.Status.Reason,
			Channel: string(a.Status.Channel), OneOff: limitView(a.Limits.OneOff), Recurring: limitView(a.Limits.Recurring),
			Booked: a.Account.Booked.String(), Available: a.Account.Available.String()}
		if !a.Status.ChangedAt.IsZero() {
			av.ChangedAt = a.Status.ChangedAt.In(polish.Warsaw).Format("2006-01-02 15:04")
		}
		if av.History, err = s.access.History(r.Context(), a.Account.NRB, 5); err != nil {
			s.fail(w, r, err)
			return
		}
		if av.Recent, err = s.recent(r.Context(), a.Account); err != nil {
			s.fail(w, r, err)
			return
		}
		p.Accounts = append(p.Accounts, av)
	}
	v := s.newView(w, r, "ib_accounts", "ib.accounts.title")
	v.Error = errText
	if key, ok := ibNotices[r.URL.Query().Get("done")]; ok && errText == "" {
		v.Notice = translate(ir.lang, key)
	}
	v.D = p
	s.render(w, status, v)
}

// ownAccount returns the customer's account with the NRB, or refuses.
func (s *Server) ownAccount(ctx context.Context, ir *ibReq, nrb string) (ledger.Account, error) {
	own, err := s.accounts.AccountsOf(ctx, ir.cust.ID)
	if err != nil {
		return ledger.Account{}, err
	}
	for _, a := range own {
		if a.NRB == nrb {
			return a, nil
		}
	}
	return ledger.Account{}, &access.Error{Code: access.CodeNotYours,
		Message:   "This account is not yours.",
		MessagePL: "Ten rachunek nie należy do ciebie."}
}

// startIBChallenge starts the SCA of a change and sends the browser to
// confirm it.
func (s *Server) startIBChallenge(w http.ResponseWriter, r *http.Request, ir *ibReq, change url.Values, text string) {
	var c sca.Challenge
	var err error
	purpose := "ib:" + change.Encode()
	switch method := r.PostFormValue("method"); method {
	case string(sca.MethodSMS):
		c, err = s.sca.StartSMS(r.Context(), *ir.cust, purpose, text)
	case string(sca.MethodMobile):
		c, err = s.sca.StartMobile(r.Context(), *ir.cust, purpose, text)
	default:
		s.renderIBAccounts(w, r, ir, http.StatusBadRequest, translate(ir.lang, "bank.choose_method"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, "/ib/confirm?challenge="+url.QueryEscape(c.ID))
}

// POST /ib/accounts/{nrb}/access: state (active or blocked), method, reason.
func (s *Server) ibAccessChange(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	nrb := r.PathValue("nrb")
	if _, err := s.ownAccount(r.Context(), ir, nrb); err != nil {
		s.fail(w, r, err)
		return
	}
	switch ir.cust.Segment {
	case ledger.Company:
		s.message(w, r, http.StatusForbidden, "title.forbidden", translate(ir.lang, "ib.hotline_only"))
		return
	case ledger.Retail:
		s.message(w, r, http.StatusForbidden, "title.forbidden", translate(ir.lang, "ib.retail_always"))
		return
	}
	to := access.State(r.PostFormValue("state"))
	if to != access.Active && to != access.Blocked {
		s.renderIBAccounts(w, r, ir, http.StatusUnprocessableEntity, translate(ir.lang, "error.bad_form"))
		return
	}
	what := "włączenie"
	if to == access.Blocked {
		what = "blokada"
	}
	text := fmt.Sprintf("Dostęp do API rachunku %s: %s", lastDigits(nrb), what)
	s.startIBChallenge(w, r, ir, url.Values{"action": {"access"}, "account": {nrb}, "state": {string(to)},
		"reason": {strings.TrimSpace(r.PostFormValue("reason"))}}, text)
}

// parseLimit reads an amount field; empty is no limit.
func parseLimit(s string) (money.Amount, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	if s == "" {
		return 0, nil
	}
	return money.Parse(s)
}

// POST /ib/accounts/{nrb}/limits: kind, per_payment, per_day, method.
func (s *Server) ibLimitsChange(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	nrb := r.PathValue("nrb")
	a, err := s.ownAccount(r.Context(), ir, nrb)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kind := access.Kind(r.PostFormValue("kind"))
	per, err1 := parseLimit(r.PostFormValue("per_payment"))
	day, err2 := parseLimit(r.PostFormValue("per_day"))
	if (kind != access.OneOff && kind != access.Recurring) || err1 != nil || err2 != nil {
		s.renderIBAccounts(w, r, ir, http.StatusUnprocessableEntity, translate(ir.lang, "ib.limits.bad"))
		return
	}
	if day != 0 && per > day {
		s.renderIBAccounts(w, r, ir, http.StatusUnprocessableEntity, translate(ir.lang, "ib.limits.above_day"))
		return
	}
	kindPL := "jednorazowe"
	if kind == access.Recurring {
		kindPL = "cykliczne"
	}
	show := func(a money.Amount) string {
		if a == 0 {
			return "brak"
		}
		return a.String()
	}
	text := fmt.Sprintf("Limity API rachunku %s, płatności %s: %s na płatność, %s dziennie %s", lastDigits(nrb), kindPL,
		show(per), show(day), a.Currency)
	s.startIBChallenge(w, r, ir, url.Values{"action": {"limits"}, "account": {nrb}, "kind": {string(kind)},
		"per_payment": {per.String()}, "per_day": {day.String()}}, text)
}

// ibChallenge returns a challenge of this customer started by an /ib page,
// with the change it carries.
func (s *Server) ibChallenge(ctx context.Context, ir *ibReq, id string) (sca.Challenge, url.Values, error) {
	c, err := s.sca.Challenge(ctx, id)
	if err != nil {
		return sca.Challenge{}, nil, err
	}
	rest, ok := strings.CutPrefix(c.Purpose, "ib:")
	q, perr := url.ParseQuery(rest)
	if !ok || perr != nil || c.CustomerID != ir.cust.ID {
		return sca.Challenge{}, nil, errForeignIBChallenge
	}
	return c, q, nil
}

var errForeignIBChallenge = &sca.Error{Code: sca.CodeNotFound,
	Message:   "No such confirmation request.",
	MessagePL: "Nie ma takiej prośby o potwierdzenie."}

// ibConfirmView is the data of the confirmation page.
type ibConfirmView struct {
	Challenge, Text, Phone string
	SMS, Form              bool
}

// GET /ib/confirm?challenge=ID: the SMS-code form, or the page that waits
// for the mobile app (and applies the change once approved there).
func (s *Server) ibConfirmPage(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	c, change, err := s.ibChallenge(r.Context(), ir, r.URL.Query().Get("challenge"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Method == sca.MethodMobile {
		if c, err = s.sca.Consume(r.Context(), c.ID, ir.cust.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		switch c.Status {
		case sca.StatusApproved:
			s.applyIBChange(w, r, ir, change, string(sca.MethodMobile))
			return
		case sca.StatusRejected:
			s.message(w, r, http.StatusOK, "ib.rejected.title", translate(ir.lang, "ib.rejected"))
			return
		}
	}
	s.renderIBConfirm(w, r, ir, c, nil)
}

func (s *Server) renderIBConfirm(w http.ResponseWriter, r *http.Request, ir *ibReq, c sca.Challenge, problem error) {
	v := s.newView(w, r, "ib_confirm", "ib.confirm.title")
	d := ibConfirmView{Challenge: c.ID, Text: c.Text, Phone: maskPhone(ir.cust.Phone), SMS: c.Method == sca.MethodSMS,
		Form: c.Status == sca.StatusPending}
	status := http.StatusOK
	if !d.SMS && c.Status == sca.StatusPending {
		v.Refresh = mobilePoll
	}
	if c.Status == sca.StatusExpired && problem == nil {
		problem = &sca.Error{Code: sca.CodeExpired, Message: "The confirmation has expired; start again.",
			MessagePL: "Potwierdzenie wygasło; zacznij od nowa."}
	}
	if problem != nil {
		v.Error = sca.Message(problem, ir.lang)
		status = http.StatusUnprocessableEntity
		if c := sca.CodeOf(problem); c != sca.CodeWrongCode && c != sca.CodeInvalid {
			d.Form = false
		}
	}
	v.D = d
	s.render(w, status, v)
}

// POST /ib/confirm: challenge, code. The right SMS code applies the change.
func (s *Server) ibConfirm(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	c, change, err := s.ibChallenge(r.Context(), ir, r.PostFormValue("challenge"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.sca.VerifySMS(r.Context(), c.ID, ir.cust.ID, r.PostFormValue("code")); err != nil {
		if sca.CodeOf(err) == "" {
			s.fail(w, r, err)
			return
		}
		s.renderIBConfirm(w, r, ir, c, err)
		return
	}
	s.applyIBChange(w, r, ir, change, string(sca.MethodSMS))
}

// applyIBChange makes the change an approved challenge carried. After an
// activation the customer logs in again, as the bank asks.
func (s *Server) applyIBChange(w http.ResponseWriter, r *http.Request, ir *ibReq, change url.Values, method string) {
	ctx := r.Context()
	nrb := change.Get("account")
	switch change.Get("action") {
	case "access":
		to := access.State(change.Get("state"))
		if _, err := s.access.ChangeByCustomer(ctx, ir.cust.ID, nrb, to, method, change.Get("reason")); err != nil {
			s.fail(w, r, err)
			return
		}
		s.log.Info("API access changed in internet banking", "customer", ir.cust.ID, "state", to)
		if to == access.Active {
			if err := s.sessions.end(ctx, w, r, bankRealm); err != nil {
				s.log.Error("end session after activation", "err", err)
			}
			seeOther(w, r, "/ib/login?relogin=1")
			return
		}
		seeOther(w, r, "/ib/accounts?done=blocked")
	case "limits":
		per, err1 := money.Parse(change.Get("per_payment"))
		day, err2 := money.Parse(change.Get("per_day"))
		if err := errors.Join(err1, err2); err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := s.access.SetLimits(ctx, ir.cust.ID, nrb, access.Kind(change.Get("kind")), per, day, method); err != nil {
			s.fail(w, r, err)
			return
		}
		seeOther(w, r, "/ib/accounts?done=limits")
	default:
		s.fail(w, r, errForeignIBChallenge)
	}
}

// ibConsentView is a consent as the customer's consents page shows it.
type ibConsentView struct {
	ID, TPPID, TPPName, ScopeKey, Status string
	Accounts                             []string
	ValidUntil, LastUsed                 string
	Alive                                bool
	HistoryDays                          int  // how far back it reads history; 0: none
	Exchanged                            bool // given by exchanging an ais-accounts consent
	Privileges                           []string
}

// GET /ib/consents
func (s *Server) ibConsents(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	s.renderIBConsents(w, r, ir, http.StatusOK, "")
}

func (s *Server) renderIBConsents(w http.ResponseWriter, r *http.Request, ir *ibReq, status int, errText string) {
	if s.consents == nil {
		s.message(w, r, http.StatusNotFound, "title.not_found", translate(ir.lang, "error.not_found"))
		return
	}
	list, err := s.consents.ForCustomer(r.Context(), ir.cust.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out []ibConsentView
	for _, c := range list {
		cv := ibConsentView{ID: c.ID, TPPID: c.TPPID, TPPName: c.TPPID, ScopeKey: "scope." + string(c.Scope),
			Status: string(c.Status), Alive: c.Alive(), HistoryDays: consent.MaxHistory(c.Privileges), Exchanged: c.ParentID != ""}
		seen := map[string]bool{}
		for _, pr := range c.Privileges {
			if t := privilegeText(ir.lang, pr.Name); !seen[t] {
				seen[t] = true
				cv.Privileges = append(cv.Privileges, t)
			}
		}
		if s.reg != nil {
			if t, err := s.reg.TPP(r.Context(), c.TPPID); err == nil && t.Name != "" {
				cv.TPPName = t.Name
			}
		}
		for _, a := range c.Accounts {
			cv.Accounts = append(cv.Accounts, FormatNRB(a))
		}
		if !c.ExpiresAt.IsZero() {
			cv.ValidUntil = c.ExpiresAt.In(polish.Warsaw).Format("2006-01-02 15:04")
		}
		if at, ok := s.consents.LastUsed(r.Context(), c.ID); ok {
			cv.LastUsed = at.In(polish.Warsaw).Format("2006-01-02 15:04")
		}
		out = append(out, cv)
	}
	v := s.newView(w, r, "ib_consents", "ib.consents.title")
	v.Error = errText
	if key, ok := ibNotices[r.URL.Query().Get("done")]; ok && errText == "" {
		v.Notice = translate(ir.lang, key)
	}
	v.D = out
	s.render(w, status, v)
}

// POST /ib/consents/{id}/revoke: revokes one of the customer's consents and
// its tokens; the TPP's next call is refused as revoked.
func (s *Server) ibRevoke(w http.ResponseWriter, r *http.Request, ir *ibReq) {
	if s.consents == nil || s.revokeConsent == nil {
		s.message(w, r, http.StatusNotFound, "title.not_found", translate(ir.lang, "error.not_found"))
		return
	}
	id := r.PathValue("id")
	list, err := s.consents.ForCustomer(r.Context(), ir.cust.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var found *consent.Consent
	for i := range list {
		if list[i].ID == id {
			found = &list[i]
		}
	}
	if found == nil {
		s.message(w, r, http.StatusNotFound, "title.not_found", translate(ir.lang, "ib.consent_unknown"))
		return
	}
	if _, err := s.revokeConsent(r.Context(), id, "psu", "revoked by the customer in internet banking"); err != nil {
		var msg interface{ In(string) string }
		if errors.As(err, &msg) {
			s.renderIBConsents(w, r, ir, http.StatusConflict, capitalize(msg.In(ir.lang)))
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.access.Record(r.Context(), access.AuditEntry{Actor: ir.cust.Login, Channel: access.ChannelInternetBanking,
		Action: access.ActionConsentRevoke, CustomerID: ir.cust.ID, Subject: id,
		Detail: "TPP " + found.TPPID + ", scope " + string(found.Scope)}); err != nil {
		s.log.Error("audit consent revocation", "err", err)
	}
	seeOther(w, r, "/ib/consents?done=revoked")
}
