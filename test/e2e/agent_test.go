package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// TestAgent is issue 3's acceptance test: `openlift serve` and `openlift
// agent` run as real processes, and the agent runs the fleet's runtime
// configuration of the example game (examples/tcpgame) on its host. Players
// are real TCP connections to the game; the game's OS processes are found in
// /proc by their binary and GAMELIFT_SDK_* environment.
func TestAgent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the game's processes in /proc")
	}
	t.Parallel()
	began := time.Now()
	srv := startServe(t, t.TempDir(), "127.0.0.1:0")
	c := newGoClient(srv.URL, adminCreds(), nil)
	const loc, compute = "custom-agent", "agent-host"
	must[gamelift.CreateLocationOutput](t, c, &gamelift.CreateLocationInput{LocationName: ptr(loc)})
	game := func(n int32) types.ServerProcess {
		return types.ServerProcess{LaunchPath: ptr(tcpgameBin), Parameters: ptr("-host 127.0.0.1"), ConcurrentExecutions: ptr(n)}
	}
	fl, _ := must[gamelift.CreateFleetOutput](t, c, &gamelift.CreateFleetInput{
		Name: ptr("agent-fleet"), ComputeType: types.ComputeTypeAnywhere,
		Locations:            []types.LocationConfiguration{{Location: ptr(loc)}},
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{game(3)}},
	})
	fleetID := deref(fl.FleetAttributes.FleetId)
	checkRuntimeConfiguration(t, c, fleetID, game(3))
	f := &agentFleet{c: c, fleetID: fleetID, logDir: t.TempDir()}

	// Start the agent, and measure the time to the first ACTIVE game session:
	// CreateGameSession is retried until a process is ready to take it.
	agentStart := time.Now()
	ag := startChild(t, nil, "openlift agent", []string{
		"AWS_ACCESS_KEY_ID=" + adminAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + adminSecret,
		"AWS_SESSION_TOKEN=", "AWS_REGION=" + region,
	}, "agent", "--endpoint", srv.URL, "--fleet-id", fleetID, "--location", loc, "--compute-name", compute,
		"--ip-address", "127.0.0.1", "--heartbeat-interval", "250ms", "--log-dir", f.logDir,
		"--drain-timeout", "10s", "--kill-grace", "5s")
	gs1 := createWhenReady(t, c, fleetID, loc, ag)
	waitActiveFast(t, c, gs1, 15*time.Second)
	t.Logf("agent start to ACTIVE game session: %v", time.Since(agentStart).Round(time.Millisecond))
	select {
	case line := <-ag.lines:
		if line != "AGENT READY "+compute {
			t.Errorf("agent's first stdout line %q, want %q", line, "AGENT READY "+compute)
		}
	case <-time.After(10 * time.Second):
		t.Error("the agent printed no AGENT READY line")
	}

	// All three become ready, on the agent's compute, each launched with the
	// GAMELIFT_SDK_* environment (a process id of its own) in its own
	// process group.
	procs := f.waitRunning(t, 3, nil)
	ids := map[string]bool{}
	for _, p := range procs {
		for _, k := range []string{"GAMELIFT_SDK_WEBSOCKET_URL", "GAMELIFT_SDK_AUTH_TOKEN", "GAMELIFT_SDK_PROCESS_ID"} {
			if p.env[k] == "" {
				t.Errorf("%v: no %s", p, k)
			}
		}
		if h := p.env["GAMELIFT_SDK_HOST_ID"]; h != compute {
			t.Errorf("%v: GAMELIFT_SDK_HOST_ID %q, want %q", p, h, compute)
		}
		if ids[p.processID] {
			t.Errorf("GAMELIFT_SDK_PROCESS_ID %s given to two processes", p.processID)
		}
		ids[p.processID] = true
		if pgid, err := syscall.Getpgid(p.pid); err != nil || pgid != p.pid {
			t.Errorf("%v: process group %d (%v), want its own", p, pgid, err)
		}
	}
	lc, _ := must[gamelift.ListComputeOutput](t, c, &gamelift.ListComputeInput{FleetId: &fleetID})
	if len(lc.ComputeList) != 1 {
		t.Fatalf("ListCompute: %d computes, want the agent's one", len(lc.ComputeList))
	}
	cp := lc.ComputeList[0]
	if deref(cp.ComputeName) != compute || cp.ComputeStatus != types.ComputeStatusActive ||
		deref(cp.IpAddress) != "127.0.0.1" || deref(cp.Location) != loc {
		t.Errorf("ListCompute: %s %s %s %s, want %s ACTIVE 127.0.0.1 %s",
			deref(cp.ComputeName), cp.ComputeStatus, deref(cp.IpAddress), deref(cp.Location), compute, loc)
	}
	fc, _ := must[gamelift.DescribeFleetCapacityOutput](t, c, &gamelift.DescribeFleetCapacityInput{FleetIds: []string{fleetID}})
	if len(fc.FleetCapacity) != 1 || fc.FleetCapacity[0].InstanceCounts == nil {
		t.Fatalf("DescribeFleetCapacity: %+v, want one fleet with InstanceCounts", fc.FleetCapacity)
	}
	if ic := fc.FleetCapacity[0].InstanceCounts; deref(ic.ACTIVE) != 1 || deref(ic.TERMINATING) != 0 || deref(ic.PENDING) != 0 {
		t.Errorf("DescribeFleetCapacity InstanceCounts ACTIVE %d PENDING %d TERMINATING %d, want 1 0 0",
			deref(ic.ACTIVE), deref(ic.PENDING), deref(ic.TERMINATING))
	}

	// The game session is on one of the three, which logged it in its own file.
	gs := describeGameSession(t, c, gs1)
	if deref(gs.ComputeName) != compute || deref(gs.IpAddress) != "127.0.0.1" || deref(gs.Location) != loc {
		t.Errorf("game session on compute %q at %q in %q, want %s at 127.0.0.1 in %s",
			deref(gs.ComputeName), deref(gs.IpAddress), deref(gs.Location), compute, loc)
	}
	host1 := hostOf(t, procs, deref(gs.Port))
	f.waitLogMentions(t, host1, gs1)

	// A player: RESERVED, ACTIVE once the game accepts them, COMPLETED when they quit.
	ps1 := reservePlayer(t, c, gs1, "alice")
	pl := joinGame(t, deref(gs.IpAddress), deref(gs.Port), ps1)
	if got := pl.readLine(t); got != "WELCOME alice 1" {
		t.Fatalf("after the player session id the game said %q, want WELCOME alice 1", got)
	}
	waitPlayerSession(t, c, ps1, "ACTIVE", 10*time.Second)
	pl.send(t, "/quit")
	if got := pl.readLine(t); got != "BYE" {
		t.Errorf("after /quit the game said %q, want BYE", got)
	}
	pl.waitHangUp(t)
	waitPlayerSession(t, c, ps1, "COMPLETED", 10*time.Second)
	// The last player left: the game ended its session and itself (exit 0 after
	// ProcessEnding, which is no crash), and the agent starts a fresh process.
	waitGameSession(t, c, gs1, "TERMINATED", 10*time.Second)
	procs = f.waitRunning(t, 3, []gameProc{host1})
	f.expectEvents(t, "SERVER_PROCESS_CRASHED", 0)

	// SIGKILL on the process hosting a game session.
	gs2 := createGameSession(t, c, fleetID, loc)
	port2 := deref(waitGameSession(t, c, gs2, "ACTIVE", 10*time.Second).Port)
	host2 := hostOf(t, procs, port2)
	f.waitLogMentions(t, host2, gs2)
	if err := syscall.Kill(host2.pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL to game process %d: %v", host2.pid, err)
	}
	ended := waitGameSession(t, c, gs2, "TERMINATED", 15*time.Second)
	t.Logf("game session of the killed process: TERMINATED, StatusReason %q", ended.StatusReason)
	crashes := f.waitEvents(t, "SERVER_PROCESS_CRASHED", 1)
	f.expectEvents(t, "SERVER_PROCESS_CRASHED", 1)
	t.Logf("SERVER_PROCESS_CRASHED: %s", deref(crashes[0].Message))
	f.waitRunning(t, 3, []gameProc{host1, host2})

	// Runtime configuration changes: 5, then 1.
	f.updateRuntime(t, game(5))
	f.waitRunning(t, 5, []gameProc{host1, host2})
	f.updateRuntime(t, game(1))
	procs = f.waitRunning(t, 1, []gameProc{host1, host2})
	f.expectEvents(t, "SERVER_PROCESS_CRASHED", 1) // agent-chosen stops are no crashes

	// A missing launch path: SERVER_PROCESS_INVALID_PATH with backoff (1 s,
	// doubling), while the good entry keeps running.
	missing := filepath.Join(t.TempDir(), "no-such-game")
	f.updateRuntime(t, game(1), types.ServerProcess{LaunchPath: ptr(missing), ConcurrentExecutions: ptr[int32](2)})
	first := f.waitEvents(t, "SERVER_PROCESS_INVALID_PATH", 1)[0]
	if msg := deref(first.Message); !strings.Contains(msg, missing) {
		t.Errorf("SERVER_PROCESS_INVALID_PATH message %q does not name %s", msg, missing)
	}
	const window = 7500 * time.Millisecond
	time.Sleep(time.Until(deref(first.EventTime).Add(window))) // the backoff observation
	invalid := f.events(t, "SERVER_PROCESS_INVALID_PATH")
	var gaps []time.Duration
	for i := 1; i < len(invalid); i++ {
		gaps = append(gaps, deref(invalid[i].EventTime).Sub(deref(invalid[i-1].EventTime)))
	}
	t.Logf("SERVER_PROCESS_INVALID_PATH: %d events in %v, gaps %v", len(invalid), window, gaps)
	if len(invalid) < 3 || len(invalid) >= 8 {
		t.Errorf("%d SERVER_PROCESS_INVALID_PATH events within %v of the first; want 3 to 7 (1 s backoff, doubling)", len(invalid), window)
	}
	for i, g := range gaps {
		if g < 800*time.Millisecond || (i > 0 && g < gaps[i-1]*3/2) {
			t.Errorf("gaps between SERVER_PROCESS_INVALID_PATH events %v: want at least ~1 s, each growing", gaps)
			break
		}
	}
	f.updateRuntime(t, game(1))
	procs = f.waitRunning(t, 1, []gameProc{host1, host2})
	invalidAfter := len(f.events(t, "SERVER_PROCESS_INVALID_PATH"))

	// FORCE_TERMINATE on a game session of the agent's compute.
	gs3 := createGameSession(t, c, fleetID, loc)
	host3 := hostOf(t, procs, deref(waitGameSession(t, c, gs3, "ACTIVE", 10*time.Second).Port))
	must[gamelift.TerminateGameSessionOutput](t, c, &gamelift.TerminateGameSessionInput{
		GameSessionId: &gs3, TerminationMode: types.TerminationModeForceTerminate,
	})
	forced := waitGameSession(t, c, gs3, "TERMINATED", 15*time.Second)
	if forced.StatusReason != types.GameSessionStatusReasonForceTerminated {
		t.Errorf("force-terminated game session: StatusReason %q, want FORCE_TERMINATED", forced.StatusReason)
	}
	f.waitEvents(t, "SERVER_PROCESS_FORCE_TERMINATED", 1)
	f.expectEvents(t, "SERVER_PROCESS_FORCE_TERMINATED", 1)
	procs = f.waitRunning(t, 1, []gameProc{host1, host2, host3})
	if n := len(f.events(t, "SERVER_PROCESS_INVALID_PATH")); n != invalidAfter {
		t.Errorf("SERVER_PROCESS_INVALID_PATH events went on after the entry was removed: %d, then %d", invalidAfter, n)
	}

	// SIGTERM drains: the connected player hears END, the agent exits 0 and
	// deregisters its compute.
	gs4 := createGameSession(t, c, fleetID, loc)
	g4 := waitGameSession(t, c, gs4, "ACTIVE", 10*time.Second)
	hostOf(t, procs, deref(g4.Port))
	ps4 := reservePlayer(t, c, gs4, "carol")
	pl4 := joinGame(t, deref(g4.IpAddress), deref(g4.Port), ps4)
	if got := pl4.readLine(t); got != "WELCOME carol 1" {
		t.Fatalf("game said %q, want WELCOME carol 1", got)
	}
	waitPlayerSession(t, c, ps4, "ACTIVE", 10*time.Second)
	if err := ag.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to the agent: %v", err)
	}
	sigterm := time.Now()
	if got := pl4.waitFor(t, "END ", 15*time.Second); got != "END the game server is shutting down" {
		t.Errorf("the player heard %q, want END the game server is shutting down", got)
	}
	code, err := ag.exitCode(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("the agent exited with code %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM to agent exit: %v", time.Since(sigterm).Round(time.Millisecond))
	lc, raw := must[gamelift.ListComputeOutput](t, c, &gamelift.ListComputeInput{FleetId: &fleetID})
	if n := hasList(t, raw, "ComputeList"); n != 0 {
		t.Errorf("ListCompute after the agent exited: %d computes %+v, want none", n, lc.ComputeList)
	}
	if st := describeGameSession(t, c, gs4).Status; st != types.GameSessionStatusTerminated {
		t.Errorf("game session of the drained host: %s, want TERMINATED", st)
	}
	if st := describePlayerSession(t, c, ps4).Status; st != types.PlayerSessionStatusCompleted {
		t.Errorf("player session of the drained host: %s, want COMPLETED", st)
	}
	eventually(t, 5*time.Second, 50*time.Millisecond, "no game process left", func() error {
		if ps := f.gameProcs(t); len(ps) > 0 {
			return fmt.Errorf("still running: %v", ps)
		}
		return nil
	})
	f.expectEvents(t, "SERVER_PROCESS_CRASHED", 1)
	srv.stop(t)
	t.Logf("TestAgent took %v", time.Since(began).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------
// the fleet and its game processes

type agentFleet struct {
	c       apiClient
	fleetID string
	logDir  string // the agent's --log-dir
}

func checkRuntimeConfiguration(t *testing.T, c apiClient, fleetID string, want ...types.ServerProcess) {
	t.Helper()
	rc, _ := must[gamelift.DescribeRuntimeConfigurationOutput](t, c, &gamelift.DescribeRuntimeConfigurationInput{FleetId: &fleetID})
	if rc.RuntimeConfiguration == nil {
		t.Fatal("DescribeRuntimeConfiguration: no RuntimeConfiguration")
	}
	if got := serverProcesses(rc.RuntimeConfiguration.ServerProcesses); !slices.Equal(got, serverProcesses(want)) {
		t.Errorf("DescribeRuntimeConfiguration ServerProcesses %v, want %v", got, serverProcesses(want))
	}
}

func serverProcesses(sps []types.ServerProcess) []string {
	var out []string
	for _, sp := range sps {
		out = append(out, fmt.Sprintf("%s %q x%d", deref(sp.LaunchPath), deref(sp.Parameters), deref(sp.ConcurrentExecutions)))
	}
	return out
}

func (f *agentFleet) updateRuntime(t *testing.T, sps ...types.ServerProcess) {
	t.Helper()
	out, _ := must[gamelift.UpdateRuntimeConfigurationOutput](t, f.c, &gamelift.UpdateRuntimeConfigurationInput{
		FleetId: &f.fleetID, RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: sps},
	})
	if out.RuntimeConfiguration == nil || !slices.Equal(serverProcesses(out.RuntimeConfiguration.ServerProcesses), serverProcesses(sps)) {
		t.Errorf("UpdateRuntimeConfiguration returned %+v, want %v", out.RuntimeConfiguration, serverProcesses(sps))
	}
	checkRuntimeConfiguration(t, f.c, f.fleetID, sps...)
}

// gameProc is one tcpgame process of the fleet, as /proc shows it.
type gameProc struct {
	pid       int
	processID string // its GAMELIFT_SDK_PROCESS_ID
	env       map[string]string
	ports     []int32
}

func (p gameProc) String() string {
	return fmt.Sprintf("pid %d %s ports %v", p.pid, p.processID, p.ports)
}

// gameProcs lists the running tcpgame processes whose GAMELIFT_SDK_FLEET_ID
// is the fleet's, with the TCP ports they listen on.
func (f *agentFleet) gameProcs(t *testing.T) []gameProc {
	t.Helper()
	listening := listeningInodes(t)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []gameProc
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + d.Name()
		// Processes come and go during the scan; one that is gone is skipped.
		if exe, err := os.Readlink(dir + "/exe"); err != nil || exe != tcpgameBin {
			continue
		}
		environ, err := os.ReadFile(dir + "/environ")
		if err != nil {
			continue
		}
		env := map[string]string{}
		for kv := range strings.SplitSeq(string(environ), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		if env["GAMELIFT_SDK_FLEET_ID"] != f.fleetID {
			continue
		}
		p := gameProc{pid: pid, processID: env["GAMELIFT_SDK_PROCESS_ID"], env: env}
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			link, err := os.Readlink(dir + "/fd/" + fd.Name())
			if err != nil {
				continue
			}
			if inode, ok := strings.CutPrefix(link, "socket:["); ok {
				if port, ok := listening[strings.TrimSuffix(inode, "]")]; ok {
					p.ports = append(p.ports, port)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// listeningInodes maps the socket inodes of listening TCP sockets to their ports.
func listeningInodes(t *testing.T) map[string]int32 {
	t.Helper()
	out := map[string]int32{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if i == 0 || len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fs[1], ":")
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				t.Fatalf("%s: local address %q", file, fs[1])
			}
			out[fs[9]] = int32(port)
		}
	}
	return out
}

// waitRunning waits until the service counts n active server processes and
// exactly n game processes of the fleet run, each listening and none of them
// one of gone.
func (f *agentFleet) waitRunning(t *testing.T, n int32, gone []gameProc) []gameProc {
	t.Helper()
	var procs []gameProc
	eventually(t, 20*time.Second, 50*time.Millisecond, fmt.Sprintf("%d game processes running and active", n), func() error {
		if got := deref(utilization(t, f.c, f.fleetID).ActiveServerProcessCount); got != n {
			return fmt.Errorf("ActiveServerProcessCount %d", got)
		}
		procs = f.gameProcs(t)
		if len(procs) != int(n) {
			return fmt.Errorf("%d game processes: %v", len(procs), procs)
		}
		for _, p := range procs {
			if len(p.ports) == 0 {
				return fmt.Errorf("%v listens on no port yet", p)
			}
			for _, g := range gone {
				if p.pid == g.pid || p.processID == g.processID {
					return fmt.Errorf("%v is still running", g)
				}
			}
		}
		return nil
	})
	return procs
}

// hostOf returns the process listening on a game session's port.
func hostOf(t *testing.T, procs []gameProc, port int32) gameProc {
	t.Helper()
	for _, p := range procs {
		if slices.Contains(p.ports, port) {
			return p
		}
	}
	t.Fatalf("game session port %d is none of the agent's game processes %v", port, procs)
	return gameProc{}
}

// waitLogMentions waits until the process's own log file in the agent's log
// directory (its stdout and stderr) mentions what, e.g. a game session id.
func (f *agentFleet) waitLogMentions(t *testing.T, p gameProc, what string) {
	t.Helper()
	path := filepath.Join(f.logDir, p.processID+".log")
	eventually(t, 5*time.Second, 50*time.Millisecond, path+" mentions "+what, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), what) {
			return fmt.Errorf("not yet (%d bytes)", len(b))
		}
		return nil
	})
}

