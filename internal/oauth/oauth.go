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
	"log/slog"
	"time"

	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
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
	cfg    Config
	log    *slog.Logger
	tokens *live.Kept[cachedToken] // the access tokens read (Cached)
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
	return &Server{cfg: cfg, log: log, tokens: &live.Kept[cachedToken]{Max: maxCachedTokens}}
}

// Code is an error code of the authorization server: an OAuth error code
// (RFC 6749 §5.2) or one of the bank's own for token checks and the
// consent page, as a fault.Code of the "oauth" domain ("oauth.invalid_request");
// Code.Name() is the OAuth code a TPP reads.
type Code = fault.Code

// The error codes.
var (
	InvalidRequest          = fault.Define("oauth", "invalid_request")
	InvalidClient           = fault.Define("oauth", "invalid_client")
	InvalidGrant            = fault.Define("oauth", "invalid_grant")
	UnauthorizedClient      = fault.Define("oauth", "unauthorized_client")
	UnsupportedGrantType    = fault.Define("oauth", "unsupported_grant_type")
	UnsupportedResponseType = fault.Define("oauth", "unsupported_response_type")
	InvalidScope            = fault.Define("oauth", "invalid_scope")
	AccessDenied            = fault.Define("oauth", "access_denied")
	TokenInvalid            = fault.Define("oauth", "token_invalid")
	TokenExpired            = fault.Define("oauth", "token_expired")
	TokenWrongCertificate   = fault.Define("oauth", "token_wrong_certificate")
	RequestUnknown          = fault.Define("oauth", "request_unknown")   // no such authorization request
	RequestExpired          = fault.Define("oauth", "request_expired")   // the request waited too long
	RequestDecided          = fault.Define("oauth", "request_decided")   // approved or rejected already
	AccountNotOwned         = fault.Define("oauth", "account_not_owned") // an account the customer does not hold
	WrongCustomer           = fault.Define("oauth", "wrong_customer")    // a decoupled request for another login
)

// Error is an authorization server error (the bank's one error type,
// fault.Error): the code and messages for people in English and Polish
// that say what to do. A consent refusal behind it stays in the chain
// (errors.As, consent.CodeOf). The transports choose the HTTP status.
type Error = fault.Error

// CodeOf returns the code of the authorization server's *Error in err's
// chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "oauth") }

func newError(code Code, en, pl string, args ...any) *Error {
	return fault.New(code, en, pl, args...)
}

// fromConsent turns a consent refusal into an OAuth error with its
// messages; other errors pass unchanged.
func fromConsent(code Code, err error) error {
	ce := fault.Find(err, "consent")
	if ce == nil {
		return err
	}
	return (&Error{Code: code, Message: ce.Message, MessagePL: ce.MessagePL}).Wrap(ce)
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
