package stats

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Window is a planned outage of a channel, recorded in the back office
// before it starts. While it runs the channel answers 503 with Retry-After,
// and its time counts as planned downtime.
type Window struct {
	ID          string     `json:"id"`
	Channel     Channel    `json:"channel"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	AnnouncedAt time.Time  `json:"announcedAt"`
	Reason      string     `json:"reason"`
	CreatedBy   string     `json:"-"`
	Cancelled   *time.Time `json:"cancelledAt,omitempty"`
}

// MinNotice is how far ahead a planned outage must be announced.
const MinNotice = time.Hour

// MaxWindow bounds one planned outage.
const MaxWindow = 24 * time.Hour

// Error is a refusal of a planned outage: which field and what to do.
type Error struct {
	Code   string // stable: INVALID, NOT_FOUND, CONFLICT
	Field  string
	EN, PL string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.EN
	}
	return e.EN
}

// Message is the refusal in a language ("pl" or English).
func (e *Error) Message(lang string) string {
	m := e.EN
	if lang == "pl" {
		m = e.PL
	}
	if e.Field != "" {
		return e.Field + ": " + m
	}
	return m
}

// Maintenance holds the planned outages: in the database (every node
// agrees), and a copy of the current and coming ones in memory, reloaded
// every few seconds, so that checking a request costs no query. Outages are
// announced at least MinNotice ahead, so every node has loaded one long
// before it starts.
type Maintenance struct {
	db    *store.DB
	clock clock.Clock
	mu    sync.RWMutex
	now   []Window // not cancelled, not ended at the last refresh
}

// NewMaintenance returns the planned outages of db.
func NewMaintenance(db *store.DB, c clock.Clock) *Maintenance {
	return &Maintenance{db: db, clock: c}
}

// Active returns the planned outage of ch running at t, if any.
func (m *Maintenance) Active(ch Channel, t time.Time) (Window, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, w := range m.now {
		if w.Channel == ch && !t.Before(w.Start) && t.Before(w.End) {
			return w, true
		}
	}
	return Window{}, false
}

// Refresh reloads the current and coming outages.
func (m *Maintenance) Refresh(ctx context.Context) error {
	if m.db == nil {
		return nil
	}
	ws, err := Windows(ctx, m.db, m.clock.Now(), time.Unix(1<<40, 0))
	if err != nil {
		return err
	}
	live := ws[:0]
	for _, w := range ws {
		if w.Cancelled == nil {
			live = append(live, w)
		}
	}
	m.mu.Lock()
	m.now = live
	m.mu.Unlock()
	return nil
}

// Windows returns the planned outages (cancelled ones too) that overlap
// [from, to), by start.
func Windows(ctx context.Context, db store.Querier, from, to time.Time) ([]Window, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, channel, starts_at, ends_at, announced_at, reason, created_by, cancelled_at
		FROM stats_maintenance WHERE ends_at > $1 AND starts_at < $2 ORDER BY starts_at, id`, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read planned outages: %w", err)
	}
	defer rows.Close()
	var out []Window
	for rows.Next() {
		var w Window
		var ch string
		var start, end, ann int64
		var cancelled *int64
		if err := rows.Scan(&w.ID, &ch, &start, &end, &ann, &w.Reason, &w.CreatedBy, &cancelled); err != nil {
			return nil, err
		}
		w.Channel = Channel(ch)
		w.Start, w.End, w.AnnouncedAt = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC(), time.UnixMicro(ann).UTC()
		if cancelled != nil {
			t := time.UnixMicro(*cancelled).UTC()
			w.Cancelled = &t
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Plan records a planned outage of ch from start to end, announced now. It
// must start at least MinNotice from now, last at most MaxWindow, say why,
// and not overlap another outage of the channel.
func (m *Maintenance) Plan(ctx context.Context, ch Channel, start, end time.Time, reason, by string) (Window, error) {
	now := m.clock.Now()
	reason = strings.TrimSpace(reason)
	switch {
	case ch != API && ch != Web:
		return Window{}, &Error{Code: "INVALID", Field: "channel", EN: "choose the dedicated interface (api) or the customer interface (web)",
			PL: "wybierz interfejs dedykowany (api) albo interfejs klienta (web)"}
	case start.Before(now.Add(MinNotice)):
		return Window{}, &Error{Code: "INVALID", Field: "start", EN: fmt.Sprintf("a planned outage must be announced at least %d minutes ahead: start it at %s or later",
			int(MinNotice.Minutes()), now.Add(MinNotice).In(Warsaw).Format("2006-01-02 15:04")),
			PL: fmt.Sprintf("planowaną przerwę trzeba ogłosić co najmniej %d minut wcześniej: zacznij ją o %s lub później",
				int(MinNotice.Minutes()), now.Add(MinNotice).In(Warsaw).Format("2006-01-02 15:04"))}
	case !end.After(start):
		return Window{}, &Error{Code: "INVALID", Field: "end", EN: "the end must come after the start", PL: "koniec musi nastąpić po początku"}
	case end.Sub(start) > MaxWindow:
		return Window{}, &Error{Code: "INVALID", Field: "end", EN: fmt.Sprintf("a planned outage lasts at most %d hours: split a longer one", int(MaxWindow.Hours())),
			PL: fmt.Sprintf("planowana przerwa trwa najwyżej %d godziny: podziel dłuższą", int(MaxWindow.Hours()))}
	case reason == "" || len(reason) > 500:
		return Window{}, &Error{Code: "INVALID", Field: "reason", EN: "say why the interface will be down (1 to 500 characters); TPPs see it",
			PL: "podaj powód przerwy (od 1 do 500 znaków); dostawcy TPP go zobaczą"}
	}
	w := Window{ID: newID(), Channel: ch, Start: start.UTC(), End: end.UTC(), AnnouncedAt: now.UTC(), Reason: reason, CreatedBy: by}
	err := m.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stats_maintenance WHERE channel = $1 AND cancelled_at IS NULL
			AND starts_at < $2 AND ends_at > $3`, string(ch), w.End.UnixMicro(), w.Start.UnixMicro()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &Error{Code: "CONFLICT", Field: "start", EN: "another planned outage of this interface overlaps this time; change or cancel it first",
				PL: "w tym czasie jest już inna planowana przerwa tego interfejsu; najpierw ją zmień lub odwołaj"}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO stats_maintenance (id, channel, starts_at, ends_at, announced_at, reason, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, w.ID, string(ch), w.Start.UnixMicro(), w.End.UnixMicro(), w.AnnouncedAt.UnixMicro(), reason, by)
		return err
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return Window{}, se
		}
		return Window{}, fmt.Errorf("record planned outage: %w", err)
	}
	return w, m.Refresh(ctx)
}

// Cancel calls off a planned outage that has not started, or ends one that
// runs now (its time so far stays planned downtime).
func (m *Maintenance) Cancel(ctx context.Context, id string) error {
	now := m.clock.Now().UnixMicro()
	var found bool
	err := m.db.InTx(ctx, func(tx *store.Tx) error {
		var start, end int64
		var cancelled *int64
		err := tx.QueryRowContext(ctx, `SELECT starts_at, ends_at, cancelled_at FROM stats_maintenance WHERE id = $1`, id).Scan(&start, &end, &cancelled)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if cancelled != nil || end <= now {
			return nil
		}
		found = true
		if start > now {
			_, err = tx.ExecContext(ctx, `UPDATE stats_maintenance SET cancelled_at = $1 WHERE id = $2`, now, id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE stats_maintenance SET ends_at = $1 WHERE id = $2`, now, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("cancel planned outage: %w", err)
	}
	if !found {
		return &Error{Code: "NOT_FOUND", EN: "no such planned outage to cancel: it may be over or cancelled already",
			PL: "nie ma takiej planowanej przerwy do odwołania: mogła się już skończyć lub zostać odwołana"}
	}
	return m.Refresh(ctx)
}
