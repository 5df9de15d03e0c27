package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/sdkws/sdkwstest"
	"github.com/openlift/openlift/internal/sim"
)

const (
	waitLong = 5 * time.Second
	token    = "tok-1"
	fleet    = "fleet-1a2b3c4d"
	host     = "compute-1"
)

type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testLogger collects logs and prints them only if the test fails.
func testLogger(t *testing.T) *slog.Logger {
	lb := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

func waitReady(t *testing.T, p *sim.Process) {
	t.Helper()
	select {
	case <-p.Ready():
	case <-p.Done():
		t.Fatalf("process %s ended before it was ready: %v", p.ID(), p.Err())
	case <-time.After(waitLong):
		t.Fatalf("process %s not ready", p.ID())
	}
}

func waitDone(t *testing.T, p *sim.Process) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(waitLong):
		t.Fatalf("process %s did not end", p.ID())
	}
}

// service is the sdkws endpoint over a recording backend that behaves like a
// minimal openlift: after a process's first heartbeat it pushes a game
// session, and it describes the player sessions that were accepted.
type service struct {
	b   *sdkwstest.Backend
	srv *httptest.Server

	mu       sync.Mutex
	upgrades []*url.URL
	accepted map[string]sdkmsg.PlayerSession
	pushed   map[string]bool
	noPush   bool
}

func newService(t *testing.T) *service {
	return newServiceWith(t, sdkws.Options{})
}

func newServiceWith(t *testing.T, opts sdkws.Options) *service {
	s := &service{b: sdkwstest.New(token), accepted: map[string]sdkmsg.PlayerSession{}, pushed: map[string]bool{}}
	opts.Logger = testLogger(t)
	h := sdkws.NewHandler(s.b, opts)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		u := *r.URL
		s.upgrades = append(s.upgrades, &u)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	s.b.SetHook(s.hook)
	s.b.SetDescribe(func(req sdkmsg.DescribePlayerSessions) sdkmsg.DescribePlayerSessionsResult {
		s.mu.Lock()
		defer s.mu.Unlock()
		res := sdkmsg.DescribePlayerSessionsResult{}
		if ps, ok := s.accepted[req.PlayerSessionId]; ok {
			res.PlayerSessions = append(res.PlayerSessions, ps)
		}
		return res
	})
	t.Cleanup(func() {
		s.srv.Close()
		if !s.b.Await(waitLong, func() bool { return s.b.Open() == 0 }) {
			t.Errorf("service still has %d connections", s.b.Open())
		}
	})
	return s
}

func gameSessionID(pID string) string {
	return "arn:aws:gamelift:us-west-2::gamesession/" + fleet + "/gsess-" + pID
}

func (s *service) hook(b *sdkwstest.Backend, c sdkwstest.Call) error {
	pID := c.ID.ProcessID
	switch c.Action {
	case sdkmsg.ActionHeartbeatServerProcess:
		s.mu.Lock()
		push := !s.pushed[pID] && !s.noPush
		s.pushed[pID] = true
		s.mu.Unlock()
		if push {
			var port int
			for _, a := range b.CallsOf(sdkmsg.ActionActivateServerProcess) {
				if a.ID.ProcessID == pID {
					port = a.Req.(sdkmsg.ActivateServerProcess).Port
				}
			}
			return b.Conn(pID).Push(sdkmsg.CreateGameSession{
				Action:                    sdkmsg.PushCreateGameSession,
				GameSessionId:             gameSessionID(pID),
				GameSessionName:           "match-" + pID,
				GameSessionData:           `{"map":"dust"}`,
				MaximumPlayerSessionCount: 8,
				Port:                      port,
				IpAddress:                 "127.0.0.1",
				GameProperties:            map[string]string{"mode": "ctf"},
			})
		}
	case sdkmsg.ActionAcceptPlayerSession:
		req := c.Req.(sdkmsg.PlayerSessionRequest)
		s.mu.Lock()
		s.accepted[req.PlayerSessionId] = sdkmsg.PlayerSession{
			PlayerId: "player-1", PlayerSessionId: req.PlayerSessionId, GameSessionId: req.GameSessionId,
			FleetId: fleet, PlayerData: "héllo <&>", CreationTime: 1795496523394, Status: "ACTIVE",
		}
		s.mu.Unlock()
	}
	return nil
}

