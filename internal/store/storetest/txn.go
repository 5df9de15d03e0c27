package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// seed stores one record of every kind, keyed under fleet-1.
func seed(t *testing.T, s store.Store) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		return firstErr(
			tx.InsertLocation(location("custom-a", at(0))),
			tx.InsertFleet(fleet("fleet-1", at(0))),
			tx.PutCompute(compute("fleet-1", "host-a", at(0))),
			tx.InsertAlias(alias("alias-1", at(0))),
			tx.PutProcess(process("proc-1", "fleet-1", "host-a", model.ProcessActive, at(0))),
			tx.InsertGameSession(gameSession("gsess-1", "fleet-1", model.GameSessionActive, at(0))),
			tx.PutPlayerSession(playerSession("psess-1", "gsess-1", "player-1", model.PlayerSessionActive, at(0))),
			tx.InsertEvent(event("ev-1", "fleet-1", at(0))),
		)
	})
}

// writeEverything performs every kind of write: inserts, replacements and
// deletions of seeded records. It returns the first error.
func writeEverything(tx store.Tx) error {
	g := gameSession("gsess-1", "fleet-1", model.GameSessionTerminated, at(1))
	g.CurrentPlayerSessionCount = 5
	return firstErr(
		tx.InsertLocation(location("custom-new", at(1))),
		tx.DeleteLocation("custom-a"),
		tx.InsertFleet(fleet("fleet-new", at(1))),
		tx.PutFleet(fleet("fleet-1", at(1))),
		tx.PutCompute(compute("fleet-1", "host-new", at(1))),
		tx.DeleteCompute("fleet-1", "host-a"),
		tx.InsertAlias(alias("alias-new", at(1))),
		tx.PutAlias(alias("alias-1", at(1))),
		tx.DeleteAlias("alias-1"),
		tx.PutProcess(process("proc-1", "fleet-1", "host-a", model.ProcessTerminated, at(1))),
		tx.PutProcess(process("proc-new", "fleet-1", "host-a", model.ProcessActive, at(1))),
		tx.InsertGameSession(gameSession("gsess-new", "fleet-1", model.GameSessionActive, at(1))),
		tx.PutGameSession(g),
		tx.PutPlayerSession(playerSession("psess-1", "gsess-1", "player-1", model.PlayerSessionCompleted, at(1))),
		tx.PutPlayerSession(playerSession("psess-new", "gsess-1", "player-2", model.PlayerSessionReserved, at(1))),
		tx.InsertEvent(event("ev-new", "fleet-1", at(1))),
	)
}

func testReadOwnWrites(t *testing.T, s store.Store) {
	seed(t, s)
	update(t, s, func(tx store.Tx) error {
		if err := writeEverything(tx); err != nil {
			return err
		}
		if _, err := tx.GetLocation("custom-a"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("deleted location: got %v, want ErrNotFound", err)
		}
		g, err := tx.GetGameSession("gsess-1")
		if err != nil {
			return err
		}
		if g.Status != model.GameSessionTerminated || g.CurrentPlayerSessionCount != 5 {
			return fmt.Errorf("game session read inside the Update: %+v", g)
		}
		evs, err := tx.ListEvents("fleet-1", noTime, noTime)
		if err != nil {
			return err
		}
		if len(evs) != 2 || evs[0].ID != "ev-new" {
			return fmt.Errorf("events read inside the Update: %+v", evs)
		}
		return nil
	})
}

var errSentinel = errors.New("storetest: fn failed on purpose")

func testUpdateError(t *testing.T, s store.Store) {
	seed(t, s)
	before := dump(t, s, "fleet-1", "fleet-new")

	// Every write succeeds, then fn fails: nothing may remain, and the error
	// must come back as the very same value.
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := writeEverything(tx); err != nil {
			return fmt.Errorf("setup writes failed, so the test proves nothing: %w", err)
		}
		return errSentinel
	})
	if err != errSentinel { //nolint:errorlint // identity is the contract: "returns that error unchanged"
		t.Fatalf("Update returned %v (%T), want the fn's error unchanged", err, err)
	}
	eq(t, "store after failed Update", dump(t, s, "fleet-1", "fleet-new"), before)

	// A wrapped store error is returned as is, too.
	wrapped := fmt.Errorf("core: %w", store.ErrNotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error {
		_ = tx.InsertFleet(fleet("fleet-new", at(1)))
		return wrapped
	})
	if err != wrapped { //nolint:errorlint
		t.Errorf("Update returned %v, want %v unchanged", err, wrapped)
	}
	eq(t, "store after second failed Update", dump(t, s, "fleet-1", "fleet-new"), before)
}

