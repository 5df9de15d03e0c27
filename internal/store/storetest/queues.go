package storetest

import (
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Fixtures and tests for queues, placements and the outbox. Like the other
// fixtures, every field is non-zero so that a field the backend forgets to
// keep fails a round trip.

func queue(name string, created time.Time) model.Queue {
	return model.Queue{
		Name:             name,
		Arn:              "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/" + name,
		CreationTime:     created,
		TimeoutInSeconds: 42,
		PlayerLatencyPolicies: []model.PlayerLatencyPolicy{
			{MaxLatencyMilliseconds: 50, DurationSeconds: 10},
			{MaxLatencyMilliseconds: 200},
		},
		Destinations:     []string{"arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-1", "arn:aws:gamelift:us-west-2::alias/alias-1"},
		AllowedLocations: []string{"custom-a", "custom-b"},
		PriorityConfiguration: &model.PriorityConfiguration{
			PriorityOrder: []string{model.PriorityLocation, model.PriorityCost},
			LocationOrder: []string{"custom-b", "custom-a"},
		},
		CustomEventData:    "event data of " + name + " ✓\n\"quoted\"",
		NotificationTarget: "arn:aws:sns:us-west-2:123456789012:placements",
		Tags:               map[string]string{"team": "red"},
	}
}

func placement(id, queueName string, status model.PlacementStatus, started time.Time) model.Placement {
	return model.Placement{
		ID:                        id,
		QueueName:                 queueName,
		QueueArn:                  "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/" + queueName,
		Status:                    status,
		Deadline:                  started.Add(10 * time.Minute),
		GameProperties:            []model.GameProperty{{Key: "mode", Value: "duel"}},
		MaximumPlayerSessionCount: 8,
		GameSessionName:           "session of " + id,
		PlayerLatencies: []model.PlayerLatency{
			{PlayerID: "p1", Region: "custom-a", Milliseconds: 12.5},
			{PlayerID: "p2", Region: "custom-b", Milliseconds: 80},
		},
		DesiredPlayerSessions: []model.DesiredPlayerSession{{PlayerID: "p1", PlayerData: "data of p1"}, {PlayerID: "p2"}},
		GameSessionData:       `{"seed":7}`,
		MatchmakerData:        `{"matchId":"m-2"}`,
		PriorityConfigurationOverride: &model.PriorityConfigurationOverride{
			LocationOrder:             []string{"custom-b"},
			PlacementFallbackStrategy: model.FallbackNone,
		},
		StartTime:            started,
		EndTime:              started.Add(3*time.Second + 5*time.Millisecond),
		GameSessionID:        "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-of-" + id,
		GameSessionRegion:    "custom-a",
		IPAddress:            "10.0.0.10",
		DNSName:              "placed.example.internal",
		Port:                 7779,
		PlacedPlayerSessions: []model.PlacedPlayerSession{{PlayerID: "p1", PlayerSessionID: "psess-1"}},
		Attempts:             2,
	}
}

func outboxMessage(id string, due time.Time) model.OutboxMessage {
	return model.OutboxMessage{
		ID:           id,
		EventID:      "event-of-" + id,
		Target:       "arn:aws:sns:us-west-2:123456789012:placements",
		URL:          "https://hooks.example/" + id,
		Body:         `{"detail-type":"GameLift Queue Placement Event","id":"` + id + `"}`,
		CreationTime: due.Add(-time.Second),
		Attempts:     3,
		NextAttempt:  due,
		LastError:    "503 Service Unavailable",
	}
}

func testQueues(t *testing.T, s store.Store) {
	q := queue("q-1", at(0))
	checkAllFieldsSet(t, q)
	checkAllFieldsSet(t, q.PlayerLatencyPolicies[0])
	checkAllFieldsSet(t, *q.PriorityConfiguration)
	getQ := func(name string) func(tx store.Tx) (model.Queue, error) {
		return func(tx store.Tx) (model.Queue, error) { return tx.GetQueue(name) }
	}
	_, err := get(t, s, getQ("q-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.InsertQueue(q) })
	eq(t, "Get", must(t, s, getQ("q-1")), q)

	dup := q
	dup.TimeoutInSeconds = 1
	isErr(t, "Insert existing", s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertQueue(dup) }), store.ErrConflict)
	eq(t, "after conflict", must(t, s, getQ("q-1")), q)

	// Put replaces every field, including clearing optional ones.
	r := q
	r.PlayerLatencyPolicies, r.Destinations, r.AllowedLocations, r.PriorityConfiguration = nil, nil, nil, nil
	r.CustomEventData, r.NotificationTarget, r.Tags, r.TimeoutInSeconds = "", "", nil, 600
	update(t, s, func(tx store.Tx) error { return tx.PutQueue(r) })
	eq(t, "Get after Put", must(t, s, getQ("q-1")), r)

	a, z := queue("q-a", at(0)), queue("q-z", at(-1))
	update(t, s, func(tx store.Tx) error { return firstErr(tx.PutQueue(a), tx.InsertQueue(z)) })
	eq(t, "List (creation time, then name)", must(t, s, func(tx store.Tx) ([]model.Queue, error) { return tx.ListQueues() }),
		[]model.Queue{z, r, a})

	update(t, s, func(tx store.Tx) error { return tx.DeleteQueue("q-1") })
	_, err = get(t, s, getQ("q-1"))
	isErr(t, "Get deleted", err, store.ErrNotFound)
	isErr(t, "Delete missing", s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteQueue("q-1") }), store.ErrNotFound)
}

