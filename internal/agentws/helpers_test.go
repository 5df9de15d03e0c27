package agentws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/agentws"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/core"
	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store/sqlite"
)

// The tests run the real service over SQLite behind a real HTTP server that
// routes WebSocket upgrades as internal/server does: agentmsg.Path to the
// agent endpoint, any other path to the Server SDK endpoint. Agents and game
// server processes are gorilla WebSocket clients speaking JSON frames.

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

const waitFor = 5 * time.Second

type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *core.Service
	clk   *clock.Fake
	srv   *httptest.Server
	h     *agentws.Handler
	fleet string
	arn   string
	loc   string
	// tokens holds each registered compute's auth token.
	tokens map[string]string
}

func newEnv(t *testing.T, opts agentws.Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "openlift.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := core.New(core.Config{Store: st, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })

	if opts.Logger == nil {
		opts.Logger = quiet
	}
	h := agentws.NewHandler(svc, opts)
	sdk := sdkws.NewHandler(svc, sdkws.Options{Logger: quiet})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case sdkws.IsUpgrade(r) && r.URL.Path == agentmsg.Path:
			h.ServeHTTP(w, r)
		case sdkws.IsUpgrade(r):
			sdk.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		h.Close()
		sdk.(interface{ Close() }).Close()
	})

	e := &env{t: t, ctx: ctx, svc: svc, clk: clk, srv: srv, h: h, loc: "custom-agentws", tokens: map[string]string{}}
	must(e.svc.CreateLocation(ctx, &shapes.CreateLocationInput{LocationName: &e.loc}))(t)
	f := must(e.svc.CreateFleet(ctx, &shapes.CreateFleetInput{
		Name:        ptr("agentws"),
		ComputeType: "ANYWHERE",
		Locations:   []shapes.LocationConfiguration{{Location: &e.loc}},
	}))(t)
	e.fleet, e.arn = *f.FleetAttributes.FleetId, *f.FleetAttributes.FleetArn
	return e
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ptr[T any](v T) *T { return &v }

// register registers a compute and fetches its auth token.
func (e *env) register(compute string) string {
	e.t.Helper()
	must(e.svc.RegisterCompute(e.ctx, &shapes.RegisterComputeInput{FleetId: &e.fleet, ComputeName: &compute, IpAddress: ptr("192.0.2.1"), Location: &e.loc}))(e.t)
	tok := *must(e.svc.GetComputeAuthToken(e.ctx, &shapes.GetComputeAuthTokenInput{FleetId: &e.fleet, ComputeName: &compute}))(e.t).AuthToken
	e.tokens[compute] = tok
	return tok
}

func (e *env) wsBase() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") }

func (e *env) agentURL(fleet, compute, token string) string {
	q := url.Values{}
	if fleet != "" {
		q.Set("FleetId", fleet)
	}
	if compute != "" {
		q.Set("ComputeName", compute)
	}
	if token != "" {
		q.Set("Authorization", token)
	}
	return e.wsBase() + agentmsg.Path + "?" + q.Encode()
}

// dialAgent connects an agent for a registered compute and waits until the
// service has attached it (the first reply proves its reader runs).
func (e *env) dialAgent(compute string) *peer {
	e.t.Helper()
	p := dial(e.t, e.agentURL(e.fleet, compute, e.tokens[compute]))
	p.ok(p.call(agentmsg.ActionHeartbeat, agentmsg.Heartbeat{}))
	return p
}

// startProcess connects a game server process of compute the way the Server
// SDK does (InitSDK). With ready it also calls ProcessReady and heartbeats
// once, which makes it eligible to host.
func (e *env) startProcess(compute, pid string, ready bool) *peer {
	e.t.Helper()
	q := url.Values{"pID": {pid}, "FleetId": {e.fleet}, "ComputeId": {compute}, "Authorization": {e.tokens[compute]},
		"sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "IdempotencyToken": {pid}}
	p := dial(e.t, e.wsBase()+"/?"+q.Encode())
	p.ok(p.call("GetFleetRoleCredentials", map[string]any{}))
	if ready {
		p.ok(p.call("ActivateServerProcess", map[string]any{"SdkVersion": "5.6.0", "SdkLanguage": "Go", "Port": 7777, "LogPaths": []string{}}))
		p.ok(p.call("HeartbeatServerProcess", map[string]any{"HealthStatus": true}))
	}
	return p
}

func (e *env) createGameSession() string {
	e.t.Helper()
	out := must(e.svc.CreateGameSession(e.ctx, &shapes.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: ptr(int32(4))}))(e.t)
	return *out.GameSession.GameSessionId
}

