package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// This file serves the customer's side of an authorization: the pages at
// /authorize/{requestID} where a customer of the bank logs in, reads what a
// TPP asks for, and approves it with SCA (an SMS code or the mobile app) or
// rejects it. The authorization server is reached through ConsentFlow.

// ConsentFlow is the authorization server as the consent pages see it.
// Errors that have an In(lang string) string method (like tpp.Error and
// sca.Error) are shown to the customer in their language; others are
// logged and shown as an internal error. Wrap ErrNoRequest for an unknown
// request id.
type ConsentFlow interface {
	// Request describes a pending (or decided, or expired) authorization
	// request.
	Request(ctx context.Context, requestID string) (ConsentPage, error)
	// Approve records the customer's approval, after a successful SCA,
	// covering accounts (the NRBs chosen or named), and returns where to
	// send the browser: the TPP's redirect_uri with code and state, or ""
	// for a decoupled request.
	Approve(ctx context.Context, requestID, customerID string, accounts []string) (redirect string, err error)
	// Reject records the customer's refusal and returns where to send the
	// browser (the redirect_uri with error=access_denied and state), or "".
	Reject(ctx context.Context, requestID, customerID string) (redirect string, err error)
}

// ErrNoRequest is what ConsentFlow.Request wraps when there is no such
// request: the page answers 404.
var ErrNoRequest = errors.New("no such authorization request")

// ConsentPage is what a TPP asks for, as the consent page shows it.
type ConsentPage struct {
	RequestID, TPPID, TPPName, ClientName string
	Scope                                 string   // "ais-accounts", "ais" or "pis"
	Privileges                            []string // e.g. "ais:getTransactionsDone", each shown in plain words
	Accounts                              []string // NRBs the TPP named; empty: the customer chooses among their own accounts
	HistoryDays                           int      // how far back the TPP may read history, 0 when not asked
	ValidUntil                            time.Time
	Payment                               *PaymentPage // for pis
	// Payments are every payment the pis request authorises, as the
	// consent keeps them: one, or every transfer of a bundle (Bundle, with
	// its Total).
	Payments []PaymentPage
	Bundle   bool
	Total    string
	// Cancels are the payments a cancellation privilege names.
	Cancels []CancelPage
	// Exchange is, for ais-accounts, what the TPP may exchange the consent
	// for later without asking the customer again.
	Exchange *ExchangePage
	PSULogin string // for a decoupled request: who must approve
	Decided  bool   // already approved or rejected
	Expired  bool
}

// PaymentPage is the payment a pis request asks the customer to authorise.
type PaymentPage struct {
	Amount, Currency, RecipientName, RecipientAccount, Title, ExecutionDate, SenderAccount string
	Recurrence                                                                             *RecurrencePage // a recurring payment's schedule
	Split                                                                                  *SplitPage      // a split payment's VAT and invoice
	Tax                                                                                    *TaxPage        // a tax payment's form and period
	Transfers                                                                              int             // a bundle's transfers (Amount is their total); 0 for one payment
}

// AccountLister lists a customer's accounts (the ledger does).
type AccountLister interface {
	AccountsOf(ctx context.Context, customerID string) ([]ledger.Account, error)
}

// bankRealm is the internet-banking session of a customer; its subject is
// the customer's login. Short, as banks keep them.
var bankRealm = realm{name: "bank", cookie: "psd2bank_bank", path: "/", ttl: 15 * time.Minute}

// bankCSP is the pages' content security policy. Unlike the portal's it has
// no form-action: the answer to the final form is a redirect to the TPP's
// registered redirect_uri, and browsers check such redirects against
// form-action.
const bankCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// mobilePoll is how often the waiting page asks whether the mobile app has
// decided.
const mobilePoll = 2

