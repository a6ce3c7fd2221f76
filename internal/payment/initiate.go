package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Clearing times of the simulated systems, Warsaw wall clock.
const (
	sorbnetOpenHour = 8  // a SORBNET payment accepted after the cut-off goes out at 8:00 of the next business day
	foreignHour     = 10 // SEPA and SWIFT payments settle at 10:00 of their settlement day
)

// Initiate records a payment order and sets it going. It is idempotent by
// (TPPID, TPPTransactionID): the same key with the same RequestHash returns
// the payment already recorded, however many duplicates arrive at once; the
// same key with another body is refused with CodeDuplicate.
//
// An order that fails validation is not recorded. An order refused by the
// ledger for lack of funds is recorded as rejected with the reason, and
// returned together with an *Error of CodeInsufficientFunds; nothing is held.
func (s *Service) Initiate(ctx context.Context, o Order) (Payment, error) {
	if o.Recurrence != nil {
		return Payment{}, newError(CodeInvalidRequest, "recurrence", "a recurring payment is set up with InitiateRecurring",
			"płatność cykliczną zakłada się przez InitiateRecurring")
	}
	return s.initiate(ctx, o, "", "")
}

func (s *Service) initiate(ctx context.Context, o Order, bundleID, recurringID string) (Payment, error) {
	if o.TPPID != "" && o.TPPTransactionID != "" {
		if p, err := s.GetByTPPTransactionID(ctx, o.TPPID, o.TPPTransactionID); err == nil {
			return sameRequest(p, o)
		} else if CodeOf(err) != CodeNotFound {
			return Payment{}, err
		}
	}
	var p Payment
	var inserted bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, inserted, err = s.record(ctx, tx, o, bundleID, recurringID)
		return err
	})
	if err != nil {
		return Payment{}, err
	}
	if !inserted {
		return sameRequest(p, o)
	}
	return s.execute(ctx, p)
}

// Record validates and routes an order and records it in the caller's
// transaction tx, with its first status (submitted) in the history. When
// the TPP used the order's key (TPPID, TPPTransactionID) before, nothing is
// written and the payment recorded under it is returned with inserted
// false; the caller compares the request (SameRequest). After tx commits,
// Execute sets the payment going; a payment whose Execute never ran (the
// node stopped) is set going by RunDue.
func (s *Service) Record(ctx context.Context, tx *store.Tx, o Order) (p Payment, inserted bool, err error) {
	if o.Recurrence != nil {
		return Payment{}, false, newError(CodeInvalidRequest, "recurrence", "a recurring payment is set up with InitiateRecurring",
			"płatność cykliczną zakłada się przez InitiateRecurring")
	}
	return s.record(ctx, tx, o, "", "")
}

func (s *Service) record(ctx context.Context, tx *store.Tx, o Order, bundleID, recurringID string) (Payment, bool, error) {
	p, err := s.prepare(ctx, tx, o)
	if err != nil {
		return Payment{}, false, err
	}
	p.BundleID, p.RecurringID = bundleID, recurringID
	q, inserted, err := insertOrFetch(ctx, tx, p)
	if err == nil && inserted {
		tx.AfterCommit(func() { s.observe(ctx, q, "") })
	}
	return q, inserted, err
}

// Execute sets going a payment Record recorded, once its transaction has
// committed: it books, holds or schedules the money in the ledger. A
// payment refused for lack of funds is returned rejected, with an *Error of
// CodeInsufficientFunds.
func (s *Service) Execute(ctx context.Context, p Payment) (Payment, error) {
	if p.Status != StatusSubmitted {
		return p, nil
	}
	return s.execute(ctx, p)
}

// SameRequest returns p, recorded under o's key, when o is the same request
// (the same body), and a CodeDuplicate error otherwise.
func SameRequest(p Payment, o Order) (Payment, error) { return sameRequest(p, o) }

