package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

func activeSession(id string, current, maxPlayers int32) model.GameSession {
	g := gameSession(id, "fleet-1", model.GameSessionActive, at(0))
	g.CurrentPlayerSessionCount, g.MaximumPlayerSessionCount = current, maxPlayers
	return g
}

// players returns n RESERVED player sessions for gameSessionID, ids prefix-0…
func players(gameSessionID, prefix string, n int) []model.PlayerSession {
	out := make([]model.PlayerSession, n)
	for i := range out {
		out[i] = playerSession(fmt.Sprintf("%s-%03d", prefix, i), gameSessionID,
			fmt.Sprintf("player-%s-%d", prefix, i), model.PlayerSessionReserved, at(i))
	}
	return out
}

func getGS(t *testing.T, s store.Store, id string) model.GameSession {
	t.Helper()
	return must(t, s, func(tx store.Tx) (model.GameSession, error) { return tx.GetGameSession(id) })
}

func listPS(t *testing.T, s store.Store, f store.PlayerSessionFilter) []model.PlayerSession {
	t.Helper()
	return must(t, s, func(tx store.Tx) ([]model.PlayerSession, error) { return tx.ListPlayerSessions(f) })
}

func testReserve(t *testing.T, s store.Store) {
	g := activeSession("gsess-1", 0, 10)
	update(t, s, func(tx store.Tx) error {
		return firstErr(tx.InsertGameSession(g), tx.InsertGameSession(activeSession("gsess-2", 0, 10)))
	})
	ps := players("gsess-1", "psess-a", 3)
	got, err := s.ReservePlayerSessions(t.Context(), "gsess-1", ps)
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	want := g
	want.CurrentPlayerSessionCount = 3
	eq(t, "returned game session", got, want)
	eq(t, "stored game session", getGS(t, s, "gsess-1"), want)
	eq(t, "player sessions", listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-1"}), ps)
	for _, p := range ps {
		eq(t, "Get "+p.ID, must(t, s, func(tx store.Tx) (model.PlayerSession, error) { return tx.GetPlayerSession(p.ID) }), p)
	}
	eqList(t, "other session untouched", listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-2"}), nil)
	eq(t, "other session count", getGS(t, s, "gsess-2").CurrentPlayerSessionCount, int32(0))

	// The count also shows in List, and a second reservation adds to it.
	ps2 := players("gsess-1", "psess-b", 2)
	got, err = s.ReservePlayerSessions(t.Context(), "gsess-1", ps2)
	if err != nil {
		t.Fatalf("second Reserve: %v", err)
	}
	want.CurrentPlayerSessionCount = 5
	eq(t, "returned after second", got, want)
	eq(t, "listed after second", must(t, s, func(tx store.Tx) ([]model.GameSession, error) {
		return tx.ListGameSessions(store.GameSessionFilter{IdempotencyToken: g.IdempotencyToken})
	}), []model.GameSession{want})
	eq(t, "RESERVED sessions", len(listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-1",
		Statuses: []model.PlayerSessionStatus{model.PlayerSessionReserved}})), 5)
}