// bankRoutes adds the consent pages to mux.
func (s *Server) bankRoutes(mux *http.ServeMux) {
	assets, _ := fs.Sub(assetFS, "assets")
	mux.HandleFunc("GET /authorize/assets/portal.css", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "portal.css")
	})
	mux.HandleFunc("GET /authorize/{requestID}", s.bank(s.bankAuthorize))
	mux.HandleFunc("POST /authorize/{requestID}/login", s.bank(s.bankLogin))
	mux.HandleFunc("POST /authorize/{requestID}/logout", s.bank(s.bankLogout))
	mux.HandleFunc("POST /authorize/{requestID}/approve", s.bank(s.bankApprove))
	mux.HandleFunc("GET /authorize/{requestID}/sms", s.bank(s.bankSMSForm))
	mux.HandleFunc("POST /authorize/{requestID}/sms", s.bank(s.bankSMS))
	mux.HandleFunc("GET /authorize/{requestID}/mobile", s.bank(s.bankMobile))
	mux.HandleFunc("POST /authorize/{requestID}/reject", s.bank(s.bankReject))
	// A GET of a step that only takes a POST (a reload, or a language
	// link of a page that answered a POST) goes back to the request.
	mux.HandleFunc("GET /authorize/{requestID}/{step}", func(w http.ResponseWriter, r *http.Request) {
		to := "/authorize/" + url.PathEscape(r.PathValue("requestID"))
		if l := r.URL.Query().Get("lang"); isLanguage(l) {
			to += "?lang=" + l
		}
		seeOther(w, r, to)
	})
}

// bankReq is one request to the consent pages: the authorization request,
// and the customer when logged in.
type bankReq struct {
	lang string
	id   string
	page ConsentPage
	cust *ledger.Customer
}

// bank wraps a consent-page handler: it sets the pages' headers, reads the
// customer's session (session), loads the authorization request (an
// unknown one gets a 404 page) and puts it in the context.
func (s *Server) bank(h func(http.ResponseWriter, *http.Request, *bankReq)) http.HandlerFunc {
	return s.session(bankRealm, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", bankCSP)
		br := &bankReq{lang: language(w, r), id: r.PathValue("requestID"), cust: customerFrom(r.Context())}
		page, err := s.flow.Request(r.Context(), br.id)
		if err != nil {
			if errors.Is(err, ErrNoRequest) {
				s.message(w, r, http.StatusNotFound, "bank.unknown.title", translate(br.lang, "bank.unknown"))
				return
			}
			s.fail(w, r, err)
			return
		}
		page.RequestID = br.id
		br.page = page
		h(w, r.WithContext(context.WithValue(r.Context(), consentKey{}, &br.page)), br)
	})
}

// closed shows an expired or already decided request and tells whether it
// did.
func (s *Server) closed(w http.ResponseWriter, r *http.Request, br *bankReq) bool {
	switch {
	case br.page.Decided:
		s.message(w, r, http.StatusConflict, "bank.decided.title", translate(br.lang, "bank.decided"))
	case br.page.Expired:
		s.message(w, r, http.StatusGone, "bank.expired.title", translate(br.lang, "bank.expired"))
	default:
		return false
	}
	return true
}

// mine tells whether the logged-in customer may decide the request (a
// decoupled request names who must), showing why not when not.
func (s *Server) mine(w http.ResponseWriter, r *http.Request, br *bankReq) bool {
	if br.page.PSULogin != "" && br.page.PSULogin != br.cust.Login {
		s.message(w, r, http.StatusForbidden, "title.forbidden", translate(br.lang, "bank.other_customer"))
		return false
	}
	return true
}

// ready checks what every decision step needs: a logged-in customer (else
// back to the log-in form), an open request, and the right customer.
func (s *Server) ready(w http.ResponseWriter, r *http.Request, br *bankReq) bool {
	if br.cust == nil {
		seeOther(w, r, "/authorize/"+url.PathEscape(br.id))
		return false
	}
	return !s.closed(w, r, br) && s.mine(w, r, br)
}

// GET /authorize/{requestID}: the log-in form, or the consent page.
func (s *Server) bankAuthorize(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if s.closed(w, r, br) {
		return
	}
	if br.cust == nil {
		s.renderLogin(w, r, br, http.StatusOK, "", "")
		return
	}
	if !s.mine(w, r, br) {
		return
	}
	s.renderConsent(w, r, br, http.StatusOK, "", nil)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, br *bankReq, status int, login, errText string) {
	v := s.newView(w, r, "bank_login", "bank.login.title")
	v.C = s.consentSummary(br)
	v.Error = errText
	v.D = struct{ Login string }{login}
	s.render(w, status, v)
}

