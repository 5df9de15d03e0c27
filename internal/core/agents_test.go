package core

import (
	"fmt"
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

func (f *fx) heartbeat(id agentmsg.Identity, pids ...string) agentmsg.HeartbeatReply {
	f.t.Helper()
	return fxMust(f.svc.AgentHeartbeat(f.ctx, id, agentmsg.Heartbeat{ProcessIds: pids}))(f.t)
}

// states renders a heartbeat reply's process states.
func states(r agentmsg.HeartbeatReply) string {
	var parts []string
	for _, p := range r.Processes {
		s := p.ProcessId + "=" + p.State
		if p.GameSessionId != "" {
			s += "(" + p.GameSessionId + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestAgentHeartbeatStates(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	f.compute(fl.ID, "h2", "custom-a")
	agent := agentmsg.Identity{FleetID: fl.Arn, ComputeName: "h1"}

	if got := states(f.heartbeat(agent, "p1")); got != "p1=UNKNOWN" {
		t.Fatalf("before InitSDK: %s", got)
	}
	// InitSDK: the SDK socket is attached.
	sdk := sdkmsg.Identity{ProcessID: "p1", FleetID: fl.ID, ComputeName: "h1"}
	proc := &recorder{}
	f.svc.Attach(sdk, proc)
	if got := states(f.heartbeat(agent, "p1")); got != "p1=CONNECTED" {
		t.Fatalf("after InitSDK: %s", got)
	}
	// ProcessReady.
	if err := f.svc.ActivateServerProcess(f.ctx, sdk, sdkmsg.ActivateServerProcess{Port: 7000}); err != nil {
		t.Fatal(err)
	}
	if got := states(f.heartbeat(agent, "p1")); got != "p1=ACTIVE" {
		t.Fatalf("after ProcessReady: %s", got)
	}
	if err := f.svc.HeartbeatServerProcess(f.ctx, sdk, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		t.Fatal(err)
	}
	gs := f.createGameSession(fl.ID, "custom-a")
	if got := states(f.heartbeat(agent, "p1")); got != "p1=ACTIVE("+gs+")" {
		t.Fatalf("hosting: %s", got)
	}
	// Told to terminate, it is still running.
	fxMust(f.svc.TerminateGameSession(f.ctx, &shapes.TerminateGameSessionInput{GameSessionId: ptr(gs), TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}))(t)
	if got := states(f.heartbeat(agent, "p1")); got != "p1=ACTIVE("+gs+")" {
		t.Fatalf("terminating: %s", got)
	}
	// ProcessEnding.
	if err := f.svc.TerminateServerProcess(f.ctx, sdk); err != nil {
		t.Fatal(err)
	}
	if got := states(f.heartbeat(agent, "p1")); got != "p1=TERMINATED" {
		t.Fatalf("after ProcessEnding: %s", got)
	}

	// An agent learns nothing about processes of other computes, connected
	// or active, nor does another fleet's agent about this one's.
	f.readyProcess(fl.ID, "h2", "q1")
	f.svc.Attach(sdkmsg.Identity{ProcessID: "q2", FleetID: fl.ID, ComputeName: "h2"}, &recorder{})
	if got := states(f.heartbeat(agent, "q1", "q2", "p1")); got != "q1=UNKNOWN q2=UNKNOWN p1=TERMINATED" {
		t.Fatalf("other compute's processes: %s", got)
	}
	if r := f.heartbeat(agent); r.Processes == nil || len(r.Processes) != 0 {
		t.Fatalf("empty heartbeat: %#v; want an empty, non-nil list", r.Processes)
	}

	_, err := f.svc.AgentHeartbeat(f.ctx, agentmsg.Identity{FleetID: fl.ID, ComputeName: "nope"}, agentmsg.Heartbeat{})
	wantErr(t, err, apierr.NotFound, "nope")
	_, err = f.svc.AgentHeartbeat(f.ctx, agent, agentmsg.Heartbeat{ProcessIds: make([]string, 1001)})
	wantErr(t, err, apierr.InvalidRequest, "ProcessIds")
}

func TestAgentHeartbeatScaledToZeroAndDraining(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a", "custom-b")
	f.compute(fl.ID, "h1", "custom-a")
	f.compute(fl.ID, "h2", "custom-b")
	a, b := agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}, agentmsg.Identity{FleetID: fl.ID, ComputeName: "h2"}
	if f.heartbeat(a).ScaledToZero {
		t.Fatal("ScaledToZero before any capacity was set")
	}
	// A stored desired count that is not 0 does not scale to zero either.
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), DesiredInstances: ptr(int32(1))}))(t)
	if f.heartbeat(a).ScaledToZero {
		t.Fatal("ScaledToZero with desired 1")
	}
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), DesiredInstances: ptr(int32(0))}))(t)
	if !f.heartbeat(a).ScaledToZero {
		t.Fatal("not ScaledToZero with desired 0")
	}
	if f.heartbeat(b).ScaledToZero {
		t.Fatal("the other location is ScaledToZero")
	}
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), DesiredInstances: ptr(int32(1))}))(t)
	if f.heartbeat(a).ScaledToZero {
		t.Fatal("still ScaledToZero after desired 1")
	}

	// A heartbeat saying the agent is draining drains the compute.
	fxMust(f.svc.AgentHeartbeat(f.ctx, b, agentmsg.Heartbeat{Draining: true}))(t)
	d := fxMust(f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("h2")}))(t)
	if d.Compute.ComputeStatus != "TERMINATING" {
		t.Fatalf("h2 after a draining heartbeat: %s", d.Compute.ComputeStatus)
	}
}

