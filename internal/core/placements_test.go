package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/core"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
	"github.com/openlift/openlift/internal/store/sqlite"
)

// Queues and placements on the core, with the fake clock: every timer (the
// queue timeout, the placer's retry, activation timeouts, the 60 s player
// session window) fires inside clk.Advance.

const topic = "arn:aws:sns:us-west-2:123456789012:placements"

type qenv struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	path   string
	st     *sqlite.Store
	svc    *core.Service
	fleets map[string]string // location → fleet id
	arns   map[string]string // location → fleet ARN
	procs  map[string]*qproc
	n      int
}

type qproc struct {
	rec  *recorder
	id   sdkmsg.Identity
	port int32
}

func newQEnv(t *testing.T) *qenv {
	t.Helper()
	q := &qenv{t: t, ctx: context.Background(), clk: clock.NewFake(t0), path: filepath.Join(t.TempDir(), "openlift.db"),
		fleets: map[string]string{}, arns: map[string]string{}, procs: map[string]*qproc{}}
	q.open()
	return q
}

func (q *qenv) open() {
	q.t.Helper()
	st, err := sqlite.Open(q.ctx, q.path, sqlite.Options{})
	if err != nil {
		q.t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: st, Clock: q.clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		q.t.Fatal(err)
	}
	if err := svc.Start(q.ctx); err != nil {
		q.t.Fatal(err)
	}
	q.svc, q.st = svc, st
	q.t.Cleanup(func() { svc.Close(); st.Close() })
}

// fleet creates a custom location and an Anywhere fleet in it with one compute.
func (q *qenv) fleet(loc, cost string) string {
	q.t.Helper()
	must(q.svc.CreateLocation(q.ctx, &shapes.CreateLocationInput{LocationName: &loc}))(q.t)
	in := &shapes.CreateFleetInput{Name: ptr("fleet-" + loc), ComputeType: "ANYWHERE", Locations: []shapes.LocationConfiguration{{Location: &loc}}}
	if cost != "" {
		in.AnywhereConfiguration = &shapes.AnywhereConfiguration{Cost: &cost}
	}
	f := must(q.svc.CreateFleet(q.ctx, in))(q.t)
	id := *f.FleetAttributes.FleetId
	q.fleets[loc], q.arns[loc] = id, *f.FleetAttributes.FleetArn
	must(q.svc.RegisterCompute(q.ctx, &shapes.RegisterComputeInput{FleetId: &id, ComputeName: ptr("host-" + loc), IpAddress: ptr("192.0.2.10"), Location: &loc}))(q.t)
	return id
}

// process brings up an eligible, connected server process in loc.
func (q *qenv) process(loc string) string {
	q.t.Helper()
	q.n++
	pid := fmt.Sprintf("proc-%s-%d", loc, q.n)
	id := sdkmsg.Identity{ProcessID: pid, FleetID: q.fleets[loc], ComputeName: "host-" + loc}
	r := &recorder{}
	q.svc.Attach(id, r)
	if err := q.svc.ActivateServerProcess(q.ctx, id, sdkmsg.ActivateServerProcess{Port: 7000 + q.n, SdkVersion: "5.6.0", SdkLanguage: "Go"}); err != nil {
		q.t.Fatal(err)
	}
	if err := q.svc.HeartbeatServerProcess(q.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		q.t.Fatal(err)
	}
	q.procs[pid] = &qproc{rec: r, id: id, port: int32(7000 + q.n)}
	return pid
}

// started returns the game session pushed to the process, or "".
func (q *qenv) started(pid string) string {
	if f, ok := q.procs[pid].rec.last().(sdkmsg.CreateGameSession); ok {
		return f.GameSessionId
	}
	return ""
}

// activate has the process activate the game session it was given.
func (q *qenv) activate(pid string) string {
	q.t.Helper()
	gs := q.started(pid)
	if gs == "" {
		q.t.Fatalf("process %s was given no game session", pid)
	}
	if err := q.svc.ActivateGameSession(q.ctx, q.procs[pid].id, sdkmsg.ActivateGameSession{GameSessionId: gs}); err != nil {
		q.t.Fatal(err)
	}
	return gs
}

func (q *qenv) queue(in *shapes.CreateGameSessionQueueInput) shapes.GameSessionQueue {
	q.t.Helper()
	return *must(q.svc.CreateGameSessionQueue(q.ctx, in))(q.t).GameSessionQueue
}

func (q *qenv) start(in *shapes.StartGameSessionPlacementInput) shapes.GameSessionPlacement {
	q.t.Helper()
	if in.MaximumPlayerSessionCount == nil {
		in.MaximumPlayerSessionCount = ptr(int32(4))
	}
	return *must(q.svc.StartGameSessionPlacement(q.ctx, in))(q.t).GameSessionPlacement
}

func (q *qenv) placement(id string) shapes.GameSessionPlacement {
	q.t.Helper()
	return *must(q.svc.DescribeGameSessionPlacement(q.ctx, &shapes.DescribeGameSessionPlacementInput{PlacementId: &id}))(q.t).GameSessionPlacement
}

