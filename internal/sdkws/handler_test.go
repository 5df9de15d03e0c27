package sdkws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/sdkws/sdkwstest"
)

func TestIsUpgrade(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		upgrade string
		want    bool
	}{
		{"websocket", http.MethodGet, "websocket", true},
		{"case and list", http.MethodGet, "h2c, WebSocket", true},
		{"post", http.MethodPost, "websocket", false},
		{"plain get", http.MethodGet, "", false},
		{"other protocol", http.MethodGet, "h2c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/", nil)
			if tt.upgrade != "" {
				r.Header.Set("Upgrade", tt.upgrade)
			}
			if got := sdkws.IsUpgrade(r); got != tt.want {
				t.Errorf("IsUpgrade = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpgradeRefused(t *testing.T) {
	base := func() url.Values {
		q, _ := url.ParseQuery(fixtureQuery(fixturePID, fixtureToken))
		return q
	}
	with := func(f func(url.Values)) string { q := base(); f(q); return q.Encode() }
	tests := []struct {
		name     string
		query    string
		authErr  error
		status   int
		body     string
		authCall bool
	}{
		{"missing pID", with(func(q url.Values) { q.Del("pID") }), nil, 400, "pID", false},
		{"missing FleetId", with(func(q url.Values) { q.Del("FleetId") }), nil, 400, "FleetId", false},
		{"missing ComputeId", with(func(q url.Values) { q.Del("ComputeId") }), nil, 400, "ComputeId", false},
		{"missing Authorization", with(func(q url.Values) { q.Del("Authorization") }), nil, 401, "Authorization", false},
		{"SigV4", with(func(q url.Values) {
			q.Set("Authorization", "SigV4")
			q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
			q.Set("X-Amz-Credential", "AKID/20261124/us-west-2/gamelift/aws4_request")
			q.Set("X-Amz-Date", "20261124T045700Z")
			q.Set("X-Amz-Signature", "00ff")
		}), nil, 401, "openlift accepts compute auth tokens only", false},
		{"bad token", with(func(q url.Values) { q.Set("Authorization", "nope") }), nil, 401, "invalid compute auth token", true},
		{"unknown compute", base().Encode(), apierr.New(apierr.NotFound, "compute compute-1 not found"), 403, "not found", true},
		{"backend failure", base().Encode(), errors.New("db on fire"), 500, "internal error", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sdkws.Options{})
			e.b.SetError(sdkwstest.ActionAuthenticate, tt.authErr)
			ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(tt.query), nil)
			if err == nil {
				ws.Close()
				t.Fatal("upgrade succeeded, want refusal")
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %q does not mention %q", body, tt.body)
			}
			if strings.Contains(string(body), "db on fire") {
				t.Errorf("body leaks the internal cause: %q", body)
			}
			if got := len(e.b.CallsOf(sdkwstest.ActionAuthenticate)) > 0; got != tt.authCall {
				t.Errorf("Authenticate called = %v, want %v", got, tt.authCall)
			}
			if len(e.b.Events()) != 0 {
				t.Errorf("refused connection was attached: %+v", e.b.Events())
			}
		})
	}

	t.Run("not an upgrade", func(t *testing.T) {
		e := newEnv(t, sdkws.Options{})
		resp, err := http.Get(e.srv.URL + "/?" + fixtureQuery(fixturePID, fixtureToken))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode < 400 {
			t.Errorf("status %d, want a refusal", resp.StatusCode)
		}
	})
}

