package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi/spec"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestPolishAPIContract validates every 2xx body the PolishAPI handlers
// produce against the 200 response schema of the operation in PolishAPI
// 2.1.2, strictly (no property the schema does not define).
func TestPolishAPIContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 30)
		ais, accts := b.aisConsent(), b.accountsConsent()
		acct := b.annaMain.NRB
		cases := []struct {
			op      string
			h       gateway.Handler
			consent consent.Consent
			body    map[string]any
			list    string // the list that must not be empty
		}{
			{"getAccounts", b.ais.polishGetAccounts, accts, map[string]any{}, "accounts"},
			{"getAccounts", b.ais.polishGetAccounts, accts, map[string]any{"perPage": 1}, "accounts"},
			{"getAccount", b.ais.polishGetAccount, ais, map[string]any{"accountNumber": acct}, ""},
			{"getAccount", b.ais.polishGetAccount, ais, map[string]any{"accountNumber": "PL" + b.annaSave.NRB}, ""},
			{"getTransactionsDone", b.ais.polishTransactions(kindDone), ais, map[string]any{"accountNumber": acct}, "transactions"},
			{"getTransactionsDone", b.ais.polishTransactions(kindDone), ais, map[string]any{"accountNumber": acct, "perPage": 5, "type": "DEBIT",
				"bookingDateFrom": ledger.DateOf(t0.AddDate(0, 0, -50)), "bookingDateTo": ledger.DateOf(t0), "minAmount": "1.00", "maxAmount": "5000.00"}, "transactions"},
			{"getTransactionsPending", b.ais.polishTransactions(kindPending), ais, map[string]any{"accountNumber": acct}, "transactions"},
			{"getTransactionsRejected", b.ais.polishTransactions(kindRejected), ais, map[string]any{"accountNumber": acct}, "transactions"},
			{"getTransactionsCancelled", b.ais.polishTransactions(kindCancelled), ais, map[string]any{"accountNumber": acct}, "transactions"},
			{"getTransactionsScheduled", b.ais.polishTransactions(kindScheduled), ais, map[string]any{"accountNumber": acct}, "transactions"},
			{"getHolds", b.ais.polishTransactions(kindHolds), ais, map[string]any{"accountNumber": acct}, "holds"},
			{"getHolds", b.ais.polishTransactions(kindHolds), ais, map[string]any{"accountNumber": acct, "type": "DEBIT", "perPage": 1}, "holds"},
			{"getTransactionDetail", b.ais.polishTransactionDetail, ais, map[string]any{"accountNumber": acct, "itemId": b.pending.ID}, ""},
			{"getTransactionDetail", b.ais.polishTransactionDetail, ais, map[string]any{"accountNumber": acct, "itemId": b.rejected.ID}, ""},
			{"getTransactionDetail", b.ais.polishTransactionDetail, ais, map[string]any{"accountNumber": acct, "itemId": b.cardHold.ID}, ""},
			{"getTransactionDetail", b.ais.polishTransactionDetail, ais, map[string]any{"accountNumber": acct, "itemId": b.scheduled.ID}, ""},
			{"getConfirmationOfFunds", b.caf.polishConfirmationOfFunds, ais, map[string]any{"accountNumber": acct, "amount": "10.00", "currency": "PLN"}, ""},
		}
		// A booked item's detail: the first item of the list.
		_, body, ref := b.polish(b.ais.polishTransactions(kindDone), ais, map[string]any{"accountNumber": acct, "perPage": 1})
		if ref != nil {
			t.Fatal(ref)
		}
		var done polishapi.TransactionsDoneInfoResponse
		json.Unmarshal(body, &done)
		cases = append(cases, struct {
			op      string
			h       gateway.Handler
			consent consent.Consent
			body    map[string]any
			list    string
		}{"getTransactionDetail", b.ais.polishTransactionDetail, ais, map[string]any{"accountNumber": acct, "itemId": done.Transactions[0].ItemID}, ""})

		for _, tc := range cases {
			status, body, ref := b.polish(tc.h, tc.consent, tc.body)
			if ref != nil {
				t.Fatalf("%s %v: refused: %v", tc.op, tc.body, ref)
			}
			if status != http.StatusOK {
				t.Fatalf("%s: status %d", tc.op, status)
			}
			if err := spec.ValidateResponse(tc.op, 200, body); err != nil {
				t.Errorf("%s %v: %v\n%s", tc.op, tc.body, err, body)
			}
			if tc.list != "" {
				var m map[string]json.RawMessage
				json.Unmarshal(body, &m)
				var list []json.RawMessage
				json.Unmarshal(m[tc.list], &list)
				if len(list) == 0 {
					t.Errorf("%s %v: empty %s: %s", tc.op, tc.body, tc.list, body)
				}
			}
		}
	})
}

