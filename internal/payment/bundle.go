package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// BundleStatus is the status of a bundle, derived from its payments.
type BundleStatus string

const (
	BundleInProgress    BundleStatus = "inProgress"
	BundlePartiallyDone BundleStatus = "partiallyDone"
	BundleDone          BundleStatus = "done"
	BundleRejected      BundleStatus = "rejected"
	BundleCancelled     BundleStatus = "cancelled"
)

// BundleOrder is a bundle of payment orders (PolishAPI payments bundle, mBank
// bulk). Each order keeps its own TPPTransactionID.
type BundleOrder struct {
	TPPID       string
	TPPBundleID string
	Orders      []Order
	TotalAmount money.Amount
	RequestHash string // sha256 of the request body as sent
}

// Bundle is a recorded bundle and its payments.
type Bundle struct {
	ID          string
	TPPID       string
	TPPBundleID string
	RequestHash string
	TotalAmount money.Amount
	Currency    string
	Status      BundleStatus
	Payments    []Payment
	CreatedAt   time.Time
}

// InitiateBundle records a bundle and initiates each of its orders. The
// orders must be in one currency and their amounts must add up to
// TotalAmount; every order is validated before anything is recorded, so a
// bundle is refused whole or accepted whole. A payment refused for lack of
// funds is rejected on its own and the bundle goes on. It is idempotent by
// (TPPID, TPPBundleID) like Initiate.
func (s *Service) InitiateBundle(ctx context.Context, b BundleOrder) (Bundle, error) {
	if existing, err := s.bundleBy(ctx, `tpp_id = $1 AND tpp_bundle_id = $2`, b.TPPID, b.TPPBundleID); err == nil {
		return sameBundle(existing, b)
	} else if CodeOf(err) != CodeNotFound {
		return Bundle{}, err
	}
	var rec Bundle
	var inserted bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		rec, inserted, err = s.RecordBundle(ctx, tx, b)
		return err
	})
	if err != nil {
		return Bundle{}, err
	}
	if !inserted {
		return sameBundle(rec, b)
	}
	return s.ExecuteBundle(ctx, rec)
}

// ValidateBundle checks a bundle as InitiateBundle would, without recording
// anything.
func (s *Service) ValidateBundle(b BundleOrder) error {
	_, err := s.validateBundle(b)
	return err
}

// ValidateConsentedBundle checks the bundle of a consent the customer is
// asked for, as ValidateBundle does, when the TPP asks for the consent:
// without the idempotency keys (the initiation brings them), and with
// transfers that name no sender account when senderRequired is false (the
// customer chooses it on the consent page).
func (s *Service) ValidateConsentedBundle(b BundleOrder, senderRequired bool) error {
	b.Orders = append([]Order(nil), b.Orders...)
	if b.TPPBundleID == "" {
		b.TPPBundleID = "consent"
	}
	for i := range b.Orders {
		b.Orders[i].TPPID = b.TPPID
		if b.Orders[i].TPPTransactionID == "" {
			b.Orders[i].TPPTransactionID = fmt.Sprintf("consent-%d", i)
		}
	}
	_, err := s.validateBundleOrders(b, senderRequired)
	return err
}

func (s *Service) validateBundle(b BundleOrder) (currency string, err error) {
	return s.validateBundleOrders(b, true)
}