// sameRequest returns the payment recorded under an order's key if the order
// is the same request, and a CodeDuplicate error otherwise.
func sameRequest(p Payment, o Order) (Payment, error) {
	if p.RequestHash != o.RequestHash {
		return Payment{}, errorf(CodeDuplicate, "tppTransactionId",
			"tppTransactionId %q was already used for another payment (%s) with a different request body; use a new tppTransactionId for a new payment",
			"tppTransactionId %q został już użyty dla innej płatności (%s) o innej treści żądania; nowa płatność wymaga nowego tppTransactionId",
			o.TPPTransactionID, p.ID)
	}
	return p, nil
}

// prepare validates an order, looks up the accounts and routes it: the
// payment it returns is ready to record, in status submitted.
func (s *Service) prepare(ctx context.Context, q store.Querier, o Order, known ...ledger.Known) (Payment, error) {
	c, err := s.validate(o)
	if err != nil {
		return Payment{}, err
	}
	account := func(nrb string) (ledger.Account, error) {
		for _, k := range known {
			if k.NRB == nrb {
				if k.ID == "" {
					return ledger.Account{}, &ledger.Error{Code: ledger.CodeNotFound, Message: "no such account"}
				}
				return ledger.Account{ID: k.ID, NRB: k.NRB, CustomerID: k.CustomerID, Currency: k.Currency, Type: k.Type}, nil
			}
		}
		return ledger.AccountByNRBIn(ctx, q, nrb)
	}
	sender, err := account(c.sender)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && sender.Type == ledger.TypeClearing {
		return Payment{}, newError(CodeInvalidSenderAccount, "sender.accountNumber", "the sender's account is not an account of this bank",
			"rachunek nadawcy nie jest rachunkiem w tym banku")
	}
	if err != nil {
		return Payment{}, err
	}
	if o.CustomerID != "" && sender.CustomerID != o.CustomerID {
		return Payment{}, newError(CodeInvalidSenderAccount, "sender.accountNumber", "the sender's account does not belong to the user who authorised the payment",
			"rachunek nadawcy nie należy do użytkownika, który autoryzował płatność")
	}
	if sender.Currency != o.Currency {
		return Payment{}, errorf(CodeInvalidCurrency, "currency", "the sender's account is kept in %s and cannot pay %s without a currency exchange, which is not offered",
			"rachunek nadawcy prowadzony jest w %s i nie może realizować płatności w %s bez przewalutowania, którego nie oferujemy", sender.Currency, o.Currency)
	}
	now := s.clock.Now()
	p := Payment{
		ID: ledger.NewID(), TPPID: o.TPPID, TPPTransactionID: o.TPPTransactionID, RequestHash: o.RequestHash,
		ConsentID: o.ConsentID, CustomerID: sender.CustomerID, Type: o.Type, Status: StatusSubmitted,
		DebitAccountID: sender.ID, SenderAccount: sender.NRB,
		Recipient: Recipient{Name: o.Recipient.Name, Account: c.recipient, Address: o.Recipient.Address,
			Country: o.Recipient.Country, BIC: o.Recipient.BIC},
		Amount: o.Amount, Currency: o.Currency, Title: c.title, ExecutionDate: dateOf(now),
		Tax: o.Tax, Split: o.Split, CallbackURL: o.CallbackURL, CreatedAt: now, UpdatedAt: now,
	}
	if c.execDate != "" {
		p.ExecutionDate, p.FutureDated = c.execDate, true
	}

	// Is the recipient's account ours?
	own := ""
	switch o.Type {
	case Domestic:
		own = c.recipient
	case EEA:
		if c.recipient[:2] == "PL" {
			own = c.recipient[2:]
		}
	}
	if own != "" {
		acct, err := account(own)
		switch {
		case err == nil && acct.Type != ledger.TypeClearing:
			if acct.ID == sender.ID {
				return Payment{}, newError(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account is the sender's own account",
					"rachunek odbiorcy jest rachunkiem nadawcy")
			}
			if acct.Currency != o.Currency {
				return Payment{}, errorf(CodeInvalidCurrency, "currency", "the recipient's account is kept in %s, not %s",
					"rachunek odbiorcy prowadzony jest w %s, a nie w %s", acct.Currency, o.Currency)
			}
			if o.System != "" && o.System != SystemInternal && o.System != SystemElixir && o.System != SystemExpressElixir && o.System != SystemSEPA && o.System != SystemInstantSEPA {
				return Payment{}, errorf(CodeInvalidSystem, "system", "the recipient's account is at this bank: the payment is an internal transfer, not %s",
					"rachunek odbiorcy jest w tym banku: płatność jest przelewem wewnętrznym, a nie %s", o.System)
			}
			p.System, p.Kind = SystemInternal, "internal"
			if o.Split != nil {
				p.Kind = "split"
			}
			return p, nil
		case err != nil && ledger.CodeOf(err) != ledger.CodeNotFound:
			return Payment{}, err
		}
	}
	if o.Type == Domestic && c.recipient[2:6] == polish.OwnBankCode {
		return Payment{}, newError(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number is of this bank but no such account exists",
			"numer rachunku odbiorcy należy do tego banku, ale takiego rachunku nie ma")
	}
	if o.System == SystemInternal {
		return Payment{}, newError(CodeInvalidSystem, "system", "the recipient's account is at another bank: the payment cannot be an internal transfer",
			"rachunek odbiorcy jest w innym banku: płatność nie może być przelewem wewnętrznym")
	}

	// It leaves the bank.
	switch o.Type {
	case EEA:
		p.System, p.Kind = SystemSEPA, "sepa"
		if o.System == SystemInstantSEPA || o.System == SystemTarget {
			p.System = o.System
		}
	case NonEEA:
		p.System, p.Kind = SystemSwift, "swift"
	case Tax:
		p.System, p.Kind = SystemElixir, "tax"
	default:
		switch {
		case c.zus:
			p.System, p.Kind = SystemElixir, "zus"
		case o.Amount >= polish.SorbnetMin || o.System == SystemSorbnet:
			p.System, p.Kind = SystemSorbnet, "sorbnet"
		case o.System == SystemExpressElixir || o.System == "" && o.DeliveryMode == ExpressD0:
			if o.Amount > s.expressMax {
				return Payment{}, errorf(CodeLimitExceeded, "amount", "Express Elixir takes at most %s PLN; %s PLN must go by Elixir",
					"Express Elixir przyjmuje najwyżej %s PLN; %s PLN należy wysłać przez Elixir", s.expressMax, o.Amount)
			}
			p.System, p.Kind = SystemExpressElixir, "express_elixir"
		default:
			p.System, p.Kind = SystemElixir, "elixir"
		}
		if o.Split != nil {
			p.Kind = "split"
		}
	}
	if p.FutureDated && p.System != SystemExpressElixir && p.System != SystemInstantSEPA && !polish.IsBusinessDay(parseDate(p.ExecutionDate)) {
		next := dateOf(polish.NextBusinessDay(parseDate(p.ExecutionDate)))
		return Payment{}, errorf(CodeInvalidExecutionDate, "executionDate", "%s is not a business day and %s does not run on it; choose %s, the next business day",
			"%s nie jest dniem roboczym i %s w tym dniu nie działa; wybierz %s, najbliższy dzień roboczy", p.ExecutionDate, p.System, next)
	}
	return p, nil
}

