package agentws

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/apierr"
)

// Defaults for Options fields left at zero.
const (
	DefaultPingInterval    = 20 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultSendQueue       = 64
	DefaultMaxMessageBytes = 1 << 20
	DefaultCallTimeout     = 10 * time.Second
)

// Query parameter names (agentmsg package documentation).
const (
	paramFleetID     = "FleetId"
	paramComputeName = "ComputeName"
	paramAuth        = "Authorization"
)

// Options tunes the endpoint; zero values select the defaults above.
type Options struct {
	Logger *slog.Logger

	// PingInterval is how often the server pings each agent; the read
	// deadline is two intervals, so a host that vanished without closing its
	// socket is noticed (and FORCE_TERMINATE refused) within that time.
	PingInterval time.Duration

	// WriteTimeout bounds each frame write, so an agent that stops reading
	// cannot pin the writer.
	WriteTimeout time.Duration

	// SendQueue is the number of outbound frames buffered per connection. An
	// overflow closes the connection: the agent reconnects, which is better
	// than stalling the service behind it or silently losing a ForceExit.
	SendQueue int

	// MaxMessageBytes limits inbound frames. Agent frames are small (a
	// heartbeat lists at most a few dozen process ids).
	MaxMessageBytes int64

	// CallTimeout bounds each Backend call (Authenticate and every request).
	CallTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.SendQueue <= 0 {
		o.SendQueue = DefaultSendQueue
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// Handler is the agent endpoint.
type Handler struct {
	b    Backend
	opts Options
	log  *slog.Logger
	up   websocket.Upgrader

	// http.Server.Shutdown does not track hijacked connections, so the
	// handler keeps its own set for Close.
	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewHandler returns the agent endpoint. It serves any path; the server
// routes agentmsg.Path to it.
//
// Call Close after http.Server.Shutdown and before closing whatever the
// Backend depends on: Shutdown does not see hijacked connections.
func NewHandler(b Backend, opts Options) *Handler {
	opts = opts.withDefaults()
	return &Handler{
		b:     b,
		opts:  opts,
		log:   opts.Logger,
		conns: map[*conn]struct{}{},
		// Agents send no Origin; the default origin check keeps browser
		// pages of other sites out.
		up: websocket.Upgrader{HandshakeTimeout: opts.WriteTimeout},
	}
}

// Close ends every connection with close code 1012 (service restart; the
// agent reconnects to whatever comes back), refuses further upgrades, and
// returns once every connection has been detached from the Backend.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.shutdown(websocket.CloseServiceRestart, "server shutting down")
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *Handler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// ServeHTTP admits an agent: the query must name the fleet and compute and
// carry a valid compute auth token, checked before upgrading so that a
// refused agent gets an HTTP status it can log.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr)
	if h.isClosed() {
		refuse(w, r, log, http.StatusServiceUnavailable, "openlift is shutting down", nil)
		return
	}
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		refuse(w, r, log, http.StatusUpgradeRequired, "this endpoint only accepts openlift agent WebSocket connections", nil)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(w, r, log, http.StatusBadRequest, "malformed query string", err)
		return
	}
	id := Identity{FleetID: q.Get(paramFleetID), ComputeName: q.Get(paramComputeName)}
	log = log.With("fleet", id.FleetID, "compute", id.ComputeName)
	var missing []string
	if id.FleetID == "" {
		missing = append(missing, paramFleetID)
	}
	if id.ComputeName == "" {
		missing = append(missing, paramComputeName)
	}
	if len(missing) > 0 {
		refuse(w, r, log, http.StatusBadRequest, "missing query parameter(s): "+strings.Join(missing, ", "), nil)
		return
	}
	token := q.Get(paramAuth)
	if token == "" {
		refuse(w, r, log, http.StatusUnauthorized, "missing Authorization query parameter (a compute auth token)", nil)
		return
	}
	actx, cancel := context.WithTimeout(r.Context(), h.opts.CallTimeout)
	err = h.b.Authenticate(actx, id.FleetID, id.ComputeName, token)
	cancel()
	if err != nil {
		status, msg := authRefusal(err)
		refuse(w, r, log, status, msg, err)
		return
	}

	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already written a non-101 response.
		log.Info("agent websocket handshake failed", "error", err)
		return
	}
	c := newConn(h, ws, id, log)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseServiceRestart, "server shutting down"), time.Now().Add(h.opts.WriteTimeout))
		ws.Close()
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.wg.Done()
	}()
	c.serve(r.Context())
}

// authRefusal picks the HTTP status for a failed Authenticate; internal
// failures keep their detail out of the body.
func authRefusal(err error) (int, string) {
	e := apierr.As(err)
	switch e.Code {
	case apierr.InternalService:
		return http.StatusInternalServerError, "internal error while checking the compute auth token"
	case apierr.Throttling:
		return http.StatusTooManyRequests, e.Message
	default:
		return http.StatusUnauthorized, e.Message
	}
}

func refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, msg string, cause error) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []any{"status", status, "reason", msg}
	if cause != nil {
		attrs = append(attrs, "error", cause)
	}
	log.Log(r.Context(), level, "agent websocket upgrade refused", attrs...)
	http.Error(w, msg, status)
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
