package main

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// collectionRequests are the collection's requests of a folder path
// ("PIS/Payment bundle + cancellation", "AS"), in order.
func collectionRequests(t *testing.T, path string) []postmanItem {
	t.Helper()
	raw, err := os.ReadFile(mbankCollection)
	if err != nil {
		t.Fatal(err)
	}
	var coll struct{ Item []postmanItem }
	if err := json.Unmarshal(raw, &coll); err != nil {
		t.Fatalf("%s: %v", mbankCollection, err)
	}
	items := coll.Item
	for _, name := range strings.Split(path, "/") {
		found := false
		for _, it := range items {
			if it.Name == name && it.Request == nil {
				items, found = it.Item, true
				break
			}
		}
		if !found {
			t.Fatalf("the collection has no folder %q", path)
		}
	}
	return items
}

// mbankPrivilege is the first privilege of a token answer's
// scope_details, with its name.
func mbankPrivilege(t *testing.T, m map[string]any) (string, map[string]any, map[string]any) {
	t.Helper()
	sd, _ := m["scope_details"].(map[string]any)
	list, _ := sd["privilegeList"].([]any)
	if len(list) == 0 {
		t.Fatalf("token answer without scope_details.privilegeList: %v", m)
	}
	item, _ := list[0].(map[string]any)
	for k, v := range item {
		if strings.Contains(k, ":") {
			body, _ := v.(map[string]any)
			return k, body, sd
		}
	}
	t.Fatalf("privilegeList[0] names no privilege: %v", item)
	return "", nil, nil
}

// mbankPrivilegeNamed is the body of the privilege name in a token answer's
// scope_details.privilegeList, nil when it is not there.
func mbankPrivilegeNamed(m map[string]any, name string) map[string]any {
	sd, _ := m["scope_details"].(map[string]any)
	list, _ := sd["privilegeList"].([]any)
	for _, it := range list {
		item, _ := it.(map[string]any)
		if body, ok := item[name].(map[string]any); ok {
			return body
		}
	}
	return nil
}

