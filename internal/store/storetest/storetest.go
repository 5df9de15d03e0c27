package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Run runs the conformance suite against the backend that open creates.
// Each call to open must return a new, empty store; the suite closes it.
// Subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Locations", testLocations},
		{"Fleets", testFleets},
		{"Computes", testComputes},
		{"Aliases", testAliases},
		{"Processes", testProcesses},
		{"GameSessions", testGameSessions},
		{"PlayerSessions", testPlayerSessions},
		{"Events", testEvents},
		{"Queues", testQueues},
		{"Placements", testPlacements},
		{"Outbox", testOutbox},
		{"QueueTimesComeBackUTC", testQueueTimesUTC},
		{"TimesComeBackUTC", testTimesUTC},
		{"ReturnedRecordsAreCopies", testCopies},
		{"ListProcessesFilter", testListProcesses},
		{"ListGameSessionsFilter", testListGameSessions},
		{"ListPlayerSessionsFilter", testListPlayerSessions},
		{"ListEventsWindow", testListEvents},
		{"UpdateReadsOwnWrites", testReadOwnWrites},
		{"UpdateErrorKeepsNothing", testUpdateError},
		{"FailingUpdatesAmongConcurrentOnes", testFailingAmongConcurrent},
		{"ViewIsReadOnly", testViewReadOnly},
		{"ViewSeesAcknowledgedUpdate", testViewAfterUpdate},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CanceledContext", testCanceledContext},
		{"Reserve", testReserve},
		{"ReserveRefusals", testReserveRefusals},
		{"ReserveBoundary", testReserveBoundary},
		{"ReserveAllOrNothing", testReserveAllOrNothing},
		{"ReserveSeesPutCount", testReserveSeesPut},
		{"ReserveRace", testReserveRace},
		{"ReserveRaceMultiSlot", testReserveRaceMulti},
		{"UseAfterClose", testUseAfterClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, fresh(t, open(t)))
		})
	}
}

// onceCloser lets a test close its store early while the cleanup closes it
// only if the test did not.
type onceCloser struct {
	store.Store
	once sync.Once
	err  error
}

func (c *onceCloser) Close() error {
	c.once.Do(func() { c.err = c.Store.Close() })
	return c.err
}

func fresh(t *testing.T, s store.Store) store.Store {
	t.Helper()
	c := &onceCloser{Store: s}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// update and view fail the test on error. fn must report problems by
// returning an error, never by calling t.Fatal: a backend may run fn on
// another goroutine.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// get reads one value in a View.
func get[T any](t *testing.T, s store.Store, fn func(tx store.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	var ferr error
	view(t, s, func(tx store.Tx) error {
		v, ferr = fn(tx)
		return nil
	})
	return v, ferr
}

// must reads one value in a View and fails the test on error.
func must[T any](t *testing.T, s store.Store, fn func(tx store.Tx) (T, error)) T {
	t.Helper()
	v, err := get(t, s, fn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return v
}

// snapshot is everything a test's store holds, for before/after comparison.
type snapshot struct {
	Locations      []model.Location
	Fleets         []model.Fleet
	Aliases        []model.Alias
	Computes       map[string][]model.Compute
	Processes      []model.Process
	GameSessions   []model.GameSession
	PlayerSessions []model.PlayerSession
	Events         map[string][]model.Event
}

// dump reads every record; computes and events are listed for fleetIDs.
func dump(t *testing.T, s store.Store, fleetIDs ...string) snapshot {
	t.Helper()
	var d snapshot
	view(t, s, func(tx store.Tx) (err error) {
		if d.Locations, err = tx.ListLocations(); err != nil {
			return err
		}
		if d.Fleets, err = tx.ListFleets(); err != nil {
			return err
		}
		if d.Aliases, err = tx.ListAliases(); err != nil {
			return err
		}
		if d.Processes, err = tx.ListProcesses(store.ProcessFilter{}); err != nil {
			return err
		}
		if d.GameSessions, err = tx.ListGameSessions(store.GameSessionFilter{}); err != nil {
			return err
		}
		if d.PlayerSessions, err = tx.ListPlayerSessions(store.PlayerSessionFilter{}); err != nil {
			return err
		}
		d.Computes = map[string][]model.Compute{}
		d.Events = map[string][]model.Event{}
		for _, f := range fleetIDs {
			if d.Computes[f], err = tx.ListComputes(f); err != nil {
				return err
			}
			if d.Events[f], err = tx.ListEvents(f, noTime, noTime); err != nil {
				return err
			}
		}
		return nil
	})
	return d
}