// events returns the fleet's events with code, oldest first.
func (f *agentFleet) events(t *testing.T, code string) []types.Event {
	t.Helper()
	var out []types.Event
	var next *string
	for range 100 {
		ev, _ := must[gamelift.DescribeFleetEventsOutput](t, f.c, &gamelift.DescribeFleetEventsInput{FleetId: &f.fleetID, NextToken: next})
		for _, e := range ev.Events {
			if string(e.EventCode) == code {
				out = append(out, e)
			}
		}
		if next = ev.NextToken; next == nil {
			break
		}
	}
	slices.SortFunc(out, func(a, b types.Event) int { return deref(a.EventTime).Compare(deref(b.EventTime)) })
	return out
}

// waitEvents waits until the fleet has at least n events with code.
func (f *agentFleet) waitEvents(t *testing.T, code string, n int) []types.Event {
	t.Helper()
	var evs []types.Event
	eventually(t, 15*time.Second, 50*time.Millisecond, fmt.Sprintf("%d %s events", n, code), func() error {
		if evs = f.events(t, code); len(evs) < n {
			return fmt.Errorf("%d events", len(evs))
		}
		return nil
	})
	return evs
}

func (f *agentFleet) expectEvents(t *testing.T, code string, n int) {
	t.Helper()
	if evs := f.events(t, code); len(evs) != n {
		t.Errorf("%d %s events, want %d: %v", len(evs), code, n, eventMessages(evs))
	}
}

