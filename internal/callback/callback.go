// Package callback decides where the bank may send a TPP's callbacks
// (payment status notifications, the result of a decoupled authorization)
// and sends them so that a callbackURL cannot make the bank call into its
// own network (SSRF):
//
//   - only https;
//   - only to a host the TPP registered: the host of one of its client's
//     redirect URIs, or a subdomain of it;
//   - never to a loopback, private, link-local, shared (CGNAT), multicast
//     or unspecified address — checked on the URL when the TPP sends it,
//     and again on the address the name resolves to when the bank
//     connects (a Dialer Control), so a DNS answer cannot sneak it in;
//   - a short timeout, no redirects followed, no proxy from the
//     environment.
//
// The one exception is the sandbox's (Policy.AllowLoopback): a TPP whose
// registered redirect URIs are on a loopback host (the sandbox's demo TPP,
// a developer's TPP on their own machine) may receive callbacks there, by
// http or https. Production is strict: Strict.
package callback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy is where callbacks may go. The zero value is Strict.
type Policy struct {
	// AllowLoopback lets a TPP that registered a loopback redirect URI
	// receive callbacks on loopback (http or https). Sandbox only.
	AllowLoopback bool
	// Timeout bounds one delivery, connection to answer (default 5 s).
	Timeout time.Duration
}

// Strict is production's policy.
var Strict = Policy{}

// Sandbox is the sandbox's policy: Strict, but a TPP on the developer's
// machine gets its callbacks there.
var Sandbox = Policy{AllowLoopback: true}

// Error says why a callback URL is refused, in English and Polish; the
// field is the callbackURL.
type Error struct {
	EN, PL string
}

func (e *Error) Error() string { return e.EN }

func refuse(en, pl string, args ...any) *Error {
	return &Error{EN: fmt.Sprintf(en, args...), PL: fmt.Sprintf(pl, args...)}
}

// Check is the early check, when a TPP sends a callback URL: raw must be
// an https URL (or, in the sandbox, a loopback one) on a host of one of the
// registered redirect URIs (or a subdomain of one), and not name a
// non-public address.
func (p Policy) Check(raw string, registered []string) error {
	u, err := p.parse(raw)
	if err != nil {
		return err
	}
	host := canonicalHost(u.Hostname())
	var hosts []string
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Hostname() == "" {
			continue
		}
		rh := canonicalHost(ru.Hostname())
		hosts = append(hosts, rh)
		if host == rh {
			return nil
		}
		if _, isIP := parseIP(rh); !isIP && strings.HasSuffix(host, "."+rh) {
			return nil
		}
	}
	if len(hosts) == 0 {
		return refuse("the callback URL's host %s is not registered for your client (it has no redirect URIs): callbacks go only to the hosts of your registered redirect URIs",
			"host adresu callbacku %s nie jest zarejestrowany dla Twojego klienta (nie ma adresów przekierowania): callbacki trafiają tylko na hosty zarejestrowanych adresów przekierowania", host)
	}
	return refuse("the callback URL's host %s is not one your client registered (%s) nor a subdomain of one: use a registered host or register it in the developer portal",
		"host adresu callbacku %s nie jest zarejestrowany dla Twojego klienta (%s) ani nie jest jego subdomeną: użyj zarejestrowanego hosta albo zarejestruj go w portalu dewelopera",
		host, strings.Join(hosts, ", "))
}

// CheckSend is the check at send time, when the registered hosts are no
// longer at hand: the scheme and an address named literally. The Client's
// dialer checks the address connected to.
func (p Policy) CheckSend(raw string) error {
	_, err := p.parse(raw)
	return err
}

func (p Policy) parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" || u.Opaque != "" {
		return nil, refuse("the callback URL %q is not an absolute https URL", "adres callbacku %q nie jest bezwzględnym adresem https", raw)
	}
	if u.User != nil {
		return nil, refuse("the callback URL must not carry a user name or password", "adres callbacku nie może zawierać nazwy użytkownika ani hasła")
	}
	host := canonicalHost(u.Hostname())
	loopback := isLoopbackHost(host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && p.AllowLoopback:
	default:
		return nil, refuse("the callback URL must use https (it uses %s)", "adres callbacku musi używać https (używa %s)", u.Scheme)
	}
	if loopback && !p.AllowLoopback {
		return nil, refuse("the callback URL must not point at a loopback address (%s): give a public https address",
			"adres callbacku nie może wskazywać adresu pętli zwrotnej (%s): podaj publiczny adres https", host)
	}
	if ip, ok := parseIP(host); ok && !loopback && !public(ip) {
		return nil, refuse("the callback URL must not point at a private, link-local or reserved address (%s): give a public https address",
			"adres callbacku nie może wskazywać adresu prywatnego, lokalnego łącza ani zastrzeżonego (%s): podaj publiczny adres https", host)
	}
	return u, nil
}

// Client returns the HTTP client that sends callbacks under the policy:
// its dialer refuses non-public addresses after name resolution, it
// follows no redirect and uses no proxy.
func (p Policy) Client() *http.Client {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	d := &net.Dialer{Timeout: timeout, Control: p.control}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// ErrForbiddenAddress is the dialer's refusal of a non-public address.
var ErrForbiddenAddress = errors.New("callback: the address is not a public one")

// control runs after name resolution, on the address about to be
// connected to.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() && p.AllowLoopback {
		return nil
	}
	if !public(ip) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
	}
	return nil
}

// Post sends body to raw under the policy; a 2xx answer is success.
func (p Policy) Post(ctx context.Context, client *http.Client, raw string, body []byte) error {
	if err := p.CheckSend(raw); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("callback answered %s", res.Status)
	}
	return nil
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),  // documentation
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64: may reach any IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"), // 6to4: embeds an IPv4
	netip.MustParsePrefix("2001::/32"), // Teredo
}

// public reports whether ip is an ordinary public unicast address.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func parseIP(host string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, ok := parseIP(host)
	return ok && ip.IsLoopback()
}