func TestAgentProcessExited(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	f.compute(fl.ID, "h2", "custom-a")
	agent := agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}
	f.attachAgent(fl.ID, "h1")
	sdk := sdkmsg.Identity{ProcessID: "p1", FleetID: fl.ID, ComputeName: "h1"}
	proc := &recorder{}
	f.svc.Attach(sdk, proc)
	if err := f.svc.ActivateServerProcess(f.ctx, sdk, sdkmsg.ActivateServerProcess{Port: 7000}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.HeartbeatServerProcess(f.ctx, sdk, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		t.Fatal(err)
	}
	gs := f.createGameSession(fl.ID, "custom-a")
	if err := f.svc.ActivateGameSession(f.ctx, sdk, sdkmsg.ActivateGameSession{GameSessionId: gs}); err != nil {
		t.Fatal(err)
	}
	ps := fxMust(f.svc.CreatePlayerSession(f.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: ptr(gs), PlayerId: ptr("pl")}))(t)

	// The agent of another compute cannot end it.
	other := agentmsg.Identity{FleetID: fl.ID, ComputeName: "h2"}
	if err := f.svc.AgentProcessExited(f.ctx, other, agentmsg.ProcessExited{ProcessId: "p1"}); err != nil {
		t.Fatal(err)
	}
	if st := f.gameSessionStatus(gs); st != model.GameSessionActive {
		t.Fatalf("after another compute's report: %s", st)
	}

	f.clk.Advance(time.Second)
	err := f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{ProcessId: "p1", EventCode: "SERVER_PROCESS_CRASHED", ExitCode: 139, Message: "p1 died of SIGSEGV"})
	if err != nil {
		t.Fatal(err)
	}
	g := f.getGameSession(gs)
	if g.Status != model.GameSessionTerminated || !g.TerminationTime.Equal(fxT0.Add(time.Second)) || g.CurrentPlayerSessionCount != 0 {
		t.Fatalf("game session after the crash: %s at %v with %d players", g.Status, g.TerminationTime, g.CurrentPlayerSessionCount)
	}
	pl := fxMust(f.svc.DescribePlayerSessions(f.ctx, &shapes.DescribePlayerSessionsInput{PlayerSessionId: ps.PlayerSession.PlayerSessionId}))(t)
	if pl.PlayerSessions[0].Status != "COMPLETED" {
		t.Fatalf("player session after the crash: %s", pl.PlayerSessions[0].Status)
	}
	ev := f.events(fl.ID)[0]
	if ev.EventCode != "SERVER_PROCESS_CRASHED" || deref(ev.Message) != "Server process p1 on compute h1: p1 died of SIGSEGV" || !ev.EventTime.Equal(fxT0.Add(time.Second)) {
		t.Fatalf("latest event = %s", show(ev))
	}
	if got := states(f.heartbeat(agent, "p1")); got != "p1=TERMINATED" {
		t.Fatalf("heartbeat after the exit: %s", got)
	}
	if n := proc.terminations(); n != 0 {
		t.Fatalf("the dead process was pushed %d TerminateProcess", n)
	}
	// It is gone: no new game session can land on it.
	_, err = f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(1))})
	wantErr(t, err, apierr.FleetCapacityExceeded, fl.ID)

	// A process the service never saw still leaves its event, with a
	// default message when the agent gives none; a normal exit leaves none.
	f.clk.Advance(time.Second)
	if err := f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{ProcessId: "ghost", EventCode: "SERVER_PROCESS_INVALID_PATH", ExitCode: 2}); err != nil {
		t.Fatal(err)
	}
	ev = f.events(fl.ID)[0]
	if ev.EventCode != "SERVER_PROCESS_INVALID_PATH" || !strings.Contains(deref(ev.Message), "ghost") || !strings.Contains(deref(ev.Message), "code 2") {
		t.Fatalf("event for an unseen process = %s", show(ev))
	}
	before := len(f.events(fl.ID))
	if err := f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{ProcessId: "ghost-2"}); err != nil {
		t.Fatal(err)
	}
	// A very long message is cut to the event's size.
	f.clk.Advance(time.Second)
	if err := f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{ProcessId: "chatty", EventCode: "SERVER_PROCESS_CRASHED", Message: strings.Repeat("é", 5000)}); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(deref(f.events(fl.ID)[0].Message))); n != maxEventMessageRunes {
		t.Fatalf("long message kept %d characters; want %d", n, maxEventMessageRunes)
	}

	runErrCases(t, []errCase{
		{"ProcessId missing", func() error {
			return f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{EventCode: "SERVER_PROCESS_CRASHED"})
		}, "", "ProcessId"},
		{"EventCode unknown", func() error {
			return f.svc.AgentProcessExited(f.ctx, agent, agentmsg.ProcessExited{ProcessId: "x", EventCode: "FLEET_DELETED"})
		}, "", "EventCode"},
		{"compute unknown", func() error {
			return f.svc.AgentProcessExited(f.ctx, agentmsg.Identity{FleetID: fl.ID, ComputeName: "gone"}, agentmsg.ProcessExited{ProcessId: "x"})
		}, apierr.NotFound, "gone"},
	})
	if n := len(f.events(fl.ID)); n != before+1 {
		t.Fatalf("%d events after the refused reports; want %d", n, before+1)
	}
}

