package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/jws"
)

// mBank's own Postman collection for its PSD2 API v3 (mElements, MIT
// licence, copied with its licence from /work/shared/specs/polishapi/mbank),
// replayed against the sandbox.
const mbankCollection = "testdata/mbank/mBank-PSD2-API-v3.postman_collection.json"

// postmanItem is a folder or a request of a Postman v2.1 collection.
type postmanItem struct {
	Name    string          `json:"name"`
	Item    []postmanItem   `json:"item"`
	Request *postmanRequest `json:"request"`
}

type postmanRequest struct {
	Method string `json:"method"`
	Header []struct {
		Key      string `json:"key"`
		Value    string `json:"value"`
		Disabled bool   `json:"disabled"`
	} `json:"header"`
	Body *struct {
		Mode string `json:"mode"`
		Raw  string `json:"raw"`
	} `json:"body"`
	URL json.RawMessage `json:"url"` // a string, or an object with raw
}

// rawURL is the request's URL as written, {{variables}} and query included.
func (r *postmanRequest) rawURL(t *testing.T) string {
	t.Helper()
	var s string
	if json.Unmarshal(r.URL, &s) == nil {
		return s
	}
	var u struct{ Raw string }
	if err := json.Unmarshal(r.URL, &u); err != nil {
		t.Fatalf("url %s: %v", r.URL, err)
	}
	return u.Raw
}

var postmanVariable = regexp.MustCompile(`\{\{(\w+)\}\}`)

// fill replaces the {{variables}} it knows; ok is false when one is not
// known yet.
func fill(s string, vars map[string]string) (out string, ok bool) {
	ok = true
	out = postmanVariable.ReplaceAllStringFunc(s, func(m string) string {
		v, known := vars[m[2:len(m)-2]]
		if !known {
			ok = false
			return m
		}
		return v
	})
	return out, ok
}

// collectionSubstitutions are the sample values in the collection's bodies
// that our bank must refuse, by request name: each literal is replaced as
// written, and the test fails if it is no longer in the body.
//
//   - redirect_uri "https://tpp-redirect-uri.com" (authorize and the code's
//     token request): a bank sends the customer back only to a redirect_uri
//     the TPP registered (RFC 6749 §3.1.2.2, PolishAPI §6.1), and the token
//     request must repeat the authorize request's one (RFC 6749 §4.1.3).
//     It becomes the demo TPP's registered redirect_uri.
//   - maxAllowedHistoryLong 1 (exchange token): one day of history is a
//     valid consent, and the bank serves it, but the collection's next
//     requests need a booked transaction on the account in that day (the
//     list's first item is the one whose details are read). The sandbox's
//     synthetic accounts have days without one (weekends, holidays, the
//     small hours), so the consent asks for 90 days, the RTS's window
//     without a fresh SCA.
//
// Everything else is sent as written: the {{variables}} are what the
// collection's scripts and environment would set (scopeTimeLimit one day
// ahead and a fresh UUID v4 consentId and state, as the authorize request's
// pre-request script does; the authorization code; accessToken, accountId
// and accountNumber from earlier answers, as the test scripts do).
func collectionSubstitutions(redirectURI string) map[string][][2]string {
	redirect := [][2]string{{`"redirect_uri": "https://tpp-redirect-uri.com"`, `"redirect_uri": "` + redirectURI + `"`}}
	return map[string][][2]string{
		"Retrieve authorization URI":                      redirect,
		"Retrieve accessToken for account list retrieval": redirect,
		"Exchange token to AIS scope":                     {{`"maxAllowedHistoryLong": 1,`, `"maxAllowedHistoryLong": 90,`}},
	}
}