// events decodes the placement events waiting in the outbox, oldest first.
func (q *qenv) events() []core.PlacementEvent {
	q.t.Helper()
	var msgs []model.OutboxMessage
	if err := q.st.View(q.ctx, func(tx store.Tx) error {
		var err error
		msgs, err = tx.ListOutbox(time.Time{}, 0)
		return err
	}); err != nil {
		q.t.Fatal(err)
	}
	var out []core.PlacementEvent
	for _, m := range msgs {
		var ev core.PlacementEvent
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
			q.t.Fatalf("outbox body %q: %v", m.Body, err)
		}
		if m.Target != topic && !strings.HasPrefix(m.Target, "http") {
			q.t.Errorf("outbox target %q", m.Target)
		}
		if m.EventID != ev.ID || m.URL != "" {
			q.t.Errorf("outbox message %+v: EventID/URL do not match event %s", m, ev.ID)
		}
		out = append(out, ev)
	}
	return out
}

// eventFor returns the one event of a placement (events queued at the same
// instant have no order among themselves).
func eventFor(t *testing.T, evs []core.PlacementEvent, placementID string) core.PlacementEvent {
	t.Helper()
	var found []core.PlacementEvent
	for _, ev := range evs {
		if ev.Detail.PlacementID == placementID {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d events for placement %s in %s", len(found), placementID, plJSON(evs))
	}
	return found[0]
}

func latencies(player string, ms map[string]float32) []shapes.PlayerLatency {
	var out []shapes.PlayerLatency
	locs := make([]string, 0, len(ms))
	for l := range ms {
		locs = append(locs, l)
	}
	slices.Sort(locs)
	for _, l := range locs {
		out = append(out, shapes.PlayerLatency{PlayerId: ptr(player), RegionIdentifier: ptr(l), LatencyInMilliseconds: ptr(ms[l])})
	}
	return out
}

// twoFleets sets up custom-east and custom-west, each with its own fleet, and
// a queue over both (east first).
func (q *qenv) twoFleets(timeout int32) {
	q.fleet("custom-east", "")
	q.fleet("custom-west", "")
	q.queue(&shapes.CreateGameSessionQueueInput{
		Name:               ptr("q"),
		TimeoutInSeconds:   &timeout,
		Destinations:       []shapes.GameSessionQueueDestination{{DestinationArn: ptr(q.arns["custom-east"])}, {DestinationArn: ptr(q.arns["custom-west"])}},
		NotificationTarget: ptr(topic),
		CustomEventData:    ptr("lobby-7"),
	})
}

func TestQueueLifecycle(t *testing.T) {
	q := newQEnv(t)
	q.fleet("custom-east", "")
	alias := must(q.svc.CreateAlias(q.ctx, &shapes.CreateAliasInput{Name: ptr("a"), RoutingStrategy: &shapes.RoutingStrategy{Type: "SIMPLE", FleetId: ptr(q.fleets["custom-east"])}}))(t).Alias
	in := &shapes.CreateGameSessionQueueInput{
		Name:                  ptr("main-queue"),
		TimeoutInSeconds:      ptr(int32(45)),
		PlayerLatencyPolicies: []shapes.PlayerLatencyPolicy{{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(50)), PolicyDurationSeconds: ptr(int32(10))}, {MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(100))}},
		Destinations:          []shapes.GameSessionQueueDestination{{DestinationArn: ptr(q.arns["custom-east"])}, {DestinationArn: alias.AliasArn}},
		FilterConfiguration:   &shapes.FilterConfiguration{AllowedLocations: []string{"custom-east"}},
		PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"LOCATION", "DESTINATION"}, LocationOrder: []string{"custom-east"}},
		CustomEventData:       ptr("custom data"),
		NotificationTarget:    ptr(topic),
		Tags:                  []shapes.Tag{{Key: ptr("team"), Value: ptr("blue")}},
	}
	got := q.queue(in)
	want := shapes.GameSessionQueue{
		Name: in.Name, GameSessionQueueArn: ptr("arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/main-queue"),
		TimeoutInSeconds: in.TimeoutInSeconds, PlayerLatencyPolicies: in.PlayerLatencyPolicies, Destinations: in.Destinations,
		FilterConfiguration: in.FilterConfiguration, PriorityConfiguration: in.PriorityConfiguration,
		CustomEventData: in.CustomEventData, NotificationTarget: in.NotificationTarget,
	}
	if plJSON(got) != plJSON(want) {
		t.Fatalf("CreateGameSessionQueue:\n got %s\nwant %s", plJSON(got), plJSON(want))
	}

	// Describe: by name, by ARN, unknown names left out, all.
	d := must(q.svc.DescribeGameSessionQueues(q.ctx, &shapes.DescribeGameSessionQueuesInput{Names: []string{"nope", *want.GameSessionQueueArn}}))(t)
	if len(d.GameSessionQueues) != 1 || plJSON(d.GameSessionQueues[0]) != plJSON(want) {
		t.Fatalf("Describe by ARN: %s", plJSON(d))
	}
	plain := q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("plain")})
	if *plain.TimeoutInSeconds != core.DefaultQueueTimeoutSeconds || plain.Destinations == nil || len(plain.Destinations) != 0 || plain.FilterConfiguration != nil {
		t.Fatalf("queue with defaults: %s", plJSON(plain))
	}
	d = must(q.svc.DescribeGameSessionQueues(q.ctx, &shapes.DescribeGameSessionQueuesInput{}))(t)
	if len(d.GameSessionQueues) != 2 || *d.GameSessionQueues[1].Name != "plain" || d.NextToken != nil {
		t.Fatalf("Describe all: %s", plJSON(d))
	}
	d = must(q.svc.DescribeGameSessionQueues(q.ctx, &shapes.DescribeGameSessionQueuesInput{Limit: ptr(int32(1))}))(t)
	if len(d.GameSessionQueues) != 1 || d.NextToken == nil {
		t.Fatalf("Describe page 1: %s", plJSON(d))
	}
	d = must(q.svc.DescribeGameSessionQueues(q.ctx, &shapes.DescribeGameSessionQueuesInput{Limit: ptr(int32(1)), NextToken: d.NextToken}))(t)
	if len(d.GameSessionQueues) != 1 || *d.GameSessionQueues[0].Name != "plain" || d.NextToken != nil {
		t.Fatalf("Describe page 2: %s", plJSON(d))
	}

	// Update changes what is given; lists given replace, empty lists clear.
	u := must(q.svc.UpdateGameSessionQueue(q.ctx, &shapes.UpdateGameSessionQueueInput{
		Name: want.GameSessionQueueArn, TimeoutInSeconds: ptr(int32(600)), PlayerLatencyPolicies: []shapes.PlayerLatencyPolicy{},
		NotificationTarget: ptr("https://hooks.example/placements"),
	}))(t).GameSessionQueue
	want.TimeoutInSeconds, want.PlayerLatencyPolicies, want.NotificationTarget = ptr(int32(600)), []shapes.PlayerLatencyPolicy{}, ptr("https://hooks.example/placements")
	if plJSON(u) != plJSON(want) {
		t.Fatalf("UpdateGameSessionQueue:\n got %s\nwant %s", plJSON(u), plJSON(want))
	}

	must(q.svc.DeleteGameSessionQueue(q.ctx, &shapes.DeleteGameSessionQueueInput{Name: ptr("main-queue")}))(t)
	if _, err := q.svc.DeleteGameSessionQueue(q.ctx, &shapes.DeleteGameSessionQueueInput{Name: ptr("main-queue")}); code(err) != apierr.NotFound {
		t.Fatalf("deleting again: %v", err)
	}
	if _, err := q.svc.UpdateGameSessionQueue(q.ctx, &shapes.UpdateGameSessionQueueInput{Name: ptr("main-queue")}); code(err) != apierr.NotFound {
		t.Fatalf("updating a deleted queue: %v", err)
	}
	d = must(q.svc.DescribeGameSessionQueues(q.ctx, &shapes.DescribeGameSessionQueuesInput{Names: []string{"main-queue"}}))(t)
	if d.GameSessionQueues == nil || len(d.GameSessionQueues) != 0 {
		t.Fatalf("Describe deleted: %s", plJSON(d))
	}
}

