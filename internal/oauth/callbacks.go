package oauth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
)

// Decoupled results are durable. Approve and Reject write the result of a
// decoupled request (the code, or the refusal) into oauth_callbacks in the
// transaction that decides the request; the node that decided delivers it
// at once, in the background, retrying with a doubling pause up to
// DeliverRetries attempts. A delivery run holds a lease on its row; when a
// node dies mid-run the lease ends and DeliverDue, which every node's
// workers call, runs the delivery again. Delivery is at least once (the TPP
// recognises a repeat by its state). The body, which holds a single-use
// code, is erased once the result is delivered or given up.

// queueCallback writes a decoupled result in the deciding transaction.
func queueCallback(ctx context.Context, tx *store.Tx, p pending, body map[string]string) error {
	if p.CallbackURL == "" {
		return nil // the TPP polls (Berlin Group)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO oauth_callbacks (request_id, tpp_id, url, body, created_at)
		VALUES ($1, $2, $3, $4, $5)`, p.ID, p.TPPID, p.CallbackURL, string(raw), micros(wallNow()))
	if err != nil {
		return fmt.Errorf("queue the decoupled result: %w", err)
	}
	return nil
}

// deliverAsync runs the delivery of a request's result in the background.
func (s *Server) deliverAsync(requestID string) {
	go func() {
		if err := s.deliver(context.Background(), requestID); err != nil {
			s.log.Error("decoupled callback", "request", requestID, "err", err)
		}
	}()
}

// wallNow is the time leases and retries are counted in: the wall clock (a
// TPP's outage is real time, whatever the sandbox clock says).
func wallNow() time.Time { return time.Now() }

// leaseFor is how long one delivery run may take: every attempt's timeout
// and pause, and a minute more.
func (s *Server) leaseFor() time.Duration {
	pauses := s.cfg.DeliverBackoff * time.Duration(1<<min(s.cfg.DeliverRetries, 20))
	return time.Duration(s.cfg.DeliverRetries)*15*time.Second + pauses + time.Minute
}

// deliver claims the request's result for a run and tries to deliver it
// until it is delivered or the attempts are used up. It does nothing when
// the result is delivered, given up, or claimed by a run that is not over.
func (s *Server) deliver(ctx context.Context, requestID string) error {
	var url, body, tppID string
	var attempts int
	err := s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		now := wallNow()
		return tx.QueryRowContext(ctx, `UPDATE oauth_callbacks SET lease_until = $2
			WHERE request_id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND lease_until <= $3
			RETURNING url, body, tpp_id, attempts`, requestID, micros(now.Add(s.leaseFor())), micros(now)).
			Scan(&url, &body, &tppID, &attempts)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim the decoupled result: %w", err)
	}
	pause := s.cfg.DeliverBackoff
	for attempts < s.cfg.DeliverRetries {
		if attempts > 0 {
			time.Sleep(pause)
			pause *= 2
		}
		attempts++
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		derr := s.cfg.Deliver(actx, url, []byte(body))
		cancel()
		if derr == nil {
			_, err := s.cfg.DB.ExecContext(ctx, `UPDATE oauth_callbacks SET attempts = $2, delivered_at = $3, body = '', last_error = ''
				WHERE request_id = $1`, requestID, attempts, micros(wallNow()))
			return err
		}
		if _, err := s.cfg.DB.ExecContext(ctx, `UPDATE oauth_callbacks SET attempts = $2, last_error = $3 WHERE request_id = $1`,
			requestID, attempts, derr.Error()); err != nil {
			return err
		}
		if attempts < s.cfg.DeliverRetries {
			s.log.Warn("decoupled callback failed, retrying", "tpp", tppID, "request", requestID, "attempt", attempts, "err", derr)
		} else {
			s.log.Error("decoupled callback failed", "tpp", tppID, "request", requestID, "attempts", attempts, "err", derr)
		}
	}
	_, err = s.cfg.DB.ExecContext(ctx, `UPDATE oauth_callbacks SET failed_at = $2, body = '' WHERE request_id = $1`,
		requestID, micros(wallNow()))
	return err
}

// deciderGrace is how long the node that decided a request has to start
// delivering its result before another node may.
const deciderGrace = 30 * time.Second

// DeliverDue delivers the decoupled results that no run is delivering: those
// whose run ended with its node (the lease is over), or whose deciding node
// never started one. It returns how many it took up. Any number of nodes
// may call it at once.
func (s *Server) DeliverDue(ctx context.Context) (int, error) {
	now := wallNow()
	rows, err := s.cfg.DB.QueryContext(ctx, `SELECT request_id FROM oauth_callbacks
		WHERE delivered_at IS NULL AND failed_at IS NULL AND lease_until <= $1 AND created_at <= $2
		ORDER BY created_at LIMIT 50`, micros(now), micros(now.Add(-deciderGrace)))
	if err != nil {
		return 0, fmt.Errorf("due decoupled results: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.deliver(ctx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