func TestAgentDrainCompute(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	f.compute(fl.ID, "h2", "custom-a")
	tok := *fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("h1")}))(t).AuthToken

	// h1 runs: p1 hosting a session, p2 hosting one being terminated (so it
	// was told already), p3 connected but not ready, p4 idle. h2 runs q1.
	sdkOf := map[string]*recorder{}
	for _, pid := range []string{"p1", "p2", "p3", "p4"} {
		r := &recorder{}
		sdkOf[pid] = r
		id := sdkmsg.Identity{ProcessID: pid, FleetID: fl.ID, ComputeName: "h1"}
		f.svc.Attach(id, r)
		if pid == "p3" {
			continue
		}
		if err := f.svc.ActivateServerProcess(f.ctx, id, sdkmsg.ActivateServerProcess{Port: 7000}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.HeartbeatServerProcess(f.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
			t.Fatal(err)
		}
	}
	busy := f.createGameSession(fl.ID, "custom-a") // on p1, the oldest
	doomed := f.createGameSession(fl.ID, "custom-a")
	if g := f.getGameSession(doomed); g.ProcessID != "p2" {
		t.Fatalf("second session on %s; want p2", g.ProcessID)
	}
	fxMust(f.svc.TerminateGameSession(f.ctx, &shapes.TerminateGameSessionInput{GameSessionId: ptr(doomed), TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}))(t)
	q1 := &recorder{}
	f.svc.Attach(sdkmsg.Identity{ProcessID: "q1", FleetID: fl.ID, ComputeName: "h2"}, q1)

	told := map[string]int{}
	for pid, r := range sdkOf {
		told[pid] = r.terminations()
	}
	f.clk.Advance(time.Second)
	deadline := fxT0.Add(2 * time.Minute)
	agent := agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}
	if err := f.svc.AgentDrainCompute(f.ctx, agent, agentmsg.Drain{TerminationDeadlineMillis: deadline.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{"p1", "p3", "p4"} {
		tps := framesOf[sdkmsg.TerminateProcess](sdkOf[pid])
		if len(tps) != told[pid]+1 || tps[len(tps)-1].TerminationTime != deadline.UnixMilli() {
			t.Errorf("%s got %+v; want one more TerminateProcess with TerminationTime %d", pid, tps, deadline.UnixMilli())
		}
	}
	if n := sdkOf["p2"].terminations(); n != told["p2"] {
		t.Errorf("p2, already terminating, was told again (%d → %d)", told["p2"], n)
	}
	if n := q1.terminations(); n != 0 {
		t.Errorf("a process of another compute got %d TerminateProcess", n)
	}
	// Its processes run on (they finish their sessions) but host nothing new.
	if got := states(f.heartbeat(agent, "p1", "p4")); got != "p1=ACTIVE("+busy+") p4=ACTIVE" {
		t.Fatalf("heartbeat while draining: %s", got)
	}
	_, err := f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(1))})
	wantErr(t, err, apierr.FleetCapacityExceeded, fl.ID)
	// An ACTIVE process on a draining compute is passed over, too: pickProcess
	// checks the compute, not only the process.
	f.update(func(tx store.Tx) error {
		p, err := tx.GetProcess("p4")
		if err != nil {
			return err
		}
		p.Status = model.ProcessActive
		return tx.PutProcess(p)
	})
	_, err = f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(1))})
	wantErr(t, err, apierr.FleetCapacityExceeded, fl.ID)
	f.readyProcess(fl.ID, "h2", "q1")
	if g := f.getGameSession(f.createGameSession(fl.ID, "custom-a")); g.ComputeName != "h2" {
		t.Fatalf("placed on %s; want h2", g.ComputeName)
	}
	// Its processes and its agent can still authenticate (to reconnect).
	if err := f.svc.Authenticate(f.ctx, fl.ID, "h1", tok); err != nil {
		t.Fatalf("draining compute refused: %v", err)
	}
	// A repeated drain tells nobody again.
	if err := f.svc.AgentDrainCompute(f.ctx, agent, agentmsg.Drain{TerminationDeadlineMillis: deadline.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if n := sdkOf["p1"].terminations(); n != told["p1"]+1 {
		t.Errorf("p1 after a repeated drain: %d TerminateProcess; want %d", n, told["p1"]+1)
	}

	runErrCases(t, []errCase{
		{"negative deadline", func() error {
			return f.svc.AgentDrainCompute(f.ctx, agent, agentmsg.Drain{TerminationDeadlineMillis: -1})
		}, "", "TerminationDeadlineMillis"},
		{"unknown compute", func() error {
			return f.svc.AgentDrainCompute(f.ctx, agentmsg.Identity{FleetID: fl.ID, ComputeName: "h9"}, agentmsg.Drain{})
		}, apierr.NotFound, "h9"},
	})
}

func TestForceTerminate(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	sdk := f.readyProcess(fl.ID, "h1", "p1")
	proc := &recorder{}
	f.svc.Attach(sdk, proc)
	gs := f.createGameSession(fl.ID, "custom-a")
	force := &shapes.TerminateGameSessionInput{GameSessionId: ptr(gs), TerminationMode: "FORCE_TERMINATE"}

	// Without an agent, as GameLift on Anywhere computes without its agent.
	_, err := f.svc.TerminateGameSession(f.ctx, force)
	wantErr(t, err, apierr.InvalidRequest, "FORCE_TERMINATE")
	if st := f.gameSessionStatus(gs); st != model.GameSessionActivating {
		t.Fatalf("refused force changed the session to %s", st)
	}

	agent := f.attachAgent(fl.ID, "h1")
	out := fxMust(f.svc.TerminateGameSession(f.ctx, force))(t)
	if out.GameSession.Status != "TERMINATING" || out.GameSession.StatusReason != "FORCE_TERMINATED" {
		t.Fatalf("returned %s/%s; want TERMINATING/FORCE_TERMINATED", out.GameSession.Status, out.GameSession.StatusReason)
	}
	want := agentmsg.ForceExit{Action: agentmsg.PushForceExit, ProcessId: "p1", TerminationReason: "SERVER_PROCESS_FORCE_TERMINATED"}
	if got := framesOf[agentmsg.ForceExit](agent); len(got) != 1 || got[0] != want {
		t.Fatalf("agent got %+v; want %+v", got, want)
	}
	if n := proc.terminations(); n != 0 {
		t.Fatalf("the process was asked to terminate gracefully (%d)", n)
	}
	// Forcing again pushes again: the agent may have missed it.
	fxMust(f.svc.TerminateGameSession(f.ctx, force))(t)
	if n := len(framesOf[agentmsg.ForceExit](agent)); n != 2 {
		t.Fatalf("%d ForceExit after forcing twice; want 2", n)
	}

	f.clk.Advance(time.Second)
	if err := f.svc.AgentProcessExited(f.ctx, agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}, agentmsg.ProcessExited{ProcessId: "p1", EventCode: "SERVER_PROCESS_FORCE_TERMINATED", ExitCode: -1}); err != nil {
		t.Fatal(err)
	}
	g := f.getGameSession(gs)
	if g.Status != model.GameSessionTerminated || g.StatusReason != model.ReasonForceTerminated {
		t.Fatalf("after the exit: %s/%s; want TERMINATED/FORCE_TERMINATED", g.Status, g.StatusReason)
	}
	if codes := eventCodes(f.events(fl.ID)); codes[0] != "SERVER_PROCESS_FORCE_TERMINATED" {
		t.Fatalf("events %v", codes)
	}
	_, err = f.svc.TerminateGameSession(f.ctx, force)
	wantErr(t, err, apierr.InvalidGameSessionStatus, "TERMINATED")
}

