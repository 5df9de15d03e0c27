package sdkws

import (
	"context"
	"net/http"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/wsconn"
)

// Defaults for Options fields left at zero.
const (
	// DefaultPingInterval: the SDK never pings and heartbeats only every
	// 50–70 s, so our pings are what lets the read deadline (two intervals)
	// detect a dead peer.
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	// DefaultSendQueue: when the queue overflows the connection is closed;
	// the SDK reconnects with the same pID, which is cheaper than blocking
	// the backend or losing frames.
	DefaultSendQueue = 64
	// DefaultMaxMessageBytes is generous: game session data and matchmaker
	// data make frames several hundred KB.
	DefaultMaxMessageBytes = 16 << 20
	// DefaultCallTimeout stays below the SDK's 6 s ActivateServerProcess
	// deadline so that a reply, even an error, still reaches the game.
	DefaultCallTimeout = 5 * time.Second
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
type Options = wsconn.Options

var defaults = Options{
	PingInterval:    DefaultPingInterval,
	WriteTimeout:    DefaultWriteTimeout,
	SendQueue:       DefaultSendQueue,
	MaxMessageBytes: DefaultMaxMessageBytes,
	CallTimeout:     DefaultCallTimeout,
}

// IsUpgrade reports whether r asks for a WebSocket upgrade, so that a server
// can route the SDK endpoint and the HTTP API on one listener.
func IsUpgrade(r *http.Request) bool { return wsconn.IsUpgrade(r) }

type handler struct {
	ep *wsconn.Endpoint
	b  Backend
}

// NewHandler returns the SDK endpoint. It serves any path: the SDK keeps the
// path of GAMELIFT_SDK_WEBSOCKET_URL, so routing is the caller's business.
//
// The returned handler also implements interface{ Close() }: http.Server.Shutdown
// does not see hijacked connections, so call Close after it and before closing
// whatever the Backend depends on.
func NewHandler(b Backend, opts Options) http.Handler {
	return &handler{ep: wsconn.NewEndpoint(protocol, opts, defaults), b: b}
}

// Close ends every connection with close code 1012 (service restart; the SDK
// reconnects to whatever comes back), refuses further upgrades, and returns
// once every connection has been detached from the Backend.
func (h *handler) Close() { h.ep.Close() }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.ep.Options().Logger.With("remote", r.RemoteAddr)
	q, ok := h.ep.Query(w, r, log)
	if !ok {
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

	if !h.ep.RequireParams(w, r, log, wsconn.Param{Name: paramProcessID, Value: id.ProcessID},
		wsconn.Param{Name: paramFleetID, Value: id.FleetID}, wsconn.Param{Name: paramComputeID, Value: id.ComputeName}) {
		return
	}
	token := q.Get(paramAuth)
	switch token {
	case "":
		h.ep.Refuse(w, r, log, http.StatusUnauthorized, "missing Authorization query parameter (a compute auth token)", nil)
		return
	case sigV4Marker:
		h.ep.Refuse(w, r, log, http.StatusUnauthorized,
			"openlift accepts compute auth tokens only: Authorization=SigV4 is not supported; "+
				"pass a token from GetComputeAuthToken as GAMELIFT_SDK_AUTH_TOKEN", nil)
		return
	}

	// The IdempotencyToken is deliberately not checked: automatic reconnects
	// repeat it together with the original token (spec §7), and refusing
	// them would strand the process for minutes of SDK retries.
	authenticate := func(ctx context.Context) error { return h.b.Authenticate(ctx, id.FleetID, id.ComputeName, token) }
	if !h.ep.Authenticate(w, r, log, authenticate, authRefusal) {
		return
	}
	h.ep.Serve(w, r, log, &session{b: h.b, id: id, log: log})
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
