package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// TestRestartAndTimeout checks, in real time, that a restart on the same data
// directory keeps every record and re-arms the 60 s player session timeout,
// that the game servers re-attach, and that unaccepted RESERVED sessions
// become TIMEDOUT 60 to 62 s after their CreationTime.
func TestRestartAndTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServe(t, dir, "127.0.0.1:0")
	c := newGoClient(srv.URL, adminCreds(), nil)
	a := setupAnywhere(t, c, "custom-restart", "restart-host")
	al, _ := must[gamelift.CreateAliasOutput](t, c, &gamelift.CreateAliasInput{Name: ptr("restart-alias"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: &a.fleetID}})
	aliasID := deref(al.Alias.AliasId)

	sim := startSim(t, a.simEnv("restart"), 2)
	ready := sim.waitReady(t, 2, 30*time.Second)
	waitProcesses(t, c, a.fleetID, 2)

	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{
		FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](10), Name: ptr("restart-game"),
		GameProperties: []types.GameProperty{{Key: ptr("k"), Value: ptr("v")}}, IdempotencyToken: ptr("restart-gs"),
	})
	gsID := deref(gs.GameSession.GameSessionId)
	host := portOf(t, ready, deref(waitGameSession(t, c, gsID, "ACTIVE", 15*time.Second).Port))

	// Reserve three, accept one.
	p1, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: ptr("stays"), PlayerData: ptr("d1")})
	pm, _ := must[gamelift.CreatePlayerSessionsOutput](t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &gsID, PlayerIds: []string{"late-a", "late-b"}})
	accepted := deref(p1.PlayerSession.PlayerSessionId)
	timeouts := map[string]time.Time{} // unaccepted id → CreationTime
	for _, p := range pm.PlayerSessions {
		timeouts[deref(p.PlayerSessionId)] = deref(p.CreationTime)
	}
	if len(timeouts) != 2 {
		t.Fatalf("CreatePlayerSessions: %d sessions, want 2", len(timeouts))
	}
	pl := dialPlayer(t, host.Addr)
	if got := pl.send(t, accepted); got != "OK accept "+accepted {
		t.Fatalf("accept before the restart: %q", got)
	}
	waitPlayerSession(t, c, accepted, "ACTIVE", 10*time.Second)

	before := snapshot(t, c, a, aliasID, gsID)

	// Restart on the same data directory and port.
	srv.stop(t)
	restartedAt := time.Now()
	srv2 := startServe(t, dir, srv.Addr)
	if srv2.URL != srv.URL {
		t.Fatalf("restarted serve listens on %s, want %s", srv2.URL, srv.URL)
	}
	c2 := newGoClient(srv2.URL, adminCreds(), nil)
	after := snapshot(t, c2, a, aliasID, gsID)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("after the restart, %s changed:\n before %s\n after  %s", k, v, after[k])
		}
	}

	// Re-attach: a new player session on that game session is accepted by
	// the same process (same pID) over its TCP port.
	p4, _ := must[gamelift.CreatePlayerSessionOutput](t, c2, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: ptr("after-restart")})
	newID := deref(p4.PlayerSession.PlayerSessionId)
	eventually(t, 45*time.Second, 250*time.Millisecond, "accept after the restart", func() error {
		got, err := pl.trySend(newID)
		if err != nil {
			return err
		}
		if got != "OK accept "+newID {
			return fmt.Errorf("%q", got)
		}
		return nil
	})
	t.Logf("the game server re-attached and accepted a player %v after the restart", time.Since(restartedAt))
	waitPlayerSession(t, c2, newID, "ACTIVE", 10*time.Second)
	if again := dialPlayer(t, host.Addr); again.pID != host.PID {
		t.Errorf("process on %s greets as %s after the restart, want %s", host.Addr, again.pID, host.PID)
	}
	if r := sim.readyLines(); len(r) != 2 {
		t.Errorf("sim printed READY %d times; want 2 (a re-attached process does not start over): %v", len(r), r)
	}

	// A new game session lands on the other, idle process and goes ACTIVE.
	var gs2 *gamelift.CreateGameSessionOutput
	eventually(t, 30*time.Second, 250*time.Millisecond, "CreateGameSession after the restart", func() error {
		out, _, err := call[gamelift.CreateGameSessionOutput](c2, &gamelift.CreateGameSessionInput{
			FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](2),
		})
		if err != nil {
			return err
		}
		gs2 = out
		return nil
	})
	active := waitGameSession(t, c2, deref(gs2.GameSession.GameSessionId), "ACTIVE", 15*time.Second)
	if other := portOf(t, ready, deref(active.Port)); other.PID == host.PID {
		t.Errorf("second game session placed on %s, which already hosts one", other.PID)
	}

	// The unaccepted sessions time out 60 to 62 s after creation; the
	// accepted ones stay ACTIVE, and the count follows.
	seen := map[string]time.Time{}
	deadline := time.Now().Add(90 * time.Second)
	for len(seen) < len(timeouts) && time.Now().Before(deadline) {
		out, _, err := call[gamelift.DescribePlayerSessionsOutput](c2, &gamelift.DescribePlayerSessionsInput{GameSessionId: &gsID})
		now := time.Now()
		if err != nil {
			t.Fatalf("DescribePlayerSessions: %v", err)
		}
		for _, p := range out.PlayerSessions {
			id := deref(p.PlayerSessionId)
			switch {
			case id == accepted || id == newID:
				if p.Status != types.PlayerSessionStatusActive {
					t.Fatalf("accepted player session %s is %s, want ACTIVE", id, p.Status)
				}
			case p.Status == types.PlayerSessionStatusTimedout:
				if _, ok := seen[id]; !ok {
					seen[id] = now
					created := timeouts[id]
					if d := now.Sub(created); d < 60*time.Second || d > 62*time.Second {
						t.Errorf("%s seen TIMEDOUT %v after its CreationTime, want 60 to 62 s", id, d)
					} else {
						t.Logf("%s seen TIMEDOUT %v after its CreationTime", id, d)
					}
					if p.TerminationTime == nil {
						t.Errorf("TIMEDOUT %s has no TerminationTime", id)
					} else if d := p.TerminationTime.Sub(created); d < 60*time.Second || d > 62*time.Second {
						t.Errorf("%s TerminationTime is %v after its CreationTime, want 60 to 62 s", id, d)
					}
				}
			case p.Status != types.PlayerSessionStatusReserved:
				t.Fatalf("player session %s is %s, want RESERVED until it times out", id, p.Status)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(seen) != len(timeouts) {
		t.Fatalf("only %d of %d RESERVED player sessions timed out within 90 s", len(seen), len(timeouts))
	}
	if n := deref(describeGameSession(t, c2, gsID).CurrentPlayerSessionCount); n != 2 {
		t.Errorf("CurrentPlayerSessionCount %d after the timeouts, want 2 (the two accepted players)", n)
	}
	if n := deref(utilization(t, c2, a.fleetID).CurrentPlayerSessionCount); n != 2 {
		t.Errorf("DescribeFleetUtilization.CurrentPlayerSessionCount %d after the timeouts, want 2", n)
	}
	timedOut := playerSessionsOf(t, c2, gsID, "TIMEDOUT", 1)
	if len(timedOut) != len(timeouts) {
		t.Errorf("DescribePlayerSessions(TIMEDOUT): %d sessions, want %d", len(timedOut), len(timeouts))
	}
	for _, s := range timedOut {
		if timeouts[deref(s.PlayerSessionId)].IsZero() {
			t.Errorf("unexpected TIMEDOUT session %s", deref(s.PlayerSessionId))
		}
	}
	srv2.stop(t)
}

// snapshot describes every record the test made, as canonical JSON per
// record, so that the records before and after a restart can be compared.
func snapshot(t *testing.T, c apiClient, a anywhere, aliasID, gsID string) map[string]string {
	t.Helper()
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	out := map[string]string{}
	fa, _ := must[gamelift.DescribeFleetAttributesOutput](t, c, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{a.fleetID}})
	out["fleet"] = js(fa.FleetAttributes)
	ll, _ := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{})
	out["locations"] = js(ll.Locations)
	dc, _ := must[gamelift.DescribeComputeOutput](t, c, &gamelift.DescribeComputeInput{FleetId: &a.fleetID, ComputeName: &a.compute})
	out["compute"] = js(dc.Compute)
	tok, _ := must[gamelift.GetComputeAuthTokenOutput](t, c, &gamelift.GetComputeAuthTokenInput{FleetId: &a.fleetID, ComputeName: &a.compute})
	out["auth token"] = js([]any{tok.FleetId, tok.FleetArn, tok.ComputeName, tok.ComputeArn, tok.AuthToken, tok.ExpirationTimestamp})
	da, _ := must[gamelift.DescribeAliasOutput](t, c, &gamelift.DescribeAliasInput{AliasId: &aliasID})
	out["alias"] = js(da.Alias)
	out["game session"] = js(describeGameSession(t, c, gsID))
	ps := playerSessionsOf(t, c, gsID, "", 0)
	sort.Slice(ps, func(i, j int) bool { return deref(ps[i].PlayerSessionId) < deref(ps[j].PlayerSessionId) })
	for _, p := range ps {
		out["player session "+deref(p.PlayerSessionId)] = js(p)
	}
	if len(ps) != 3 {
		t.Errorf("snapshot: %d player sessions, want 3", len(ps))
	}
	return out
}

