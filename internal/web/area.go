package web

// The one web area model. The bank's pages fall into four areas — the
// developer portal (/developer), the back office (/backoffice), the consent
// pages (/authorize) and internet banking (/ib) — and every area is served
// the same way:
//
//   - one page view (view): newView starts it for the request's area, with
//     the language, the language links and the session's subject; render
//     executes it in the area's layout;
//   - one session middleware per realm (session): it reads the realm's
//     cookie, loads the subject — the customer, the developer, the member of
//     staff — and puts it in the request's context (customerFrom,
//     developerFrom, staffFrom);
//   - one failure page (fail): every refusal of every domain package is
//     turned into a status and a message in the page's language here, and
//     shown by the one message page (message) in the area's layout;
//   - one template loader (loadPages) and one message catalogue (messages,
//     i18n.go, which the areas' files add to).

import (
	"context"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	aisdomain "github.com/psd2bank/psd2bank/internal/ais"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// area is one part of the pages: its path prefix, its layout, its message
// page and its name (a message key).
type area struct {
	prefix  string
	layout  string
	message string
	name    string
}

var (
	developerArea  = area{prefix: "/developer", layout: "layout", message: "message", name: "area.developer"}
	backofficeArea = area{prefix: "/backoffice", layout: "layout", message: "message", name: "area.backoffice"}
	consentArea    = area{prefix: "/authorize", layout: "bank_layout", message: "bank_message", name: "area.bank"}
	bankingArea    = area{prefix: "/ib", layout: "ib_layout", message: "ib_message", name: "area.bank"}
)

// areaOf is the area of a request path (the developer portal for any other
// path).
func areaOf(path string) area {
	for _, a := range []area{backofficeArea, consentArea, bankingArea} {
		if path == a.prefix || strings.HasPrefix(path, a.prefix+"/") {
			return a
		}
	}
	return developerArea
}

// view is what every page template of every area gets.
type view struct {
	Lang           string
	Page           string // the template's name
	Title          string // a message key
	Area           string // a message key: the area's name
	Base           string // the area's path prefix
	Home           string // where the brand links; "": Base
	LangPL, LangEN string // this page in the other language
	Sandbox        bool
	Error, Notice  string
	Refresh        int  // seconds; 0: none
	Back           bool // offer to go back to the authorization request
	RequestID      string
	Dev            *tpp.Developer
	Staff          *tpp.Staff
	Customer       *ledger.Customer
	C              *consentView   // the authorization request in the customer's words
	Down           []stats.Status // interfaces down or in planned maintenance now (back office)
	D              any            // the page's own data
	Now            time.Time      // the bank's clock when the page was made

	layout string
}

// The pages show every time in one zone, the bank's: Europe/Warsaw, named
// on every page (zoneLabel) next to the bank's clock.
const timeLayout = "2006-01-02 15:04"

// When writes t in the pages' time zone ("" for the zero time).
func (v view) When(t time.Time) string { return when(t) }

// WhenSec is When with seconds (audit logs).
func (v view) WhenSec(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(polish.Warsaw).Format(timeLayout + ":05")
}

// Day writes the date of t in the pages' time zone.
func (v view) Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(polish.Warsaw).Format("2006-01-02")
}

// Zone names the pages' time zone with its offset at the bank's now
// ("Europe/Warsaw, CET (UTC+01:00)").
func (v view) Zone() string {
	now := v.Now
	if now.IsZero() {
		now = time.Now()
	}
	return polish.Warsaw.String() + ", " + now.In(polish.Warsaw).Format("MST (UTC-07:00)")
}

// when is View.When for Go code.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(polish.Warsaw).Format(timeLayout)
}

// T translates a message key into the page's language.
func (v view) T(key string) string { return translate(v.Lang, key) }

// newView starts the view of a page in the area of the request's path, with
// the subject of the area's session (from the context) and links to the
// page in each language.
func (s *Server) newView(w http.ResponseWriter, r *http.Request, page, title string) view {
	a := areaOf(r.URL.Path)
	ctx := r.Context()
	v := view{Lang: language(w, r), Page: page, Title: title, Sandbox: s.sandbox, Area: a.name, Base: a.prefix,
		layout: a.layout, Dev: developerFrom(ctx), Staff: staffFrom(ctx), Customer: customerFrom(ctx), Now: s.clock.Now()}
	// The link to this page in another language: a GET page links to itself;
	// the answer to a POST links to the area's page it came from.
	self, q := r.URL.Path, r.URL.Query()
	switch a {
	case consentArea:
		v.RequestID = r.PathValue("requestID")
		if r.Method != http.MethodGet {
			self, q = "/authorize/"+url.PathEscape(v.RequestID), url.Values{}
		}
	case bankingArea:
		if r.Method != http.MethodGet {
			self, q = "/ib/accounts", url.Values{}
			if v.Customer == nil {
				self = "/ib/login"
			}
		}
	default:
		self, q = "", url.Values{}
	}
	q.Del("lang")
	for _, l := range languages {
		q.Set("lang", l)
		if l == "pl" {
			v.LangPL = self + "?" + q.Encode()
		} else {
			v.LangEN = self + "?" + q.Encode()
		}
	}
	return v
}

