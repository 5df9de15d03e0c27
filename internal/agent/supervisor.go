package agent

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/openlift/openlift/internal/agent/proc"
	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/clock"
)

// Fleet event codes the agent reports in ProcessExited.
const (
	EventCrashed             = "SERVER_PROCESS_CRASHED"
	EventInvalidPath         = "SERVER_PROCESS_INVALID_PATH"
	EventInitTimeout         = "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT"
	EventReadyTimeout        = "SERVER_PROCESS_PROCESS_READY_TIMEOUT"
	EventTerminatedUnhealthy = "SERVER_PROCESS_TERMINATED_UNHEALTHY"
	EventForceTerminated     = "SERVER_PROCESS_FORCE_TERMINATED"
	EventExitTimeout         = "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT"
)

// MaxProcesses is GameLift's limit on ΣConcurrentExecutions per compute.
const MaxProcesses = 50

// ServerProcess is one entry of a runtime configuration.
type ServerProcess struct {
	LaunchPath           string
	Parameters           string
	ConcurrentExecutions int
}

// LaunchEnv is what each launch learns from the compute's registration.
type LaunchEnv struct {
	WebSocketURL string
	AuthToken    string
	FleetID      string
	HostID       string
}

// SupervisorConfig configures a Supervisor. Zero durations take the defaults
// of DefaultSupervisorConfig.
type SupervisorConfig struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// Env gives the values for the next launch; it is called for each launch
	// because the auth token changes.
	Env func() LaunchEnv
	// BaseEnv is inherited by every process (nil: os.Environ()).
	BaseEnv []string
	// GameDir is every process's working directory, and the base of relative
	// launch paths; "" means each launch path's own directory.
	GameDir string
	// LogDir receives <process id>.log for each launch ("" discards the
	// output). It must exist.
	LogDir string
	// Report receives every exit and every failed launch. It must not block
	// and must not call back into the Supervisor.
	Report func(agentmsg.ProcessExited)

	// InitTimeout: a process not CONNECTED (InitSDK) this long after its
	// launch is killed (SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT).
	InitTimeout time.Duration
	// ReadyTimeout: a process not ACTIVE (ProcessReady) this long after it
	// was first seen CONNECTED is killed (SERVER_PROCESS_PROCESS_READY_TIMEOUT).
	ReadyTimeout time.Duration
	// ExitTimeout: a process still running this long after the service first
	// said TERMINATED is killed (SERVER_PROCESS_PROCESS_EXIT_TIMEOUT).
	ExitTimeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL.
	KillGrace time.Duration
	// VerdictTimeout bounds the wait for the service to say whether a process
	// that exited with code 0 had called ProcessEnding.
	VerdictTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait before relaunching after a
	// failure; it doubles with each failure in a row.
	BackoffMin, BackoffMax time.Duration
	// StableAfter: a process ACTIVE and up this long clears its entry's
	// failure count.
	StableAfter time.Duration
}

// DefaultSupervisorConfig holds the defaults. The init, ready and exit
// deadlines are GameLift's (5 min, 5 min, 30 s).
var DefaultSupervisorConfig = SupervisorConfig{
	InitTimeout:    5 * time.Minute,
	ReadyTimeout:   5 * time.Minute,
	ExitTimeout:    30 * time.Second,
	KillGrace:      10 * time.Second,
	VerdictTimeout: 10 * time.Second,
	BackoffMin:     time.Second,
	BackoffMax:     time.Minute,
	StableAfter:    time.Minute,
}