func testPlacements(t *testing.T, s store.Store) {
	p := placement("pl-1", "q-1", model.PlacementFulfilled, at(0))
	checkAllFieldsSet(t, p)
	checkAllFieldsSet(t, p.PlayerLatencies[0])
	checkAllFieldsSet(t, p.DesiredPlayerSessions[0])
	checkAllFieldsSet(t, p.PlacedPlayerSessions[0])
	checkAllFieldsSet(t, *p.PriorityConfigurationOverride)
	getP := func(id string) func(tx store.Tx) (model.Placement, error) {
		return func(tx store.Tx) (model.Placement, error) { return tx.GetPlacement(id) }
	}
	_, err := get(t, s, getP("pl-1"))
	isErr(t, "Get missing", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.InsertPlacement(p) })
	eq(t, "Get", must(t, s, getP("pl-1")), p)

	dup := placement("pl-1", "q-2", model.PlacementPending, at(5))
	isErr(t, "Insert existing", s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertPlacement(dup) }), store.ErrConflict)
	eq(t, "after conflict", must(t, s, getP("pl-1")), p)

	// Put changes every indexed field; lookups must follow.
	q := p
	q.QueueName, q.Status, q.GameSessionID, q.StartTime = "q-2", model.PlacementPending, "gs-2", at(-3)
	q.EndTime, q.PlacedPlayerSessions, q.PriorityConfigurationOverride = time.Time{}, nil, nil
	update(t, s, func(tx store.Tx) error { return tx.PutPlacement(q) })
	eq(t, "Get after Put", must(t, s, getP("pl-1")), q)
	list := func(f store.PlacementFilter) []model.Placement {
		return must(t, s, func(tx store.Tx) ([]model.Placement, error) { return tx.ListPlacements(f) })
	}
	eq(t, "List by new keys", list(store.PlacementFilter{QueueName: "q-2", GameSessionID: "gs-2",
		Statuses: []model.PlacementStatus{model.PlacementPending}}), []model.Placement{q})
	eqList(t, "old game session no longer matches", list(store.PlacementFilter{GameSessionID: p.GameSessionID}), nil)
	eqList(t, "old status no longer matches", list(store.PlacementFilter{Statuses: []model.PlacementStatus{model.PlacementFulfilled}}), nil)

	// Order: start time, then id; a placement without a game session does not
	// match a game session filter.
	a := placement("pl-0", "q-1", model.PlacementPending, at(-3)) // ties with q on time
	b := placement("pl-2", "q-1", model.PlacementTimedOut, at(-9))
	b.GameSessionID = ""
	update(t, s, func(tx store.Tx) error { return firstErr(tx.PutPlacement(a), tx.InsertPlacement(b)) })
	eq(t, "List all", list(store.PlacementFilter{}), []model.Placement{b, a, q})
	eq(t, "List by statuses", list(store.PlacementFilter{Statuses: []model.PlacementStatus{model.PlacementPending, model.PlacementTimedOut}}),
		[]model.Placement{b, a, q})
	eq(t, "List by queue", list(store.PlacementFilter{QueueName: "q-1"}), []model.Placement{b, a})
	eqList(t, "List by unknown game session", list(store.PlacementFilter{GameSessionID: "nope"}), nil)
}

