package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	aisdomain "github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// t0 is the test's "now": a Monday morning in Warsaw.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const (
	tppA = "PSDPL-KNF-0000000001"
	tppB = "PSDPL-KNF-0000000002"
)

// bank is a ledger with two customers and their items in every state, a
// consent service, and the AIS and CAF services under test.
type bank struct {
	t        testing.TB
	db       *store.DB
	clock    *clock.Fixed
	l        *ledger.Ledger
	consents *consent.Service
	ais      *aisHandlers
	caf      *cafHandlers

	clearing                   ledger.Account
	anna, firma                ledger.Customer
	annaMain, annaSave, firmaB ledger.Account

	// items on annaMain made live (not imported)
	pending, pending2, rejected, cancelled, scheduled ledger.Transfer
	cardHold                                          ledger.Hold
	history                                           int // imported booked items on annaMain
}

var nrbSeq int

func nrb(t testing.TB) string {
	nrbSeq++
	n, err := polish.MakeNRB(polish.OwnSortCode, fmt.Sprintf("%016d", 7000+nrbSeq))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// must returns v, or panics with err (which fails the test).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// newBank builds the bank; history is the number of booked items imported
// on Anna's main account, spread over the last 60 days.
func newBank(t testing.TB, db *store.DB, history int) *bank {
	t.Helper()
	ctx := context.Background()
	b := &bank{t: t, db: db, clock: clock.NewFixed(t0)}
	b.l = ledger.New(db, b.clock)
	b.consents = consent.New(db, b.clock)
	b.ais = newAISHandlers(common.Deps{Ledger: b.l, Consents: b.consents, DB: db})
	b.caf = newCAFHandlers(common.Deps{Ledger: b.l})
	b.clearing = must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), Currency: "PLN", Type: ledger.TypeClearing, Name: "Elixir", AllowNegative: true}))
	b.anna = must(b.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Anna Kowalska", Login: fmt.Sprint("anna", nrbSeq), Address: "ul. Długa 1, 00-001 Warszawa"}))
	b.firma = must(b.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Company, Name: "Firma Sp. z o.o.", Login: fmt.Sprint("firma", nrbSeq)}))
	b.annaMain = must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), CustomerID: b.anna.ID, Currency: "PLN", Type: ledger.TypePersonal, Name: "eKonto", OverdraftLimit: 500_00}))
	b.annaSave = must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), CustomerID: b.anna.ID, Currency: "PLN", Type: ledger.TypeSavings, Name: "Oszczędności"}))
	b.firmaB = must(b.l.OpenAccount(ctx, ledger.Account{NRB: nrb(t), CustomerID: b.firma.ID, Currency: "PLN", Type: ledger.TypeBusiness, Name: "Firmowe"}))

	// History: a salary first, then alternating payments, oldest first.
	var items []ledger.HistoricalTransfer
	start := t0.AddDate(0, 0, -60)
	step := 60 * 24 * time.Hour / time.Duration(history+1)
	for i := 0; i < history; i++ {
		at := start.Add(time.Duration(i) * step)
		var tr ledger.TransferRequest
		switch {
		case i%3 == 0:
			tr = ledger.TransferRequest{Kind: "elixir", DebitAccountID: b.clearing.ID, CreditAccountID: b.annaMain.ID, Amount: 5000_00,
				Debtor: ledger.Party{Name: "Pracodawca S.A.", Account: "61109010140000071219812874"}, Title: fmt.Sprint("Wynagrodzenie ", i)}
		case i%3 == 1:
			tr = ledger.TransferRequest{DebitAccountID: b.annaMain.ID, CreditAccountID: b.firmaB.ID, Amount: money.Amount(100_00 + i),
				Title: fmt.Sprint("Faktura ", i)}
		default:
			tr = ledger.TransferRequest{Kind: "elixir", DebitAccountID: b.annaMain.ID, CreditAccountID: b.clearing.ID, Amount: money.Amount(2500 + i),
				Creditor: ledger.Party{Name: "Sklep", Account: "61109010140000071219812874"}, Title: fmt.Sprint("Zakupy ", i)}
		}
		items = append(items, ledger.HistoricalTransfer{TransferRequest: tr, BookedAt: at})
	}
	if len(items) > 0 {
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	b.history = history

	out := func(title string, amount money.Amount) ledger.TransferRequest {
		return ledger.TransferRequest{Kind: "elixir", DebitAccountID: b.annaMain.ID, CreditAccountID: b.clearing.ID, Amount: amount,
			Creditor: ledger.Party{Name: "Zakład Energetyczny", Account: "61109010140000071219812874"}, Title: title}
	}
	if history > 0 {
		b.pending = must(b.l.Submit(ctx, out("Rachunek za prąd", 123_45)))
		b.pending2 = must(b.l.Submit(ctx, out("Rachunek za gaz", 98_76)))
		b.rejected = must(b.l.Submit(ctx, out("Zwrócony przelew", 10_00)))
		b.rejected = must(b.l.Reject(ctx, b.rejected.ID, "rachunek odbiorcy zamknięty"))
		future := out("Czynsz grudzień", 1500_00)
		future.ExecutionDate = ledger.DateOf(t0.AddDate(0, 0, 10))
		b.scheduled = must(b.l.Schedule(ctx, future))
		future.ExecutionDate, future.Title = ledger.DateOf(t0.AddDate(0, 0, 5)), "Anulowany czynsz"
		c := must(b.l.Schedule(ctx, future))
		b.cancelled = must(b.l.Cancel(ctx, c.ID, "na życzenie klienta"))
		b.cardHold = must(b.l.PlaceHold(ctx, ledger.Hold{AccountID: b.annaMain.ID, Amount: 45_99, Description: "Kawa i ciastko",
			MerchantName: "Kawiarnia Pod Arkadami", MerchantCity: "Kraków", CreatedAt: t0.Add(-2 * time.Hour)}))
	}
	b.annaMain = must(b.l.Account(ctx, b.annaMain.ID))
	return b
}