// TestTransactionsDoneItems checks what the items say: ids, amounts,
// categories, balances, parties, and the items of each list.
func TestTransactionsDoneItems(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), 9)
	ais := b.aisConsent()
	acct := b.annaMain.NRB
	var done polishapi.TransactionsDoneInfoResponse
	_, body, ref := b.polish(b.ais.polishTransactions(kindDone), ais, map[string]any{"accountNumber": acct})
	if ref != nil {
		t.Fatal(ref)
	}
	json.Unmarshal(body, &done)
	if len(done.Transactions) != 9 || done.PageInfo != nil {
		t.Fatalf("%d items, pageInfo %v; want 9 and no next page", len(done.Transactions), done.PageInfo)
	}
	newest := done.Transactions[0]
	if newest.PostTransactionBalance != b.annaMain.Booked.String() {
		t.Errorf("the newest item's balance %s, the account's %s", newest.PostTransactionBalance, b.annaMain.Booked)
	}
	for _, it := range done.Transactions {
		if it.TransactionCategory == polishapi.Debit && (it.Sender == nil || it.Sender.AccountNumber != acct) {
			t.Errorf("debit %s: sender %+v, want the account", it.ItemID, it.Sender)
		}
		if it.TransactionCategory == polishapi.Credit && (it.Recipient == nil || it.Recipient.AccountNumber != acct) {
			t.Errorf("credit %s: recipient %+v, want the account", it.ItemID, it.Recipient)
		}
	}
	lists := map[listKind][]string{
		kindPending:   {b.pending2.ID, b.pending.ID},
		kindRejected:  {b.rejected.ID},
		kindCancelled: {b.cancelled.ID},
		kindScheduled: {b.scheduled.ID},
		kindHolds:     {b.pending2.ID, b.pending.ID, b.cardHold.ID}, // the card hold was placed two hours earlier
	}
	for kind, want := range lists {
		_, body, ref := b.polish(b.ais.polishTransactions(kind), ais, map[string]any{"accountNumber": acct})
		if ref != nil {
			t.Fatal(ref)
		}
		var m struct {
			Transactions []polishapi.ItemInfoBase `json:"transactions"`
			Holds        []polishapi.ItemInfoBase `json:"holds"`
		}
		json.Unmarshal(body, &m)
		got := append(m.Transactions, m.Holds...)
		var ids []string
		for _, it := range got {
			ids = append(ids, it.ItemID)
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("%s: items %v, want %v", kinds[kind].name, ids, want)
		}
	}
}