func TestQueueValidation(t *testing.T) {
	q := newQEnv(t)
	q.fleet("custom-east", "")
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("taken")})
	dest := func(arn string) []shapes.GameSessionQueueDestination {
		return []shapes.GameSessionQueueDestination{{DestinationArn: &arn}}
	}
	cases := []struct {
		name string
		in   shapes.CreateGameSessionQueueInput
		want apierr.Code
	}{
		{"no name", shapes.CreateGameSessionQueueInput{}, apierr.InvalidRequest},
		{"bad name", shapes.CreateGameSessionQueueInput{Name: ptr("no spaces")}, apierr.InvalidRequest},
		{"long name", shapes.CreateGameSessionQueueInput{Name: ptr(strings.Repeat("a", 129))}, apierr.InvalidRequest},
		{"taken name", shapes.CreateGameSessionQueueInput{Name: ptr("taken")}, apierr.InvalidRequest},
		{"timeout too short", shapes.CreateGameSessionQueueInput{Name: ptr("a"), TimeoutInSeconds: ptr(int32(9))}, apierr.InvalidRequest},
		{"timeout too long", shapes.CreateGameSessionQueueInput{Name: ptr("a"), TimeoutInSeconds: ptr(int32(601))}, apierr.InvalidRequest},
		{"fleet id, not ARN", shapes.CreateGameSessionQueueInput{Name: ptr("a"), Destinations: dest(q.fleets["custom-east"])}, apierr.InvalidRequest},
		{"not a fleet ARN", shapes.CreateGameSessionQueueInput{Name: ptr("a"), Destinations: dest("arn:aws:gamelift:us-west-2::build/build-1")}, apierr.InvalidRequest},
		{"unknown fleet", shapes.CreateGameSessionQueueInput{Name: ptr("a"), Destinations: dest("arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-nope")}, apierr.NotFound},
		{"unknown alias", shapes.CreateGameSessionQueueInput{Name: ptr("a"), Destinations: dest("arn:aws:gamelift:us-west-2::alias/alias-nope")}, apierr.NotFound},
		{"policy without max", shapes.CreateGameSessionQueueInput{Name: ptr("a"), PlayerLatencyPolicies: []shapes.PlayerLatencyPolicy{{PolicyDurationSeconds: ptr(int32(5))}}}, apierr.InvalidRequest},
		{"negative policy", shapes.CreateGameSessionQueueInput{Name: ptr("a"), PlayerLatencyPolicies: []shapes.PlayerLatencyPolicy{{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(-1))}}}, apierr.InvalidRequest},
		{"empty allowed locations", shapes.CreateGameSessionQueueInput{Name: ptr("a"), FilterConfiguration: &shapes.FilterConfiguration{AllowedLocations: []string{}}}, apierr.InvalidRequest},
		{"bad priority type", shapes.CreateGameSessionQueueInput{Name: ptr("a"), PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"SPEED"}}}, apierr.InvalidRequest},
		{"repeated priority type", shapes.CreateGameSessionQueueInput{Name: ptr("a"), PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"COST", "COST"}}}, apierr.InvalidRequest},
		{"five priority types", shapes.CreateGameSessionQueueInput{Name: ptr("a"), PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"COST", "LATENCY", "LOCATION", "DESTINATION", "COST"}}}, apierr.InvalidRequest},
		{"custom data too long", shapes.CreateGameSessionQueueInput{Name: ptr("a"), CustomEventData: ptr(strings.Repeat("x", 257))}, apierr.InvalidRequest},
		{"bad notification target", shapes.CreateGameSessionQueueInput{Name: ptr("a"), NotificationTarget: ptr("not a topic")}, apierr.InvalidRequest},
		{"ftp target", shapes.CreateGameSessionQueueInput{Name: ptr("a"), NotificationTarget: ptr("ftp://x/y")}, apierr.InvalidRequest},
		{"bad tag", shapes.CreateGameSessionQueueInput{Name: ptr("a"), Tags: []shapes.Tag{{Value: ptr("v")}}}, apierr.InvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if _, err := q.svc.CreateGameSessionQueue(q.ctx, &in); code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	// A FIFO topic and an http URL are both fine.
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("fifo"), NotificationTarget: ptr("arn:aws:sns:us-west-2:123456789012:t.fifo")})
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("url"), NotificationTarget: ptr("http://127.0.0.1:8080/hook?x=1")})
}

