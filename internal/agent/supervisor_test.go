package agent

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/clock"
)

// The supervisor runs real child processes (sh, sleep) under a fake clock:
// exits happen in real time, every timer (backoff, kill grace, drain
// deadline, verdict) only when the test advances the clock, and every
// deadline only when the test hands over a heartbeat reply.

type harness struct {
	t   *testing.T
	clk *clock.Fake
	sup *Supervisor
	dir string

	mu      sync.Mutex
	reports []agentmsg.ProcessExited
}

func newHarness(t *testing.T, mod func(*SupervisorConfig)) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(time.Unix(1_700_000_000, 0)), dir: t.TempDir()}
	logDir := filepath.Join(h.dir, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := SupervisorConfig{
		Clock:   h.clk,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		LogDir:  logDir,
		BaseEnv: []string{"PATH=" + os.Getenv("PATH")},
		Env: func() LaunchEnv {
			return LaunchEnv{WebSocketURL: "ws://127.0.0.1:1/", AuthToken: "tok", FleetID: "fleet-1", HostID: "host-1"}
		},
		Report: func(r agentmsg.ProcessExited) {
			h.mu.Lock()
			h.reports = append(h.reports, r)
			h.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	h.sup = NewSupervisor(cfg)
	t.Cleanup(func() {
		for _, p := range h.sup.Processes() {
			syscall.Kill(-p.Pid, syscall.SIGKILL)
		}
	})
	return h
}

// reply composes a heartbeat and answers it with state(p) for each listed
// process (UNKNOWN when state is nil).
func (h *harness) reply(scaledToZero bool, state func(ProcessInfo) agentmsg.ProcessState) {
	h.t.Helper()
	h.answer(h.sup.NextHeartbeat(), scaledToZero, state)
}

func (h *harness) answer(hb Heartbeat, scaledToZero bool, state func(ProcessInfo) agentmsg.ProcessState) {
	infos := map[string]ProcessInfo{}
	for _, p := range h.sup.Processes() {
		infos[p.ID] = p
	}
	r := agentmsg.HeartbeatReply{ScaledToZero: scaledToZero}
	for _, id := range hb.Msg.ProcessIds {
		st := agentmsg.ProcessState{State: agentmsg.StateUnknown}
		if state != nil {
			st = state(infos[id])
		}
		st.ProcessId = id
		r.Processes = append(r.Processes, st)
	}
	h.sup.HandleReply(hb, r)
}

func all(state string) func(ProcessInfo) agentmsg.ProcessState {
	return func(ProcessInfo) agentmsg.ProcessState { return agentmsg.ProcessState{State: state} }
}

func (h *harness) reportsNow() []agentmsg.ProcessExited {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reports)
}

// waitReports waits until there are n reports and returns them.
func (h *harness) waitReports(n int) []agentmsg.ProcessExited {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%d reports", n), func() bool { return len(h.reportsNow()) >= n })
	return h.reportsNow()
}

func (h *harness) report(id string) (agentmsg.ProcessExited, bool) {
	for _, r := range h.reportsNow() {
		if r.ProcessId == id {
			return r, true
		}
	}
	return agentmsg.ProcessExited{}, false
}

func (h *harness) waitReport(id string) agentmsg.ProcessExited {
	h.t.Helper()
	h.eventually("a report for "+id, func() bool { _, ok := h.report(id); return ok })
	r, _ := h.report(id)
	return r
}

// running lists the processes that have not exited.
func (h *harness) running() []ProcessInfo {
	var out []ProcessInfo
	for _, p := range h.sup.Processes() {
		if !p.Exited {
			out = append(out, p)
		}
	}
	return out
}

func (h *harness) waitRunning(n int) []ProcessInfo {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%d running processes", n), func() bool { return len(h.running()) == n })
	return h.running()
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; processes %+v; reports %+v", what, h.sup.Processes(), h.reportsNow())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// script writes an executable shell script into the harness directory.
func (h *harness) script(name, body string) string {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// waitLog waits until the process's log file contains text.
func (h *harness) waitLog(id, text string) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%q in the log of %s", text, id), func() bool {
		b, _ := os.ReadFile(filepath.Join(h.dir, "logs", id+".log"))
		return strings.Contains(string(b), text)
	})
}

