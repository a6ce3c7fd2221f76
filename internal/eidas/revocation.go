package eidas

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// RevocationChecker tells whether a certificate has been revoked by its
// issuer. Check returns nil when the certificate is known to be good, an
// *Error with ReasonRevoked when it is revoked, and an *Error with
// ReasonRevocationUnknown when the status cannot be established (source
// unreachable, stale or silent about the certificate).
type RevocationChecker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate) error
}

var (
	_ RevocationChecker = (*CRLChecker)(nil)
	_ RevocationChecker = (*OCSPChecker)(nil)
	_ RevocationChecker = ChainChecker(nil)
	_ RevocationChecker = (*QTSP)(nil)
)

// Defaults of the network checkers.
const (
	defaultMaxAge       = time.Hour
	defaultFetchTimeout = 10 * time.Second
	defaultCRLMaxSize   = 16 << 20
	defaultOCSPMaxSize  = 1 << 20
	// clockSkew is the tolerance for a thisUpdate slightly in the future.
	clockSkew = 5 * time.Minute
	// maxCacheEntries bounds each checker's cache.
	maxCacheEntries = 10000
)

var defaultHTTPClient = &http.Client{Timeout: defaultFetchTimeout}

func revokedError(cert *x509.Certificate, at time.Time, reason int, source string) *Error {
	why := ""
	if reason > 0 {
		why = fmt.Sprintf(" (reason: %s)", revocationReasonName(reason))
	}
	return newError(ReasonRevoked,
		"the certificate %q (serial %s) was revoked by its issuer on %s%s, according to %s; it can no longer be used",
		cert.Subject.CommonName, serialHex(cert.SerialNumber), fmtTime(at), why, source)
}

func unknownError(cert *x509.Certificate, cause error, format string, args ...any) *Error {
	return wrapError(ReasonRevocationUnknown, cause,
		"the revocation status of the certificate (serial %s) could not be established: %s",
		serialHex(cert.SerialNumber), fmt.Sprintf(format, args...))
}

// revocationReasonName names an RFC 5280 CRLReason.
func revocationReasonName(r int) string {
	names := map[int]string{
		1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
		5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL",
		9: "privilegeWithdrawn", 10: "aACompromise",
	}
	if n, ok := names[r]; ok {
		return n
	}
	return fmt.Sprintf("code %d", r)
}

// ChainChecker asks each checker in turn (typically an OCSPChecker, then a
// CRLChecker). The first definite answer wins: good (nil) or revoked. When
// every checker fails to establish the status, the result is
// ReasonRevocationUnknown.
type ChainChecker []RevocationChecker

// Check implements RevocationChecker.
func (c ChainChecker) Check(ctx context.Context, cert, issuer *x509.Certificate) error {
	var errs []error
	var details []string
	for _, rc := range c {
		if rc == nil {
			continue
		}
		err := rc.Check(ctx, cert, issuer)
		if err == nil || ReasonOf(err) == ReasonRevoked {
			return err
		}
		errs = append(errs, err)
		details = append(details, err.Error())
	}
	if len(errs) == 0 {
		return unknownError(cert, nil, "no revocation source is configured")
	}
	if len(errs) == 1 {
		if ReasonOf(errs[0]) == ReasonRevocationUnknown {
			return errs[0]
		}
		return unknownError(cert, errs[0], "%v", errs[0])
	}
	return &Error{Reason: ReasonRevocationUnknown, Err: errors.Join(errs...),
		Detail: "no revocation source gave an answer: " + strings.Join(details, "; ")}
}

