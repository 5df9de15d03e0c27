package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"

	"github.com/openlift/openlift/internal/agentmsg"
)

// Config configures an Agent.
type Config struct {
	// Endpoint is the service's API URL (http://host:port); the control
	// channel is on the same listener.
	Endpoint    string
	FleetID     string
	Location    string
	ComputeName string // default DefaultComputeName()
	IPAddress   string // default DefaultIPAddress()
	Region      string // default DefaultRegion
	Credentials aws.CredentialsProvider
	// GameDir is the processes' working directory and the base of relative
	// launch paths ("" = each launch path's directory).
	GameDir string
	// LogDir receives a log file per process (default DefaultLogDir).
	LogDir string

	// HeartbeatInterval paces AgentHeartbeat (default 2 s).
	HeartbeatInterval time.Duration
	// ConfigInterval paces the fallback DescribeRuntimeConfiguration poll
	// (default 30 s); a RuntimeConfigurationChanged push fetches at once.
	ConfigInterval time.Duration
	// DrainTimeout is how long processes get between DrainCompute
	// (OnProcessTerminate) and the kill (default 30 s).
	DrainTimeout time.Duration
	// Supervisor holds the process deadlines, kill grace and backoff; its
	// Env, Report, GameDir, LogDir and Logger are set by the agent.
	Supervisor SupervisorConfig

	Logger *slog.Logger
	// Ready is called once, when the compute is registered and the control
	// channel has answered its first heartbeat.
	Ready func(computeName string)
}

// Defaults not covered by DefaultSupervisorConfig.
const (
	DefaultHeartbeatInterval = 2 * time.Second
	DefaultConfigInterval    = 30 * time.Second
	// DefaultDrainTimeout matches the 30 s GameLift gives a process between
	// ProcessEnding and its exit; with the kill grace it fits in systemd's
	// default 90 s stop timeout.
	DefaultDrainTimeout = 30 * time.Second
	DefaultLogDir       = "openlift-agent-logs"

	// tokenRefreshMargin: the token is renewed once less than this remains,
	// the point from which GetComputeAuthToken mints a new one.
	tokenRefreshMargin = 15 * time.Minute
	maxOutbox          = 1000
)

// Agent registers a compute, keeps its runtime configuration's processes
// running and reports on them over the control channel.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	client *gamelift.Client
	sup    *Supervisor

	configNow chan struct{}
	tokenNow  chan struct{}
	calls     chan callRequest
	readyOnce sync.Once
	connected atomic.Bool

	mu          sync.Mutex
	sdkEndpoint string
	token       string
	tokenExpiry time.Time

	outMu    sync.Mutex
	outbox   []agentmsg.ProcessExited
	outReady chan struct{}
}

type callRequest struct {
	action string
	body   any
	result chan error
}