// TestKill9KeepsAcknowledgedWrites kills serve with SIGKILL right after a burst
// of concurrent reservations and checks that every acknowledged one is there
// after a restart, with identical fields.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServe(t, dir, "127.0.0.1:0")
	c := newGoClient(srv.URL, adminCreds(), nil)
	a := setupAnywhere(t, c, "custom-kill", "kill-host")
	sim := startSim(t, a.simEnv("kill"), 1)
	sim.waitReady(t, 1, 30*time.Second)
	waitProcesses(t, c, a.fleetID, 1)
	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{
		FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](200),
	})
	gsID := deref(gs.GameSession.GameSessionId)
	waitGameSession(t, c, gsID, "ACTIVE", 15*time.Second)

	const n = 120
	acked := make(chan types.PlayerSession, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out, _, err := call[gamelift.CreatePlayerSessionOutput](c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: ptr(fmt.Sprintf("k-%03d", i))})
			if err != nil {
				errs <- err
				return
			}
			acked <- *out.PlayerSession
		}()
	}
	want := map[string]string{}
	for range n {
		select {
		case p := <-acked:
			b, _ := json.Marshal(p)
			want[deref(p.PlayerSessionId)] = string(b)
		case err := <-errs:
			t.Errorf("CreatePlayerSession: %v", err)
		}
	}
	srv.kill() // SIGKILL, no chance to flush anything
	if code, _ := srv.exitCode(5 * time.Second); code == 0 {
		t.Errorf("serve exited 0 after SIGKILL")
	}

	srv2 := startServe(t, dir, srv.Addr)
	c2 := newGoClient(srv2.URL, adminCreds(), nil)
	got := playerSessionsOf(t, c2, gsID, "", 0)
	if len(got) != len(want) {
		t.Errorf("after kill -9: %d player sessions, want the %d acknowledged", len(got), len(want))
	}
	for _, p := range got {
		b, _ := json.Marshal(p)
		if w, ok := want[deref(p.PlayerSessionId)]; !ok || w != string(b) {
			t.Errorf("after kill -9: %s, want %s", b, w)
		}
	}
	if cur := deref(describeGameSession(t, c2, gsID).CurrentPlayerSessionCount); cur != int32(len(want)) {
		t.Errorf("after kill -9: CurrentPlayerSessionCount %d, want %d", cur, len(want))
	}
	srv2.stop(t)
}

