package agentws

import (
	"context"
	"net/http"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/wsconn"
)

// Defaults for Options fields left at zero.
const (
	// DefaultPingInterval: the read deadline is two intervals, so a host
	// that vanished without closing its socket is noticed (and
	// FORCE_TERMINATE refused) within that time.
	DefaultPingInterval = 20 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	// DefaultSendQueue: an overflow closes the connection and the agent
	// reconnects, which is better than stalling the service behind it or
	// silently losing a ForceExit.
	DefaultSendQueue = 64
	// DefaultMaxMessageBytes: agent frames are small (a heartbeat lists at
	// most a few dozen process ids).
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
type Options = wsconn.Options

var defaults = Options{
	PingInterval:    DefaultPingInterval,
	WriteTimeout:    DefaultWriteTimeout,
	SendQueue:       DefaultSendQueue,
	MaxMessageBytes: DefaultMaxMessageBytes,
	CallTimeout:     DefaultCallTimeout,
}

// Handler is the agent endpoint.
type Handler struct {
	ep *wsconn.Endpoint
	b  Backend
}

// NewHandler returns the agent endpoint. It serves any path; the server
// routes agentmsg.Path to it.
//
// Call Close after http.Server.Shutdown and before closing whatever the
// Backend depends on: Shutdown does not see hijacked connections.
func NewHandler(b Backend, opts Options) *Handler {
	return &Handler{ep: wsconn.NewEndpoint(protocol, opts, defaults), b: b}
}

// Close ends every connection with close code 1012 (service restart; the
// agent reconnects to whatever comes back), refuses further upgrades, and
// returns once every connection has been detached from the Backend.
func (h *Handler) Close() { h.ep.Close() }

// ServeHTTP admits an agent: the query must name the fleet and compute and
// carry a valid compute auth token, checked before upgrading so that a
// refused agent gets an HTTP status it can log.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.ep.Options().Logger.With("remote", r.RemoteAddr)
	q, ok := h.ep.Query(w, r, log)
	if !ok {
		return
	}
	id := Identity{FleetID: q.Get(paramFleetID), ComputeName: q.Get(paramComputeName)}
	log = log.With("fleet", id.FleetID, "compute", id.ComputeName)
	if !h.ep.RequireParams(w, r, log, wsconn.Param{Name: paramFleetID, Value: id.FleetID}, wsconn.Param{Name: paramComputeName, Value: id.ComputeName}) {
		return
	}
	token := q.Get(paramAuth)
	if token == "" {
		h.ep.Refuse(w, r, log, http.StatusUnauthorized, "missing Authorization query parameter (a compute auth token)", nil)
		return
	}
	authenticate := func(ctx context.Context) error { return h.b.Authenticate(ctx, id.FleetID, id.ComputeName, token) }
	if !h.ep.Authenticate(w, r, log, authenticate, authRefusal) {
		return
	}
	h.ep.Serve(w, r, log, &session{b: h.b, id: id})
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