// render writes a page in its area's layout.
func (s *Server) render(w http.ResponseWriter, status int, v view) {
	s.renderPage(w, status, s.pages, v.layout, v.Page, v)
}

// message renders the area's page that only says something: an error (a
// status of 400 or more) or a notice.
func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	v := s.newView(w, r, areaOf(r.URL.Path).message, title)
	if status >= 400 {
		v.Error = text
	} else {
		v.Notice = text
	}
	// After a refusal of a step, the authorization request itself may still
	// be decided.
	if p := consentFrom(r.Context()); p != nil {
		v.Back = (title == "title.error" || title == "title.forbidden") && p.RequestID != "" && !p.Decided && !p.Expired
	}
	s.render(w, status, v)
}

// fail is the one failure page: it shows err in the request's area with the
// status and the words its domain package's code calls for, or (after
// logging it) an internal error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := language(w, r)
	status, title, text := failure(err, lang)
	if status == http.StatusInternalServerError {
		s.log.Error("page failed", "area", areaOf(r.URL.Path).prefix, "method", r.Method, "path", r.URL.Path, "err", err)
		text = translate(lang, "error.internal")
	}
	s.message(w, r, status, title, text)
}

// pageError is how a domain code shows on a page: the status, the title
// and, where the domain's own words are not for customers, the catalogue
// key of the text to show instead.
type pageError struct {
	status int
	title  string
	text   string
}

