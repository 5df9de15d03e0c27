package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// The list tests store a varied population, then compare each filter's result
// with a plain Go reference (filter, then the documented order). Records are
// inserted in shuffled order, and creation times repeat, so that ordering by
// insertion or by time alone would fail.

func shuffled[T any](rng *rand.Rand, vs []T) []T {
	out := slices.Clone(vs)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("shuffle seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed))
}

func matchAny[S comparable](want []S, v S) bool { return len(want) == 0 || slices.Contains(want, v) }

func matchStr(want, v string) bool { return want == "" || want == v }

func byTimeThenID[T any](when func(T) time.Time, id func(T) string) func(a, b T) int {
	return func(a, b T) int {
		if c := when(a).Compare(when(b)); c != 0 {
			return c
		}
		return strings.Compare(id(a), id(b))
	}
}

func reference[T any](all []T, keep func(T) bool, cmp func(a, b T) int) []T {
	var out []T
	for _, v := range all {
		if keep(v) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, cmp)
	return out
}

func testListProcesses(t *testing.T, s store.Store) {
	rng := newRand(t)
	var all []model.Process
	statuses := []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating, model.ProcessTerminated}
	n := 0
	for _, fl := range []string{"fleet-1", "fleet-2"} {
		for _, host := range []string{"host-a", "host-b"} {
			for i, st := range statuses {
				for k := range 2 {
					n++
					// ids deliberately not in time order; pairs share a time.
					all = append(all, process(fmt.Sprintf("proc-%02d", 40-n), fl, host, st, at((i*7+k*3)%5)))
				}
			}
		}
	}
	update(t, s, func(tx store.Tx) error {
		for _, p := range shuffled(rng, all) {
			if err := tx.PutProcess(p); err != nil {
				return err
			}
		}
		return nil
	})
	cmp := byTimeThenID(func(p model.Process) time.Time { return p.ActivatedAt }, func(p model.Process) string { return p.ID })
	filters := []store.ProcessFilter{
		{},
		{FleetID: "fleet-1"},
		{ComputeName: "host-b"},
		{FleetID: "fleet-2", ComputeName: "host-a"},
		{Statuses: []model.ProcessStatus{model.ProcessActive}},
		{Statuses: []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating}},
		{FleetID: "fleet-1", ComputeName: "host-a", Statuses: []model.ProcessStatus{model.ProcessTerminated}},
		{FleetID: "fleet-9"},
		{ProcessID: all[3].ID},
		{ProcessID: all[3].ID, FleetID: all[3].FleetID, Statuses: []model.ProcessStatus{all[3].Status}},
		{ProcessID: all[3].ID, FleetID: "fleet-9"},
	}
	for _, f := range filters {
		got := must(t, s, func(tx store.Tx) ([]model.Process, error) { return tx.ListProcesses(f) })
		want := reference(all, func(p model.Process) bool {
			return matchStr(f.ProcessID, p.ID) && matchStr(f.FleetID, p.FleetID) && matchStr(f.ComputeName, p.ComputeName) && matchAny(f.Statuses, p.Status)
		}, cmp)
		eqList(t, fmt.Sprintf("ListProcesses(%+v)", f), got, want)
	}
}

func testListGameSessions(t *testing.T, s store.Store) {
	rng := newRand(t)
	var all []model.GameSession
	statuses := []model.GameSessionStatus{model.GameSessionActivating, model.GameSessionActive,
		model.GameSessionTerminating, model.GameSessionTerminated, model.GameSessionError}
	n := 0
	for _, fl := range []string{"fleet-1", "fleet-2"} {
		for _, loc := range []string{"custom-a", "custom-b"} {
			for i, st := range statuses {
				n++
				g := gameSession(fmt.Sprintf("gsess-%02d", 50-n), fl, st, at((n*7)%6))
				g.Location = loc
				g.CreatorID = []string{"", "creator-1", "creator-2"}[n%3]
				g.IdempotencyToken = ""
				if i%2 == 0 {
					g.IdempotencyToken = fmt.Sprintf("token-%d", n)
				}
				g.CurrentPlayerSessionCount = int32(n % 4)
				all = append(all, g)
			}
		}
	}
	update(t, s, func(tx store.Tx) error {
		for _, g := range shuffled(rng, all) {
			if err := tx.InsertGameSession(g); err != nil {
				return err
			}
		}
		return nil
	})
	cmp := byTimeThenID(func(g model.GameSession) time.Time { return g.CreationTime }, func(g model.GameSession) string { return g.ID })
	active := []model.GameSessionStatus{model.GameSessionActive}
	filters := []store.GameSessionFilter{
		{},
		{FleetID: "fleet-2"},
		{Location: "custom-a"},
		{FleetID: "fleet-1", Location: "custom-b"},
		{Statuses: active},
		{Statuses: []model.GameSessionStatus{model.GameSessionActivating, model.GameSessionTerminated}},
		{FleetID: "fleet-1", Location: "custom-a", Statuses: active},
		{IdempotencyToken: "token-3"},
		{IdempotencyToken: "token-3", FleetID: "fleet-2"},
		{IdempotencyToken: "no-such-token"},
		{CreatorID: "creator-1"},
		{CreatorID: "creator-2", Statuses: active},
		{CreatedAfter: at(3)}, // inclusive: sessions created exactly at(3) are kept
		{CreatedAfter: at(3).Add(-time.Millisecond)},
		{CreatedAfter: at(100)},
		{CreatorID: "creator-1", CreatedAfter: at(2), FleetID: "fleet-1"},
	}
	for _, f := range filters {
		got := must(t, s, func(tx store.Tx) ([]model.GameSession, error) { return tx.ListGameSessions(f) })
		want := reference(all, func(g model.GameSession) bool {
			return matchStr(f.FleetID, g.FleetID) && matchStr(f.Location, g.Location) &&
				matchAny(f.Statuses, g.Status) && matchStr(f.IdempotencyToken, g.IdempotencyToken) &&
				matchStr(f.CreatorID, g.CreatorID) && (f.CreatedAfter.IsZero() || !g.CreationTime.Before(f.CreatedAfter))
		}, cmp)
		eqList(t, fmt.Sprintf("ListGameSessions(%+v)", f), got, want)
	}
}