// transferRequest is the ledger transfer of a payment.
func (s *Service) transferRequest(ctx context.Context, p Payment) (ledger.TransferRequest, error) {
	req := ledger.TransferRequest{
		ID: p.ID, Kind: p.Kind, DebitAccountID: p.DebitAccountID, Amount: p.Amount, Currency: p.Currency,
		Title: p.Title, ExecutionDate: p.ExecutionDate,
	}
	if p.System == SystemInternal {
		own := p.Recipient.Account
		if len(own) == 28 {
			own = own[2:] // a Polish IBAN
		}
		acct, err := s.ledger.AccountByNRB(ctx, own)
		if err != nil {
			return req, err
		}
		req.CreditAccountID = acct.ID
		return req, nil
	}
	clr, err := s.ledger.ClearingAccount(ctx, p.Currency)
	if err != nil {
		return req, err
	}
	req.CreditAccountID = clr.ID
	req.Creditor = ledger.Party{Name: p.Recipient.Name, Account: p.Recipient.Account}
	return req, nil
}

// clearing says when a payment that leaves the bank now settles: at once
// (immediate), or at settleAt, cancellable until cutoffAt (zero: not at
// all).
func clearing(p Payment, now time.Time) (immediate bool, cutoffAt, settleAt time.Time) {
	at := func(day time.Time, hour int) time.Time {
		y, m, d := day.In(polish.Warsaw).Date()
		return time.Date(y, m, d, hour, 0, 0, 0, polish.Warsaw)
	}
	switch p.System {
	case SystemInternal, SystemExpressElixir, SystemInstantSEPA:
		return true, time.Time{}, now
	case SystemSorbnet:
		if polish.IsBusinessDay(now) && !now.After(polish.SorbnetCutoff(now)) {
			return true, time.Time{}, now
		}
		next := at(polish.BusinessDayOnOrAfter(now), sorbnetOpenHour)
		if !next.After(now) {
			next = at(polish.NextBusinessDay(now), sorbnetOpenHour)
		}
		return false, next, next
	case SystemSEPA, SystemTarget, SystemSwift:
		return false, time.Time{}, at(polish.NextBusinessDay(now), foreignHour)
	default: // Elixir
		sess := polish.NextElixirSession(now)
		return false, sess.Cutoff, sess.Settled
	}
}

