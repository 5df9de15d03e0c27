package core

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

func sp(path string, n int32) shapes.ServerProcess {
	return shapes.ServerProcess{LaunchPath: ptr(path), ConcurrentExecutions: ptr(n)}
}

func TestUpdateRuntimeConfigurationConstraints(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	update := func(mod func(rc *shapes.RuntimeConfiguration)) func() error {
		return func() error {
			rc := &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{sp("/opt/game/server", 2)}}
			mod(rc)
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID), RuntimeConfiguration: rc})
			return err
		}
	}
	many := func(n int) []shapes.ServerProcess {
		out := make([]shapes.ServerProcess, n)
		for i := range out {
			out[i] = sp("/opt/game/server", 1)
		}
		return out
	}
	deleted := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)

	runErrCases(t, []errCase{
		{"FleetId missing", func() error {
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{RuntimeConfiguration: &shapes.RuntimeConfiguration{ServerProcesses: many(1)}})
			return err
		}, "", "FleetId"},
		{"FleetId pattern", func() error {
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr("fleet_1"), RuntimeConfiguration: &shapes.RuntimeConfiguration{ServerProcesses: many(1)}})
			return err
		}, "", "FleetId"},
		{"RuntimeConfiguration missing", func() error {
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID)})
			return err
		}, "", "RuntimeConfiguration is required"},
		{"ServerProcesses missing", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses = nil }), "", "RuntimeConfiguration.ServerProcesses is required"},
		{"ServerProcesses empty", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses = []shapes.ServerProcess{} }), "", "RuntimeConfiguration.ServerProcesses must contain 1 to 50"},
		{"ServerProcesses 51", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses = many(51) }), "", "RuntimeConfiguration.ServerProcesses must contain 1 to 50"},
		{"LaunchPath missing", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].LaunchPath = nil }), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath is required"},
		{"LaunchPath empty", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].LaunchPath = ptr("") }), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath must be 1 to 1024"},
		{"LaunchPath too long", update(func(rc *shapes.RuntimeConfiguration) {
			rc.ServerProcesses[0].LaunchPath = ptr("/" + strings.Repeat("a", 1024))
		}), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath must be 1 to 1024"},
		{"LaunchPath pattern", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].LaunchPath = ptr("/opt/$GAME/server") }), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath"},
		{"LaunchPath relative", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].LaunchPath = ptr("bin/server") }), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath \"bin/server\" must be an absolute path"},
		{"second LaunchPath relative", update(func(rc *shapes.RuntimeConfiguration) {
			rc.ServerProcesses = append(rc.ServerProcesses, sp("C:game.exe", 1))
		}), "", "RuntimeConfiguration.ServerProcesses[1].LaunchPath"},
		{"Parameters empty", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].Parameters = ptr("") }), "", "RuntimeConfiguration.ServerProcesses[0].Parameters must be 1 to 1024"},
		{"Parameters too long", update(func(rc *shapes.RuntimeConfiguration) {
			rc.ServerProcesses[0].Parameters = ptr(strings.Repeat("a", 1025))
		}), "", "RuntimeConfiguration.ServerProcesses[0].Parameters must be 1 to 1024"},
		{"Parameters pattern", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].Parameters = ptr("-port 7777 | tee") }), "", "RuntimeConfiguration.ServerProcesses[0].Parameters"},
		{"ConcurrentExecutions missing", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].ConcurrentExecutions = nil }), "", "RuntimeConfiguration.ServerProcesses[0].ConcurrentExecutions is required"},
		{"ConcurrentExecutions 0", update(func(rc *shapes.RuntimeConfiguration) { rc.ServerProcesses[0].ConcurrentExecutions = ptr(int32(0)) }), "", "RuntimeConfiguration.ServerProcesses[0].ConcurrentExecutions must be at least 1"},
		{"sum of ConcurrentExecutions 51", update(func(rc *shapes.RuntimeConfiguration) {
			rc.ServerProcesses = []shapes.ServerProcess{sp("/opt/a", 25), sp("/opt/b", 25), sp("/opt/c", 1)}
		}), "", "RuntimeConfiguration.ServerProcesses may run at most 50 concurrent processes in total (the sum of ConcurrentExecutions), got 51"},
		{"sum overflowing int32", update(func(rc *shapes.RuntimeConfiguration) {
			rc.ServerProcesses = []shapes.ServerProcess{sp("/opt/a", maxInt32), sp("/opt/b", maxInt32)}
		}), "", "got 4294967294"},
		{"MaxConcurrentGameSessionActivations 0", update(func(rc *shapes.RuntimeConfiguration) { rc.MaxConcurrentGameSessionActivations = ptr(int32(0)) }), "", "RuntimeConfiguration.MaxConcurrentGameSessionActivations must be at least 1"},
		{"GameSessionActivationTimeoutSeconds 0", update(func(rc *shapes.RuntimeConfiguration) { rc.GameSessionActivationTimeoutSeconds = ptr(int32(0)) }), "", "RuntimeConfiguration.GameSessionActivationTimeoutSeconds must be between 1 and 600"},
		{"GameSessionActivationTimeoutSeconds 601", update(func(rc *shapes.RuntimeConfiguration) { rc.GameSessionActivationTimeoutSeconds = ptr(int32(601)) }), "", "RuntimeConfiguration.GameSessionActivationTimeoutSeconds must be between 1 and 600"},
		{"unknown fleet", func() error {
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr("fleet-nope"), RuntimeConfiguration: &shapes.RuntimeConfiguration{ServerProcesses: many(1)}})
			return err
		}, apierr.NotFound, "fleet-nope"},
		{"deleted fleet", func() error {
			_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(deleted.ID), RuntimeConfiguration: &shapes.RuntimeConfiguration{ServerProcesses: many(1)}})
			return err
		}, apierr.NotFound, deleted.ID},
		{"CreateFleet relative LaunchPath", func() error {
			_, err := f.svc.CreateFleet(f.ctx, &shapes.CreateFleetInput{
				Name: ptr("x"), ComputeType: "ANYWHERE", Locations: []shapes.LocationConfiguration{{Location: ptr("custom-a")}},
				RuntimeConfiguration: &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{sp("./server", 1)}},
			})
			return err
		}, "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath"},
	})

	// The limits themselves are accepted, and so are Windows paths: the
	// service cannot know which system an agent runs on.
	for name, rc := range map[string]*shapes.RuntimeConfiguration{
		"sum of 50":  {ServerProcesses: []shapes.ServerProcess{sp("/opt/a", 49), sp("/opt/b", 1)}},
		"50 entries": {ServerProcesses: many(50)},
		"windows":    {ServerProcesses: []shapes.ServerProcess{sp(`C:\game\server.exe`, 1), sp(`\\host\share\server.exe`, 1)}},
		"bounds": {
			ServerProcesses:                     []shapes.ServerProcess{sp("/opt/a", 1)},
			MaxConcurrentGameSessionActivations: ptr(int32(maxInt32)),
			GameSessionActivationTimeoutSeconds: ptr(int32(600)),
		},
	} {
		if _, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.Arn), RuntimeConfiguration: rc}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRuntimeConfigurationRoundTrip(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	rc := &shapes.RuntimeConfiguration{
		ServerProcesses: []shapes.ServerProcess{
			{LaunchPath: ptr("/opt/game/server"), Parameters: ptr(`-port 7777 -map "dust"`), ConcurrentExecutions: ptr(int32(3))},
			sp("/opt/game/other", 1),
		},
		MaxConcurrentGameSessionActivations: ptr(int32(2)),
		GameSessionActivationTimeoutSeconds: ptr(int32(45)),
	}
	out := fxMust(f.svc.CreateFleet(f.ctx, &shapes.CreateFleetInput{
		Name: ptr("rc"), ComputeType: "ANYWHERE", Locations: []shapes.LocationConfiguration{{Location: ptr("custom-a")}},
		RuntimeConfiguration: rc,
	}))(t)
	id := *out.FleetAttributes.FleetId
	describe := func(fleet string) *shapes.RuntimeConfiguration {
		t.Helper()
		out := fxMust(f.svc.DescribeRuntimeConfiguration(f.ctx, &shapes.DescribeRuntimeConfigurationInput{FleetId: ptr(fleet)}))(t)
		if out.RuntimeConfiguration == nil {
			t.Fatal("RuntimeConfiguration is nil; want an object")
		}
		return out.RuntimeConfiguration
	}
	if got := describe(id); !reflect.DeepEqual(got, rc) {
		t.Fatalf("after CreateFleet: %s; want %s", show(got), show(rc))
	}
	if got := f.getFleet(id).GameSessionActivationTimeoutSeconds; got != 45 {
		t.Fatalf("stored activation timeout = %d; want 45 (kept in step)", got)
	}

	next := &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{sp("/opt/game/v2", 5)}}
	upd := fxMust(f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: out.FleetAttributes.FleetArn, RuntimeConfiguration: next}))(t)
	if !reflect.DeepEqual(upd.RuntimeConfiguration, next) {
		t.Fatalf("UpdateRuntimeConfiguration returned %s; want %s", show(upd.RuntimeConfiguration), show(next))
	}
	if got := describe(id); !reflect.DeepEqual(got, next) {
		t.Fatalf("after UpdateRuntimeConfiguration: %s; want %s", show(got), show(next))
	}
	// The update replaced the whole configuration, activation timeout included.
	if got := f.getFleet(id).GameSessionActivationTimeoutSeconds; got != 0 {
		t.Fatalf("stored activation timeout = %d; want 0 after an update without one", got)
	}

	// A fleet created without one has an empty object; so has a deleted fleet.
	f.location("custom-b")
	plain := f.fleet("custom-b")
	if got := describe(plain.ID); !reflect.DeepEqual(got, &shapes.RuntimeConfiguration{}) {
		t.Fatalf("fleet without a runtime configuration: %s; want {}", show(got))
	}
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(id)}))(t)
	if got := describe(id); !reflect.DeepEqual(got, &shapes.RuntimeConfiguration{}) {
		t.Fatalf("deleted fleet: %s; want {}", show(got))
	}
	// A fleet stored before runtime configurations were kept shows the
	// activation timeout it was created with.
	f.update(func(tx store.Tx) error {
		fl, err := tx.GetFleet(plain.ID)
		if err != nil {
			return err
		}
		fl.GameSessionActivationTimeoutSeconds = 90
		return tx.PutFleet(fl)
	})
	if got := describe(plain.ID); got.GameSessionActivationTimeoutSeconds == nil || *got.GameSessionActivationTimeoutSeconds != 90 || got.ServerProcesses != nil {
		t.Fatalf("legacy fleet: %s; want only GameSessionActivationTimeoutSeconds 90", show(got))
	}

	runErrCases(t, []errCase{
		{"FleetId missing", func() error {
			_, err := f.svc.DescribeRuntimeConfiguration(f.ctx, &shapes.DescribeRuntimeConfigurationInput{})
			return err
		}, "", "FleetId"},
		{"FleetId pattern", func() error {
			_, err := f.svc.DescribeRuntimeConfiguration(f.ctx, &shapes.DescribeRuntimeConfigurationInput{FleetId: ptr("nope")})
			return err
		}, "", "FleetId"},
		{"unknown fleet", func() error {
			_, err := f.svc.DescribeRuntimeConfiguration(f.ctx, &shapes.DescribeRuntimeConfigurationInput{FleetId: ptr("fleet-nope")})
			return err
		}, apierr.NotFound, "fleet-nope"},
	})
}

