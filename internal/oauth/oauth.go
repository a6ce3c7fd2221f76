// Package oauth is the bank's authorization server, called by both dialects
// (no HTTP here):
//
//   - Authorize (PolishAPI authorize / authorizeExt, mBank authorize) is a
//     pushed authorization request: it checks the client, redirect_uri,
//     scope and scope_details, stores a received consent and a one-time
//     request bound to the TPP and its QWAC, and returns the address of the
//     bank's consent page;
//   - Request, Approve and Reject serve that page after the customer's
//     login and SCA: Approve authorises the consent and makes a single-use,
//     short-lived code, returned in the redirect to the TPP or, for a
//     decoupled request, delivered to the TPP's callback;
//   - Token redeems codes (authorization_code), rotates refresh tokens
//     (refresh_token) and exchanges an ais-accounts token for an ais consent
//     (exchange_token);
//   - Authenticate resolves an access token on every TPP call, checking that
//     it is the TPP's and presented over the certificate it is bound to
//     (RFC 8705, cnf x5t#S256).
//
// Codes and tokens are opaque random strings stored only as SHA-256
// hashes. Errors are *Error values carrying the OAuth error code, an HTTP
// status and messages in English and Polish.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// DB is the storage the server needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// ClientLookup finds a registered OAuth client; *tpp.Registry implements
// it. When it also has TPP(ctx, id) (tpp.TPP, error), the consent page
// shows the TPP's name.
type ClientLookup interface {
	Client(ctx context.Context, clientID string) (tpp.Client, error)
}

// tppLookup is the optional part of ClientLookup.
type tppLookup interface {
	TPP(ctx context.Context, id string) (tpp.TPP, error)
}

// Accounts lists a customer's accounts; *ledger.Ledger implements it.
type Accounts interface {
	AccountsOf(ctx context.Context, customerID string) ([]ledger.Account, error)
}

// Customers finds a customer; *ledger.Ledger implements it. When
// configured, a decoupled request can be approved only by the customer
// whose login the TPP named.
type Customers interface {
	Customer(ctx context.Context, id string) (ledger.Customer, error)
}

// Config configures a Server. DB, Clock, Clients, Accounts, Consents and
// PageURL are required.
type Config struct {
	DB        DB
	Clock     clock.Clock
	Clients   ClientLookup
	Accounts  Accounts
	Customers Customers // optional: checks the PSU login of decoupled requests
	Consents  *consent.Service
	// PageURL is the address of the bank's consent page for a request.
	PageURL func(requestID string) string
	// Issuer, when set, is added as iss to the redirect (RFC 9207).
	Issuer string
	// RequestTTL is how long an authorization request waits for the
	// customer (default 10 minutes).
	RequestTTL time.Duration
	// CodeTTL is how long an authorization code lives (default 120 s).
	CodeTTL time.Duration
	// AccessTTL is how long an access token lives (default 15 minutes),
	// never beyond its consent.
	AccessTTL time.Duration
	// RefreshTTL is how long a refresh token lives (default 180 days),
	// never beyond its consent.
	RefreshTTL time.Duration
	// Deliver posts a decoupled result to the TPP's callback; nil = an
	// HTTP POST of the JSON body under Callbacks.
	Deliver func(ctx context.Context, callbackURL string, body []byte) error
	// Callbacks is where callbacks may go (https, the client's registered
	// hosts, public addresses only); the zero value is callback.Strict.
	Callbacks callback.Policy
	// DeliverRetries is how many times delivery is tried (default 4), with
	// a doubling pause from DeliverBackoff (default 1 s).
	DeliverRetries int
	DeliverBackoff time.Duration
	Logger         *slog.Logger
}

// Server is the authorization server. It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
}

