package agent_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/openlift/openlift/internal/agent"
	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/server"
)

// These tests run the agent against a real openlift service (in this process)
// with real game servers: `openlift sim -n 1` processes, built from this
// module, which read the GAMELIFT_SDK_* variables the agent sets.

const (
	adminKey    = "AKIDAGENTTEST0000001"
	adminSecret = "agent-test-secret-000000000000000000000000"
	region      = "us-west-2"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// openliftBinary builds ./cmd/openlift once per test binary.
func openliftBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the openlift binary and runs game servers")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "openlift-agent-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "openlift")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/openlift/openlift/cmd/openlift")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type env struct {
	t       *testing.T
	svc     *service
	dataDir string
	client  *gamelift.Client
	fleet   string
	loc     string
	bin     string
}

// service is a running openlift node that a test can stop and start again.
type service struct {
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startService(t *testing.T, listen, dataDir string, mod func(*server.Config)) *service {
	t.Helper()
	cfg := server.Config{
		Listen: listen, DataDir: dataDir, Region: region, AccountID: "123456789012",
		AdminAccessKeyID: adminKey, AdminSecretAccessKey: adminSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &service{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *service) stop(t *testing.T) {
	s.once.Do(func() {
		s.cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// restart stops the service and starts it again on the same address with the
// same data: what an upgrade or a crash of the service looks like to agents.
func (e *env) restart(down func()) {
	e.t.Helper()
	addr := e.svc.srv.Addr()
	e.svc.stop(e.t)
	if down != nil {
		down()
	}
	e.svc = startService(e.t, addr, e.dataDir, nil)
}

// testLogger sends logs to the test log when -v asks for them.
func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// startEnv starts a service and creates an Anywhere fleet whose runtime
// configuration runs n simulated game servers.
func startEnv(t *testing.T, n int32, mod func(*server.Config)) *env {
	t.Helper()
	bin := openliftBinary(t)
	ctx := context.Background()
	e := &env{t: t, dataDir: t.TempDir(), loc: "custom-agent-test", bin: bin}
	e.svc = startService(t, "127.0.0.1:0", e.dataDir, mod)
	e.client = gamelift.New(gamelift.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.svc.srv.URL()),
		Credentials:  adminCredentials(),
	})
	if _, err := e.client.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: &e.loc}); err != nil {
		t.Fatal(err)
	}
	f, err := e.client.CreateFleet(ctx, &gamelift.CreateFleetInput{
		Name: aws.String("agent-test"), ComputeType: types.ComputeTypeAnywhere,
		Locations:            []types.LocationConfiguration{{Location: &e.loc}},
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: e.simProcesses(n)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.fleet = *f.FleetAttributes.FleetId
	return e
}

func adminCredentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: adminKey, SecretAccessKey: adminSecret}, nil
	})
}

func (e *env) simProcesses(n int32) []types.ServerProcess {
	return []types.ServerProcess{{LaunchPath: aws.String(e.bin), Parameters: aws.String("sim -n 1"), ConcurrentExecutions: aws.Int32(n)}}
}