// The activation timeout set by UpdateRuntimeConfiguration bounds ACTIVATING.
func TestRuntimeConfigurationActivationTimeout(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	fxMust(f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID), RuntimeConfiguration: &shapes.RuntimeConfiguration{
		ServerProcesses:                     []shapes.ServerProcess{sp("/opt/game/server", 1)},
		GameSessionActivationTimeoutSeconds: ptr(int32(30)),
	}}))(t)
	f.readyProcess(fl.ID, "host-1", "p1")
	gs := f.createGameSession(fl.ID, "custom-a")
	f.clk.Advance(30*time.Second - time.Millisecond)
	if st := f.gameSessionStatus(gs); st != model.GameSessionActivating {
		t.Fatalf("at 29.999 s: %s; want ACTIVATING", st)
	}
	f.clk.Advance(time.Millisecond)
	if st := f.gameSessionStatus(gs); st != model.GameSessionTerminated {
		t.Fatalf("at 30 s: %s; want TERMINATED", st)
	}
}

func TestUpdateRuntimeConfigurationPushesToAgents(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	other := f.fleet("custom-a")
	mine1 := f.attachAgent(fl.Arn, "host-1") // agents may name their fleet by ARN
	mine2 := f.attachAgent(fl.ID, "host-2")
	theirs := f.attachAgent(other.ID, "host-3")
	fxMust(f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID), RuntimeConfiguration: &shapes.RuntimeConfiguration{
		ServerProcesses: []shapes.ServerProcess{sp("/opt/game/server", 1)},
	}}))(t)
	want := []agentmsg.RuntimeConfigurationChanged{{Action: agentmsg.PushRuntimeConfigurationChanged}}
	for name, r := range map[string]*recorder{"host-1": mine1, "host-2": mine2} {
		if got := framesOf[agentmsg.RuntimeConfigurationChanged](r); !reflect.DeepEqual(got, want) {
			t.Errorf("%s got %v; want one RuntimeConfigurationChanged", name, got)
		}
	}
	if n := len(framesOf[agentmsg.RuntimeConfigurationChanged](theirs)); n != 0 {
		t.Errorf("an agent of another fleet got %d pushes", n)
	}
	// A failed update pushes nothing.
	_, err := f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID), RuntimeConfiguration: &shapes.RuntimeConfiguration{}})
	wantErr(t, err, apierr.InvalidRequest, "ServerProcesses")
	if n := len(framesOf[agentmsg.RuntimeConfigurationChanged](mine1)); n != 1 {
		t.Errorf("after a refused update: %d pushes; want still 1", n)
	}
}

