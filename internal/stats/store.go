package stats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/store"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// histColumns are "h00, h01, ..., h22".
var histColumns = func() string {
	cols := make([]string, NBuckets)
	for i := range cols {
		cols[i] = fmt.Sprintf("h%02d", i)
	}
	return strings.Join(cols, ", ")
}()

// rowColumns are the columns a flush writes, in order.
var rowColumns = "minute, channel, dialect, service, calls, served, refused, failed, timeouts, planned, latency_sum, latency_max, " + histColumns

const perRow = 12 + NBuckets

// upsertTail adds a flush's counts to the row already there.
var upsertTail = func() string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (minute, channel, dialect, service) DO UPDATE SET ")
	sums := []string{"calls", "served", "refused", "failed", "timeouts", "planned", "latency_sum"}
	for i := range NBuckets {
		sums = append(sums, fmt.Sprintf("h%02d", i))
	}
	for i, c := range sums {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = stats_minute.%s + excluded.%s", c, c, c)
	}
	b.WriteString(", latency_max = CASE WHEN excluded.latency_max > stats_minute.latency_max THEN excluded.latency_max ELSE stats_minute.latency_max END")
	return b.String()
}()

type flushRow struct {
	ch Channel
	k  aggKey
	a  *agg
}

// maxRowsPerStatement bounds a flush's statements: the SQLite driver's cost
// of binding grows faster than the number of parameters (400 rows: 0.4 s
// by 10, 2.7 s by 300), and a normal flush has fewer rows (the keys active
// in the last few seconds).
const maxRowsPerStatement = 10

// Flush writes the counts gathered since the last flush in one transaction
// (one statement per 10 minute-rows; usually one in all) and the downtime
// events. On failure the counts are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	var rows []flushRow
	type downNow struct {
		ch     Channel
		id     string
		events []downEvent
	}
	var downs []downNow
	for _, ch := range Channels {
		cs := r.channels[ch]
		cs.mu.Lock()
		for k, a := range cs.agg {
			rows = append(rows, flushRow{ch: ch, k: k, a: a})
		}
		if len(cs.agg) > 0 {
			cs.agg = map[aggKey]*agg{}
		}
		d := downNow{ch: ch, events: cs.events}
		if cs.isDown {
			d.id = cs.downID
		}
		cs.events = nil
		cs.mu.Unlock()
		downs = append(downs, d)
	}
	// One order on every node: concurrent upserts lock rows in the same order.
	slices.SortFunc(rows, func(a, b flushRow) int {
		if c := strings.Compare(string(a.ch), string(b.ch)); c != 0 {
			return c
		}
		if a.k.minute != b.k.minute {
			if a.k.minute < b.k.minute {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.k.dialect, b.k.dialect); c != 0 {
			return c
		}
		return strings.Compare(a.k.service, b.k.service)
	})
	var firstErr error
	if len(rows) > 0 {
		err := r.db.InTx(ctx, func(tx *store.Tx) error {
			for start := 0; start < len(rows); start += maxRowsPerStatement {
				if err := writeRows(ctx, tx, rows[start:min(start+maxRowsPerStatement, len(rows))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			r.flushErrs.Inc()
			r.putBack(rows)
			firstErr = err
		}
	}
	now := r.clock.Now().UnixMicro()
	for _, d := range downs {
		for i, e := range d.events {
			var err error
			if e.start {
				_, err = r.db.ExecContext(ctx, `INSERT INTO stats_downtime (id, channel, node, started_at, ended_at, last_seen, requests)
					VALUES ($1, $2, $3, $4, NULL, $5, $6)`, e.id, string(d.ch), r.node, e.at.UnixMicro(), now, e.requests)
			} else {
				_, err = r.db.ExecContext(ctx, `UPDATE stats_downtime SET ended_at = $1, last_seen = $2 WHERE id = $3`,
					e.at.UnixMicro(), max(now, e.at.UnixMicro()), e.id)
			}
			if err != nil {
				r.flushErrs.Inc()
				cs := r.channels[d.ch]
				cs.mu.Lock()
				cs.events = append(slices.Clone(d.events[i:]), cs.events...)
				cs.mu.Unlock()
				if firstErr == nil {
					firstErr = fmt.Errorf("record downtime: %w", err)
				}
				break
			}
		}
		if d.id != "" { // the heartbeat of an ongoing downtime
			if _, err := r.db.ExecContext(ctx, `UPDATE stats_downtime SET last_seen = $1 WHERE id = $2 AND ended_at IS NULL`, now, d.id); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("downtime heartbeat: %w", err)
			}
		}
	}
	return firstErr
}

func (r *Recorder) putBack(rows []flushRow) {
	for _, row := range rows {
		cs := r.channels[row.ch]
		cs.mu.Lock()
		cs.aggFor(row.k).add(row.a)
		cs.mu.Unlock()
	}
}

func writeRows(ctx context.Context, db store.Querier, rows []flushRow) error {
	var q strings.Builder
	q.WriteString("INSERT INTO stats_minute (" + rowColumns + ") VALUES ")
	args := make([]any, 0, len(rows)*perRow)
	for i, row := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j := range perRow {
			if j > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "$%d", i*perRow+j+1)
		}
		q.WriteByte(')')
		a := row.a
		args = append(args, row.k.minute, string(row.ch), row.k.dialect, row.k.service,
			a.calls, a.served, a.refused, a.failed, a.timeouts, a.planned, a.sum, a.max)
		for _, h := range a.h {
			args = append(args, h)
		}
	}
	q.WriteString(upsertTail)
	if _, err := db.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("write interface statistics: %w", err)
	}
	return nil
}