// TestKeysetWalk walks lists page by page in both dialects: every item
// once, in order, and the last page has no next page.
func TestKeysetWalk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 47)
		ais := b.aisConsent()
		acct := b.annaMain.NRB
		all := func(kind listKind) []string {
			_, body, ref := b.polish(b.ais.polishTransactions(kind), ais, map[string]any{"accountNumber": acct})
			if ref != nil {
				t.Fatal(ref)
			}
			var m struct {
				Transactions []polishapi.ItemInfoBase `json:"transactions"`
				Holds        []polishapi.ItemInfoBase `json:"holds"`
			}
			json.Unmarshal(body, &m)
			var ids []string
			for _, it := range append(m.Transactions, m.Holds...) {
				ids = append(ids, it.ItemID)
			}
			return ids
		}
		for _, kind := range []listKind{kindDone, kindPending, kindHolds} {
			want := all(kind)
			if kind == kindDone && len(want) != 47 {
				t.Fatalf("done: %d items, want 47", len(want))
			}
			for _, per := range []int{1, 2, 7, 47, 100} {
				var got []string
				page := ""
				for n := 0; ; n++ {
					if n > 100 {
						t.Fatal("endless pages")
					}
					req := map[string]any{"accountNumber": acct, "perPage": per}
					if page != "" {
						req["pageId"] = page
					}
					_, body, ref := b.polish(b.ais.polishTransactions(kind), ais, req)
					if ref != nil {
						t.Fatal(ref)
					}
					var m struct {
						Transactions []polishapi.ItemInfoBase `json:"transactions"`
						Holds        []polishapi.ItemInfoBase `json:"holds"`
						PageInfo     *polishapi.PageInfo      `json:"pageInfo"`
					}
					json.Unmarshal(body, &m)
					items := append(m.Transactions, m.Holds...)
					if len(items) > per {
						t.Fatalf("%d items on a page of %d", len(items), per)
					}
					for _, it := range items {
						got = append(got, it.ItemID)
					}
					if m.PageInfo == nil || m.PageInfo.NextPage == "" {
						break
					}
					page = m.PageInfo.NextPage
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s per %d: walked %d items, want %d (duplicates or gaps)", kinds[kind].name, per, len(got), len(want))
				}
			}
		}

		// mBank: follow the nextPage links.
		c := caller(tppA, ais, gateway.MBank, nil)
		want := all(kindDone)
		var got []string
		target := "/pl-retail/v3/accounts/" + b.annaMain.ID + "/transactions?transactionStatus=DONE&pageSize=10"
		for n := 0; target != ""; n++ {
			if n > 20 {
				t.Fatal("endless pages")
			}
			c.RequestID = "r" + target
			_, body, ref := b.mbank(b.ais.mbankTransactions, c, "GET", "/pl-retail/v3/accounts/{accountId}/transactions", target, psuHeader)
			if ref != nil {
				t.Fatal(ref)
			}
			var m mbank.TransactionsResponse
			json.Unmarshal(body, &m)
			for _, it := range m.Transactions {
				got = append(got, it.AspspTransactionID)
			}
			target = ""
			if len(m.Links) == 1 && m.Links[0].Rel == "nextPage" && m.Links[0].Action == "GET" {
				target = m.Links[0].Href
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("mBank walk: %d items, want %d", len(got), len(want))
		}
	})
}

// TestLive shows that answers come from the ledger as it is now: a payment
// booked after a first call appears in the next, and a pending payment
// keeps its id when it is booked.
func TestLive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 6)
		ais := b.aisConsent()
		ctx := context.Background()
		acct := b.annaMain.NRB
		ids := func(kind listKind) []string {
			_, body, ref := b.polish(b.ais.polishTransactions(kind), ais, map[string]any{"accountNumber": acct})
			if ref != nil {
				t.Fatal(ref)
			}
			var m struct {
				Transactions []polishapi.ItemInfoBase `json:"transactions"`
			}
			json.Unmarshal(body, &m)
			var out []string
			for _, it := range m.Transactions {
				out = append(out, it.ItemID)
			}
			return out
		}
		before := ids(kindDone)
		b.clock.Advance(time.Minute)
		tr := must(b.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: b.annaMain.ID, CreditAccountID: b.annaSave.ID, Amount: 1_00, Title: "Na oszczędności"}))
		after := ids(kindDone)
		if len(after) != len(before)+1 || after[0] != tr.ID {
			t.Fatalf("after a transfer: %v, want %s first, then %v", after, tr.ID, before)
		}
		if !strings.Contains(strings.Join(ids(kindPending), ","), b.pending.ID) {
			t.Fatal("the pending payment is not pending")
		}
		b.clock.Advance(time.Minute)
		must(b.l.Settle(ctx, b.pending.ID))
		if strings.Contains(strings.Join(ids(kindPending), ","), b.pending.ID) {
			t.Error("a settled payment is still pending")
		}
		if got := ids(kindDone); got[0] != b.pending.ID {
			t.Errorf("the settled payment is not the newest booked item under its pending id: %v", got)
		}
		// The balance of the account follows too.
		_, body, _ := b.polish(b.ais.polishGetAccount, ais, map[string]any{"accountNumber": acct})
		var a polishapi.AccountResponse
		json.Unmarshal(body, &a)
		now := must(b.l.Account(ctx, b.annaMain.ID))
		if a.Account.BookingBalance != now.Booked.String() || a.Account.AvailableBalance != now.Available.String() {
			t.Errorf("balances %s/%s, ledger %s/%s", a.Account.BookingBalance, a.Account.AvailableBalance, now.Booked, now.Available)
		}
	})
}