func (e *env) setConfig(sps ...types.ServerProcess) {
	e.t.Helper()
	_, err := e.client.UpdateRuntimeConfiguration(context.Background(), &gamelift.UpdateRuntimeConfigurationInput{
		FleetId: &e.fleet, RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: sps},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// events returns the fleet's events with the given code, oldest first.
func (e *env) events(code types.EventCode) []types.Event {
	e.t.Helper()
	var out []types.Event
	p := gamelift.NewDescribeFleetEventsPaginator(e.client, &gamelift.DescribeFleetEventsInput{FleetId: &e.fleet})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range page.Events {
			if ev.EventCode == code {
				out = append(out, ev)
			}
		}
	}
	slices.SortFunc(out, func(a, b types.Event) int { return aws.ToTime(a.EventTime).Compare(aws.ToTime(b.EventTime)) })
	return out
}

// startAgent runs an agent in this process (its game servers are real
// processes) until the test ends, and returns once it is ready.
func (e *env) startAgent(mod func(*agent.Config)) (*agent.Agent, func() error) {
	e.t.Helper()
	ready := make(chan string, 1)
	cfg := agent.Config{
		Endpoint: e.svc.srv.URL(), FleetID: e.fleet, Location: e.loc,
		ComputeName: "agent-test-host", IPAddress: "127.0.0.1", Region: region,
		Credentials:       adminCredentials(),
		LogDir:            filepath.Join(e.t.TempDir(), "logs"),
		HeartbeatInterval: 200 * time.Millisecond,
		DrainTimeout:      5 * time.Second,
		Supervisor: agent.SupervisorConfig{
			InitTimeout: 20 * time.Second, ReadyTimeout: 20 * time.Second, KillGrace: 2 * time.Second,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second, StableAfter: 2 * time.Second,
		},
		Logger: testLogger(e.t),
		Ready:  func(name string) { ready <- name },
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				runErr = errors.New("agent did not stop within 60 s")
			}
		})
		return runErr
	}
	e.t.Cleanup(func() {
		if err := stop(); err != nil {
			e.t.Error(err)
		}
	})
	select {
	case name := <-ready:
		if name != cfg.ComputeName {
			e.t.Fatalf("ready as %q; want %q", name, cfg.ComputeName)
		}
	case err := <-done:
		e.t.Fatalf("agent stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		e.t.Fatal("agent not ready within 30 s")
	}
	return a, stop
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool, state func() any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; state: %+v", timeout, what, state())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// active lists the agent's processes the service has seen call ProcessReady
// and that are not on their way out.
func active(a *agent.Agent) []agent.ProcessInfo {
	var out []agent.ProcessInfo
	for _, p := range a.Processes() {
		if p.State == agentmsg.StateActive && !p.Stopping && !p.Exited {
			out = append(out, p)
		}
	}
	return out
}

func waitActive(t *testing.T, a *agent.Agent, n int) []agent.ProcessInfo {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%d ACTIVE processes and nothing else", n), func() bool {
		return len(active(a)) == n && len(a.Processes()) == n
	}, func() any { return a.Processes() })
	return active(a)
}

func (e *env) createGameSession() *types.GameSession {
	e.t.Helper()
	var gs *types.GameSession
	eventually(e.t, 20*time.Second, "CreateGameSession to find a process", func() bool {
		out, err := e.client.CreateGameSession(context.Background(), &gamelift.CreateGameSessionInput{
			FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: aws.Int32(4),
		})
		if err != nil {
			return false
		}
		gs = out.GameSession
		return true
	}, func() any { return nil })
	return gs
}

func (e *env) gameSessionStatus(id string) types.GameSessionStatus {
	e.t.Helper()
	out, err := e.client.DescribeGameSessions(context.Background(), &gamelift.DescribeGameSessionsInput{GameSessionId: &id})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(out.GameSessions) != 1 {
		e.t.Fatalf("DescribeGameSessions(%s) = %d sessions", id, len(out.GameSessions))
	}
	return out.GameSessions[0].Status
}