func (c SupervisorConfig) withDefaults() SupervisorConfig {
	d := DefaultSupervisorConfig
	def := func(v *time.Duration, dv time.Duration) {
		if *v <= 0 {
			*v = dv
		}
	}
	def(&c.InitTimeout, d.InitTimeout)
	def(&c.ReadyTimeout, d.ReadyTimeout)
	def(&c.ExitTimeout, d.ExitTimeout)
	def(&c.KillGrace, d.KillGrace)
	def(&c.VerdictTimeout, d.VerdictTimeout)
	def(&c.BackoffMin, d.BackoffMin)
	def(&c.BackoffMax, d.BackoffMax)
	def(&c.StableAfter, d.StableAfter)
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BaseEnv == nil {
		c.BaseEnv = os.Environ()
	}
	if c.Report == nil {
		c.Report = func(agentmsg.ProcessExited) {}
	}
	if c.Env == nil {
		c.Env = func() LaunchEnv { return LaunchEnv{} }
	}
	return c
}

// Supervisor keeps a runtime configuration's processes running on this
// compute. Its inputs are the configuration (SetConfiguration), what the
// service knows of each process (HandleReply, from the heartbeat), force
// exits, process exits and time; its outputs are launches, signals and
// reports. Every deadline is checked when a heartbeat reply arrives, so none
// fires while the agent cannot hear from the service.
type Supervisor struct {
	cfg  SupervisorConfig
	log  *slog.Logger
	beat chan struct{}

	mu sync.Mutex
	// entries are the configured entries in order; entries no longer
	// configured stay in byKey (with want 0) until their processes are gone.
	entries    []*entry
	byKey      map[string]*entry
	procs      map[string]*process
	configured bool
	// heard is false until the first heartbeat reply: until then the agent
	// does not know whether the fleet is scaled to zero.
	heard        bool
	scaledToZero bool
	draining     bool
	drained      chan struct{}
	drainTimer   clock.Timer
	seq          uint64 // heartbeats composed
	out          []agentmsg.ProcessExited
}

type entry struct {
	launchPath string
	parameters string
	want       int
	failures   int // bad exits in a row
	nextLaunch time.Time
	timer      clock.Timer
}

// stopReason says why the agent ended a process. A zero event with a
// message is a stop the agent asked for (scale-down, drain) and is reported
// as a normal exit.
type stopReason struct {
	event, message string
}

type process struct {
	id         string
	entry      *entry
	p          *proc.Process
	launchedAt time.Time

	state         string
	gameSessionID string
	connectedAt   time.Time // first seen CONNECTED (or later)
	activeAt      time.Time // first seen ACTIVE
	terminatedAt  time.Time // first seen TERMINATED

	stop      *stopReason
	killTimer clock.Timer
	failed    bool // counted as a failure of its entry

	exited       bool
	status       proc.Status
	exitSeq      uint64 // heartbeats composed when it exited
	verdictTimer clock.Timer
}

// NewSupervisor returns a Supervisor that launches nothing until it has a
// configuration and a first heartbeat reply.
func NewSupervisor(cfg SupervisorConfig) *Supervisor {
	cfg = cfg.withDefaults()
	return &Supervisor{
		cfg:   cfg,
		log:   cfg.Logger,
		beat:  make(chan struct{}, 1),
		byKey: map[string]*entry{},
		procs: map[string]*process{},
	}
}

// do runs f under the lock and then hands over the reports f produced, so
// that Report never runs with the lock held.
func (s *Supervisor) do(f func(now time.Time)) {
	s.mu.Lock()
	f(s.cfg.Clock.Now())
	out := s.out
	s.out = nil
	s.mu.Unlock()
	for _, r := range out {
		s.cfg.Report(r)
	}
}

// Beat is signalled when the supervisor wants a heartbeat sooner than the
// next tick: a process exited with code 0 and the service must say whether it
// had called ProcessEnding.
func (s *Supervisor) Beat() <-chan struct{} { return s.beat }