// TestRepliesWithoutBackend covers the actions the endpoint answers itself
// and the frames it cannot route.
func TestRepliesWithoutBackend(t *testing.T) {
	e := newEnv(t, sdkws.Options{})
	e.b.SetCertificate(sdkmsg.GetComputeCertificateResult{CertificatePath: "/local/cert.pem", ComputeName: fixtureCompute})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))

	t.Run("GetFleetRoleCredentials", func(t *testing.T) {
		send(t, ws, `{"Action":"GetFleetRoleCredentials","RequestId":"r1","RoleArn":"arn:aws:iam::123456789012:role/x","RoleSessionName":"fleet-compute-1"}`)
		m, raw := recv(t, ws)
		wantStatus(t, m, 200)
		if m["Action"] != "GetFleetRoleCredentials" || m["RequestId"] != "r1" {
			t.Errorf("envelope not echoed: %s", raw)
		}
		if v, ok := m["AccessKeyId"]; !ok || v != "" {
			t.Errorf("AccessKeyId = %v (present %v), want present and empty", v, ok)
		}
		if !isInt(m["Expiration"]) {
			t.Errorf("Expiration = %v, want an integer", m["Expiration"])
		}
	})
	t.Run("GetComputeCertificate", func(t *testing.T) {
		send(t, ws, `{"Action":"GetComputeCertificate","RequestId":"r2"}`)
		m, raw := recv(t, ws)
		wantStatus(t, m, 200)
		if m["CertificatePath"] != "/local/cert.pem" || m["ComputeName"] != fixtureCompute || m["RequestId"] != "r2" {
			t.Errorf("reply %s", raw)
		}
	})

	errorCases := []struct {
		name, frame, requestID, action string
		status                         int
		msg                            string
	}{
		{"StartMatchBackfill",
			`{"Action":"StartMatchBackfill","RequestId":"r3","GameSessionArn":"arn:aws:gamelift:us-west-2::gamesession/f/g","MatchmakingConfigurationArn":"arn:aws:gamelift:us-west-2::matchmakingconfiguration/c","TicketId":"","Players":[{"PlayerId":"p1","Team":"red","PlayerAttributes":{"skill":{"AttrType":"DOUBLE","N":23}},"LatencyInMs":{"us-west-2":20}}]}`,
			"r3", "StartMatchBackfill", 400, "backfill"},
		{"StopMatchBackfill",
			`{"Action":"StopMatchBackfill","RequestId":"r4","GameSessionArn":"arn:aws:gamelift:us-west-2::gamesession/f/g","TicketId":"t"}`,
			"r4", "StopMatchBackfill", 400, "backfill"},
		{"unknown action", `{"Action":"LaunchRocket","RequestId":"r5"}`, "r5", "LaunchRocket", 400, "LaunchRocket"},
		{"push name as request", `{"Action":"CreateGameSession","RequestId":"r6"}`, "r6", "", 400, "CreateGameSession"},
		{"missing action", `{"RequestId":"r7"}`, "r7", "", 400, "Action"},
		{"wrong field type", `{"Action":"ActivateServerProcess","RequestId":"r8","Port":"7777","LogPaths":null}`, "r8", "ActivateServerProcess", 400, "ActivateServerProcess"},
		{"no RequestId", `{"Action":"HeartbeatServerProcess","HealthStatus":"yes"}`, "", "HeartbeatServerProcess", 400, "HeartbeatServerProcess"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			send(t, ws, tc.frame)
			m, raw := recv(t, ws)
			wantStatus(t, m, tc.status)
			if m["RequestId"] != tc.requestID {
				t.Errorf("RequestId = %v, want %q", m["RequestId"], tc.requestID)
			}
			gotAction, _ := m["Action"].(string)
			if gotAction != tc.action {
				t.Errorf("Action = %q, want %q (%s)", gotAction, tc.action, raw)
			}
			if msg, _ := m["ErrorMessage"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("ErrorMessage %q does not mention %q", msg, tc.msg)
			}
		})
	}

	t.Run("junk is dropped, next request still answered", func(t *testing.T) {
		send(t, ws, `this is not json`)
		send(t, ws, `[1,2,3]`)
		send(t, ws, `null`)
		if err := ws.WriteMessage(websocket.BinaryMessage, []byte(`{"Action":"HeartbeatServerProcess","RequestId":"bin"}`)); err != nil {
			t.Fatal(err)
		}
		send(t, ws, `{"Action":"HeartbeatServerProcess","RequestId":"after-junk","HealthStatus":true}`)
		m, raw := recv(t, ws)
		if m["RequestId"] != "after-junk" {
			t.Errorf("first frame after junk is %s, want the heartbeat reply", raw)
		}
		wantStatus(t, m, 200)
	})

	for _, c := range e.b.Calls() {
		switch c.Action {
		case sdkwstest.ActionAuthenticate, sdkmsg.ActionGetComputeCertificate, sdkmsg.ActionHeartbeatServerProcess:
		default:
			t.Errorf("unexpected backend call %s", c.Action)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t, sdkws.Options{})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
	tests := []struct {
		err    error
		status int
		msg    string
	}{
		{apierr.New(apierr.NotFound, "no such player session"), 404, "no such player session"},
		{apierr.Invalid("bad id"), 400, "bad id"},
		{apierr.New(apierr.Unauthorized, "nope"), 401, "nope"},
		{apierr.New(apierr.Conflict, "busy"), 409, "busy"},
		{apierr.New(apierr.Throttling, "slow down"), 429, "slow down"},
		{apierr.New(apierr.InvalidGameSessionStatus, "not active"), 400, "not active"},
		{apierr.New(apierr.GameSessionFull, "full"), 400, "full"},
		{fmt.Errorf("wrapped: %w", apierr.New(apierr.NotFound, "deep")), 404, "deep"},
		{apierr.Internal(errors.New("secret detail")), 500, "An internal service error occurred."},
		{errors.New("secret detail"), 500, "An internal service error occurred."},
		{apierr.New("SomeNewException", "secret detail"), 500, "An internal service error occurred."},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.status, "/", tt.msg), func(t *testing.T) {
			e.b.SetError(sdkmsg.ActionAcceptPlayerSession, tt.err)
			id := fmt.Sprintf("req-%d", i)
			send(t, ws, `{"Action":"AcceptPlayerSession","RequestId":"`+id+`","GameSessionId":"g","PlayerSessionId":"psess-1"}`)
			m, raw := recv(t, ws)
			wantStatus(t, m, tt.status)
			if m["ErrorMessage"] != tt.msg || m["RequestId"] != id || m["Action"] != "AcceptPlayerSession" {
				t.Errorf("reply %s", raw)
			}
		})
	}
}

