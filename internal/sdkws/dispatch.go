package sdkws

import (
	"context"
	"log/slog"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/wsconn"
)

var protocol = wsconn.Protocol{
	Name:    "sdk",
	Peer:    "sdk process",
	Client:  "GameLift Server SDK",
	IsPush:  isPushAction,
	IsKnown: isKnownAction,
}

// session is one admitted game server process.
type session struct {
	b   Backend
	id  Identity
	log *slog.Logger
}

var _ Conn = (*wsconn.Conn)(nil)

func (s *session) Attach(c *wsconn.Conn) {
	s.log.Info("sdk process connected")
	s.b.Attach(s.id, c)
}

func (s *session) Detach(c *wsconn.Conn) { s.b.Detach(s.id, c) }

// Dispatch runs one request against the backend.
func (s *session) Dispatch(ctx context.Context, action string, data []byte) (any, error) {
	b, id := s.b, s.id
	switch action {
	case sdkmsg.ActionActivateServerProcess:
		return run(ctx, action, data, id, b.ActivateServerProcess)
	case sdkmsg.ActionHeartbeatServerProcess:
		return run(ctx, action, data, id, b.HeartbeatServerProcess)
	case sdkmsg.ActionActivateGameSession:
		return run(ctx, action, data, id, b.ActivateGameSession)
	case sdkmsg.ActionUpdatePlayerSessionCreationPolicy:
		return run(ctx, action, data, id, b.UpdatePlayerSessionCreationPolicy)
	case sdkmsg.ActionAcceptPlayerSession:
		return run(ctx, action, data, id, b.AcceptPlayerSession)
	case sdkmsg.ActionRemovePlayerSession:
		return run(ctx, action, data, id, b.RemovePlayerSession)
	case sdkmsg.ActionDescribePlayerSessions:
		var req sdkmsg.DescribePlayerSessions
		if err := wsconn.DecodeRequest(action, data, &req); err != nil {
			return nil, err
		}
		res, err := b.DescribePlayerSessionsForProcess(ctx, id, req)
		if err != nil {
			return nil, err
		}
		if res.PlayerSessions == nil {
			res.PlayerSessions = []sdkmsg.PlayerSession{}
		}
		return res, nil
	case sdkmsg.ActionGetComputeCertificate:
		res, err := b.GetComputeCertificate(ctx, id)
		if err != nil {
			return nil, err
		}
		return res, nil
	case sdkmsg.ActionTerminateServerProcess:
		return nil, b.TerminateServerProcess(ctx, id)
	case sdkmsg.ActionGetFleetRoleCredentials:
		// An empty AccessKeyId in a 200 is how the SDK learns that role
		// credentials are unavailable (spec §3), which is true of every
		// openlift compute.
		return sdkmsg.GetFleetRoleCredentialsResult{}, nil
	case sdkmsg.ActionStartMatchBackfill, sdkmsg.ActionStopMatchBackfill:
		return nil, apierr.New(apierr.UnsupportedOperation, "openlift does not support FlexMatch backfill yet (%s)", action)
	case "":
		return nil, apierr.Invalid("frame has no Action")
	default:
		if isPushAction(action) {
			return nil, apierr.Invalid("%s is sent by the service, not by a game server", action)
		}
		return nil, apierr.Invalid("unknown Action %q", action)
	}
}

// run decodes a request body of type Req and hands it to a backend method
// that returns only an error.
func run[Req any](ctx context.Context, action string, data []byte, id Identity, fn func(context.Context, Identity, Req) error) (any, error) {
	var req Req
	if err := wsconn.DecodeRequest(action, data, &req); err != nil {
		return nil, err
	}
	return nil, fn(ctx, id, req)
}

func isPushAction(a string) bool {
	switch a {
	case sdkmsg.PushCreateGameSession, sdkmsg.PushUpdateGameSession,
		sdkmsg.PushTerminateProcess, sdkmsg.PushRefreshConnection:
		return true
	}
	return false
}

func isKnownAction(a string) bool {
	switch a {
	case sdkmsg.ActionActivateServerProcess, sdkmsg.ActionHeartbeatServerProcess,
		sdkmsg.ActionActivateGameSession, sdkmsg.ActionUpdatePlayerSessionCreationPolicy,
		sdkmsg.ActionAcceptPlayerSession, sdkmsg.ActionRemovePlayerSession,
		sdkmsg.ActionDescribePlayerSessions, sdkmsg.ActionStartMatchBackfill,
		sdkmsg.ActionStopMatchBackfill, sdkmsg.ActionGetComputeCertificate,
		sdkmsg.ActionGetFleetRoleCredentials, sdkmsg.ActionTerminateServerProcess:
		return true
	}
	return false
}
