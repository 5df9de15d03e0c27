package agentws_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/agentws"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/shapes"
)

func TestRefusedUpgrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	tok := e.register("host-1")
	other := newEnv(t, agentws.Options{}) // a fleet of another service
	for _, tc := range []struct {
		name   string
		url    string
		status int
		body   string
	}{
		{"wrong token", e.agentURL(e.fleet, "host-1", strings.Repeat("0", 64)), http.StatusUnauthorized, "not valid"},
		{"another compute's token", e.agentURL(e.fleet, "host-2", tok), http.StatusUnauthorized, "not valid"},
		{"unknown compute", e.agentURL(e.fleet, "nobody", tok), http.StatusUnauthorized, "not valid"},
		{"unknown fleet", e.agentURL(other.fleet, "host-1", tok), http.StatusUnauthorized, "not valid"},
		{"no token", e.agentURL(e.fleet, "host-1", ""), http.StatusUnauthorized, "Authorization"},
		{"no fleet", e.agentURL("", "host-1", tok), http.StatusBadRequest, "FleetId"},
		{"no compute", e.agentURL(e.fleet, "", tok), http.StatusBadRequest, "ComputeName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(tc.url, nil)
			if err == nil {
				ws.Close()
				t.Fatal("upgrade accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("response %v (%v); want HTTP %d", resp, err, tc.status)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tc.body) {
				t.Fatalf("body %q does not mention %q", body, tc.body)
			}
		})
	}

	// An expired token is refused too (the refresh loop is what keeps agents
	// supplied; here nobody is connected to receive a fresh one).
	e.clk.Advance(61 * time.Minute)
	if _, resp, err := websocket.DefaultDialer.Dial(e.agentURL(e.fleet, "host-1", tok), nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired token: %v", err)
	}

	// A plain GET is not an agent.
	resp, err := http.Get(e.srv.URL + agentmsg.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode/100 == 2 {
		t.Fatalf("plain GET answered %d", resp.StatusCode)
	}

	// None of the refused upgrades attached an agent: FORCE_TERMINATE is
	// still refused on host-1.
	tok = e.register("host-1")
	e.startProcess("host-1", "p1", true)
	gs := e.createGameSession()
	_, err = e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "FORCE_TERMINATE"})
	if apierr.CodeOf(err) != apierr.InvalidRequest {
		t.Fatalf("FORCE_TERMINATE without an agent: %v", err)
	}
}

// The handler refuses anything but a WebSocket upgrade when reached directly.
func TestNotAnUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	rec := httptestRecorder()
	req, _ := http.NewRequest(http.MethodGet, e.agentURL(e.fleet, "h", "t"), nil)
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUpgradeRequired || rec.Header().Get("Upgrade") != "websocket" {
		t.Fatalf("got %d, Upgrade %q", rec.Code, rec.Header().Get("Upgrade"))
	}
}