// testReserveRefusals: each refusal changes nothing and names its reason.
// The checks apply in the interface's order: existence, status, policy, room.
func testReserveRefusals(t *testing.T, s store.Store) {
	sessions := map[string]model.GameSession{}
	add := func(g model.GameSession) { sessions[g.ID] = g }
	for _, st := range []model.GameSessionStatus{model.GameSessionActivating, model.GameSessionTerminating,
		model.GameSessionTerminated, model.GameSessionError} {
		g := activeSession("gsess-"+string(st), 0, 10)
		g.Status = st
		add(g)
	}
	deny := activeSession("gsess-deny", 0, 10)
	deny.PlayerSessionCreationPolicy = model.DenyAll
	add(deny)
	deadDeny := deny
	deadDeny.ID, deadDeny.Status = "gsess-dead-deny", model.GameSessionTerminated
	add(deadDeny)
	fullDeny := deny
	fullDeny.ID, fullDeny.CurrentPlayerSessionCount = "gsess-full-deny", 10
	add(fullDeny)
	full := activeSession("gsess-full", 10, 10)
	add(full)
	update(t, s, func(tx store.Tx) error {
		for _, g := range sessions {
			if err := tx.InsertGameSession(g); err != nil {
				return err
			}
		}
		return nil
	})

	cases := []struct {
		id      string
		want    error
		session bool // the error must come with the session
	}{
		{"gsess-missing", store.ErrNotFound, false},
		{"gsess-" + string(model.GameSessionActivating), store.ErrGameSessionNotActive, true},
		{"gsess-" + string(model.GameSessionTerminating), store.ErrGameSessionNotActive, true},
		{"gsess-" + string(model.GameSessionTerminated), store.ErrGameSessionNotActive, true},
		{"gsess-" + string(model.GameSessionError), store.ErrGameSessionNotActive, true},
		{"gsess-dead-deny", store.ErrGameSessionNotActive, true},
		{"gsess-deny", store.ErrNotAccepting, false},
		{"gsess-full-deny", store.ErrNotAccepting, false},
		{"gsess-full", store.ErrGameSessionFull, false},
	}
	for _, c := range cases {
		got, err := s.ReservePlayerSessions(t.Context(), c.id, players(c.id, "psess-"+c.id, 1))
		isErr(t, "Reserve on "+c.id, err, c.want)
		if c.session {
			eq(t, "session returned with "+c.want.Error(), got, sessions[c.id])
		}
	}
	eqList(t, "player sessions after refusals", listPS(t, s, store.PlayerSessionFilter{}), nil)
	for id, g := range sessions {
		eq(t, "unchanged "+id, getGS(t, s, id), g)
	}
}

// testReserveBoundary walks a session up to exactly its maximum.
func testReserveBoundary(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(activeSession("gsess-1", 0, 5)) })
	steps := []struct {
		n     int
		err   error
		count int32
	}{
		{4, nil, 4},
		{2, store.ErrGameSessionFull, 4}, // 6 > 5
		{1, nil, 5},                      // exactly the maximum
		{1, store.ErrGameSessionFull, 5},
	}
	total := 0
	for i, st := range steps {
		ps := players("gsess-1", fmt.Sprintf("psess-%d", i), st.n)
		g, err := s.ReservePlayerSessions(t.Context(), "gsess-1", ps)
		if st.err == nil {
			if err != nil {
				t.Fatalf("step %d: Reserve %d: %v", i, st.n, err)
			}
			total += st.n
			eq(t, fmt.Sprintf("step %d returned count", i), g.CurrentPlayerSessionCount, st.count)
		} else {
			isErr(t, fmt.Sprintf("step %d: Reserve %d", i, st.n), err, st.err)
		}
		eq(t, fmt.Sprintf("step %d stored count", i), getGS(t, s, "gsess-1").CurrentPlayerSessionCount, st.count)
		eq(t, fmt.Sprintf("step %d player sessions", i), len(listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-1"})), total)
	}
}

// testReserveAllOrNothing: a reservation that cannot be completed, for lack of
// room or because one of its sessions cannot be inserted, leaves no trace.
func testReserveAllOrNothing(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(activeSession("gsess-1", 0, 5)) })
	first := players("gsess-1", "psess-a", 3)
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-1", first); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-b", 3))
	isErr(t, "Reserve 3 into 2 free slots", err, store.ErrGameSessionFull)

	// Room for both, but one id is taken: the other must not be inserted and
	// the count must not move.
	clash := []model.PlayerSession{players("gsess-1", "psess-c", 1)[0], first[1]}
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-1", clash); err == nil {
		t.Error("Reserve with an existing player session id succeeded")
	}
	eq(t, "count", getGS(t, s, "gsess-1").CurrentPlayerSessionCount, int32(3))
	eq(t, "player sessions", listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-1"}), first)
	eq(t, "clashing session unchanged",
		must(t, s, func(tx store.Tx) (model.PlayerSession, error) { return tx.GetPlayerSession(first[1].ID) }), first[1])
}