func TestPlacementGoesToLowestLatencyThenElsewhere(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(600)
	west := q.process("custom-west")
	east := q.process("custom-east")

	// Both players are closer to west, though east is the first destination.
	pl := append(latencies("alice", map[string]float32{"custom-east": 90, "custom-west": 20}),
		latencies("bob", map[string]float32{"custom-east": 60, "custom-west": 40})...)
	p1 := q.start(&shapes.StartGameSessionPlacementInput{
		PlacementId: ptr("pl-1"), GameSessionQueueName: ptr("q"), MaximumPlayerSessionCount: ptr(int32(3)),
		GameSessionName: ptr("duel"), GameProperties: []shapes.GameProperty{{Key: ptr("mode"), Value: ptr("ctf")}},
		GameSessionData: ptr("seed=7"), PlayerLatencies: pl,
		DesiredPlayerSessions: []shapes.DesiredPlayerSession{{PlayerId: ptr("alice"), PlayerData: ptr("alice's data")}, {PlayerId: ptr("bob")}},
	})
	if p1.Status != "PENDING" || *p1.GameSessionQueueName != "q" || !p1.StartTime.Equal(t0) || p1.EndTime != nil || len(p1.PlacedPlayerSessions) != 0 {
		t.Fatalf("StartGameSessionPlacement: %s", plJSON(p1))
	}
	if q.started(east) != "" || q.started(west) == "" {
		t.Fatalf("the placement went to east (%q), not west (%q)", q.started(east), q.started(west))
	}
	// Still PENDING while the game session activates; not yet any player sessions.
	if got := q.placement("pl-1"); got.Status != "PENDING" || len(got.PlacedPlayerSessions) != 0 || got.IpAddress != nil {
		t.Fatalf("while activating: %s", plJSON(got))
	}
	q.clk.Advance(1500 * time.Millisecond)
	gs := q.activate(west)
	got := q.placement("pl-1")
	if got.Status != "FULFILLED" || *got.GameSessionArn != gs || *got.GameSessionId != gs || *got.GameSessionRegion != "custom-west" ||
		*got.IpAddress != "192.0.2.10" || *got.Port != q.procs[west].port ||
		!got.EndTime.Equal(t0.Add(1500*time.Millisecond)) || len(got.PlacedPlayerSessions) != 2 {
		t.Fatalf("FULFILLED placement: %s", plJSON(got))
	}
	// The placement echoes the request.
	if *got.GameSessionName != "duel" || *got.GameSessionData != "seed=7" || *got.MaximumPlayerSessionCount != 3 ||
		plJSON(got.GameProperties) != plJSON(p1.GameProperties) || plJSON(got.PlayerLatencies) != plJSON(pl) {
		t.Fatalf("echo: %s", plJSON(got))
	}
	// The game session got the request's settings and counts the two reserved players.
	g := q.gameSessionOf(gs)
	if *g.Name != "duel" || *g.GameSessionData != "seed=7" || *g.MaximumPlayerSessionCount != 3 || *g.CurrentPlayerSessionCount != 2 || g.Status != "ACTIVE" {
		t.Fatalf("game session: %s", plJSON(g))
	}
	for i, want := range []struct{ player, data string }{{"alice", "alice's data"}, {"bob", ""}} {
		placed := got.PlacedPlayerSessions[i]
		ps := must(q.svc.DescribePlayerSessions(q.ctx, &shapes.DescribePlayerSessionsInput{PlayerSessionId: placed.PlayerSessionId}))(t).PlayerSessions[0]
		if *placed.PlayerId != want.player || *ps.PlayerId != want.player || ps.Status != "RESERVED" || plDeref(ps.PlayerData) != want.data ||
			*ps.GameSessionId != gs || *ps.Port != *got.Port {
			t.Fatalf("placed player session %d: %s / %s", i, plJSON(placed), plJSON(ps))
		}
	}

	// West is full now: the next placement goes to east despite the latencies.
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("pl-2"), GameSessionQueueName: ptr("q"), PlayerLatencies: pl})
	if q.started(east) == "" {
		t.Fatal("with west full, the placement did not go to east")
	}
	q.activate(east)
	if got := q.placement("pl-2"); got.Status != "FULFILLED" || *got.GameSessionRegion != "custom-east" {
		t.Fatalf("second placement: %s", plJSON(got))
	}

	evs := q.events()
	if len(evs) != 2 {
		t.Fatalf("events: %s", plJSON(evs))
	}
	ev := eventFor(t, evs, "pl-1")
	if ev.Version != "0" || ev.DetailType != "GameLift Queue Placement Event" || ev.Source != "aws.gamelift" || ev.Account != "123456789012" ||
		ev.Region != "us-west-2" || ev.Time != "2026-11-24T12:00:01Z" ||
		plJSON(ev.Resources) != plJSON([]string{"arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/q"}) {
		t.Fatalf("event envelope: %s", plJSON(ev))
	}
	d := ev.Detail
	if d.Type != core.EventPlacementFulfilled || d.PlacementID != "pl-1" || d.GameSessionArn != gs || d.IPAddress != "192.0.2.10" ||
		d.Port != fmt.Sprint(q.procs[west].port) || d.StartTime != "2026-11-24T12:00:00.000Z" ||
		d.EndTime != "2026-11-24T12:00:01.500Z" || d.GameSessionRegion != "custom-west" || d.CustomEventData != "lobby-7" ||
		len(d.PlacedPlayerSessions) != 2 || d.PlacedPlayerSessions[0].PlayerID != "alice" ||
		d.PlacedPlayerSessions[0].PlayerSessionID != *q.placement("pl-1").PlacedPlayerSessions[0].PlayerSessionId {
		t.Fatalf("PlacementFulfilled detail: %s", plJSON(d))
	}
}