// TestMBankCollectionPIS replays, as mBank's collection sends them, the
// requests the issue named: the AS folder's registration with the key named
// in the software statement's jwks (x5u, x5t#S256) by an RSA TPP made as
// the README says (certs issue --key rsa --register --redirect-uri
// https://tpp-redirect-uri.com); the bundle folder, whose transfers say
// "sender": {} — the customer chooses the account to pay from on the
// consent page and the initiation debits it — with the token answers in
// mBank's names and values (pis:bundle-domestic, SINGLE, PSD2_REGULATORY,
// pis:cancelBundlePayments), and the cancellation of the booked bundle,
// which says that nothing was cancelled; and the split-payment folder's
// refresh with scope_details pis:payment, which grants the status read.
func TestMBankCollectionPIS(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	dir := filepath.Join(t.TempDir(), "postman-tpp")
	certsCmd(t, "issue", "--data", data, "--key", "rsa", "--org-id", "PSDPL-KNF-0000000057", "--name", "Postman TPP",
		"--out", dir, "--register", "--redirect-uri", "https://tpp-redirect-uri.com")
	tpp := loadTPP(t, dir, data)
	if tpp.signer.Alg() != "RS256" {
		t.Fatalf("certs issue --key rsa made a %s key; mBank's collection signs RS256", tpp.signer.Alg())
	}
	seal := bankSeal(t, data)
	who := readPSUs(t, data)[0]
	var psus []struct {
		Accounts []struct{ Number, Currency string }
	}
	if raw, err := os.ReadFile(filepath.Join(data, "sandbox", "psus.json")); err != nil || json.Unmarshal(raw, &psus) != nil {
		t.Fatalf("psus.json: %v", err)
	}
	var sender string
	for _, a := range psus[0].Accounts {
		if a.Currency == "PLN" {
			sender = a.Number
			break
		}
	}
	recipient := psus[1].Accounts[0].Number
	fingerprint := jws.ThumbprintS256(tpp.signer.Certificate())

	vars := map[string]string{
		"xs2aUri":                  "https://" + p.api,
		"bankId":                   "pl-retail",
		"clientId":                 tpp.info.ClientID,
		"tppId":                    tpp.info.TPPID,
		"tppJwsCertUrl":            "https://tpp.example/certs/qsealc.pem",
		"tppJwsCertFingerprint":    fingerprint,
		"senderAccountNumber":      sender,
		"recipientAccountNumber":   recipient,
		"recipientAccountNumber_2": psus[2].Accounts[0].Number,
		"currency":                 "PLN",
	}
	// The authorize requests' pre-request script.
	newConsent := func() {
		vars["state"] = uuid.NewString()
		vars["tppConsentId"] = uuid.NewString()
		vars["tppConsentIdForCancellation"] = uuid.NewString()
		vars["scopeTimeLimit"] = time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
		vars["executionDate"] = time.Now().In(polish.Warsaw).Format("2006-01-02") // the bank's today is Warsaw's
	}
	// The customer approves; the redirect's code goes to {{authorizationCode}}.
	approve := func(m map[string]any, choose []string) {
		page, _ := m["authorizationRedirectUri"].(string)
		back := newBrowser(t, "http://"+p.web).consentBySMS(page, who, choose)
		u, err := url.Parse(back)
		if err != nil || u.Host != "tpp-redirect-uri.com" || u.Query().Get("state") != vars["state"] || u.Query().Get("code") == "" {
			t.Fatalf("the bank sent the browser to %q, not to the registered redirect with the code and the state", back)
		}
		vars["authorizationCode"] = u.Query().Get("code")
	}
	send := func(item postmanItem) map[string]any {
		t.Helper()
		vars["tppRequestId"] = uuid.Must(uuid.NewUUID()).String()
		vars["sendDate"] = time.Now().UTC().Format(time.RFC3339Nano)
		r := tpp.postmanRequest(t, item, vars, nil)
		if r == nil {
			t.Fatalf("%s: a variable is not set", item.Name)
		}
		a := tpp.do(t, r)
		if a.status/100 != 2 {
			t.Fatalf("%s: %s %s answered %d %s", item.Name, r.Method, r.URL, a.status, a.body)
		}
		if _, err := jws.VerifyDetached(a.header.Get("JWS-Signature"), a.body, seal); err != nil {
			t.Fatalf("%s: the answer does not carry the bank's seal: %v", item.Name, err)
		}
		t.Logf("ok %d %s", a.status, item.Name)
		return a.json(t)
	}

	// AS: the software statement names its key only in jwks, as the
	// collection's pre-request script builds it: header {"alg","typ"}.
	as := collectionRequests(t, "AS")
	payload, _ := json.Marshal(map[string]any{"iss": vars["tppId"],
		"jwks":        map[string]any{"keys": []map[string]string{{"kty": "RSA", "alg": "RS256", "x5u": vars["tppJwsCertUrl"], "x5t#S256": fingerprint}}},
		"client_name": "My application", "sub_contact_email": "my_email@mbank.pl", "redirect_uris": []string{"https://tpp-redirect-uri.com"}})
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := tpp.signer.Key().Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	vars["software_statement"] = input + "." + base64.RawURLEncoding.EncodeToString(sig)
	if reg := send(as[0]); reg["client_id"] == "" || reg["client_id"] == tpp.info.ClientID {
		t.Fatalf("registration answer: %v", reg)
	}

	// The bundle: authorize, the customer chooses the account to pay from.
	bundle := collectionRequests(t, "PIS/Payment bundle + cancellation")
	if len(bundle) != 9 {
		t.Fatalf("the bundle folder holds %d requests, want 9", len(bundle))
	}
	newConsent()
	approve(send(bundle[0]), []string{sender})
	tok := send(bundle[1])
	name, body, sd := mbankPrivilege(t, tok)
	if name != "pis:bundle-domestic" || body["scopeUsageLimit"] != "SINGLE" || sd["throttlingPolicy"] != "PSD2_REGULATORY" ||
		sd["scopeGroupType"] != "PIS" || sd["consentId"] != vars["tppConsentId"] {
		t.Fatalf("bundle token answer not in mBank's names and values: %s", mustJSON(tok))
	}
	vars["accessToken"], _ = tok["access_token"].(string)
	vars["refreshToken"], _ = tok["refresh_token"].(string)
	b := send(bundle[2])
	links, _ := b["links"].([]any)
	if len(links) == 0 {
		t.Fatalf("bundle answer without links: %v", b)
	}
	vars["statusUrl"], _ = links[0].(map[string]any)["href"].(string)
	vars["aspspBundleId"], _ = b["aspspBundleId"].(string)
	payments, _ := b["payments"].([]any)
	if len(payments) != 2 {
		t.Fatalf("bundle answer with %d payments, want 2: %v", len(payments), b)
	}
	for _, pm := range payments {
		if id, _ := pm.(map[string]any)["tppPaymentId"].(string); id == "" {
			t.Fatalf("a payment of the bundle without tppPaymentId: %v", pm)
		}
	}
	tok = send(bundle[3])
	vars["accessToken"], _ = tok["access_token"].(string)
	vars["refreshToken"], _ = tok["refresh_token"].(string)
	send(bundle[4])

	// Cancellation of the booked bundle: nothing is cancelled, and the answer says so.
	newConsent()
	approve(send(bundle[5]), nil)
	tok = send(bundle[6])
	if name, body, _ := mbankPrivilege(t, tok); name != "pis:cancelBundlePayments" || body["aspspBundleId"] != vars["aspspBundleId"] {
		t.Fatalf("cancellation token answer: %s", mustJSON(tok))
	}
	vars["accessTokenForCancellation"], _ = tok["access_token"].(string)
	cancelled := send(bundle[7])
	if n, ok := cancelled["cancelledPayments"].(float64); !ok || n != 0 || !strings.Contains(mustJSON(cancelled), "nothing was cancelled") {
		t.Fatalf("cancelling a booked bundle does not say that nothing was cancelled: %s", mustJSON(cancelled))
	}
	if st := send(bundle[8]); st["status"] != "DONE" {
		t.Fatalf("bundle after the refused cancellation: %v", st)
	}

	// Split payment: the status token comes from a refresh asking for
	// pis:payment on the initiated payment.
	split := collectionRequests(t, "PIS/Split payment")
	newConsent()
	// The collection's sample VAT (0.23) exceeds its amount (0.01), and its
	// seller's NIP 5512265909 has no valid check digit, which the bank
	// rightly refuses; the replay pays 1.23 with 0.23 VAT to NIP 5260250274.
	for _, i := range []int{0, 2} {
		b := split[i].Request.Body.Raw
		for _, r := range [][2]string{{`"amount": "0.01"`, `"amount": "1.23"`}, {`"spTaxIdentificationNumber": "5512265909"`, `"spTaxIdentificationNumber": "5260250274"`}} {
			if !strings.Contains(b, r[0]) {
				t.Fatalf("%s: the body no longer holds %s", split[i].Name, r[0])
			}
			b = strings.Replace(b, r[0], r[1], 1)
		}
		split[i].Request.Body.Raw = b
	}
	approve(send(split[0]), nil)
	tok = send(split[1])
	vars["accessToken"], _ = tok["access_token"].(string)
	vars["refreshToken"], _ = tok["refresh_token"].(string)
	pay := send(split[2])
	links, _ = pay["links"].([]any)
	if len(links) == 0 {
		t.Fatalf("payment answer without links: %v", pay)
	}
	vars["statusUrl"], _ = links[0].(map[string]any)["href"].(string)
	vars["aspspPaymentId"], _ = pay["aspspPaymentId"].(string)
	tok = send(split[3])
	if body := mbankPrivilegeNamed(tok, "pis:payment"); body == nil || body["aspspPaymentId"] != vars["aspspPaymentId"] || body["scopeUsageLimit"] != "MULTIPLE" {
		t.Fatalf("refresh with scope_details pis:payment: %s", mustJSON(tok))
	}
	vars["accessToken"], _ = tok["access_token"].(string)
	if st := send(split[4]); st["aspspPaymentId"] != vars["aspspPaymentId"] {
		t.Fatalf("status of another payment: %v", st)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
