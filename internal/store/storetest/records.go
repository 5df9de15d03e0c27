package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

var noTime time.Time

// eqList is eq for lists, treating nil and empty as equal.
func eqList[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	eq(t, what, got, want)
}

func testLocations(t *testing.T, s store.Store) {
	a := location("custom-a", at(0))
	checkAllFieldsSet(t, a)

	_, err := get(t, s, func(tx store.Tx) (model.Location, error) { return tx.GetLocation("custom-a") })
	isErr(t, "Get missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.InsertLocation(a) })
	eq(t, "Get", must(t, s, func(tx store.Tx) (model.Location, error) { return tx.GetLocation("custom-a") }), a)

	dup := a
	dup.Arn = "changed"
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertLocation(dup) })
	isErr(t, "Insert existing", err, store.ErrConflict)
	eq(t, "after conflict", must(t, s, func(tx store.Tx) (model.Location, error) { return tx.GetLocation("custom-a") }), a)

	c, b := location("custom-c", at(-5)), location("custom-b", at(5))
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertLocation(c); err != nil {
			return err
		}
		return tx.InsertLocation(b)
	})
	eq(t, "List (by name)", must(t, s, func(tx store.Tx) ([]model.Location, error) { return tx.ListLocations() }),
		[]model.Location{a, b, c})

	update(t, s, func(tx store.Tx) error { return tx.DeleteLocation("custom-b") })
	_, err = get(t, s, func(tx store.Tx) (model.Location, error) { return tx.GetLocation("custom-b") })
	isErr(t, "Get deleted", err, store.ErrNotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteLocation("custom-b") })
	isErr(t, "Delete missing", err, store.ErrNotFound)
	eq(t, "List after delete", must(t, s, func(tx store.Tx) ([]model.Location, error) { return tx.ListLocations() }),
		[]model.Location{a, c})
}

func testFleets(t *testing.T, s store.Store) {
	f := fleet("fleet-1", at(0))
	checkAllFieldsSet(t, f)
	checkAllFieldsSet(t, *f.ResourceCreationLimitPolicy)
	getF := func(id string) func(tx store.Tx) (model.Fleet, error) {
		return func(tx store.Tx) (model.Fleet, error) { return tx.GetFleet(id) }
	}

	_, err := get(t, s, getF("fleet-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.InsertFleet(f) })
	eq(t, "Get", must(t, s, getF("fleet-1")), f)

	dup := f
	dup.Name = "other"
	isErr(t, "Insert existing", s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertFleet(dup) }), store.ErrConflict)
	eq(t, "after conflict", must(t, s, getF("fleet-1")), f)

	// Put replaces every field, including clearing optional ones.
	g := fleet("fleet-1", at(1))
	g.Name, g.Description, g.Status = "renamed", "", model.FleetDeleting
	g.TerminationTime = time.Time{}
	g.Locations = []string{"custom-z"}
	g.ResourceCreationLimitPolicy = nil
	g.MetricGroups = nil
	g.Tags = nil
	update(t, s, func(tx store.Tx) error { return tx.PutFleet(g) })
	eq(t, "Get after Put", must(t, s, getF("fleet-1")), g)

	// Put of a new id inserts.
	h := fleet("fleet-0", at(1))
	update(t, s, func(tx store.Tx) error { return tx.PutFleet(h) })
	eq(t, "Get after Put new", must(t, s, getF("fleet-0")), h)

	i := fleet("fleet-2", at(-1))
	update(t, s, func(tx store.Tx) error { return tx.InsertFleet(i) })
	// Creation time, then id: h and g tie on time.
	eq(t, "List", must(t, s, func(tx store.Tx) ([]model.Fleet, error) { return tx.ListFleets() }),
		[]model.Fleet{i, h, g})
}