// SetConfiguration replaces the runtime configuration. Entries are matched by
// launch path and parameters, so an entry whose count changes keeps its
// processes; processes of entries that are gone drain like surplus ones.
func (s *Supervisor) SetConfiguration(sps []ServerProcess) {
	s.do(func(now time.Time) {
		total := 0
		var order []*entry
		seen := map[string]bool{}
		for _, sp := range sps {
			n := max(sp.ConcurrentExecutions, 0)
			if total+n > MaxProcesses {
				s.log.Warn("runtime configuration asks for more than the per-compute limit; capping", "limit", MaxProcesses)
				n = MaxProcesses - total
			}
			total += n
			key := sp.LaunchPath + "\x00" + sp.Parameters
			e := s.byKey[key]
			if e == nil {
				e = &entry{launchPath: sp.LaunchPath, parameters: sp.Parameters}
				s.byKey[key] = e
			}
			if seen[key] {
				e.want += n // the same command twice: one entry, the sum of the counts
				continue
			}
			seen[key] = true
			e.want = n
			order = append(order, e)
		}
		for key, e := range s.byKey {
			if !seen[key] {
				e.want = 0
			}
		}
		s.entries = order
		s.configured = true
		s.reconcileLocked(now)
	})
}

// NextHeartbeat composes the next AgentHeartbeat; pass it back to HandleReply
// with the reply.
func (s *Supervisor) NextHeartbeat() Heartbeat {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	ids := make([]string, 0, len(s.procs))
	for id := range s.procs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return Heartbeat{Msg: agentmsg.Heartbeat{ProcessIds: ids, Draining: s.draining}, seq: s.seq}
}

// Heartbeat is one composed AgentHeartbeat.
type Heartbeat struct {
	Msg agentmsg.Heartbeat
	seq uint64
}

// HandleReply applies what the service said of the processes listed in hb:
// states, game sessions, ScaledToZero. It judges the exits waiting for a
// verdict, enforces the deadlines and reconciles.
func (s *Supervisor) HandleReply(hb Heartbeat, reply agentmsg.HeartbeatReply) {
	s.do(func(now time.Time) {
		s.heard = true
		if reply.ScaledToZero != s.scaledToZero {
			s.log.Info("fleet location scaled to zero", "scaledToZero", reply.ScaledToZero)
		}
		s.scaledToZero = reply.ScaledToZero
		answered := map[string]bool{}
		for _, ps := range reply.Processes {
			pr := s.procs[ps.ProcessId]
			if pr == nil {
				continue
			}
			answered[pr.id] = true
			if pr.exited {
				if hb.seq > pr.exitSeq {
					s.judgeLocked(pr, ps.State, now)
				}
				continue
			}
			s.observeLocked(pr, ps, now)
		}
		for _, id := range hb.Msg.ProcessIds {
			// A process the service left out of its answer is one it does
			// not know, so it cannot have said ProcessEnding.
			if pr := s.procs[id]; pr != nil && pr.exited && hb.seq > pr.exitSeq && !answered[id] {
				s.judgeLocked(pr, agentmsg.StateUnknown, now)
			}
		}
		s.enforceDeadlinesLocked(now)
		s.reconcileLocked(now)
	})
}

func (s *Supervisor) observeLocked(pr *process, ps agentmsg.ProcessState, now time.Time) {
	pr.state = ps.State
	pr.gameSessionID = ps.GameSessionId
	switch ps.State {
	case agentmsg.StateConnected, agentmsg.StateActive, agentmsg.StateTerminated:
		if pr.connectedAt.IsZero() {
			pr.connectedAt = now
		}
	}
	if ps.State == agentmsg.StateActive && pr.activeAt.IsZero() {
		pr.activeAt = now
		s.log.Info("server process active", "process", pr.id, "sinceLaunch", now.Sub(pr.launchedAt).Round(time.Millisecond))
	}
	if ps.State == agentmsg.StateTerminated && pr.terminatedAt.IsZero() {
		pr.terminatedAt = now
	}
}

