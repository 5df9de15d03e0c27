package sdkws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
)

// replyHead is the envelope of every reply. StatusCode is always written: the
// SDK reads a missing one as 0, i.e. as an InternalServiceException.
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
		// Without a RequestId there is nothing to answer.
		c.log.Warn("dropping sdk frame that is not a JSON object", "bytes", len(data), "head", head(data))
		return
	}
	reqID, idOK := rawString(in.RequestId)
	action, actionOK := rawString(in.Action)

	start := time.Now()
	var result any
	var err error
	switch {
	case !actionOK:
		err = apierr.Invalid("Action must be a string")
	case !idOK:
		err = apierr.Invalid("RequestId must be a string")
	default:
		result, err = c.dispatch(ctx, action, data)
	}

	rh := replyHead{Action: action, RequestId: reqID, StatusCode: http.StatusOK}
	if isPushAction(action) {
		// Echoing a push name could make the SDK run its push handler on our
		// reply (spec §2), so such a reply carries no Action.
		rh.Action = ""
	}
	if err != nil {
		status, msg := statusFor(err)
		rh.StatusCode, rh.ErrorMessage = status, msg
		result = nil
		c.logResult(ctx, action, reqID, status, time.Since(start), err)
	} else {
		c.log.Debug("sdk request", "action", action, "requestId", reqID, "status", http.StatusOK, "took", time.Since(start))
	}
	b, merr := encodeReply(rh, result)
	if merr != nil {
		c.log.Error("encoding sdk reply failed", "action", action, "error", merr)
		rh.StatusCode, rh.ErrorMessage = http.StatusInternalServerError, "An internal service error occurred."
		b, _ = encodeReply(rh, nil)
	}
	// A full queue closes the connection; the SDK's request then times out
	// and it reconnects, which is the recovery we want.
	_ = c.enqueue(b)
}

func (c *conn) logResult(ctx context.Context, action, reqID string, status int, took time.Duration, err error) {
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case !isKnownAction(action):
		// A newer SDK using an action we do not know is worth noticing.
		level = slog.LevelWarn
	}
	c.log.Log(ctx, level, "sdk request failed", "action", action, "requestId", reqID,
		"status", status, "took", took, "error", err)
}

// dispatch runs one request against the backend, within the call budget.
func (c *conn) dispatch(ctx context.Context, action string, data []byte) (result any, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.h.opts.CallTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in sdk backend call", "action", action, "panic", r, "stack", string(debug.Stack()))
			result, err = nil, apierr.Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	b, id := c.h.b, c.id
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
		if err := decodeRequest(action, data, &req); err != nil {
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
	if err := decodeRequest(action, data, &req); err != nil {
		return nil, err
	}
	return nil, fn(ctx, id, req)
}

func decodeRequest(what string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return apierr.Invalid("malformed %s request: %v", what, err)
	}
	return nil
}

// statusFor maps an error onto the status code and message the SDK sees. The
// SDK turns 400/401/403/404/409/429 into typed exceptions and everything
// other than 200 and 4xx into InternalServiceException (spec §2).
func statusFor(err error) (int, string) {
	e := apierr.As(err)
	switch e.Code {
	case apierr.NotFound:
		return http.StatusNotFound, e.Message
	case apierr.Unauthorized, apierr.UnrecognizedClient, apierr.MissingAuthenticationToken,
		apierr.InvalidSignature, apierr.IncompleteSignature:
		return http.StatusUnauthorized, e.Message
	case apierr.AccessDenied:
		return http.StatusForbidden, e.Message
	case apierr.Conflict:
		return http.StatusConflict, e.Message
	case apierr.Throttling:
		return http.StatusTooManyRequests, e.Message
	case apierr.InvalidRequest, apierr.InvalidFleetStatus, apierr.InvalidGameSessionStatus,
		apierr.GameSessionFull, apierr.FleetCapacityExceeded, apierr.TerminalRoutingStrategy,
		apierr.IdempotentParameterMismatch, apierr.LimitExceeded, apierr.NotReady,
		apierr.UnsupportedRegion, apierr.UnknownOperation, apierr.UnsupportedOperation,
		apierr.Serialization:
		return http.StatusBadRequest, e.Message
	default:
		if e.Code == apierr.InternalService {
			return http.StatusInternalServerError, e.Message
		}
		// An unfamiliar code may carry internal detail; keep it generic.
		return http.StatusInternalServerError, "An internal service error occurred."
	}
}

// encodeReply writes the envelope and the result's fields side by side at
// the top level, which is where the SDK looks for them (spec §2).
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
	if !isJSONObject(rb) {
		return nil, fmt.Errorf("reply result %T is not a JSON object", result)
	}
	rb = bytes.TrimSpace(rb)
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

// head returns a short printable prefix of a dropped frame for the log.
func head(b []byte) string {
	const n = 64
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