// execute sets a freshly recorded payment going: it books, holds or
// schedules its money in the ledger and moves it out of submitted.
func (s *Service) execute(ctx context.Context, p Payment) (Payment, error) {
	req, err := s.transferRequest(ctx, p)
	if err != nil {
		return s.fail(ctx, p, err)
	}
	now := s.clock.Now()
	if p.FutureDated && p.ExecutionDate > dateOf(now) {
		if _, err := s.ledger.Schedule(ctx, req); err != nil {
			return s.fail(ctx, p, err)
		}
		return s.moveOn(ctx, p, StatusSubmitted, StatusScheduled, "scheduled for "+p.ExecutionDate, nil)
	}
	if p.System == SystemInternal {
		if _, err := s.ledger.Transfer(ctx, req); err != nil {
			return s.fail(ctx, p, err)
		}
		return s.moveOn(ctx, p, StatusSubmitted, StatusDone, "booked", nil)
	}
	if _, err := s.ledger.Submit(ctx, req); err != nil {
		return s.fail(ctx, p, err)
	}
	immediate, cutoff, settle := clearing(p, now)
	p, err = s.moveOn(ctx, p, StatusSubmitted, StatusPending, pendingReason(p.System, settle), func(q *Payment) {
		q.CutoffAt, q.SettleAt = cutoff, settle
	})
	if err != nil || !immediate {
		return p, err
	}
	p, _, err = s.settle(ctx, p)
	return p, err
}

func pendingReason(sys System, settle time.Time) string {
	return fmt.Sprintf("sent to %s, settles at %s", sys, settle.In(polish.Warsaw).Format("2006-01-02 15:04"))
}

// moveOn transitions p and returns it as stored; when another node moved it
// first, the stored payment is returned as it is.
func (s *Service) moveOn(ctx context.Context, p Payment, from, to Status, reason string, set func(*Payment)) (Payment, error) {
	q, _, err := s.transition(ctx, p.ID, from, to, reason, set)
	return q, err
}