func (s *Supervisor) enforceDeadlinesLocked(now time.Time) {
	for _, pr := range s.procs {
		if pr.exited || pr.stop != nil {
			continue
		}
		switch {
		case !pr.terminatedAt.IsZero():
			if now.Sub(pr.terminatedAt) >= s.cfg.ExitTimeout {
				s.stopLocked(pr, stopReason{EventExitTimeout, fmt.Sprintf("still running %v after the service saw it end", s.cfg.ExitTimeout)}, true, now)
			}
		case pr.connectedAt.IsZero():
			if now.Sub(pr.launchedAt) >= s.cfg.InitTimeout {
				s.stopLocked(pr, stopReason{EventInitTimeout, fmt.Sprintf("did not call InitSDK within %v of its launch", s.cfg.InitTimeout)}, true, now)
			}
		case pr.activeAt.IsZero():
			if now.Sub(pr.connectedAt) >= s.cfg.ReadyTimeout {
				s.stopLocked(pr, stopReason{EventReadyTimeout, fmt.Sprintf("did not call ProcessReady within %v of InitSDK", s.cfg.ReadyTimeout)}, true, now)
			}
		}
	}
}

// ForceExit kills a process at the service's request (TerminateGameSession
// with FORCE_TERMINATE). A reason that is itself a SERVER_PROCESS_* event code
// (say SERVER_PROCESS_TERMINATED_UNHEALTHY) becomes the reported event, so the
// service can have the agent kill for other reasons too.
func (s *Supervisor) ForceExit(processID, reason string) {
	s.do(func(now time.Time) {
		pr := s.procs[processID]
		if pr == nil || pr.exited {
			s.log.Info("force exit for a process that is not running", "process", processID)
			return
		}
		ev := EventForceTerminated
		if strings.HasPrefix(reason, "SERVER_PROCESS_") {
			ev = reason
		}
		msg := "force-terminated by the service"
		if reason != "" {
			msg += " (" + reason + ")"
		}
		s.stopLocked(pr, stopReason{ev, msg}, true, now)
	})
}

// Drain stops all launches and returns a channel that is closed once every
// process is gone. Processes left at deadline get SIGTERM, then SIGKILL after
// the kill grace.
func (s *Supervisor) Drain(deadline time.Time) <-chan struct{} {
	var ch chan struct{}
	s.do(func(now time.Time) {
		if s.draining {
			ch = s.drained
			return
		}
		s.draining = true
		s.drained = make(chan struct{})
		ch = s.drained
		for _, e := range s.byKey {
			if e.timer != nil {
				e.timer.Stop()
				e.timer = nil
			}
		}
		s.drainTimer = s.cfg.Clock.AfterFunc(deadline.Sub(now), func() {
			s.do(func(now time.Time) {
				for _, pr := range s.procs {
					if !pr.exited {
						s.stopLocked(pr, stopReason{"", "compute shutting down: drain deadline passed"}, true, now)
					}
				}
			})
		})
		s.checkDrainedLocked()
	})
	return ch
}

// TerminateAll sends SIGTERM to every process without a kill deadline: the
// drain's fallback when the service cannot pass OnProcessTerminate on.
func (s *Supervisor) TerminateAll() {
	s.do(func(now time.Time) {
		for _, pr := range s.procs {
			if !pr.exited {
				s.stopLocked(pr, stopReason{"", "compute shutting down"}, false, now)
			}
		}
	})
}

// ProcessInfo describes one process, for status and tests.
type ProcessInfo struct {
	ID            string
	Pid           int
	LaunchPath    string
	Parameters    string
	LaunchedAt    time.Time
	State         string // as the service last said; "" before any reply
	GameSessionID string
	Stopping      bool // the agent is ending it
	Exited        bool // gone, waiting for the service's verdict
}

