package wsconn

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Protocol is what tells one endpoint's connections from another's.
type Protocol struct {
	// Name prefixes log messages about frames and the socket ("sdk request
	// failed", "sdk websocket upgrade refused").
	Name string

	// Peer names the client in log messages about its connection ("sdk
	// process disconnected").
	Peer string

	// Client names the clients the endpoint accepts, for the body of the 426
	// answer to a request that is not an upgrade ("GameLift Server SDK").
	Client string

	// IsPush reports whether action is sent by the service. A reply never
	// echoes such an Action: the client could take the reply for a push.
	IsPush func(action string) bool

	// IsKnown reports whether the endpoint serves action. A failed request
	// for an unknown action is logged as a warning (a newer client using one
	// is worth noticing); nil logs every failure below 500 at debug level.
	IsKnown func(action string) bool

	// RequireRequestID answers a request without a RequestId with 400 instead
	// of handing it to the Session.
	RequireRequestID bool
}

// Session is the endpoint's side of one admitted connection. Its methods run
// in the goroutine of Endpoint.Serve, one at a time.
type Session interface {
	// Attach is called once the connection's writer runs and before its
	// first frame is read; from then on c accepts pushes.
	Attach(c *Conn)

	// Dispatch answers one request: action is the frame's Action (possibly
	// empty), data the whole frame. A non-nil result must marshal to a JSON
	// object; its members are written next to the envelope's. Errors are
	// mapped onto the reply by StatusFor. ctx ends after the CallTimeout, and
	// a panic is answered as an internal error.
	Dispatch(ctx context.Context, action string, data []byte) (result any, err error)

	// Detach is called once the connection has ended and its writer has
	// stopped; Push on c fails from then on.
	Detach(c *Conn)
}

// Endpoint upgrades admitted requests and runs their connections. It keeps
// its own set of them: http.Server.Shutdown does not track hijacked
// connections, so the server calls Close after Shutdown.
type Endpoint struct {
	proto Protocol
	opts  Options
	up    websocket.Upgrader

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewEndpoint returns an endpoint speaking p. Fields of opts left at zero
// take their value from defaults, which must set every duration and size.
func NewEndpoint(p Protocol, opts, defaults Options) *Endpoint {
	opts = opts.withDefaults(defaults)
	return &Endpoint{
		proto: p,
		opts:  opts,
		conns: map[*Conn]struct{}{},
		// Clients offer no subprotocol and no compression; leaving
		// EnableCompression off keeps frames plain for every client. The
		// default CheckOrigin is kept: game servers and agents send no
		// Origin, and a browser page on another site has no business here.
		up: websocket.Upgrader{HandshakeTimeout: opts.WriteTimeout},
	}
}

// Options returns the options in force, defaults applied.
func (e *Endpoint) Options() Options { return e.opts }

// Close ends every connection with close code 1012 (service restart; clients
// reconnect to whatever comes back), refuses further upgrades, and returns
// once every connection has been detached.
func (e *Endpoint) Close() {
	e.mu.Lock()
	e.closed = true
	for c := range e.conns {
		c.Close(websocket.CloseServiceRestart, "server shutting down")
	}
	e.mu.Unlock()
	e.wg.Wait()
}

func (e *Endpoint) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Query makes the checks every endpoint makes before its own admission
// rules: the endpoint is not closed (503), r asks for a WebSocket upgrade
// (426) and its query string parses (400). It returns the query, or false
// once it has answered r with a refusal.
func (e *Endpoint) Query(w http.ResponseWriter, r *http.Request, log *slog.Logger) (url.Values, bool) {
	if e.isClosed() {
		e.Refuse(w, r, log, http.StatusServiceUnavailable, "openlift is shutting down", nil)
		return nil, false
	}
	if !IsUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		e.Refuse(w, r, log, http.StatusUpgradeRequired, "this endpoint only accepts "+e.proto.Client+" WebSocket connections", nil)
		return nil, false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		e.Refuse(w, r, log, http.StatusBadRequest, "malformed query string", err)
		return nil, false
	}
	return q, true
}

// Refuse answers an upgrade request with an HTTP error and logs why; cause,
// if any, goes to the log only.
func (e *Endpoint) Refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, msg string, cause error) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []any{"status", status, "reason", msg}
	if cause != nil {
		attrs = append(attrs, "error", cause)
	}
	log.Log(r.Context(), level, e.proto.Name+" websocket upgrade refused", attrs...)
	http.Error(w, msg, status)
}

// Param is one required query parameter: its wire name and the value found.
type Param struct{ Name, Value string }

// RequireParams refuses the upgrade with 400, naming every parameter that is
// empty, and reports whether all were present.
func (e *Endpoint) RequireParams(w http.ResponseWriter, r *http.Request, log *slog.Logger, params ...Param) bool {
	var missing []string
	for _, p := range params {
		if p.Value == "" {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) == 0 {
		return true
	}
	e.Refuse(w, r, log, http.StatusBadRequest, "missing query parameter(s): "+strings.Join(missing, ", "), nil)
	return false
}

// Authenticate runs check within the call timeout, before the upgrade, so that
// a refused client gets an HTTP status it can log; refusal picks that status
// and the body for a failed check. It reports whether the check passed.
func (e *Endpoint) Authenticate(w http.ResponseWriter, r *http.Request, log *slog.Logger, check func(ctx context.Context) error, refusal func(error) (int, string)) bool {
	ctx, cancel := context.WithTimeout(r.Context(), e.opts.CallTimeout)
	err := check(ctx)
	cancel()
	if err == nil {
		return true
	}
	status, msg := refusal(err)
	e.Refuse(w, r, log, status, msg, err)
	return false
}

// Serve upgrades an admitted request and runs the connection until it ends:
// the client goes away, the request context ends (server shutdown; close
// code 1012), the send queue overflows, or Close is called. log is the
// connection's logger.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request, log *slog.Logger, s Session) {
	ws, err := e.up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already written a non-101 response.
		log.Info(e.proto.Name+" websocket handshake failed", "error", err)
		return
	}
	c := newConn(e, ws, log)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseServiceRestart, "server shutting down"), time.Now().Add(e.opts.WriteTimeout))
		ws.Close()
		return
	}
	e.conns[c] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		e.mu.Unlock()
		e.wg.Done()
	}()
	c.serve(r.Context(), s)
}

// IsUpgrade reports whether r asks for a WebSocket upgrade, so that a server
// can route the WebSocket endpoints and the HTTP API on one listener.
func IsUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