func TestSupervisorLaunchEnvironment(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) {
		c.BaseEnv = append(c.BaseEnv, "KEEP=kept", "GAMELIFT_SDK_FLEET_ID=stale")
	})
	gameDir := filepath.Join(h.dir, "game")
	os.Mkdir(gameDir, 0o755)
	h.sup.cfg.GameDir = gameDir
	os.WriteFile(filepath.Join(gameDir, "server.sh"), []byte(`#!/bin/sh
echo "pid=$GAMELIFT_SDK_PROCESS_ID url=$GAMELIFT_SDK_WEBSOCKET_URL tok=$GAMELIFT_SDK_AUTH_TOKEN fleet=$GAMELIFT_SDK_FLEET_ID host=$GAMELIFT_SDK_HOST_ID keep=$KEEP"
echo "argc=$# 1=$1 2=$2 3=$3"
echo "pwd=$(pwd)"
exec sleep 600
`), 0o755)
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "server.sh", Parameters: `-map "two words"`, ConcurrentExecutions: 2}})
	if n := len(h.sup.Processes()); n != 0 {
		t.Fatalf("%d processes before the first heartbeat reply; want none (scaled-to-zero unknown)", n)
	}
	h.reply(false, nil)
	procs := h.waitRunning(2)
	if procs[0].ID == procs[1].ID {
		t.Fatalf("two launches share process id %s", procs[0].ID)
	}
	for _, p := range procs {
		if pgid, err := syscall.Getpgid(p.Pid); err != nil || pgid != p.Pid {
			t.Errorf("process %s: pgid %d, %v; want its own group %d", p.ID, pgid, err, p.Pid)
		}
		log := filepath.Join(h.dir, "logs", p.ID+".log")
		var b []byte
		h.eventually("the log of "+p.ID, func() bool {
			b, _ = os.ReadFile(log)
			return strings.Contains(string(b), "pwd=")
		})
		for _, want := range []string{
			"pid=" + p.ID + " url=ws://127.0.0.1:1/ tok=tok fleet=fleet-1 host=host-1 keep=kept\n",
			"argc=2 1=-map 2=two words 3=\n",
			"pwd=" + gameDir + "\n",
		} {
			if !strings.Contains(string(b), want) {
				t.Errorf("log of %s:\n%s\nlacks %q", p.ID, b, want)
			}
		}
	}
}

func TestSupervisorScaleDownSparesBusyProcesses(t *testing.T) {
	h := newHarness(t, nil)
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 3}})
	h.reply(false, nil)
	procs := h.waitRunning(3)
	busy, idle, starting := procs[0].ID, procs[1].ID, procs[2].ID
	states := func(p ProcessInfo) agentmsg.ProcessState {
		switch p.ID {
		case busy:
			return agentmsg.ProcessState{State: agentmsg.StateActive, GameSessionId: "gs-1"}
		case idle:
			return agentmsg.ProcessState{State: agentmsg.StateActive}
		}
		return agentmsg.ProcessState{State: agentmsg.StateConnected}
	}
	h.reply(false, states)

	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 1}})
	for _, id := range []string{idle, starting} {
		r := h.waitReport(id)
		if r.EventCode != "" || !strings.Contains(r.Message, "scaled down") {
			t.Errorf("report for %s = %+v; want a normal exit for a scale-down", id, r)
		}
	}
	if got := h.waitRunning(1); got[0].ID != busy {
		t.Fatalf("running %+v; want only the busy process %s", got, busy)
	}

	// The entry goes away while its process is busy: it keeps running.
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "601", ConcurrentExecutions: 1}})
	h.reply(false, states)
	h.eventually("the new entry's process", func() bool { return len(h.running()) == 2 })
	if _, ok := h.report(busy); ok {
		t.Fatalf("busy process %s was stopped", busy)
	}
	// Its game session ends: now it is surplus and idle.
	h.reply(false, all(agentmsg.StateActive))
	if r := h.waitReport(busy); r.EventCode != "" {
		t.Errorf("report for %s = %+v; want a normal exit", busy, r)
	}
	got := h.waitRunning(1)
	if got[0].Parameters != "601" {
		t.Errorf("running %+v; want the new entry's process", got)
	}
}