// testReserveSeesPut: the count that Put writes is the count Reserve checks
// and increments, in both directions.
func testReserveSeesPut(t *testing.T, s store.Store) {
	g := gameSession("gsess-1", "fleet-1", model.GameSessionActivating, at(0))
	g.MaximumPlayerSessionCount = 10
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(g) })
	_, err := s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-x", 1))
	isErr(t, "Reserve while ACTIVATING", err, store.ErrGameSessionNotActive)

	g.Status, g.CurrentPlayerSessionCount = model.GameSessionActive, 8
	update(t, s, func(tx store.Tx) error { return tx.PutGameSession(g) })
	_, err = s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-a", 3))
	isErr(t, "Reserve 3 at 8/10", err, store.ErrGameSessionFull)
	got, err := s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-b", 2))
	if err != nil {
		t.Fatalf("Reserve 2 at 8/10: %v", err)
	}
	eq(t, "count after Reserve", got.CurrentPlayerSessionCount, int32(10))

	// Slots freed by Put (players left) can be reserved again; the rest of
	// the record as Put wrote it comes back from Reserve.
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGameSession("gsess-1")
		if err != nil {
			return err
		}
		if g.CurrentPlayerSessionCount != 10 {
			return fmt.Errorf("Update sees count %d, want 10", g.CurrentPlayerSessionCount)
		}
		g.CurrentPlayerSessionCount = 7
		g.Name = "renamed"
		return tx.PutGameSession(g)
	})
	got, err = s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-c", 3))
	if err != nil {
		t.Fatalf("Reserve 3 at 7/10: %v", err)
	}
	want := g
	want.Name, want.CurrentPlayerSessionCount = "renamed", 10
	eq(t, "returned after Put and Reserve", got, want)

	g = getGS(t, s, "gsess-1")
	g.MaximumPlayerSessionCount = 11
	update(t, s, func(tx store.Tx) error { return tx.PutGameSession(g) })
	if _, err := s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-d", 1)); err != nil {
		t.Errorf("Reserve after raising the maximum: %v", err)
	}
	g = getGS(t, s, "gsess-1")
	g.PlayerSessionCreationPolicy, g.MaximumPlayerSessionCount = model.DenyAll, 20
	update(t, s, func(tx store.Tx) error { return tx.PutGameSession(g) })
	_, err = s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", "psess-e", 1))
	isErr(t, "Reserve after DENY_ALL", err, store.ErrNotAccepting)
}

// raceReserve has many goroutines each reserve `each` slots on one session
// with room for maxPlayers players, and checks that exactly the ones that fit got in.
func raceReserve(t *testing.T, s store.Store, goroutines, each int, maxPlayers int32) {
	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(activeSession("gsess-1", 0, maxPlayers)) })
	var ok, full, other int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range goroutines {
		wg.Go(func() {
			<-start
			_, err := s.ReservePlayerSessions(t.Context(), "gsess-1", players("gsess-1", fmt.Sprintf("psess-%03d", i), each))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrGameSessionFull):
				full++
			default:
				other++
				t.Errorf("Reserve: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	fit := int(maxPlayers) / each
	if ok != fit || full != goroutines-fit || other != 0 {
		t.Errorf("%d reservations of %d on %d slots: %d succeeded, %d full, %d other errors; want %d, %d, 0",
			goroutines, each, maxPlayers, ok, full, other, fit, goroutines-fit)
	}
	eq(t, "count", getGS(t, s, "gsess-1").CurrentPlayerSessionCount, int32(fit*each))
	reserved := listPS(t, s, store.PlayerSessionFilter{GameSessionID: "gsess-1",
		Statuses: []model.PlayerSessionStatus{model.PlayerSessionReserved}})
	eq(t, "RESERVED player sessions", len(reserved), fit*each)
}

func testReserveRace(t *testing.T, s store.Store) {
	raceReserve(t, s, 500, 1, model.MaxPlayersPerGameSession)
}

func testReserveRaceMulti(t *testing.T, s store.Store) {
	raceReserve(t, s, 100, 3, model.MaxPlayersPerGameSession) // 66 fit, 2 slots stay free
}
