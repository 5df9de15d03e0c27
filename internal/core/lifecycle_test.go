package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/core"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// recorder is a connection that keeps what the service pushes.
type recorder struct {
	mu     sync.Mutex
	frames []any
}

func (r *recorder) Push(f any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, f)
	return nil
}

func (r *recorder) last() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return nil
	}
	return r.frames[len(r.frames)-1]
}

type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *core.Service
	clk   *clock.Fake
	path  string
	fleet string
	loc   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clk: clock.NewFake(t0), path: filepath.Join(t.TempDir(), "openlift.db")}
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := sqlite.Open(e.ctx, e.path, sqlite.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: st, Clock: e.clk})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := svc.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
	e.t.Cleanup(func() { svc.Close(); st.Close() })
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func code(err error) apierr.Code { return apierr.CodeOf(err) }

// setupFleet creates a location, an Anywhere fleet and a compute.
func (e *env) setupFleet() {
	t := e.t
	e.loc = "custom-core-test"
	must(e.svc.CreateLocation(e.ctx, &shapes.CreateLocationInput{LocationName: &e.loc}))(t)
	f := must(e.svc.CreateFleet(e.ctx, &shapes.CreateFleetInput{
		Name:        ptr("core-test"),
		ComputeType: "ANYWHERE",
		Locations:   []shapes.LocationConfiguration{{Location: &e.loc}},
	}))(t)
	e.fleet = *f.FleetAttributes.FleetId
	must(e.svc.RegisterCompute(e.ctx, &shapes.RegisterComputeInput{FleetId: &e.fleet, ComputeName: ptr("host-1"), IpAddress: ptr("192.0.2.7"), Location: &e.loc}))(t)
}

// process activates a server process and heartbeats it once (which makes it eligible).
func (e *env) process(pid string, port int) (*recorder, sdkmsg.Identity) {
	e.t.Helper()
	id := sdkmsg.Identity{ProcessID: pid, FleetID: e.fleet, ComputeName: "host-1"}
	r := &recorder{}
	e.svc.Attach(id, r)
	if err := e.svc.ActivateServerProcess(e.ctx, id, sdkmsg.ActivateServerProcess{Port: port, SdkVersion: "5.6.0", SdkLanguage: "Go"}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.HeartbeatServerProcess(e.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		e.t.Fatal(err)
	}
	return r, id
}

func (e *env) activeGameSession(maxPlayers int32) (string, sdkmsg.Identity, *recorder) {
	e.t.Helper()
	r, id := e.process("proc-"+time.Now().Format("150405.000000000"), 7777)
	out := must(e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: &maxPlayers}))(e.t)
	gs := *out.GameSession.GameSessionId
	push, ok := r.last().(sdkmsg.CreateGameSession)
	if !ok || push.GameSessionId != gs {
		e.t.Fatalf("CreateGameSession push = %#v, want one for %s", r.last(), gs)
	}
	if err := e.svc.ActivateGameSession(e.ctx, id, sdkmsg.ActivateGameSession{GameSessionId: gs}); err != nil {
		e.t.Fatal(err)
	}
	return gs, id, r
}

func ptr[T any](v T) *T { return &v }

func (e *env) gameSession(id string) shapes.GameSession {
	e.t.Helper()
	out := must(e.svc.DescribeGameSessions(e.ctx, &shapes.DescribeGameSessionsInput{GameSessionId: &id}))(e.t)
	if len(out.GameSessions) != 1 {
		e.t.Fatalf("DescribeGameSessions(%s) returned %d sessions", id, len(out.GameSessions))
	}
	return out.GameSessions[0]
}

func (e *env) playerSession(id string) shapes.PlayerSession {
	e.t.Helper()
	out := must(e.svc.DescribePlayerSessions(e.ctx, &shapes.DescribePlayerSessionsInput{PlayerSessionId: &id}))(e.t)
	if len(out.PlayerSessions) != 1 {
		e.t.Fatalf("DescribePlayerSessions(%s) returned %d sessions", id, len(out.PlayerSessions))
	}
	return out.PlayerSessions[0]
}