func (s *service) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + path
}

func (s *service) upgradeQueries() []*url.URL {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*url.URL(nil), s.upgrades...)
}

func (s *service) callsFor(pID, action string) []sdkwstest.Call {
	var out []sdkwstest.Call
	for _, c := range s.b.CallsOf(action) {
		if c.ID.ProcessID == pID {
			out = append(out, c)
		}
	}
	return out
}

func (s *service) config(t *testing.T) sim.Config {
	return sim.Config{
		WebSocketURL:      s.wsURL("/sdk?dropped=yes"),
		FleetID:           fleet,
		HostID:            host,
		AuthToken:         token,
		ProcessIDPrefix:   "proc",
		Count:             1,
		HeartbeatInterval: 20 * time.Millisecond,
		RequestTimeout:    2 * time.Second,
		RetryInterval:     5 * time.Millisecond,
		DialAttempts:      3,
		DrainTimeout:      30 * time.Millisecond,
		Logger:            testLogger(t),
	}
}

// start runs the simulator and, at cleanup, stops it and waits for it.
func start(t *testing.T, cfg sim.Config) (*sim.Sim, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sim.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.Done():
		case <-time.After(waitLong):
			t.Error("simulator did not stop")
		}
	})
	return s, cancel
}

func TestSimEndToEnd(t *testing.T) {
	svc := newService(t)
	cfg := svc.config(t)
	cfg.Count = 3
	var readyMu sync.Mutex
	var readyOrder []string
	cfg.OnReady = func(p *sim.Process) {
		readyMu.Lock()
		readyOrder = append(readyOrder, p.ID())
		readyMu.Unlock()
	}
	s, cancel := start(t, cfg)
	procs := s.Processes()
	for _, p := range procs {
		waitReady(t, p)
	}
	readyMu.Lock()
	if len(readyOrder) != 3 {
		t.Errorf("OnReady called for %v", readyOrder)
	}
	readyMu.Unlock()

	// Every process connected the way the SDK does.
	for i, p := range procs {
		if want := fmt.Sprintf("proc-%d", i+1); p.ID() != want {
			t.Errorf("process %d id %q, want %q", i, p.ID(), want)
		}
		asp := svc.callsFor(p.ID(), sdkmsg.ActionActivateServerProcess)
		if len(asp) != 1 {
			t.Fatalf("%s: %d ActivateServerProcess calls", p.ID(), len(asp))
		}
		want := sdkws.Identity{ProcessID: p.ID(), FleetID: fleet, ComputeName: host, SdkVersion: "5.6.0", SdkLanguage: "Go"}
		if asp[0].ID != want {
			t.Errorf("identity %+v, want %+v", asp[0].ID, want)
		}
		req := asp[0].Req.(sdkmsg.ActivateServerProcess)
		if req.Port != p.Port() || req.SdkVersion != "5.6.0" || req.SdkLanguage != "Go" || !reflect.DeepEqual(req.LogPaths, []string{"logs/" + p.ID() + ".log"}) {
			t.Errorf("ActivateServerProcess %+v", req)
		}
	}
	for _, u := range svc.upgradeQueries() {
		q := u.Query()
		if u.Path != "/sdk" || q.Get("dropped") != "" || u.RawQuery != q.Encode() || len(q) != 7 ||
			q.Get("Authorization") != token || q.Get("FleetId") != fleet || q.Get("ComputeId") != host ||
			q.Get("sdkVersion") != "5.6.0" || q.Get("sdkLanguage") != "Go" || q.Get("IdempotencyToken") == "" {
			t.Errorf("upgrade request %s", u)
		}
	}

	// The pushed game sessions get activated.
	for _, p := range procs {
		if !eventually(waitLong, p.GameSessionActivated) {
			t.Fatalf("%s: game session not activated", p.ID())
		}
		if got := svc.callsFor(p.ID(), sdkmsg.ActionActivateGameSession); len(got) != 1 || got[0].Req.(sdkmsg.ActivateGameSession).GameSessionId != gameSessionID(p.ID()) {
			t.Errorf("%s: ActivateGameSession calls %+v", p.ID(), got)
		}
	}

	// A player talks to proc-1.
	p1 := procs[0]
	pl := dialPlayer(t, p1)
	if pl.greeting != "HELLO openlift-sim 1 proc-1" {
		t.Errorf("greeting %q", pl.greeting)
	}
	line := pl.do(t, "session")
	var gs sdkmsg.GameSession
	if !strings.HasPrefix(line, "OK session ") || json.Unmarshal([]byte(strings.TrimPrefix(line, "OK session ")), &gs) != nil ||
		gs.GameSessionId != gameSessionID("proc-1") || gs.FleetId != fleet || gs.Name != "match-proc-1" || gs.Port != p1.Port() || gs.GameProperties["mode"] != "ctf" {
		t.Errorf("session line %q", line)
	}
	const psess = "psess-11111111-2222-3333-4444-555555555555"
	expectLine(t, pl, psess, "OK accept "+psess)
	expectLine(t, pl, "describe "+psess, `OK describe {"NextToken":"","PlayerSessions":[{"PlayerId":"player-1","PlayerSessionId":"`+psess+
		`","GameSessionId":"`+gameSessionID("proc-1")+`","FleetId":"`+fleet+`","PlayerData":"héllo <&>","IpAddress":"","Port":0,"CreationTime":1795496523394,"TerminationTime":0,"DnsName":"","Status":"ACTIVE"}]}`)
	expectLine(t, pl, "policy DENY_ALL", "OK policy DENY_ALL")
	expectLine(t, pl, "policy ACCEPT_ALL", "OK policy ACCEPT_ALL")
	expectLine(t, pl, "policy MAYBE", "ERR 400 sim: invalid input: policy must be ACCEPT_ALL or DENY_ALL")
	expectLine(t, pl, "bye "+psess, "OK remove "+psess)
	expectLine(t, pl, "accept bad_id", `ERR 400 sim: invalid input: player session id "bad_id" must be 1-256 characters of [a-zA-Z0-9.-]`)
	svc.b.SetError(sdkmsg.ActionAcceptPlayerSession, apierr.New(apierr.NotFound, "player session psess-x\nnot found"))
	expectLine(t, pl, "psess-x", "ERR 404 player session psess-x not found")
	svc.b.SetError(sdkmsg.ActionAcceptPlayerSession, nil)
	expectLine(t, pl, "launch rockets", "ERR 400 unknown command")

	if a := svc.callsFor("proc-1", sdkmsg.ActionAcceptPlayerSession)[0].Req.(sdkmsg.PlayerSessionRequest); a.GameSessionId != gameSessionID("proc-1") || a.PlayerSessionId != psess {
		t.Errorf("AcceptPlayerSession %+v", a)
	}
	var policies []string
	for _, c := range svc.callsFor("proc-1", sdkmsg.ActionUpdatePlayerSessionCreationPolicy) {
		policies = append(policies, c.Req.(sdkmsg.UpdatePlayerSessionCreationPolicy).PlayerSessionPolicy)
	}
	if !reflect.DeepEqual(policies, []string{"DENY_ALL", "ACCEPT_ALL"}) {
		t.Errorf("policies %v", policies)
	}

	// "end" is ProcessEnding and exit.
	expectLine(t, pl, "end", "OK end")
	waitDone(t, p1)
	if n := len(svc.callsFor("proc-1", sdkmsg.ActionTerminateServerProcess)); n != 1 {
		t.Errorf("proc-1 TerminateServerProcess calls: %d", n)
	}
	if p1.Err() != nil {
		t.Errorf("proc-1 error: %v", p1.Err())
	}

	// The others keep heartbeating.
	p2, p3 := procs[1], procs[2]
	hb := len(svc.callsFor(p2.ID(), sdkmsg.ActionHeartbeatServerProcess))
	if !eventually(waitLong, func() bool { return len(svc.callsFor(p2.ID(), sdkmsg.ActionHeartbeatServerProcess)) >= hb+3 }) {
		t.Error("proc-2 stopped heartbeating")
	}

	// TerminateProcess: ProcessEnding and exit, like a game without OnProcessTerminate.
	if err := svc.b.Conn(p2.ID()).Push(sdkmsg.TerminateProcess{Action: sdkmsg.PushTerminateProcess, TerminationTime: 1700000000123}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p2)
	if p2.TerminationTime() != 1700000000123 || len(svc.callsFor(p2.ID(), sdkmsg.ActionTerminateServerProcess)) != 1 {
		t.Errorf("proc-2 termination time %d, TerminateServerProcess calls %d", p2.TerminationTime(), len(svc.callsFor(p2.ID(), sdkmsg.ActionTerminateServerProcess)))
	}

	// UpdateGameSession is stored.
	upd := sdkmsg.UpdateGameSession{
		Action: sdkmsg.PushUpdateGameSession, UpdateReason: "MATCHMAKING_DATA_UPDATED",
		GameSession: sdkmsg.GameSession{GameSessionId: gameSessionID(p3.ID()), MatchmakerData: `{"matchId":"m1"}`, Status: "ACTIVE"},
	}
	if err := svc.b.Conn(p3.ID()).Push(upd); err != nil {
		t.Fatal(err)
	}
	if !eventually(waitLong, func() bool { u, ok := p3.LastUpdate(); return ok && u.UpdateReason == "MATCHMAKING_DATA_UPDATED" }) {
		t.Fatal("UpdateGameSession not stored")
	}
	if gs, _ := p3.GameSession(); gs.MatchmakerData != `{"matchId":"m1"}` {
		t.Errorf("session after update %+v", gs)
	}

	// Stopping the simulator ends proc-3 politely.
	cancel()
	if err := s.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if n := len(svc.callsFor(p3.ID(), sdkmsg.ActionTerminateServerProcess)); n != 1 {
		t.Errorf("proc-3 TerminateServerProcess calls on shutdown: %d", n)
	}
	for _, c := range svc.b.Calls() {
		if c.Action == sdkmsg.ActionActivateServerProcess && c.ID.ProcessID == "" {
			t.Error("call without identity")
		}
	}
}