func TestBackendPanicIsAnswered(t *testing.T) {
	e := newEnv(t, sdkws.Options{})
	e.b.SetHook(func(_ *sdkwstest.Backend, c sdkwstest.Call) error {
		if c.Action == sdkmsg.ActionActivateGameSession {
			panic("boom")
		}
		return nil
	})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
	send(t, ws, `{"Action":"ActivateGameSession","RequestId":"p1","GameSessionId":"g"}`)
	m, _ := recv(t, ws)
	wantStatus(t, m, 500)
	send(t, ws, `{"Action":"HeartbeatServerProcess","RequestId":"p2","HealthStatus":true}`)
	m, _ = recv(t, ws)
	wantStatus(t, m, 200)
}

// TestReconnectSamePID: the SDK reconnects with the same query (same token and
// IdempotencyToken) and drops the old socket later without a close frame.
func TestReconnectSamePID(t *testing.T) {
	e := newEnv(t, sdkws.Options{})
	q := fixtureQuery(fixturePID, fixtureToken)
	old := e.dial(q)
	send(t, old, `{"Action":"ActivateServerProcess","RequestId":"a1","Port":7777,"LogPaths":null}`)
	recv(t, old)
	oldConn := e.b.Conn(fixturePID)

	fresh := e.dial(q)
	if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != oldConn }) {
		t.Fatal("reconnect was not attached")
	}
	newConn := e.b.Conn(fixturePID)

	// The old socket may still deliver frames while the SDK drains it.
	send(t, old, `{"Action":"HeartbeatServerProcess","RequestId":"h-old","HealthStatus":true}`)
	if m, _ := recv(t, old); m["RequestId"] != "h-old" {
		t.Errorf("old socket reply %v", m)
	}
	send(t, fresh, `{"Action":"HeartbeatServerProcess","RequestId":"h-new","HealthStatus":true}`)
	if m, _ := recv(t, fresh); m["RequestId"] != "h-new" {
		t.Errorf("new socket reply %v", m)
	}

	old.NetConn().Close()
	detached := func() bool {
		for _, ev := range e.b.Events() {
			if !ev.Attach && ev.Conn == oldConn {
				return true
			}
		}
		return false
	}
	if !e.b.Await(waitLong, detached) {
		t.Fatal("old connection was not detached")
	}
	if e.b.Conn(fixturePID) != newConn {
		t.Error("detaching the old connection replaced the current one")
	}
	if err := oldConn.Push(sdkmsg.TerminateProcess{Action: sdkmsg.PushTerminateProcess}); !errors.Is(err, sdkws.ErrConnClosed) {
		t.Errorf("push to a detached conn: %v, want ErrConnClosed", err)
	}
	attaches := 0
	for _, ev := range e.b.Events() {
		if ev.Attach {
			attaches++
		}
	}
	if attaches != 2 || len(e.b.CallsOf(sdkwstest.ActionAuthenticate)) != 2 {
		t.Errorf("attaches %d, authenticates %d; want 2 and 2", attaches, len(e.b.CallsOf(sdkwstest.ActionAuthenticate)))
	}
}