// POST /authorize/{requestID}/login
func (s *Server) bankLogin(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if s.closed(w, r, br) {
		return
	}
	login := strings.TrimSpace(r.PostFormValue("login"))
	c, err := s.sca.Login(lockout.WithSource(r.Context(), r.RemoteAddr), login, r.PostFormValue("password"))
	if err == nil {
		err = s.sessions.start(r.Context(), w, r, bankRealm, c.Login)
	}
	if err != nil {
		switch sca.CodeOf(err) {
		case sca.CodeWrongCredentials:
			s.renderLogin(w, r, br, http.StatusUnauthorized, login, sca.Message(err, br.lang))
		case sca.CodeLocked:
			s.renderLogin(w, r, br, http.StatusTooManyRequests, login, sca.Message(err, br.lang))
		case sca.CodeBusy:
			w.Header().Set("Retry-After", retryAfterBusy)
			s.renderLogin(w, r, br, http.StatusServiceUnavailable, login, sca.Message(err, br.lang))
		default:
			s.fail(w, r, err)
		}
		return
	}
	seeOther(w, r, "/authorize/"+url.PathEscape(br.id))
}

// POST /authorize/{requestID}/logout
func (s *Server) bankLogout(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if err := s.sessions.end(r.Context(), w, r, bankRealm); err != nil {
		s.log.Error("log out", "err", err)
	}
	seeOther(w, r, "/authorize/"+url.PathEscape(br.id))
}

// consentView is a request in the customer's words.
type consentView struct {
	TPPID, TPPName, ClientName string
	ScopeKey                   string
	Privileges                 []string
	Named                      []accountView // accounts the TPP named
	Choose                     []accountView // the customer's accounts to choose from
	ChooseSender               bool          // Choose offers the one account to pay from (radio buttons)
	HistoryDays                int
	ValidUntil                 string
	Payment                    *paymentView
	Payments                   []paymentView // every transfer of a bundle
	Bundle                     bool
	Total, Currency            string // a bundle's total
	Cancels                    []cancelView
	Exchange                   *exchangeView
	Blocked                    string // why the customer cannot approve; "" when they can
}

// exchangeView is ExchangePage in the customer's words.
type exchangeView struct {
	Privileges     []string
	MaxHistoryDays int
	Until          string // the latest end, in the pages' time zone
	ValidityDays   int
}

type accountView struct {
	NRB, Number, Name, Currency string
	Checked                     bool
	Why                         string // why the account cannot be chosen; "" when it can
}

type paymentView struct {
	PaymentPage
	Recipient, Sender accountView
	Schedule          string // how often a recurring payment is made, in words
	N                 int    // its place in a bundle, from 1
}

// consentSummary is the request without the customer's accounts (for the
// log-in page).
func (s *Server) consentSummary(br *bankReq) *consentView {
	p := br.page
	return &consentView{TPPID: p.TPPID, TPPName: p.TPPName, ClientName: p.ClientName, ScopeKey: "scope." + p.Scope}
}

// choosing tells whether the customer picks the accounts.
func choosing(p ConsentPage) bool {
	return (p.Scope == "ais-accounts" || p.Scope == "ais") && len(p.Accounts) == 0
}