func TestSimReconnectReusesURL(t *testing.T) {
	svc := newService(t)
	s, _ := start(t, svc.config(t))
	p := s.Processes()[0]
	waitReady(t, p)
	first := svc.b.Conn(p.ID())

	p.DropConnection()
	if !svc.b.Await(waitLong, func() bool { c := svc.b.Conn(p.ID()); return c != nil && c != first }) {
		t.Fatal("no reconnect")
	}
	ups := svc.upgradeQueries()
	if len(ups) != 2 || ups[0].String() != ups[1].String() {
		t.Errorf("reconnect did not reuse the URL (same token and IdempotencyToken): %v", ups)
	}
	if n := len(svc.callsFor(p.ID(), sdkmsg.ActionActivateServerProcess)); n != 1 {
		t.Errorf("ActivateServerProcess sent %d times; the SDK does not repeat it on reconnect", n)
	}
	hb := len(svc.callsFor(p.ID(), sdkmsg.ActionHeartbeatServerProcess))
	if !eventually(waitLong, func() bool { return len(svc.callsFor(p.ID(), sdkmsg.ActionHeartbeatServerProcess)) > hb+2 }) {
		t.Error("no heartbeats after reconnecting")
	}
	if p.Connects() != 2 {
		t.Errorf("Connects = %d", p.Connects())
	}
}