func TestSupervisorScaledToZero(t *testing.T) {
	h := newHarness(t, nil)
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 3}})
	h.reply(true, nil)
	time.Sleep(50 * time.Millisecond)
	if n := len(h.sup.Processes()); n != 0 {
		t.Fatalf("%d processes launched while scaled to zero", n)
	}
	h.reply(false, nil)
	procs := h.waitRunning(3)
	busy := procs[1].ID
	h.reply(true, func(p ProcessInfo) agentmsg.ProcessState {
		if p.ID == busy {
			return agentmsg.ProcessState{State: agentmsg.StateActive, GameSessionId: "gs-1"}
		}
		return agentmsg.ProcessState{State: agentmsg.StateActive}
	})
	reports := h.waitReports(2)
	for _, r := range reports {
		if r.ProcessId == busy || r.EventCode != "" || !strings.Contains(r.Message, "scaled to zero") {
			t.Errorf("report %+v; want normal exits of the idle processes", r)
		}
	}
	if got := h.waitRunning(1); got[0].ID != busy {
		t.Fatalf("running %+v; want the busy process", got)
	}
	h.reply(false, all(agentmsg.StateActive))
	h.waitRunning(3)
}

func TestSupervisorCrashBackoff(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) { c.StableAfter = 30 * time.Second })
	stay := filepath.Join(h.dir, "stay")
	crash := h.script("crash.sh", `if [ -e `+stay+` ]; then echo staying; exec sleep 600; fi; exit 3`)
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: crash, ConcurrentExecutions: 2}})
	h.reply(false, nil)
	// Both slots launch at once; both crash.
	reports := h.waitReports(2)
	for _, r := range reports {
		if r.EventCode != EventCrashed || r.ExitCode != 3 {
			t.Fatalf("report %+v; want SERVER_PROCESS_CRASHED with exit code 3", r)
		}
	}
	// From now on one attempt per period, the period doubling: 2 failures
	// in a row wait 2 s, then 4 s, 8 s.
	n := 2
	for _, gap := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		h.clk.Advance(gap - 100*time.Millisecond)
		time.Sleep(30 * time.Millisecond)
		if got := len(h.reportsNow()); got != n {
			t.Fatalf("%d reports %v before the %v backoff ended; want %d", got, gap-100*time.Millisecond, gap, n)
		}
		h.clk.Advance(100 * time.Millisecond)
		n++
		h.waitReports(n)
		if got := len(h.reportsNow()); got != n {
			t.Fatalf("%d reports after %v; want %d (one attempt per period)", got, gap, n)
		}
	}

	// The next launch stays up and serves for StableAfter: the failures are
	// forgiven, so the following crash waits BackoffMin again.
	os.WriteFile(stay, nil, 0o644)
	h.clk.Advance(16 * time.Second)
	p := h.waitRunning(1)[0]
	h.reply(false, all(agentmsg.StateActive))
	h.clk.Advance(30 * time.Second)
	h.reply(false, all(agentmsg.StateActive))
	// The second slot, now unblocked, launches too.
	for _, p := range h.waitRunning(2) {
		h.waitLog(p.ID, "staying")
	}
	os.Remove(stay)
	syscall.Kill(p.Pid, syscall.SIGKILL)
	r := h.waitReport(p.ID)
	if r.EventCode != EventCrashed || r.ExitCode != 128+9 {
		t.Fatalf("report %+v; want CRASHED with exit code 137", r)
	}
	h.eventually("the replacement to wait", func() bool { return len(h.running()) == 1 })
	before := len(h.reportsNow())
	h.clk.Advance(time.Second)
	h.waitReports(before + 1) // relaunched after 1 s, crashed at once
}

