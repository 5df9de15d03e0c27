package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/agentmsg"
)

// StatusError is a reply with a StatusCode other than 200.
type StatusError struct {
	Action  string
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.Action, e.Code, e.Message)
}

// dialError is a refused upgrade; Unauthorized says the token was refused,
// which a fresh token may cure.
type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("HTTP %d: %v", e.status, e.err)
	}
	return e.err.Error()
}

func (e *dialError) Unwrap() error { return e.err }

func (e *dialError) unauthorized() bool {
	return e.status == http.StatusUnauthorized || e.status == http.StatusForbidden
}

// agentURL turns the API endpoint into the control channel's URL: the same
// host and port, the ws scheme matching http(s), and agentmsg.Path under the
// endpoint's path.
func agentURL(endpoint, fleetID, computeName, token string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("endpoint %q: scheme must be http or https", endpoint)
	}
	if u.Host == "" {
		return "", fmt.Errorf("endpoint %q has no host", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + agentmsg.Path
	u.RawPath = ""
	u.RawQuery = url.Values{"FleetId": {fleetID}, "ComputeName": {computeName}, "Authorization": {token}}.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// conn is one control channel connection. Requests may be made from any
// goroutine; one reader goroutine routes replies and hands pushes to onPush.
type conn struct {
	ws          *websocket.Conn
	log         *slog.Logger
	callTimeout time.Duration
	readTimeout time.Duration

	wmu sync.Mutex // gorilla allows one writer at a time

	mu      sync.Mutex
	pending map[string]chan []byte
	done    chan struct{}
	err     error
}

func dial(ctx context.Context, rawURL string, callTimeout, readTimeout time.Duration, log *slog.Logger) (*conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	ws, resp, err := d.DialContext(ctx, rawURL, nil)
	if err != nil {
		de := &dialError{err: err}
		if resp != nil {
			de.status = resp.StatusCode
			resp.Body.Close()
		}
		return nil, de
	}
	ws.SetReadLimit(4 << 20)
	return &conn{
		ws: ws, log: log, callTimeout: callTimeout, readTimeout: readTimeout,
		pending: map[string]chan []byte{}, done: make(chan struct{}),
	}, nil
}

// fail closes the connection once, waking every caller.
func (c *conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	c.err = err
	close(c.done)
	c.ws.Close()
}

func (c *conn) close() { c.fail(errors.New("control channel closed")) }

// readLoop routes frames until the connection fails. Any frame extends the
// read deadline: the heartbeat replies are the liveness signal.
func (c *conn) readLoop(onPush func(action string, data []byte)) {
	for {
		c.ws.SetReadDeadline(time.Now().Add(c.readTimeout))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.fail(fmt.Errorf("control channel read: %w", err))
			return
		}
		var env agentmsg.Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			c.log.Warn("control channel: dropping malformed frame", "err", err)
			continue
		}
		if env.RequestId != "" {
			c.mu.Lock()
			ch := c.pending[env.RequestId]
			delete(c.pending, env.RequestId)
			c.mu.Unlock()
			if ch != nil {
				ch <- data
			}
			continue
		}
		onPush(env.Action, data)
	}
}

// call sends a request and waits for its reply, decoding it into out. A
// missing reply is a transport failure (the caller reconnects); an error
// status is a *StatusError.
func (c *conn) call(ctx context.Context, action string, body, out any) error {
	id := uuid.NewString()
	frame, err := requestFrame(action, id, body)
	if err != nil {
		return err
	}
	ch := make(chan []byte, 1)
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return c.err
	default:
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	c.wmu.Lock()
	c.ws.SetWriteDeadline(time.Now().Add(c.callTimeout))
	err = c.ws.WriteMessage(websocket.TextMessage, frame)
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("control channel write: %w", err))
		return err
	}

	timer := time.NewTimer(c.callTimeout)
	defer timer.Stop()
	select {
	case data := <-ch:
		var env agentmsg.Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			return fmt.Errorf("%s reply: %w", action, err)
		}
		if env.StatusCode != http.StatusOK {
			return &StatusError{Action: action, Code: env.StatusCode, Message: env.ErrorMessage}
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s reply: %w", action, err)
			}
		}
		return nil
	case <-c.done:
		return c.err
	case <-timer.C:
		err := fmt.Errorf("%s: no reply within %v", action, c.callTimeout)
		c.fail(err)
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requestFrame puts Action and RequestId in front of body's fields: frames
// are flat, as on the Server SDK socket.
func requestFrame(action, id string, body any) ([]byte, error) {
	head, err := json.Marshal(agentmsg.Envelope{Action: action, RequestId: id})
	if err != nil {
		return nil, err
	}
	if body == nil {
		return head, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("%s body is not a JSON object", action)
	}
	if string(b) == "{}" {
		return head, nil
	}
	return append(append(head[:len(head)-1], ','), b[1:]...), nil
}