func testComputes(t *testing.T, s store.Store) {
	c := compute("fleet-1", "host-b", at(0))
	checkAllFieldsSet(t, c)
	getC := func(fleetID, name string) func(tx store.Tx) (model.Compute, error) {
		return func(tx store.Tx) (model.Compute, error) { return tx.GetCompute(fleetID, name) }
	}

	_, err := get(t, s, getC("fleet-1", "host-b"))
	isErr(t, "Get missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.PutCompute(c) })
	eq(t, "Get", must(t, s, getC("fleet-1", "host-b")), c)

	// The key is (fleet, name): the same name in another fleet is another compute.
	other := compute("fleet-2", "host-b", at(0))
	other.IPAddress = "10.9.9.9"
	update(t, s, func(tx store.Tx) error { return tx.PutCompute(other) })
	eq(t, "Get other fleet", must(t, s, getC("fleet-2", "host-b")), other)
	eq(t, "Get first fleet", must(t, s, getC("fleet-1", "host-b")), c)
	_, err = get(t, s, getC("fleet-1", "host-x"))
	isErr(t, "Get missing name", err, store.ErrNotFound)

	c2 := c
	c2.Status, c2.AuthToken, c2.PrevAuthToken, c2.PrevAuthTokenExpiry = model.ComputeTerminating, "new", "", time.Time{}
	update(t, s, func(tx store.Tx) error { return tx.PutCompute(c2) })
	eq(t, "Get after Put", must(t, s, getC("fleet-1", "host-b")), c2)

	a := compute("fleet-1", "host-a", at(0))  // ties with c2 on time, sorts first by name
	z := compute("fleet-1", "host-z", at(-1)) // earliest
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutCompute(a); err != nil {
			return err
		}
		return tx.PutCompute(z)
	})
	eq(t, "List fleet-1", must(t, s, func(tx store.Tx) ([]model.Compute, error) { return tx.ListComputes("fleet-1") }),
		[]model.Compute{z, a, c2})
	eq(t, "List fleet-2", must(t, s, func(tx store.Tx) ([]model.Compute, error) { return tx.ListComputes("fleet-2") }),
		[]model.Compute{other})
	eqList(t, "List unknown fleet", must(t, s, func(tx store.Tx) ([]model.Compute, error) { return tx.ListComputes("fleet-9") }),
		nil)

	update(t, s, func(tx store.Tx) error { return tx.DeleteCompute("fleet-1", "host-b") })
	_, err = get(t, s, getC("fleet-1", "host-b"))
	isErr(t, "Get deleted", err, store.ErrNotFound)
	eq(t, "other fleet untouched", must(t, s, getC("fleet-2", "host-b")), other)
	isErr(t, "Delete missing",
		s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteCompute("fleet-1", "host-b") }), store.ErrNotFound)
}

func testAliases(t *testing.T, s store.Store) {
	a := alias("alias-1", at(0))
	checkAllFieldsSet(t, a)
	getA := func(id string) func(tx store.Tx) (model.Alias, error) {
		return func(tx store.Tx) (model.Alias, error) { return tx.GetAlias(id) }
	}

	_, err := get(t, s, getA("alias-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.InsertAlias(a) })
	eq(t, "Get", must(t, s, getA("alias-1")), a)

	dup := a
	dup.Name = "x"
	isErr(t, "Insert existing", s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertAlias(dup) }), store.ErrConflict)
	eq(t, "after conflict", must(t, s, getA("alias-1")), a)

	b := a
	b.RoutingType, b.FleetID, b.Message, b.Tags = model.RoutingSimple, "fleet-2", "", nil
	b.LastUpdatedTime = at(99)
	update(t, s, func(tx store.Tx) error { return tx.PutAlias(b) })
	eq(t, "Get after Put", must(t, s, getA("alias-1")), b)

	c := alias("alias-0", at(0)) // ties with b on time
	d := alias("alias-2", at(-7))
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutAlias(c); err != nil {
			return err
		}
		return tx.InsertAlias(d)
	})
	eq(t, "List", must(t, s, func(tx store.Tx) ([]model.Alias, error) { return tx.ListAliases() }),
		[]model.Alias{d, c, b})

	update(t, s, func(tx store.Tx) error { return tx.DeleteAlias("alias-0") })
	_, err = get(t, s, getA("alias-0"))
	isErr(t, "Get deleted", err, store.ErrNotFound)
	isErr(t, "Delete missing",
		s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteAlias("alias-0") }), store.ErrNotFound)
}