// consentView describes the request with the customer's accounts; chosen
// are the accounts ticked so far.
func (s *Server) consentView(ctx context.Context, br *bankReq, chosen []string) (*consentView, error) {
	p := br.page
	v := s.consentSummary(br)
	v.HistoryDays = p.HistoryDays
	if !p.ValidUntil.IsZero() {
		v.ValidUntil = p.ValidUntil.In(polish.Warsaw).Format("2006-01-02 15:04")
	}
	for _, priv := range p.Privileges {
		v.Privileges = append(v.Privileges, privilegeText(br.lang, priv))
	}
	own, err := s.accounts.AccountsOf(ctx, br.cust.ID)
	if err != nil {
		return nil, fmt.Errorf("accounts of the customer: %w", err)
	}
	byNRB := map[string]ledger.Account{}
	for _, a := range own {
		byNRB[a.NRB] = a
	}
	view := func(nrb string) (accountView, bool) {
		a, ok := byNRB[nrb]
		return accountView{NRB: nrb, Number: FormatNRB(nrb), Name: a.Name, Currency: a.Currency}, ok
	}
	var foreign []string
	for _, nrb := range p.Accounts {
		av, ok := view(nrb)
		if !ok {
			foreign = append(foreign, av.Number)
		}
		v.Named = append(v.Named, av)
	}
	if choosing(p) {
		// The TPP asked for the customer's accounts without naming them:
		// all are ticked until the customer unticks some (chosen is nil
		// on the first showing).
		for _, a := range own {
			av, _ := view(a.NRB)
			av.Checked = chosen == nil || slices.Contains(chosen, a.NRB)
			v.Choose = append(v.Choose, av)
		}
		if len(own) == 0 {
			v.Blocked = translate(br.lang, "bank.no_accounts")
		}
	} else if choosingSender(p) {
		v.Choose, v.ChooseSender = s.senderChoices(ctx, br.lang, own, p.Payment, chosen), true
		if len(v.Choose) == 0 {
			v.Blocked = translate(br.lang, "bank.no_sender_match")
		}
	}
	if e := p.Exchange; e != nil {
		ev := &exchangeView{MaxHistoryDays: e.MaxHistoryDays, ValidityDays: int(e.Validity / (24 * time.Hour)),
			Until: when(s.clock.Now().Add(e.Validity))}
		for _, priv := range e.Privileges {
			ev.Privileges = append(ev.Privileges, privilegeText(br.lang, priv))
		}
		v.Exchange = ev
	}
	for _, c := range p.Cancels {
		v.Cancels = append(v.Cancels, s.cancelDetails(ctx, br.lang, br.cust.ID, c))
	}
	if p.Bundle || len(p.Payments) > 1 {
		v.Bundle, v.Total = true, p.Total
		for _, pay := range p.Payments {
			pv := paymentView{PaymentPage: pay, Schedule: scheduleText(br.lang, pay.Recurrence), N: len(v.Payments) + 1}
			pv.Recipient = accountView{NRB: pay.RecipientAccount, Number: FormatNRB(pay.RecipientAccount), Name: pay.RecipientName}
			if pay.SenderAccount != "" {
				av, ok := view(pay.SenderAccount)
				if !ok && !slices.Contains(foreign, av.Number) {
					foreign = append(foreign, av.Number)
				}
				pv.Sender = av
			}
			v.Currency = pay.Currency
			v.Payments = append(v.Payments, pv)
		}
	}
	if pay := p.Payment; pay != nil && !v.Bundle {
		pv := &paymentView{PaymentPage: *pay, Schedule: frequencyText(br.lang, pay.Recurrence)}
		pv.Recipient = accountView{NRB: pay.RecipientAccount, Number: FormatNRB(pay.RecipientAccount), Name: pay.RecipientName}
		if pay.SenderAccount != "" {
			av, ok := view(pay.SenderAccount)
			if !ok {
				foreign = append(foreign, av.Number)
			} else if why := s.cannotPay(ctx, br.lang, pay.SenderAccount, pay); why != "" {
				v.Blocked = why
			}
			pv.Sender = av
		}
		v.Payment = pv
	}
	if len(foreign) > 0 {
		v.Blocked = translate(br.lang, "bank.not_yours") + " " + strings.Join(foreign, ", ")
	}
	return v, nil
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, br *bankReq, status int, errText string, chosen []string) {
	cv, err := s.consentView(r.Context(), br, chosen)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "bank_consent", "bank.consent.title")
	v.C = cv
	v.Error = errText
	if errText == "" && cv.Blocked != "" {
		v.Error = cv.Blocked
	}
	s.render(w, status, v)
}

// approvedAccounts are the accounts an approval covers: those the TPP
// named, the sender of a payment, or those the customer ticked (at least
// one, all the customer's own; exactly one to pay from when the payment
// names no sender).
func (s *Server) approvedAccounts(ctx context.Context, br *bankReq, ticked []string) ([]string, string, error) {
	p := br.page
	if choosingSender(p) {
		return s.approvedSender(ctx, br, ticked)
	}
	if !choosing(p) {
		accounts := slices.Clone(p.Accounts)
		if p.Payment != nil && p.Payment.SenderAccount != "" && !slices.Contains(accounts, p.Payment.SenderAccount) {
			accounts = append(accounts, p.Payment.SenderAccount)
		}
		return accounts, "", nil
	}
	if len(ticked) == 0 {
		return nil, "bank.choose_account", nil
	}
	own, err := s.accounts.AccountsOf(ctx, br.cust.ID)
	if err != nil {
		return nil, "", err
	}
	var out []string
	for _, nrb := range ticked {
		if !slices.ContainsFunc(own, func(a ledger.Account) bool { return a.NRB == nrb }) {
			return nil, "bank.not_yours", nil
		}
		if !slices.Contains(out, nrb) {
			out = append(out, nrb)
		}
	}
	return out, "", nil
}

