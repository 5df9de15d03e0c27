package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Tests of this backend's own mechanics, beyond the conformance suite.

func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "openlift.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// queryOne runs a one-row query on c and returns its first column as text.
func queryOne(t *testing.T, c *conn, q string) string {
	t.Helper()
	st, err := c.prep(q)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.bind(); err != nil {
		t.Fatal(err)
	}
	defer st.reset()
	if row, err := st.step(); err != nil || !row {
		t.Fatalf("%s: row %v, err %v", q, row, err)
	}
	return st.text(0)
}

// onWriter runs fn on the writer's connection, inside a batch transaction.
func onWriter(t *testing.T, s *Store, fn func(c *conn) error) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error { return fn(txConn(tx)) }); err != nil {
		t.Fatal(err)
	}
}

func txConn(x store.Tx) *conn { return x.(*tx).c }

// blockWriter occupies the writer until release is called, so that what is
// submitted meanwhile queues up.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, rel := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(store.Tx) error {
			close(entered)
			<-rel
			return nil
		})
	}()
	<-entered
	return func() {
		close(rel)
		if err := <-done; err != nil {
			t.Errorf("blocking Update: %v", err)
		}
	}
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		q := len(s.queue)
		s.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d ops queued", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func fleetRec(id string) model.Fleet {
	return model.Fleet{ID: id, Name: id, CreationTime: time.Now().UTC()}
}

func TestGroupCommit(t *testing.T) {
	for _, tc := range []struct {
		maxBatch, ops, wantTxs int
	}{
		{256, 100, 1},
		{10, 100, 10},
	} {
		t.Run(fmt.Sprintf("MaxBatch=%d", tc.maxBatch), func(t *testing.T) {
			s := newStore(t, Options{MaxBatch: tc.maxBatch})
			release := blockWriter(t, s)
			var wg sync.WaitGroup
			for i := range tc.ops {
				wg.Go(func() {
					err := s.Update(context.Background(), func(tx store.Tx) error {
						return tx.InsertFleet(fleetRec(fmt.Sprintf("fleet-%03d", i)))
					})
					if err != nil {
						t.Error(err)
					}
				})
			}
			waitQueued(t, s, tc.ops)
			before := s.txs.Load()
			release()
			wg.Wait()
			if got := int(s.txs.Load() - before); got != tc.wantTxs {
				t.Errorf("%d queued ops ran in %d transactions, want %d", tc.ops, got, tc.wantTxs)
			}
			var n int
			_ = s.View(context.Background(), func(tx store.Tx) error {
				fs, err := tx.ListFleets()
				n = len(fs)
				return err
			})
			if n != tc.ops {
				t.Errorf("%d fleets stored, want %d", n, tc.ops)
			}
		})
	}
}

// TestCommitFailureFailsWholeBatch makes COMMIT itself fail, with a deferred
// foreign key that is only checked there, and expects every op of the batch
// to get the error and none of their writes to remain.
func TestCommitFailureFailsWholeBatch(t *testing.T) {
	s := newStore(t, Options{})
	// Safe from the test goroutine: no op has run, so the writer has not
	// touched its connection since Open.
	if err := s.w.script(`PRAGMA foreign_keys = ON;
		CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, s)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	submit := func(i int, fn func(tx store.Tx) error) {
		wg.Go(func() { errs[i] = s.Update(context.Background(), fn) })
		waitQueued(t, s, i+1) // keep queue order deterministic
	}
	submit(0, func(tx store.Tx) error { return tx.InsertFleet(fleetRec("fleet-a")) })
	submit(1, func(tx store.Tx) error { return txConn(tx).script("INSERT INTO child VALUES (42)") })
	failing := errors.New("own error")
	submit(2, func(tx store.Tx) error { _ = tx.InsertFleet(fleetRec("fleet-c")); return failing })
	release()
	wg.Wait()
	for i := range 2 {
		if errs[i] == nil || !strings.Contains(errs[i].Error(), "commit") {
			t.Errorf("op %d: got %v, want the COMMIT error", i, errs[i])
		}
	}
	if errs[2] != failing { //nolint:errorlint
		t.Errorf("op 2: got %v, want its own error", errs[2])
	}
	err := s.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetFleet("fleet-a")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fleet of a failed commit: %v", err)
	}
	// The writer goes on.
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertFleet(fleetRec("fleet-d")) }); err != nil {
		t.Errorf("Update after failed commit: %v", err)
	}
}

func TestCancelWhileQueued(t *testing.T) {
	s := newStore(t, Options{})
	release := blockWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- s.Update(ctx, func(tx store.Tx) error {
			ran <- struct{}{}
			return tx.InsertFleet(fleetRec("fleet-1"))
		})
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Update canceled in the queue: %v", err)
	}
	release()
	// A later write passes through the writer after the abandoned one.
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("abandoned Update ran anyway")
	default:
	}
}

func TestCancelWhileRunningStillCommits(t *testing.T) {
	s := newStore(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx store.Tx) error {
		cancel()
		return tx.InsertFleet(fleetRec("fleet-1"))
	})
	if err != nil {
		t.Fatalf("Update whose ctx ended while running: %v", err)
	}
	err = s.View(context.Background(), func(tx store.Tx) error { _, err := tx.GetFleet("fleet-1"); return err })
	if err != nil {
		t.Errorf("its write: %v", err)
	}
}

func TestPanicInUpdate(t *testing.T) {
	s := newStore(t, Options{})
	type boom struct{ n int }
	func() {
		defer func() {
			if r := recover(); r != (boom{7}) {
				t.Errorf("recovered %v, want boom{7}", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			_ = tx.InsertFleet(fleetRec("fleet-1"))
			panic(boom{7})
		})
		t.Error("Update returned instead of panicking")
	}()
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.GetFleet("fleet-1"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write of the panicking Update: %v", err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertFleet(fleetRec("fleet-2")) }); err != nil {
		t.Errorf("Update after panic: %v", err)
	}
}

func TestGoexitInUpdate(t *testing.T) {
	s := newStore(t, Options{})
	err := s.Update(context.Background(), func(tx store.Tx) error {
		_ = tx.InsertFleet(fleetRec("fleet-1"))
		runtime.Goexit()
		return nil
	})
	if !errors.Is(err, errGoexit) {
		t.Errorf("Update calling Goexit: %v", err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertFleet(fleetRec("fleet-2")) }); err != nil {
		t.Fatalf("Update after Goexit: %v", err)
	}
	err = s.View(context.Background(), func(tx store.Tx) error { _, err := tx.GetFleet("fleet-1"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write of the Update that called Goexit: %v", err)
	}
}

func TestTxUnusableAfterReturn(t *testing.T) {
	s := newStore(t, Options{})
	var kept store.Tx
	_ = s.Update(context.Background(), func(tx store.Tx) error { kept = tx; return nil })
	if err := kept.InsertFleet(fleetRec("fleet-1")); !errors.Is(err, errTxDone) {
		t.Errorf("write through a finished Update's Tx: %v", err)
	}
	_ = s.View(context.Background(), func(tx store.Tx) error { kept = tx; return nil })
	if _, err := kept.ListFleets(); !errors.Is(err, errTxDone) {
		t.Errorf("read through a finished View's Tx: %v", err)
	}
}

func TestViewInterruptedByContext(t *testing.T) {
	s := newStore(t, Options{Readers: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.View(ctx, func(x store.Tx) error {
		return x.(*tx).query(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`,
			func(*stmt) error { return nil })
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("endless View: got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("View took %v to notice its deadline", d)
	}
	// The one reader connection is usable again and not left interrupted.
	if err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.ListFleets(); return err }); err != nil {
		t.Errorf("View after an interrupted one: %v", err)
	}
}