func (s *Service) validateBundleOrders(b BundleOrder, needSender bool) (currency string, err error) {
	if b.TPPID == "" || b.TPPBundleID == "" {
		return "", newError(CodeInvalidBundle, "tppBundleId", "a bundle needs the TPP and its tppBundleId",
			"paczka wymaga identyfikatora TPP i tppBundleId")
	}
	if len(b.Orders) == 0 {
		return "", newError(CodeInvalidBundle, "transfers", "the bundle has no payments", "paczka nie zawiera płatności")
	}
	var sum money.Amount
	currency = b.Orders[0].Currency
	keys := map[string]bool{}
	for i, o := range b.Orders {
		field := fmt.Sprintf("transfers[%d]", i)
		if o.TPPID != b.TPPID {
			return "", newError(CodeInvalidBundle, field, "every payment of a bundle belongs to the bundle's TPP",
				"każda płatność paczki należy do TPP paczki")
		}
		if keys[o.TPPTransactionID] {
			return "", errorf(CodeInvalidBundle, field+".tppTransactionId", "tppTransactionId %q appears twice in the bundle",
				"tppTransactionId %q występuje w paczce dwa razy", o.TPPTransactionID)
		}
		keys[o.TPPTransactionID] = true
		if o.Currency != currency {
			return "", errorf(CodeInvalidBundle, field+".currency", "the payments of a bundle are in one currency: %s, not %s",
				"płatności paczki są w jednej walucie: %s, a nie %s", currency, o.Currency)
		}
		if o.Recurrence != nil {
			return "", newError(CodeInvalidBundle, field, "a bundle cannot hold a recurring payment",
				"paczka nie może zawierać płatności cyklicznej")
		}
		if _, err := s.validateOrder(o, needSender); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e2 := *e
				e2.Field = field + "." + e.Field
				return "", &e2
			}
			return "", err
		}
		if sum, err = money.Add(sum, o.Amount); err != nil {
			return "", newError(CodeInvalidBundle, "transfersTotalAmount", "the bundle's amounts add up to too much", "suma kwot paczki jest za duża")
		}
	}
	if sum != b.TotalAmount {
		return "", errorf(CodeInvalidBundle, "transfersTotalAmount", "the payments add up to %s, not the total amount %s given",
			"płatności sumują się do %s, a nie do podanej kwoty łącznej %s", sum, b.TotalAmount)
	}
	return currency, nil
}

