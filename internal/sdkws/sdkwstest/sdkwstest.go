package sdkwstest

import (
	"context"
	"sync"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sdkws"
)

// ActionAuthenticate names Authenticate calls in the call log.
const ActionAuthenticate = "Authenticate"

// Call is one recorded Backend call. Req holds the typed request (for example
// sdkmsg.ActivateServerProcess), the token for Authenticate, or nil.
type Call struct {
	Action string
	ID     sdkws.Identity
	Req    any
}

// ConnEvent is one Attach or Detach.
type ConnEvent struct {
	Attach bool
	ID     sdkws.Identity
	Conn   sdkws.Conn
}

// Hook runs inside a Backend call, after it is recorded and before the
// configured error is returned; a non-nil error from it is returned instead.
// It may push to the process's connection (Push never blocks).
type Hook func(b *Backend, c Call) error

// Backend records every call and answers from what the test configured.
type Backend struct {
	mu       sync.Mutex
	tokens   map[string]bool
	calls    []Call
	events   []ConnEvent
	current  map[string]sdkws.Conn
	errs     map[string]error
	hook     Hook
	describe func(sdkmsg.DescribePlayerSessions) sdkmsg.DescribePlayerSessionsResult
	cert     sdkmsg.GetComputeCertificateResult
	changed  chan struct{}
}

var _ sdkws.Backend = (*Backend)(nil)

// New returns a Backend that accepts the given auth tokens.
func New(tokens ...string) *Backend {
	b := &Backend{
		tokens:  map[string]bool{},
		current: map[string]sdkws.Conn{},
		errs:    map[string]error{},
		changed: make(chan struct{}),
	}
	for _, t := range tokens {
		b.tokens[t] = true
	}
	return b
}

// AddToken makes another auth token acceptable.
func (b *Backend) AddToken(token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens[token] = true
}

// SetError makes calls of action (or ActionAuthenticate) fail with err; nil clears it.
func (b *Backend) SetError(action string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.errs, action)
		return
	}
	b.errs[action] = err
}

// SetHook installs h (nil removes it).
func (b *Backend) SetHook(h Hook) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hook = h
}

// SetDescribe sets how DescribePlayerSessionsForProcess answers.
func (b *Backend) SetDescribe(f func(sdkmsg.DescribePlayerSessions) sdkmsg.DescribePlayerSessionsResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.describe = f
}

// SetCertificate sets the GetComputeCertificate answer.
func (b *Backend) SetCertificate(r sdkmsg.GetComputeCertificateResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cert = r
}

// Calls returns a copy of the call log.
func (b *Backend) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Call(nil), b.calls...)
}

// CallsOf returns the recorded calls of one action, in order.
func (b *Backend) CallsOf(action string) []Call {
	var out []Call
	for _, c := range b.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// Events returns a copy of the Attach/Detach log.
func (b *Backend) Events() []ConnEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ConnEvent(nil), b.events...)
}

// Conn returns the current connection of a process, or nil.
func (b *Backend) Conn(pID string) sdkws.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current[pID]
}

// Open reports how many connections are attached and not yet detached.
func (b *Backend) Open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, e := range b.events {
		if e.Attach {
			n++
		} else {
			n--
		}
	}
	return n
}

// Await blocks until cond returns true (re-checked after every recorded call
// or event) or timeout passes, and reports whether cond became true.
func (b *Backend) Await(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		ch := b.changed
		b.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

func (b *Backend) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// record logs the call and returns the hook and configured error to apply.
func (b *Backend) record(c Call) error {
	b.mu.Lock()
	b.calls = append(b.calls, c)
	b.notifyLocked()
	hook, err := b.hook, b.errs[c.Action]
	b.mu.Unlock()
	if hook != nil {
		if herr := hook(b, c); herr != nil {
			return herr
		}
	}
	return err
}

// Authenticate implements sdkws.Backend.
func (b *Backend) Authenticate(_ context.Context, fleetID, computeName, authToken string) error {
	if err := b.record(Call{Action: ActionAuthenticate, ID: sdkws.Identity{FleetID: fleetID, ComputeName: computeName}, Req: authToken}); err != nil {
		return err
	}
	b.mu.Lock()
	ok := b.tokens[authToken]
	b.mu.Unlock()
	if !ok {
		return apierr.New(apierr.Unauthorized, "invalid compute auth token")
	}
	return nil
}

// Attach implements sdkws.Backend.
func (b *Backend) Attach(id sdkws.Identity, conn sdkws.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, ConnEvent{Attach: true, ID: id, Conn: conn})
	b.current[id.ProcessID] = conn
	b.notifyLocked()
}

