package wsconn

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
)

// replyHead is the envelope of every reply. StatusCode is always written: the
// SDK reads a missing one as 0, i.e. as an InternalServiceException, and an
// agent should never have to guess.
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

// genericError is the message of an error whose detail stays in the log.
const genericError = "An internal service error occurred."

func (c *Conn) handleFrame(ctx context.Context, s Session, data []byte) {
	p := c.ep.proto
	var in inbound
	if !isJSONObject(data) || json.Unmarshal(data, &in) != nil {
		// Without a RequestId there is nothing to answer.
		c.log.Warn("dropping "+p.Name+" frame that is not a JSON object", "bytes", len(data), "head", head(data))
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
	case reqID == "" && p.RequireRequestID:
		// A request without a RequestId could not be matched with its reply.
		err = apierr.Invalid("RequestId is required")
	default:
		result, err = c.call(ctx, s, action, data)
	}

	rh := replyHead{Action: action, RequestId: reqID, StatusCode: http.StatusOK}
	if p.IsPush != nil && p.IsPush(action) {
		// Echoing a push name could make the client run its push handler on
		// our reply, so such a reply carries no Action.
		rh.Action = ""
	}
	if err != nil {
		status, msg := StatusFor(err)
		rh.StatusCode, rh.ErrorMessage = status, msg
		result = nil
		c.logFailure(ctx, action, reqID, status, time.Since(start), err)
	} else {
		c.log.Debug(p.Name+" request", "action", action, "requestId", reqID, "status", http.StatusOK, "took", time.Since(start))
	}
	b, merr := encodeReply(rh, result)
	if merr != nil {
		c.log.Error("encoding "+p.Name+" reply failed", "action", action, "error", merr)
		rh.StatusCode, rh.ErrorMessage = http.StatusInternalServerError, genericError
		b, _ = encodeReply(rh, nil)
	}
	// A full queue closes the connection; the client's request then times
	// out and it reconnects, which is the recovery we want.
	_ = c.enqueue(b)
}

func (c *Conn) logFailure(ctx context.Context, action, reqID string, status int, took time.Duration, err error) {
	p := c.ep.proto
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case p.IsKnown != nil && !p.IsKnown(action):
		level = slog.LevelWarn
	}
	c.log.Log(ctx, level, p.Name+" request failed", "action", action, "requestId", reqID,
		"status", status, "took", took, "error", err)
}

// call runs one request through the Session, within the call budget.
func (c *Conn) call(ctx context.Context, s Session, action string, data []byte) (result any, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.ep.opts.CallTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in "+c.ep.proto.Name+" backend call", "action", action, "panic", r, "stack", string(debug.Stack()))
			result, err = nil, apierr.Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	return s.Dispatch(ctx, action, data)
}

// DecodeRequest unmarshals the frame of an action's request into v; a frame
// that does not fit is an InvalidRequest naming the action.
func DecodeRequest(action string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return apierr.Invalid("malformed %s request: %v", action, err)
	}
	return nil
}

// StatusFor maps an error onto the StatusCode and ErrorMessage of a reply.
// The SDK turns 400/401/403/404/409/429 into typed exceptions and everything
// other than 200 and 4xx into InternalServiceException (spec §2); the agent
// channel uses the same codes. Errors that are not *apierr.Error values, and
// codes this mapping does not know, become a generic 500: their message may
// carry internal detail.
func StatusFor(err error) (int, string) {
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
	case apierr.InternalService:
		return http.StatusInternalServerError, e.Message
	default:
		return http.StatusInternalServerError, genericError
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

// rawString reads an envelope member: absent or null is "", anything but a
// string is not ok.
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

// head returns a short printable prefix of a dropped frame for the log.
func head(b []byte) string {
	const n = 64
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
