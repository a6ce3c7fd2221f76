// Package obs is what an operator sees of the bank: one structured log
// line and one metric for each event that matters — an API call refused,
// a log-in and its failure, an SMS sent, a payment's status change, a
// back-office action, a move of the sandbox clock, the start and the
// shutdown. Each event is logged and counted at one place (Observer's
// methods), with stable attribute names (the constants below) and stable
// metric names (the README's operator section lists both).
//
// Nothing secret is ever logged: no tokens, codes, keys or passwords are
// handed to an Observer, and identifiers that are personal data (PESEL,
// account numbers) go through Mask, which keeps the last four digits.
//
// A nil *Observer does nothing, so the domain's services work without one.
package obs

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode"
)

// The events: the "event" attribute of every line an Observer writes.
const (
	EventAPIRefused    = "api.refused"
	EventAPIServed     = "api.served" // debug level
	EventLogin         = "login"
	EventSMSSent       = "sms.sent"
	EventPaymentStatus = "payment.status"
	EventBackOffice    = "backoffice.action"
	EventClockMoved    = "sandbox.clock"
	EventStart         = "start"
	EventShutdown      = "shutdown"
)

// The attribute names, the same in every event that has them.
const (
	AttrEvent     = "event"
	AttrDialect   = "dialect"
	AttrOperation = "operation"
	AttrTPP       = "tpp"
	AttrCode      = "code"
	AttrStatus    = "status"
	AttrRequestID = "request_id"
	AttrReason    = "reason"
	AttrMillis    = "duration_ms"
	AttrRealm     = "realm"
	AttrLogin     = "login"
	AttrOutcome   = "outcome"
	AttrSource    = "source"
	AttrFailures  = "failures"
	AttrCustomer  = "customer"
	AttrPurpose   = "purpose"
	AttrPayment   = "payment"
	AttrFrom      = "from"
	AttrStaff     = "staff"
	AttrAction    = "action"
	AttrTo        = "to"
	AttrChallenge = "challenge"
	AttrAmount    = "amount"
	AttrCurrency  = "currency"
	AttrRecipient = "recipient" // an account, masked
)

// The outcomes of a log-in.
const (
	LoginOK      = "ok"      // the right password
	LoginFailed  = "failed"  // a wrong login or password
	LoginLocked  = "locked"  // a wrong password that locked the login
	LoginRefused = "refused" // refused because the login is locked
)

// Observer logs and counts the bank's events. Its zero value logs nothing
// and counts nothing; so does a nil *Observer.
type Observer struct {
	Log     *slog.Logger
	Metrics *Metrics
}

// New is an Observer over log and m (either may be nil).
func New(log *slog.Logger, m *Metrics) *Observer { return &Observer{Log: log, Metrics: m} }

func (o *Observer) enabled(ctx context.Context, level slog.Level) bool {
	return o != nil && o.Log != nil && o.Log.Enabled(ctx, level)
}

func (o *Observer) log(ctx context.Context, level slog.Level, msg, event string, attrs ...slog.Attr) {
	if !o.enabled(ctx, level) {
		return
	}
	o.Log.LogAttrs(ctx, level, msg, append([]slog.Attr{slog.String(AttrEvent, event)}, attrs...)...)
}

func (o *Observer) metrics() *Metrics {
	if o == nil {
		return nil
	}
	return o.Metrics
}

// APICall is one TPP API call as the gateway finished it.
type APICall struct {
	Dialect   string // polishapi, mbank, berlingroup ("" for a path that matched no operation)
	Operation string // the standard's operation name (getAccounts, ...; "unrouted")
	TPP       string // the caller's organisation id, "" when not established
	RequestID string
	Status    int           // the HTTP status answered
	Code      string        // the refusal's stable code, "" when served
	Reason    string        // for a certificate refusal, the check that failed
	Duration  time.Duration // wall time in the bank
}

// API records an API call: every one is counted (requests, latency) and a
// refusal is logged (warning, or error for a 5xx) and counted by its code;
// a served call is logged at debug level.
func (o *Observer) API(ctx context.Context, c APICall) {
	o.metrics().api(c)
	level, msg, event := slog.LevelDebug, "API call served", EventAPIServed
	if c.Code != "" {
		level, msg, event = slog.LevelWarn, "API call refused", EventAPIRefused
		if c.Status >= 500 {
			level = slog.LevelError
		}
	}
	if !o.enabled(ctx, level) {
		return // a served call at info level: nothing built
	}
	attrs := []slog.Attr{
		slog.String(AttrDialect, c.Dialect), slog.String(AttrOperation, c.Operation), slog.String(AttrTPP, c.TPP),
		slog.Int(AttrStatus, c.Status), slog.String(AttrRequestID, c.RequestID),
		slog.Float64(AttrMillis, float64(c.Duration.Microseconds())/1000),
	}
	if c.Code != "" {
		attrs = append(attrs, slog.String(AttrCode, c.Code))
	}
	if c.Reason != "" {
		attrs = append(attrs, slog.String(AttrReason, c.Reason))
	}
	o.log(ctx, level, msg, event, attrs...)
}

