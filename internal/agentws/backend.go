package agentws

import (
	"context"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/wsconn"
)

// Identity names the compute behind an agent connection (see
// agentmsg.Identity); the Backend checks it.
type Identity = agentmsg.Identity

// Conn is what the Backend may do with an attached agent connection: push
// frames (see agentmsg.Conn).
type Conn = agentmsg.Conn

// Errors returned by Conn.Push.
var (
	// ErrConnClosed means the connection is gone; the agent will reconnect.
	ErrConnClosed = wsconn.ErrConnClosed
	// ErrQueueFull means the frame did not fit in the send queue and the
	// connection was closed because of it.
	ErrQueueFull = wsconn.ErrQueueFull
)

// Backend is the service behind the endpoint (core.Service implements it).
// Methods return *apierr.Error values; the endpoint maps their codes onto
// reply status codes with wsconn.StatusFor, as the Server SDK endpoint does
// (NotFound 404, InvalidRequest 400, Unauthorized 401, Conflict 409, anything
// else 500).
type Backend interface {
	// Authenticate checks the upgrade: authToken must be a current compute
	// auth token of computeName in fleetID. An error refuses the upgrade.
	Authenticate(ctx context.Context, fleetID, computeName, authToken string) error

	// AttachAgent binds conn as the compute's agent connection (a reconnect
	// replaces the previous one). DetachAgent undoes it if conn is still the
	// current one.
	AttachAgent(id Identity, conn Conn)
	DetachAgent(id Identity, conn Conn)

	AgentHeartbeat(ctx context.Context, id Identity, req agentmsg.Heartbeat) (agentmsg.HeartbeatReply, error)
	AgentProcessExited(ctx context.Context, id Identity, req agentmsg.ProcessExited) error
	AgentDrainCompute(ctx context.Context, id Identity, req agentmsg.Drain) error
}
