// Package pis is the domain service of payment initiation under a
// customer's consent, in no dialect's words: a dialect decodes its body
// into a payment.Order (or a bundle of them), calls Initiate,
// InitiateBundle or InitiateRecurring, and encodes the answer.
//
// Each initiation is one database transaction that
//
//   - checks the consent (the TPP's, authorised, alive, holding the
//     privilege) and, on PostgreSQL, locks its row, so that initiations
//     under one consent run one after the other on any number of nodes;
//   - checks that the order is the payment the customer authorised in the
//     privilege (the meaningful fields compared, the first that differs
//     named), and the domain's rules for it, the sender account being the
//     customer's and its API access;
//   - uses the single-use privilege (a compare-and-set);
//   - applies the TPP's idempotency key (tppTransactionId, tppBundleId,
//     tppRecurringPaymentId; mBank's TPP-Payment-ID, TPP-Bundle-ID): the
//     same key with the same body under the same consent answers with what
//     was recorded, another body with payment.CodeDuplicate;
//   - counts the payment towards the customer's limits for API payments,
//     checking them again atomically;
//   - records the payment (the bundle with its payments, the recurring
//     payment) with its first status.
//
// Nothing is kept in process memory and nothing waits: a failure at any
// statement rolls everything back, and the retry with the same key starts
// afresh. Once the transaction has committed the payment is set going in
// the ledger (payment.Service.Execute); a node that stops in between leaves
// a submitted payment that payment.Service.RunDue sets going.
package pis

import (
	"context"
	"errors"
	"strconv"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Config configures a Service.
type Config struct {
	Consents *consent.Service
	Payments *payment.Service
	Ledger   *ledger.Ledger
	// Access is API access per account and the customers' limits for API
	// payments; nil allows every account without limits.
	Access *access.Service
}

// Service initiates payments under consents. It is safe for concurrent use.
type Service struct {
	db       payment.DB
	consents *consent.Service
	payments *payment.Service
	ledger   *ledger.Ledger
	access   *access.Service
}

// New returns the service.
func New(cfg Config) *Service {
	return &Service{db: cfg.Payments.DB(), consents: cfg.Consents, payments: cfg.Payments, ledger: cfg.Ledger, access: cfg.Access}
}

// Grant is who asks: the TPP, and the consent and customer of its access
// token.
type Grant struct {
	TPPID      string
	ConsentID  string
	CustomerID string // "" when the token does not name one
}

// Request is the initiation of a single or recurring payment.
type Request struct {
	Grant
	// Privileges is the privilege the payment needs; when the consent has
	// not the first, the next is tried (mBank's recurring payments come
	// under pis:recurring or pis:domestic).
	Privileges []string
	// Order is the payment as the TPP ordered it now, with its key
	// (TPPTransactionID), RequestHash and CallbackURL.
	Order payment.Order
	// Consented reads the payment the customer authorised in the privilege.
	Consented func(consent.Privilege) (payment.Order, error)
	// Names are the dialect's names of the compared fields.
	Names FieldNames
}

// BundleRequest is the initiation of a bundle.
type BundleRequest struct {
	Grant
	Bundle   payment.BundleOrder
	Callback string // where the payments' status changes are notified
	// Consented reads the bundle the customer authorised in pis:bundle: its
	// transfers and total.
	Consented func(consent.Privilege) ([]payment.Order, money.Amount, error)
	Names     FieldNames
}

// errReplay ends, rolling it back, a transaction that found the same
// request recorded before.
var errReplay = errors.New("pis: the same request was recorded before")

// found is what an idempotency key recorded before.
type found struct {
	ok        bool
	consentID string // of the consent that initiated it
	hash      string
}

// steps are what one kind of initiation does inside the transaction.
type steps struct {
	privileges []string
	// also is read with the consent, in its statement (nil: nothing).
	also     *consent.Also
	hash     string
	keyField string // the key's name, for the refusal of a reused key
	// prepare checks the order against the consent and the rules (reads only).
	prepare func(ctx context.Context, tx *store.Tx, cons consent.Consent, priv consent.Privilege) error
	// lookup finds what the key recorded.
	lookup func(ctx context.Context, q store.Querier) (found, error)
	// write records the initiation; inserted is false when the key was used before.
	write func(ctx context.Context, tx *store.Tx, cons consent.Consent) (inserted bool, err error)
}

// once runs an initiation in one transaction and tells whether its answer
// is a replay of what the key recorded before (then nothing was written).
func (s *Service) once(ctx context.Context, g Grant, st steps) (replayed bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var cons consent.Consent
		var a consent.Access
		var err error
		for i, name := range st.privileges {
			a = consent.Access{ConsentID: g.ConsentID, TPPID: g.TPPID, Privilege: name, PSUPresent: true}
			if st.also != nil {
				cons, err = s.consents.CheckInAlso(ctx, tx, a, st.also)
			} else {
				cons, err = s.consents.CheckIn(ctx, tx, a)
			}
			if consent.CodeOf(err) != consent.CodePrivilegeMissing || i == len(st.privileges)-1 {
				break
			}
		}
		if consent.CodeOf(err) == consent.CodeUsageExhausted {
			return s.replay(ctx, tx, g.ConsentID, st, err)
		}
		if err != nil {
			return err
		}
		if g.CustomerID != "" && cons.CustomerID != g.CustomerID {
			return &consent.Error{Code: consent.CodeUnknown}
		}
		priv, _ := privilegeOf(cons, a.Privilege)
		if err := st.prepare(ctx, tx, cons, priv); err != nil {
			return err
		}
		if err := s.consents.UseIn(ctx, tx, &cons, a); err != nil {
			if consent.CodeOf(err) == consent.CodeUsageExhausted {
				// Used meanwhile (on PostgreSQL the consent's statement
				// reads its privileges as of before it waited for the
				// consent's lock): perhaps by the same request.
				return s.replay(ctx, tx, g.ConsentID, st, err)
			}
			return err
		}
		inserted, err := st.write(ctx, tx, cons)
		if err != nil {
			return err
		}
		if !inserted {
			return s.replay(ctx, tx, cons.ID, st, nil)
		}
		return nil
	})
	if errors.Is(err, errReplay) {
		return true, nil
	}
	return false, err
}