func TestPushOrderAndReplies(t *testing.T) {
	const n = 200
	e := newEnv(t, sdkws.Options{SendQueue: n + 8})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
	if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != nil }) {
		t.Fatal("not attached")
	}
	c := e.b.Conn(fixturePID)
	for i := range n {
		err := c.Push(sdkmsg.UpdateGameSession{
			Action:       sdkmsg.PushUpdateGameSession,
			UpdateReason: "MATCHMAKING_DATA_UPDATED",
			GameSession:  sdkmsg.GameSession{GameSessionId: fmt.Sprint(i), MaximumPlayerSessionCount: i},
		})
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	send(t, ws, `{"Action":"HeartbeatServerProcess","RequestId":"last","HealthStatus":true}`)
	for i := range n {
		m, raw := recv(t, ws)
		if _, has := m["RequestId"]; has {
			t.Fatalf("push %d carries RequestId: %s", i, raw)
		}
		gs := m["GameSession"].(map[string]any)
		if gs["GameSessionId"] != fmt.Sprint(i) || !isInt(gs["MaximumPlayerSessionCount"]) {
			t.Fatalf("push %d out of order or mistyped: %s", i, raw)
		}
	}
	if m, _ := recv(t, ws); m["RequestId"] != "last" {
		t.Errorf("reply after pushes: %v", m)
	}
	if err := c.Push([]string{"not", "an", "object"}); err == nil {
		t.Error("pushing a JSON array succeeded")
	}
}

func TestFullQueueClosesConnection(t *testing.T) {
	e := newEnv(t, sdkws.Options{SendQueue: 2, WriteTimeout: 300 * time.Millisecond})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
	if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != nil }) {
		t.Fatal("not attached")
	}
	c := e.b.Conn(fixturePID)
	// The client reads nothing, so the socket buffers fill, the writer blocks
	// and the queue overflows.
	big := sdkmsg.CreateGameSession{Action: sdkmsg.PushCreateGameSession, GameSessionData: strings.Repeat("x", 1<<20)}
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = c.Push(big)
	}
	if !errors.Is(err, sdkws.ErrQueueFull) {
		t.Fatalf("push error %v, want ErrQueueFull", err)
	}
	if !e.b.Await(waitLong, func() bool { return e.b.Open() == 0 }) {
		t.Fatal("connection not detached after overflow")
	}
	if err := c.Push(big); !errors.Is(err, sdkws.ErrConnClosed) {
		t.Errorf("push after close: %v, want ErrConnClosed", err)
	}
	// The client sees the connection end once it drains what was buffered.
	_ = ws.SetReadDeadline(time.Now().Add(waitLong))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("client connection still open")
			}
			break
		}
	}
}