// The heartbeat reply follows a process through its life: unknown until
// InitSDK, connected until ProcessReady, active while it runs (with its game
// session), terminated once the agent reports its exit, which also ends the
// game session and records the event.
func TestHeartbeatThroughProcessLife(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	agent := e.dialAgent("host-1")
	hb := func(pids ...string) map[string]any {
		t.Helper()
		r := agent.ok(agent.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{ProcessIds: pids}))
		if r["Action"] != agentmsg.ActionHeartbeat {
			t.Fatalf("reply Action %v; want it echoed", r["Action"])
		}
		return r
	}
	if got := states(hb("p1")); got != "p1=UNKNOWN" {
		t.Fatalf("before InitSDK: %s", got)
	}
	proc := e.startProcess("host-1", "p1", false)
	if got := states(hb("p1")); got != "p1=CONNECTED" {
		t.Fatalf("after InitSDK: %s", got)
	}
	proc.ok(proc.call("ActivateServerProcess", map[string]any{"Port": 7777, "LogPaths": []string{}}))
	if got := states(hb("p1")); got != "p1=ACTIVE" {
		t.Fatalf("after ProcessReady: %s", got)
	}
	proc.ok(proc.call("HeartbeatServerProcess", map[string]any{"HealthStatus": true}))
	gs := e.createGameSession()
	if push := proc.push(); push["Action"] != "CreateGameSession" {
		t.Fatalf("process got %v; want CreateGameSession", push)
	}
	proc.ok(proc.call("ActivateGameSession", map[string]any{"GameSessionId": gs}))
	ps := must(e.svc.CreatePlayerSession(e.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr("player")}))(t)
	if got := states(hb("p1", "p2")); got != "p1=ACTIVE("+gs+") p2=UNKNOWN" {
		t.Fatalf("hosting: %s", got)
	}
	if r := hb(); r["ScaledToZero"] != nil {
		t.Fatalf("ScaledToZero %v before any capacity was set", r["ScaledToZero"])
	}

	// The process crashes; the agent reports it.
	e.clk.Advance(time.Second)
	r := agent.ok(agent.call(agentmsg.ActionProcessExited, agentmsg.ProcessExited{ProcessId: "p1", EventCode: "SERVER_PROCESS_CRASHED", ExitCode: 134, Message: "p1 aborted"}))
	if len(r) != 3 {
		t.Fatalf("ProcessExited reply %v; want only Action, RequestId, StatusCode", r)
	}
	if got := states(hb("p1")); got != "p1=TERMINATED" {
		t.Fatalf("after the exit: %s", got)
	}
	g := e.gameSession(gs)
	if g.Status != "TERMINATED" || g.TerminationTime == nil || !g.TerminationTime.Equal(t0.Add(time.Second)) {
		t.Fatalf("game session after the exit: %s at %v", g.Status, g.TerminationTime)
	}
	p := must(e.svc.DescribePlayerSessions(e.ctx, &shapes.DescribePlayerSessionsInput{PlayerSessionId: ps.PlayerSession.PlayerSessionId}))(t)
	if p.PlayerSessions[0].Status != "COMPLETED" {
		t.Fatalf("player session after the exit: %s", p.PlayerSessions[0].Status)
	}
	ev := must(e.svc.DescribeFleetEvents(e.ctx, &shapes.DescribeFleetEventsInput{FleetId: &e.fleet, Limit: ptr(int32(1))}))(t).Events[0]
	if ev.EventCode != "SERVER_PROCESS_CRASHED" || *ev.Message != "Server process p1 on compute host-1: p1 aborted" {
		t.Fatalf("latest event %s: %s", ev.EventCode, *ev.Message)
	}
	proc.noPush(50 * time.Millisecond) // it is gone: nothing is sent to it

	// Scaling the location to zero shows in the next heartbeat.
	must(e.svc.UpdateFleetCapacity(e.ctx, &shapes.UpdateFleetCapacityInput{FleetId: &e.fleet, DesiredInstances: ptr(int32(0))}))(t)
	if r := hb(); r["ScaledToZero"] != true {
		t.Fatalf("ScaledToZero %v after desired 0", r["ScaledToZero"])
	}
}

func TestDrainCompute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	e.register("host-2")
	agent := e.dialAgent("host-1")
	p1 := e.startProcess("host-1", "p1", true)
	p2 := e.startProcess("host-1", "p2", false) // connected, not ready yet
	q1 := e.startProcess("host-2", "q1", true)

	deadline := time.Now().Add(time.Minute).UnixMilli()
	r := agent.ok(agent.call(agentmsg.ActionDrain, agentmsg.Drain{TerminationDeadlineMillis: deadline}))
	if r["Action"] != agentmsg.ActionDrain {
		t.Fatalf("reply %v", r)
	}
	for name, p := range map[string]*peer{"p1": p1, "p2": p2} {
		push := p.push()
		if push["Action"] != "TerminateProcess" || push["TerminationTime"] != float64(deadline) {
			t.Fatalf("%s got %v; want TerminateProcess with TerminationTime %d", name, push, deadline)
		}
	}
	q1.noPush(50 * time.Millisecond)

	// No game session lands on host-1 any more.
	gs := e.createGameSession()
	if g := e.gameSession(gs); *g.ComputeName != "host-2" {
		t.Fatalf("placed on %s; want host-2", *g.ComputeName)
	}
	_, err := e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: ptr(int32(1))})
	if apierr.CodeOf(err) != apierr.FleetCapacityExceeded {
		t.Fatalf("with host-2 busy and host-1 draining: %v", err)
	}
	d := must(e.svc.DescribeCompute(e.ctx, &shapes.DescribeComputeInput{FleetId: &e.fleet, ComputeName: ptr("host-1")}))(t)
	if d.Compute.ComputeStatus != "TERMINATING" {
		t.Fatalf("host-1 is %s while draining", d.Compute.ComputeStatus)
	}
	// The agent (and its processes) can still reconnect while draining.
	again := e.dialAgent("host-1")
	again.ok(again.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{Draining: true}))
}

func TestForceTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	proc := e.startProcess("host-1", "p1", true)
	gs := e.createGameSession()
	proc.push() // CreateGameSession
	force := &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "FORCE_TERMINATE"}

	_, err := e.svc.TerminateGameSession(e.ctx, force)
	if apierr.CodeOf(err) != apierr.InvalidRequest || !strings.Contains(err.Error(), "agent") {
		t.Fatalf("without an agent: %v; want InvalidRequestException about the agent", err)
	}

	agent := e.dialAgent("host-1")
	out := must(e.svc.TerminateGameSession(e.ctx, force))(t)
	if out.GameSession.Status != "TERMINATING" || out.GameSession.StatusReason != "FORCE_TERMINATED" {
		t.Fatalf("returned %s/%s", out.GameSession.Status, out.GameSession.StatusReason)
	}
	push := agent.push()
	want := map[string]any{"Action": "ForceExitServerProcess", "ProcessId": "p1", "TerminationReason": "SERVER_PROCESS_FORCE_TERMINATED"}
	if len(push) != len(want) || push["Action"] != want["Action"] || push["ProcessId"] != want["ProcessId"] || push["TerminationReason"] != want["TerminationReason"] {
		t.Fatalf("agent got %v; want %v", push, want)
	}
	proc.noPush(50 * time.Millisecond) // no graceful TerminateProcess

	agent.ok(agent.call(agentmsg.ActionProcessExited, agentmsg.ProcessExited{ProcessId: "p1", EventCode: "SERVER_PROCESS_FORCE_TERMINATED", ExitCode: -1}))
	if g := e.gameSession(gs); g.Status != "TERMINATED" || g.StatusReason != "FORCE_TERMINATED" {
		t.Fatalf("after the exit: %s/%s", g.Status, g.StatusReason)
	}

	// Once the agent is gone, FORCE_TERMINATE is refused again.
	agent.ws.Close()
	e.startProcess("host-1", "p2", true)
	gs2 := e.createGameSession()
	if !eventually(func() bool {
		_, err := e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs2, TerminationMode: "FORCE_TERMINATE"})
		return apierr.CodeOf(err) == apierr.InvalidRequest
	}) {
		t.Fatal("FORCE_TERMINATE still accepted after the agent disconnected")
	}
}

func TestRuntimeConfigurationChangedPush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	e.register("host-2")
	a1, a2 := e.dialAgent("host-1"), e.dialAgent("host-2")
	rc := &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{{LaunchPath: ptr("/opt/game/server"), ConcurrentExecutions: ptr(int32(3))}}}
	must(e.svc.UpdateRuntimeConfiguration(e.ctx, &shapes.UpdateRuntimeConfigurationInput{FleetId: &e.arn, RuntimeConfiguration: rc}))(t)
	for _, a := range []*peer{a1, a2} {
		if push := a.push(); len(push) != 1 || push["Action"] != "RuntimeConfigurationChanged" {
			t.Fatalf("agent got %v; want {Action: RuntimeConfigurationChanged}", push)
		}
	}
	a1.noPush(50 * time.Millisecond)
}

func TestRefreshConnectionPush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	agent := e.dialAgent("host-1")
	// The refresh loop mints at three quarters of the token's lifetime and
	// pushes the new token to the agent, even with no process running.
	e.clk.Advance(45 * time.Minute)
	push := agent.push()
	tok := must(e.svc.GetComputeAuthToken(e.ctx, &shapes.GetComputeAuthTokenInput{FleetId: &e.fleet, ComputeName: ptr("host-1")}))(t)
	if push["Action"] != "RefreshConnection" || push["AuthToken"] != *tok.AuthToken || push["ExpirationTimeMillis"] != float64(tok.ExpirationTimestamp.UnixMilli()) {
		t.Fatalf("agent got %v; want RefreshConnection with %s until %d", push, *tok.AuthToken, tok.ExpirationTimestamp.UnixMilli())
	}
	if *tok.AuthToken == e.tokens["host-1"] {
		t.Fatal("the token was not rotated")
	}
	// The agent reconnects with it.
	e.tokens["host-1"] = *tok.AuthToken
	e.dialAgent("host-1")
}