// TestMBankPostmanCollection replays every AIS and CAF request of mBank's
// collection — authorize, token, account list, exchange token, account
// details, transaction details, transaction list, delete consent, funds
// confirmation — as written there (method, URL, query, headers, body),
// signed as the collection's jwsInternalScript signs (MBankPayload over
// uri, the allow-listed headers and the body, with the demo TPP's QSealC),
// over mutual TLS with the demo TPP's QWAC. The customer approves the
// consent in between through the bank's pages. Every answer must be 2xx
// and carry the bank's seal.
func TestMBankPostmanCollection(t *testing.T) {
	raw, err := os.ReadFile(mbankCollection)
	if err != nil {
		t.Fatal(err)
	}
	var coll struct{ Item []postmanItem }
	if err := json.Unmarshal(raw, &coll); err != nil {
		t.Fatalf("%s: %v", mbankCollection, err)
	}
	var requests []postmanItem
	for _, folder := range coll.Item {
		if folder.Name == "AIS" || folder.Name == "CAF" {
			requests = append(requests, folder.Item...)
		}
	}
	if len(requests) != 9 {
		t.Fatalf("the collection's AIS and CAF folders hold %d requests, want 9", len(requests))
	}

	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	demoDir := filepath.Join(data, "sandbox", "demo-tpp")
	demo := loadTPP(t, demoDir, data)
	var registered struct {
		RedirectURI string `json:"redirect_uri"`
	}
	if raw, err := os.ReadFile(filepath.Join(demoDir, "client.json")); err != nil || json.Unmarshal(raw, &registered) != nil {
		t.Fatalf("demo TPP's client.json: %v", err)
	}
	seal := bankSeal(t, data)
	who := readPSUs(t, data)[0]
	var psus []struct {
		Accounts []struct{ Number, Currency string }
	}
	if raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json")); err != nil || json.Unmarshal(raw, &psus) != nil {
		t.Fatalf("psus.json: %v", err)
	}
	caf := psus[0].Accounts[0] // the funds of the test customer's first account

	// The environment and the pre-request scripts' variables.
	vars := map[string]string{
		"xs2aUri":             "https://" + p.api,
		"bankId":              "pl-retail",
		"clientId":            demo.info.ClientID,
		"tppId":               demo.info.TPPID,
		"state":               uuid.NewString(),
		"tppConsentId":        uuid.NewString(),
		"scopeTimeLimit":      time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		"senderAccountNumber": caf.Number,
		"currency":            caf.Currency,
	}
	subst := collectionSubstitutions(registered.RedirectURI)

	// What the collection's test scripts keep from the answers, and the
	// customer's approval after authorize.
	after := map[string]func(m map[string]any){
		"Retrieve authorization URI": func(m map[string]any) {
			page, _ := m["authorizationRedirectUri"].(string)
			back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, nil)
			vars["authorizationCode"] = codeFrom(t, back, vars["state"])
		},
		"Retrieve accessToken for account list retrieval": func(m map[string]any) {
			vars["accessToken"], _ = m["access_token"].(string)
		},
		"Get account list": func(m map[string]any) {
			accts, _ := m["accounts"].([]any)
			if len(accts) == 0 {
				t.Fatal("the account list is empty")
			}
			vars["accountNumber"], _ = accts[0].(map[string]any)["accountNumber"].(string)
		},
		"Exchange token to AIS scope": func(m map[string]any) {
			vars["accessToken"], _ = m["access_token"].(string)
			sd, _ := m["scope_details"].(map[string]any)
			privs, _ := sd["privilegeList"].([]any)
			if len(privs) == 0 {
				t.Fatal("exchange_token answer without scope_details.privilegeList")
			}
			vars["accountId"], _ = privs[0].(map[string]any)["accountId"].(string)
		},
		"Get account details": func(m map[string]any) {
			if acct, _ := m["account"].(map[string]any); acct["accountNumber"] != vars["accountNumber"] {
				t.Fatalf("account details of another account: %v", m)
			}
		},
		"Get transaction details": func(m map[string]any) {
			if tx, _ := m["transaction"].(map[string]any); tx["aspspTransactionId"] != vars["aspspTransactionId"] {
				t.Fatalf("details of another transaction: %v", m)
			}
		},
		"Confirmation of the Availability of Funds": func(m map[string]any) {
			if _, ok := m["fundsAvailable"].(bool); !ok {
				t.Fatalf("no fundsAvailable: %v", m)
			}
		},
		// No script of the collection sets aspspTransactionId: its users
		// copy one from the transaction list, and so does this test.
		"Get transaction list": func(m map[string]any) {
			txs, _ := m["transactions"].([]any)
			if len(txs) == 0 {
				t.Fatal("the transaction list is empty")
			}
			vars["aspspTransactionId"], _ = txs[0].(map[string]any)["aspspTransactionId"].(string)
		},
	}

	// Requests go in the collection's order, except that one needing a
	// variable no answer has given yet waits for the next that gives it
	// (transaction details waits for the transaction list).
	var passed []string
	for len(requests) > 0 {
		vars["tppRequestId"] = uuid.Must(uuid.NewUUID()).String() // the collection's pre-request script: UUID v1
		var r *http.Request
		i := 0
		for ; i < len(requests); i++ {
			if r = demo.postmanRequest(t, requests[i], vars, subst[requests[i].Name]); r != nil {
				break
			}
		}
		if r == nil {
			t.Fatalf("no request can be sent: %q needs variables nothing sets", requests[0].Name)
		}
		item := requests[i]
		requests = append(requests[:i:i], requests[i+1:]...)
		a := demo.do(t, r)
		if a.status/100 != 2 {
			t.Fatalf("%s: %s %s answered %d %s", item.Name, r.Method, r.URL, a.status, a.body)
		}
		if a.status == http.StatusNoContent && len(a.body) == 0 {
			// Nothing to seal: the gateway signs every answer with a body.
		} else if _, err := jws.VerifyDetached(a.header.Get("JWS-Signature"), a.body, seal); err != nil {
			t.Fatalf("%s: the answer does not carry the bank's seal: %v", item.Name, err)
		}
		if next := after[item.Name]; next != nil {
			next(a.json(t))
		}
		if item.Name == "Get transaction list" {
			// Read again, the page's items and the seal's hash over them
			// come from what the first read kept: the same answer, sealed.
			vars["tppRequestId"] = uuid.Must(uuid.NewUUID()).String()
			again := demo.do(t, demo.postmanRequest(t, item, vars, subst[item.Name]))
			if again.status != a.status || string(again.body) != string(a.body) {
				t.Fatalf("the transaction list read again: %d %s\nfirst: %s", again.status, again.body, a.body)
			}
			if _, err := jws.VerifyDetached(again.header.Get("JWS-Signature"), again.body, seal); err != nil {
				t.Fatalf("the transaction list read again does not carry the bank's seal: %v", err)
			}
		}
		passed = append(passed, item.Name)
		t.Logf("ok %d %s %s", a.status, item.Request.Method, item.Name)
	}

	// The consent is gone: its token no longer reads the account.
	// The refusal names the consent by the TPP's consentId, the one the TPP
	// knows and deleted.
	if a := demo.call(t, vars["xs2aUri"], "GET", "/pl-retail/v3/accounts/"+vars["accountId"], nil, vars["accessToken"]); a.status/100 == 2 {
		t.Fatalf("account details after Delete consent: %d %s", a.status, a.body)
	} else if a.code != "CONSENT_REVOKED" || !strings.Contains(a.message, vars["tppConsentId"]) {
		t.Fatalf("account details after Delete consent: %d %s (want CONSENT_REVOKED naming the TPP's consent %s)", a.status, a.body, vars["tppConsentId"])
	}
	t.Logf("checked %d requests of mBank's collection: %s", len(passed), strings.Join(passed, "; "))
}