func (q *qenv) gameSessionOf(id string) shapes.GameSession {
	q.t.Helper()
	out := must(q.svc.DescribeGameSessions(q.ctx, &shapes.DescribeGameSessionsInput{GameSessionId: &id}))(q.t)
	return out.GameSessions[0]
}

func plDeref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}

func TestPlacementWaitsForCapacity(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(60)
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("wait"), GameSessionQueueName: ptr("q")})
	q.clk.Advance(20 * time.Second) // the retry timer runs passes meanwhile
	if got := q.placement("wait"); got.Status != "PENDING" || got.GameSessionId != nil {
		t.Fatalf("without capacity: %s", plJSON(got))
	}
	// A process comes up: its first heartbeat makes it eligible, and the
	// placement takes it at once.
	p := q.process("custom-west")
	if q.started(p) == "" {
		t.Fatal("the new process was not given the waiting placement")
	}
	q.activate(p)
	if got := q.placement("wait"); got.Status != "FULFILLED" || !got.EndTime.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("after a process came up: %s", plJSON(got))
	}
}

func TestPlacementTimesOutAndRestartKeepsDeadline(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(10)
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("late"), GameSessionQueueName: ptr("q")})
	q.clk.Advance(4 * time.Second)
	// A restart in between: the deadline comes from the store.
	q.svc.Close()
	q.st.Close()
	q.open()
	q.clk.Advance(6*time.Second - time.Millisecond)
	if got := q.placement("late"); got.Status != "PENDING" {
		t.Fatalf("at 9.999 s: %s", plJSON(got))
	}
	q.clk.Advance(time.Millisecond)
	got := q.placement("late")
	if got.Status != "TIMED_OUT" || !got.EndTime.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("at 10 s: %s", plJSON(got))
	}
	evs := q.events()
	if len(evs) != 1 || evs[0].Detail.Type != core.EventPlacementTimedOut || evs[0].Detail.PlacementID != "late" ||
		evs[0].Detail.EndTime != "2026-11-24T12:00:10.000Z" || evs[0].Detail.GameSessionArn != "" || evs[0].Detail.CustomEventData != "lobby-7" {
		t.Fatalf("events: %s", plJSON(evs))
	}
	// A process arriving later changes nothing.
	p := q.process("custom-east")
	if q.started(p) != "" || q.placement("late").Status != "TIMED_OUT" {
		t.Fatal("a TIMED_OUT placement was placed")
	}
}

func TestStopGameSessionPlacement(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(60)
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("stop-me"), GameSessionQueueName: ptr("q")})
	q.clk.Advance(3 * time.Second)
	out := must(q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("stop-me")}))(t).GameSessionPlacement
	if out.Status != "CANCELLED" || !out.EndTime.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("stopped: %s", plJSON(out))
	}
	if _, err := q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("stop-me")}); code(err) != apierr.InvalidRequest {
		t.Fatalf("stopping a CANCELLED placement: %v", err)
	}
	if _, err := q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("nope")}); code(err) != apierr.NotFound {
		t.Fatalf("stopping an unknown placement: %v", err)
	}
	// A cancelled placement is not placed later.
	p := q.process("custom-east")
	if q.started(p) != "" {
		t.Fatal("a CANCELLED placement was placed")
	}
	// A placement whose game session is activating cannot be stopped.
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("busy"), GameSessionQueueName: ptr("q")})
	if q.started(p) == "" {
		t.Fatal("not placed")
	}
	if _, err := q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("busy")}); code(err) != apierr.InvalidRequest {
		t.Fatalf("stopping an activating placement: %v", err)
	}
	q.activate(p)
	if _, err := q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("busy")}); code(err) != apierr.InvalidRequest {
		t.Fatalf("stopping a FULFILLED placement: %v", err)
	}
	evs := q.events()
	if ev := eventFor(t, evs, "stop-me"); len(evs) != 2 || ev.Detail.Type != core.EventPlacementCancelled || ev.Detail.EndTime != "2026-11-24T12:00:03.000Z" ||
		eventFor(t, evs, "busy").Detail.Type != core.EventPlacementFulfilled {
		t.Fatalf("events: %s", plJSON(evs))
	}
}

