package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("sqlite: store closed")

var errTxLost = errors.New("sqlite: transaction rolled back by SQLite")

// Options tunes a Store. The zero value is a good default.
type Options struct {
	// MaxBatch caps how many queued writes share one transaction and so one
	// fsync. Default 256.
	MaxBatch int
	// Readers is the number of read-only connections serving View.
	// Default max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a statement waits for a lock held by another
	// process using the same file. Default 5 s.
	BusyTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Readers <= 0 {
		o.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	return o
}

// Store is the SQLite backend. See the package documentation for its design.
type Store struct {
	path string
	opts Options

	w       *conn      // owned by the writer goroutine once Open returns
	readers chan *conn // idle read-only connections

	mu     sync.Mutex
	queue  []*op
	closed bool
	wake   chan struct{} // capacity 1: "the queue may be non-empty"

	batch      []*op         // the writer's current batch; writer-owned
	txs        atomic.Int64  // transactions the writer has run, for tests
	closing    chan struct{} // closed when Close starts
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, brings its schema
// up to date and starts the writer. The directory must exist. It refuses a
// file whose schema is newer than this binary knows.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	pinAllocatorPages()
	opts = opts.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, err := openConn(path, false, opts.BusyTimeout)
	if err != nil {
		return nil, err
	}
	s := &Store{
		path:       path,
		opts:       opts,
		w:          w,
		readers:    make(chan *conn, opts.Readers),
		wake:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	fail := func(err error) (*Store, error) {
		close(s.readers)
		for c := range s.readers {
			c.close()
		}
		w.close()
		return nil, err
	}
	// WAL lets readers run alongside the writer. synchronous=FULL makes every
	// COMMIT fsync the WAL before returning, which is what lets us acknowledge
	// a write as durable against power loss, not just against a crash.
	// journal_size_limit keeps a checkpointed WAL from staying at its peak size.
	// temp_store=MEMORY keeps each savepoint's journal in small in-memory
	// chunks instead of 64 KiB ones (see pinAllocatorPages for why size matters).
	if err := w.script(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
		PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY`); err != nil {
		return fail(fmt.Errorf("sqlite: configure %s: %w", path, err))
	}
	if _, _, err := migrate(w); err != nil {
		return fail(err)
	}
	for range opts.Readers {
		// Opened after the writer has switched the file to WAL, so the
		// -wal/-shm files exist and read-only connections can use them.
		c, err := openConn(path, true, opts.BusyTimeout)
		if err != nil {
			return fail(err)
		}
		s.readers <- c
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	go s.writeLoop()
	return s, nil
}

// op is one queued write: an Update function or a reservation.
type op struct {
	state atomic.Int32 // opQueued → opTaken (writer) or opAbandoned (caller)
	done  chan struct{}

	fn func(store.Tx) error // Update

	gameSessionID string // ReservePlayerSessions
	rows          []psRow
	gs            gameSessionRow // the session as updated, or as found on refusal

	err      error
	panicked bool
	panicVal any
	replied  bool // writer-owned
}

const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// Update queues fn for the writer and waits until the transaction it ran in
// has committed (or failed). fn runs on the writer goroutine, after and in the
// same transaction as other queued writes; it must not block for long and must
// not call back into the Store's write methods, which would wait on itself.
// A panic in fn is re-raised in the caller.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.submit(ctx, &op{fn: fn})
}

// ReservePlayerSessions implements store.Store. It also stores every session
// with Status RESERVED and GameSessionID set to gameSessionID, since that is
// what a reservation is. A session whose ID already exists fails the whole
// reservation with store.ErrConflict.
func (s *Store) ReservePlayerSessions(ctx context.Context, gameSessionID string, sessions []model.PlayerSession) (model.GameSession, error) {
	rows := make([]psRow, len(sessions))
	for i, p := range sessions {
		p.GameSessionID = gameSessionID
		p.Status = model.PlayerSessionReserved
		r, err := newPSRow(p)
		if err != nil {
			return model.GameSession{}, err
		}
		rows[i] = r
	}
	o := &op{gameSessionID: gameSessionID, rows: rows}
	err := s.submit(ctx, o)
	refused := errors.Is(err, store.ErrGameSessionNotActive) || errors.Is(err, store.ErrNotAccepting) ||
		errors.Is(err, store.ErrGameSessionFull)
	if err != nil && !refused {
		// Not even a session that a failed COMMIT rolled back.
		return model.GameSession{}, err
	}
	// Decoded here rather than on the writer, which every write waits for.
	g, derr := o.gs.decode()
	if derr != nil && err == nil {
		err = derr
	}
	return g, err
}

func (s *Store) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.done = make(chan struct{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.queue = append(s.queue, o)
	s.mu.Unlock()
	s.signal()

	select {
	case <-o.done:
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return ctx.Err()
		}
		// The writer already took it: it will finish, and the caller must
		// learn whether it committed.
		<-o.done
	}
	if o.panicked {
		panic(o.panicVal)
	}
	return o.err
}

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// View runs fn in a read-only transaction on one of the reader connections.
// Its snapshot starts at fn's first read, so it sees every write acknowledged
// before View was called.
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	var c *conn
	select {
	case c = <-s.readers:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.readers <- c }()
	if c.tls == nil { // closed by endRead after it failed to end a transaction
		nc, err := openConn(s.path, true, s.opts.BusyTimeout)
		if err != nil {
			return err
		}
		c = nc
	}

	if err := c.script("BEGIN"); err != nil {
		return err
	}
	t := &tx{c: c, readOnly: true, ctxErr: ctx.Err}
	defer func() {
		t.done = true
		s.endRead(c)
	}()
	if done := ctx.Done(); done != nil {
		// Interrupt a long read when the caller gives up. Wait for an
		// interrupt already under way before the connection goes back to the
		// pool, so it cannot hit the next View.
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			c.interrupt()
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired
			}
		}()
	}
	return fn(t)
}

// endRead ends a View's transaction. A connection that cannot leave its
// transaction would serve the same stale snapshot forever, so it is closed,
// and the next View to pick it up opens a fresh one.
func (s *Store) endRead(c *conn) {
	for range 2 {
		if !c.inTx() {
			return
		}
		_ = c.script("ROLLBACK")
	}
	if c.inTx() {
		c.close()
	}
}

// Close stops accepting work, lets the writer finish everything already
// queued, waits for running Views, and closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.signal()
		<-s.writerDone
		var errs []error
		for range s.opts.Readers {
			errs = append(errs, (<-s.readers).close())
		}
		// The writer closes last: as the last connection it checkpoints the
		// WAL into the main file and removes it.
		errs = append(errs, s.w.close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