// New returns a server; zero durations take their defaults.
func New(cfg Config) *Server {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.RequestTTL, 10*time.Minute)
	def(&cfg.CodeTTL, 120*time.Second)
	def(&cfg.AccessTTL, 15*time.Minute)
	def(&cfg.RefreshTTL, 180*24*time.Hour)
	def(&cfg.DeliverBackoff, time.Second)
	if cfg.DeliverRetries <= 0 {
		cfg.DeliverRetries = 4
	}
	if cfg.Deliver == nil {
		policy, client := cfg.Callbacks, cfg.Callbacks.Client()
		cfg.Deliver = func(ctx context.Context, callbackURL string, body []byte) error {
			return policy.Post(ctx, client, callbackURL, body)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{cfg: cfg, log: log}
}

// Code is an OAuth error code (RFC 6749 §5.2) or one of the bank's own for
// token checks and the consent page.
type Code string

// The error codes.
const (
	InvalidRequest          Code = "invalid_request"
	InvalidClient           Code = "invalid_client"
	InvalidGrant            Code = "invalid_grant"
	UnauthorizedClient      Code = "unauthorized_client"
	UnsupportedGrantType    Code = "unsupported_grant_type"
	UnsupportedResponseType Code = "unsupported_response_type"
	InvalidScope            Code = "invalid_scope"
	AccessDenied            Code = "access_denied"

	TokenInvalid          Code = "token_invalid"
	TokenExpired          Code = "token_expired"
	TokenWrongCertificate Code = "token_wrong_certificate"

	RequestUnknown  Code = "request_unknown"   // no such authorization request
	RequestExpired  Code = "request_expired"   // the request waited too long
	RequestDecided  Code = "request_decided"   // approved or rejected already
	AccountNotOwned Code = "account_not_owned" // an account the customer does not hold
	WrongCustomer   Code = "wrong_customer"    // a decoupled request for another login
)

var statusOf = map[Code]int{
	InvalidRequest:          http.StatusBadRequest,
	InvalidClient:           http.StatusUnauthorized,
	InvalidGrant:            http.StatusBadRequest,
	UnauthorizedClient:      http.StatusBadRequest,
	UnsupportedGrantType:    http.StatusBadRequest,
	UnsupportedResponseType: http.StatusBadRequest,
	InvalidScope:            http.StatusBadRequest,
	AccessDenied:            http.StatusForbidden,
	TokenInvalid:            http.StatusUnauthorized,
	TokenExpired:            http.StatusUnauthorized,
	TokenWrongCertificate:   http.StatusUnauthorized,
	RequestUnknown:          http.StatusNotFound,
	RequestExpired:          http.StatusGone,
	RequestDecided:          http.StatusConflict,
	AccountNotOwned:         http.StatusForbidden,
	WrongCustomer:           http.StatusForbidden,
}

// Error is an authorization server error: the OAuth code, an HTTP status,
// and messages for people in English and Polish that say what to do. A
// consent refusal behind it stays in the chain (errors.As).
type Error struct {
	Code      Code
	Status    int
	Message   string // English
	MessagePL string // Polish
	err       error
}

// Error returns the code and the English message.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Unwrap returns the consent error behind, if any.
func (e *Error) Unwrap() error { return e.err }

// In returns the message in lang ("pl" or anything else for English).
func (e *Error) In(lang string) string {
	if lang == "pl" && e.MessagePL != "" {
		return e.MessagePL
	}
	return e.Message
}

// CodeOf returns the code of the *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code Code, en, pl string, args ...any) *Error {
	return &Error{Code: code, Status: statusOf[code], Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// fromConsent turns a consent refusal into an OAuth error with its
// messages; other errors pass unchanged.
func fromConsent(code Code, err error) error {
	var ce *consent.Error
	if !errors.As(err, &ce) {
		return err
	}
	return &Error{Code: code, Status: statusOf[code], Message: ce.Message, MessagePL: ce.MessagePL, err: ce}
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hash is how codes and tokens are stored: hex SHA-256.
func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

var errNoRow = errors.New("no row changed")

func oneRow(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errNoRow
	}
	return nil
}