// Detach implements sdkws.Backend.
func (b *Backend) Detach(id sdkws.Identity, conn sdkws.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, ConnEvent{Attach: false, ID: id, Conn: conn})
	if b.current[id.ProcessID] == conn {
		delete(b.current, id.ProcessID)
	}
	b.notifyLocked()
}

// ActivateServerProcess implements sdkws.Backend.
func (b *Backend) ActivateServerProcess(_ context.Context, id sdkws.Identity, req sdkmsg.ActivateServerProcess) error {
	return b.record(Call{Action: sdkmsg.ActionActivateServerProcess, ID: id, Req: req})
}

// HeartbeatServerProcess implements sdkws.Backend.
func (b *Backend) HeartbeatServerProcess(_ context.Context, id sdkws.Identity, req sdkmsg.HeartbeatServerProcess) error {
	return b.record(Call{Action: sdkmsg.ActionHeartbeatServerProcess, ID: id, Req: req})
}

// ActivateGameSession implements sdkws.Backend.
func (b *Backend) ActivateGameSession(_ context.Context, id sdkws.Identity, req sdkmsg.ActivateGameSession) error {
	return b.record(Call{Action: sdkmsg.ActionActivateGameSession, ID: id, Req: req})
}

// UpdatePlayerSessionCreationPolicy implements sdkws.Backend.
func (b *Backend) UpdatePlayerSessionCreationPolicy(_ context.Context, id sdkws.Identity, req sdkmsg.UpdatePlayerSessionCreationPolicy) error {
	return b.record(Call{Action: sdkmsg.ActionUpdatePlayerSessionCreationPolicy, ID: id, Req: req})
}

// AcceptPlayerSession implements sdkws.Backend.
func (b *Backend) AcceptPlayerSession(_ context.Context, id sdkws.Identity, req sdkmsg.PlayerSessionRequest) error {
	return b.record(Call{Action: sdkmsg.ActionAcceptPlayerSession, ID: id, Req: req})
}

// RemovePlayerSession implements sdkws.Backend.
func (b *Backend) RemovePlayerSession(_ context.Context, id sdkws.Identity, req sdkmsg.PlayerSessionRequest) error {
	return b.record(Call{Action: sdkmsg.ActionRemovePlayerSession, ID: id, Req: req})
}

// DescribePlayerSessionsForProcess implements sdkws.Backend.
func (b *Backend) DescribePlayerSessionsForProcess(_ context.Context, id sdkws.Identity, req sdkmsg.DescribePlayerSessions) (sdkmsg.DescribePlayerSessionsResult, error) {
	if err := b.record(Call{Action: sdkmsg.ActionDescribePlayerSessions, ID: id, Req: req}); err != nil {
		return sdkmsg.DescribePlayerSessionsResult{}, err
	}
	b.mu.Lock()
	f := b.describe
	b.mu.Unlock()
	if f == nil {
		return sdkmsg.DescribePlayerSessionsResult{}, nil
	}
	return f(req), nil
}

// TerminateServerProcess implements sdkws.Backend.
func (b *Backend) TerminateServerProcess(_ context.Context, id sdkws.Identity) error {
	return b.record(Call{Action: sdkmsg.ActionTerminateServerProcess, ID: id})
}

// GetComputeCertificate implements sdkws.Backend.
func (b *Backend) GetComputeCertificate(_ context.Context, id sdkws.Identity) (sdkmsg.GetComputeCertificateResult, error) {
	if err := b.record(Call{Action: sdkmsg.ActionGetComputeCertificate, ID: id}); err != nil {
		return sdkmsg.GetComputeCertificateResult{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cert, nil
}