// Interval is a span of time [Start, End).
type Interval struct {
	Start, End time.Time
}

// Downtime is a downtime a node recorded.
type Downtime struct {
	Channel  Channel
	Node     string
	Start    time.Time
	End      time.Time // the end, or the node's last heartbeat while it lasts
	Ongoing  bool      // no end recorded yet
	Requests int
}

// staleAfter is how long an open downtime without a heartbeat from its node
// still counts as ongoing (a node that crashed while down stops beating).
const staleAfter = time.Minute

// Downtimes returns the downtimes that overlap [from, to), every node's.
func Downtimes(ctx context.Context, db store.Querier, from, to time.Time) ([]Downtime, error) {
	rows, err := db.QueryContext(ctx, `SELECT channel, node, started_at, ended_at, last_seen, requests FROM stats_downtime
		WHERE started_at < $1 AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at`, to.UnixMicro(), from.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read downtimes: %w", err)
	}
	defer rows.Close()
	var out []Downtime
	for rows.Next() {
		var d Downtime
		var ch string
		var start, seen int64
		var end *int64
		if err := rows.Scan(&ch, &d.Node, &start, &end, &seen, &d.Requests); err != nil {
			return nil, err
		}
		d.Channel, d.Start = Channel(ch), time.UnixMicro(start).UTC()
		if end != nil {
			d.End = time.UnixMicro(*end).UTC()
		} else {
			d.End, d.Ongoing = time.UnixMicro(seen).UTC(), true
		}
		if !d.End.After(from) && !d.Ongoing {
			continue
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Status is what the bank knows of a channel right now.
type Status struct {
	Channel     Channel    `json:"channel"`
	State       string     `json:"state"` // "up", "down" or "maintenance"
	DownSince   *time.Time `json:"downSince,omitempty"`
	Maintenance *Window    `json:"maintenance,omitempty"` // the planned outage running now
}

// Current is the state of each channel now, as every node reported it: down
// while some node's downtime is open and that node still beats.
func Current(ctx context.Context, db store.Querier, now time.Time) ([]Status, error) {
	downs, err := Downtimes(ctx, db, now.Add(-staleAfter), now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	windows, err := Windows(ctx, db, now, now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, ch := range Channels {
		s := Status{Channel: ch, State: "up"}
		for _, w := range windows {
			if w.Channel == ch && w.Cancelled == nil && !now.Before(w.Start) && now.Before(w.End) {
				w := w
				s.State, s.Maintenance = "maintenance", &w
			}
		}
		if s.State == "up" {
			for _, d := range downs {
				if d.Channel == ch && d.Ongoing && now.Sub(d.End) < staleAfter {
					since := d.Start
					if s.DownSince == nil || since.Before(*s.DownSince) {
						s.DownSince = &since
					}
					s.State = "down"
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