// postmanRequest builds a collection request with the variables filled,
// the body's substitutions made and the JWS-Signature computed; it is nil
// when a variable is not known yet.
func (f *tppFiles) postmanRequest(t *testing.T, item postmanItem, vars map[string]string, subst [][2]string) *http.Request {
	t.Helper()
	pr := item.Request
	if pr == nil {
		t.Fatalf("%s is a folder, not a request", item.Name)
	}
	u, ok := fill(pr.rawURL(t), vars)
	if !ok {
		return nil
	}
	var body []byte
	if pr.Body != nil && pr.Body.Raw != "" {
		if pr.Body.Mode != "raw" {
			t.Fatalf("%s: body mode %q", item.Name, pr.Body.Mode)
		}
		b := pr.Body.Raw
		for _, s := range subst {
			if !strings.Contains(b, s[0]) {
				t.Fatalf("%s: the body no longer holds %s", item.Name, s[0])
			}
			b = strings.ReplaceAll(b, s[0], s[1])
		}
		filled, ok := fill(b, vars)
		if !ok {
			return nil
		}
		body = []byte(filled)
	}
	r, err := http.NewRequest(pr.Method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", item.Name, err)
	}
	hasSignature := false
	for _, h := range pr.Header {
		if h.Disabled {
			continue
		}
		if http.CanonicalHeaderKey(h.Key) == "Jws-Signature" {
			hasSignature = true // computed below, over the other headers
			continue
		}
		v, ok := fill(h.Value, vars)
		if !ok {
			return nil
		}
		r.Header.Add(h.Key, v)
	}
	if !hasSignature {
		if strings.HasPrefix(item.Name, "[REGISTER]") {
			return r // the registration is sealed in its software statement
		}
		t.Fatalf("%s: the collection sends no JWS-Signature", item.Name)
	}
	sig, err := f.signer.SignDetached(jws.MBankPayload(jws.MBankRequestURI(r), r.Header, body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("JWS-Signature", sig)
	return r
}
