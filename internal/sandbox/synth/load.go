package synth

import (
	"context"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

// Load writes a dataset into an empty ledger: it creates the customers
// (hashing each PSU's password with hash), opens the accounts, imports the
// history in one bulk transaction, then places the card holds, submits the
// pending transfers and schedules the future-dated ones, in that order.
//
// The ledger's clock should read the now the dataset was generated for:
// holds and pending transfers are created at the ledger's now, and the
// scheduled transfers must still lie in its future.
func Load(ctx context.Context, l *ledger.Ledger, ds *Dataset, hash func(password string) (string, error)) error {
	for _, c := range ds.Customers {
		password, ok := passwordOf(ds, c.Login)
		if !ok {
			return fmt.Errorf("load customer %s: no PSU with that login", c.Login)
		}
		h, err := hash(password)
		if err != nil {
			return fmt.Errorf("load customer %s: hash password: %w", c.Login, err)
		}
		c.PasswordHash = h
		if _, err := l.CreateCustomer(ctx, c); err != nil {
			return fmt.Errorf("load customer %s: %w", c.Login, err)
		}
	}
	for _, a := range ds.Accounts {
		if _, err := l.OpenAccount(ctx, a); err != nil {
			return fmt.Errorf("load account %s: %w", a.Name, err)
		}
	}
	if err := l.ImportHistory(ctx, ds.History); err != nil {
		return fmt.Errorf("load history: %w", err)
	}
	for _, h := range ds.Holds {
		if _, err := l.PlaceHold(ctx, h); err != nil {
			return fmt.Errorf("load hold %s: %w", h.ID, err)
		}
	}
	for _, t := range ds.Pending {
		if _, err := l.Submit(ctx, t); err != nil {
			return fmt.Errorf("load pending transfer %s: %w", t.ID, err)
		}
	}
	for _, t := range ds.Scheduled {
		if _, err := l.Schedule(ctx, t); err != nil {
			return fmt.Errorf("load scheduled transfer %s: %w", t.ID, err)
		}
	}
	return nil
}

func passwordOf(ds *Dataset, login string) (string, bool) {
	for _, p := range ds.PSUs {
		if p.Login == login {
			return p.Password, true
		}
	}
	return "", false
}