func TestSimRefreshConnection(t *testing.T) {
	svc := newService(t)
	svc.b.AddToken("tok-2")
	s, _ := start(t, svc.config(t))
	p := s.Processes()[0]
	waitReady(t, p)
	old := svc.b.Conn(p.ID())

	err := old.Push(sdkmsg.RefreshConnection{
		Action:                    sdkmsg.PushRefreshConnection,
		RefreshConnectionEndpoint: svc.wsURL("/refreshed?junk=1"),
		AuthToken:                 "tok-2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !svc.b.Await(waitLong, func() bool { c := svc.b.Conn(p.ID()); return c != nil && c != old }) {
		t.Fatal("no connection to the refreshed endpoint")
	}
	ups := svc.upgradeQueries()
	q0, q1 := ups[0].Query(), ups[1].Query()
	if ups[1].Path != "/refreshed" || q1.Get("junk") != "" || q1.Get("Authorization") != "tok-2" ||
		q1.Get("IdempotencyToken") == q0.Get("IdempotencyToken") || q1.Get("pID") != p.ID() {
		t.Errorf("refresh upgrade %s (first was %s)", ups[1], ups[0])
	}
	// The old socket is drained, then dropped.
	oldGone := func() bool {
		for _, e := range svc.b.Events() {
			if !e.Attach && e.Conn == old {
				return true
			}
		}
		return false
	}
	if !svc.b.Await(waitLong, oldGone) {
		t.Fatal("old connection never dropped")
	}
	if svc.b.Conn(p.ID()) == nil {
		t.Fatal("dropping the drained socket lost the new one")
	}

	// Later reconnects go to the refreshed URL.
	cur := svc.b.Conn(p.ID())
	p.DropConnection()
	if !svc.b.Await(waitLong, func() bool { c := svc.b.Conn(p.ID()); return c != nil && c != cur }) {
		t.Fatal("no reconnect after refresh")
	}
	ups = svc.upgradeQueries()
	if ups[2].String() != ups[1].String() {
		t.Errorf("reconnect went to %s, want %s", ups[2], ups[1])
	}
}

func TestSimHeartbeatControl(t *testing.T) {
	svc := newService(t)
	cfg := svc.config(t)
	cfg.HeartbeatInterval = 10 * time.Millisecond
	healthy := false
	var hmu sync.Mutex
	cfg.Healthy = func() bool { hmu.Lock(); defer hmu.Unlock(); return healthy }
	s, _ := start(t, cfg)
	p := s.Processes()[0]
	waitReady(t, p)
	last := func() (int, bool) {
		calls := svc.callsFor(p.ID(), sdkmsg.ActionHeartbeatServerProcess)
		return len(calls), calls[len(calls)-1].Req.(sdkmsg.HeartbeatServerProcess).HealthStatus
	}
	if _, h := last(); h {
		t.Error("Healthy() = false but heartbeat said healthy")
	}
	p.SetHealthy(true)
	if !eventually(waitLong, func() bool { _, h := last(); return h }) {
		t.Error("SetHealthy(true) not reported")
	}

	p.SetHeartbeating(false)
	n, _ := last()
	time.Sleep(100 * time.Millisecond) // ten intervals
	if m, _ := last(); m > n+1 {       // one may have been in flight
		t.Errorf("heartbeats continued while paused: %d -> %d", n, m)
	}
	p.SetHeartbeating(true)
	if !eventually(waitLong, func() bool { m, _ := last(); return m > n+2 }) {
		t.Error("heartbeats did not resume")
	}
}

func TestSimFailures(t *testing.T) {
	t.Run("activation refused", func(t *testing.T) {
		svc := newService(t)
		svc.b.SetError(sdkmsg.ActionActivateServerProcess, apierr.Invalid("port out of range"))
		s, _ := start(t, svc.config(t))
		err := s.Wait()
		var se *sim.StatusError
		if !errors.As(err, &se) || se.StatusCode != 400 || se.Action != sdkmsg.ActionActivateServerProcess || se.Message != "port out of range" {
			t.Fatalf("Wait: %v", err)
		}
		select {
		case <-s.Processes()[0].Ready():
			t.Error("a process that failed to activate reports ready")
		default:
		}
	})
	t.Run("upgrade refused", func(t *testing.T) {
		svc := newService(t)
		cfg := svc.config(t)
		cfg.AuthToken = "wrong"
		s, _ := start(t, cfg)
		err := s.Wait()
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
			t.Fatalf("Wait: %v", err)
		}
		if n := len(svc.b.CallsOf(sdkwstest.ActionAuthenticate)); n != 3 {
			t.Errorf("dial attempts %d, want 3", n)
		}
	})
	t.Run("kill sends nothing", func(t *testing.T) {
		svc := newService(t)
		s, _ := start(t, svc.config(t))
		p := s.Processes()[0]
		waitReady(t, p)
		p.Kill()
		waitDone(t, p)
		if n := len(svc.callsFor(p.ID(), sdkmsg.ActionTerminateServerProcess)); n != 0 {
			t.Errorf("Kill sent TerminateServerProcess %d times", n)
		}
		if !svc.b.Await(waitLong, func() bool { return svc.b.Open() == 0 }) {
			t.Error("killed process still connected")
		}
	})
	t.Run("calls before a game session", func(t *testing.T) {
		svc := newService(t)
		svc.noPush = true
		s, _ := start(t, svc.config(t))
		p := s.Processes()[0]
		waitReady(t, p)
		pl := dialPlayer(t, p)
		expectLine(t, pl, "psess-1", "ERR 400 "+sim.ErrNoGameSession.Error())
		expectLine(t, pl, "session", "ERR 400 "+sim.ErrNoGameSession.Error())
		// Describe needs readiness only, as in the SDK.
		expectLine(t, pl, "describe psess-1", `OK describe {"NextToken":"","PlayerSessions":[]}`)
		if n := len(svc.b.CallsOf(sdkmsg.ActionAcceptPlayerSession)); n != 0 {
			t.Errorf("AcceptPlayerSession reached the service %d times", n)
		}
	})
}