// replay answers an initiation whose key may have been recorded before:
// errReplay when it is the same request under the same consent, the
// refusal otherwise. used is the refusal of a used privilege, returned when
// nothing was recorded under the key (nil when the privilege was not used).
func (s *Service) replay(ctx context.Context, q store.Querier, consentID string, st steps, used error) error {
	rec, err := st.lookup(ctx, q)
	if err != nil {
		return err
	}
	switch {
	case rec.ok && rec.consentID == consentID && rec.hash == st.hash:
		return errReplay
	case rec.ok && (used == nil || rec.consentID == consentID):
		return &payment.Error{Code: payment.CodeDuplicate, Field: st.keyField,
			Message:   "the TPP's id of the payment was already used for another payment with a different body: use a new id for a new payment",
			MessagePL: "identyfikator płatności TPP użyto już dla innej płatności o innej treści: nowa płatność wymaga nowego identyfikatora"}
	}
	if used == nil {
		used = &consent.Error{Code: consent.CodeUsageExhausted}
	}
	return used
}

func privilegeOf(c consent.Consent, name string) (consent.Privilege, bool) {
	for _, p := range c.Privileges {
		if p.Name == name {
			return p, true
		}
	}
	return consent.Privilege{}, false
}

func (s *Service) today() string { return ledger.DateOf(s.payments.Clock().Now()) }

// Initiate initiates a single payment under its consent (see the package
// comment). A payment refused by the ledger for lack of funds is recorded
// rejected and returned with a payment.CodeInsufficientFunds error; its
// replay returns it rejected without the error.
func (s *Service) Initiate(ctx context.Context, r Request) (payment.Payment, error) {
	p, err := s.initiate(ctx, r, true)
	if ledger.CodeOf(err) == ledger.CodeInsufficientFunds {
		// The booking in the initiation's transaction was refused and
		// everything rolled back: the payment is recorded and then refused
		// by the ledger in steps of their own, so that it stays recorded
		// rejected, its privilege used.
		p, err = s.initiate(ctx, r, false)
	}
	return p, err
}

// initiate is Initiate; with book, the sender and recipient accounts are
// read with the consent and an internal transfer due today is booked in
// the initiation's transaction (payment.Service.RecordAndBook).
func (s *Service) initiate(ctx context.Context, r Request, book bool) (payment.Payment, error) {
	o := r.Order
	var p payment.Payment
	var pre *read
	st := steps{
		privileges: r.Privileges, hash: o.RequestHash, keyField: "tppTransactionId",
		prepare: func(ctx context.Context, tx *store.Tx, cons consent.Consent, priv consent.Privilege) error {
			o = r.Order
			want, err := r.Consented(priv)
			if err != nil {
				return unreadable(priv, err)
			}
			want.Type = o.Type
			return s.prepareOrder(ctx, tx, cons, &want, &o, r.Names, pre)
		},
		lookup: func(ctx context.Context, q store.Querier) (found, error) {
			got, err := s.payments.GetByTPPTransactionIDIn(ctx, q, o.TPPID, o.TPPTransactionID)
			if payment.CodeOf(err) == payment.CodeNotFound {
				return found{}, nil
			}
			if err != nil {
				return found{}, err
			}
			p = got
			return found{ok: true, consentID: got.ConsentID, hash: got.RequestHash}, nil
		},
		write: func(ctx context.Context, tx *store.Tx, cons consent.Consent) (bool, error) {
			if err := s.count(ctx, tx, o, pre); err != nil {
				return false, err
			}
			var inserted bool
			var err error
			if book {
				p, inserted, err = s.payments.RecordAndBook(ctx, tx, o, pre.known()...)
			} else {
				p, inserted, err = s.payments.Record(ctx, tx, o)
			}
			return inserted, err
		},
	}
	if book {
		pre = readFor(o, access.OneOff)
		st.also = pre.also()
	}
	replayed, err := s.once(ctx, r.Grant, st)
	if err != nil || replayed {
		return p, err
	}
	if p.Status != payment.StatusSubmitted {
		return p, nil // booked in the initiation's transaction
	}
	p, err = s.payments.Execute(ctx, p)
	if p.Status == payment.StatusRejected {
		s.uncount(ctx, o)
	}
	return p, err
}

