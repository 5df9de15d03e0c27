package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/openlift/openlift/internal/sim"
)

// Slots is each game session's MaximumPlayerSessionCount.
const Slots = 200

// Config is one load run.
type Config struct {
	// Bin is the openlift binary the children run (the serve child unless
	// Endpoint is set, and always the echo child of the baseline).
	Bin string
	// Endpoint is an existing server; empty starts `Bin serve`.
	Endpoint string
	Region   string
	// Credentials sign every request. For a started child they are also its
	// admin credential.
	Credentials aws.Credentials

	Duration    time.Duration
	Concurrency int
	// Client is "raw" (signer + net/http) or "sdk" (the full client).
	Client string
	// Processes is how many simulated processes run, Sessions how many of
	// them host a game session (default: all).
	Processes int
	Sessions  int
	// NoBaseline skips the HTTP floor run.
	NoBaseline bool
	// CPUProfile, when set, has the serve child write its CPU profile there.
	CPUProfile string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (c *Config) defaults() error {
	if c.Region == "" {
		c.Region = "us-west-2"
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Client == "" {
		c.Client = "raw"
	}
	if c.Client != "raw" && c.Client != "sdk" {
		return fmt.Errorf("client must be raw or sdk, not %q", c.Client)
	}
	if c.Processes <= 0 {
		// 51,200 slots: at the rates a 2-core machine reaches, a 10 s run
		// never has to recycle, so removals stay out of the numbers.
		c.Processes = 256
	}
	if c.Sessions <= 0 || c.Sessions > c.Processes {
		c.Sessions = c.Processes
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Bin == "" && (c.Endpoint == "" || !c.NoBaseline) {
		return errors.New("the openlift binary is needed to start the children")
	}
	if c.Endpoint != "" && c.CPUProfile != "" {
		return errors.New("a CPU profile needs the serve child: drop the endpoint")
	}
	return nil
}

func (c *Config) newCaller(endpoint string) caller {
	if c.Client == "sdk" {
		return sdkClient{newSDK(endpoint, c.Region, c.Credentials, c.Concurrency)}
	}
	return newRawClient(endpoint, c.Region, c.Credentials, c.Concurrency)
}

// Run sets up a fleet on the server, loads it, validates the game sessions
// and runs the baseline.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Client: cfg.Client, Concurrency: cfg.Concurrency, DurationSeconds: cfg.Duration.Seconds(),
		Processes: cfg.Processes, Sessions: cfg.Sessions, CPUs: runtime.NumCPU()}
	endpoint := cfg.Endpoint
	var serve *child
	if endpoint == "" {
		dir, err := os.MkdirTemp("", "openlift-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		args := []string{"serve", "-listen", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "data"), "-region", cfg.Region, "-log-level", "warn"}
		if cfg.CPUProfile != "" {
			// The hidden wrapper runs the same serve code under pprof.
			args = append([]string{"load", "-internal-child", "serve", "-internal-cpuprofile", cfg.CPUProfile, "--"}, args[1:]...)
			rep.CPUProfile = cfg.CPUProfile
		}
		serve, err = startChild(ctx, cfg.Bin, args, []string{
			"OPENLIFT_ADMIN_ACCESS_KEY_ID=" + cfg.Credentials.AccessKeyID,
			"OPENLIFT_ADMIN_SECRET_ACCESS_KEY=" + cfg.Credentials.SecretAccessKey,
		})
		if err != nil {
			return nil, fmt.Errorf("start openlift serve: %w", err)
		}
		defer serve.stop()
		endpoint = serve.URL
		fmt.Fprintf(cfg.Log, "openlift serve pid %d at %s\n", serve.Pid(), endpoint)
	}
	rep.Endpoint = endpoint

	// The processes outlive setup errors only until this returns.
	simCtx, stopSim := context.WithCancel(context.Background())
	defer stopSim()
	fx, err := setup(ctx, simCtx, &cfg, endpoint)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "%d processes, %d game sessions of %d slots ready\n", cfg.Processes, len(fx.sessions), Slots)

	var before memory
	if serve != nil {
		before = readMemory(serve.Pid())
	}
	target := runTarget(ctx, &cfg, cfg.newCaller(endpoint), fx)
	target.Name = "CreatePlayerSession"
	if serve != nil {
		target.Memory = &memoryReport{Before: before, After: readMemory(serve.Pid())}
	}
	rep.Target = target.Result
	rep.Validation = fx.validate(ctx, target.reserved, target.removed, target.unknown)
	stopSim()

	if serve != nil {
		// Stop the server before the baseline so both runs have the machine
		// to themselves, and so the profile ends with the target run (it starts
		// with the child, so setup is in it too).
		if err := serve.stop(); err != nil {
			fmt.Fprintf(cfg.Log, "openlift serve: %v\n", err)
		}
	}
	if !cfg.NoBaseline && ctx.Err() == nil {
		echo, err := startChild(ctx, cfg.Bin, []string{"load", "-internal-child", "echo"}, nil)
		if err != nil {
			return nil, fmt.Errorf("start the echo child: %w", err)
		}
		defer echo.stop()
		before := readMemory(echo.Pid())
		base := runBaseline(ctx, &cfg, cfg.newCaller(echo.URL), fx.requests)
		base.Name = "HTTP floor (echo child)"
		base.Memory = &memoryReport{Before: before, After: readMemory(echo.Pid())}
		rep.Baseline = &base
		rep.compare()
	}
	rep.LoadAverage = loadAverage()
	return rep, ctx.Err()
}

// fixture is the fleet the target run loads.
type fixture struct {
	client   *gamelift.Client
	fleet    string
	sessions []*session
	requests []request // one per game session, for the baseline
}

func setup(ctx, simCtx context.Context, cfg *Config, endpoint string) (*fixture, error) {
	c := newSDK(endpoint, cfg.Region, cfg.Credentials, 8)
	suffix := fmt.Sprintf("%x", time.Now().UnixNano())
	loc := "custom-load-" + suffix
	if _, err := c.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: &loc}); err != nil {
		return nil, fmt.Errorf("CreateLocation: %w", err)
	}
	f, err := c.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String("load-" + suffix), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: &loc}}})
	if err != nil {
		return nil, fmt.Errorf("CreateFleet: %w", err)
	}
	fx := &fixture{client: c, fleet: *f.FleetAttributes.FleetId}
	host := "load-host"
	comp, err := c.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: &fx.fleet, ComputeName: &host, IpAddress: aws.String("127.0.0.1"), Location: &loc})
	if err != nil {
		return nil, fmt.Errorf("RegisterCompute: %w", err)
	}
	tok, err := c.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &fx.fleet, ComputeName: &host})
	if err != nil {
		return nil, fmt.Errorf("GetComputeAuthToken: %w", err)
	}
	var ready sync.WaitGroup
	ready.Add(cfg.Processes)
	s, err := sim.Start(simCtx, sim.Config{
		WebSocketURL: *comp.Compute.GameLiftServiceSdkEndpoint, FleetID: fx.fleet, HostID: host, AuthToken: *tok.AuthToken,
		Count: cfg.Processes, ProcessIDPrefix: "load", Logger: slog.New(slog.DiscardHandler),
		OnReady: func(*sim.Process) { ready.Done() },
	})
	if err != nil {
		return nil, fmt.Errorf("start the simulated processes: %w", err)
	}
	if err := waitGroup(ctx, &ready, 30*time.Second); err != nil {
		return nil, fmt.Errorf("simulated processes not ready: %w", err)
	}
	ids := make([]string, 0, cfg.Sessions)
	for range cfg.Sessions {
		out, err := c.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: &fx.fleet, Location: &loc, MaximumPlayerSessionCount: aws.Int32(Slots)})
		if err != nil {
			return nil, fmt.Errorf("CreateGameSession: %w", err)
		}
		ids = append(ids, *out.GameSession.GameSessionId)
	}
	// Each game session is driven, and later drained, through the process
	// hosting it.
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		var host *sim.Process
		for host == nil {
			for _, p := range s.Processes() {
				if p.GameSessionID() == id && p.GameSessionActivated() {
					host = p
				}
			}
			if host != nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return nil, fmt.Errorf("game session %s not activated by a process", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
		req := newRequest(id)
		fx.sessions = append(fx.sessions, &session{req: req, proc: host})
		fx.requests = append(fx.requests, req)
	}
	if err := fx.waitActive(ctx, ids, deadline); err != nil {
		return nil, err
	}
	return fx, nil
}

