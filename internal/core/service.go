package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/store"
)

// Config holds the Service's dependencies and tunables.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Region and AccountID appear in ARNs. Region must look like an AWS Region:
	// the Server SDK validates game session ARNs.
	Region    string
	AccountID string
	// SDKEndpoint returns the WebSocket URL that RegisterCompute hands out and
	// that RefreshConnection pushes (e.g. ws://127.0.0.1:9080/).
	SDKEndpoint func() string

	// TokenLifetime is how long a compute auth token is valid (default 1 h).
	TokenLifetime time.Duration
	// HeartbeatTimeout ends a process that has not heartbeated for this long
	// (default 3 min; the SDK heartbeats every 50-70 s).
	HeartbeatTimeout time.Duration
	// UnhealthyLimit ends a process after this many consecutive unhealthy
	// heartbeats (default 3).
	UnhealthyLimit int
	// DefaultActivationTimeout bounds ACTIVATING when the fleet sets none (default 600 s).
	DefaultActivationTimeout time.Duration
	// TerminationGrace is how long a process that was told to terminate has to
	// call ProcessEnding before openlift ends it anyway (default 5 min).
	TerminationGrace time.Duration
	// RefreshInterval is how often connected processes' credentials are checked
	// for refresh (default 1 min).
	RefreshInterval time.Duration
}

// Service implements the GameLift operations and the Server SDK backend.
type Service struct {
	cfg Config
	st  store.Store
	clk clock.Clock
	log *slog.Logger
	hub hub
	// agents holds the control connection of each compute's host agent.
	agents agentHub
	timeq  *deadlineQueue // RESERVED player session timeouts, in creation order
	conns  connCache      // connection info of ACTIVE game sessions
	pl     placer         // the placement engine (placer.go)

	mu     sync.Mutex
	timers map[string]clock.Timer // keyed by kind+id: heartbeat, activation, termination
	closed bool
}

// New builds a Service. Call Start before serving.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("core: Config.Store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-west-2"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.SDKEndpoint == nil {
		cfg.SDKEndpoint = func() string { return "ws://127.0.0.1:9080/" }
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 3 * time.Minute
	}
	if cfg.UnhealthyLimit <= 0 {
		cfg.UnhealthyLimit = 3
	}
	if cfg.DefaultActivationTimeout <= 0 {
		cfg.DefaultActivationTimeout = 600 * time.Second
	}
	if cfg.TerminationGrace <= 0 {
		cfg.TerminationGrace = 5 * time.Minute
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Minute
	}
	s := &Service{
		cfg:    cfg,
		st:     cfg.Store,
		clk:    cfg.Clock,
		log:    cfg.Logger,
		timers: map[string]clock.Timer{},
	}
	s.hub.conns = map[string]hubEntry{}
	s.agents.conns = map[computeKey]agentmsg.Conn{}
	s.timeq = newDeadlineQueue(cfg.Clock, s.expireReservations)
	return s, nil
}

// Start re-arms every timer from the store (after a restart, deadlines that
// passed while openlift was down fire at once) and starts background loops.
func (s *Service) Start(ctx context.Context) error {
	if err := s.rearmTimers(ctx); err != nil {
		return fmt.Errorf("core: re-arming timers: %w", err)
	}
	s.scheduleRefresh()
	if err := s.rearmPlacements(); err != nil {
		return fmt.Errorf("core: re-arming placements: %w", err)
	}
	return nil
}

// Close stops every timer. In-flight store work finishes on its own.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	for k, t := range s.timers {
		t.Stop()
		delete(s.timers, k)
	}
	s.mu.Unlock()
	s.timeq.stop()
}

// setTimer replaces the timer under key.
func (s *Service) setTimer(key string, d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if t, ok := s.timers[key]; ok {
		t.Stop()
	}
	var t clock.Timer
	t = s.clk.AfterFunc(d, func() {
		s.mu.Lock()
		if s.timers[key] != t {
			s.mu.Unlock()
			return
		}
		delete(s.timers, key)
		s.mu.Unlock()
		f()
	})
	s.timers[key] = t
}

func (s *Service) stopTimer(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.timers[key]; ok {
		t.Stop()
		delete(s.timers, key)
	}
}

// bg returns a context for work that timers start: it is not tied to any request.
func (s *Service) bg() context.Context { return context.Background() }

func (s *Service) now() time.Time { return s.clk.Now().UTC().Truncate(time.Millisecond) }

// ARN and ID helpers. Shapes follow spec/gamelift-api.md §4.1.

func newUUID() string { return uuid.NewString() }

func (s *Service) fleetArn(id string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s:%s:fleet/%s", s.cfg.Region, s.cfg.AccountID, id)
}

func (s *Service) aliasArn(id string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s::alias/%s", s.cfg.Region, id)
}

func (s *Service) locationArn(name string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s:%s:location/%s", s.cfg.Region, s.cfg.AccountID, name)
}

func (s *Service) computeArn(name string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s:%s:compute/%s", s.cfg.Region, s.cfg.AccountID, name)
}

func (s *Service) gameSessionArn(fleetID, idString string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s::gamesession/%s/%s", s.cfg.Region, fleetID, idString)
}

// storeErr turns an unexpected store failure into an InternalServiceException,
// passing typed API errors through.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apierr.Internal(err)
}

func ptr[T any](v T) *T { return &v }

// strp returns nil for "", else a pointer: absent members are omitted on the wire.
func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