func TestPlacedPlayerSessionsTimeOutUnlessAccepted(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(60)
	p := q.process("custom-east")
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("pl"), GameSessionQueueName: ptr("q"),
		DesiredPlayerSessions: []shapes.DesiredPlayerSession{{PlayerId: ptr("a")}, {PlayerId: ptr("b")}, {PlayerId: ptr("c")}}})
	q.clk.Advance(2 * time.Second)
	gs := q.activate(p)
	placed := q.placement("pl").PlacedPlayerSessions
	if len(placed) != 3 {
		t.Fatalf("placed: %s", plJSON(placed))
	}
	q.clk.Advance(30 * time.Second)
	if err := q.svc.AcceptPlayerSession(q.ctx, q.procs[p].id, sdkmsg.PlayerSessionRequest{GameSessionId: gs, PlayerSessionId: *placed[1].PlayerSessionId}); err != nil {
		t.Fatal(err)
	}
	q.clk.Advance(30*time.Second - time.Millisecond)
	status := func(i int) string {
		return must(q.svc.DescribePlayerSessions(q.ctx, &shapes.DescribePlayerSessionsInput{PlayerSessionId: placed[i].PlayerSessionId}))(t).PlayerSessions[0].Status
	}
	if status(0) != "RESERVED" || status(2) != "RESERVED" {
		t.Fatalf("at 59.999 s: %s %s", status(0), status(2))
	}
	q.clk.Advance(time.Millisecond)
	if status(0) != "TIMEDOUT" || status(1) != "ACTIVE" || status(2) != "TIMEDOUT" {
		t.Fatalf("at 60 s: %s %s %s", status(0), status(1), status(2))
	}
	if got := *q.gameSessionOf(gs).CurrentPlayerSessionCount; got != 1 {
		t.Fatalf("CurrentPlayerSessionCount = %d, want 1", got)
	}
}

func TestPlacementRequestValidation(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(60)
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("loc-first"), PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}}})
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("used"), GameSessionQueueName: ptr("q")})
	must(q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("used")}))(t)
	override := &shapes.PriorityConfigurationOverride{LocationOrder: []string{"custom-west"}}
	lat := latencies("a", map[string]float32{"custom-west": 10})
	cases := []struct {
		name string
		in   shapes.StartGameSessionPlacementInput
		want apierr.Code
	}{
		{"no id", shapes.StartGameSessionPlacementInput{GameSessionQueueName: ptr("q")}, apierr.InvalidRequest},
		{"bad id", shapes.StartGameSessionPlacementInput{PlacementId: ptr("a b"), GameSessionQueueName: ptr("q")}, apierr.InvalidRequest},
		{"long id", shapes.StartGameSessionPlacementInput{PlacementId: ptr(strings.Repeat("a", 49)), GameSessionQueueName: ptr("q")}, apierr.InvalidRequest},
		{"id used before, even though CANCELLED", shapes.StartGameSessionPlacementInput{PlacementId: ptr("used"), GameSessionQueueName: ptr("q")}, apierr.InvalidRequest},
		{"no queue", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x")}, apierr.InvalidRequest},
		{"unknown queue", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("nope")}, apierr.NotFound},
		{"unknown queue ARN", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/nope")}, apierr.NotFound},
		{"too many players", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), MaximumPlayerSessionCount: ptr(int32(201))}, apierr.InvalidRequest},
		{"more desired than max", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), MaximumPlayerSessionCount: ptr(int32(1)),
			DesiredPlayerSessions: []shapes.DesiredPlayerSession{{PlayerId: ptr("a")}, {PlayerId: ptr("b")}}}, apierr.InvalidRequest},
		{"desired without player", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), DesiredPlayerSessions: []shapes.DesiredPlayerSession{{PlayerData: ptr("d")}}}, apierr.InvalidRequest},
		{"negative latency", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), PlayerLatencies: latencies("a", map[string]float32{"custom-west": -1})}, apierr.InvalidRequest},
		{"latency without region", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), PlayerLatencies: []shapes.PlayerLatency{{PlayerId: ptr("a"), LatencyInMilliseconds: ptr(float32(3))}}}, apierr.InvalidRequest},
		{"latencies and override", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("loc-first"), PlayerLatencies: lat, PriorityConfigurationOverride: override}, apierr.InvalidRequest},
		{"override on a queue not LOCATION first", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), PriorityConfigurationOverride: override}, apierr.InvalidRequest},
		{"override without locations", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("loc-first"), PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{}}, apierr.InvalidRequest},
		{"override with 11 locations", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("loc-first"), PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{
			LocationOrder: []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10", "l11"}}}, apierr.InvalidRequest},
		{"override with bad fallback", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("loc-first"), PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{
			LocationOrder: []string{"custom-west"}, PlacementFallbackStrategy: "SOMETIMES"}}, apierr.InvalidRequest},
		{"too many properties", shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q"), GameProperties: make([]shapes.GameProperty, 17)}, apierr.InvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.MaximumPlayerSessionCount == nil {
				in.MaximumPlayerSessionCount = ptr(int32(4))
			}
			if _, err := q.svc.StartGameSessionPlacement(q.ctx, &in); code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := q.svc.StartGameSessionPlacement(q.ctx, &shapes.StartGameSessionPlacementInput{PlacementId: ptr("x"), GameSessionQueueName: ptr("q")}); code(err) != apierr.InvalidRequest {
		t.Fatalf("without MaximumPlayerSessionCount: %v", err)
	}
	if _, err := q.svc.DescribeGameSessionPlacement(q.ctx, &shapes.DescribeGameSessionPlacementInput{PlacementId: ptr("x")}); code(err) != apierr.NotFound {
		t.Fatalf("describing a refused placement: %v", err)
	}
	// The override itself works on a LOCATION-first queue, and is echoed.
	got := q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("ov"), GameSessionQueueName: ptr("loc-first"), PriorityConfigurationOverride: override})
	if plJSON(got.PriorityConfigurationOverride) != plJSON(override) {
		t.Fatalf("override echo: %s", plJSON(got))
	}
}