func TestSupervisorInvalidPath(t *testing.T) {
	h := newHarness(t, nil)
	missing := filepath.Join(h.dir, "no-such-server")
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: missing, ConcurrentExecutions: 3}})
	h.reply(false, nil)
	check := func(want int) {
		t.Helper()
		got := h.reportsNow()
		if len(got) != want {
			t.Fatalf("%d reports; want %d: %+v", len(got), want, got)
		}
		for _, r := range got {
			if r.EventCode != EventInvalidPath || r.ExitCode != -1 || !strings.Contains(r.Message, missing) {
				t.Fatalf("report %+v; want SERVER_PROCESS_INVALID_PATH naming %s", r, missing)
			}
		}
	}
	check(1) // failed launches are reported synchronously; one per period
	n := 1
	for _, gap := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 60 * time.Second, 60 * time.Second} {
		h.clk.Advance(gap - time.Millisecond)
		check(n)
		h.clk.Advance(time.Millisecond)
		n++
		check(n)
	}
	ids := map[string]bool{}
	for _, r := range h.reportsNow() {
		ids[r.ProcessId] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct process ids in %d reports", len(ids), n)
	}
	if len(h.sup.Processes()) != 0 {
		t.Errorf("processes %+v; want none", h.sup.Processes())
	}

	// Fixing the configuration launches at once: a new entry has no history.
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 3}})
	h.waitRunning(3)
}

func TestSupervisorDeadlines(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) {
		c.InitTimeout = 10 * time.Second
		c.ReadyTimeout = 20 * time.Second
		c.ExitTimeout = 5 * time.Second
	})
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 3}})
	h.reply(false, nil)
	procs := h.waitRunning(3)
	hang, slow, lingering := procs[0].ID, procs[1].ID, procs[2].ID
	states := func(p ProcessInfo) agentmsg.ProcessState {
		switch p.ID {
		case slow:
			return agentmsg.ProcessState{State: agentmsg.StateConnected}
		case lingering:
			return agentmsg.ProcessState{State: agentmsg.StateTerminated}
		}
		return agentmsg.ProcessState{State: agentmsg.StateUnknown}
	}
	h.clk.Advance(5 * time.Second)
	h.reply(false, states) // slow connected at t=5 s; lingering terminated at t=5 s
	h.clk.Advance(4 * time.Second)
	h.reply(false, states)
	time.Sleep(30 * time.Millisecond)
	if got := h.reportsNow(); len(got) != 0 {
		t.Fatalf("reports %+v before any deadline", got)
	}
	h.clk.Advance(time.Second) // t=10 s: init deadline of hang; 5 s after lingering ended
	h.reply(false, states)
	if r := h.waitReport(hang); r.EventCode != EventInitTimeout || r.ExitCode != 128+int(syscall.SIGTERM) {
		t.Errorf("report %+v; want SDK_INITIALIZATION_TIMEOUT after SIGTERM", r)
	}
	if r := h.waitReport(lingering); r.EventCode != EventExitTimeout {
		t.Errorf("report %+v; want PROCESS_EXIT_TIMEOUT", r)
	}
	if _, ok := h.report(slow); ok {
		t.Fatal("the connected process was killed before its ready deadline")
	}
	// Two failures in a row: the replacements wait 2 s, and come one at a time.
	if got := h.running(); len(got) != 1 {
		t.Fatalf("running %+v right after the kills; want only the connected process", got)
	}
	h.clk.Advance(2 * time.Second)
	h.waitRunning(2)
	h.clk.Advance(13 * time.Second) // t=25 s: 20 s after slow connected
	h.reply(false, states)
	if r := h.waitReport(slow); r.EventCode != EventReadyTimeout {
		t.Errorf("report %+v; want PROCESS_READY_TIMEOUT", r)
	}
}