func (e *env) gameSession(id string) shapes.GameSession {
	e.t.Helper()
	out := must(e.svc.DescribeGameSessions(e.ctx, &shapes.DescribeGameSessionsInput{GameSessionId: &id}))(e.t)
	if len(out.GameSessions) != 1 {
		e.t.Fatalf("game session %s: %d results", id, len(out.GameSessions))
	}
	return out.GameSessions[0]
}

// peer is a WebSocket client. A reader goroutine sorts incoming frames into
// replies (they carry a StatusCode) and pushes (they do not).
type peer struct {
	t       *testing.T
	ws      *websocket.Conn
	replies chan map[string]any
	pushes  chan map[string]any
	done    chan struct{}
	readErr error // set before done is closed
	pings   chan struct{}
	// mute stops the client answering pings, as a hung agent would.
	mute atomic.Bool

	mu  sync.Mutex
	seq int
}

func dial(t *testing.T, rawURL string) *peer {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(rawURL, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", rawURL, err, status)
	}
	p := &peer{
		t: t, ws: ws,
		replies: make(chan map[string]any, 64),
		pushes:  make(chan map[string]any, 64),
		done:    make(chan struct{}),
		pings:   make(chan struct{}, 64),
	}
	ws.SetPingHandler(func(data string) error {
		if p.mute.Load() {
			return nil
		}
		select {
		case p.pings <- struct{}{}:
		default:
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go p.read()
	t.Cleanup(func() { ws.Close() })
	return p
}

func (p *peer) read() {
	defer close(p.done)
	for {
		_, data, err := p.ws.ReadMessage()
		if err != nil {
			p.readErr = err
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			p.readErr = fmt.Errorf("frame %q is not a JSON object: %w", data, err)
			return
		}
		if _, ok := m["StatusCode"]; ok {
			p.replies <- m
		} else {
			p.pushes <- m
		}
	}
}

// send writes one raw text frame.
func (p *peer) send(frame string) {
	p.t.Helper()
	if err := p.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		p.t.Fatal(err)
	}
}

// call sends a request whose body is body's JSON members next to Action and
// RequestId, and returns the reply.
func (p *peer) call(action string, body any) map[string]any {
	p.t.Helper()
	p.mu.Lock()
	p.seq++
	id := fmt.Sprintf("req-%d", p.seq)
	p.mu.Unlock()
	m := map[string]any{}
	b, err := json.Marshal(body)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatal(err)
	}
	m["Action"], m["RequestId"] = action, id
	b, _ = json.Marshal(m)
	p.send(string(b))
	r := p.reply()
	if r["RequestId"] != id {
		p.t.Fatalf("reply %v does not answer %s", r, id)
	}
	return r
}

// reply returns the next reply.
func (p *peer) reply() map[string]any {
	p.t.Helper()
	select {
	case r := <-p.replies:
		return r
	case <-p.done:
		p.t.Fatalf("connection ended before a reply: %v", p.readErr)
	case <-time.After(waitFor):
		p.t.Fatal("no reply")
	}
	return nil
}

// push returns the next push.
func (p *peer) push() map[string]any {
	p.t.Helper()
	select {
	case m := <-p.pushes:
		return m
	case <-p.done:
		p.t.Fatalf("connection ended before a push: %v", p.readErr)
	case <-time.After(waitFor):
		p.t.Fatal("no push")
	}
	return nil
}

// noPush fails if a push arrives within d.
func (p *peer) noPush(d time.Duration) {
	p.t.Helper()
	select {
	case m := <-p.pushes:
		p.t.Fatalf("unexpected push %v", m)
	case <-time.After(d):
	}
}

// ok fails unless r is a 200 reply, and returns it.
func (p *peer) ok(r map[string]any) map[string]any {
	p.t.Helper()
	if r["StatusCode"] != float64(200) {
		p.t.Fatalf("reply %v; want StatusCode 200", r)
	}
	return r
}

// closed waits for the server to end the connection and returns the error
// the reader saw.
func (p *peer) closed() error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.readErr
	case <-time.After(waitFor):
		p.t.Fatal("connection still open")
	}
	return nil
}

// states renders the Processes of a heartbeat reply.
func states(r map[string]any) string {
	list, _ := r["Processes"].([]any)
	var parts []string
	for _, x := range list {
		m, _ := x.(map[string]any)
		s := fmt.Sprintf("%v=%v", m["ProcessId"], m["State"])
		if g, ok := m["GameSessionId"]; ok {
			s += fmt.Sprintf("(%v)", g)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// eventually polls cond until it holds or the wait runs out.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func isEOF(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") || websocket.IsCloseError(err, websocket.CloseAbnormalClosure))
}