// settle books a pending payment whose clearing has come. moved is false
// when another node got there first.
func (s *Service) settle(ctx context.Context, p Payment) (q Payment, moved bool, err error) {
	t, err := s.ledger.Settle(ctx, p.ID)
	if ledger.CodeOf(err) == ledger.CodeConflict {
		t, err = s.ledger.GetTransfer(ctx, p.ID)
	}
	if err != nil {
		return p, false, err
	}
	return s.mirrorMoved(ctx, p, t)
}

// mirror brings a payment to the state of its ledger transfer.
func (s *Service) mirror(ctx context.Context, p Payment, t ledger.Transfer) (Payment, error) {
	q, _, err := s.mirrorMoved(ctx, p, t)
	return q, err
}

// mirrorMoved is mirror telling whether this call changed the payment.
func (s *Service) mirrorMoved(ctx context.Context, p Payment, t ledger.Transfer) (Payment, bool, error) {
	switch t.Status {
	case ledger.StatusBooked:
		return s.transition(ctx, p.ID, p.Status, StatusDone, "booked", nil)
	case ledger.StatusRejected:
		return s.transition(ctx, p.ID, p.Status, StatusRejected, t.StatusReason, nil)
	case ledger.StatusCancelled:
		return s.transition(ctx, p.ID, p.Status, StatusCancelled, t.StatusReason, nil)
	case ledger.StatusScheduled:
		return s.transition(ctx, p.ID, p.Status, StatusScheduled, "scheduled for "+t.ExecutionDate, nil)
	case ledger.StatusPending:
		_, cutoff, settle := clearing(p, t.CreatedAt)
		return s.transition(ctx, p.ID, p.Status, StatusPending, pendingReason(p.System, settle), func(q *Payment) {
			q.CutoffAt, q.SettleAt = cutoff, settle
		})
	}
	return p, false, nil
}

// fail ends a submitted payment that the ledger refused. Lack of funds
// rejects it with the reason; a transfer that already exists (another node
// executed the payment) is mirrored; other errors leave the payment
// submitted for RunDue to retry.
func (s *Service) fail(ctx context.Context, p Payment, err error) (Payment, error) {
	switch ledger.CodeOf(err) {
	case ledger.CodeInsufficientFunds:
		q, _, terr := s.transition(ctx, p.ID, StatusSubmitted, StatusRejected, err.Error(), nil)
		if terr != nil {
			return p, errors.Join(err, terr)
		}
		return q, &Error{Code: CodeInsufficientFunds, Field: "amount",
			Message:   "insufficient funds: the available balance does not cover " + p.Amount.String() + " " + p.Currency,
			MessagePL: "brak wystarczających środków: dostępne saldo nie pokrywa kwoty " + p.Amount.String() + " " + p.Currency}
	case ledger.CodeInvalid, ledger.CodeCurrencyMismatch, ledger.CodeNotFound:
		// A refusal that no retry will change (the bank has no clearing
		// account in the currency, say): the payment is rejected with it.
		if _, _, terr := s.transition(ctx, p.ID, StatusSubmitted, StatusRejected, err.Error(), nil); terr != nil {
			return p, errors.Join(err, terr)
		}
		q, _ := s.Get(ctx, p.ID)
		return q, &Error{Code: CodeInvalidRequest, Message: "the bank cannot execute the payment: " + err.Error(),
			MessagePL: "bank nie może zrealizować płatności: " + err.Error()}
	case ledger.CodeConflict:
		t, gerr := s.ledger.GetTransfer(ctx, p.ID)
		if gerr != nil {
			return p, errors.Join(err, gerr)
		}
		return s.mirror(ctx, p, t)
	}
	s.log.Error("payment: ledger step failed", "payment", p.ID, "err", err)
	return p, fmt.Errorf("payment %s: %w", p.ID, err)
}