// New checks cfg and prepares an Agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"endpoint", cfg.Endpoint}, {"fleet id", cfg.FleetID}, {"location", cfg.Location}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %v", missing)
	}
	if _, err := agentURL(cfg.Endpoint, cfg.FleetID, "x", "x"); err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no credentials")
	}
	if cfg.ComputeName == "" {
		cfg.ComputeName = DefaultComputeName()
	}
	if cfg.IPAddress == "" {
		cfg.IPAddress = DefaultIPAddress()
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.LogDir == "" {
		cfg.LogDir = DefaultLogDir
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.ConfigInterval <= 0 {
		cfg.ConfigInterval = DefaultConfigInterval
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Agent{
		cfg: cfg,
		log: cfg.Logger,
		client: gamelift.New(gamelift.Options{
			Region:       cfg.Region,
			BaseEndpoint: aws.String(cfg.Endpoint),
			Credentials:  cfg.Credentials,
		}),
		configNow: make(chan struct{}, 1),
		tokenNow:  make(chan struct{}, 1),
		calls:     make(chan callRequest),
		outReady:  make(chan struct{}, 1),
	}
	sc := cfg.Supervisor
	sc.Logger = cfg.Logger
	sc.GameDir = cfg.GameDir
	sc.LogDir = cfg.LogDir
	sc.Env = a.launchEnv
	sc.Report = a.enqueue
	a.sup = NewSupervisor(sc)
	return a, nil
}

// ComputeName is the name the agent registers.
func (a *Agent) ComputeName() string { return a.cfg.ComputeName }

// Processes lists the processes the agent runs.
func (a *Agent) Processes() []ProcessInfo { return a.sup.Processes() }

func (a *Agent) launchEnv() LaunchEnv {
	a.mu.Lock()
	defer a.mu.Unlock()
	return LaunchEnv{WebSocketURL: a.sdkEndpoint, AuthToken: a.token, FleetID: a.cfg.FleetID, HostID: a.cfg.ComputeName}
}

// Run registers the compute and supervises its processes until ctx ends;
// then it drains (DrainCompute, the deadline, kills), reports the exits,
// deregisters and returns nil. Errors are returned only when the agent
// cannot get started: a refused registration, a missing log directory.
func (a *Agent) Run(ctx context.Context) error {
	if err := os.MkdirAll(a.cfg.LogDir, 0o755); err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	registered, err := a.register(ctx)
	if err != nil {
		if registered {
			// Stopped (or failed) between RegisterCompute and the token:
			// leave no compute behind that no agent serves.
			a.deregister(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// The loops outlive ctx: the drain needs the control channel and the
	// token until the compute is deregistered.
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){a.tokenLoop, a.configLoop, a.channelLoop} {
		wg.Go(func() { loop(runCtx) })
	}

	<-ctx.Done()
	a.drain(runCtx)
	a.deregister(runCtx)
	stop()
	wg.Wait()
	return nil
}

// register calls RegisterCompute and GetComputeAuthToken, retrying failures
// that may pass (the service not up yet) and giving up on those that will
// not (a wrong fleet, location or credential). registered says whether
// RegisterCompute succeeded, even if the token did not follow.
func (a *Agent) register(ctx context.Context) (registered bool, err error) {
	err = retry(ctx, a.log, "register compute", func(ctx context.Context) error {
		out, err := a.client.RegisterCompute(ctx, &gamelift.RegisterComputeInput{
			FleetId:     aws.String(a.cfg.FleetID),
			ComputeName: aws.String(a.cfg.ComputeName),
			IpAddress:   aws.String(a.cfg.IPAddress),
			Location:    aws.String(a.cfg.Location),
		})
		if err != nil {
			return err
		}
		if out.Compute == nil || aws.ToString(out.Compute.GameLiftServiceSdkEndpoint) == "" {
			return permanent(errors.New("RegisterCompute returned no GameLiftServiceSdkEndpoint"))
		}
		registered = true
		a.mu.Lock()
		a.sdkEndpoint = aws.ToString(out.Compute.GameLiftServiceSdkEndpoint)
		a.mu.Unlock()
		a.log.Info("registered compute", "fleet", a.cfg.FleetID, "compute", a.cfg.ComputeName, "ip", a.cfg.IPAddress,
			"location", a.cfg.Location, "sdkEndpoint", a.sdkEndpoint)
		return a.fetchToken(ctx)
	})
	return registered, err
}

func (a *Agent) fetchToken(ctx context.Context) error {
	out, err := a.client.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{
		FleetId: aws.String(a.cfg.FleetID), ComputeName: aws.String(a.cfg.ComputeName),
	})
	if err != nil {
		return err
	}
	if aws.ToString(out.AuthToken) == "" {
		return errors.New("GetComputeAuthToken returned no token")
	}
	a.setToken(aws.ToString(out.AuthToken), aws.ToTime(out.ExpirationTimestamp))
	return nil
}

// setToken keeps the token that lives longest: a RefreshConnection push and
// a GetComputeAuthToken answer may cross.
func (a *Agent) setToken(token string, expiry time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token == a.token || (!a.tokenExpiry.IsZero() && expiry.Before(a.tokenExpiry)) {
		return
	}
	a.token, a.tokenExpiry = token, expiry
	a.log.Info("compute auth token", "expires", expiry.UTC().Format(time.RFC3339))
}

// tokenLoop renews the auth token once less than tokenRefreshMargin remains,
// or at once when the control channel refused it.
func (a *Agent) tokenLoop(ctx context.Context) {
	for {
		a.mu.Lock()
		expiry := a.tokenExpiry
		a.mu.Unlock()
		wait := time.Until(expiry.Add(-tokenRefreshMargin)) + time.Second
		// Short lifetimes (tests, odd configurations) would make that
		// negative; ask again at a modest pace instead of spinning.
		wait = max(wait, min(10*time.Second, max(time.Until(expiry)/2, time.Second)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		case <-a.tokenNow:
		}
		err := retry(ctx, a.log, "renew compute auth token", a.fetchToken)
		if err != nil && ctx.Err() == nil {
			a.log.Error("renewing the compute auth token", "err", err)
		}
	}
}

// configLoop fetches the runtime configuration at start, on a push and
// every ConfigInterval.
func (a *Agent) configLoop(ctx context.Context) {
	var last []ServerProcess
	fails := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-a.configNow:
		}
		sps, err := a.fetchConfiguration(ctx)
		next := a.cfg.ConfigInterval
		switch {
		case err != nil:
			fails++
			next = min(next, time.Duration(1<<min(fails, 5))*time.Second)
			if ctx.Err() == nil {
				a.log.Warn("DescribeRuntimeConfiguration failed", "err", err, "retryIn", next)
			}
		default:
			fails = 0
			if last == nil || !slices.Equal(sps, last) {
				a.log.Info("runtime configuration", "serverProcesses", sps)
			}
			last = append([]ServerProcess{}, sps...)
			a.sup.SetConfiguration(sps)
		}
		timer.Reset(next)
	}
}

func (a *Agent) fetchConfiguration(ctx context.Context) ([]ServerProcess, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := a.client.DescribeRuntimeConfiguration(ctx, &gamelift.DescribeRuntimeConfigurationInput{FleetId: aws.String(a.cfg.FleetID)})
	if err != nil {
		return nil, err
	}
	sps := []ServerProcess{}
	if rc := out.RuntimeConfiguration; rc != nil {
		for _, sp := range rc.ServerProcesses {
			n := 1 // the API's default
			if sp.ConcurrentExecutions != nil {
				n = int(*sp.ConcurrentExecutions)
			}
			sps = append(sps, ServerProcess{LaunchPath: aws.ToString(sp.LaunchPath), Parameters: aws.ToString(sp.Parameters), ConcurrentExecutions: n})
		}
	}
	return sps, nil
}

// channelLoop keeps the control channel connected, with backoff between
// attempts, until ctx ends.
func (a *Agent) channelLoop(ctx context.Context) {
	const minDelay, maxDelay = 250 * time.Millisecond, 30 * time.Second
	delay := minDelay
	for ctx.Err() == nil {
		a.mu.Lock()
		token := a.token
		a.mu.Unlock()
		u, err := agentURL(a.cfg.Endpoint, a.cfg.FleetID, a.cfg.ComputeName, token)
		if err != nil {
			a.log.Error("control channel URL", "err", err)
			return
		}
		c, err := dial(ctx, u, a.callTimeout(), a.callTimeout()+3*a.cfg.HeartbeatInterval, a.log)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var de *dialError
			if errors.As(err, &de) && de.unauthorized() {
				signal(a.tokenNow)
			}
			a.log.Warn("control channel: connect failed", "err", err, "retryIn", delay)
			sleep(ctx, jitter(delay))
			delay = min(delay*2, maxDelay)
			continue
		}
		a.log.Info("control channel connected")
		a.connected.Store(true)
		if a.serve(ctx, c) {
			delay = minDelay
		}
		a.connected.Store(false)
		c.close()
		if ctx.Err() == nil {
			a.log.Warn("control channel lost; reconnecting", "err", c.err, "retryIn", delay)
			sleep(ctx, jitter(delay))
			delay = min(delay*2, maxDelay)
		}
	}
}

func (a *Agent) callTimeout() time.Duration { return max(10*time.Second, 2*a.cfg.HeartbeatInterval) }

// serve runs one connection: heartbeats, exit reports and queued requests,
// one at a time. It reports whether at least one heartbeat was answered.
func (a *Agent) serve(ctx context.Context, c *conn) (answered bool) {
	go c.readLoop(a.handlePush)
	tick := time.NewTicker(a.cfg.HeartbeatInterval)
	defer tick.Stop()
	refused := "" // the last refusal, logged once rather than every beat
	beat := func() bool {
		hb := a.sup.NextHeartbeat()
		var reply agentmsg.HeartbeatReply
		err := c.call(ctx, agentmsg.ActionHeartbeat, hb.Msg, &reply)
		var se *StatusError
		switch {
		case errors.As(err, &se):
			if se.Error() != refused {
				refused = se.Error()
				a.log.Warn("heartbeat refused", "err", err)
			}
			return true
		case err != nil:
			return false
		}
		refused = ""
		answered = true
		a.sup.HandleReply(hb, reply)
		a.readyOnce.Do(func() {
			if a.cfg.Ready != nil {
				a.cfg.Ready(a.cfg.ComputeName)
			}
		})
		return true
	}
	if !beat() || !a.flush(ctx, c) {
		return
	}
	for {
		ok := true
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-tick.C:
			ok = beat()
		case <-a.sup.Beat():
			ok = beat()
		case <-a.outReady:
		case req := <-a.calls:
			err := c.call(ctx, req.action, req.body, nil)
			req.result <- err
			var se *StatusError
			ok = err == nil || errors.As(err, &se)
		}
		if !ok || !a.flush(ctx, c) {
			return
		}
	}
}