// Forcing a session that is ending gracefully escalates it; if the agent never
// reports the exit, the termination grace ends the session anyway.
func TestForceTerminateEscalatesAndTimesOut(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	f.readyProcess(fl.ID, "h1", "p1")
	gs := f.createGameSession(fl.ID, "custom-a")
	agent := f.attachAgent(fl.ID, "h1")
	fxMust(f.svc.TerminateGameSession(f.ctx, &shapes.TerminateGameSessionInput{GameSessionId: ptr(gs), TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}))(t)
	out := fxMust(f.svc.TerminateGameSession(f.ctx, &shapes.TerminateGameSessionInput{GameSessionId: ptr(gs), TerminationMode: "FORCE_TERMINATE"}))(t)
	if out.GameSession.StatusReason != "FORCE_TERMINATED" || len(framesOf[agentmsg.ForceExit](agent)) != 1 {
		t.Fatalf("escalation: reason %s, %d ForceExit", out.GameSession.StatusReason, len(framesOf[agentmsg.ForceExit](agent)))
	}
	// The agent goes away without reporting; keep the process heartbeating
	// so that only the termination grace (5 min) can end it.
	f.svc.DetachAgent(agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}, agent)
	sdk := sdkmsg.Identity{ProcessID: "p1", FleetID: fl.ID, ComputeName: "h1"}
	for range 5 {
		f.clk.Advance(time.Minute)
		if err := f.svc.HeartbeatServerProcess(f.ctx, sdk, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
			t.Fatal(err)
		}
	}
	g := f.getGameSession(gs)
	if g.Status != model.GameSessionTerminated || g.StatusReason != model.ReasonForceTerminated {
		t.Fatalf("after the grace: %s/%s", g.Status, g.StatusReason)
	}
	if codes := fmt.Sprint(eventCodes(f.events(fl.ID))); !strings.Contains(codes, "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT") {
		t.Fatalf("events %s", codes)
	}
}