// TestFilters checks the type, amount and date filters and itemIdFrom.
func TestFilters(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), 30)
	ais := b.aisConsent()
	acct := b.annaMain.NRB
	list := func(req map[string]any) []polishapi.TransactionInfo {
		t.Helper()
		req["accountNumber"] = acct
		_, body, ref := b.polish(b.ais.polishTransactions(kindDone), ais, req)
		if ref != nil {
			t.Fatal(ref)
		}
		var m polishapi.TransactionsDoneInfoResponse
		json.Unmarshal(body, &m)
		return m.Transactions
	}
	all := list(map[string]any{})
	if len(all) != 30 {
		t.Fatalf("%d items, want 30", len(all))
	}
	for _, side := range []string{"DEBIT", "CREDIT"} {
		got := list(map[string]any{"type": side})
		if len(got) == 0 || len(got) == len(all) {
			t.Errorf("type %s: %d of %d", side, len(got), len(all))
		}
		for _, it := range got {
			if it.TransactionCategory != side {
				t.Errorf("type %s: item %s is %s", side, it.ItemID, it.TransactionCategory)
			}
		}
	}
	for _, it := range list(map[string]any{"minAmount": "100.00", "maxAmount": "200.00"}) {
		if it.Amount < "100.00" || len(it.Amount) != 6 || it.Amount > "200.00" {
			t.Errorf("amount %s outside 100.00-200.00", it.Amount)
		}
	}
	from, to := ledger.DateOf(t0.AddDate(0, 0, -30)), ledger.DateOf(t0.AddDate(0, 0, -10))
	got := list(map[string]any{"bookingDateFrom": from, "bookingDateTo": to})
	if len(got) == 0 || len(got) >= len(all) {
		t.Errorf("booking dates %s..%s: %d of %d", from, to, len(got), len(all))
	}
	for _, it := range got {
		if d := it.BookingDate[:10]; d < from || d > to {
			t.Errorf("booking date %s outside %s..%s", it.BookingDate, from, to)
		}
	}
	// itemIdFrom: the items booked after that one.
	newer := list(map[string]any{"itemIdFrom": all[5].ItemID})
	if len(newer) != 5 || newer[0].ItemID != all[0].ItemID || newer[4].ItemID != all[4].ItemID {
		t.Errorf("itemIdFrom: %d items, want the 5 newer ones", len(newer))
	}
	// Default window: without dates, the last 90 days only.
	b.clock.Advance(80 * 24 * time.Hour)
	if n := len(list(map[string]any{})); n == 0 || n >= len(all) {
		t.Errorf("80 days later, the default window shows %d of %d items", n, len(all))
	}
	if n := len(list(map[string]any{"bookingDateFrom": ledger.DateOf(t0.AddDate(0, 0, -61))})); n != len(all) {
		t.Errorf("with a date filter, %d of %d items", n, len(all))
	}
	// Bad filters.
	for _, req := range []map[string]any{{"type": "BOTH"}, {"minAmount": "-1.00"}, {"bookingDateFrom": "23.11.2026"}} {
		req["accountNumber"] = acct
		if _, _, ref := b.polish(b.ais.polishTransactions(kindDone), ais, req); ref == nil || ref.Status != http.StatusBadRequest {
			t.Errorf("%v: %v, want 400", req, ref)
		}
	}
}