func testListPlayerSessions(t *testing.T, s store.Store) {
	rng := newRand(t)
	var all []model.PlayerSession
	statuses := []model.PlayerSessionStatus{model.PlayerSessionReserved, model.PlayerSessionActive,
		model.PlayerSessionCompleted, model.PlayerSessionTimedOut}
	n := 0
	for _, gs := range []string{"gsess-1", "gsess-2", "gsess-3"} {
		for _, pl := range []string{"player-1", "player-2"} {
			for _, st := range statuses {
				n++
				all = append(all, playerSession(fmt.Sprintf("psess-%02d", 60-n), gs, pl, st, at((n*5)%7)))
			}
		}
	}
	update(t, s, func(tx store.Tx) error {
		for _, p := range shuffled(rng, all) {
			if err := tx.PutPlayerSession(p); err != nil {
				return err
			}
		}
		return nil
	})
	cmp := byTimeThenID(func(p model.PlayerSession) time.Time { return p.CreationTime }, func(p model.PlayerSession) string { return p.ID })
	filters := []store.PlayerSessionFilter{
		{},
		{GameSessionID: "gsess-2"},
		{PlayerID: "player-1"},
		{GameSessionID: "gsess-3", PlayerID: "player-2"},
		{Statuses: []model.PlayerSessionStatus{model.PlayerSessionReserved}},
		{Statuses: []model.PlayerSessionStatus{model.PlayerSessionReserved, model.PlayerSessionActive}},
		{GameSessionID: "gsess-1", Statuses: []model.PlayerSessionStatus{model.PlayerSessionTimedOut}},
		{PlayerID: "player-9"},
	}
	for _, f := range filters {
		got := must(t, s, func(tx store.Tx) ([]model.PlayerSession, error) { return tx.ListPlayerSessions(f) })
		want := reference(all, func(p model.PlayerSession) bool {
			return matchStr(f.GameSessionID, p.GameSessionID) && matchStr(f.PlayerID, p.PlayerID) && matchAny(f.Statuses, p.Status)
		}, cmp)
		eqList(t, fmt.Sprintf("ListPlayerSessions(%+v)", f), got, want)
	}
}

func testListEvents(t *testing.T, s store.Store) {
	rng := newRand(t)
	var mine, others []model.Event
	for i := range 10 {
		mine = append(mine, event(fmt.Sprintf("ev-%02d", 20-i), "fleet-1", at(i*100)))
		others = append(others, event(fmt.Sprintf("other-%02d", i), "fleet-2", at(i*100+50)))
	}
	update(t, s, func(tx store.Tx) error {
		for _, e := range shuffled(rng, append(slices.Clone(mine), others...)) {
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	// newest first: mine[hi-1], …, mine[lo]
	span := func(lo, hi int) []model.Event {
		var out []model.Event
		for i := hi - 1; i >= lo; i-- {
			out = append(out, mine[i])
		}
		return out
	}
	cases := []struct {
		name       string
		start, end time.Time
		want       []model.Event
	}{
		{"open", noTime, noTime, span(0, 10)},
		{"start is inclusive", at(300), noTime, span(3, 10)},
		{"end is exclusive", noTime, at(700), span(0, 7)},
		{"window", at(300), at(700), span(3, 7)},
		{"window between events", at(301), at(699), span(4, 7)},
		{"empty window", at(300), at(300), nil},
		{"before all", noTime, at(0), nil},
		{"after all", at(901), noTime, nil},
	}
	for _, c := range cases {
		got := must(t, s, func(tx store.Tx) ([]model.Event, error) { return tx.ListEvents("fleet-1", c.start, c.end) })
		eqList(t, "ListEvents "+c.name, got, c.want)
	}
	eqList(t, "ListEvents unknown fleet",
		must(t, s, func(tx store.Tx) ([]model.Event, error) { return tx.ListEvents("fleet-9", noTime, noTime) }), nil)
}