// Agents are pushed fresh tokens as processes are, including agents whose
// compute has no connected process.
func TestAgentRefreshConnection(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	agent := f.attachAgent(fl.Arn, "h1")
	tok := func() *shapes.GetComputeAuthTokenOutput {
		return fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("h1")}))(t)
	}
	push := func(o *shapes.GetComputeAuthTokenOutput) agentmsg.RefreshConnection {
		return agentmsg.RefreshConnection{Action: agentmsg.PushRefreshConnection, AuthToken: *o.AuthToken, ExpirationTimeMillis: o.ExpirationTimestamp.UnixMilli()}
	}
	t1 := tok()
	if got := framesOf[agentmsg.RefreshConnection](agent); len(got) != 1 || got[0] != push(t1) {
		t.Fatalf("after the first mint: %+v; want %+v", got, push(t1))
	}
	// The refresh loop rotates at three quarters of the lifetime.
	f.clk.Advance(45 * time.Minute)
	t2 := tok()
	if *t2.AuthToken == *t1.AuthToken {
		t.Fatal("the loop did not rotate the token of a compute with only an agent connected")
	}
	if got := framesOf[agentmsg.RefreshConnection](agent); len(got) != 2 || got[1] != push(t2) {
		t.Fatalf("after the rotation: %+v; want a second push of %+v", got, push(t2))
	}
	// Once detached, the agent hears nothing more.
	f.svc.DetachAgent(agentmsg.Identity{FleetID: fl.ID, ComputeName: "h1"}, agent)
	f.clk.Advance(45 * time.Minute)
	if n := len(framesOf[agentmsg.RefreshConnection](agent)); n != 2 {
		t.Fatalf("%d pushes after detaching; want 2", n)
	}
}