// pageErrors is the pages' table of every domain code (fault.Codes; see
// TestEveryCodeHasAPage): a refusal of a domain package shows with its
// status and title and the domain's message; a code missing here is an
// internal error.
var pageErrors = map[fault.Code]pageError{
	access.CodeBlocked:                  {http.StatusConflict, "title.error", ""},
	access.CodeDayLimit:                 {http.StatusConflict, "title.error", ""},
	access.CodeHotlineOnly:              {http.StatusForbidden, "title.error", ""},
	access.CodeInvalid:                  {http.StatusUnprocessableEntity, "title.error", ""},
	access.CodeLimitExceeded:            {http.StatusConflict, "title.error", ""},
	access.CodeNotActivated:             {http.StatusConflict, "title.error", ""},
	access.CodeNotChangeable:            {http.StatusForbidden, "title.error", ""},
	access.CodeNotFound:                 {http.StatusNotFound, "title.not_found", ""},
	access.CodeNotVerified:              {http.StatusConflict, "title.error", ""},
	access.CodeNotYours:                 {http.StatusForbidden, "title.error", ""},
	access.CodeUnchanged:                {http.StatusConflict, "title.error", ""},
	access.CodeUnknownAccount:           {http.StatusNotFound, "title.not_found", ""},
	access.CodeVerificationFailed:       {http.StatusConflict, "title.error", ""},
	access.CodeWrongPESEL:               {http.StatusConflict, "title.error", ""},
	aisdomain.CodeAccountUnknown:        {http.StatusNotFound, "title.not_found", ""},
	aisdomain.CodeInvalid:               {http.StatusConflict, "title.error", ""},
	aisdomain.CodeItemUnknown:           {http.StatusNotFound, "title.not_found", ""},
	aisdomain.CodePageInvalid:           {http.StatusConflict, "title.error", ""},
	aisdomain.CodeTokenMissing:          {http.StatusConflict, "title.error", ""},
	consent.CodeAccessLimit:             {http.StatusConflict, "title.error", ""},
	consent.CodeAccountNotInConsent:     {http.StatusConflict, "title.error", ""},
	consent.CodeAlreadyRevoked:          {http.StatusConflict, "title.error", ""},
	consent.CodeDuplicate:               {http.StatusConflict, "title.error", ""},
	consent.CodeExpired:                 {http.StatusConflict, "title.error", ""},
	consent.CodeHistoryTooLong:          {http.StatusConflict, "title.error", ""},
	consent.CodeInvalid:                 {http.StatusConflict, "title.error", ""},
	consent.CodeInvalidPrivileges:       {http.StatusConflict, "title.error", ""},
	consent.CodeNotAuthorised:           {http.StatusConflict, "title.error", ""},
	consent.CodeNotFound:                {http.StatusNotFound, "title.not_found", ""},
	consent.CodePrivilegeMissing:        {http.StatusConflict, "title.error", ""},
	consent.CodeRejected:                {http.StatusConflict, "title.error", ""},
	consent.CodeRevoked:                 {http.StatusConflict, "title.error", ""},
	consent.CodeRevokedByTPP:            {http.StatusConflict, "title.error", ""},
	consent.CodeUnknown:                 {http.StatusNotFound, "title.not_found", ""},
	consent.CodeUsageExhausted:          {http.StatusConflict, "title.error", ""},
	consent.CodeWrongState:              {http.StatusConflict, "title.error", ""},
	ledger.CodeConflict:                 {http.StatusInternalServerError, "title.error", ""},
	ledger.CodeCurrencyMismatch:         {http.StatusInternalServerError, "title.error", ""},
	ledger.CodeInsufficientFunds:        {http.StatusInternalServerError, "title.error", ""},
	ledger.CodeInvalid:                  {http.StatusInternalServerError, "title.error", ""},
	ledger.CodeNotFound:                 {http.StatusNotFound, "title.error", "error.internal"},
	oauth.AccessDenied:                  {http.StatusConflict, "title.error", ""},
	oauth.AccountNotOwned:               {http.StatusConflict, "title.error", ""},
	oauth.InvalidClient:                 {http.StatusConflict, "title.error", ""},
	oauth.InvalidGrant:                  {http.StatusConflict, "title.error", ""},
	oauth.InvalidRequest:                {http.StatusConflict, "title.error", ""},
	oauth.InvalidScope:                  {http.StatusConflict, "title.error", ""},
	oauth.RequestDecided:                {http.StatusConflict, "title.error", ""},
	oauth.RequestExpired:                {http.StatusConflict, "title.error", ""},
	oauth.RequestUnknown:                {http.StatusNotFound, "title.not_found", ""},
	oauth.TokenExpired:                  {http.StatusConflict, "title.error", ""},
	oauth.TokenInvalid:                  {http.StatusConflict, "title.error", ""},
	oauth.TokenWrongCertificate:         {http.StatusConflict, "title.error", ""},
	oauth.UnauthorizedClient:            {http.StatusConflict, "title.error", ""},
	oauth.UnsupportedGrantType:          {http.StatusConflict, "title.error", ""},
	oauth.UnsupportedResponseType:       {http.StatusConflict, "title.error", ""},
	oauth.WrongCustomer:                 {http.StatusConflict, "title.error", ""},
	payment.CodeDuplicate:               {http.StatusConflict, "title.error", ""},
	payment.CodeInsufficientFunds:       {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidAmount:           {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidBundle:           {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidCurrency:         {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidExecutionDate:    {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidRecipient:        {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidRecipientAccount: {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidRecipientName:    {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidRecurrence:       {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidRequest:          {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidSenderAccount:    {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidSplitPayment:     {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidSystem:           {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidTaxInfo:          {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidTitle:            {http.StatusConflict, "title.error", ""},
	payment.CodeInvalidType:             {http.StatusConflict, "title.error", ""},
	payment.CodeLimitExceeded:           {http.StatusConflict, "title.error", ""},
	payment.CodeNotCancellable:          {http.StatusConflict, "title.error", ""},
	payment.CodeNotFound:                {http.StatusNotFound, "title.not_found", ""},
	payment.CodeNotInConsent:            {http.StatusConflict, "title.error", ""},
	sca.CodeBusy:                        {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeCodeFailed:                  {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeExpired:                     {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeInvalid:                     {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeLocked:                      {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeNoPhone:                     {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeNotFound:                    {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeNothingPending:              {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeUnknownLogin:                {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeUsed:                        {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeWrongCode:                   {http.StatusForbidden, "title.forbidden", ""},
	sca.CodeWrongCredentials:            {http.StatusForbidden, "title.forbidden", ""},
	tpp.CodeBusy:                        {http.StatusServiceUnavailable, "title.error", ""},
	tpp.CodeCertificate:                 {http.StatusUnprocessableEntity, "title.error", ""},
	tpp.CodeConflict:                    {http.StatusConflict, "title.error", ""},
	tpp.CodeIncomplete:                  {http.StatusUnprocessableEntity, "title.error", ""},
	tpp.CodeInvalid:                     {http.StatusUnprocessableEntity, "title.error", ""},
	tpp.CodeLocked:                      {http.StatusTooManyRequests, "title.error", ""},
	tpp.CodeNotFound:                    {http.StatusNotFound, "title.not_found", ""},
	tpp.CodeNotLicensed:                 {http.StatusUnprocessableEntity, "title.error", ""},
	tpp.CodeSandboxCertificate:          {http.StatusUnprocessableEntity, "title.error", ""},
	tpp.CodeSuspended:                   {http.StatusConflict, "title.error", ""},
	tpp.CodeTooLarge:                    {http.StatusRequestEntityTooLarge, "title.error", ""},
	tpp.CodeUnauthenticated:             {http.StatusUnauthorized, "title.error", ""},
	tpp.CodeUnsupportedType:             {http.StatusUnsupportedMediaType, "title.error", ""},
	tpp.CodeWrongState:                  {http.StatusConflict, "title.error", ""},
}

// failure is the status, title and text of the page for err: the first
// domain refusal in its chain, by pageErrors; anything else is an internal
// error (status 500, no text).
func failure(err error, lang string) (status int, title, text string) {
	e, ok := fault.As(err)
	if !ok {
		return http.StatusInternalServerError, "title.error", ""
	}
	p, ok := pageErrors[e.Code]
	if !ok || p.status == http.StatusInternalServerError {
		return http.StatusInternalServerError, "title.error", ""
	}
	if p.text != "" {
		return p.status, p.title, translate(lang, p.text)
	}
	return p.status, p.title, capitalize(e.In(lang))
}

// The subjects of the sessions in the request's context.
type (
	customerKey  struct{}
	developerKey struct{}
	staffKey     struct{}
	consentKey   struct{}
)

// customerFrom is the customer logged in to internet banking (the consent
// pages and /ib), or nil.
func customerFrom(ctx context.Context) *ledger.Customer {
	c, _ := ctx.Value(customerKey{}).(*ledger.Customer)
	return c
}

// developerFrom is the developer logged in to the portal, or nil.
func developerFrom(ctx context.Context) *tpp.Developer {
	d, _ := ctx.Value(developerKey{}).(*tpp.Developer)
	return d
}

// staffFrom is the member of staff logged in to the back office, or nil.
func staffFrom(ctx context.Context) *tpp.Staff {
	st, _ := ctx.Value(staffKey{}).(*tpp.Staff)
	return st
}

// consentFrom is the authorization request a consent page is about, or nil.
func consentFrom(ctx context.Context) *ConsentPage {
	p, _ := ctx.Value(consentKey{}).(*ConsentPage)
	return p
}

// session is the session middleware of a realm: it reads the realm's
// session, loads its subject and puts it in the request's context for next.
// A request without a session goes on without a subject (next decides
// whether it needs one); a session whose subject cannot be loaded (a
// customer, developer or member of staff who is gone) is ended.
func (s *Server) session(rl realm, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, err := s.sessions.subject(ctx, r, rl)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if id != "" {
			key, subject, err := s.loadSubject(ctx, rl, id)
			if err != nil {
				s.sessions.end(ctx, w, r, rl)
			} else {
				r = r.WithContext(context.WithValue(ctx, key, subject))
			}
		}
		next(w, r)
	}
}

// loadSubject loads the subject of a session of the realm.
func (s *Server) loadSubject(ctx context.Context, rl realm, id string) (key, subject any, err error) {
	switch rl.name {
	case bankRealm.name:
		c, err := s.sca.Customer(ctx, id)
		return customerKey{}, &c, err
	case developerRealm.name:
		d, err := s.reg.Developer(ctx, id)
		return developerKey{}, &d, err
	case backofficeRealm.name:
		st, err := s.reg.StaffMember(ctx, id)
		return staffKey{}, &st, err
	}
	return nil, nil, errors.New("web: unknown session realm " + rl.name)
}

// loadPages parses every template of fsys matching one of globs except the
// shared ones, each together with the shared ones (its layout), into pages
// under prefix + its base name. It panics on a broken template (a
// programming error caught by any test).
func loadPages(pages map[string]*template.Template, fsys fs.FS, globs []string, prefix string, shared ...string) {
	var names []string
	for _, g := range globs {
		found, err := fs.Glob(fsys, g)
		if err != nil {
			panic(err)
		}
		names = append(names, found...)
	}
	isShared := map[string]bool{}
	for _, n := range shared {
		isShared[n] = true
	}
	for _, n := range names {
		if isShared[n] {
			continue
		}
		base := n[strings.LastIndex(n, "/")+1:]
		files := append(append([]string{}, shared...), n)
		pages[prefix+strings.TrimSuffix(base, ".html")] = template.Must(template.ParseFS(fsys, files...))
	}
}
