package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// RunDurable checks that what a store acknowledged is there after Close and
// reopening. openAt must open the store kept in dir (creating it if dir is
// empty); the suite closes what it opens.
func RunDurable(t *testing.T, openAt func(t *testing.T, dir string) store.Store) {
	t.Run("ReopenKeepsEverything", func(t *testing.T) {
		t.Parallel()
		testReopen(t, openAt)
	})
	t.Run("CloseDrainsQueuedWrites", func(t *testing.T) {
		t.Parallel()
		testCloseDrains(t, openAt)
	})
}

func testReopen(t *testing.T, openAt func(t *testing.T, dir string) store.Store) {
	dir := t.TempDir()
	fleets := []string{"fleet-1", "fleet-new"}

	s := openAt(t, dir)
	seed(t, s)
	update(t, s, writeEverything)
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(activeSession("gsess-r", 0, 5)) })
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-r", players("gsess-r", "psess-r", 4)); err != nil {
		t.Fatal(err)
	}
	want := dump(t, s, fleets...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, dir)
	eq(t, "after first reopen", dump(t, s, fleets...), want)
	// The reopened store keeps working, including its reservation count.
	_, err := s.ReservePlayerSessions(t.Context(), "gsess-r", players("gsess-r", "psess-s", 2))
	isErr(t, "Reserve past the maximum after reopen", err, store.ErrGameSessionFull)
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-r", players("gsess-r", "psess-s", 1)); err != nil {
		t.Fatalf("Reserve after reopen: %v", err)
	}
	update(t, s, func(tx store.Tx) error { return tx.InsertFleet(fleet("fleet-late", at(5))) })
	want = dump(t, s, fleets...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, dir)
	defer s.Close()
	eq(t, "after second reopen", dump(t, s, fleets...), want)
	eq(t, "count", getGS(t, s, "gsess-r").CurrentPlayerSessionCount, int32(5))
}

// testCloseDrains closes the store while writers are busy. Every write that
// was acknowledged must be there after reopening, and every write that failed
// must not.
func testCloseDrains(t *testing.T, openAt func(t *testing.T, dir string) store.Store) {
	dir := t.TempDir()
	s := openAt(t, dir)
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(activeSession("gsess-1", 0, 1<<30)) })

	const writers = 16
	var (
		mu      sync.Mutex
		acked   = map[string]bool{} // id → acknowledged (false: failed)
		started atomic.Int32
		wg      sync.WaitGroup
	)
	record := func(id string, err error) bool {
		mu.Lock()
		defer mu.Unlock()
		acked[id] = err == nil
		return err == nil
	}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				started.Add(1)
				var err error
				id := fmt.Sprintf("w%02d-%05d", w, i)
				if i%2 == 0 {
					err = s.Update(context.Background(), func(tx store.Tx) error {
						return tx.InsertAlias(alias("alias-"+id, at(i)))
					})
					id = "alias-" + id
				} else {
					_, err = s.ReservePlayerSessions(context.Background(), "gsess-1",
						[]model.PlayerSession{playerSession("psess-"+id, "gsess-1", "p", model.PlayerSessionReserved, at(i))})
					id = "psess-" + id
				}
				if !record(id, err) {
					return
				}
			}
		})
	}
	for started.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()

	s = openAt(t, dir)
	defer s.Close()
	nAcked := 0
	var reserved int32
	view(t, s, func(tx store.Tx) error {
		for id, ok := range acked {
			var err error
			if id[:5] == "alias" {
				_, err = tx.GetAlias(id)
			} else {
				_, err = tx.GetPlayerSession(id)
				if ok {
					reserved++
				}
			}
			switch {
			case ok && err != nil:
				t.Errorf("%s was acknowledged before Close but is missing: %v", id, err)
			case !ok && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s failed but is present (err %v)", id, err)
			}
			if ok {
				nAcked++
			}
		}
		return nil
	})
	eq(t, "reservation count", getGS(t, s, "gsess-1").CurrentPlayerSessionCount, reserved)
	t.Logf("%d writes acknowledged before Close, %d refused", nAcked, len(acked)-nAcked)
}