func TestLatencyPolicyRelaxes(t *testing.T) {
	q := newQEnv(t)
	q.fleet("custom-east", "")
	q.fleet("custom-west", "")
	q.queue(&shapes.CreateGameSessionQueueInput{
		Name:         ptr("strict"),
		Destinations: []shapes.GameSessionQueueDestination{{DestinationArn: ptr(q.arns["custom-east"])}, {DestinationArn: ptr(q.arns["custom-west"])}},
		// Listed loosest first: they still apply strictest first.
		PlayerLatencyPolicies: []shapes.PlayerLatencyPolicy{
			{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(150)), PolicyDurationSeconds: ptr(int32(10))},
			{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(50)), PolicyDurationSeconds: ptr(int32(5))},
		},
	})
	east := q.process("custom-east")
	// East is 120 ms away: too far for 5 s, fine under the 150 ms cap after.
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("far"), GameSessionQueueName: ptr("strict"),
		PlayerLatencies: latencies("a", map[string]float32{"custom-east": 120})})
	q.clk.Advance(4 * time.Second)
	if q.started(east) != "" {
		t.Fatal("placed beyond the 50 ms cap")
	}
	q.clk.Advance(time.Second)
	if q.started(east) == "" {
		t.Fatal("not placed once the cap relaxed to 150 ms")
	}
	q.activate(east)

	// A player who reported nothing for west keeps west out while a cap
	// applies (15 s here), then any location will do.
	west := q.process("custom-west")
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("unknown"), GameSessionQueueName: ptr("strict"),
		PlayerLatencies: latencies("b", map[string]float32{"custom-east": 10})})
	q.clk.Advance(14 * time.Second)
	if q.started(west) != "" {
		t.Fatal("placed where the player has no latency data while a cap applied")
	}
	q.clk.Advance(time.Second)
	if q.started(west) == "" {
		t.Fatal("not placed once the policies ran out")
	}
}

func TestPlacementAttemptsThatFailToActivate(t *testing.T) {
	q := newQEnv(t)
	q.twoFleets(600)
	a, b := q.process("custom-east"), q.process("custom-east")
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("flaky"), GameSessionQueueName: ptr("q")})
	first := q.started(a)
	if first == "" {
		t.Fatal("not placed")
	}
	// The process ends before activating: the placement tries the next one.
	if err := q.svc.TerminateServerProcess(q.ctx, q.procs[a].id); err != nil {
		t.Fatal(err)
	}
	second := q.started(b)
	if second == "" || second == first {
		t.Fatalf("no second attempt (%q after %q)", second, first)
	}
	if got := q.placement("flaky"); got.Status != "PENDING" || *got.GameSessionId != second {
		t.Fatalf("during the second attempt: %s", plJSON(got))
	}
	// Two more failures: FAILED after placementMaxAttempts (3).
	if err := q.svc.TerminateServerProcess(q.ctx, q.procs[b].id); err != nil {
		t.Fatal(err)
	}
	c := q.process("custom-west")
	if q.started(c) == "" {
		t.Fatal("no third attempt")
	}
	if err := q.svc.TerminateServerProcess(q.ctx, q.procs[c].id); err != nil {
		t.Fatal(err)
	}
	got := q.placement("flaky")
	if got.Status != "FAILED" || got.EndTime == nil {
		t.Fatalf("after three failed attempts: %s", plJSON(got))
	}
	d := q.process("custom-west")
	if q.started(d) != "" {
		t.Fatal("a FAILED placement was placed")
	}
	evs := q.events()
	if len(evs) != 1 || evs[0].Detail.Type != core.EventPlacementFailed {
		t.Fatalf("events: %s", plJSON(evs))
	}
}

