// Command demo-tpp is the five-minute walk of the README: it plays the
// sandbox's demo TPP, asks the bank for the customer's consent to read the
// list of accounts, waits for the customer's browser to come back with the
// authorization code, and makes signed, consented AIS calls. With
// --dialect berlingroup it does the same through NextGenPSD2: a
// bank-offered consent (POST /berlingroup/v1/consents with TPP-Redirect-URI),
// the customer's approval on the bank's page, then the consent's accounts
// and their balances, every request signed with HTTP signatures.
//
//	go run ./examples/demo-tpp --data ./psd2bank-data
//	go run ./examples/demo-tpp --data ./psd2bank-data --dialect berlingroup
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/tppclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	data := flag.String("data", "./psd2bank-data", "the sandbox's data directory")
	dialect := flag.String("dialect", "polishapi", "polishapi or berlingroup")
	flag.Parse()
	if *dialect != "polishapi" && *dialect != tppclient.DialectBerlinGroup {
		fmt.Fprintf(os.Stderr, "demo-tpp: --dialect %q: polishapi or berlingroup\n", *dialect)
		os.Exit(2)
	}
	err := walk(ctx, *data, *dialect, os.Stdout, func(page string) {
		fmt.Printf("\n1. Open this address in your browser and approve the consent:\n\n   %s\n\n", page)
		fmt.Printf("   Log in as a customer of %s (login and password),\n", filepath.Join(*data, "sandbox", "psus.json"))
		fmt.Println("   choose accounts, \"Approve with an SMS code\", and read the code from the sandbox's SMS box:")
		fmt.Println("   GET <web address>/sandbox/sms?login=<login>")
		fmt.Println("\n   Waiting for the browser to come back to the demo TPP ...")
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-tpp:", err)
		os.Exit(1)
	}
}

// walk runs the whole flow; open is told the consent page's address.
func walk(ctx context.Context, data, dialect string, out io.Writer, open func(page string)) error {
	dir := filepath.Join(data, "sandbox")
	raw, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return fmt.Errorf("is the sandbox running? %w", err)
	}
	var ep struct{ API, Web string }
	if err := json.Unmarshal(raw, &ep); err != nil {
		return err
	}
	// The sandbox's bank keeps its own clock (POST /sandbox/clock moves it):
	// the consent's time limit is in the bank's time, read from its clock.
	clockURL := ""
	if ep.Web != "" {
		clockURL = ep.Web + "/sandbox/clock"
	}
	tpp, err := tppclient.New(tppclient.Config{TPPDir: filepath.Join(dir, "demo-tpp"), API: ep.API, ClockURL: clockURL, Dialect: dialect,
		BankCAFile: filepath.Join(dir, "bank-tls-ca.pem"), BankSealFile: filepath.Join(dir, "bank-qsealc.pem")})
	if err != nil {
		return err
	}
	redirect, err := url.Parse(tpp.Identity.RedirectURI)
	if err != nil {
		return err
	}
	// The demo TPP's redirect_uri: receive the browser there.
	ln, err := net.Listen("tcp", redirect.Host)
	if err != nil {
		return fmt.Errorf("listen on the redirect_uri %s: %w", tpp.Identity.RedirectURI, err)
	}
	codes := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "The demo TPP has the answer; you may close this window.")
		select {
		case codes <- r.URL.Query():
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	state := uuid.NewString()
	if dialect == tppclient.DialectBerlinGroup {
		return walkBerlinGroup(ctx, tpp, state, codes, out, open)
	}
	var authz struct {
		AspspRedirectURI string `json:"aspspRedirectUri"`
	}
	err = tpp.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": tpp.Identity.ClientID, "redirect_uri": tpp.Identity.RedirectURI,
		"scope": "ais-accounts", "state": state,
		"scope_details": map[string]any{
			"privilegeList":    []any{map[string]any{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}},
			"scopeGroupType":   "ais-accounts",
			"consentId":        uuid.NewString(),
			"scopeTimeLimit":   tpp.BankNow(ctx).Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
			"throttlingPolicy": "psd2Regulatory",
		},
	}, "", nil, &authz)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	open(authz.AspspRedirectURI)

	var answer url.Values
	select {
	case answer = <-codes:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e := answer.Get("error"); e != "" {
		return fmt.Errorf("the customer did not consent: %s", e)
	}
	if answer.Get("state") != state {
		return errors.New("the redirect carries another state: not our request")
	}
	var token struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   string `json:"expires_in"`
	}
	err = tpp.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": answer.Get("code"), "redirect_uri": tpp.Identity.RedirectURI,
		"client_id": tpp.Identity.ClientID,
	}, "", nil, &token)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintf(out, "2. Consent given: access token valid for %s s.\n", token.ExpiresIn)

	var accounts struct {
		Accounts []struct {
			AccountNumber   string `json:"accountNumber"`
			AccountTypeName string `json:"accountTypeName"`
		} `json:"accounts"`
	}
	err = tpp.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, token.AccessToken,
		map[string]any{"isDirectPsu": false}, &accounts)
	if err != nil {
		return fmt.Errorf("getAccounts: %w", err)
	}
	fmt.Fprintf(out, "3. getAccounts, signed and consented, answered with the bank's signature checked:\n")
	for _, a := range accounts.Accounts {
		fmt.Fprintf(out, "   %s  %s\n", a.AccountNumber, a.AccountTypeName)
	}
	return nil
}

// walkBerlinGroup is the walk in NextGenPSD2: the consent's X-Request-ID
// is the state the bank gives back on TPP-Redirect-URI.
func walkBerlinGroup(ctx context.Context, tpp *tppclient.Client, state string, codes <-chan url.Values, out io.Writer, open func(page string)) error {
	tpp.BankNow(ctx) // the Date header is signed in the bank's time
	consentID, page, err := tpp.StartConsent(ctx, state, 24*time.Hour)
	if err != nil {
		return fmt.Errorf("POST /v1/consents: %w", err)
	}
	open(page)
	var answer url.Values
	select {
	case answer = <-codes:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e := answer.Get("error"); e != "" {
		return fmt.Errorf("the customer did not consent: %s", e)
	}
	if answer.Get("state") != state {
		return errors.New("the redirect carries another state: not our request")
	}
	tok, err := tpp.ConsentTokens(ctx, consentID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "2. Consent %s valid until %s.\n", consentID, tok.ConsentUntil.Format(time.DateOnly))
	fmt.Fprintf(out, "3. GET /v1/accounts and their balances, signed and consented, answered with the bank's signature checked:\n")
	for _, nrb := range tok.Accounts {
		a, err := tpp.Account(ctx, tok, nrb, true)
		if err != nil {
			return fmt.Errorf("balances of %s: %w", nrb, err)
		}
		fmt.Fprintf(out, "   %s  %s  booked %s  available %s\n", tppclient.IBANOf(nrb), a.Currency, a.BookingBalance, a.AvailableBalance)
	}
	return nil
}
