package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openlift/openlift/internal/sdkmsg"
)

// SDK identity the simulator presents; openlift logs it, and the values match
// the official Go SDK whose behaviour is simulated.
const (
	SdkVersion  = "5.6.0"
	SdkLanguage = "Go"
)

// Timing defaults, taken from the SDK's own defaults where it has one.
const (
	DefaultHeartbeatInterval = 60 * time.Second
	DefaultRequestTimeout    = 20 * time.Second // SERVICE_CALL_TIMEOUT
	DefaultRetryInterval     = time.Second
	DefaultDialAttempts      = 8               // the SDK's 1 attempt + 7 retries
	DefaultDrainTimeout      = 5 * time.Second // DISCONNECT_WEBSOCKET_TIMEOUT
	DefaultListenHost        = "127.0.0.1"

	// activateTimeout is hard-coded in the SDK for ActivateServerProcess.
	activateTimeout = 6 * time.Second
	// maxRetryWait caps the dial backoff, as the SDK caps it at 32 s.
	maxRetryWait = 32 * time.Second
	// maxPort is the highest port ProcessReady accepts (SDK validation).
	maxPort = 60000
	// managedResource is the process id for which the SDK invents a UUID.
	managedResource = "ManagedResource"
)

// Environment variables the SDK reads; the agent (or a developer) sets them.
const (
	EnvWebSocketURL = "GAMELIFT_SDK_WEBSOCKET_URL"
	EnvFleetID      = "GAMELIFT_SDK_FLEET_ID"
	EnvHostID       = "GAMELIFT_SDK_HOST_ID"
	EnvAuthToken    = "GAMELIFT_SDK_AUTH_TOKEN"
	EnvProcessID    = "GAMELIFT_SDK_PROCESS_ID"
)

// Config describes the simulated processes. Zero values select defaults.
type Config struct {
	// WebSocketURL is the SDK endpoint (ws:// or wss://). Any query string in
	// it is discarded, as the SDK does.
	WebSocketURL string
	FleetID      string
	HostID       string
	AuthToken    string

	// ProcessIDs names the processes explicitly. Otherwise Count processes
	// are named ProcessIDPrefix (Count 1) or ProcessIDPrefix-1..-Count, or get
	// random UUIDs (as the agent assigns) when the prefix is empty.
	ProcessIDs      []string
	ProcessIDPrefix string
	Count           int

	// ListenHost is where the player TCP ports listen (default 127.0.0.1).
	// BasePort 0 picks free ports; otherwise process i listens on BasePort+i.
	ListenHost string
	BasePort   int

	// LogPaths is reported in ActivateServerProcess; "{pID}" is replaced by
	// the process id. Nil reports logs/{pID}.log, like the recorded game.
	LogPaths []string

	// HeartbeatInterval defaults to 60 s. HeartbeatJitter is the maximum
	// deviation either way; it defaults to a sixth of the interval (the SDK's
	// ±10 s at 60 s), and a negative value turns jitter off.
	HeartbeatInterval time.Duration
	HeartbeatJitter   time.Duration

	// Healthy is asked before each heartbeat; nil means always healthy.
	Healthy func() bool

	// WithholdActivation leaves game sessions ACTIVATING: CreateGameSession
	// is stored but ActivateGameSession waits for Process.ActivateGameSession
	// (or the player line "activate"), as with a game that loads slowly.
	WithholdActivation bool

	// ActivateDelay is waited between connecting and ActivateServerProcess,
	// to model a game that loads before calling ProcessReady.
	ActivateDelay time.Duration

	// RequestTimeout bounds each request's reply (ActivateServerProcess
	// always has the SDK's 6 s).
	RequestTimeout time.Duration

	// RetryInterval is the first wait between dial attempts; it doubles up to
	// 32 s. DialAttempts bounds each connect (initial, reconnect, refresh).
	RetryInterval time.Duration
	DialAttempts  int

	// DrainTimeout is how long a replaced socket is still read after a
	// RefreshConnection before it is dropped without a close frame.
	DrainTimeout time.Duration

	Logger *slog.Logger

	// OnReady is called once per process, after ActivateServerProcess
	// succeeded and the first heartbeat was answered: from then on openlift
	// may place game sessions on it.
	OnReady func(*Process)

	// The two hooks below let a real game run on the simulator as on the
	// SDK: it brings its own player protocol and reacts to its game session.

	// ServePlayers, when set, replaces the built-in player line protocol. It
	// is called once per process, on its own goroutine, with the listener
	// whose port ActivateServerProcess reports, and must return soon after
	// ctx ends (the listener is closed then), having closed the connections
	// it accepted: the process ends only after it has returned.
	ServePlayers func(ctx context.Context, p *Process, ln net.Listener)

	// OnStartGameSession is the game's OnStartGameSession: it is called for
	// every CreateGameSession push, once the session is recorded and before
	// the simulator activates it. With WithholdActivation the game calls
	// Process.ActivateGameSession itself when it is ready for players. It
	// runs on the goroutine that handles pushes, so later pushes wait for it.
	OnStartGameSession func(ctx context.Context, p *Process, gs sdkmsg.GameSession)
}