// testFailingAmongConcurrent runs succeeding and failing Updates together, so
// that a backend that batches them must undo exactly the failed ones.
func testFailingAmongConcurrent(t *testing.T, s store.Store) {
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("fleet-%02d", i)
			errs[i] = s.Update(t.Context(), func(tx store.Tx) error {
				if err := tx.InsertFleet(fleet(id, at(i))); err != nil {
					return err
				}
				if err := tx.InsertEvent(event("ev-"+id, "fleet-all", at(i))); err != nil {
					return err
				}
				if i%2 == 1 {
					return errSentinel
				}
				return nil
			})
		})
	}
	wg.Wait()
	var wantFleets []string
	for i, err := range errs {
		if i%2 == 1 {
			if err != errSentinel { //nolint:errorlint
				t.Errorf("Update %d: got %v, want errSentinel", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
		wantFleets = append(wantFleets, fmt.Sprintf("fleet-%02d", i))
	}
	var gotFleets []string
	for _, f := range must(t, s, func(tx store.Tx) ([]model.Fleet, error) { return tx.ListFleets() }) {
		gotFleets = append(gotFleets, f.ID)
	}
	eq(t, "fleets kept", gotFleets, wantFleets)
	evs := must(t, s, func(tx store.Tx) ([]model.Event, error) { return tx.ListEvents("fleet-all", noTime, noTime) })
	if len(evs) != len(wantFleets) {
		t.Errorf("events kept: %d, want %d", len(evs), len(wantFleets))
	}
}

func testViewReadOnly(t *testing.T, s store.Store) {
	seed(t, s)
	before := dump(t, s, "fleet-1", "fleet-new")
	g := gameSession("gsess-1", "fleet-1", model.GameSessionTerminated, at(1))
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"InsertLocation", func(tx store.Tx) error { return tx.InsertLocation(location("custom-new", at(1))) }},
		{"DeleteLocation", func(tx store.Tx) error { return tx.DeleteLocation("custom-a") }},
		{"InsertFleet", func(tx store.Tx) error { return tx.InsertFleet(fleet("fleet-new", at(1))) }},
		{"PutFleet", func(tx store.Tx) error { return tx.PutFleet(fleet("fleet-1", at(1))) }},
		{"PutCompute", func(tx store.Tx) error { return tx.PutCompute(compute("fleet-1", "host-new", at(1))) }},
		{"DeleteCompute", func(tx store.Tx) error { return tx.DeleteCompute("fleet-1", "host-a") }},
		{"InsertAlias", func(tx store.Tx) error { return tx.InsertAlias(alias("alias-new", at(1))) }},
		{"PutAlias", func(tx store.Tx) error { return tx.PutAlias(alias("alias-1", at(1))) }},
		{"DeleteAlias", func(tx store.Tx) error { return tx.DeleteAlias("alias-1") }},
		{"PutProcess", func(tx store.Tx) error {
			return tx.PutProcess(process("proc-1", "fleet-1", "host-a", model.ProcessTerminated, at(1)))
		}},
		{"InsertGameSession", func(tx store.Tx) error {
			return tx.InsertGameSession(gameSession("gsess-new", "fleet-1", model.GameSessionActive, at(1)))
		}},
		{"PutGameSession", func(tx store.Tx) error { return tx.PutGameSession(g) }},
		{"PutPlayerSession", func(tx store.Tx) error {
			return tx.PutPlayerSession(playerSession("psess-new", "gsess-1", "p", model.PlayerSessionReserved, at(1)))
		}},
		{"InsertEvent", func(tx store.Tx) error { return tx.InsertEvent(event("ev-new", "fleet-1", at(1))) }},
	}
	for _, w := range writes {
		var werr error
		// View's own result is not constrained (a backend may fail the whole
		// transaction); the write must fail and leave nothing.
		_ = s.View(t.Context(), func(tx store.Tx) error {
			werr = w.fn(tx)
			return werr
		})
		if werr == nil {
			t.Errorf("%s inside View succeeded, want an error", w.name)
		}
	}
	eq(t, "store after writes in View", dump(t, s, "fleet-1", "fleet-new"), before)
}