// TestPageIDTamper refuses page ids altered, or used for another query.
func TestPageIDTamper(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), 10)
	ais := b.aisConsent()
	acct := b.annaMain.NRB
	_, body, _ := b.polish(b.ais.polishTransactions(kindDone), ais, map[string]any{"accountNumber": acct, "perPage": 3})
	var m polishapi.TransactionsDoneInfoResponse
	json.Unmarshal(body, &m)
	next := m.PageInfo.NextPage
	payload, _, _ := strings.Cut(next, ".")
	forged, _ := json.Marshal(struct {
		Key    string `json:"k"`
		Issued int64  `json:"t"`
	}{"1", t0.Unix()})
	for name, tc := range map[string]struct {
		page string
		req  map[string]any
	}{
		"garbage":        {"abc", nil},
		"forged":         {string(forged) + "." + strings.Split(next, ".")[1], nil},
		"other mac":      {payload + ".AAAAAAAAAAAAAAAAAAAAAA", nil},
		"other filter":   {next, map[string]any{"type": "DEBIT"}},
		"other list":     {next, map[string]any{"_kind": kindPending}},
		"other account":  {next, map[string]any{"accountNumber": b.annaSave.NRB}},
		"other consents": {next, map[string]any{"_consent": true}},
	} {
		t.Run(name, func(t *testing.T) {
			req := map[string]any{"accountNumber": acct, "perPage": 3, "pageId": tc.page}
			h, c := b.ais.polishTransactions(kindDone), ais
			for k, v := range tc.req {
				switch k {
				case "_kind":
					h = b.ais.polishTransactions(v.(listKind))
				case "_consent":
					c = b.aisConsent()
				default:
					req[k] = v
				}
			}
			if _, _, ref := b.polish(h, c, req); ref == nil || ref.Code != common.CodePageInvalid {
				t.Fatalf("got %v, want PAGE_INVALID", ref)
			}
		})
	}
}