// RecordBundle validates a bundle and records it with its payments, each
// submitted, in the caller's transaction tx. When the TPP used the bundle's
// key before, nothing is written and the bundle recorded under it is
// returned with inserted false (the caller compares the request). The
// payments are set going by ExecuteBundle after tx commits.
func (s *Service) RecordBundle(ctx context.Context, tx *store.Tx, b BundleOrder) (rec Bundle, inserted bool, err error) {
	currency, err := s.validateBundle(b)
	if err != nil {
		return Bundle{}, false, err
	}
	now := s.clock.Now()
	rec = Bundle{ID: ledger.NewID(), TPPID: b.TPPID, TPPBundleID: b.TPPBundleID, RequestHash: b.RequestHash,
		TotalAmount: b.TotalAmount, Currency: currency, Status: BundleInProgress, CreatedAt: now}
	res, err := tx.ExecContext(ctx, `INSERT INTO payment_bundles (id, tpp_id, tpp_bundle_id, request_hash, total_amount, currency, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tpp_id, tpp_bundle_id) DO NOTHING`,
		rec.ID, b.TPPID, b.TPPBundleID, b.RequestHash, int64(b.TotalAmount), currency, micros(now))
	if err != nil {
		return Bundle{}, false, fmt.Errorf("record bundle: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		existing, err := s.bundleIn(ctx, tx, `tpp_id = $1 AND tpp_bundle_id = $2`, b.TPPID, b.TPPBundleID)
		return existing, false, err
	}
	for _, o := range b.Orders {
		p, ok, err := s.record(ctx, tx, o, rec.ID, "")
		if err != nil {
			return Bundle{}, false, err
		}
		if !ok {
			if _, err := sameRequest(p, o); err != nil {
				return Bundle{}, false, err
			}
			return Bundle{}, false, errorf(CodeDuplicate, "tppTransactionId",
				"tppTransactionId %q is the key of payment %s made before: a payment of a bundle needs a new key",
				"tppTransactionId %q jest kluczem wcześniejszej płatności %s: płatność paczki wymaga nowego klucza", o.TPPTransactionID, p.ID)
		}
		rec.Payments = append(rec.Payments, p)
	}
	return rec, true, nil
}

// ExecuteBundle sets going the payments of a bundle RecordBundle recorded
// (after its transaction committed) and returns the bundle as it is then.
// A payment refused for lack of funds is rejected on its own.
func (s *Service) ExecuteBundle(ctx context.Context, b Bundle) (Bundle, error) {
	for _, p := range b.Payments {
		if p.Status != StatusSubmitted {
			continue
		}
		if _, err := s.execute(ctx, p); err != nil && CodeOf(err) != CodeInsufficientFunds {
			return Bundle{}, err
		}
	}
	return s.GetBundle(ctx, b.ID)
}

func sameBundle(existing Bundle, b BundleOrder) (Bundle, error) {
	if existing.RequestHash != b.RequestHash {
		return Bundle{}, errorf(CodeDuplicate, "tppBundleId",
			"tppBundleId %q was already used for another bundle with a different request body; use a new tppBundleId for a new bundle",
			"tppBundleId %q został już użyty dla innej paczki o innej treści żądania; nowa paczka wymaga nowego tppBundleId", b.TPPBundleID)
	}
	return existing, nil
}

// GetBundle returns a bundle with its payments and its derived status.
func (s *Service) GetBundle(ctx context.Context, id string) (Bundle, error) {
	return s.bundleBy(ctx, `id = $1`, id)
}

// GetBundleByTPPBundleID returns the bundle a TPP initiated with a key.
func (s *Service) GetBundleByTPPBundleID(ctx context.Context, tppID, key string) (Bundle, error) {
	return s.bundleBy(ctx, `tpp_id = $1 AND tpp_bundle_id = $2`, tppID, key)
}

// GetBundleByTPPBundleIDIn is GetBundleByTPPBundleID reading through q (a
// transaction).
func (s *Service) GetBundleByTPPBundleIDIn(ctx context.Context, q store.Querier, tppID, key string) (Bundle, error) {
	return s.bundleIn(ctx, q, `tpp_id = $1 AND tpp_bundle_id = $2`, tppID, key)
}

func (s *Service) bundleBy(ctx context.Context, where string, args ...any) (Bundle, error) {
	return s.bundleIn(ctx, s.db, where, args...)
}

func (s *Service) bundleIn(ctx context.Context, q store.Querier, where string, args ...any) (Bundle, error) {
	var b Bundle
	var total, created int64
	err := q.QueryRowContext(ctx, `SELECT id, tpp_id, tpp_bundle_id, request_hash, total_amount, currency, created_at
		FROM payment_bundles WHERE `+where, args...).Scan(&b.ID, &b.TPPID, &b.TPPBundleID, &b.RequestHash, &total, &b.Currency, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Bundle{}, newError(CodeNotFound, "bundleId", "no such bundle", "nie ma takiej paczki")
	}
	if err != nil {
		return Bundle{}, err
	}
	b.TotalAmount, b.CreatedAt = money.Amount(total), fromMicros(created)
	if b.Payments, err = s.listIn(ctx, q, `bundle_id = $1 ORDER BY created_at, id`, b.ID); err != nil {
		return Bundle{}, err
	}
	b.Status = bundleStatus(b.Payments)
	return b, nil
}

// bundleStatus derives a bundle's status from its payments: in progress
// while any is not final; otherwise done, rejected or cancelled when all
// ended so, and partially done when they ended differently.
func bundleStatus(ps []Payment) BundleStatus {
	count := map[Status]int{}
	for _, p := range ps {
		if !p.Status.Final() {
			return BundleInProgress
		}
		count[p.Status]++
	}
	switch len(ps) {
	case 0:
		return BundleInProgress
	case count[StatusDone]:
		return BundleDone
	case count[StatusRejected]:
		return BundleRejected
	case count[StatusCancelled]:
		return BundleCancelled
	}
	if count[StatusDone] > 0 {
		return BundlePartiallyDone
	}
	return BundleRejected
}

// CancelBundle cancels every payment of a bundle that can still be
// cancelled and returns the bundle with the payments it could not cancel.
func (s *Service) CancelBundle(ctx context.Context, id, by, reason string) (Bundle, []Payment, error) {
	b, err := s.GetBundle(ctx, id)
	if err != nil {
		return Bundle{}, nil, err
	}
	var refused []Payment
	for _, p := range b.Payments {
		if p.Status == StatusCancelled {
			continue
		}
		if _, err := s.Cancel(ctx, p.ID, by, reason); err != nil {
			if CodeOf(err) != CodeNotCancellable {
				return Bundle{}, nil, err
			}
			refused = append(refused, p)
		}
	}
	b, err = s.GetBundle(ctx, id)
	return b, refused, err
}
