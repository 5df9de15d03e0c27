package sdkws

import (
	"context"

	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/wsconn"
)

// Identity names the game server process behind a connection (see
// sdkmsg.Identity); the Backend checks it.
type Identity = sdkmsg.Identity

// Conn is what the Backend may do with an attached connection: push frames
// (see sdkmsg.Conn).
type Conn = sdkmsg.Conn

// Errors returned by Conn.Push.
var (
	// ErrConnClosed means the connection is gone; the process may reconnect.
	ErrConnClosed = wsconn.ErrConnClosed
	// ErrQueueFull means the frame did not fit in the send queue and the
	// connection was closed because of it.
	ErrQueueFull = wsconn.ErrQueueFull
)

// Backend is the service behind the endpoint (core.Service implements it).
// Methods return *apierr.Error values; the endpoint maps their codes onto the
// SDK's status codes with wsconn.StatusFor (NotFound 404, InvalidRequest 400,
// Unauthorized 401, Conflict 409, ThrottlingException 429, anything else 500).
type Backend interface {
	// Authenticate checks the upgrade: the auth token must be a current token of
	// computeName in fleetID. An error means the upgrade is refused.
	Authenticate(ctx context.Context, fleetID, computeName, authToken string) error

	// Attach binds conn as the current connection of the process (a reconnect
	// with the same pID replaces the previous one). Detach undoes it, if conn is
	// still the current one.
	Attach(id Identity, conn Conn)
	Detach(id Identity, conn Conn)

	ActivateServerProcess(ctx context.Context, id Identity, req sdkmsg.ActivateServerProcess) error
	HeartbeatServerProcess(ctx context.Context, id Identity, req sdkmsg.HeartbeatServerProcess) error
	ActivateGameSession(ctx context.Context, id Identity, req sdkmsg.ActivateGameSession) error
	UpdatePlayerSessionCreationPolicy(ctx context.Context, id Identity, req sdkmsg.UpdatePlayerSessionCreationPolicy) error
	AcceptPlayerSession(ctx context.Context, id Identity, req sdkmsg.PlayerSessionRequest) error
	RemovePlayerSession(ctx context.Context, id Identity, req sdkmsg.PlayerSessionRequest) error
	DescribePlayerSessionsForProcess(ctx context.Context, id Identity, req sdkmsg.DescribePlayerSessions) (sdkmsg.DescribePlayerSessionsResult, error)
	TerminateServerProcess(ctx context.Context, id Identity) error
	GetComputeCertificate(ctx context.Context, id Identity) (sdkmsg.GetComputeCertificateResult, error)
}