// TestMissedHeartbeats: a game server that dies (SIGKILL: no ProcessEnding,
// no more heartbeats) is ended after the heartbeat timeout, with its game
// session and player sessions.
func TestMissedHeartbeats(t *testing.T) {
	t.Parallel()
	srv := startServe(t, t.TempDir(), "127.0.0.1:0", "--heartbeat-timeout", "3s")
	c := newGoClient(srv.URL, adminCreds(), nil)
	a := setupAnywhere(t, c, "custom-crash", "crash-host")
	sim := startSim(t, a.simEnv("crash"), 1)
	sim.waitReady(t, 1, 30*time.Second)
	waitProcesses(t, c, a.fleetID, 1)
	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{
		FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](4),
	})
	gsID := deref(gs.GameSession.GameSessionId)
	waitGameSession(t, c, gsID, "ACTIVE", 15*time.Second)
	ps, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: ptr("victim")})
	psID := deref(ps.PlayerSession.PlayerSessionId)

	// Healthy heartbeats keep it alive past the timeout.
	time.Sleep(4 * time.Second)
	if st := describeGameSession(t, c, gsID).Status; st != types.GameSessionStatusActive {
		t.Fatalf("a heartbeating game server's session is %s after the heartbeat timeout, want ACTIVE", st)
	}

	killed := time.Now()
	sim.kill()
	done := waitGameSession(t, c, gsID, "TERMINATED", 20*time.Second)
	t.Logf("game session TERMINATED %v after its game server died", time.Since(killed))
	if done.TerminationTime == nil || deref(done.CurrentPlayerSessionCount) != 0 {
		t.Errorf("ended game session: TerminationTime %v, CurrentPlayerSessionCount %d; want a time and 0", done.TerminationTime, deref(done.CurrentPlayerSessionCount))
	}
	if p := describePlayerSession(t, c, psID); p.Status != types.PlayerSessionStatusCompleted || p.TerminationTime == nil {
		t.Errorf("player session of the ended game session: %s, TerminationTime %v; want COMPLETED with a time", p.Status, p.TerminationTime)
	}
	u := utilization(t, c, a.fleetID)
	if deref(u.ActiveServerProcessCount) != 0 || deref(u.ActiveGameSessionCount) != 0 || deref(u.CurrentPlayerSessionCount) != 0 {
		t.Errorf("utilization after the crash: %d processes, %d game sessions, %d players; want 0, 0, 0",
			deref(u.ActiveServerProcessCount), deref(u.ActiveGameSessionCount), deref(u.CurrentPlayerSessionCount))
	}
	expectErr(t, c, &gamelift.CreateGameSessionInput{FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](1)}, "FleetCapacityExceededException")
	srv.stop(t)
}
