package main

import (
	"context"
	"net/http"
	"os"
	"testing"
	"github.com/psd2bank/psd2bank/internal/ledger"

	"github.com/google/uuid"
)

func BenchmarkZZFrames(b *testing.B) {
	s := openBenchSandbox(b, "")
	tpp := loadBenchTPP(b, s)
	payers := s.retailPayers(b)
	var reqs []*http.Request
	for i := 0; i < 200; i++ {
		from, to := payers[i%len(payers)], payers[(i+1)%len(payers)]
		pay := map[string]any{
			"recipient":    map[string]any{"accountNumber": to.nrb, "nameAddress": map[string]any{"value": []string{to.name}}},
			"sender":       map[string]any{"accountNumber": from.nrb},
			"transferData": map[string]any{"description": "Benchmark", "amount": "0.01", "currency": "PLN"},
			"deliveryMode": "ExpressD0", "system": "Internal", "executionMode": "Immediate",
		}
		token := s.pisToken(b, tpp, from.customerID, pay)
		body := map[string]any{"tppTransactionId": uuid.NewString()}
		for k, v := range pay {
			body[k] = v
		}
		reqs = append(reqs, tpp.polishAPI(b, "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token, false))
	}
	c := tpp.client()
	benchPay(b, c, reqs[0])
	os.WriteFile("/tmp/MARK_START", nil, 0o644)
	for _, r := range reqs[1:101] {
		benchPay(b, c, r)
	}
	os.WriteFile("/tmp/MARK_MID", nil, 0o644)
	ctx := context.Background()
	a, _ := s.bank.Ledger.AccountByNRB(ctx, payers[0].nrb)
	a2, _ := s.bank.Ledger.AccountByNRB(ctx, payers[1].nrb)
	for i := 0; i < 100; i++ {
		x, y := a.ID, a2.ID
		if i%2 == 1 {
			x, y = y, x
		}
		if _, err := s.bank.Ledger.Transfer(ctx, ledger.TransferRequest{DebitAccountID: x, CreditAccountID: y, Amount: 1, Currency: "PLN", Title: "Benchmark"}); err != nil {
			b.Fatal(err)
		}
	}
	os.WriteFile("/tmp/MARK_END", nil, 0o644)
}