// MaxConcurrentGameSessionActivations caps ACTIVATING game sessions per compute.
func TestMaxConcurrentGameSessionActivations(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	f.compute(fl.ID, "host-2", "custom-a")
	fxMust(f.svc.UpdateRuntimeConfiguration(f.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: ptr(fl.ID), RuntimeConfiguration: &shapes.RuntimeConfiguration{
		ServerProcesses:                     []shapes.ServerProcess{sp("/opt/game/server", 3)},
		MaxConcurrentGameSessionActivations: ptr(int32(1)),
	}}))(t)
	id1 := f.readyProcess(fl.ID, "host-1", "a1")
	f.readyProcess(fl.ID, "host-1", "a2")
	first := f.createGameSession(fl.ID, "custom-a")
	// host-1 is busy activating one; the second goes nowhere until host-2 has a process.
	_, err := f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(2))})
	wantErr(t, err, apierr.FleetCapacityExceeded, fl.ID)
	f.readyProcess(fl.ID, "host-2", "b1")
	if g := f.getGameSession(f.createGameSession(fl.ID, "custom-a")); g.ComputeName != "host-2" {
		t.Fatalf("second session on %s; want host-2", g.ComputeName)
	}
	// Once the first is ACTIVE, host-1 may start another.
	if err := f.svc.ActivateGameSession(f.ctx, id1, sdkmsg.ActivateGameSession{GameSessionId: first}); err != nil {
		t.Fatal(err)
	}
	if g := f.getGameSession(f.createGameSession(fl.ID, "custom-a")); g.ProcessID != "a2" {
		t.Fatalf("third session on %s; want a2", g.ProcessID)
	}
}