func testOutbox(t *testing.T, s store.Store) {
	m := outboxMessage("msg-1", at(0))
	checkAllFieldsSet(t, m)
	list := func(dueBy time.Time, limit int) []model.OutboxMessage {
		return must(t, s, func(tx store.Tx) ([]model.OutboxMessage, error) { return tx.ListOutbox(dueBy, limit) })
	}
	eqList(t, "List empty", list(noTime, 0), nil)
	update(t, s, func(tx store.Tx) error { return tx.InsertOutbox(m) })
	eq(t, "List", list(noTime, 0), []model.OutboxMessage{m})

	dup := m
	dup.Body = "other"
	isErr(t, "Insert existing", s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertOutbox(dup) }), store.ErrConflict)

	// Put moves the due time; the order follows.
	n := outboxMessage("msg-0", at(0)) // ties with m on time, sorts first by id
	o := outboxMessage("msg-2", at(-5))
	update(t, s, func(tx store.Tx) error { return firstErr(tx.InsertOutbox(n), tx.PutOutbox(o)) })
	eq(t, "List due order", list(noTime, 0), []model.OutboxMessage{o, n, m})
	eq(t, "List limit", list(noTime, 2), []model.OutboxMessage{o, n})
	eq(t, "List due by", list(at(-1), 0), []model.OutboxMessage{o})
	eq(t, "List due by, inclusive", list(at(0), 0), []model.OutboxMessage{o, n, m})

	o2 := o
	o2.NextAttempt, o2.Attempts, o2.LastError, o2.URL = at(10), 4, "timeout", ""
	update(t, s, func(tx store.Tx) error { return tx.PutOutbox(o2) })
	eq(t, "List after Put", list(noTime, 0), []model.OutboxMessage{n, m, o2})

	update(t, s, func(tx store.Tx) error { return tx.DeleteOutbox("msg-0") })
	eq(t, "List after Delete", list(noTime, 0), []model.OutboxMessage{m, o2})
	isErr(t, "Delete missing", s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteOutbox("msg-0") }), store.ErrNotFound)
}

// testQueueTimesUTC is testTimesUTC for the records of this file.
func testQueueTimesUTC(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC-03:00", -3*3600)
	q := queue("q-z", at(1))
	p := placement("pl-z", "q-z", model.PlacementPending, at(2))
	m := outboxMessage("msg-z", at(3))
	update(t, s, func(tx store.Tx) error {
		return firstErr(tx.InsertQueue(inZone(q, zone)), tx.InsertPlacement(inZone(p, zone)), tx.InsertOutbox(inZone(m, zone)))
	})
	gq := must(t, s, func(tx store.Tx) (model.Queue, error) { return tx.GetQueue("q-z") })
	gp := must(t, s, func(tx store.Tx) (model.Placement, error) { return tx.GetPlacement("pl-z") })
	gm := must(t, s, func(tx store.Tx) ([]model.OutboxMessage, error) { return tx.ListOutbox(noTime, 0) })
	eq(t, "queue", gq, q)
	eq(t, "placement", gp, p)
	eq(t, "outbox", gm, []model.OutboxMessage{m})
	checkUTC(t, gq)
	checkUTC(t, gp)
	if len(gm) == 1 {
		checkUTC(t, gm[0])
	}
}
