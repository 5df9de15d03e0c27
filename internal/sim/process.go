package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/openlift/openlift/internal/sdkmsg"
)

// shutdownTimeout bounds the ProcessEnding a process sends when the whole
// simulator is stopped, so that stopping never hangs on a dead service.
const shutdownTimeout = 2 * time.Second

// Process is one simulated game server process.
type Process struct {
	cfg  Config
	id   string
	log  *slog.Logger
	ln   net.Listener
	port int

	cancel context.CancelFunc
	wg     sync.WaitGroup
	lost   chan struct{} // a current socket was lost; the supervisor reconnects
	pushes chan struct{} // wakes the push worker

	readyOnce sync.Once
	readyCh   chan struct{}
	done      chan struct{}

	mu              sync.Mutex
	cur             *socket
	curSignal       chan struct{} // closed and replaced whenever cur or exiting changes
	target          string        // where reconnects go (carries token and IdempotencyToken)
	socks           map[*socket]struct{}
	pending         map[string]*pending
	timeouts        int
	connects        int
	pushQ           [][]byte
	ready           bool
	exiting         bool
	err             error
	session         *sdkmsg.GameSession
	sessionActive   bool
	lastUpdate      *sdkmsg.UpdateGameSession
	terminationTime int64
	healthy         *bool
	heartbeatsOff   bool
	heartbeatKick   chan struct{}
	players         map[net.Conn]struct{}
}

func newProcess(cfg Config, id string, ln net.Listener) (*Process, error) {
	target, err := connectURL(cfg.WebSocketURL, id, cfg.FleetID, cfg.HostID, cfg.AuthToken)
	if err != nil {
		return nil, err
	}
	return &Process{
		cfg:           cfg,
		id:            id,
		log:           cfg.Logger.With("pID", id),
		ln:            ln,
		port:          ln.Addr().(*net.TCPAddr).Port,
		lost:          make(chan struct{}, 1),
		pushes:        make(chan struct{}, 1),
		readyCh:       make(chan struct{}),
		done:          make(chan struct{}),
		curSignal:     make(chan struct{}),
		target:        target,
		socks:         map[*socket]struct{}{},
		pending:       map[string]*pending{},
		heartbeatKick: make(chan struct{}, 1),
		players:       map[net.Conn]struct{}{},
	}, nil
}

// ID returns the process id (pID).
func (p *Process) ID() string { return p.id }

// Port returns the player TCP port, the Port sent in ActivateServerProcess.
func (p *Process) Port() int { return p.port }

// Addr returns the player address as host:port.
func (p *Process) Addr() string { return net.JoinHostPort(p.cfg.ListenHost, strconv.Itoa(p.port)) }

// Ready is closed once ActivateServerProcess succeeded and the first heartbeat
// was answered. It stays open if the process ends first, so wait on Done too.
func (p *Process) Ready() <-chan struct{} { return p.readyCh }

// Done is closed when the process has ended and released its sockets and port.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns why the process failed, or nil if it ended normally (or is
// still running).
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// GameSession returns the current game session, if one was started.
func (p *Process) GameSession() (sdkmsg.GameSession, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.session == nil {
		return sdkmsg.GameSession{}, false
	}
	gs := *p.session
	return gs, true
}

// GameSessionID returns the current game session's id, or "".
func (p *Process) GameSessionID() string {
	gs, _ := p.GameSession()
	return gs.GameSessionId
}

// GameSessionActivated reports whether ActivateGameSession succeeded for the
// current game session.
func (p *Process) GameSessionActivated() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessionActive
}

// LastUpdate returns the last UpdateGameSession push received.
func (p *Process) LastUpdate() (sdkmsg.UpdateGameSession, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastUpdate == nil {
		return sdkmsg.UpdateGameSession{}, false
	}
	return *p.lastUpdate, true
}

// TerminationTime returns the TerminationTime (epoch ms) of the last
// TerminateProcess push, or 0.
func (p *Process) TerminationTime() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.terminationTime
}