// Helpers shared by the agent tests.

// readyProcess connects, activates and heartbeats a process, which makes it
// eligible to host.
func (f *fx) readyProcess(fleetID, computeName, pid string) sdkmsg.Identity {
	f.t.Helper()
	id := sdkmsg.Identity{ProcessID: pid, FleetID: fleetID, ComputeName: computeName}
	f.svc.Attach(id, &recorder{})
	if err := f.svc.ActivateServerProcess(f.ctx, id, sdkmsg.ActivateServerProcess{Port: 7777}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.HeartbeatServerProcess(f.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) createGameSession(fleetID, loc string) string {
	f.t.Helper()
	out := fxMust(f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fleetID), Location: ptr(loc), MaximumPlayerSessionCount: ptr(int32(4))}))(f.t)
	return *out.GameSession.GameSessionId
}

func (f *fx) getGameSession(id string) model.GameSession {
	f.t.Helper()
	var g model.GameSession
	err := f.st.View(f.ctx, func(tx store.Tx) error {
		var err error
		g, err = tx.GetGameSession(id)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

func (f *fx) gameSessionStatus(id string) model.GameSessionStatus { return f.getGameSession(id).Status }

func (f *fx) attachAgent(fleetID, computeName string) *recorder {
	r := &recorder{}
	f.svc.AttachAgent(agentmsg.Identity{FleetID: fleetID, ComputeName: computeName}, r)
	return r
}

// framesOf returns the frames of type T that r has received, in order.
func framesOf[T any](r *recorder) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	for _, f := range r.frames {
		if v, ok := f.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// show renders a value with its pointers followed, for failure messages.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