func TestAgentRunsTheRuntimeConfiguration(t *testing.T) {
	e := startEnv(t, 3, nil)
	start := time.Now()
	a, stop := e.startAgent(nil)

	// All three become ready; a game session lands on one and goes ACTIVE.
	procs := waitActive(t, a, 3)
	gs := e.createGameSession()
	eventually(t, 10*time.Second, "the game session to be ACTIVE", func() bool {
		return e.gameSessionStatus(*gs.GameSessionId) == types.GameSessionStatusActive
	}, func() any { return a.Processes() })
	t.Logf("agent start to game session ACTIVE: %v", time.Since(start).Round(time.Millisecond))

	// SIGKILL the process hosting it: the session ends, the crash is an
	// event, and a replacement brings the count back to 3.
	var host agent.ProcessInfo
	eventually(t, 10*time.Second, "the agent to see the game session", func() bool {
		for _, p := range a.Processes() {
			if p.GameSessionID == *gs.GameSessionId {
				host = p
				return true
			}
		}
		return false
	}, func() any { return a.Processes() })
	if err := syscall.Kill(host.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "SERVER_PROCESS_CRASHED for "+host.ID, func() bool {
		for _, ev := range e.events(types.EventCodeServerProcessCrashed) {
			if strings.Contains(aws.ToString(ev.Message), "signal 9") {
				return true
			}
		}
		return false
	}, func() any { return e.events(types.EventCodeServerProcessCrashed) })
	if st := e.gameSessionStatus(*gs.GameSessionId); st != types.GameSessionStatusTerminated {
		t.Errorf("game session of the killed process is %s; want TERMINATED", st)
	}
	after := waitActive(t, a, 3)
	if slices.ContainsFunc(after, func(p agent.ProcessInfo) bool { return p.ID == host.ID }) {
		t.Errorf("killed process %s still listed", host.ID)
	}
	_ = procs

	// 5, then 1.
	e.setConfig(e.simProcesses(5)...)
	waitActive(t, a, 5)
	e.setConfig(e.simProcesses(1)...)
	waitActive(t, a, 1)
	if n := len(e.events(types.EventCodeServerProcessCrashed)); n != 1 {
		t.Errorf("%d crash events; want only the SIGKILL (scale-down stops are no crashes)", n)
	}

	// A launch path that does not exist: INVALID_PATH events, further and
	// further apart, while the good entry keeps running.
	missing := filepath.Join(t.TempDir(), "no-such-server")
	e.setConfig(append(e.simProcesses(1), types.ServerProcess{LaunchPath: aws.String(missing), ConcurrentExecutions: aws.Int32(2)})...)
	time.Sleep(4 * time.Second)
	evs := e.events(types.EventCodeServerProcessInvalidPath)
	// 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s: about 6 attempts in 4 s, not hundreds.
	if len(evs) < 4 || len(evs) > 8 {
		t.Fatalf("%d INVALID_PATH events in 4 s; want about 6 (backoff from 100 ms, doubling)", len(evs))
	}
	var gaps []time.Duration
	for i := 1; i < len(evs); i++ {
		gaps = append(gaps, aws.ToTime(evs[i].EventTime).Sub(aws.ToTime(evs[i-1].EventTime)))
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] < gaps[i-1]*3/2 {
			t.Errorf("INVALID_PATH gaps %v do not grow", gaps)
			break
		}
	}
	if !strings.Contains(aws.ToString(evs[0].Message), missing) {
		t.Errorf("event message %q does not name the launch path", aws.ToString(evs[0].Message))
	}
	waitActive(t, a, 1)

	// Drain: every process is told to terminate, ends, and the compute is
	// deregistered.
	e.setConfig(e.simProcesses(3)...)
	waitActive(t, a, 3)
	crashesBefore := len(e.events(types.EventCodeServerProcessCrashed))
	drainStart := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("drain of 3 processes and deregistration: %v", time.Since(drainStart).Round(time.Millisecond))
	if n := len(a.Processes()); n != 0 {
		t.Errorf("%d processes left after the drain", n)
	}
	if time.Since(drainStart) > 5*time.Second {
		t.Errorf("drain took %v; the processes should end on TerminateProcess, well before the 5 s deadline", time.Since(drainStart))
	}
	if n := len(e.events(types.EventCodeServerProcessCrashed)); n != crashesBefore {
		t.Errorf("the drain recorded %d crash events", n-crashesBefore)
	}
	_, err := e.client.DescribeCompute(context.Background(), &gamelift.DescribeComputeInput{FleetId: &e.fleet, ComputeName: aws.String("agent-test-host")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeCompute after the drain: %v; want NotFoundException", err)
	}
}