// allAIS are every AIS privilege, for accounts.
func allAIS(history int) []consent.Privilege {
	var out []consent.Privilege
	for _, name := range []string{consent.PrivGetAccount, consent.PrivGetTransactionDetail} {
		out = append(out, consent.Privilege{Name: name, ScopeUsageLimit: consent.UsageMultiple})
	}
	for _, name := range []string{consent.PrivGetTransactionsDone, consent.PrivGetTransactionsPending, consent.PrivGetTransactionsRejected,
		consent.PrivGetTransactionsCancelled, consent.PrivGetTransactionsScheduled, consent.PrivGetHolds} {
		out = append(out, consent.Privilege{Name: name, ScopeUsageLimit: consent.UsageMultiple, MaxAllowedHistoryLong: history})
	}
	return out
}

// consent creates and authorises a consent of Anna's for tpp.
func (b *bank) consent(tpp string, scope consent.Scope, privs []consent.Privilege, accounts ...string) consent.Consent {
	b.t.Helper()
	ctx := context.Background()
	c := must(b.consents.Create(ctx, consent.Consent{
		TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client-" + tpp, Scope: scope, Privileges: privs,
		ScopeTimeLimit: t0.AddDate(0, 3, 0), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
	}))
	return must(b.consents.Authorise(ctx, c.ID, b.anna.ID, accounts))
}

// aisConsent is Anna's ais consent for both her accounts, with a year of
// history.
func (b *bank) aisConsent() consent.Consent {
	return b.consent(tppA, consent.ScopeAIS, allAIS(365), b.annaMain.NRB, b.annaSave.NRB)
}

func (b *bank) accountsConsent() consent.Consent {
	return b.consent(tppA, consent.ScopeAISAccounts,
		[]consent.Privilege{{Name: consent.PrivGetAccounts, ScopeUsageLimit: consent.UsageMultiple}}, b.annaMain.NRB, b.annaSave.NRB)
}

// caller is the TPP calling under a consent.
func caller(tpp string, c consent.Consent, dialect gateway.Dialect, body []byte) *gateway.Caller {
	return &gateway.Caller{
		OrgID: tpp, RequestID: uuid.Must(uuid.NewUUID()).String(), Dialect: dialect, Lang: "en", Body: body,
		Grant: &gateway.Grant{ConsentID: c.ID, CustomerID: c.CustomerID, ClientID: c.ClientID, Scope: string(c.Scope)},
	}
}

// polish calls a PolishAPI handler with body (a map, merged with a
// requestHeader with isDirectPsu), and returns the status and body, or
// the refusal.
func (b *bank) polish(h gateway.Handler, c consent.Consent, body map[string]any) (int, []byte, *gateway.Refusal) {
	b.t.Helper()
	if _, ok := body["requestHeader"]; !ok {
		body["requestHeader"] = map[string]any{"requestId": uuid.Must(uuid.NewUUID()).String(), "token": "t", "isDirectPsu": true}
	}
	data, _ := json.Marshal(body)
	return b.call(h, caller(tppA, c, gateway.PolishAPI, data), httptest.NewRequest("POST", "/", strings.NewReader(string(data))))
}

func (b *bank) call(h gateway.Handler, c *gateway.Caller, r *http.Request) (int, []byte, *gateway.Refusal) {
	b.t.Helper()
	w := httptest.NewRecorder()
	if err := h(w, r, c); err != nil {
		var ref *gateway.Refusal
		if !errors.As(err, &ref) {
			b.t.Fatalf("handler failed: %v", err)
		}
		return ref.Status, nil, ref
	}
	return w.Code, w.Body.Bytes(), nil
}