// CRLChecker checks revocation with the CRLs named in a certificate's CRL
// distribution points. It fetches each CRL over HTTP(S), verifies its
// signature against the issuer, and caches it until its nextUpdate (at most
// MaxAge). Concurrent checks of one URL share a single download. It is safe
// for concurrent use; the exported fields must not change after first use.
type CRLChecker struct {
	// Client fetches CRLs; nil uses a client with a 10 s timeout.
	Client *http.Client
	// Clock gives the current time. It must be set.
	Clock func() time.Time
	// MaxAge caps how long a CRL is cached (0: one hour).
	MaxAge time.Duration
	// MaxSize caps a CRL's size in bytes (0: 16 MiB).
	MaxSize int64
	// FetchTimeout bounds one download (0: 10 s).
	FetchTimeout time.Duration
	// AllowURL, if set, must approve a distribution point before it is
	// fetched (an allow-list against SSRF). Without it any http or https
	// URL is fetched.
	AllowURL func(*url.URL) bool

	cache fetchCache[*cachedCRL]
}

// NewCRLChecker returns a CRLChecker using client (nil: default) and clock.
func NewCRLChecker(client *http.Client, clock func() time.Time) *CRLChecker {
	return &CRLChecker{Client: client, Clock: clock}
}

type cachedCRL struct {
	crl     *x509.RevocationList
	revoked map[string]x509.RevocationListEntry // by serialHex

	mu       sync.Mutex
	verified map[[32]byte]error // signature check result per issuer
}

func (c *cachedCRL) checkIssuer(issuer *x509.Certificate) error {
	key := sha256.Sum256(issuer.Raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err, ok := c.verified[key]; ok {
		return err
	}
	var err error
	if !bytes.Equal(c.crl.RawIssuer, issuer.RawSubject) {
		err = errors.New("the CRL was issued by another CA than the certificate's issuer")
	} else if e := c.crl.CheckSignatureFrom(issuer); e != nil {
		err = fmt.Errorf("the CRL's signature does not verify with the issuer's key: %w", e)
	}
	if c.verified == nil {
		c.verified = map[[32]byte]error{}
	}
	c.verified[key] = err
	return err
}

// Check implements RevocationChecker.
func (c *CRLChecker) Check(ctx context.Context, cert, issuer *x509.Certificate) error {
	if c.Clock == nil {
		return unknownError(cert, nil, "CRLChecker.Clock is not set")
	}
	if issuer == nil {
		return unknownError(cert, nil, "its issuer is not known")
	}
	if len(cert.CRLDistributionPoints) == 0 {
		return unknownError(cert, nil, "it names no CRL distribution point")
	}
	now := c.Clock()
	var last error
	for _, u := range cert.CRLDistributionPoints {
		crl, err := c.fetch(ctx, u, now)
		if err != nil {
			last = unknownError(cert, err, "the CRL at %s: %v", u, err)
			continue
		}
		if err := crl.checkIssuer(issuer); err != nil {
			last = unknownError(cert, err, "the CRL at %s: %v", u, err)
			continue
		}
		if now.Before(crl.crl.ThisUpdate.Add(-clockSkew)) {
			last = unknownError(cert, nil, "the CRL at %s is not valid until %s", u, fmtTime(crl.crl.ThisUpdate))
			continue
		}
		if e, ok := crl.revoked[serialHex(cert.SerialNumber)]; ok {
			return revokedError(cert, e.RevocationTime, e.ReasonCode, "the CRL at "+u)
		}
		return nil
	}
	return last
}

func (c *CRLChecker) fetch(ctx context.Context, rawURL string, now time.Time) (*cachedCRL, error) {
	return c.cache.get(ctx, rawURL, now, func() (*cachedCRL, time.Time, error) {
		u, err := checkURL(rawURL, c.AllowURL)
		if err != nil {
			return nil, time.Time{}, err
		}
		body, err := httpDo(ctx, c.Client, c.FetchTimeout, func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		}, orDefault(c.MaxSize, defaultCRLMaxSize))
		if err != nil {
			return nil, time.Time{}, err
		}
		if p, _ := pem.Decode(body); p != nil && p.Type == "X509 CRL" {
			body = p.Bytes
		}
		crl, err := x509.ParseRevocationList(body)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("not a valid CRL: %w", err)
		}
		if !crl.NextUpdate.IsZero() && !now.Before(crl.NextUpdate) {
			return nil, time.Time{}, fmt.Errorf("the CRL is stale: its nextUpdate was %s", fmtTime(crl.NextUpdate))
		}
		cc := &cachedCRL{crl: crl, revoked: make(map[string]x509.RevocationListEntry, len(crl.RevokedCertificateEntries))}
		for _, e := range crl.RevokedCertificateEntries {
			cc.revoked[serialHex(e.SerialNumber)] = e
		}
		return cc, expiry(now, crl.NextUpdate, orDefault(c.MaxAge, defaultMaxAge)), nil
	})
}