func TestBadFrames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, agentws.Options{})
	e.register("host-1")
	agent := e.dialAgent("host-1")
	for _, tc := range []struct {
		name, frame string
		status      float64
		requestID   string
		action      any
		msg         string
	}{
		{"unknown action", `{"Action":"Dance","RequestId":"r1"}`, 400, "r1", "Dance", "unknown Action"},
		{"push name", `{"Action":"ForceExitServerProcess","RequestId":"r2"}`, 400, "r2", nil, "sent by the service"},
		{"malformed body", `{"Action":"AgentHeartbeat","RequestId":"r3","ProcessIds":"p1"}`, 400, "r3", "AgentHeartbeat", "malformed AgentHeartbeat"},
		{"no RequestId", `{"Action":"AgentHeartbeat"}`, 400, "", "AgentHeartbeat", "RequestId is required"},
		{"RequestId not a string", `{"Action":"AgentHeartbeat","RequestId":7}`, 400, "", "AgentHeartbeat", "RequestId must be a string"},
		{"ProcessExited without ProcessId", `{"Action":"ProcessExited","RequestId":"r4"}`, 400, "r4", "ProcessExited", "ProcessId is required"},
		{"ProcessExited with a foreign code", `{"Action":"ProcessExited","RequestId":"r5","ProcessId":"p","EventCode":"FLEET_CREATED"}`, 400, "r5", "ProcessExited", "EventCode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent.send(tc.frame)
			r := agent.reply()
			if r["StatusCode"] != tc.status || r["RequestId"] != tc.requestID || r["Action"] != tc.action || !strings.Contains(r["ErrorMessage"].(string), tc.msg) {
				t.Fatalf("reply %v; want status %v, RequestId %q, Action %v, message about %q", r, tc.status, tc.requestID, tc.action, tc.msg)
			}
		})
	}
	// Frames that are not JSON objects get no reply but do not end the connection.
	agent.send(`[1,2]`)
	agent.send(`not json`)
	agent.ok(agent.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{}))

	// Once the compute is deregistered, requests are NotFound.
	must(e.svc.DeregisterCompute(e.ctx, &shapes.DeregisterComputeInput{FleetId: &e.fleet, ComputeName: ptr("host-1")}))(t)
	if r := agent.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{}); r["StatusCode"] != float64(404) {
		t.Fatalf("heartbeat of a deregistered compute: %v", r)
	}
}

func TestConnectionDiscipline(t *testing.T) {
	e := newEnv(t, agentws.Options{PingInterval: 50 * time.Millisecond, MaxMessageBytes: 4096})
	e.register("host-1")
	agent := e.dialAgent("host-1")
	// The server pings; answering keeps the connection up well past the idle
	// timeout of two intervals.
	for range 5 {
		select {
		case <-agent.pings:
		case <-time.After(waitFor):
			t.Fatal("no ping")
		}
	}
	agent.ok(agent.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{}))
	// A frame over the read limit ends the connection.
	agent.send(`{"Action":"AgentHeartbeat","RequestId":"big","ProcessIds":["` + strings.Repeat("x", 5000) + `"]}`)
	if err := agent.closed(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !isEOF(err) {
		t.Fatalf("after an oversized frame: %v", err)
	}

	// Close ends every agent connection with 1012 (service restart) and
	// detaches it: FORCE_TERMINATE is refused afterwards.
	a2 := e.dialAgent("host-1")
	e.startProcess("host-1", "p1", true)
	gs := e.createGameSession()
	e.h.Close()
	if err := a2.closed(); !websocket.IsCloseError(err, websocket.CloseServiceRestart) {
		t.Fatalf("after Close: %v; want close 1012", err)
	}
	_, err := e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "FORCE_TERMINATE"})
	if apierr.CodeOf(err) != apierr.InvalidRequest {
		t.Fatalf("FORCE_TERMINATE after Close: %v", err)
	}
	// And refuses new upgrades.
	if _, resp, err := websocket.DefaultDialer.Dial(e.agentURL(e.fleet, "host-1", e.tokens["host-1"]), nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade after Close: %v", err)
	}
}

// An agent that stops answering pings is dropped after two intervals.
func TestSilentAgentIsDropped(t *testing.T) {
	e := newEnv(t, agentws.Options{PingInterval: 20 * time.Millisecond})
	e.register("host-1")
	agent := e.dialAgent("host-1")
	agent.mute.Store(true)
	e.startProcess("host-1", "p1", true)
	gs := e.createGameSession()
	if !eventually(func() bool {
		_, err := e.svc.TerminateGameSession(e.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &gs, TerminationMode: "FORCE_TERMINATE"})
		return apierr.CodeOf(err) == apierr.InvalidRequest
	}) {
		t.Fatal("a silent agent is still attached")
	}
}
