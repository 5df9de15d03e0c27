package agentws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
)

// replyHead is the envelope of every reply. StatusCode is always written, so
// that an agent never has to guess what a missing one means.
type replyHead struct {
	Action       string `json:"Action,omitempty"`
	RequestId    string `json:"RequestId"`
	StatusCode   int    `json:"StatusCode"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// inbound is decoded leniently (raw values) so that a frame with a wrongly
// typed field can still be answered under its RequestId.
type inbound struct {
	Action    json.RawMessage
	RequestId json.RawMessage
}

func (c *conn) handleFrame(ctx context.Context, data []byte) {
	var in inbound
	if !isJSONObject(data) || json.Unmarshal(data, &in) != nil {
		c.log.Warn("dropping agent frame that is not a JSON object", "bytes", len(data), "head", head(data))
		return
	}
	reqID, idOK := rawString(in.RequestId)
	action, actionOK := rawString(in.Action)

	start := time.Now()
	var (
		result any
		err    error
	)
	switch {
	case !actionOK:
		err = apierr.Invalid("Action must be a string")
	case !idOK:
		err = apierr.Invalid("RequestId must be a string")
	case reqID == "":
		// A request without a RequestId could not be matched with its reply.
		err = apierr.Invalid("RequestId is required")
	default:
		result, err = c.dispatch(ctx, action, data)
	}

	rh := replyHead{Action: action, RequestId: reqID, StatusCode: http.StatusOK}
	if isPushAction(action) {
		// Echoing a push name would make the agent take the reply for a push.
		rh.Action = ""
	}
	if err != nil {
		status, msg := statusFor(err)
		rh.StatusCode, rh.ErrorMessage = status, msg
		result = nil
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelError
		}
		c.log.Log(ctx, level, "agent request failed", "action", action, "requestId", reqID,
			"status", status, "took", time.Since(start), "error", err)
	} else {
		c.log.Debug("agent request", "action", action, "requestId", reqID, "took", time.Since(start))
	}
	b, merr := encodeReply(rh, result)
	if merr != nil {
		c.log.Error("encoding agent reply failed", "action", action, "error", merr)
		rh.StatusCode, rh.ErrorMessage = http.StatusInternalServerError, "An internal service error occurred."
		b, _ = encodeReply(rh, nil)
	}
	_ = c.enqueue(b)
}

// dispatch runs one request against the backend, within the call budget.
func (c *conn) dispatch(ctx context.Context, action string, data []byte) (result any, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.h.opts.CallTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in agent backend call", "action", action, "panic", r, "stack", string(debug.Stack()))
			result, err = nil, apierr.Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	b, id := c.h.b, c.id
	switch action {
	case agentmsg.ActionHeartbeat:
		var req agentmsg.Heartbeat
		if err := decodeRequest(action, data, &req); err != nil {
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
		if err := decodeRequest(action, data, &req); err != nil {
			return nil, err
		}
		return nil, b.AgentProcessExited(ctx, id, req)
	case agentmsg.ActionDrain:
		var req agentmsg.Drain
		if err := decodeRequest(action, data, &req); err != nil {
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

func decodeRequest(what string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return apierr.Invalid("malformed %s request: %v", what, err)
	}
	return nil
}

// statusFor maps an error onto the reply's StatusCode and ErrorMessage, as the
// Server SDK endpoint does.
func statusFor(err error) (int, string) {
	e := apierr.As(err)
	switch e.Code {
	case apierr.NotFound:
		return http.StatusNotFound, e.Message
	case apierr.Unauthorized:
		return http.StatusUnauthorized, e.Message
	case apierr.AccessDenied:
		return http.StatusForbidden, e.Message
	case apierr.Conflict:
		return http.StatusConflict, e.Message
	case apierr.Throttling:
		return http.StatusTooManyRequests, e.Message
	case apierr.InvalidRequest, apierr.InvalidFleetStatus, apierr.LimitExceeded, apierr.NotReady:
		return http.StatusBadRequest, e.Message
	case apierr.InternalService:
		return http.StatusInternalServerError, e.Message
	default:
		// An unfamiliar code may carry internal detail; keep it generic.
		return http.StatusInternalServerError, "An internal service error occurred."
	}
}

// encodeReply writes the envelope and the result's fields side by side at the
// top level, as the Server SDK protocol does.
func encodeReply(rh replyHead, result any) ([]byte, error) {
	hb, err := json.Marshal(rh)
	if err != nil {
		return nil, err
	}
	if result == nil {
		return hb, nil
	}
	rb, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	rb = bytes.TrimSpace(rb)
	if !isJSONObject(rb) {
		return nil, fmt.Errorf("reply result %T is not a JSON object", result)
	}
	if string(rb) == "{}" {
		return hb, nil
	}
	out := make([]byte, 0, len(hb)+len(rb))
	out = append(out, hb[:len(hb)-1]...)
	out = append(out, ',')
	out = append(out, rb[1:]...)
	return out, nil
}

func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func isPushAction(a string) bool {
	switch a {
	case agentmsg.PushForceExit, agentmsg.PushRuntimeConfigurationChanged, agentmsg.PushRefreshConnection:
		return true
	}
	return false
}

// head returns a short printable prefix of a dropped frame for the log.
func head(b []byte) string {
	const n = 64
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