func TestSimEnd(t *testing.T) {
	svc := newService(t)
	s, _ := start(t, svc.config(t))
	p := s.Processes()[0]
	waitReady(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.End(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(svc.callsFor(p.ID(), sdkmsg.ActionTerminateServerProcess)); n != 1 {
		t.Errorf("TerminateServerProcess calls %d", n)
	}
	if err := s.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if err := p.AcceptPlayerSession(ctx, "psess-1"); !errors.Is(err, sim.ErrNotReady) {
		t.Errorf("call after End: %v", err)
	}
}

func TestSimWithholdActivation(t *testing.T) {
	svc := newService(t)
	cfg := svc.config(t)
	cfg.WithholdActivation = true
	s, _ := start(t, cfg)
	p := s.Processes()[0]
	waitReady(t, p)
	if !eventually(waitLong, func() bool { return p.GameSessionID() != "" }) {
		t.Fatal("no game session")
	}
	// Let a few heartbeats pass: an automatic ActivateGameSession would be
	// sent right after the push, long before these.
	hb := len(svc.callsFor(p.ID(), sdkmsg.ActionHeartbeatServerProcess))
	if !eventually(waitLong, func() bool { return len(svc.callsFor(p.ID(), sdkmsg.ActionHeartbeatServerProcess)) > hb+2 }) {
		t.Fatal("no heartbeats")
	}
	if n := len(svc.callsFor(p.ID(), sdkmsg.ActionActivateGameSession)); n != 0 || p.GameSessionActivated() {
		t.Fatalf("game session activated although withheld (%d calls)", n)
	}
	pl := dialPlayer(t, p)
	expectLine(t, pl, "activate", "OK activate "+gameSessionID(p.ID()))
	if n := len(svc.callsFor(p.ID(), sdkmsg.ActionActivateGameSession)); n != 1 || !p.GameSessionActivated() {
		t.Errorf("after activate: %d calls, activated %v", n, p.GameSessionActivated())
	}
}

// TestSimAnswersPings: the SDK's only periodic traffic is a heartbeat a minute,
// so the service's pings, answered by the simulator, are what keeps an idle
// connection open.
func TestSimAnswersPings(t *testing.T) {
	svc := newServiceWith(t, sdkws.Options{PingInterval: 10 * time.Millisecond})
	cfg := svc.config(t)
	cfg.HeartbeatInterval = time.Hour
	s, _ := start(t, cfg)
	p := s.Processes()[0]
	waitReady(t, p)
	time.Sleep(200 * time.Millisecond) // ten idle timeouts without pongs
	if p.Connects() != 1 || len(svc.b.Events()) != 1 {
		t.Errorf("connection was replaced: %d connects, events %+v", p.Connects(), svc.b.Events())
	}
}