func testProcesses(t *testing.T, s store.Store) {
	p := process("proc-1", "fleet-1", "host-a", model.ProcessActive, at(0))
	checkAllFieldsSet(t, p)
	getP := func(id string) func(tx store.Tx) (model.Process, error) {
		return func(tx store.Tx) (model.Process, error) { return tx.GetProcess(id) }
	}
	_, err := get(t, s, getP("proc-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.PutProcess(p) })
	eq(t, "Get", must(t, s, getP("proc-1")), p)

	// Every indexed field changes too, so a backend's lookup columns must follow.
	q := p
	q.FleetID, q.ComputeName, q.Status, q.ActivatedAt = "fleet-2", "host-b", model.ProcessTerminated, at(5)
	q.Eligible, q.UnhealthyCount, q.GameSessionID, q.LogPaths = false, 0, "", nil
	update(t, s, func(tx store.Tx) error { return tx.PutProcess(q) })
	eq(t, "Get after Put", must(t, s, getP("proc-1")), q)
	eqList(t, "old fleet no longer lists it",
		must(t, s, func(tx store.Tx) ([]model.Process, error) {
			return tx.ListProcesses(store.ProcessFilter{FleetID: "fleet-1"})
		}), nil)
	eq(t, "new fleet lists it",
		must(t, s, func(tx store.Tx) ([]model.Process, error) {
			return tx.ListProcesses(store.ProcessFilter{FleetID: "fleet-2", ComputeName: "host-b",
				Statuses: []model.ProcessStatus{model.ProcessTerminated}})
		}), []model.Process{q})
}

func testGameSessions(t *testing.T, s store.Store) {
	g := gameSession("gsess-1", "fleet-1", model.GameSessionActivating, at(0))
	checkAllFieldsSet(t, g)
	checkAllFieldsSet(t, g.GameProperties[0])
	getG := func(id string) func(tx store.Tx) (model.GameSession, error) {
		return func(tx store.Tx) (model.GameSession, error) { return tx.GetGameSession(id) }
	}
	_, err := get(t, s, getG("gsess-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.InsertGameSession(g) })
	eq(t, "Get", must(t, s, getG("gsess-1")), g)

	dup := g
	dup.Name = "x"
	isErr(t, "Insert existing",
		s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertGameSession(dup) }), store.ErrConflict)
	eq(t, "after conflict", must(t, s, getG("gsess-1")), g)

	// Put changes every field, including the ones a backend may keep in
	// dedicated columns (status, policy, counts, lookup keys).
	h := g
	h.Status, h.PlayerSessionCreationPolicy = model.GameSessionActive, model.DenyAll
	h.CurrentPlayerSessionCount, h.MaximumPlayerSessionCount = 3, 7
	h.FleetID, h.Location, h.CreatorID, h.IdempotencyToken = "fleet-2", "custom-b", "creator-2", "token-2"
	h.CreationTime = at(9)
	h.GameProperties, h.StatusReason, h.TerminationTime = nil, "", time.Time{}
	update(t, s, func(tx store.Tx) error { return tx.PutGameSession(h) })
	eq(t, "Get after Put", must(t, s, getG("gsess-1")), h)
	eq(t, "List after Put", must(t, s, func(tx store.Tx) ([]model.GameSession, error) {
		return tx.ListGameSessions(store.GameSessionFilter{FleetID: "fleet-2", Location: "custom-b",
			Statuses: []model.GameSessionStatus{model.GameSessionActive}, IdempotencyToken: "token-2",
			CreatorID: "creator-2", CreatedAfter: at(9)})
	}), []model.GameSession{h})
	eqList(t, "old keys no longer match", must(t, s, func(tx store.Tx) ([]model.GameSession, error) {
		return tx.ListGameSessions(store.GameSessionFilter{IdempotencyToken: "token-gsess-1"})
	}), nil)

	// Put of a new id inserts.
	i := gameSession("gsess-2", "fleet-1", model.GameSessionActive, at(1))
	update(t, s, func(tx store.Tx) error { return tx.PutGameSession(i) })
	eq(t, "Get after Put new", must(t, s, getG("gsess-2")), i)
}

func testPlayerSessions(t *testing.T, s store.Store) {
	p := playerSession("psess-1", "gsess-1", "player-1", model.PlayerSessionReserved, at(0))
	checkAllFieldsSet(t, p)
	getP := func(id string) func(tx store.Tx) (model.PlayerSession, error) {
		return func(tx store.Tx) (model.PlayerSession, error) { return tx.GetPlayerSession(id) }
	}
	_, err := get(t, s, getP("psess-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.PutPlayerSession(p) })
	eq(t, "Get", must(t, s, getP("psess-1")), p)

	q := p
	q.Status, q.TerminationTime, q.PlayerData = model.PlayerSessionCompleted, at(50), ""
	q.GameSessionID, q.PlayerID, q.CreationTime = "gsess-2", "player-2", at(3)
	update(t, s, func(tx store.Tx) error { return tx.PutPlayerSession(q) })
	eq(t, "Get after Put", must(t, s, getP("psess-1")), q)
	eq(t, "List by new keys", must(t, s, func(tx store.Tx) ([]model.PlayerSession, error) {
		return tx.ListPlayerSessions(store.PlayerSessionFilter{GameSessionID: "gsess-2", PlayerID: "player-2",
			Statuses: []model.PlayerSessionStatus{model.PlayerSessionCompleted}})
	}), []model.PlayerSession{q})
	eqList(t, "old keys no longer match", must(t, s, func(tx store.Tx) ([]model.PlayerSession, error) {
		return tx.ListPlayerSessions(store.PlayerSessionFilter{GameSessionID: "gsess-1"})
	}), nil)
}

func testEvents(t *testing.T, s store.Store) {
	e := event("ev-1", "fleet-1", at(0))
	checkAllFieldsSet(t, e)
	update(t, s, func(tx store.Tx) error { return tx.InsertEvent(e) })
	dup := e
	dup.Message = "other"
	isErr(t, "Insert existing",
		s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertEvent(dup) }), store.ErrConflict)
	eq(t, "List", must(t, s, func(tx store.Tx) ([]model.Event, error) { return tx.ListEvents("fleet-1", noTime, noTime) }),
		[]model.Event{e})
}

// testTimesUTC writes every record with its times in another zone and expects
// them back as the same instants, in UTC.
func testTimesUTC(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	loc := location("custom-z", at(1))
	fl := fleet("fleet-z", at(2))
	co := compute("fleet-z", "host-z", at(3))
	al := alias("alias-z", at(4))
	pr := process("proc-z", "fleet-z", "host-z", model.ProcessActive, at(5))
	gs := gameSession("gsess-z", "fleet-z", model.GameSessionActive, at(6))
	ps := playerSession("psess-z", "gsess-z", "player-z", model.PlayerSessionActive, at(7))
	ev := event("ev-z", "fleet-z", at(8))
	update(t, s, func(tx store.Tx) error {
		return firstErr(
			tx.InsertLocation(inZone(loc, zone)),
			tx.InsertFleet(inZone(fl, zone)),
			tx.PutCompute(inZone(co, zone)),
			tx.InsertAlias(inZone(al, zone)),
			tx.PutProcess(inZone(pr, zone)),
			tx.InsertGameSession(inZone(gs, zone)),
			tx.PutPlayerSession(inZone(ps, zone)),
			tx.InsertEvent(inZone(ev, zone)),
		)
	})
	var got []any
	view(t, s, func(tx store.Tx) error {
		l, err1 := tx.GetLocation("custom-z")
		f, err2 := tx.GetFleet("fleet-z")
		c, err3 := tx.GetCompute("fleet-z", "host-z")
		a, err4 := tx.GetAlias("alias-z")
		p, err5 := tx.GetProcess("proc-z")
		g, err6 := tx.GetGameSession("gsess-z")
		q, err7 := tx.GetPlayerSession("psess-z")
		e, err8 := tx.ListEvents("fleet-z", noTime, noTime)
		got = []any{l, f, c, a, p, g, q, e}
		return firstErr(err1, err2, err3, err4, err5, err6, err7, err8)
	})
	want := []any{loc, fl, co, al, pr, gs, ps, []model.Event{ev}}
	for i := range want {
		eq(t, reflect.TypeOf(want[i]).String(), got[i], want[i])
		if e, ok := got[i].([]model.Event); ok && len(e) == 1 {
			checkUTC(t, e[0])
		} else if !ok {
			checkUTC(t, got[i])
		}
	}
}

// testCopies checks that records handed in or out share no memory with what
// the store keeps.
func testCopies(t *testing.T, s store.Store) {
	f := fleet("fleet-1", at(0))
	want := fleet("fleet-1", at(0))
	update(t, s, func(tx store.Tx) error { return tx.InsertFleet(f) })
	f.Tags["team"] = "changed after Insert"
	f.Locations[0] = "changed after Insert"
	f.ResourceCreationLimitPolicy.PolicyPeriodInMinutes = 99

	got := must(t, s, func(tx store.Tx) (model.Fleet, error) { return tx.GetFleet("fleet-1") })
	got.Tags["team"] = "changed after Get"
	got.Locations[0] = "changed after Get"
	got.ResourceCreationLimitPolicy.PolicyPeriodInMinutes = 98
	eq(t, "Get", must(t, s, func(tx store.Tx) (model.Fleet, error) { return tx.GetFleet("fleet-1") }), want)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