// Processes lists the processes the supervisor tracks, oldest first.
func (s *Supervisor) Processes() []ProcessInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProcessInfo, 0, len(s.procs))
	for _, pr := range s.procs {
		out = append(out, ProcessInfo{
			ID: pr.id, Pid: pr.p.Pid(), LaunchPath: pr.entry.launchPath, Parameters: pr.entry.parameters,
			LaunchedAt: pr.launchedAt, State: pr.state, GameSessionID: pr.gameSessionID,
			Stopping: pr.stop != nil, Exited: pr.exited,
		})
	}
	slices.SortFunc(out, func(a, b ProcessInfo) int {
		return cmp.Or(a.LaunchedAt.Compare(b.LaunchedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

// reconcileLocked launches what is missing and stops idle surplus.
func (s *Supervisor) reconcileLocked(now time.Time) {
	if !s.configured || !s.heard || s.draining {
		return
	}
	perEntry := map[*entry][]*process{}
	for _, pr := range s.procs {
		if pr.stop == nil {
			perEntry[pr.entry] = append(perEntry[pr.entry], pr)
		}
	}
	for key, e := range s.byKey {
		live := perEntry[e]
		want := e.want
		if s.scaledToZero {
			want = 0
		}
		if e.failures > 0 && slices.ContainsFunc(live, func(pr *process) bool { return s.stableLocked(pr, now) }) {
			e.forgive()
		}
		switch {
		case len(live) > want:
			s.scaleDownLocked(e, live, len(live)-want, now)
		case len(live) < want:
			s.scaleUpLocked(e, want-len(live), now)
		}
		if !slices.Contains(s.entries, e) && !s.hasProcsLocked(e) {
			if e.timer != nil {
				e.timer.Stop()
			}
			delete(s.byKey, key)
		}
	}
}

func (s *Supervisor) hasProcsLocked(e *entry) bool {
	for _, pr := range s.procs {
		if pr.entry == e {
			return true
		}
	}
	return false
}

// stableLocked: the process has served long enough for its entry's past
// failures to be forgiven.
func (s *Supervisor) stableLocked(pr *process, now time.Time) bool {
	return !pr.activeAt.IsZero() && now.Sub(pr.launchedAt) >= s.cfg.StableAfter
}

// scaleDownLocked stops up to n idle processes: those not yet ready first
// (they cost nothing to lose), then the newest idle ones. Processes hosting a
// game session are never stopped for a configuration change; they are left
// to finish, and the next reconcile stops them once idle if still surplus.
func (s *Supervisor) scaleDownLocked(e *entry, live []*process, n int, now time.Time) {
	var idle []*process
	for _, pr := range live {
		if pr.exited || pr.gameSessionID != "" || pr.state == agentmsg.StateTerminated {
			continue
		}
		idle = append(idle, pr)
	}
	slices.SortFunc(idle, func(a, b *process) int {
		if a.activeAt.IsZero() != b.activeAt.IsZero() {
			if a.activeAt.IsZero() {
				return -1
			}
			return 1
		}
		return b.launchedAt.Compare(a.launchedAt)
	})
	why := "runtime configuration scaled down"
	if s.scaledToZero {
		why = "fleet location scaled to zero"
	}
	for _, pr := range idle[:min(n, len(idle))] {
		s.stopLocked(pr, stopReason{"", why}, true, now)
	}
}

// scaleUpLocked launches up to n processes of e. After a failure only one
// launch goes out per backoff period, so a broken build costs one attempt
// per period rather than one per slot.
func (s *Supervisor) scaleUpLocked(e *entry, n int, now time.Time) {
	if now.Before(e.nextLaunch) {
		s.armLaunchTimerLocked(e, now)
		return
	}
	if e.failures > 0 {
		n = 1
	}
	for range n {
		if !s.launchLocked(e, now) {
			break
		}
	}
	if e.failures > 0 && !e.nextLaunch.After(now) {
		e.nextLaunch = now.Add(s.backoff(e.failures))
	}
	if now.Before(e.nextLaunch) {
		s.armLaunchTimerLocked(e, now)
	}
}

func (s *Supervisor) armLaunchTimerLocked(e *entry, now time.Time) {
	if e.timer != nil {
		return
	}
	e.timer = s.cfg.Clock.AfterFunc(e.nextLaunch.Sub(now), func() {
		s.do(func(now time.Time) {
			e.timer = nil
			s.reconcileLocked(now)
		})
	})
}

// forgive clears e's failures and the launch spacing they imposed.
func (e *entry) forgive() {
	e.failures = 0
	e.nextLaunch = time.Time{}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

func (s *Supervisor) backoff(failures int) time.Duration {
	d := s.cfg.BackoffMin
	for i := 1; i < failures && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.BackoffMax)
}

// isFailure says whether an exit event counts against its entry: all do
// except a force exit, which is the operator's doing.
func isFailure(event string) bool {
	return event != "" && event != EventForceTerminated
}

// failLocked counts pr's end as a failure of its entry, once. A process that
// had served long enough first clears the entry's earlier failures.
func (s *Supervisor) failLocked(pr *process, now time.Time) {
	if pr.failed {
		return
	}
	pr.failed = true
	if s.stableLocked(pr, now) {
		pr.entry.forgive()
	}
	s.failedLocked(pr.entry, now)
}

// failedLocked counts a bad exit or launch of e and pushes its next launch out.
func (s *Supervisor) failedLocked(e *entry, now time.Time) {
	e.failures++
	if next := now.Add(s.backoff(e.failures)); next.After(e.nextLaunch) {
		e.nextLaunch = next
	}
}

// launchLocked starts one process of e; false means the launch failed (and
// was reported).
func (s *Supervisor) launchLocked(e *entry, now time.Time) bool {
	id := uuid.NewString()
	path := e.launchPath
	if !filepath.IsAbs(path) && s.cfg.GameDir != "" {
		path = filepath.Join(s.cfg.GameDir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	dir := s.cfg.GameDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	env := s.cfg.Env()
	spec := proc.Spec{
		Path: path,
		Args: proc.SplitArgs(e.parameters),
		Dir:  dir,
		Env:  launchEnv(s.cfg.BaseEnv, env, id),
	}
	if s.cfg.LogDir != "" {
		spec.LogPath = filepath.Join(s.cfg.LogDir, id+".log")
	}
	p, err := proc.Start(spec)
	if err != nil {
		ev := EventCrashed
		if errors.Is(err, proc.ErrInvalidPath) {
			ev = EventInvalidPath
		}
		s.log.Warn("launch failed", "process", id, "launchPath", e.launchPath, "event", ev, "err", err)
		s.out = append(s.out, agentmsg.ProcessExited{ProcessId: id, EventCode: ev, ExitCode: -1, Message: "launch failed: " + err.Error()})
		s.failedLocked(e, now)
		return false
	}
	pr := &process{id: id, entry: e, p: p, launchedAt: now}
	s.procs[id] = pr
	s.log.Info("launched server process", "process", id, "pid", p.Pid(), "launchPath", e.launchPath, "parameters", e.parameters, "log", spec.LogPath)
	go func() {
		<-p.Done()
		s.do(func(now time.Time) { s.exitedLocked(pr, now) })
	}()
	return true
}

// launchEnv is the agent's environment with the SDK's variables replaced.
func launchEnv(base []string, le LaunchEnv, processID string) []string {
	env := make([]string, 0, len(base)+5)
	for _, kv := range base {
		if !strings.HasPrefix(kv, "GAMELIFT_SDK_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"GAMELIFT_SDK_WEBSOCKET_URL="+le.WebSocketURL,
		"GAMELIFT_SDK_AUTH_TOKEN="+le.AuthToken,
		"GAMELIFT_SDK_FLEET_ID="+le.FleetID,
		"GAMELIFT_SDK_HOST_ID="+le.HostID,
		"GAMELIFT_SDK_PROCESS_ID="+processID,
	)
}

// stopLocked ends pr: SIGTERM to its group now and, when kill is set,
// SIGKILL after the grace. The first reason sticks, except that an event
// (a timeout, a force exit) replaces a plain stop.
func (s *Supervisor) stopLocked(pr *process, why stopReason, kill bool, now time.Time) {
	if pr.stop == nil || (pr.stop.event == "" && why.event != "") {
		pr.stop = &why
	}
	if isFailure(why.event) {
		// Counted now, not at the exit, so that the replacement, launched
		// as soon as this one is no longer live, waits its turn too.
		s.failLocked(pr, now)
	}
	s.log.Info("stopping server process", "process", pr.id, "event", why.event, "reason", why.message)
	if err := pr.p.Signal(syscall.SIGTERM); err != nil {
		s.log.Warn("SIGTERM", "process", pr.id, "err", err)
	}
	if kill && pr.killTimer == nil {
		pr.killTimer = s.cfg.Clock.AfterFunc(s.cfg.KillGrace, func() {
			if err := pr.p.Signal(syscall.SIGKILL); err != nil {
				s.log.Warn("SIGKILL", "process", pr.id, "err", err)
			}
		})
	}
}

// exitedLocked handles the end of a process. A process that exited with code
// 0 without the agent having seen it TERMINATED waits for the next heartbeat
// reply: only the service knows whether it called ProcessEnding first.
func (s *Supervisor) exitedLocked(pr *process, now time.Time) {
	pr.exited = true
	pr.status = pr.p.Status()
	pr.exitSeq = s.seq
	if pr.killTimer != nil {
		pr.killTimer.Stop()
	}
	clean := pr.status.Code == 0 && pr.status.Signal == 0
	switch {
	case pr.stop != nil:
		s.finishLocked(pr, pr.stop.event, pr.stop.message, now)
	case clean && !pr.terminatedAt.IsZero():
		s.finishLocked(pr, "", "", now)
	case clean:
		pr.verdictTimer = s.cfg.Clock.AfterFunc(s.cfg.VerdictTimeout, func() {
			s.do(func(now time.Time) { s.judgeLocked(pr, "", now) })
		})
		select {
		case s.beat <- struct{}{}:
		default:
		}
	default:
		s.finishLocked(pr, EventCrashed, "", now)
	}
}

// judgeLocked settles an exit with code 0 given the service's state for the
// process ("" when the service did not answer in time).
func (s *Supervisor) judgeLocked(pr *process, state string, now time.Time) {
	if s.procs[pr.id] != pr {
		return // already settled
	}
	if pr.verdictTimer != nil {
		pr.verdictTimer.Stop()
	}
	switch state {
	case agentmsg.StateTerminated:
		s.finishLocked(pr, "", "", now)
	case "":
		s.finishLocked(pr, EventCrashed, "exited with code 0; the service did not confirm ProcessEnding in time", now)
	default:
		s.finishLocked(pr, EventCrashed, "exited with code 0 without calling ProcessEnding", now)
	}
}

// finishLocked reports an exit, forgets the process and schedules what
// follows: backoff after a failure, a relaunch, the end of a drain.
func (s *Supervisor) finishLocked(pr *process, event, message string, now time.Time) {
	delete(s.procs, pr.id)
	msg := pr.status.String()
	if message != "" {
		msg = message + "; " + msg
	}
	logf := s.log.Info
	if event != "" {
		logf = s.log.Warn
	}
	logf("server process exited", "process", pr.id, "event", event, "exitCode", pr.status.Code, "message", msg, "uptime", now.Sub(pr.launchedAt).Round(time.Millisecond))
	s.out = append(s.out, agentmsg.ProcessExited{ProcessId: pr.id, EventCode: event, ExitCode: pr.status.Code, Message: msg})
	// A clean exit before ProcessReady is no event, but relaunching such a
	// process at once would make a loop as tight as a crash loop.
	if isFailure(event) || (pr.stop == nil && pr.activeAt.IsZero()) {
		s.failLocked(pr, now)
	} else if !pr.failed && s.stableLocked(pr, now) {
		pr.entry.forgive()
	}
	s.checkDrainedLocked()
	s.reconcileLocked(now)
}

func (s *Supervisor) checkDrainedLocked() {
	if s.draining && len(s.procs) == 0 {
		select {
		case <-s.drained:
		default:
			close(s.drained)
			if s.drainTimer != nil {
				s.drainTimer.Stop()
			}
		}
	}
}
