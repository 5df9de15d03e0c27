package agentws

import (
	"context"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/wsconn"
)

// The agent's requests are handled one at a time, in order (an agent's
// requests are few, and ordering keeps a ProcessExited from overtaking the
// heartbeat before it). A request without a RequestId could not be matched
// with its reply, so it is refused.
var protocol = wsconn.Protocol{
	Name:             "agent",
	Peer:             "host agent",
	Client:           "openlift agent",
	IsPush:           isPushAction,
	RequireRequestID: true,
}

// session is one admitted agent.
type session struct {
	b  Backend
	id Identity
}

var _ Conn = (*wsconn.Conn)(nil)

func (s *session) Attach(c *wsconn.Conn) { s.b.AttachAgent(s.id, c) }
func (s *session) Detach(c *wsconn.Conn) { s.b.DetachAgent(s.id, c) }

// Dispatch runs one request against the backend.
func (s *session) Dispatch(ctx context.Context, action string, data []byte) (any, error) {
	b, id := s.b, s.id
	switch action {
	case agentmsg.ActionHeartbeat:
		var req agentmsg.Heartbeat
		if err := wsconn.DecodeRequest(action, data, &req); err != nil {
			return nil, err
		}
		res, err := b.AgentHeartbeat(ctx, id, req)
		if err != nil {
			return nil, err
		}
		if res.Processes == nil {
			res.Processes = []agentmsg.ProcessState{}
		}
		return res, nil
	case agentmsg.ActionProcessExited:
		var req agentmsg.ProcessExited
		if err := wsconn.DecodeRequest(action, data, &req); err != nil {
			return nil, err
		}
		return nil, b.AgentProcessExited(ctx, id, req)
	case agentmsg.ActionDrain:
		var req agentmsg.Drain
		if err := wsconn.DecodeRequest(action, data, &req); err != nil {
			return nil, err
		}
		return nil, b.AgentDrainCompute(ctx, id, req)
	case "":
		return nil, apierr.Invalid("frame has no Action")
	default:
		if isPushAction(action) {
			return nil, apierr.Invalid("%s is sent by the service, not by an agent", action)
		}
		return nil, apierr.Invalid("unknown Action %q", action)
	}
}

func isPushAction(a string) bool {
	switch a {
	case agentmsg.PushForceExit, agentmsg.PushRuntimeConfigurationChanged, agentmsg.PushRefreshConnection:
		return true
	}
	return false
}