func TestReservationTimesOutAt60Seconds(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	gs, id, _ := e.activeGameSession(2)
	a := must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("a")}))(t)
	e.clk.Advance(10 * time.Second)
	b := must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("b")}))(t)
	if _, err := e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("c")}); code(err) != apierr.GameSessionFull {
		t.Fatalf("third reservation: got %v, want GameSessionFullException", err)
	}
	aID, bID := *a.PlayerSession.PlayerSessionId, *b.PlayerSession.PlayerSessionId

	// b is accepted, so only a can time out.
	if err := e.svc.AcceptPlayerSession(e.ctx, id, sdkmsg.PlayerSessionRequest{GameSessionId: gs, PlayerSessionId: bID}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(50*time.Second - time.Millisecond) // t0+60s-1ms: a is one millisecond from its deadline
	if got := e.playerSession(aID).Status; got != "RESERVED" {
		t.Fatalf("a at 59.999 s: %s, want RESERVED", got)
	}
	e.clk.Advance(time.Millisecond)
	pa := e.playerSession(aID)
	if pa.Status != "TIMEDOUT" || pa.TerminationTime == nil || !pa.TerminationTime.Equal(t0.Add(60*time.Second)) {
		t.Fatalf("a at 60 s: status %s termination %v, want TIMEDOUT at %v", pa.Status, pa.TerminationTime, t0.Add(60*time.Second))
	}
	if got := e.playerSession(bID).Status; got != "ACTIVE" {
		t.Fatalf("b: %s, want ACTIVE", got)
	}
	if got := *e.gameSession(gs).CurrentPlayerSessionCount; got != 1 {
		t.Fatalf("CurrentPlayerSessionCount = %d, want 1", got)
	}
	// The freed slot is reusable.
	must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("c")}))(t)
	// Accepting a timed-out reservation fails.
	if err := e.svc.AcceptPlayerSession(e.ctx, id, sdkmsg.PlayerSessionRequest{GameSessionId: gs, PlayerSessionId: aID}); code(err) != apierr.InvalidRequest {
		t.Fatalf("accepting a TIMEDOUT session: %v", err)
	}
}

func TestRestartRearmsReservationTimeouts(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	gs, _, _ := e.activeGameSession(5)
	a := must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("a")}))(t)
	e.clk.Advance(30 * time.Second)
	e.svc.Close()
	e.open() // a new Service over the same file, as after a restart
	aID := *a.PlayerSession.PlayerSessionId
	if got := e.playerSession(aID).Status; got != "RESERVED" {
		t.Fatalf("after restart: %s, want RESERVED", got)
	}
	e.clk.Advance(30*time.Second - time.Millisecond)
	if got := e.playerSession(aID).Status; got != "RESERVED" {
		t.Fatalf("after restart at 59.999 s: %s", got)
	}
	e.clk.Advance(time.Millisecond)
	if got := e.playerSession(aID).Status; got != "TIMEDOUT" {
		t.Fatalf("after restart at 60 s: %s, want TIMEDOUT", got)
	}
	if got := *e.gameSession(gs).CurrentPlayerSessionCount; got != 0 {
		t.Fatalf("CurrentPlayerSessionCount = %d, want 0", got)
	}
}

func TestProcessLifecycle(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()

	// A process that has activated but not yet heartbeated cannot host (spec §5).
	id := sdkmsg.Identity{ProcessID: "fresh", FleetID: e.fleet, ComputeName: "host-1"}
	e.svc.Attach(id, &recorder{})
	if err := e.svc.ActivateServerProcess(e.ctx, id, sdkmsg.ActivateServerProcess{Port: 1234}); err != nil {
		t.Fatal(err)
	}
	max := int32(4)
	if _, err := e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: &max}); code(err) != apierr.FleetCapacityExceeded {
		t.Fatalf("before the first heartbeat: %v, want FleetCapacityExceededException", err)
	}

	gs, pid, _ := e.activeGameSession(4)
	p := must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("p")}))(t)
	if err := e.svc.AcceptPlayerSession(e.ctx, pid, sdkmsg.PlayerSessionRequest{GameSessionId: gs, PlayerSessionId: *p.PlayerSession.PlayerSessionId}); err != nil {
		t.Fatal(err)
	}
	// Another process may not act on this game session.
	if err := e.svc.ActivateGameSession(e.ctx, id, sdkmsg.ActivateGameSession{GameSessionId: gs}); code(err) != apierr.Unauthorized {
		t.Fatalf("foreign ActivateGameSession: %v, want UnauthorizedException", err)
	}
	// Missed heartbeats end the process, its game session and its player sessions.
	e.clk.Advance(3*time.Minute + time.Second)
	g := e.gameSession(gs)
	if g.Status != "TERMINATED" || *g.CurrentPlayerSessionCount != 0 || g.TerminationTime == nil {
		t.Fatalf("after missed heartbeats: %s count %d", g.Status, *g.CurrentPlayerSessionCount)
	}
	ps := must(e.svc.DescribePlayerSessions(e.ctx, &shapes.DescribePlayerSessionsInput{GameSessionId: &gs}))(t)
	if len(ps.PlayerSessions) != 1 || ps.PlayerSessions[0].Status != "COMPLETED" {
		t.Fatalf("player sessions after the process ended: %+v", ps.PlayerSessions)
	}
	if err := e.svc.HeartbeatServerProcess(e.ctx, pid, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		t.Fatalf("late heartbeat of an ended process: %v", err)
	}
	ev := must(e.svc.DescribeFleetEvents(e.ctx, &shapes.DescribeFleetEventsInput{FleetId: &e.fleet}))(t)
	found := false
	for _, x := range ev.Events {
		found = found || x.EventCode == "SERVER_PROCESS_TERMINATED_UNHEALTHY"
	}
	if !found {
		t.Fatalf("no SERVER_PROCESS_TERMINATED_UNHEALTHY event in %+v", ev.Events)
	}
}