func TestReaderConnectionsCannotWrite(t *testing.T) {
	s := newStore(t, Options{})
	err := s.View(context.Background(), func(tx store.Tx) error {
		return txConn(tx).script(`INSERT INTO locations (name, data) VALUES ('x', '{}')`)
	})
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("raw write on a reader connection: %v", err)
	}
}

func TestPragmasAndSchemaVersion(t *testing.T) {
	s := newStore(t, Options{})
	onWriter(t, s, func(c *conn) error {
		if got := queryOne(t, c, "PRAGMA journal_mode"); got != "wal" {
			t.Errorf("journal_mode %q", got)
		}
		if got := queryOne(t, c, "PRAGMA synchronous"); got != "2" {
			t.Errorf("synchronous %q, want 2 (FULL)", got)
		}
		ms, _ := migrations()
		if got := queryOne(t, c, "PRAGMA user_version"); got != fmt.Sprint(len(ms)) {
			t.Errorf("user_version %q, want %d", got, len(ms))
		}
		return nil
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openlift.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening an up-to-date file is fine and applies nothing.
	s, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	onWriter(t, s, func(c *conn) error { return nil })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	c, err := openConn(path, false, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.script("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	c.close()
	_, err = Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a schema-99 file: %v", err)
	}
}

// TestGameSessionDocOmitsColumns: the columns that ReservePlayerSessions
// updates in place must not also be in the JSON, where they would go stale.
func TestGameSessionDocOmitsColumns(t *testing.T) {
	s := newStore(t, Options{})
	g := model.GameSession{ID: "gsess-1", FleetID: "fleet-1", Status: model.GameSessionActive,
		PlayerSessionCreationPolicy: model.AcceptAll, MaximumPlayerSessionCount: 5, CurrentPlayerSessionCount: 1,
		Name: "n", CreationTime: time.Now().UTC()}
	onWriter(t, s, func(c *conn) error { return (&tx{c: c}).InsertGameSession(g) })
	if _, err := s.ReservePlayerSessions(context.Background(), "gsess-1",
		[]model.PlayerSession{{ID: "psess-1", PlayerID: "p"}}); err != nil {
		t.Fatal(err)
	}
	onWriter(t, s, func(c *conn) error {
		var doc map[string]any
		if err := json.Unmarshal([]byte(queryOne(t, c, "SELECT data FROM game_sessions")), &doc); err != nil {
			return err
		}
		for _, k := range []string{"Status", "PlayerSessionCreationPolicy", "CurrentPlayerSessionCount", "MaximumPlayerSessionCount"} {
			if _, ok := doc[k]; ok {
				t.Errorf("JSON document holds %s: %v", k, doc)
			}
		}
		if doc["Name"] != "n" {
			t.Errorf("JSON document lost Name: %v", doc)
		}
		if got := queryOne(t, c, "SELECT current_player_session_count FROM game_sessions"); got != "2" {
			t.Errorf("count column %s, want 2", got)
		}
		return nil
	})
}

func TestReserveDuplicateIDIsConflict(t *testing.T) {
	s := newStore(t, Options{})
	onWriter(t, s, func(c *conn) error {
		return (&tx{c: c}).InsertGameSession(model.GameSession{ID: "gsess-1", Status: model.GameSessionActive,
			PlayerSessionCreationPolicy: model.AcceptAll, MaximumPlayerSessionCount: 5})
	})
	ps := []model.PlayerSession{{ID: "psess-1"}, {ID: "psess-1"}}
	if _, err := s.ReservePlayerSessions(context.Background(), "gsess-1", ps); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Reserve with a repeated id: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s := newStore(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update: %v", err)
	}
	if err := s.View(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View: %v", err)
	}
	if _, err := s.ReservePlayerSessions(context.Background(), "x", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve: %v", err)
	}
}