func (a *Agent) handlePush(action string, data []byte) {
	switch action {
	case agentmsg.PushForceExit:
		var m agentmsg.ForceExit
		if err := json.Unmarshal(data, &m); err != nil {
			a.log.Warn("malformed push", "action", action, "err", err)
			return
		}
		a.log.Info("force exit requested", "process", m.ProcessId, "reason", m.TerminationReason)
		a.sup.ForceExit(m.ProcessId, m.TerminationReason)
	case agentmsg.PushRuntimeConfigurationChanged:
		signal(a.configNow)
	case agentmsg.PushRefreshConnection:
		var m agentmsg.RefreshConnection
		if err := json.Unmarshal(data, &m); err != nil {
			a.log.Warn("malformed push", "action", action, "err", err)
			return
		}
		if m.AuthToken != "" {
			a.setToken(m.AuthToken, time.UnixMilli(m.ExpirationTimeMillis))
		}
	default:
		a.log.Debug("ignoring push", "action", action)
	}
}

// enqueue is the supervisor's Report: exits wait in the outbox until the
// control channel takes them, so none is lost to a reconnect.
func (a *Agent) enqueue(r agentmsg.ProcessExited) {
	a.outMu.Lock()
	if len(a.outbox) >= maxOutbox {
		a.log.Warn("dropping an unsent exit report; the service has been unreachable too long", "process", a.outbox[0].ProcessId)
		a.outbox = a.outbox[1:]
	}
	a.outbox = append(a.outbox, r)
	a.outMu.Unlock()
	signal(a.outReady)
}

