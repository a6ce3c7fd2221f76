package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by
// checkpoints. Left to SQLite, the connection whose commit takes the log
// past 1,000 pages runs the checkpoint itself, inside that commit: the
// writer — which every write of the bank waits for — stops for the copy and
// its fsync. The writer's automatic checkpoints are off instead
// (wal_autocheckpoint(0)) and a connection of its own checkpoints in the
// background (PASSIVE: it never waits for, nor blocks, the writer or the
// readers) and copies the bulk of the log. The log starts again from its
// beginning only when a write finds it wholly copied, which a background
// copy never leaves for long while the bank writes continuously: so once the
// log holds walRestartPages, the last frames are copied through the writer's
// own connection (a short pause: the background copy did the rest), and the
// next write restarts the log. A crash during a checkpoint is safe: SQLite
// redoes it from the log.

// checkpointEvery is how often the background checkpoint runs.
var checkpointEvery = 200 * time.Millisecond // a variable for tests

// walRestartPages is the log's length (pages of 4 KiB) past which its last
// frames are copied through the writer so that it can start again.
var walRestartPages = 4000 // a variable for tests

type checkpointer struct {
	db     *sql.DB
	writer *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpointer(path, pragmas string, writer *sql.DB) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, writer: writer, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Errors (SQLITE_BUSY while another checkpoint runs, a closing
		// database) leave the log as it is for the next round.
		var busy, log, copied int
		if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
			continue
		}
		if log >= walRestartPages {
			c.restart(ctx)
		}
	}
}

// restart copies the log's last frames through the writer's connection and
// starts the log again: RESTART waits for the readers still reading older
// frames, at most restartWait (the writer's other statements wait for the
// connection meanwhile); when they are not done by then, the next round
// tries again.
func (c *checkpointer) restart(ctx context.Context) {
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, restartWait.Milliseconds())); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) // not returned to the pool with another timeout
		return
	}
	var busy, log, copied int
	conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &log, &copied)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds())); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// restartWait bounds how long a restart waits for readers.
const restartWait = 20 * time.Millisecond

// close stops the checkpoints and runs a last one, so a bank that stops
// leaves a short log.
func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	return c.db.Close()
}