func TestPlacementAfterActivationTimeoutAndQueueChanges(t *testing.T) {
	q := newQEnv(t)
	q.fleet("custom-east", "")
	alias := must(q.svc.CreateAlias(q.ctx, &shapes.CreateAliasInput{Name: ptr("a"), RoutingStrategy: &shapes.RoutingStrategy{Type: "TERMINAL", Message: ptr("closed")}}))(t).Alias
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("via-alias"), NotificationTarget: ptr(topic),
		Destinations: []shapes.GameSessionQueueDestination{{DestinationArn: alias.AliasArn}}})
	must(q.svc.UpdateRuntimeConfiguration(q.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(q.fleets["custom-east"]),
		RuntimeConfiguration: &shapes.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: ptr(int32(30)),
			ServerProcesses: []shapes.ServerProcess{{LaunchPath: ptr("/local/game/server"), ConcurrentExecutions: ptr(int32(1))}}}}))(t)
	p := q.process("custom-east")
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("aliased"), GameSessionQueueName: ptr("via-alias")})
	if q.started(p) != "" {
		t.Fatal("placed through a TERMINAL alias")
	}
	// Aliases resolve at placement time: pointing it at the fleet is enough.
	must(q.svc.UpdateAlias(q.ctx, &shapes.UpdateAliasInput{AliasId: alias.AliasId, RoutingStrategy: &shapes.RoutingStrategy{Type: "SIMPLE", FleetId: ptr(q.fleets["custom-east"])}}))(t)
	q.clk.Advance(time.Second)
	first := q.started(p)
	if first == "" {
		t.Fatal("not placed after the alias was repointed")
	}
	// The game session never activates: after the fleet's activation timeout
	// the process is free again and the placement tries anew, on it.
	q.clk.Advance(30 * time.Second)
	if got := q.placement("aliased"); got.Status != "PENDING" || q.started(p) == first || q.started(p) == "" {
		t.Fatalf("after the activation timeout: %s, process has %q", plJSON(got), q.started(p))
	}
	// Deleting the queue fails what waits on it, with an event.
	must(q.svc.DeleteGameSessionQueue(q.ctx, &shapes.DeleteGameSessionQueueInput{Name: ptr("via-alias")}))(t)
	if got := q.placement("aliased"); got.Status != "FAILED" {
		t.Fatalf("after the queue was deleted: %s", plJSON(got))
	}
	// Its activating game session carries on, without the placement's players.
	q.activate(p)
	if got := q.placement("aliased"); got.Status != "FAILED" || len(got.PlacedPlayerSessions) != 0 {
		t.Fatalf("after its game session activated: %s", plJSON(got))
	}
	evs := q.events()
	if len(evs) != 1 || evs[0].Detail.Type != core.EventPlacementFailed || evs[0].Detail.PlacementID != "aliased" {
		t.Fatalf("events: %s", plJSON(evs))
	}
}

func TestPlacementPriorityCostAndOverride(t *testing.T) {
	q := newQEnv(t)
	q.fleet("custom-a", "5.5")
	q.fleet("custom-b", "1.25")
	q.fleet("custom-c", "3")
	dests := []shapes.GameSessionQueueDestination{{DestinationArn: ptr(q.arns["custom-a"])}, {DestinationArn: ptr(q.arns["custom-b"])}, {DestinationArn: ptr(q.arns["custom-c"])}}
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("cheap"), Destinations: dests,
		PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"COST"}}})
	q.queue(&shapes.CreateGameSessionQueueInput{Name: ptr("by-location"), Destinations: dests,
		FilterConfiguration:   &shapes.FilterConfiguration{AllowedLocations: []string{"custom-a", "custom-c"}},
		PriorityConfiguration: &shapes.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{"custom-c", "custom-a"}}})
	a, b, c := q.process("custom-a"), q.process("custom-b"), q.process("custom-c")

	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("p1"), GameSessionQueueName: ptr("cheap")})
	if q.started(b) == "" {
		t.Fatal("COST did not pick the cheapest fleet (b)")
	}
	// LocationOrder puts c first; the override puts a first; NONE keeps it there.
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("p2"), GameSessionQueueName: ptr("by-location"),
		PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{LocationOrder: []string{"custom-a"}, PlacementFallbackStrategy: "NONE"}})
	if q.started(a) == "" || q.started(c) != "" {
		t.Fatal("the override did not put custom-a first")
	}
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("p3"), GameSessionQueueName: ptr("by-location"),
		PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{LocationOrder: []string{"custom-a"}, PlacementFallbackStrategy: "NONE"}})
	if q.started(c) != "" {
		t.Fatal("fallback NONE placed outside the override's locations")
	}
	must(q.svc.StopGameSessionPlacement(q.ctx, &shapes.StopGameSessionPlacementInput{PlacementId: ptr("p3")}))(t)
	// The default fallback goes on to the queue's other (allowed) locations.
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("p4"), GameSessionQueueName: ptr("by-location"),
		PriorityConfigurationOverride: &shapes.PriorityConfigurationOverride{LocationOrder: []string{"custom-a"}}})
	if q.started(c) == "" {
		t.Fatal("the default fallback did not go on to custom-c")
	}
	// custom-b is filtered out of by-location even with capacity.
	b2 := q.process("custom-b")
	q.start(&shapes.StartGameSessionPlacementInput{PlacementId: ptr("p5"), GameSessionQueueName: ptr("by-location")})
	if q.started(b2) != "" {
		t.Fatal("placed in a location the filter leaves out")
	}
}

func plJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
