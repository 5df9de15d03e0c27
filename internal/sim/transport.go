package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/sdkmsg"
)

// userAgent is honest about what is connecting; the service does not look at it.
const userAgent = "openlift-sim/1 (gamelift-go-sdk/1.0 compatible)"

// writeTimeout bounds one frame write; a healthy socket takes microseconds.
const writeTimeout = 10 * time.Second

// socket is one WebSocket connection. A process has one current socket, and
// briefly a second one while an old socket drains after RefreshConnection.
type socket struct {
	ws      *websocket.Conn
	url     string
	writeMu sync.Mutex // gorilla allows one writer at a time
}

func (s *socket) write(frame []byte) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return s.ws.WriteMessage(websocket.TextMessage, frame)
}

// drop closes the TCP connection without a close frame, which is how the SDK
// ends every socket (Destroy, exit, after draining).
func (s *socket) drop() { _ = s.ws.NetConn().Close() }

type reply struct {
	data json.RawMessage
	err  error
}

type pending struct {
	action string
	sock   *socket
	ch     chan reply // buffered: the first answer wins, later ones are dropped
}

// envelope is the routing view of an inbound frame, the same four fields the
// SDK routes on (spec §2).
type envelope struct {
	Action       string
	RequestId    string
	StatusCode   int
	ErrorMessage string
}

// redact keeps the token out of logs: scheme, host and path only.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "<unparseable url>"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func idempotencyToken(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return u.Query().Get("IdempotencyToken")
}

// dial connects to target with the SDK's shape of backoff: every failure,
// including a refused upgrade, is retried until DialAttempts are used up.
func (p *Process) dial(ctx context.Context, target string) (*socket, error) {
	d := websocket.Dialer{HandshakeTimeout: p.cfg.RequestTimeout}
	wait := p.cfg.RetryInterval
	for attempt := 1; ; attempt++ {
		ws, resp, err := d.DialContext(ctx, target, http.Header{"User-Agent": {userAgent}})
		if err == nil {
			p.mu.Lock()
			p.connects++
			p.mu.Unlock()
			p.log.Debug("connected", "url", redact(target), "idempotencyToken", idempotencyToken(target))
			return &socket{ws: ws, url: target}, nil
		}
		err = dialError(err, resp)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt >= p.cfg.DialAttempts {
			return nil, fmt.Errorf("connecting to %s failed after %d attempts: %w", redact(target), attempt, err)
		}
		p.log.Warn("connect failed, will retry", "url", redact(target), "attempt", attempt, "wait", wait, "error", err)
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
		wait = min(wait*2, max(maxRetryWait, p.cfg.RetryInterval))
	}
}

func dialError(err error, resp *http.Response) error {
	if resp == nil {
		return err
	}
	var body [512]byte
	n, _ := resp.Body.Read(body[:])
	resp.Body.Close()
	return fmt.Errorf("%w: HTTP %d: %s", err, resp.StatusCode, strings.TrimSpace(string(body[:n])))
}

// install makes s the current socket and starts its reader. Unless replace is
// set it only fills an empty slot, so a reconnect that races a refresh loses.
func (p *Process) install(s *socket, replace bool) (ok bool, old *socket) {
	p.mu.Lock()
	if p.exiting || (p.cur != nil && !replace) {
		p.mu.Unlock()
		return false, nil
	}
	old = p.cur
	p.cur, p.target = s, s.url
	p.socks[s] = struct{}{}
	p.signalLocked()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.read(s)
	}()
	return true, old
}

func (p *Process) read(s *socket) {
	for {
		mt, data, err := s.ws.ReadMessage()
		if err != nil {
			p.socketLost(s, err)
			return
		}
		p.mu.Lock()
		// Any inbound frame proves the socket alive (spec §1.5).
		p.timeouts = 0
		p.mu.Unlock()
		if mt != websocket.TextMessage {
			p.log.Warn("ignoring non-text frame", "type", mt)
			continue
		}
		p.route(data)
	}
}

// route follows the SDK's order: an error with a RequestId completes that
// request, one of the four push actions goes to the push handler, anything
// else completes the request it names (unknown ids are dropped).
func (p *Process) route(data []byte) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		p.log.Warn("dropping frame that does not decode", "error", err)
		return
	}
	if env.StatusCode != 200 && env.RequestId != "" {
		p.complete(env.RequestId, reply{err: &StatusError{StatusCode: env.StatusCode, Message: env.ErrorMessage}})
		return
	}
	switch env.Action {
	case sdkmsg.PushCreateGameSession, sdkmsg.PushUpdateGameSession, sdkmsg.PushTerminateProcess, sdkmsg.PushRefreshConnection:
		p.enqueuePush(data)
		return
	}
	p.complete(env.RequestId, reply{data: data})
}

func (p *Process) complete(reqID string, r reply) {
	p.mu.Lock()
	pr := p.pending[reqID]
	p.mu.Unlock()
	if pr == nil {
		p.log.Debug("dropping reply to an unknown or expired request", "requestId", reqID)
		return
	}
	if se, ok := r.err.(*StatusError); ok {
		se.Action = pr.action
	}
	select {
	case pr.ch <- r:
	default:
	}
}