// POST /authorize/{requestID}/approve: starts the SCA of the approval.
func (s *Server) bankApprove(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if !s.ready(w, r, br) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderConsent(w, r, br, http.StatusBadRequest, translate(br.lang, "error.bad_form"), nil)
		return
	}
	ticked := r.PostForm["account"]
	if ticked == nil {
		ticked = []string{} // shown again: none ticked (nil would tick all)
	}
	cv, err := s.consentView(r.Context(), br, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cv.Blocked != "" {
		s.renderConsent(w, r, br, http.StatusForbidden, "", ticked)
		return
	}
	accounts, problem, err := s.approvedAccounts(r.Context(), br, ticked)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if problem != "" {
		s.renderConsent(w, r, br, http.StatusUnprocessableEntity, translate(br.lang, problem), ticked)
		return
	}
	purpose := consentPurpose(br.id, accounts)
	text := smsText(br.page, accounts, s.clock.Now(), cv.Cancels)
	var c sca.Challenge
	method := r.PostFormValue("method")
	switch method {
	case string(sca.MethodSMS):
		c, err = s.sca.StartSMS(r.Context(), *br.cust, purpose, text)
	case string(sca.MethodMobile):
		c, err = s.sca.StartMobile(r.Context(), *br.cust, purpose, text)
	default:
		s.renderConsent(w, r, br, http.StatusBadRequest, translate(br.lang, "bank.choose_method"), ticked)
		return
	}
	if sca.CodeOf(err) != "" {
		s.renderConsent(w, r, br, http.StatusUnprocessableEntity, sca.Message(err, br.lang), ticked)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, "/authorize/"+url.PathEscape(br.id)+"/"+method+"?challenge="+url.QueryEscape(c.ID))
}

// consentPurpose binds a challenge to one request and the accounts approved.
func consentPurpose(requestID string, accounts []string) string {
	return "consent:" + url.Values{"request": {requestID}, "account": accounts}.Encode()
}

// boundChallenge returns the challenge of a consent step, with the accounts
// it approves, when it was started for this request by this customer; any
// other challenge reads as not found.
func (s *Server) boundChallenge(ctx context.Context, br *bankReq, id string) (sca.Challenge, []string, error) {
	c, err := s.sca.Challenge(ctx, id)
	if err != nil {
		return sca.Challenge{}, nil, err
	}
	rest, ok := strings.CutPrefix(c.Purpose, "consent:")
	q, perr := url.ParseQuery(rest)
	if !ok || perr != nil || q.Get("request") != br.id || c.CustomerID != br.cust.ID {
		return sca.Challenge{}, nil, errForeignChallenge
	}
	return c, q["account"], nil
}

// errForeignChallenge refuses a challenge of another request or customer.
var errForeignChallenge = &sca.Error{Code: sca.CodeNotFound,
	Message:   "This confirmation does not belong to this request; start again.",
	MessagePL: "To potwierdzenie nie dotyczy tej prośby; zacznij od nowa."}

// smsPage is the data of the SMS-code page.
type smsPage struct {
	Challenge string
	Text      string
	Phone     string
	Form      bool // the code may still be entered
}

// GET /authorize/{requestID}/sms?challenge=ID: the SMS-code form.
func (s *Server) bankSMSForm(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if !s.ready(w, r, br) {
		return
	}
	c, _, err := s.boundChallenge(r.Context(), br, r.URL.Query().Get("challenge"))
	if err != nil {
		s.challengeFailure(w, r, br, err)
		return
	}
	var problem error
	switch c.Status {
	case sca.StatusPending:
	case sca.StatusExpired:
		problem = &sca.Error{Code: sca.CodeExpired, Message: "The SMS code has expired; request a new one.",
			MessagePL: "Kod SMS wygasł; poproś o nowy."}
	default:
		problem = &sca.Error{Code: sca.CodeUsed, Message: "This SMS code can no longer be used; start again.",
			MessagePL: "Tego kodu SMS nie można już użyć; zacznij od nowa."}
	}
	s.renderSMS(w, r, br, c, problem)
}