// OCSPChecker checks revocation with the OCSP responders named in a
// certificate (its authorityInfoAccess). Answers are verified against the
// issuer (or a responder certificate the issuer delegated with the
// OCSPSigning usage), and good or revoked answers are cached until their
// nextUpdate (at most MaxAge). It is safe for concurrent use; the exported
// fields must not change after first use.
type OCSPChecker struct {
	// Client sends the requests; nil uses a client with a 10 s timeout.
	Client *http.Client
	// Clock gives the current time. It must be set.
	Clock func() time.Time
	// MaxAge caps how long an answer is cached (0: one hour).
	MaxAge time.Duration
	// MaxSize caps a response's size in bytes (0: 1 MiB).
	MaxSize int64
	// FetchTimeout bounds one request (0: 10 s).
	FetchTimeout time.Duration
	// Hash is the hash of the request's CertID (0: SHA-256).
	Hash crypto.Hash
	// AllowURL, if set, must approve a responder URL before it is asked.
	AllowURL func(*url.URL) bool

	cache fetchCache[*ocsp.Response]
}

// NewOCSPChecker returns an OCSPChecker using client (nil: default) and
// clock.
func NewOCSPChecker(client *http.Client, clock func() time.Time) *OCSPChecker {
	return &OCSPChecker{Client: client, Clock: clock}
}

// Check implements RevocationChecker.
func (c *OCSPChecker) Check(ctx context.Context, cert, issuer *x509.Certificate) error {
	if c.Clock == nil {
		return unknownError(cert, nil, "OCSPChecker.Clock is not set")
	}
	if issuer == nil {
		return unknownError(cert, nil, "its issuer is not known")
	}
	if len(cert.OCSPServer) == 0 {
		return unknownError(cert, nil, "it names no OCSP responder")
	}
	now := c.Clock()
	issuerKey := sha256.Sum256(issuer.Raw)
	key := fmt.Sprintf("%x/%s", issuerKey, serialHex(cert.SerialNumber))
	var last error
	for _, u := range cert.OCSPServer {
		resp, err := c.cache.get(ctx, key+"@"+u, now, func() (*ocsp.Response, time.Time, error) {
			return c.ask(ctx, u, cert, issuer, now)
		})
		if err != nil {
			last = unknownError(cert, err, "the OCSP responder at %s: %v", u, err)
			continue
		}
		switch resp.Status {
		case ocsp.Good:
			return nil
		case ocsp.Revoked:
			return revokedError(cert, resp.RevokedAt, resp.RevocationReason, "the OCSP responder at "+u)
		}
	}
	return last
}

// errOCSPUnknown is returned (and not cached) for an "unknown" answer.
var errOCSPUnknown = errors.New("the responder does not know the certificate")

