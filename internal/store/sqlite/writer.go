package sqlite

import (
	"errors"
	"fmt"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

var errGoexit = errors.New("sqlite: Update function called runtime.Goexit (t.FailNow?) on the writer goroutine")

// writeLoop is the single writer: it takes what is queued, runs it as one
// transaction and replies, until Close has been called and the queue is empty.
func (s *Store) writeLoop() {
	clean := false
	defer func() {
		if clean {
			return
		}
		// Only runtime.Goexit inside an Update function gets here (panics are
		// recovered per op). This goroutine is ending regardless; fail the
		// batch it was running and hand over to a new writer.
		if s.w.inTx() {
			_ = s.w.script("ROLLBACK")
		}
		for _, o := range s.batch {
			if !o.replied {
				if o.err == nil && !o.panicked {
					o.err = errGoexit
				}
				reply(o)
			}
		}
		go s.writeLoop()
	}()
	for {
		batch := s.next()
		if batch == nil {
			clean = true
			close(s.writerDone)
			return
		}
		s.batch = batch
		for len(batch) > 0 {
			batch = s.runTx(batch)
		}
		clear(s.batch)
		s.batch = s.batch[:0]
	}
}

// next blocks until there is work and claims up to MaxBatch queued ops, in
// queue order. It returns nil once the store is closed and drained.
func (s *Store) next() []*op {
	for {
		s.mu.Lock()
		if n := len(s.queue); n > 0 {
			k := min(n, s.opts.MaxBatch)
			batch := append(s.batch[:0], s.queue[:k]...)
			m := copy(s.queue, s.queue[k:])
			clear(s.queue[m:])
			s.queue = s.queue[:m]
			s.mu.Unlock()
			claimed := batch[:0]
			for _, o := range batch {
				// An op whose caller gave up while it waited is dropped here;
				// from now on callers wait for the outcome.
				if o.state.CompareAndSwap(opQueued, opTaken) {
					claimed = append(claimed, o)
				}
			}
			clear(batch[len(claimed):])
			if len(claimed) > 0 {
				return claimed
			}
			continue
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil
		}
		<-s.wake
	}
}

func reply(o *op) {
	o.replied = true
	close(o.done)
}

func failed(o *op) bool { return o.err != nil || o.panicked }

// runTx runs batch in one transaction, each op inside its own savepoint so
// that an op that fails is undone alone, and commits once. Every caller is
// answered only after COMMIT returned, i.e. after the WAL was fsynced.
//
// If the transaction itself is lost part-way (SQLite rolls back on its own
// after some I/O errors), the ops already run are failed and runTx returns
// the ones not yet run, for a fresh transaction.
func (s *Store) runTx(batch []*op) (rest []*op) {
	w := s.w
	s.txs.Add(1)
	if err := w.run("BEGIN IMMEDIATE"); err != nil {
		for _, o := range batch {
			o.err = fmt.Errorf("sqlite: begin: %w", err)
			reply(o)
		}
		return nil
	}
	for i, o := range batch {
		err := w.run("SAVEPOINT op")
		if err == nil {
			s.runOp(o)
			if failed(o) {
				err = w.run("ROLLBACK TO op")
			}
		}
		if err == nil {
			err = w.run("RELEASE op")
		}
		if err == nil && !w.inTx() {
			err = errTxLost
		}
		if err != nil {
			s.abort(batch[:i+1], err)
			return batch[i+1:]
		}
	}
	if err := w.run("COMMIT"); err != nil {
		if w.inTx() {
			_ = w.run("ROLLBACK")
		}
		for _, o := range batch {
			if !failed(o) {
				o.err = fmt.Errorf("sqlite: commit: %w", err)
			}
		}
	}
	for _, o := range batch {
		reply(o)
	}
	return nil
}

// abort rolls back the open transaction and fails ops, which ran in it. An
// op that already failed keeps its own error: nothing of it was kept either way.
func (s *Store) abort(ops []*op, err error) {
	if s.w.inTx() {
		_ = s.w.run("ROLLBACK")
	}
	for _, o := range ops {
		if !failed(o) {
			o.err = fmt.Errorf("sqlite: transaction aborted: %w", err)
		}
		reply(o)
	}
}

// run executes a cached statement that returns no rows.
func (c *conn) run(query string) error {
	s, err := c.prep(query)
	if err != nil {
		return err
	}
	_, err = s.exec()
	return err
}

func (s *Store) runOp(o *op) {
	t := &tx{c: s.w}
	defer func() {
		t.done = true
		if r := recover(); r != nil {
			o.panicked, o.panicVal = true, r
		}
	}()
	if o.fn != nil {
		o.err = o.fn(t)
	} else {
		o.gs, o.err = t.reserve(o.gameSessionID, o.rows)
	}
	if o.err == nil && t.err != nil {
		// fn ignored a database error; its writes cannot be trusted.
		o.err = t.err
	}
}

// The reservation is one conditional UPDATE: the row changes only if the
// session admits len(sessions) more players, so check and increment cannot be
// separated. RETURNING hands back the updated session in the same step.
const reserveSQL = `UPDATE game_sessions
	SET current_player_session_count = current_player_session_count + ?1
	WHERE id = ?2 AND status = ?3 AND player_session_creation_policy = ?4
		AND current_player_session_count + ?1 <= maximum_player_session_count
	RETURNING ` + gameSessionCols

func (t *tx) reserve(gameSessionID string, rows []psRow) (gameSessionRow, error) {
	var none gameSessionRow
	if err := t.ok(true); err != nil {
		return none, err
	}
	var g gameSessionRow
	updated := false
	err := t.query(reserveSQL, func(s *stmt) error {
		updated = true
		g = scanGameSessionRow(s)
		return nil
	}, len(rows), gameSessionID, string(model.GameSessionActive), model.AcceptAll)
	if err != nil {
		return none, err
	}
	if !updated {
		return t.whyNotReserved(gameSessionID)
	}
	for _, r := range rows {
		if err := t.insert("player session", r.id, playerSessionInsert+` ON CONFLICT DO NOTHING`,
			r.id, r.gameSessionID, r.playerID, r.status, r.created, r.data); err != nil {
			return none, err
		}
	}
	return g, nil
}

// whyNotReserved classifies a reservation whose UPDATE matched no row. It runs
// in the same transaction, so it sees the row the UPDATE saw.
func (t *tx) whyNotReserved(id string) (gameSessionRow, error) {
	g, found, err := t.getGameSessionRow(id)
	switch {
	case err != nil:
		return gameSessionRow{}, err
	case !found:
		return gameSessionRow{}, fmt.Errorf("%w: game session %s", store.ErrNotFound, id)
	case g.status != string(model.GameSessionActive):
		return g, fmt.Errorf("%w: game session %s is %s", store.ErrGameSessionNotActive, id, g.status)
	case g.policy != model.AcceptAll:
		return g, fmt.Errorf("%w: game session %s", store.ErrNotAccepting, id)
	default:
		return g, fmt.Errorf("%w: game session %s has %d of %d player slots taken",
			store.ErrGameSessionFull, id, g.current, g.maximum)
	}
}