func (p *Process) socketLost(s *socket, err error) {
	p.mu.Lock()
	delete(p.socks, s)
	// The SDK lets requests on a dead socket run into their timeout; their
	// replies can never arrive either way, so fail them now instead of
	// making callers wait up to 20 s for the same outcome.
	for _, pr := range p.pending {
		if pr.sock == s {
			select {
			case pr.ch <- reply{err: ErrConnectionLost}:
			default:
			}
		}
	}
	current := p.cur == s
	if current {
		p.cur = nil
		p.signalLocked()
	}
	exiting := p.exiting
	p.mu.Unlock()
	if current && !exiting {
		p.log.Info("connection lost, reconnecting", "error", err)
		select {
		case p.lost <- struct{}{}:
		default:
		}
	}
}

// supervise reconnects to the current target (same URL, so the same token
// and IdempotencyToken, as the SDK does) whenever the current socket is lost.
// ActivateServerProcess is not repeated: the SDK does not repeat it either.
func (p *Process) supervise(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.lost:
		}
		p.mu.Lock()
		target, cur := p.target, p.cur
		p.mu.Unlock()
		if cur != nil {
			continue
		}
		s, err := p.dial(ctx, target)
		if err != nil {
			if ctx.Err() == nil {
				p.exit(fmt.Errorf("reconnect: %w", err))
			}
			return
		}
		if ok, _ := p.install(s, false); !ok {
			s.drop()
		}
	}
}

// refresh handles a RefreshConnection push: connect to the new endpoint with
// the new token and a new IdempotencyToken, switch to it, and keep reading the
// old socket for DrainTimeout before dropping it. On failure the old socket
// stays in use; the SDK only logs, and so do we.
func (p *Process) refresh(ctx context.Context, m sdkmsg.RefreshConnection) {
	target, err := connectURL(m.RefreshConnectionEndpoint, p.id, p.cfg.FleetID, p.cfg.HostID, m.AuthToken)
	if err != nil {
		p.log.Error("RefreshConnection: bad endpoint", "error", err)
		return
	}
	s, err := p.dial(ctx, target)
	if err != nil {
		p.log.Error("RefreshConnection failed; staying on the current connection", "error", err)
		return
	}
	ok, old := p.install(s, true)
	if !ok {
		s.drop()
		return
	}
	p.log.Info("connection refreshed", "url", redact(target), "idempotencyToken", idempotencyToken(target))
	if old == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTimer(p.cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		old.drop()
	}()
}

// socketFor returns the current socket, waiting for a reconnect if needed.
func (p *Process) socketFor(ctx context.Context, timeout time.Duration) (*socket, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		p.mu.Lock()
		s, sig, exiting := p.cur, p.curSignal, p.exiting
		p.mu.Unlock()
		if s != nil {
			return s, nil
		}
		if exiting {
			return nil, ErrEnded
		}
		select {
		case <-sig:
		case <-t.C:
			return nil, fmt.Errorf("%w (no connection)", ErrTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// call sends one request and waits for its reply. The timer starts after the
// write, as in the SDK.
func (p *Process) call(ctx context.Context, action string, body any, timeout time.Duration) (json.RawMessage, error) {
	reqID := uuid.NewString()
	frame, err := encodeRequest(action, reqID, body)
	if err != nil {
		return nil, err
	}
	s, err := p.socketFor(ctx, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	pr := &pending{action: action, sock: s, ch: make(chan reply, 1)}
	p.mu.Lock()
	p.pending[reqID] = pr
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, reqID)
		p.mu.Unlock()
	}()
	if err := s.write(frame); err != nil {
		// A socket we cannot write to is dead; dropping it lets the reader
		// notice and the supervisor reconnect.
		s.drop()
		return nil, fmt.Errorf("%s: %w: %v", action, ErrConnectionLost, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-pr.ch:
		if r.err != nil {
			return nil, r.err
		}
		return r.data, nil
	case <-t.C:
		p.noteTimeout()
		return nil, fmt.Errorf("%s: %w", action, ErrTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// noteTimeout reconnects after two timeouts in a row with nothing received in
// between: the SDK's half-open detection.
func (p *Process) noteTimeout() {
	p.mu.Lock()
	p.timeouts++
	n, s := p.timeouts, p.cur
	if n >= 2 {
		p.timeouts = 0
	}
	p.mu.Unlock()
	if n >= 2 && s != nil {
		p.log.Warn("two requests in a row timed out; reconnecting")
		s.drop()
	}
}

// encodeRequest writes Action and RequestId first and then the body's fields,
// the order the SDK's frames have.
func encodeRequest(action, reqID string, body any) ([]byte, error) {
	head, err := json.Marshal(struct {
		Action    string `json:"Action"`
		RequestId string `json:"RequestId"`
	}{action, reqID})
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
		return nil, fmt.Errorf("sim: request body for %s is not a JSON object", action)
	}
	if string(b) == "{}" {
		return head, nil
	}
	out := append(head[:len(head)-1:len(head)-1], ',')
	return append(out, b[1:]...), nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