// renderSMS shows the SMS-code page, with the form unless the challenge is
// over.
func (s *Server) renderSMS(w http.ResponseWriter, r *http.Request, br *bankReq, c sca.Challenge, problem error) {
	v := s.newView(w, r, "bank_sms", "bank.sms.title")
	d := smsPage{Challenge: c.ID, Text: c.Text, Phone: maskPhone(br.cust.Phone), Form: true}
	status := http.StatusOK
	if problem != nil {
		v.Error = sca.Message(problem, br.lang)
		status = http.StatusUnprocessableEntity
		switch sca.CodeOf(problem) {
		case sca.CodeWrongCode, sca.CodeInvalid:
		default:
			d.Form = false
		}
	}
	v.D = d
	s.render(w, status, v)
}

// challengeFailure shows a challenge that cannot be used here.
func (s *Server) challengeFailure(w http.ResponseWriter, r *http.Request, br *bankReq, err error) {
	if sca.CodeOf(err) == "" {
		s.fail(w, r, err)
		return
	}
	s.message(w, r, http.StatusForbidden, "title.forbidden", sca.Message(err, br.lang))
}

// POST /authorize/{requestID}/sms: checks the code and, when right,
// approves.
func (s *Server) bankSMS(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if !s.ready(w, r, br) {
		return
	}
	c, accounts, err := s.boundChallenge(r.Context(), br, r.PostFormValue("challenge"))
	if err != nil {
		s.challengeFailure(w, r, br, err)
		return
	}
	err = s.sca.VerifySMS(r.Context(), c.ID, br.cust.ID, r.PostFormValue("code"))
	if err != nil {
		if sca.CodeOf(err) == "" {
			s.fail(w, r, err)
			return
		}
		s.renderSMS(w, r, br, c, err)
		return
	}
	s.approve(w, r, br, accounts)
}

// approve records the approval after a successful SCA and sends the browser
// on.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, br *bankReq, accounts []string) {
	redirect, err := s.flow.Approve(r.Context(), br.id, br.cust.ID, accounts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("consent approved", "request", br.id, "customer", br.cust.ID, "accounts", len(accounts))
	s.finish(w, r, br, redirect, "bank.approved.title", "bank.approved")
}

// finish sends the browser to the TPP, or says that the customer may return
// to the TPP's application.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, br *bankReq, redirect, title, text string) {
	if redirect != "" {
		seeOther(w, r, redirect)
		return
	}
	s.message(w, r, http.StatusOK, title, fmt.Sprintf(translate(br.lang, text), br.page.TPPName))
}

// mobilePage is the data of the page that waits for the mobile app.
type mobilePage struct {
	Challenge string
	Text      string
}

// GET /authorize/{requestID}/mobile?challenge=ID: waits for the mobile app
// (the page reloads itself), then approves or rejects as the customer
// decided in the app.
func (s *Server) bankMobile(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if !s.ready(w, r, br) {
		return
	}
	c, accounts, err := s.boundChallenge(r.Context(), br, r.URL.Query().Get("challenge"))
	if err == nil && c.Method != sca.MethodMobile {
		err = errForeignChallenge
	}
	if err == nil {
		// Consume answers a pending challenge as it is, and a decided one
		// once: one approval in the app approves once.
		c, err = s.sca.Consume(r.Context(), c.ID, br.cust.ID)
	}
	if err != nil {
		s.challengeFailure(w, r, br, err)
		return
	}
	switch c.Status {
	case sca.StatusApproved:
		s.approve(w, r, br, accounts)
	case sca.StatusRejected:
		s.reject(w, r, br)
	default:
		v := s.newView(w, r, "bank_mobile", "bank.mobile.title")
		v.Refresh = mobilePoll
		v.D = mobilePage{Challenge: c.ID, Text: c.Text}
		s.render(w, http.StatusOK, v)
	}
}