// Login records a log-in attempt of a realm (customer, developer, staff)
// with its outcome (LoginOK, LoginFailed, LoginLocked, LoginRefused);
// failures is the count of failed attempts in a row, source the client's
// address. The password is never given to it.
func (o *Observer) Login(ctx context.Context, realm, login, outcome, source string, failures int) {
	o.metrics().login(realm, outcome)
	level := slog.LevelInfo
	msg := "log-in"
	if outcome != LoginOK {
		level, msg = slog.LevelWarn, "log-in refused"
	}
	attrs := []slog.Attr{slog.String(AttrRealm, realm), slog.String(AttrLogin, login), slog.String(AttrOutcome, outcome),
		slog.String(AttrSource, source)}
	if failures > 0 {
		attrs = append(attrs, slog.Int(AttrFailures, failures))
	}
	o.log(ctx, level, msg, EventLogin, attrs...)
}

// SMSSent records an SMS code sent to a customer: never the code or the
// text, and of the challenge's purpose only its kind, the part before the
// first colon ("consent", "ib"), which names no account.
func (o *Observer) SMSSent(ctx context.Context, customerID, challengeID, purpose string) {
	if i := strings.IndexByte(purpose, ':'); i >= 0 {
		purpose = purpose[:i]
	}
	o.metrics().sms(purpose)
	o.log(ctx, slog.LevelInfo, "SMS code sent", EventSMSSent, slog.String(AttrCustomer, customerID),
		slog.String(AttrChallenge, challengeID), slog.String(AttrPurpose, purpose))
}

// Payment is a payment's status change as PaymentStatus logs it.
type Payment struct {
	ID, TPP  string
	From, To string // From is "" for a payment just initiated
	Reason   string
	// Recipient is the payee's account, logged masked (Mask); Amount and
	// Currency as the payment has them ("12.34", "PLN").
	Recipient, Amount, Currency string
}

// PaymentStatus records a payment's new status, once the change is
// committed.
func (o *Observer) PaymentStatus(ctx context.Context, p Payment) {
	o.metrics().payment(p.To)
	msg := "payment status changed"
	if p.From == "" {
		msg = "payment initiated"
	}
	attrs := []slog.Attr{slog.String(AttrPayment, p.ID), slog.String(AttrTPP, p.TPP), slog.String(AttrFrom, p.From),
		slog.String(AttrStatus, p.To), slog.String(AttrAmount, p.Amount), slog.String(AttrCurrency, p.Currency),
		slog.String(AttrRecipient, Mask(p.Recipient))}
	if p.Reason != "" {
		attrs = append(attrs, slog.String(AttrReason, p.Reason))
	}
	o.log(ctx, slog.LevelInfo, msg, EventPaymentStatus, attrs...)
}

// BackOffice records a member of staff's action in the back office
// (action is the route, e.g. "POST /backoffice/tpps/suspend"; status the
// page's HTTP status). Form values are never logged.
func (o *Observer) BackOffice(ctx context.Context, staff, action string, status int) {
	o.metrics().backOffice(action)
	level := slog.LevelInfo
	if status >= 400 {
		level = slog.LevelWarn
	}
	o.log(ctx, level, "back-office action", EventBackOffice, slog.String(AttrStaff, staff), slog.String(AttrAction, action),
		slog.Int(AttrStatus, status))
}

// ClockMoved records a move of the sandbox clock asked from source (the
// client's address; a port is dropped).
func (o *Observer) ClockMoved(ctx context.Context, from, to time.Time, source string) {
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	o.metrics().clockMoved()
	o.log(ctx, slog.LevelInfo, "sandbox clock moved", EventClockMoved,
		slog.String(AttrFrom, from.UTC().Format(time.RFC3339)), slog.String(AttrTo, to.UTC().Format(time.RFC3339)),
		slog.String(AttrSource, source))
}

// Mask keeps the last four digits of an identifier that is personal data
// (a PESEL, an NRB or IBAN, a card number): "PL61109010140000071219812874"
// becomes "****2874". Anything with fewer than eight digits is masked
// whole.
func Mask(s string) string {
	var digits []rune
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits = append(digits, r)
		}
	}
	if len(digits) < 8 {
		return "****"
	}
	return "****" + string(digits[len(digits)-4:])
}

// Label makes a free-form value safe as a metric label of bounded
// cardinality: at most 64 characters, no control characters.
func Label(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