// testViewAfterUpdate: once Update returns, every View sees its writes, also
// under concurrency.
func testViewAfterUpdate(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertFleet(fleet("fleet-1", at(0))) })
	for i := range 50 {
		want := fmt.Sprint(i)
		update(t, s, func(tx store.Tx) error {
			f, err := tx.GetFleet("fleet-1")
			if err != nil {
				return err
			}
			f.Description = want
			return tx.PutFleet(f)
		})
		if got := must(t, s, func(tx store.Tx) (model.Fleet, error) { return tx.GetFleet("fleet-1") }); got.Description != want {
			t.Fatalf("View after Update %d sees Description %q", i, got.Description)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				id := fmt.Sprintf("alias-%d-%d", g, i)
				if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertAlias(alias(id, at(i))) }); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				// t.Fatal must not be called off the test goroutine, so no get().
				if err := s.View(t.Context(), func(tx store.Tx) error { _, err := tx.GetAlias(id); return err }); err != nil {
					t.Errorf("View right after Update does not see %s: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// testConcurrentUpdates: read-modify-write through Update is serialisable,
// so concurrent increments are never lost.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const workers, each = 16, 25
	p := process("proc-1", "fleet-1", "host-a", model.ProcessActive, at(0))
	p.UnhealthyCount = 0
	g := gameSession("gsess-1", "fleet-1", model.GameSessionActive, at(0))
	g.MaximumPlayerSessionCount = workers * each
	update(t, s, func(tx store.Tx) error { return firstErr(tx.PutProcess(p), tx.InsertGameSession(g)) })
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					p, err := tx.GetProcess("proc-1")
					if err != nil {
						return err
					}
					g, err := tx.GetGameSession("gsess-1")
					if err != nil {
						return err
					}
					p.UnhealthyCount++
					g.CurrentPlayerSessionCount++
					return firstErr(tx.PutProcess(p), tx.PutGameSession(g))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	gotP := must(t, s, func(tx store.Tx) (model.Process, error) { return tx.GetProcess("proc-1") })
	gotG := must(t, s, func(tx store.Tx) (model.GameSession, error) { return tx.GetGameSession("gsess-1") })
	if gotP.UnhealthyCount != workers*each || gotG.CurrentPlayerSessionCount != workers*each {
		t.Errorf("after %d increments: UnhealthyCount %d, CurrentPlayerSessionCount %d",
			workers*each, gotP.UnhealthyCount, gotG.CurrentPlayerSessionCount)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		return tx.InsertGameSession(gameSession("gsess-1", "fleet-1", model.GameSessionActive, at(0)))
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.Update(ctx, func(tx store.Tx) error {
		called = true
		return tx.InsertFleet(fleet("fleet-1", at(0)))
	})
	isErr(t, "Update with canceled ctx", err, context.Canceled)
	if called {
		t.Error("Update ran fn although ctx was already canceled")
	}
	_, err = get(t, s, func(tx store.Tx) (model.Fleet, error) { return tx.GetFleet("fleet-1") })
	isErr(t, "fleet after canceled Update", err, store.ErrNotFound)

	err = s.View(ctx, func(tx store.Tx) error {
		called = true
		return nil
	})
	isErr(t, "View with canceled ctx", err, context.Canceled)
	if called {
		t.Error("View ran fn although ctx was already canceled")
	}

	_, err = s.ReservePlayerSessions(ctx, "gsess-1", []model.PlayerSession{
		playerSession("psess-1", "gsess-1", "player-1", model.PlayerSessionReserved, at(0))})
	isErr(t, "Reserve with canceled ctx", err, context.Canceled)
	g := must(t, s, func(tx store.Tx) (model.GameSession, error) { return tx.GetGameSession("gsess-1") })
	if g.CurrentPlayerSessionCount != 0 {
		t.Errorf("count after canceled Reserve: %d", g.CurrentPlayerSessionCount)
	}
}

func testUseAfterClose(t *testing.T, s store.Store) {
	seed(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return nil }); err == nil {
		t.Error("Update after Close succeeded")
	}
	if err := s.View(t.Context(), func(tx store.Tx) error { return nil }); err == nil {
		t.Error("View after Close succeeded")
	}
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-1", nil); err == nil {
		t.Error("ReservePlayerSessions after Close succeeded")
	}
}