func TestUnhealthyHeartbeatsEndProcess(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	gs, id, r := e.activeGameSession(2)
	for i := 0; i < 2; i++ {
		if err := e.svc.HeartbeatServerProcess(e.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: false}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.gameSession(gs).Status; got != "ACTIVE" {
		t.Fatalf("after 2 unhealthy heartbeats: %s, want ACTIVE", got)
	}
	if err := e.svc.HeartbeatServerProcess(e.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: false}); err != nil {
		t.Fatal(err)
	}
	if got := e.gameSession(gs).Status; got != "TERMINATED" {
		t.Fatalf("after 3 unhealthy heartbeats: %s, want TERMINATED", got)
	}
	if _, ok := r.last().(sdkmsg.TerminateProcess); !ok {
		t.Fatalf("last push = %#v, want TerminateProcess", r.last())
	}
}

func TestTerminateGameSession(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	gs, id, r := e.activeGameSession(2)
	out := must(e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}))(t)
	if out.GameSession.Status != "TERMINATING" || out.GameSession.StatusReason != "TRIGGERED_ON_PROCESS_TERMINATE" {
		t.Fatalf("TerminateGameSession returned %s/%s", out.GameSession.Status, out.GameSession.StatusReason)
	}
	tp, ok := r.last().(sdkmsg.TerminateProcess)
	if !ok || tp.TerminationTime <= t0.UnixMilli() {
		t.Fatalf("push = %#v, want TerminateProcess with a future TerminationTime", r.last())
	}
	if _, err := e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("late")}); code(err) != apierr.InvalidGameSessionStatus {
		t.Fatalf("player session on a TERMINATING session: %v", err)
	}
	if err := e.svc.TerminateServerProcess(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	g := e.gameSession(gs)
	if g.Status != "TERMINATED" || g.StatusReason != "TRIGGERED_ON_PROCESS_TERMINATE" {
		t.Fatalf("after ProcessEnding: %s/%s", g.Status, g.StatusReason)
	}
	if _, err := e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}); code(err) != apierr.InvalidGameSessionStatus {
		t.Fatalf("terminating a TERMINATED session: %v", err)
	}
	if _, err := e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: ptr(gs + "x"), TerminationMode: "FORCE_TERMINATE"}); code(err) != apierr.NotFound {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestActivationTimeout(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	_, id := e.process("slow", 7000)
	max := int32(2)
	out := must(e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: &max}))(t)
	gs := *out.GameSession.GameSessionId
	if _, err := e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("p")}); code(err) != apierr.InvalidGameSessionStatus {
		t.Fatalf("player session on an ACTIVATING session: %v", err)
	}
	for range 10 { // keep the process alive: only the activation deadline may fire
		e.clk.Advance(60 * time.Second)
		if err := e.svc.HeartbeatServerProcess(e.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.gameSession(gs).Status; got != "TERMINATED" {
		t.Fatalf("after the activation timeout: %s", got)
	}
	// The process is free again.
	must(e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: &max}))(t)
}

func TestReservationRace(t *testing.T) {
	e := newEnv(t)
	e.setupFleet()
	gs, _, _ := e.activeGameSession(200)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[apierr.Code]int{}
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("racer")})
			mu.Lock()
			got[code(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[""] != 200 || got[apierr.GameSessionFull] != 300 {
		t.Fatalf("outcomes = %v, want 200 successes and 300 GameSessionFullException", got)
	}
	if c := *e.gameSession(gs).CurrentPlayerSessionCount; c != 200 {
		t.Fatalf("CurrentPlayerSessionCount = %d", c)
	}
	var all []shapes.PlayerSession
	var next *string
	for {
		out := must(e.svc.DescribePlayerSessions(e.ctx, &shapes.DescribePlayerSessionsInput{GameSessionId: &gs, NextToken: next, Limit: ptr(int32(64))}))(t)
		all = append(all, out.PlayerSessions...)
		if out.NextToken == nil {
			break
		}
		next = out.NextToken
	}
	if len(all) != 200 {
		t.Fatalf("%d player sessions, want 200", len(all))
	}
}

var _ = errors.Is