func TestAgentForceTerminate(t *testing.T) {
	e := startEnv(t, 1, nil)
	a, _ := e.startAgent(nil)
	waitActive(t, a, 1)
	gs := e.createGameSession()
	eventually(t, 10*time.Second, "the game session to be ACTIVE", func() bool {
		return e.gameSessionStatus(*gs.GameSessionId) == types.GameSessionStatusActive
	}, func() any { return a.Processes() })
	old := a.Processes()[0].ID
	if _, err := e.client.TerminateGameSession(context.Background(), &gamelift.TerminateGameSessionInput{
		GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeForceTerminate,
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "SERVER_PROCESS_FORCE_TERMINATED", func() bool {
		return len(e.events(types.EventCodeServerProcessForceTerminated)) == 1
	}, func() any { return a.Processes() })
	eventually(t, 10*time.Second, "a replacement", func() bool {
		ps := active(a)
		return len(ps) == 1 && ps[0].ID != old
	}, func() any { return a.Processes() })
}

func TestAgentInitTimeout(t *testing.T) {
	e := startEnv(t, 1, nil)
	// A game server that never calls InitSDK.
	hang := filepath.Join(t.TempDir(), "hang.sh")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.setConfig(types.ServerProcess{LaunchPath: aws.String(hang), ConcurrentExecutions: aws.Int32(1)})
	e.startAgent(func(c *agent.Config) { c.Supervisor.InitTimeout = time.Second })
	eventually(t, 10*time.Second, "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT", func() bool {
		return len(e.events(types.EventCodeServerProcessSdkInitializationTimeout)) > 0
	}, func() any { return nil })
}

// TestAgentBinary runs `openlift agent` as a process, as a studio would, and
// measures the time from its start to a game session being ACTIVE.
func TestAgentBinary(t *testing.T) {
	e := startEnv(t, 3, nil)
	cmd := exec.Command(e.bin, "agent", "--endpoint", e.svc.srv.URL(), "--fleet-id", e.fleet, "--location", e.loc,
		"--compute-name", "binary-host", "--ip-address", "127.0.0.1", "--log-dir", filepath.Join(t.TempDir(), "logs"),
		"--drain-timeout", "5s")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+adminKey, "AWS_SECRET_ACCESS_KEY="+adminSecret, "AWS_REGION="+region)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("agent stderr:\n%s", stderr.String())
		}
	})
	readyLine := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "AGENT READY ") {
				readyLine <- sc.Text()
			}
		}
	}()

	gs := e.createGameSession()
	eventually(t, 10*time.Second, "the game session to be ACTIVE", func() bool {
		return e.gameSessionStatus(*gs.GameSessionId) == types.GameSessionStatusActive
	}, func() any { return nil })
	t.Logf("`openlift agent` start to game session ACTIVE: %v", time.Since(start).Round(time.Millisecond))
	select {
	case line := <-readyLine:
		if line != "AGENT READY binary-host" {
			t.Errorf("ready line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("no AGENT READY line")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sigterm := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("agent exit after SIGTERM: %v; want status 0", err)
		}
		t.Logf("SIGTERM to exit (drain of 3 processes, one busy, and deregistration): %v", time.Since(sigterm).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not exit within 30 s of SIGTERM")
	}
	out, err := e.client.ListCompute(context.Background(), &gamelift.ListComputeInput{FleetId: &e.fleet})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ComputeList) != 0 {
		t.Errorf("computes after the agent exited: %d; want 0 (deregistered)", len(out.ComputeList))
	}
	if st := e.gameSessionStatus(*gs.GameSessionId); st != types.GameSessionStatusTerminated {
		t.Errorf("game session after the drain is %s; want TERMINATED", st)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAgentSurvivesServiceRestart(t *testing.T) {
	e := startEnv(t, 2, nil)
	// A relaunch waits 1 s: after the restart, so that the new game server
	// does not spend the SDK's 8 s dial backoff on a service that is down.
	a, stop := e.startAgent(func(c *agent.Config) { c.Supervisor.BackoffMin = time.Second })
	procs := waitActive(t, a, 2)
	e.restart(func() {
		// The crash happens while the agent cannot report it.
		syscall.Kill(procs[0].Pid, syscall.SIGKILL)
		eventually(t, 5*time.Second, "the agent to see the exit", func() bool {
			return !slices.ContainsFunc(a.Processes(), func(p agent.ProcessInfo) bool { return p.ID == procs[0].ID })
		}, func() any { return a.Processes() })
	})
	eventually(t, 20*time.Second, "the queued crash report to arrive", func() bool {
		return len(e.events(types.EventCodeServerProcessCrashed)) == 1
	}, func() any { return a.Processes() })
	waitActive(t, a, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestAgentRenewsItsToken(t *testing.T) {
	e := startEnv(t, 1, func(c *server.Config) { c.TokenLifetime = 4 * time.Second })
	a, _ := e.startAgent(nil)
	first := waitActive(t, a, 1)[0]
	tok0 := processEnv(t, first.Pid, "GAMELIFT_SDK_AUTH_TOKEN")
	time.Sleep(4 * time.Second) // the first token has expired by now
	syscall.Kill(first.Pid, syscall.SIGKILL)
	eventually(t, 20*time.Second, "a replacement", func() bool {
		ps := active(a)
		return len(ps) == 1 && ps[0].ID != first.ID
	}, func() any { return a.Processes() })
	if tok := processEnv(t, active(a)[0].Pid, "GAMELIFT_SDK_AUTH_TOKEN"); tok == tok0 || tok == "" {
		t.Errorf("the replacement got token %q; want a new one (the first, %q, has expired)", tok, tok0)
	}
}

// processEnv reads one variable of a running process's environment.
func processEnv(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Skipf("cannot read the environment of a process here: %v", err)
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func TestAgentDrainsWithoutTheService(t *testing.T) {
	e := startEnv(t, 2, nil)
	a, stop := e.startAgent(nil)
	waitActive(t, a, 2)
	e.svc.stop(t)
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// DrainCompute cannot be sent, so the processes get SIGTERM at once
	// instead of waiting for a deadline nobody told them about.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("stopping took %v; want the SIGTERM fallback, well under the 5 s drain deadline", d)
	}
	if n := len(a.Processes()); n != 0 {
		t.Errorf("%d processes left", n)
	}
}

func TestAgentReadyTimeout(t *testing.T) {
	e := startEnv(t, 1, nil)
	// Connects (InitSDK) but waits a minute before ProcessReady.
	e.setConfig(types.ServerProcess{LaunchPath: aws.String(e.bin), Parameters: aws.String("sim -n 1 -activate-delay 1m"), ConcurrentExecutions: aws.Int32(1)})
	e.startAgent(func(c *agent.Config) { c.Supervisor.ReadyTimeout = time.Second })
	eventually(t, 10*time.Second, "SERVER_PROCESS_PROCESS_READY_TIMEOUT", func() bool {
		return len(e.events(types.EventCodeServerProcessProcessReadyTimeout)) > 0
	}, func() any { return nil })
	if n := len(e.events(types.EventCodeServerProcessSdkInitializationTimeout)); n != 0 {
		t.Errorf("%d SDK_INITIALIZATION_TIMEOUT events for a process that connected", n)
	}
}

func TestAgentScaledToZero(t *testing.T) {
	e := startEnv(t, 3, nil)
	a, _ := e.startAgent(nil)
	waitActive(t, a, 3)
	gs := e.createGameSession()
	capacity := func(desired int32) {
		t.Helper()
		if _, err := e.client.UpdateFleetCapacity(context.Background(), &gamelift.UpdateFleetCapacityInput{
			FleetId: &e.fleet, Location: &e.loc, DesiredInstances: aws.Int32(desired), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
		}); err != nil {
			t.Fatal(err)
		}
	}
	capacity(0)
	// The idle two stop; the busy one finishes its game session.
	eventually(t, 10*time.Second, "only the busy process left", func() bool {
		ps := a.Processes()
		return len(ps) == 1 && ps[0].GameSessionID == *gs.GameSessionId
	}, func() any { return a.Processes() })
	time.Sleep(time.Second) // several heartbeats: nothing is launched meanwhile
	if n := len(a.Processes()); n != 1 {
		t.Fatalf("%d processes while scaled to zero; want the busy one", n)
	}
	if _, err := e.client.TerminateGameSession(context.Background(), &gamelift.TerminateGameSessionInput{
		GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeTriggerOnProcessTerminate,
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "no processes", func() bool { return len(a.Processes()) == 0 }, func() any { return a.Processes() })
	capacity(1)
	waitActive(t, a, 3)
	for _, code := range []types.EventCode{types.EventCodeServerProcessCrashed, types.EventCodeServerProcessForceTerminated} {
		if n := len(e.events(code)); n != 0 {
			t.Errorf("%d %s events from scaling to zero and back", n, code)
		}
	}
}