// flush sends the queued exit reports; false means the connection failed.
// A report the service refuses is dropped rather than retried forever.
func (a *Agent) flush(ctx context.Context, c *conn) bool {
	for {
		a.outMu.Lock()
		if len(a.outbox) == 0 {
			a.outMu.Unlock()
			return true
		}
		r := a.outbox[0]
		a.outMu.Unlock()
		err := c.call(ctx, agentmsg.ActionProcessExited, r, nil)
		var se *StatusError
		if err != nil && !errors.As(err, &se) {
			return false
		}
		if err != nil {
			a.log.Warn("exit report refused", "process", r.ProcessId, "err", err)
		}
		a.outMu.Lock()
		if len(a.outbox) > 0 && a.outbox[0] == r {
			a.outbox = a.outbox[1:]
		}
		a.outMu.Unlock()
	}
}

func (a *Agent) outboxLen() int {
	a.outMu.Lock()
	defer a.outMu.Unlock()
	return len(a.outbox)
}

var errNotConnected = errors.New("control channel not connected")

// request sends one request over the control channel, failing at once when
// the channel is down rather than waiting for a reconnect that may not come.
func (a *Agent) request(ctx context.Context, action string, body any) error {
	if !a.connected.Load() {
		return fmt.Errorf("%s: %w", action, errNotConnected)
	}
	req := callRequest{action: action, body: body, result: make(chan error, 1)}
	select {
	case a.calls <- req:
	case <-ctx.Done():
		return fmt.Errorf("%s: control channel not connected: %w", action, ctx.Err())
	}
	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain stops the compute's processes: the service tells each one to
// terminate (OnProcessTerminate, with the deadline as its termination time),
// the supervisor waits for them until the deadline and kills the rest. When
// the service cannot be told, the processes get SIGTERM instead.
func (a *Agent) drain(ctx context.Context) {
	deadline := time.Now().Add(a.cfg.DrainTimeout)
	n := len(a.sup.Processes())
	a.log.Info("draining", "processes", n, "deadline", deadline.UTC().Format(time.RFC3339))
	drained := a.sup.Drain(deadline)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := a.request(rctx, agentmsg.ActionDrain, agentmsg.Drain{TerminationDeadlineMillis: deadline.UnixMilli()})
	cancel()
	if err != nil {
		a.log.Warn("DrainCompute failed; sending SIGTERM to the processes", "err", err)
		a.sup.TerminateAll()
	}
	sc := a.sup.cfg
	select {
	case <-drained:
	case <-time.After(a.cfg.DrainTimeout + sc.KillGrace + sc.VerdictTimeout + 5*time.Second):
		a.log.Error("processes still running after the drain", "processes", a.sup.Processes())
	}
	// Give the exit reports a moment to reach the service, if it can be
	// reached at all.
	flushBy := time.Now().Add(10 * time.Second)
	for a.outboxLen() > 0 && a.connected.Load() && time.Now().Before(flushBy) {
		signal(a.outReady)
		time.Sleep(20 * time.Millisecond)
	}
	if n := a.outboxLen(); n > 0 {
		a.log.Warn("exit reports not delivered", "count", n)
	}
}

func (a *Agent) deregister(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := a.client.DeregisterCompute(ctx, &gamelift.DeregisterComputeInput{
		FleetId: aws.String(a.cfg.FleetID), ComputeName: aws.String(a.cfg.ComputeName),
	})
	if err != nil {
		a.log.Error("DeregisterCompute failed", "err", err)
		return
	}
	a.log.Info("deregistered compute", "compute", a.cfg.ComputeName)
}

// permanentError marks a failure retry gives up on.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// retry runs f until it succeeds, fails for good or ctx ends. API errors
// that describe the request (bad fleet, location, credential) are final;
// everything else (connection refused, throttling, 5xx) is retried with
// backoff up to 30 s.
func retry(ctx context.Context, log *slog.Logger, what string, f func(context.Context) error) error {
	delay := 500 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := f(cctx)
		cancel()
		if err == nil {
			return nil
		}
		var pe permanentError
		var ae smithy.APIError
		if errors.As(err, &pe) {
			return pe.err
		}
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "InvalidRequestException", "UnauthorizedException", "NotFoundException", "UnrecognizedClientException",
				"InvalidSignatureException", "AccessDeniedException", "IncompleteSignature":
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn(what+" failed; retrying", "err", err, "retryIn", delay)
		sleep(ctx, jitter(delay))
		delay = min(delay*2, 30*time.Second)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// jitter spreads d by ±20% so that agents restarted together do not
// reconnect in lockstep.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