// TestMBankAIS covers the mBank resources.
func TestMBankAIS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 12)
		accts, ais := b.accountsConsent(), b.aisConsent()

		_, body, ref := b.mbank(b.ais.mbankAccounts, caller(tppA, accts, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts", "/pl-retail/v3/accounts", psuHeader)
		if ref != nil {
			t.Fatal(ref)
		}
		var list mbank.AccountsResponse
		json.Unmarshal(body, &list)
		if len(list.Accounts) != 2 || list.Links != nil {
			t.Fatalf("accounts: %s", body)
		}
		ids := map[string]string{}
		for _, a := range list.Accounts {
			ids[a.AccountNumber] = a.AccountID
		}
		if ids[b.annaMain.NRB] != b.annaMain.ID {
			t.Fatalf("accountId %q, want the ledger's id %q", ids[b.annaMain.NRB], b.annaMain.ID)
		}
		// Paged by one.
		_, body, _ = b.mbank(b.ais.mbankAccounts, caller(tppA, accts, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts", "/pl-retail/v3/accounts?pageSize=1", psuHeader)
		list = mbank.AccountsResponse{}
		json.Unmarshal(body, &list)
		if len(list.Accounts) != 1 || len(list.Links) != 1 {
			t.Fatalf("accounts page of 1: %s", body)
		}
		u, _ := url.Parse(list.Links[0].Href)
		_, body, ref = b.mbank(b.ais.mbankAccounts, caller(tppA, accts, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts", u.String(), psuHeader)
		if ref != nil {
			t.Fatal(ref)
		}
		list = mbank.AccountsResponse{}
		json.Unmarshal(body, &list)
		if len(list.Accounts) != 1 || list.Links != nil {
			t.Fatalf("accounts page 2: %s", body)
		}

		_, body, ref = b.mbank(b.ais.mbankAccountDetails, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts/{accountId}",
			"/pl-retail/v3/accounts/"+b.annaMain.ID, psuHeader)
		if ref != nil {
			t.Fatal(ref)
		}
		var det mbank.AccountResponse
		json.Unmarshal(body, &det)
		if det.Account.AccountNumber != b.annaMain.NRB || det.Account.BookingBalance != b.annaMain.Booked.String() || det.Account.AccountHolderType != "individual" {
			t.Fatalf("account details: %s", body)
		}

		for _, tc := range []struct {
			status string
			want   []string
		}{
			{"PENDING", []string{b.pending2.ID, b.pending.ID}},
			{"REJECTED", []string{b.rejected.ID}},
			{"CANCELLED", []string{b.cancelled.ID}},
			{"SCHEDULED", []string{b.scheduled.ID}},
			{"HOLD", []string{b.pending2.ID, b.pending.ID, b.cardHold.ID}},
		} {
			_, body, ref := b.mbank(b.ais.mbankTransactions, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts/{accountId}/transactions",
				"/pl-retail/v3/accounts/"+b.annaMain.ID+"/transactions?transactionStatus="+tc.status, psuHeader)
			if ref != nil {
				t.Fatal(ref)
			}
			var m mbank.TransactionsResponse
			json.Unmarshal(body, &m)
			var got []string
			for _, it := range m.Transactions {
				got = append(got, it.AspspTransactionID)
				if it.TransactionStatus != tc.status || !strings.HasPrefix(it.Amount, "-") {
					t.Errorf("%s: item %+v", tc.status, it)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s: %v, want %v", tc.status, got, tc.want)
			}
		}
		// A DONE item's details, dates plain.
		_, body, _ = b.mbank(b.ais.mbankTransactions, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts/{accountId}/transactions",
			"/pl-retail/v3/accounts/"+b.annaMain.ID+"/transactions", psuHeader)
		var m mbank.TransactionsResponse
		json.Unmarshal(body, &m)
		first := m.Transactions[0]
		_, body, ref = b.mbank(b.ais.mbankTransactionDetails, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts/{accountId}/transactions/{transactionId}",
			"/pl-retail/v3/accounts/"+b.annaMain.ID+"/transactions/"+first.AspspTransactionID, psuHeader)
		if ref != nil {
			t.Fatal(ref)
		}
		var td mbank.TransactionResponse
		json.Unmarshal(body, &td)
		if td.Transaction.AspspTransactionID != first.AspspTransactionID || td.Transaction.Amount != first.Amount {
			t.Errorf("details %+v, list item %+v", td.Transaction, first)
		}
		if len(td.Transaction.BookingDate) != 10 || len(td.Transaction.TradeDate) != 10 {
			t.Errorf("dates %q %q, want YYYY-MM-DD", td.Transaction.BookingDate, td.Transaction.TradeDate)
		}
		// Unknown status, too large a page.
		if _, _, ref := b.mbank(b.ais.mbankTransactions, caller(tppA, ais, gateway.MBank, nil), "GET", "/pl-retail/v3/accounts/{accountId}/transactions",
			"/pl-retail/v3/accounts/"+b.annaMain.ID+"/transactions?transactionStatus=LOST", psuHeader); ref == nil || ref.Status != 400 {
			t.Errorf("unknown status: %v", ref)
		}
	})
}

// TestDeleteConsent revokes the TPP's consent by its consentId, in both
// dialects; the consent then refuses access.
func TestDeleteConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, 3)
		ais := b.aisConsent()
		acct := b.annaMain.NRB
		// Another TPP cannot delete it.
		c := caller(tppB, ais, gateway.PolishAPI, []byte(`{"requestHeader":{"requestId":"x"},"consentId":"`+ais.TPPConsentID+`"}`))
		if _, _, ref := b.call(b.ais.polishDeleteConsent, c, httptestRequest()); ref == nil || ref.Code != common.CodeConsentUnknown {
			t.Fatalf("another TPP: %v", ref)
		}
		c.OrgID = tppA
		status, _, ref := b.call(b.ais.polishDeleteConsent, c, httptestRequest())
		if ref != nil || status != http.StatusNoContent {
			t.Fatalf("deleteConsent: %d %v", status, ref)
		}
		if _, _, ref := b.polish(b.ais.polishGetAccount, ais, map[string]any{"accountNumber": acct}); ref == nil || ref.Code != common.CodeConsentRevoked || ref.Status != 403 {
			t.Fatalf("after delete: %v", ref)
		}
		// Again: still 204.
		if status, _, ref := b.call(b.ais.polishDeleteConsent, c, httptestRequest()); ref != nil || status != http.StatusNoContent {
			t.Fatalf("deleteConsent again: %d %v", status, ref)
		}
		// mBank.
		other := b.aisConsent()
		mc := caller(tppA, other, gateway.MBank, nil)
		status, _, ref = b.mbank(b.ais.mbankDeleteConsent, mc, "DELETE", "/pl-retail/v3/consents/{consentId}", "/pl-retail/v3/consents/"+other.TPPConsentID, nil)
		if ref != nil || status != http.StatusNoContent {
			t.Fatalf("mBank delete: %d %v", status, ref)
		}
		if _, _, ref := b.mbank(b.ais.mbankDeleteConsent, mc, "DELETE", "/pl-retail/v3/consents/{consentId}", "/pl-retail/v3/consents/nope", nil); ref == nil || ref.Code != common.CodeConsentUnknown {
			t.Fatalf("mBank delete unknown: %v", ref)
		}
	})
}

func httptestRequest() *http.Request {
	r, _ := http.NewRequest("POST", "/", nil)
	return r
}