func eventMessages(evs []types.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, deref(e.EventTime).Format("15:04:05.000")+" "+deref(e.Message))
	}
	return out
}

// ---------------------------------------------------------------------------
// game sessions and players of tcpgame

// createWhenReady retries CreateGameSession while the fleet has no process
// to take it (FleetCapacityExceededException), as a matchmaker would.
func createWhenReady(t *testing.T, c apiClient, fleetID, loc string, ag *child) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, err := call[gamelift.CreateGameSessionOutput](c, &gamelift.CreateGameSessionInput{
			FleetId: &fleetID, Location: &loc, MaximumPlayerSessionCount: ptr[int32](4),
		})
		if err == nil {
			return deref(out.GameSession.GameSessionId)
		}
		var ae *apiError
		if !errors.As(err, &ae) || ae.Code != "FleetCapacityExceededException" {
			t.Fatalf("CreateGameSession while the agent starts: %v", err)
		}
		if ag.exited() {
			t.Fatalf("the agent exited:\n%s", ag.log)
		}
		if time.Now().After(deadline) {
			t.Fatalf("CreateGameSession: still %v after 30 s", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitActiveFast is waitGameSession polling every 10 ms, for the measurement.
func waitActiveFast(t *testing.T, c apiClient, id string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, 10*time.Millisecond, "game session "+id+" ACTIVE", func() error {
		if st := describeGameSession(t, c, id).Status; st != types.GameSessionStatusActive {
			return fmt.Errorf("status %s", st)
		}
		return nil
	})
}

func createGameSession(t *testing.T, c apiClient, fleetID, loc string) string {
	t.Helper()
	out, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{
		FleetId: &fleetID, Location: &loc, MaximumPlayerSessionCount: ptr[int32](4),
	})
	return deref(out.GameSession.GameSessionId)
}