// mbank calls an mBank handler through a router with the pattern, so that
// path parameters are set.
func (b *bank) mbank(h gateway.Handler, c *gateway.Caller, method, pattern, target string, header http.Header) (int, []byte, *gateway.Refusal) {
	b.t.Helper()
	var status int
	var body []byte
	var refusal *gateway.Refusal
	r := chi.NewRouter()
	r.Method(method, pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		status, body, refusal = b.call(h, c, req)
	}))
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	r.ServeHTTP(httptest.NewRecorder(), req)
	if status == 0 {
		b.t.Fatalf("%s %s matched no route %s", method, target, pattern)
	}
	return status, body, refusal
}

// psuHeader marks an mBank call as made with the customer present.
var psuHeader = http.Header{"Psu-Ip-Address": {"192.0.2.10"}}

// The kinds of list, as the AIS service names them.
const (
	kindDone      = aisdomain.KindDone
	kindPending   = aisdomain.KindPending
	kindRejected  = aisdomain.KindRejected
	kindCancelled = aisdomain.KindCancelled
	kindScheduled = aisdomain.KindScheduled
	kindHolds     = aisdomain.KindHolds
)

// maxPerPage is the largest page of any list.
const maxPerPage = aisdomain.MaxPerPage

// aisHandlers are the AIS handlers of both dialects under test (from
// their packages' Handlers), by the names the tests use, and an AIS
// service over the same store (its page ids are sealed with the store's
// key, which every service shares).
type aisHandlers struct {
	svc                                                                               *aisdomain.Service
	polish                                                                            map[string]gateway.Handler
	polishGetAccounts, polishGetAccount, polishTransactionDetail, polishDeleteConsent gateway.Handler
	mbankAccounts, mbankAccountDetails, mbankTransactions, mbankTransactionDetails    gateway.Handler
	mbankDeleteConsent                                                                gateway.Handler
}

func newAISHandlers(d common.Deps) *aisHandlers {
	p, m := polishapi.Handlers(d), mbank.Handlers(d)
	db, _ := d.DB.(aisdomain.DB)
	return &aisHandlers{svc: aisdomain.New(d.Ledger, d.Consents, d.Access, db), polish: p,
		polishGetAccounts: p["getAccounts"], polishGetAccount: p["getAccount"], polishTransactionDetail: p["getTransactionDetail"],
		polishDeleteConsent: p["deleteConsent"],
		mbankAccounts:       m["accounts"], mbankAccountDetails: m["accountDetails"], mbankTransactions: m["transactions"],
		mbankTransactionDetails: m["transactionDetails"], mbankDeleteConsent: m["deleteConsent"]}
}

// polishTransactions is PolishAPI's operation for the list kind.
func (a *aisHandlers) polishTransactions(kind aisdomain.Kind) gateway.Handler {
	op := map[aisdomain.Kind]string{kindDone: "getTransactionsDone", kindPending: "getTransactionsPending",
		kindRejected: "getTransactionsRejected", kindCancelled: "getTransactionsCancelled",
		kindScheduled: "getTransactionsScheduled", kindHolds: "getHolds"}[kind]
	return a.polish[op]
}

// cafHandlers are the confirmation of funds handlers of both dialects.
type cafHandlers struct {
	polishConfirmationOfFunds, mbankFundsConfirmation gateway.Handler
}

func newCAFHandlers(d common.Deps) *cafHandlers {
	return &cafHandlers{polishConfirmationOfFunds: polishapi.Handlers(d)["getConfirmationOfFunds"],
		mbankFundsConfirmation: mbank.Handlers(d)["fundsConfirmation"]}
}

// pisHandlers are the payment handlers of both dialects, by
// "dialect.operation".
type pisHandlers struct {
	all map[string]gateway.Handler
}

func newPISHandlers(d common.Deps) *pisHandlers {
	all := map[string]gateway.Handler{}
	for name, h := range polishapi.Handlers(d) {
		all["polishapi."+name] = h
	}
	for name, h := range mbank.Handlers(d) {
		all["mbank."+name] = h
	}
	return &pisHandlers{all: all}
}

func (p *pisHandlers) handlers() map[string]gateway.Handler { return p.all }

// listKind is one of the lists of an account.
type listKind = aisdomain.Kind

// kinds names the lists.
var kinds = [...]struct{ name string }{
	kindDone: {"done"}, kindPending: {"pending"}, kindRejected: {"rejected"},
	kindCancelled: {"cancelled"}, kindScheduled: {"scheduled"}, kindHolds: {"holds"},
}