func TestSupervisorDeadlinesWaitForTheService(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) { c.InitTimeout = 10 * time.Second })
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 1}})
	h.reply(false, nil)
	h.waitRunning(1)
	// No reply for a minute (the control channel is down): nothing is killed
	// on a guess.
	h.clk.Advance(time.Minute)
	time.Sleep(30 * time.Millisecond)
	if got := h.reportsNow(); len(got) != 0 {
		t.Fatalf("reports %+v without a heartbeat reply", got)
	}
}

func TestSupervisorForceExitAndKillGrace(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) { c.KillGrace = 3 * time.Second })
	stubborn := h.script("stubborn.sh", `trap '' TERM; echo trapped; exec sleep 600`)
	h.sup.SetConfiguration([]ServerProcess{
		{LaunchPath: stubborn, ConcurrentExecutions: 1},
		{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 1},
	})
	h.reply(false, nil)
	procs := h.waitRunning(2)
	byPath := map[string]string{}
	for _, p := range procs {
		byPath[p.LaunchPath] = p.ID
	}
	h.waitLog(byPath[stubborn], "trapped")
	h.sup.ForceExit(byPath[stubborn], "FORCE_TERMINATE")
	h.sup.ForceExit(byPath["/bin/sleep"], EventTerminatedUnhealthy)
	if r := h.waitReport(byPath["/bin/sleep"]); r.EventCode != EventTerminatedUnhealthy {
		t.Errorf("report %+v; want the reason's event code", r)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok := h.report(byPath[stubborn]); ok {
		t.Fatal("a process ignoring SIGTERM ended before the kill grace")
	}
	h.clk.Advance(3 * time.Second)
	r := h.waitReport(byPath[stubborn])
	if r.EventCode != EventForceTerminated || r.ExitCode != 128+int(syscall.SIGKILL) || !strings.Contains(r.Message, "FORCE_TERMINATE") {
		t.Errorf("report %+v; want FORCE_TERMINATED after SIGKILL", r)
	}
	// A force exit is no failure of the entry: it is replaced at once.
	h.eventually("the replacement", func() bool {
		for _, p := range h.running() {
			if p.LaunchPath == stubborn {
				return true
			}
		}
		return false
	})
}

func TestSupervisorCleanExitVerdict(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) { c.VerdictTimeout = 5 * time.Second })
	// Exits 0 on SIGTERM to the shell alone, like a game server that ends
	// by itself.
	game := h.script("game.sh", `trap 'exit 0' TERM; echo trapped; sleep 600 & wait`)
	h.sup.SetConfiguration([]ServerProcess{{LaunchPath: game, ConcurrentExecutions: 1}})
	h.reply(false, nil)
	end := func() ProcessInfo {
		t.Helper()
		p := h.waitRunning(1)[0]
		h.reply(false, all(agentmsg.StateActive))
		h.waitLog(p.ID, "trapped")
		syscall.Kill(p.Pid, syscall.SIGTERM)
		h.eventually("the exit", func() bool {
			ps := h.sup.Processes()
			return len(ps) == 1 && ps[0].Exited
		})
		return p
	}

	// 1. A heartbeat composed before the exit cannot judge it; the next one can.
	p := h.waitRunning(1)[0]
	h.reply(false, all(agentmsg.StateActive))
	stale := h.sup.NextHeartbeat()
	h.waitLog(p.ID, "trapped")
	syscall.Kill(p.Pid, syscall.SIGTERM)
	h.eventually("the exit", func() bool { ps := h.sup.Processes(); return len(ps) == 1 && ps[0].Exited })
	select {
	case <-h.sup.Beat():
	default:
		t.Error("no early heartbeat asked for after a clean exit")
	}
	h.answer(stale, false, all(agentmsg.StateActive))
	if got := h.reportsNow(); len(got) != 0 {
		t.Fatalf("judged by a heartbeat from before the exit: %+v", got)
	}
	h.reply(false, all(agentmsg.StateTerminated))
	if r := h.waitReport(p.ID); r.EventCode != "" || r.ExitCode != 0 {
		t.Errorf("report %+v; want a normal exit after ProcessEnding", r)
	}

	// 2. The service still had it ACTIVE: it ended without ProcessEnding.
	p = end()
	h.reply(false, all(agentmsg.StateActive))
	if r := h.waitReport(p.ID); r.EventCode != EventCrashed || r.ExitCode != 0 {
		t.Errorf("report %+v; want CRASHED for an exit without ProcessEnding", r)
	}

	// 3. No answer at all: CRASHED after the verdict timeout.
	h.clk.Advance(time.Minute) // past the backoff of case 2
	p = end()
	h.clk.Advance(5 * time.Second)
	if r := h.waitReport(p.ID); r.EventCode != EventCrashed || !strings.Contains(r.Message, "did not confirm") {
		t.Errorf("report %+v; want CRASHED after the verdict timeout", r)
	}
}