// reservePlayer creates a player session and checks that it is RESERVED.
func reservePlayer(t *testing.T, c apiClient, gsID, playerID string) string {
	t.Helper()
	out, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: &playerID})
	id := deref(out.PlayerSession.PlayerSessionId)
	if out.PlayerSession.Status != types.PlayerSessionStatusReserved {
		t.Errorf("CreatePlayerSession: status %s, want RESERVED", out.PlayerSession.Status)
	}
	if st := describePlayerSession(t, c, id).Status; st != types.PlayerSessionStatusReserved {
		t.Errorf("DescribePlayerSessions after CreatePlayerSession: %s, want RESERVED", st)
	}
	return id
}

// gamePlayer is a TCP connection to a tcpgame process.
type gamePlayer struct {
	c net.Conn
	r *bufio.Reader
}

// joinGame connects, reads the greeting and sends the player session id.
func joinGame(t *testing.T, ip string, port int32, psID string) *gamePlayer {
	t.Helper()
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to the game at %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &gamePlayer{c: conn, r: bufio.NewReader(conn)}
	if got := p.readLine(t); got != "HELLO tcpgame: send your player session id" {
		t.Fatalf("game greeting %q", got)
	}
	p.send(t, psID)
	return p
}

func (p *gamePlayer) send(t *testing.T, line string) {
	t.Helper()
	p.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(p.c, line+"\n"); err != nil {
		t.Fatalf("sending %q to the game: %v", line, err)
	}
}

func (p *gamePlayer) readLine(t *testing.T) string {
	t.Helper()
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := p.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading from the game: %v (got %q)", err, line)
	}
	return strings.TrimRight(line, "\r\n")
}

// waitHangUp reads until the game closes the connection.
func (p *gamePlayer) waitHangUp(t *testing.T) {
	t.Helper()
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(p.r)
	if err != nil {
		t.Errorf("waiting for the game to hang up: %v", err)
	}
	if len(rest) > 0 {
		t.Errorf("the game said %q before hanging up", rest)
	}
}

// waitFor reads lines until one starts with prefix.
func (p *gamePlayer) waitFor(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	p.c.SetReadDeadline(time.Now().Add(timeout))
	var seen []string
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q from the game: %v (lines %q)", prefix, err, seen)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, prefix) {
			return line
		}
		seen = append(seen, line)
	}
}