// POST /authorize/{requestID}/reject
func (s *Server) bankReject(w http.ResponseWriter, r *http.Request, br *bankReq) {
	if !s.ready(w, r, br) {
		return
	}
	s.reject(w, r, br)
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request, br *bankReq) {
	redirect, err := s.flow.Reject(r.Context(), br.id, br.cust.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("consent rejected", "request", br.id, "customer", br.cust.ID)
	s.finish(w, r, br, redirect, "bank.rejected.title", "bank.rejected")
}

// FormatNRB writes a 26-digit account number in the usual groups
// ("12 3456 7890 ..."); anything else is returned as it is.
func FormatNRB(nrb string) string {
	if len(nrb) != 26 || strings.Trim(nrb, "0123456789") != "" {
		return nrb
	}
	var b strings.Builder
	b.WriteString(nrb[:2])
	for i := 2; i < 26; i += 4 {
		b.WriteByte(' ')
		b.WriteString(nrb[i : i+4])
	}
	return b.String()
}

// lastDigits shows the end of an account number, for SMS texts.
func lastDigits(nrb string) string {
	if len(nrb) <= 4 {
		return nrb
	}
	return "..." + nrb[len(nrb)-4:]
}

// maskPhone shows the last three digits of a phone number.
func maskPhone(phone string) string {
	if len(phone) <= 3 {
		return phone
	}
	return "*** *** " + phone[len(phone)-3:]
}

// smsText says in Polish, as banks' SMS messages do, what the code
// confirms: which TPP, and which access or payment — in short, what the
// consent page shows: the accounts, the history's depth and the validity
// (for ais-accounts, of what it may be exchanged for), every transfer of a
// bundle, a recurring payment's schedule, a split payment's VAT and
// invoice, the payment a cancellation cancels.
func smsText(p ConsentPage, accounts []string, now time.Time, cancels []cancelView) string {
	tpp := p.TPPName
	if tpp == "" {
		tpp = p.TPPID
	}
	if len(p.Cancels) > 0 && p.Payment == nil && len(p.Payments) == 0 {
		parts := make([]string, len(p.Cancels))
		for i, c := range p.Cancels {
			parts[i] = smsCancel(c)
			if i < len(cancels) && cancels[i].Found {
				parts[i] += fmt.Sprintf(" (%s %s", cancels[i].Amount, cancels[i].Currency)
				if r := cancels[i].Recipient; r != "" {
					parts[i] += " dla " + r
				}
				parts[i] += ")"
			}
		}
		return fmt.Sprintf("Zgoda dla %s: %s", tpp, smsList(parts))
	}
	if p.Bundle || len(p.Payments) > 1 {
		parts := make([]string, len(p.Payments))
		for i, pay := range p.Payments {
			parts[i] = smsPayment(pay)
		}
		currency := "PLN"
		if len(p.Payments) > 0 {
			currency = p.Payments[0].Currency
		}
		return fmt.Sprintf("Paczka przelewów przez %s (%d, razem %s %s): %s", tpp, len(p.Payments), p.Total, currency, smsList(parts))
	}
	if p.Payment != nil {
		kind := "Płatność"
		if p.Payment.Recurrence != nil {
			kind = "Płatność cykliczna"
		}
		return fmt.Sprintf("%s przez %s: %s", kind, tpp, smsPayment(*p.Payment))
	}
	what := "dostęp do rachunków"
	if p.Scope == "ais-accounts" {
		what = "dostęp do listy rachunków"
	}
	switch n := len(accounts); {
	case n > 0 && n <= 3:
		ends := make([]string, n)
		for i, a := range accounts {
			ends[i] = lastDigits(a)
		}
		what += " " + strings.Join(ends, ", ")
	case n > 3:
		what += fmt.Sprintf(" (%d)", n)
	}
	if p.HistoryDays > 0 {
		what += fmt.Sprintf(", historia %d dni", p.HistoryDays)
	}
	if !p.ValidUntil.IsZero() {
		what += ", do " + p.ValidUntil.In(polish.Warsaw).Format("2006-01-02")
	}
	if e := p.Exchange; e != nil {
		what += fmt.Sprintf("; potem bez pytania: szczegóły i historia do %d dni, do %s", e.MaxHistoryDays,
			now.Add(e.Validity).In(polish.Warsaw).Format("2006-01-02"))
	}
	return fmt.Sprintf("Zgoda dla %s: %s", tpp, what)
}