// InitiateRecurring sets up a recurring payment under its consent; its key
// is the order's TPPTransactionID (tppRecurringPaymentId).
func (s *Service) InitiateRecurring(ctx context.Context, r Request) (payment.Recurring, error) {
	o := r.Order
	var rec payment.Recurring
	replayed, err := s.once(ctx, r.Grant, steps{
		privileges: r.Privileges, hash: o.RequestHash, keyField: "tppRecurringPaymentId",
		prepare: func(ctx context.Context, tx *store.Tx, cons consent.Consent, priv consent.Privilege) error {
			o = r.Order
			want, err := r.Consented(priv)
			if err != nil {
				return unreadable(priv, err)
			}
			return s.prepareOrder(ctx, tx, cons, &want, &o, r.Names, nil)
		},
		lookup: func(ctx context.Context, q store.Querier) (found, error) {
			got, err := s.payments.GetRecurringByKeyIn(ctx, q, o.TPPID, o.TPPTransactionID)
			if payment.CodeOf(err) == payment.CodeNotFound {
				return found{}, nil
			}
			if err != nil {
				return found{}, err
			}
			rec = got
			return found{ok: true, consentID: got.Order.ConsentID, hash: got.RequestHash}, nil
		},
		write: func(ctx context.Context, tx *store.Tx, cons consent.Consent) (bool, error) {
			if err := s.count(ctx, tx, o, nil); err != nil {
				return false, err
			}
			var inserted bool
			var err error
			rec, inserted, err = s.payments.RecordRecurring(ctx, tx, o)
			return inserted, err
		},
	})
	if err != nil || replayed {
		return rec, err
	}
	return s.payments.StartRecurring(ctx, rec)
}

// InitiateBundle initiates a bundle under its consent's pis:bundle.
func (s *Service) InitiateBundle(ctx context.Context, r BundleRequest) (payment.Bundle, error) {
	bo := r.Bundle
	var b payment.Bundle
	replayed, err := s.once(ctx, r.Grant, steps{
		privileges: []string{consent.PrivBundle}, hash: bo.RequestHash, keyField: "tppBundleId",
		prepare: func(ctx context.Context, tx *store.Tx, cons consent.Consent, priv consent.Privilege) error {
			bo = r.Bundle
			bo.Orders = append([]payment.Order(nil), r.Bundle.Orders...)
			want, total, err := r.Consented(priv)
			if err != nil {
				return unreadable(priv, err)
			}
			if total != bo.TotalAmount {
				return NotInConsent("transfersTotalAmount", total.String(), bo.TotalAmount.String())
			}
			if len(want) != len(bo.Orders) {
				return NotInConsent("transfers", strconv.Itoa(len(want))+" transfers", strconv.Itoa(len(bo.Orders))+" transfers")
			}
			for i := range bo.Orders {
				o := &bo.Orders[i]
				o.TPPID, o.CallbackURL, o.RequestHash = bo.TPPID, r.Callback, bo.RequestHash
				w := want[i]
				if err := FillSender(cons, &w, o); err != nil {
					return itemError(i, err)
				}
				if err := SameOrder(w, *o, s.today(), r.Names); err != nil {
					return itemError(i, err)
				}
				if err := s.payments.Validate(*o); err != nil {
					return itemError(i, err)
				}
				if err := s.ownSender(ctx, tx, cons.CustomerID, o.SenderAccount, nil); err != nil {
					return itemError(i, err)
				}
				if err := s.senderOpen(ctx, tx, o.SenderAccount); err != nil {
					return itemError(i, err)
				}
			}
			return nil
		},
		lookup: func(ctx context.Context, q store.Querier) (found, error) {
			got, err := s.payments.GetBundleByTPPBundleIDIn(ctx, q, bo.TPPID, bo.TPPBundleID)
			if payment.CodeOf(err) == payment.CodeNotFound {
				return found{}, nil
			}
			if err != nil {
				return found{}, err
			}
			b = got
			consentID := ""
			for _, p := range got.Payments {
				consentID = p.ConsentID
				break
			}
			return found{ok: true, consentID: consentID, hash: got.RequestHash}, nil
		},
		write: func(ctx context.Context, tx *store.Tx, cons consent.Consent) (bool, error) {
			for i, o := range bo.Orders { // each transfer counts towards the customer's limits
				if err := s.count(ctx, tx, o, nil); err != nil {
					return false, itemError(i, err)
				}
			}
			var inserted bool
			var err error
			b, inserted, err = s.payments.RecordBundle(ctx, tx, bo)
			return inserted, err
		},
	})
	if err != nil || replayed {
		return b, err
	}
	b, err = s.payments.ExecuteBundle(ctx, b)
	for _, p := range b.Payments { // a transfer rejected when set going gives its count back
		for _, o := range bo.Orders {
			if p.Status == payment.StatusRejected && o.TPPTransactionID == p.TPPTransactionID {
				s.uncount(ctx, o)
			}
		}
	}
	return b, err
}