var (
	fleetIDPattern = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	hostIDPattern  = regexp.MustCompile(`^[a-zA-Z0-9\-]+(/[a-zA-Z0-9\-]+)?$`)
)

// withDefaults fills in defaults and checks what the SDK checks in InitSDK, so
// a misconfiguration fails here instead of as a refused connection.
func (c Config) withDefaults() (Config, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.ListenHost == "" {
		c.ListenHost = DefaultListenHost
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HeartbeatJitter == 0 {
		c.HeartbeatJitter = c.HeartbeatInterval / 6
	}
	if c.HeartbeatJitter < 0 {
		c.HeartbeatJitter = 0
	}
	if c.HeartbeatJitter >= c.HeartbeatInterval {
		c.HeartbeatJitter = c.HeartbeatInterval / 2
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.DialAttempts <= 0 {
		c.DialAttempts = DefaultDialAttempts
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.LogPaths == nil {
		c.LogPaths = []string{"logs/{pID}.log"}
	}

	var errs []error
	if _, err := baseURL(c.WebSocketURL); err != nil {
		errs = append(errs, err)
	}
	if l := len(c.FleetID); l == 0 || l > 256 || !fleetIDPattern.MatchString(c.FleetID) {
		errs = append(errs, fmt.Errorf("fleet id %q must be 1-256 characters of [a-zA-Z0-9.-]", c.FleetID))
	}
	if l := len(c.HostID); l == 0 || l > 256 || !hostIDPattern.MatchString(c.HostID) {
		errs = append(errs, fmt.Errorf("host id %q must be 1-256 characters of [a-zA-Z0-9-] with at most one '/' (no dots or underscores)", c.HostID))
	}
	if c.AuthToken == "" {
		errs = append(errs, errors.New("an auth token is required (the simulator speaks token mode only)"))
	}
	if c.BasePort < 0 || c.BasePort > maxPort {
		errs = append(errs, fmt.Errorf("base port %d out of range 0-%d", c.BasePort, maxPort))
	}
	seen := map[string]bool{}
	for _, id := range c.ProcessIDs {
		if id == "" {
			errs = append(errs, errors.New("empty process id"))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("duplicate process id %q", id))
		}
		seen[id] = true
	}
	return c, errors.Join(errs...)
}

func (c Config) processIDs() []string {
	var ids []string
	if len(c.ProcessIDs) > 0 {
		ids = append(ids, c.ProcessIDs...)
	} else {
		n := max(c.Count, 1)
		for i := range n {
			switch {
			case c.ProcessIDPrefix == "":
				ids = append(ids, uuid.NewString())
			case n == 1:
				ids = append(ids, c.ProcessIDPrefix)
			default:
				ids = append(ids, fmt.Sprintf("%s-%d", c.ProcessIDPrefix, i+1))
			}
		}
	}
	for i, id := range ids {
		if id == managedResource {
			ids[i] = uuid.NewString()
		}
	}
	return ids
}

func (c Config) logPaths(pID string) []string {
	out := make([]string, len(c.LogPaths))
	for i, p := range c.LogPaths {
		out[i] = strings.ReplaceAll(p, "{pID}", pID)
	}
	return out
}

// ApplyEnv returns c with the GAMELIFT_SDK_* variables that lookup finds set
// and non-empty taking precedence, as they do over ServerParameters in the
// SDK. A process id from the environment becomes the prefix, so with several
// processes they are named <id>-1..-n.
func ApplyEnv(c Config, lookup func(string) (string, bool)) Config {
	get := func(name string, dst *string) {
		if v, ok := lookup(name); ok && v != "" {
			*dst = v
		}
	}
	get(EnvWebSocketURL, &c.WebSocketURL)
	get(EnvFleetID, &c.FleetID)
	get(EnvHostID, &c.HostID)
	get(EnvAuthToken, &c.AuthToken)
	if v, ok := lookup(EnvProcessID); ok && v != "" {
		c.ProcessIDs = nil
		c.ProcessIDPrefix = v
	}
	return c
}

// baseURL parses the endpoint the way the SDK does: scheme, host and path are
// kept, the query and fragment are thrown away.
func baseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("a WebSocket URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("WebSocket URL: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("WebSocket URL %q: scheme must be ws or wss", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("WebSocket URL %q has no host", raw)
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return u, nil
}

// connectURL builds the upgrade URL exactly as the SDK's Connect does: the
// query is url.Values.Encode (sorted keys, query-escaped values), a fresh
// IdempotencyToken per Connect, and no Authorization when the token is empty.
func connectURL(endpoint, pID, fleetID, hostID, token string) (string, error) {
	u, err := baseURL(endpoint)
	if err != nil {
		return "", err
	}
	q := url.Values{
		"pID":              {pID},
		"sdkVersion":       {SdkVersion},
		"sdkLanguage":      {SdkLanguage},
		"ComputeId":        {hostID},
		"FleetId":          {fleetID},
		"IdempotencyToken": {uuid.NewString()},
	}
	if token != "" {
		q.Set("Authorization", token)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