func (fx *fixture) waitActive(ctx context.Context, ids []string, deadline time.Time) error {
	for _, id := range ids {
		for {
			out, err := fx.client.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: aws.String(id)})
			if err != nil {
				return fmt.Errorf("DescribeGameSessions: %w", err)
			}
			if len(out.GameSessions) == 1 && out.GameSessions[0].Status == types.GameSessionStatusActive {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("game session %s not ACTIVE", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

func waitGroup(ctx context.Context, wg *sync.WaitGroup, d time.Duration) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("timed out after %v", d)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session is one game session in the pool. A worker claims a slot before it
// sends a request, so the server is never asked for more than Slots
// reservations per round and the run measures the success path; a
// GameSessionFullException is therefore a bug, counted as an error.
type session struct {
	req  request
	proc *sim.Process
	// claimed counts slots handed out this round (it overshoots by the
	// workers that lost the race), answered the requests that came back.
	claimed  atomic.Int64
	answered atomic.Int64
	mu       sync.Mutex
	ids      []string // player sessions reserved this round
}

// pool hands out game sessions with free slots and recycles full ones.
type pool struct {
	cur     atomic.Pointer[session]
	mu      sync.Mutex // serialises replacing cur
	open    chan *session
	drain   chan *session
	waited  atomic.Int64 // worker-nanoseconds spent with no session open
	removed atomic.Int64
	failed  atomic.Int64 // RemovePlayerSession errors
	// lowWater is the number of open sessions below which draining starts.
	lowWater int
}

func newPool(sessions []*session) *pool {
	p := &pool{open: make(chan *session, len(sessions)), drain: make(chan *session, len(sessions)), lowWater: len(sessions) / 4}
	for _, s := range sessions {
		p.open <- s
	}
	p.cur.Store(<-p.open)
	return p
}

// claim returns a session with a slot reserved for the caller, or nil once
// ctx ends with none available.
func (p *pool) claim(ctx context.Context) *session {
	for {
		s := p.cur.Load()
		if s != nil && s.claimed.Add(1) <= Slots {
			return s
		}
		t := time.Now()
		p.mu.Lock()
		if p.cur.Load() == s {
			var next *session
			select {
			case next = <-p.open:
			default:
				select {
				case next = <-p.open:
				case <-ctx.Done():
				}
			}
			if next == nil {
				p.mu.Unlock()
				p.waited.Add(int64(time.Since(t)))
				return nil
			}
			p.cur.Store(next)
		}
		p.mu.Unlock()
		// Every worker that queued behind the lock waited too.
		if d := time.Since(t); d > time.Millisecond {
			p.waited.Add(int64(d))
		}
	}
}

// answered records the end of a claimed request; the last one of a round
// hands the session to the drainers.
func (p *pool) answered(s *session, playerSessionID string) {
	if playerSessionID != "" {
		s.mu.Lock()
		s.ids = append(s.ids, playerSessionID)
		s.mu.Unlock()
	}
	if s.answered.Add(1) == Slots {
		p.drain <- s
	}
}

// drainWidth is how many removals each drainer has in flight.
const drainWidth = 16

// drainer frees the slots of full sessions through the hosting process, as
// a game server does when players leave, and reopens them.
//
// Draining waits until the pool runs low: removals are server work too, and
// with a pool large enough for the run none of it should overlap the
// measurement. Sessions still waiting when the run stops stay full.
func (p *pool) drainer(stop <-chan struct{}) {
	ctx := context.Background()
	for s := range p.drain {
		for len(p.open) > p.lowWater {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
		s.mu.Lock()
		ids := s.ids
		s.ids = nil
		s.mu.Unlock()
		// One at a time, 200 WebSocket round trips each waiting for a
		// store commit would starve the workers; in parallel the commits
		// group.
		var wg sync.WaitGroup
		for part := range slices.Chunk(ids, (len(ids)+drainWidth-1)/max(drainWidth, 1)) {
			wg.Go(func() {
				for _, id := range part {
					if err := s.proc.RemovePlayerSession(ctx, id); err != nil {
						p.failed.Add(1)
						continue
					}
					p.removed.Add(1)
				}
			})
		}
		wg.Wait()
		// answered first: a worker still holding s may claim as soon as
		// claimed is zero, and its answer must count towards the new round.
		s.answered.Store(0)
		s.claimed.Store(0)
		p.open <- s
	}
}

// targetResult is the loaded run with the counts validation needs.
type targetResult struct {
	Result
	reserved, removed, unknown int64
}

func runTarget(ctx context.Context, cfg *Config, c caller, fx *fixture) targetResult {
	p := newPool(fx.sessions)
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var drainers sync.WaitGroup
	for range 4 {
		drainers.Go(func() { p.drainer(runCtx.Done()) })
	}
	var reserved, unknown atomic.Int64
	rec := newRecorder(cfg.Concurrency)
	start := time.Now()
	var workers sync.WaitGroup
	for w := range cfg.Concurrency {
		workers.Go(func() {
			lat := &rec.lat[w]
			for runCtx.Err() == nil {
				s := p.claim(runCtx)
				if s == nil {
					return
				}
				// Requests are not cancelled at the deadline: an abandoned
				// request might still reserve, and validation must know.
				rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
				t := time.Now()
				id, code, err := c.call(rctx, &s.req)
				lat.add(time.Since(t), code, err)
				rcancel()
				switch {
				case err == nil:
					reserved.Add(1)
				case code == "":
					unknown.Add(1)
				}
				p.answered(s, id)
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(start)
	close(p.drain)
	drainers.Wait()
	r := rec.result(elapsed)
	r.SessionWaitSeconds = time.Duration(p.waited.Load()).Seconds()
	r.Removed = p.removed.Load()
	if n := p.failed.Load(); n > 0 {
		r.Errors["RemovePlayerSession"] += n
	}
	return targetResult{Result: r, reserved: reserved.Load(), removed: p.removed.Load(), unknown: unknown.Load()}
}

func runBaseline(ctx context.Context, cfg *Config, c caller, reqs []request) Result {
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	rec := newRecorder(cfg.Concurrency)
	var next atomic.Int64
	start := time.Now()
	var workers sync.WaitGroup
	for w := range cfg.Concurrency {
		workers.Go(func() {
			lat := &rec.lat[w]
			for runCtx.Err() == nil {
				// The same walk over the bodies as the target: Slots requests
				// per game session in turn.
				r := &reqs[int(next.Add(1)/Slots)%len(reqs)]
				t := time.Now()
				_, code, err := c.call(context.Background(), r)
				lat.add(time.Since(t), code, err)
			}
		})
	}
	workers.Wait()
	return rec.result(time.Since(start))
}

// validate compares the client's count of reservations with the server's.
func (fx *fixture) validate(ctx context.Context, reserved, removed, unknown int64) *Validation {
	v := &Validation{Reservations: reserved, Removed: removed, TransportErrors: unknown}
	want := map[string]bool{}
	for _, s := range fx.sessions {
		want[s.req.gameSessionID] = true
	}
	var token *string
	for {
		out, err := fx.client.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{FleetId: &fx.fleet, NextToken: token})
		if err != nil {
			v.Problems = append(v.Problems, "DescribeGameSessions: "+err.Error())
			break
		}
		for _, g := range out.GameSessions {
			if !want[aws.ToString(g.GameSessionId)] {
				continue
			}
			v.GameSessions++
			n := int64(aws.ToInt32(g.CurrentPlayerSessionCount))
			v.CurrentPlayerSessions += n
			v.MaxCurrent = max(v.MaxCurrent, n)
			if n > int64(aws.ToInt32(g.MaximumPlayerSessionCount)) {
				v.Problems = append(v.Problems, fmt.Sprintf("game session %s holds %d player sessions, more than its %d", aws.ToString(g.GameSessionId), n, aws.ToInt32(g.MaximumPlayerSessionCount)))
			}
		}
		token = out.NextToken
		if token == nil || *token == "" {
			break
		}
	}
	if v.GameSessions != len(want) {
		v.Problems = append(v.Problems, fmt.Sprintf("DescribeGameSessions listed %d of the %d game sessions", v.GameSessions, len(want)))
	}
	if got := reserved - removed; got != v.CurrentPlayerSessions {
		msg := fmt.Sprintf("reservations - removals = %d but the game sessions hold %d", got, v.CurrentPlayerSessions)
		if unknown > 0 {
			msg += fmt.Sprintf(" (%d requests failed in transport with an unknown outcome)", unknown)
		}
		v.Problems = append(v.Problems, msg)
	}
	v.OK = len(v.Problems) == 0
	return v
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// workerStats is one worker's record, so workers never share a lock.
type workerStats struct {
	lat    []time.Duration
	errors map[string]int64
	n, ok  int64
	_      [64]byte // keep neighbouring workers off one cache line
}

func (w *workerStats) add(d time.Duration, code string, err error) {
	w.lat = append(w.lat, d)
	w.n++
	if err == nil {
		w.ok++
		return
	}
	if code == "" {
		code = "transport"
	}
	if w.errors == nil {
		w.errors = map[string]int64{}
	}
	w.errors[code]++
}

type recorder struct{ lat []workerStats }

func newRecorder(n int) *recorder { return &recorder{lat: make([]workerStats, n)} }

func (r *recorder) result(elapsed time.Duration) Result {
	res := Result{Errors: map[string]int64{}, Seconds: elapsed.Seconds()}
	var all []time.Duration
	for i := range r.lat {
		w := &r.lat[i]
		all = append(all, w.lat...)
		res.Requests += w.n
		res.Successes += w.ok
		for k, v := range w.errors {
			res.Errors[k] += v
		}
	}
	if res.Seconds > 0 {
		res.Throughput = float64(res.Requests) / res.Seconds
	}
	if len(all) > 0 {
		slices.Sort(all)
		q := func(p float64) float64 { return micro(all[min(len(all)-1, int(float64(len(all))*p))]) }
		res.P50, res.P90, res.P99 = q(0.50), q(0.90), q(0.99)
		res.Max = micro(all[len(all)-1])
	}
	return res
}

func micro(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