// Connects counts successful WebSocket connects, including reconnects and
// refreshes.
func (p *Process) Connects() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.connects
}

// SetHealthy overrides Config.Healthy for this process.
func (p *Process) SetHealthy(healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.healthy = &healthy
}

// SetHeartbeating stops (false) or resumes (true) periodic heartbeats, to
// simulate a hung game server whose socket stays open.
func (p *Process) SetHeartbeating(on bool) {
	p.mu.Lock()
	p.heartbeatsOff = !on
	p.mu.Unlock()
	if on {
		select {
		case p.heartbeatKick <- struct{}{}:
		default:
		}
	}
}

// DropConnection closes the current socket without a close frame, as a network
// failure would; the process reconnects to the same URL.
func (p *Process) DropConnection() {
	p.mu.Lock()
	s := p.cur
	p.mu.Unlock()
	if s != nil {
		s.drop()
	}
}

// Kill ends the process abruptly, without TerminateServerProcess: a crash.
func (p *Process) Kill() { p.exit(nil) }

// End does what a game's ProcessEnding followed by exit does: it sends
// TerminateServerProcess and then ends the process whatever the answer was,
// returning the request's error.
func (p *Process) End(ctx context.Context) error {
	err := p.processEnding(ctx)
	p.exit(nil)
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	return err
}

// Heartbeat sends one HeartbeatServerProcess now.
func (p *Process) Heartbeat(ctx context.Context) error {
	_, err := p.call(ctx, sdkmsg.ActionHeartbeatServerProcess,
		sdkmsg.HeartbeatServerProcess{HealthStatus: p.health()}, p.cfg.RequestTimeout)
	return err
}

// Call sends any request and returns the raw reply frame, for tests that need
// an action the typed methods do not cover.
func (p *Process) Call(ctx context.Context, action string, body any) (json.RawMessage, error) {
	return p.call(ctx, action, body, p.cfg.RequestTimeout)
}

var playerSessionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9.-]{1,256}$`)

// sessionFor makes the SDK's local checks for player-session calls and
// returns the game session id they carry.
func (p *Process) sessionFor(playerSessionID string) (string, error) {
	p.mu.Lock()
	ready, gs := p.ready, p.session
	p.mu.Unlock()
	if !ready {
		return "", ErrNotReady
	}
	if gs == nil {
		return "", ErrNoGameSession
	}
	if playerSessionID != "" && !playerSessionIDPattern.MatchString(playerSessionID) {
		return "", fmt.Errorf("%w: player session id %q must be 1-256 characters of [a-zA-Z0-9.-]", ErrInvalidInput, playerSessionID)
	}
	return gs.GameSessionId, nil
}

// AcceptPlayerSession validates a player's session with the service.
func (p *Process) AcceptPlayerSession(ctx context.Context, playerSessionID string) error {
	return p.playerSessionCall(ctx, sdkmsg.ActionAcceptPlayerSession, playerSessionID)
}

// RemovePlayerSession tells the service that the player left.
func (p *Process) RemovePlayerSession(ctx context.Context, playerSessionID string) error {
	return p.playerSessionCall(ctx, sdkmsg.ActionRemovePlayerSession, playerSessionID)
}

func (p *Process) playerSessionCall(ctx context.Context, action, playerSessionID string) error {
	if playerSessionID == "" {
		return fmt.Errorf("%w: player session id is required", ErrInvalidInput)
	}
	gsID, err := p.sessionFor(playerSessionID)
	if err != nil {
		return err
	}
	_, err = p.call(ctx, action, sdkmsg.PlayerSessionRequest{GameSessionId: gsID, PlayerSessionId: playerSessionID}, p.cfg.RequestTimeout)
	return err
}

// UpdatePlayerSessionCreationPolicy sets ACCEPT_ALL or DENY_ALL.
func (p *Process) UpdatePlayerSessionCreationPolicy(ctx context.Context, policy string) error {
	if policy != "ACCEPT_ALL" && policy != "DENY_ALL" {
		return fmt.Errorf("%w: policy must be ACCEPT_ALL or DENY_ALL", ErrInvalidInput)
	}
	gsID, err := p.sessionFor("")
	if err != nil {
		return err
	}
	_, err = p.call(ctx, sdkmsg.ActionUpdatePlayerSessionCreationPolicy,
		sdkmsg.UpdatePlayerSessionCreationPolicy{GameSessionId: gsID, PlayerSessionPolicy: policy}, p.cfg.RequestTimeout)
	return err
}

// DescribePlayerSessions asks the service; like the SDK it needs a ready
// process but not a game session.
func (p *Process) DescribePlayerSessions(ctx context.Context, req sdkmsg.DescribePlayerSessions) (sdkmsg.DescribePlayerSessionsResult, error) {
	var res sdkmsg.DescribePlayerSessionsResult
	if n := countSet(req.GameSessionId, req.PlayerSessionId, req.PlayerId); n != 1 {
		return res, fmt.Errorf("%w: exactly one of GameSessionId, PlayerSessionId and PlayerId is required", ErrInvalidInput)
	}
	if !p.isReady() {
		return res, ErrNotReady
	}
	raw, err := p.call(ctx, sdkmsg.ActionDescribePlayerSessions, req, p.cfg.RequestTimeout)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("sim: DescribePlayerSessions reply: %w", err)
	}
	return res, nil
}

// GetComputeCertificate asks for the compute's TLS certificate path.
func (p *Process) GetComputeCertificate(ctx context.Context) (sdkmsg.GetComputeCertificateResult, error) {
	var res sdkmsg.GetComputeCertificateResult
	if !p.isReady() {
		return res, ErrNotReady
	}
	raw, err := p.call(ctx, sdkmsg.ActionGetComputeCertificate, nil, p.cfg.RequestTimeout)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("sim: GetComputeCertificate reply: %w", err)
	}
	return res, nil
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

func (p *Process) isReady() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

func (p *Process) health() bool {
	p.mu.Lock()
	h := p.healthy
	p.mu.Unlock()
	if h != nil {
		return *h
	}
	if p.cfg.Healthy != nil {
		return p.cfg.Healthy()
	}
	return true
}

func (p *Process) signalLocked() {
	close(p.curSignal)
	p.curSignal = make(chan struct{})
}

// exit ends the process; err is what Err and Sim.Wait report (nil for a
// normal end). Only the first call counts.
func (p *Process) exit(err error) {
	p.mu.Lock()
	if !p.exiting {
		p.exiting, p.err = true, err
		p.ready = false
		p.signalLocked()
	}
	p.mu.Unlock()
	p.cancel()
}

func (p *Process) isExiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exiting
}

// run is the process's life: connect, ProcessReady, heartbeats until the end.
// ctx is the process's own context; it ends when the simulator stops or exit
// is called.
func (p *Process) run(ctx context.Context) {
	defer p.cleanup()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if p.cfg.ServePlayers != nil {
			p.cfg.ServePlayers(ctx, p, p.ln)
			return
		}
		p.servePlayers(ctx)
	}()

	s, err := p.dial(ctx, p.target)
	if err != nil {
		p.exitUnlessStopped(ctx, err)
		return
	}
	p.install(s, false)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		p.supervise(ctx)
	}()
	go func() {
		defer p.wg.Done()
		p.pushWorker(ctx)
	}()

	if !sleep(ctx, p.cfg.ActivateDelay) {
		p.stopGracefully()
		return
	}
	_, err = p.call(ctx, sdkmsg.ActionActivateServerProcess, sdkmsg.ActivateServerProcess{
		SdkVersion:  SdkVersion,
		SdkLanguage: SdkLanguage,
		Port:        p.port,
		LogPaths:    p.cfg.logPaths(p.id),
	}, activateTimeout)
	if err != nil {
		p.exitUnlessStopped(ctx, fmt.Errorf("ActivateServerProcess: %w", err))
		return
	}
	p.mu.Lock()
	p.ready = !p.exiting
	p.mu.Unlock()
	p.log.Info("process ready", "port", p.port)
	p.heartbeatLoop(ctx)
	p.stopGracefully()
}

func (p *Process) exitUnlessStopped(ctx context.Context, err error) {
	if ctx.Err() != nil {
		err = nil
	}
	if err != nil {
		p.log.Error("process failed", "error", err)
	}
	p.exit(err)
}

// stopGracefully runs when the process context ends. If the simulator was
// stopped (rather than the process ending itself), it says goodbye with
// TerminateServerProcess first, as a game does on SIGTERM.
func (p *Process) stopGracefully() {
	if !p.isExiting() && p.isReady() {
		ctx, cancel := context.WithTimeout(context.Background(), min(shutdownTimeout, p.cfg.RequestTimeout))
		if err := p.processEnding(ctx); err != nil {
			p.log.Warn("TerminateServerProcess on shutdown failed", "error", err)
		}
		cancel()
	}
	p.exit(nil)
}

// processEnding sends TerminateServerProcess; on success heartbeats stop and
// later pushes are ignored, as after the SDK's ProcessEnding.
func (p *Process) processEnding(ctx context.Context) error {
	_, err := p.call(ctx, sdkmsg.ActionTerminateServerProcess, nil, p.cfg.RequestTimeout)
	if err == nil {
		p.mu.Lock()
		p.ready = false
		p.mu.Unlock()
	}
	return err
}

func (p *Process) cleanup() {
	p.exit(nil)
	p.ln.Close()
	p.mu.Lock()
	for c := range p.players {
		c.Close()
	}
	for s := range p.socks {
		s.drop()
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.readyOnce.Do(func() {}) // a process that never got ready never will
	close(p.done)
	p.log.Info("process ended", "error", p.Err())
}

func (p *Process) heartbeatLoop(ctx context.Context) {
	first := true
	for {
		p.mu.Lock()
		send := p.ready && !p.heartbeatsOff
		p.mu.Unlock()
		if send {
			if err := p.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				// The SDK only logs heartbeat failures too.
				p.log.Warn("heartbeat failed", "error", err)
			}
		}
		if first {
			first = false
			p.readyOnce.Do(func() {
				close(p.readyCh)
				if p.cfg.OnReady != nil {
					p.cfg.OnReady(p)
				}
			})
		}
		t := time.NewTimer(p.nextHeartbeat())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-p.heartbeatKick:
			t.Stop()
		}
	}
}

func (p *Process) nextHeartbeat() time.Duration {
	d := p.cfg.HeartbeatInterval
	if j := p.cfg.HeartbeatJitter; j > 0 {
		d += time.Duration(rand.Int64N(int64(2*j))) - j
	}
	return max(d, time.Millisecond)
}

func (p *Process) enqueuePush(data []byte) {
	p.mu.Lock()
	p.pushQ = append(p.pushQ, data)
	p.mu.Unlock()
	select {
	case p.pushes <- struct{}{}:
	default:
	}
}

// pushWorker handles pushes one at a time, in arrival order, off the reader
// goroutine: a push may send requests whose replies the reader must route.
func (p *Process) pushWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.pushes:
		}
		for {
			p.mu.Lock()
			if len(p.pushQ) == 0 {
				p.mu.Unlock()
				break
			}
			data := p.pushQ[0]
			p.pushQ = p.pushQ[1:]
			p.mu.Unlock()
			p.handlePush(ctx, data)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

func (p *Process) handlePush(ctx context.Context, data []byte) {
	var env envelope
	_ = json.Unmarshal(data, &env) // route already decoded it once
	switch env.Action {
	case sdkmsg.PushCreateGameSession:
		var m sdkmsg.CreateGameSession
		if err := json.Unmarshal(data, &m); err != nil {
			p.log.Warn("dropping malformed CreateGameSession", "error", err)
			return
		}
		p.startGameSession(ctx, m)
	case sdkmsg.PushUpdateGameSession:
		var m sdkmsg.UpdateGameSession
		if err := json.Unmarshal(data, &m); err != nil {
			p.log.Warn("dropping malformed UpdateGameSession", "error", err)
			return
		}
		if !p.isReady() {
			p.log.Warn("ignoring UpdateGameSession: process not ready")
			return
		}
		p.mu.Lock()
		p.lastUpdate = &m
		gs := m.GameSession
		p.session = &gs
		p.mu.Unlock()
		p.log.Info("game session updated", "reason", m.UpdateReason)
	case sdkmsg.PushTerminateProcess:
		var m sdkmsg.TerminateProcess
		if err := json.Unmarshal(data, &m); err != nil {
			p.log.Warn("dropping malformed TerminateProcess", "error", err)
			return
		}
		p.mu.Lock()
		p.terminationTime = m.TerminationTime
		p.mu.Unlock()
		// What the SDK does for a game without OnProcessTerminate:
		// ProcessEnding, Destroy, exit.
		p.log.Info("TerminateProcess received; ending", "terminationTime", m.TerminationTime)
		if err := p.processEnding(ctx); err != nil {
			p.log.Warn("TerminateServerProcess failed", "error", err)
		}
		p.exit(nil)
	case sdkmsg.PushRefreshConnection:
		var m sdkmsg.RefreshConnection
		if err := json.Unmarshal(data, &m); err != nil {
			p.log.Warn("dropping malformed RefreshConnection", "error", err)
			return
		}
		p.refresh(ctx, m)
	}
}

// startGameSession is the game's OnStartGameSession: remember the session and
// call ActivateGameSession right away.
func (p *Process) startGameSession(ctx context.Context, m sdkmsg.CreateGameSession) {
	if !p.isReady() {
		// The SDK drops it silently in this state, which is the race the
		// service avoids by waiting for the first heartbeat.
		p.log.Warn("ignoring CreateGameSession: process not ready")
		return
	}
	gs := sdkmsg.GameSession{
		GameSessionId:             m.GameSessionId,
		GameSessionData:           m.GameSessionData,
		Name:                      m.GameSessionName,
		MatchmakerData:            m.MatchmakerData,
		FleetId:                   p.cfg.FleetID,
		IpAddress:                 m.IpAddress,
		DnsName:                   m.DnsName,
		MaximumPlayerSessionCount: m.MaximumPlayerSessionCount,
		Port:                      m.Port,
		GameProperties:            m.GameProperties,
	}
	p.mu.Lock()
	p.session, p.sessionActive = &gs, false
	p.mu.Unlock()
	p.log.Info("game session started", "gameSessionId", gs.GameSessionId)
	if p.cfg.OnStartGameSession != nil {
		p.cfg.OnStartGameSession(ctx, p, gs)
	}
	if p.cfg.WithholdActivation {
		return
	}
	if err := p.ActivateGameSession(ctx); err != nil && ctx.Err() == nil {
		p.log.Warn("ActivateGameSession failed", "gameSessionId", gs.GameSessionId, "error", err)
	}
}

// ActivateGameSession reports the current game session ready for players. The
// simulator does this by itself unless Config.WithholdActivation is set.
func (p *Process) ActivateGameSession(ctx context.Context) error {
	gsID, err := p.sessionFor("")
	if err != nil {
		return err
	}
	_, err = p.call(ctx, sdkmsg.ActionActivateGameSession, sdkmsg.ActivateGameSession{GameSessionId: gsID}, p.cfg.RequestTimeout)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.session != nil && p.session.GameSessionId == gsID {
		p.sessionActive = true
	}
	p.mu.Unlock()
	return nil
}