func (c *OCSPChecker) ask(ctx context.Context, rawURL string, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, time.Time, error) {
	u, err := checkURL(rawURL, c.AllowURL)
	if err != nil {
		return nil, time.Time{}, err
	}
	h := c.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("cannot build the request: %w", err)
	}
	body, err := httpDo(ctx, c.Client, c.FetchTimeout, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(req))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/ocsp-request")
		r.Header.Set("Accept", "application/ocsp-response")
		return r, nil
	}, orDefault(c.MaxSize, defaultOCSPMaxSize))
	if err != nil {
		return nil, time.Time{}, err
	}
	resp, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("unusable response: %w", err)
	}
	// ParseResponseForCert accepts any certificate signed by the issuer as
	// the responder; only one delegated for OCSP signing may answer.
	if rc := resp.Certificate; rc != nil && !bytes.Equal(rc.Raw, issuer.Raw) {
		if !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return nil, time.Time{}, errors.New("the response is signed by a certificate not authorised for OCSP signing")
		}
		if now.Before(rc.NotBefore) || now.After(rc.NotAfter) {
			return nil, time.Time{}, errors.New("the responder's certificate is outside its validity period")
		}
	}
	if now.Before(resp.ThisUpdate.Add(-clockSkew)) {
		return nil, time.Time{}, fmt.Errorf("the response is not valid until %s", fmtTime(resp.ThisUpdate))
	}
	if !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate) {
		return nil, time.Time{}, fmt.Errorf("the response is stale: its nextUpdate was %s", fmtTime(resp.NextUpdate))
	}
	if resp.Status != ocsp.Good && resp.Status != ocsp.Revoked {
		return nil, time.Time{}, errOCSPUnknown
	}
	return resp, expiry(now, resp.NextUpdate, orDefault(c.MaxAge, defaultMaxAge)), nil
}

// checkURL accepts http and https URLs that allow approves.
func checkURL(raw string, allow func(*url.URL) bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if allow != nil && !allow(u) {
		return nil, fmt.Errorf("the URL %s is not allowed", u.Redacted())
	}
	return u, nil
}

// httpDo sends a request built by mk and reads a 200 answer of at most max
// bytes. The download is detached from ctx's cancellation (other callers
// may share it) but bounded by timeout.
func httpDo(ctx context.Context, client *http.Client, timeout time.Duration, mk func(context.Context) (*http.Request, error), max int64) ([]byte, error) {
	if client == nil {
		client = defaultHTTPClient
	}
	if timeout <= 0 {
		timeout = defaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	req, err := mk(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("the answer is larger than %d bytes", max)
	}
	return b, nil
}

func orDefault[T ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// expiry is when a cached answer must be fetched again: its nextUpdate, but
// no later than now+maxAge.
func expiry(now, nextUpdate time.Time, maxAge time.Duration) time.Time {
	limit := now.Add(maxAge)
	if !nextUpdate.IsZero() && nextUpdate.Before(limit) {
		return nextUpdate
	}
	return limit
}

// fetchCache caches values by key until their expiry, and lets concurrent
// callers of one key share a single fetch. Failed fetches are not kept.
type fetchCache[V any] struct {
	mu sync.Mutex
	m  map[string]*fetchEntry[V]
}

type fetchEntry[V any] struct {
	done    chan struct{} // closed when the fetch has finished
	val     V
	err     error
	expires time.Time
}

func (c *fetchCache[V]) get(ctx context.Context, key string, now time.Time, fetch func() (V, time.Time, error)) (V, error) {
	var zero V
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*fetchEntry[V]{}
	}
	if e, ok := c.m[key]; ok {
		select {
		case <-e.done:
			if e.err == nil && now.Before(e.expires) {
				c.mu.Unlock()
				return e.val, nil
			}
		default:
			c.mu.Unlock()
			select {
			case <-e.done:
				return e.val, e.err
			case <-ctx.Done():
				return zero, ctx.Err()
			}
		}
	}
	if len(c.m) >= maxCacheEntries {
		c.pruneLocked(now)
	}
	e := &fetchEntry[V]{done: make(chan struct{})}
	c.m[key] = e
	c.mu.Unlock()

	e.val, e.expires, e.err = fetch()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.m[key] == e {
			delete(c.m, key)
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}

// pruneLocked drops finished entries that have expired, and if that is not
// enough, all finished entries.
func (c *fetchCache[V]) pruneLocked(now time.Time) {
	for _, all := range []bool{false, true} {
		for k, e := range c.m {
			select {
			case <-e.done:
				if all || !now.Before(e.expires) {
					delete(c.m, k)
				}
			default:
			}
		}
		if len(c.m) < maxCacheEntries {
			return
		}
	}
}