func TestPingsKeepAliveAndIdleTimeout(t *testing.T) {
	e := newEnv(t, sdkws.Options{PingInterval: 20 * time.Millisecond})

	// A client that reads answers pings (gorilla does by default), so it stays.
	alive := e.dial(fixtureQuery("alive", fixtureToken))
	var pings atomic.Int32
	def := alive.PingHandler()
	alive.SetPingHandler(func(s string) error { pings.Add(1); return def(s) })
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()

	// A client that never reads never answers, so the read deadline fires.
	e.dial(fixtureQuery("silent", fixtureToken))
	silentGone := func() bool {
		for _, ev := range e.b.Events() {
			if !ev.Attach && ev.ID.ProcessID == "silent" {
				return true
			}
		}
		return false
	}
	if !e.b.Await(waitLong, silentGone) {
		t.Fatal("a peer that never answers pings was not dropped")
	}
	if !eventually(waitLong, func() bool { return pings.Load() >= 10 }) {
		t.Fatalf("only %d pings arrived", pings.Load())
	}
	if e.b.Conn("alive") == nil {
		t.Error("a peer that answers pings was dropped")
	}
}

func TestServerShutdownClosesConnections(t *testing.T) {
	b := sdkwstest.New(fixtureToken)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewUnstartedServer(sdkws.NewHandler(b, sdkws.Options{}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	srv.Start()
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/?"+fixtureQuery(fixturePID, fixtureToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if !b.Await(waitLong, func() bool { return b.Conn(fixturePID) != nil }) {
		t.Fatal("not attached")
	}
	cancel()
	_ = ws.SetReadDeadline(time.Now().Add(waitLong))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseServiceRestart) {
		t.Errorf("read error %v, want close 1012", err)
	}
	if !b.Await(waitLong, func() bool { return b.Open() == 0 }) {
		t.Error("not detached on shutdown")
	}
}

func TestLargeFrames(t *testing.T) {
	t.Run("within limit", func(t *testing.T) {
		e := newEnv(t, sdkws.Options{})
		ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
		paths, _ := json.Marshal([]string{strings.Repeat("p", 1<<20)})
		send(t, ws, `{"Action":"ActivateServerProcess","RequestId":"big","Port":7777,"LogPaths":`+string(paths)+`}`)
		m, _ := recv(t, ws)
		wantStatus(t, m, 200)

		// Pushes far larger than any socket buffer go out whole.
		data := strings.Repeat("d", 1<<20)
		if err := e.b.Conn(fixturePID).Push(sdkmsg.CreateGameSession{Action: sdkmsg.PushCreateGameSession, GameSessionData: data}); err != nil {
			t.Fatal(err)
		}
		m, _ = recv(t, ws)
		if m["GameSessionData"] != data {
			t.Error("large push was altered")
		}
	})
	t.Run("over limit", func(t *testing.T) {
		e := newEnv(t, sdkws.Options{MaxMessageBytes: 1024})
		ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
		send(t, ws, `{"Action":"HeartbeatServerProcess","RequestId":"x","HealthStatus":true,"Pad":"`+strings.Repeat("p", 2048)+`"}`)
		if !e.b.Await(waitLong, func() bool { return e.b.Open() == 0 }) {
			t.Fatal("oversized frame did not close the connection")
		}
		_ = ws.SetReadDeadline(time.Now().Add(waitLong))
		if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Errorf("read error %v, want close 1009", err)
		}
	})
}

func TestCloseEndsConnections(t *testing.T) {
	e := newEnv(t, sdkws.Options{})
	ws := e.dial(fixtureQuery(fixturePID, fixtureToken))
	if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != nil }) {
		t.Fatal("not attached")
	}
	h := e.srv.Config.Handler.(interface{ Close() })
	h.Close()
	// Close returns only after the Backend has been told.
	if e.b.Open() != 0 {
		t.Error("Close returned before Detach")
	}
	_ = ws.SetReadDeadline(time.Now().Add(waitLong))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseServiceRestart) {
		t.Errorf("read error %v, want close 1012", err)
	}
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL(fixtureQuery(fixturePID, fixtureToken)), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v (response %v), want 503", err, resp)
	}
}