func TestSupervisorDrain(t *testing.T) {
	h := newHarness(t, func(c *SupervisorConfig) { c.KillGrace = 2 * time.Second })
	stubborn := h.script("stubborn.sh", `trap '' TERM; echo trapped; exec sleep 600`)
	h.sup.SetConfiguration([]ServerProcess{
		{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 2},
		{LaunchPath: stubborn, ConcurrentExecutions: 1},
	})
	h.reply(false, nil)
	for _, p := range h.waitRunning(3) {
		if p.LaunchPath == stubborn {
			h.waitLog(p.ID, "trapped")
		}
	}
	drained := h.sup.Drain(h.clk.Now().Add(30 * time.Second))
	if hb := h.sup.NextHeartbeat(); !hb.Msg.Draining || len(hb.Msg.ProcessIds) != 3 {
		t.Errorf("heartbeat %+v; want Draining with 3 processes", hb.Msg)
	}
	h.clk.Advance(29 * time.Second)
	h.reply(false, all(agentmsg.StateActive))
	time.Sleep(30 * time.Millisecond)
	if got := h.reportsNow(); len(got) != 0 {
		t.Fatalf("reports %+v before the drain deadline", got)
	}
	h.clk.Advance(time.Second)
	h.waitReports(2) // the sleeps end on SIGTERM
	h.clk.Advance(2 * time.Second)
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatalf("not drained; processes %+v", h.sup.Processes())
	}
	for _, r := range h.reportsNow() {
		if r.EventCode != "" || !strings.Contains(r.Message, "shutting down") {
			t.Errorf("report %+v; want a normal exit for a shutdown", r)
		}
	}
	h.reply(false, nil)
	time.Sleep(30 * time.Millisecond)
	if n := len(h.sup.Processes()); n != 0 {
		t.Errorf("%d processes launched while draining", n)
	}
}

func TestSupervisorConfigurationLimit(t *testing.T) {
	h := newHarness(t, nil)
	h.sup.SetConfiguration([]ServerProcess{
		{LaunchPath: "/bin/sleep", Parameters: "600", ConcurrentExecutions: 40},
		{LaunchPath: "/bin/sleep", Parameters: "601", ConcurrentExecutions: 40},
	})
	h.reply(false, nil)
	h.waitRunning(MaxProcesses)
	time.Sleep(30 * time.Millisecond)
	if n := len(h.running()); n != MaxProcesses {
		t.Errorf("%d processes; want the cap of %d", n, MaxProcesses)
	}
}

func TestLaunchEnvReplacesSDKVariables(t *testing.T) {
	got := launchEnv([]string{"A=1", "GAMELIFT_SDK_PROCESS_ID=old", "B=2"}, LaunchEnv{WebSocketURL: "ws://x/", AuthToken: "t", FleetID: "f", HostID: "h"}, "p")
	want := []string{"A=1", "B=2", "GAMELIFT_SDK_WEBSOCKET_URL=ws://x/", "GAMELIFT_SDK_AUTH_TOKEN=t", "GAMELIFT_SDK_FLEET_ID=f", "GAMELIFT_SDK_HOST_ID=h", "GAMELIFT_SDK_PROCESS_ID=p"}
	if !slices.Equal(got, want) {
		t.Errorf("launchEnv = %q; want %q", got, want)
	}
}
