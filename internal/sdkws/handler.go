package sdkws

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
	DefaultPingInterval    = 30 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultSendQueue       = 64
	DefaultMaxMessageBytes = 16 << 20
	DefaultCallTimeout     = 5 * time.Second
)

// Query parameter names exactly as the SDK spells them (spec §1.1).
const (
	paramProcessID   = "pID"
	paramFleetID     = "FleetId"
	paramComputeID   = "ComputeId"
	paramAuth        = "Authorization"
	paramIdempotency = "IdempotencyToken"
	paramSdkVersion  = "sdkVersion"
	paramSdkLanguage = "sdkLanguage"

	// sigV4Marker is the literal Authorization value of the SDK's SigV4 mode.
	sigV4Marker = "SigV4"
)

// Options tunes the endpoint; zero values select the defaults above.
type Options struct {
	Logger *slog.Logger

	// PingInterval is how often the server pings each connection. The SDK
	// never pings and heartbeats only every 50–70 s, so our pings are what
	// lets the read deadline (two intervals) detect a dead peer.
	PingInterval time.Duration

	// WriteTimeout bounds each frame write, so a peer that stops reading
	// cannot pin the writer forever.
	WriteTimeout time.Duration

	// SendQueue is the number of outbound frames buffered per connection.
	// When it overflows the connection is closed: the SDK reconnects with the
	// same pID, which is cheaper than blocking the backend or losing frames.
	SendQueue int

	// MaxMessageBytes limits inbound frames. Keep it generous; game session
	// data and matchmaker data make frames several hundred KB.
	MaxMessageBytes int64

	// CallTimeout bounds each Backend call (Authenticate and every request).
	// It must stay below the SDK's 6 s ActivateServerProcess deadline so that
	// a reply, even an error, still reaches the game.
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

// IsUpgrade reports whether r asks for a WebSocket upgrade, so that a server
// can route the SDK endpoint and the HTTP API on one listener.
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

type handler struct {
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

// NewHandler returns the SDK endpoint. It serves any path: the SDK keeps the
// path of GAMELIFT_SDK_WEBSOCKET_URL, so routing is the caller's business.
//
// The returned handler also implements interface{ Close() }: http.Server.Shutdown
// does not see hijacked connections, so call Close after it and before closing
// whatever the Backend depends on.
func NewHandler(b Backend, opts Options) http.Handler {
	opts = opts.withDefaults()
	return &handler{
		b:     b,
		opts:  opts,
		log:   opts.Logger,
		conns: map[*conn]struct{}{},
		up: websocket.Upgrader{
			HandshakeTimeout: opts.WriteTimeout,
			// The SDK offers no subprotocol and no compression; leaving
			// EnableCompression off keeps frames plain for every SDK. The
			// default CheckOrigin is kept: game servers send no Origin, and
			// a browser page on another site has no business here.
		},
	}
}

// Close ends every connection with close code 1012 (service restart; the SDK
// reconnects to whatever comes back), refuses further upgrades, and returns
// once every connection has been detached from the Backend.
func (h *handler) Close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.shutdown(websocket.CloseServiceRestart, "server shutting down")
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *handler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr)
	if h.isClosed() {
		refuse(w, r, log, http.StatusServiceUnavailable, "openlift is shutting down", nil)
		return
	}
	if !IsUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		refuse(w, r, log, http.StatusUpgradeRequired, "this endpoint only accepts GameLift Server SDK WebSocket connections", nil)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(w, r, log, http.StatusBadRequest, "malformed query string", err)
		return
	}
	id := Identity{
		ProcessID:   q.Get(paramProcessID),
		FleetID:     q.Get(paramFleetID),
		ComputeName: q.Get(paramComputeID),
		SdkVersion:  q.Get(paramSdkVersion),
		SdkLanguage: q.Get(paramSdkLanguage),
	}
	log = log.With("pID", id.ProcessID, "fleet", id.FleetID, "compute", id.ComputeName,
		"idempotencyToken", q.Get(paramIdempotency), "sdk", id.SdkLanguage+"/"+id.SdkVersion)

	var missing []string
	for _, p := range []struct{ name, val string }{
		{paramProcessID, id.ProcessID}, {paramFleetID, id.FleetID}, {paramComputeID, id.ComputeName},
	} {
		if p.val == "" {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		refuse(w, r, log, http.StatusBadRequest, "missing query parameter(s): "+strings.Join(missing, ", "), nil)
		return
	}
	token := q.Get(paramAuth)
	switch token {
	case "":
		refuse(w, r, log, http.StatusUnauthorized, "missing Authorization query parameter (a compute auth token)", nil)
		return
	case sigV4Marker:
		refuse(w, r, log, http.StatusUnauthorized,
			"openlift accepts compute auth tokens only: Authorization=SigV4 is not supported; "+
				"pass a token from GetComputeAuthToken as GAMELIFT_SDK_AUTH_TOKEN", nil)
		return
	}

	// The IdempotencyToken is deliberately not checked: automatic reconnects
	// repeat it together with the original token (spec §7), and refusing
	// them would strand the process for minutes of SDK retries.
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
		log.Info("sdk websocket handshake failed", "error", err)
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

// authRefusal picks the HTTP status for a failed Authenticate. The SDK retries
// every non-101 answer the same way, so the status is for humans reading the
// SDK log; internal failures keep their detail out of the body.
func authRefusal(err error) (int, string) {
	e := apierr.As(err)
	switch e.Code {
	case apierr.InternalService:
		return http.StatusInternalServerError, "internal error while checking the compute auth token"
	case apierr.Throttling:
		return http.StatusTooManyRequests, e.Message
	case apierr.NotFound, apierr.AccessDenied:
		return http.StatusForbidden, e.Message
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
	log.Log(r.Context(), level, "sdk websocket upgrade refused", attrs...)
	http.Error(w, msg, status)
}