// prepareOrder completes an order from the consent and checks it against
// the consented one and the domain's rules.
func (s *Service) prepareOrder(ctx context.Context, tx *store.Tx, cons consent.Consent, consented, o *payment.Order, names FieldNames, pre *read) error {
	if err := FillSender(cons, consented, o); err != nil {
		return err
	}
	if err := SameOrder(*consented, *o, s.today(), names); err != nil {
		return err
	}
	v := *o
	if o.Recurrence != nil {
		v.Recurrence, v.ExecutionDate = nil, ""
	}
	if err := s.payments.Validate(v); err != nil {
		return err
	}
	if err := s.ownSender(ctx, tx, cons.CustomerID, o.SenderAccount, pre); err != nil {
		return err
	}
	if s.access == nil {
		return nil
	}
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return nil // Validate says why
	}
	if sender, ok := pre.sender(nrb); ok && sender.ID != "" {
		return access.Refusal(ledger.Segment(pre.segment), pre.accessState, nrb, access.PIS)
	}
	return s.access.CheckIn(ctx, tx, nrb, access.PIS)
}

// senderOpen checks, in tx, that the sender account is open to API
// payments now (the customer or the hotline may have blocked it since the
// consent).
func (s *Service) senderOpen(ctx context.Context, tx *store.Tx, number string) error {
	if s.access == nil {
		return nil
	}
	nrb, err := polish.NormalizeNRB(number)
	if err != nil {
		return nil // Validate says why
	}
	return s.access.CheckIn(ctx, tx, nrb, access.PIS)
}

// ownSender checks that the sender account is the customer's (read with
// the consent when pre has it).
func (s *Service) ownSender(ctx context.Context, q store.Querier, customerID, number string, pre *read) error {
	nrb, err := polish.NormalizeNRB(number)
	if err != nil {
		return nil // Validate says why
	}
	var acct ledger.Account
	if k, ok := pre.sender(nrb); ok {
		if k.ID == "" {
			err = &ledger.Error{Code: ledger.CodeNotFound}
		}
		acct.CustomerID = k.CustomerID
	} else {
		acct, err = ledger.AccountByNRBIn(ctx, q, nrb)
	}
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && acct.CustomerID != customerID {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message:   "the sender's account is not an account of the customer who gave the consent",
			MessagePL: "rachunek nadawcy nie jest rachunkiem klienta, który udzielił zgody"}
	}
	return err
}

// limitDay is the day whose limit a payment counts towards.
func (s *Service) limitDay(o payment.Order) string {
	if o.ExecutionDate != "" {
		return o.ExecutionDate
	}
	return s.today()
}

// count counts a payment towards the customer's day limit in tx, checking
// the limits atomically.
func (s *Service) count(ctx context.Context, tx *store.Tx, o payment.Order, pre *read) error {
	if s.access == nil {
		return nil
	}
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return nil
	}
	if k, ok := pre.sender(nrb); ok && k.ID != "" && o.Recurrence == nil {
		return s.access.RecordPaymentWithin(ctx, tx, nrb, o.Amount, false, s.limitDay(o), pre.limit)
	}
	return s.access.RecordPayment(ctx, tx, nrb, o.Amount, o.Recurrence != nil, s.limitDay(o))
}

// uncount gives back the count of a payment rejected when it was set going.
func (s *Service) uncount(ctx context.Context, o payment.Order) {
	if s.access == nil {
		return
	}
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return
	}
	s.access.ReleasePayment(context.WithoutCancel(ctx), s.db, nrb, o.Amount, o.Recurrence != nil, s.limitDay(o))
}
