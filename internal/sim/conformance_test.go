package sim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/sim"
)

// The transcript of the official Go server SDK 5.6.0 (shared with sdkws).
const transcriptPath = "../sdkws/testdata/server-sdk-go-5.6.0-transcript.json"

type tFrame struct {
	Seq  int    `json:"seq"`
	Dir  string `json:"dir"`
	Text string `json:"text"`
}

type tRun struct {
	UpgradeRequest struct {
		RawQuery string `json:"raw_query"`
		Path     string `json:"path"`
	} `json:"upgrade_request"`
	Frames []tFrame `json:"frames"`
}

type tFile struct {
	tRun
	Env struct {
		URL     string `json:"GAMELIFT_SDK_WEBSOCKET_URL"`
		Fleet   string `json:"GAMELIFT_SDK_FLEET_ID"`
		Host    string `json:"GAMELIFT_SDK_HOST_ID"`
		Token   string `json:"GAMELIFT_SDK_AUTH_TOKEN"`
		Process string `json:"GAMELIFT_SDK_PROCESS_ID"`
	} `json:"game_server_environment"`
	TCP struct {
		Lines []struct {
			Sent  *string `json:"sent"`
			Reply string  `json:"reply"`
		} `json:"lines"`
	} `json:"sim_tcp_lines"`
	Variant tRun `json:"variant_end_line"`
}

func loadTranscript(t *testing.T) tFile {
	t.Helper()
	data, err := os.ReadFile(transcriptPath)
	if err != nil {
		t.Fatal(err)
	}
	var f tFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// scripted is a bare WebSocket server that plays the service side of a test
// by hand, so the simulator's frames can be compared byte for byte.
type scripted struct {
	t        *testing.T
	srv      *httptest.Server
	conns    chan *scriptConn
	requests chan *http.Request
}

type scriptConn struct {
	ws     *websocket.Conn
	frames chan string
	err    chan error
}

func newScripted(t *testing.T) *scripted {
	s := &scripted{t: t, conns: make(chan *scriptConn, 8), requests: make(chan *http.Request, 8)}
	var up websocket.Upgrader
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &scriptConn{ws: ws, frames: make(chan string, 64), err: make(chan error, 1)}
		s.requests <- r
		s.conns <- c
		go func() {
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					c.err <- err
					close(c.frames)
					return
				}
				c.frames <- string(data)
			}
		}()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

func (s *scripted) accept() (*scriptConn, *http.Request) {
	s.t.Helper()
	select {
	case c := <-s.conns:
		r := <-s.requests
		s.t.Cleanup(func() { c.ws.NetConn().Close() })
		return c, r
	case <-time.After(waitLong):
		s.t.Fatal("the simulator did not connect")
		return nil, nil
	}
}

func (c *scriptConn) next(t *testing.T) string {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			t.Fatalf("connection ended: %v", <-c.err)
		}
		return f
	case <-time.After(waitLong):
		t.Fatal("no frame from the simulator")
		return ""
	}
}

func (c *scriptConn) send(t *testing.T, text string) {
	t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		t.Fatal(err)
	}
}

var requestIDField = regexp.MustCompile(`"RequestId":"([^"]*)"`)

func requestID(frame string) string {
	m := requestIDField.FindStringSubmatch(frame)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestTranscriptConformance plays the service side of both recorded runs
// against the simulator, configured like the recorded game server, and
// requires the simulator's upgrade query, frames and player lines to equal
// what the official SDK and game produced (RequestIds, IdempotencyToken and
// the player port aside).
func TestTranscriptConformance(t *testing.T) {
	tr := loadTranscript(t)
	for _, run := range []struct {
		name string
		run  tRun
		end  bool // the variant ends with the player line "end"
	}{{"main", tr.tRun, false}, {"variant_end_line", tr.Variant, true}} {
		t.Run(run.name, func(t *testing.T) {
			srv := newScripted(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := sim.Start(ctx, sim.Config{
				// The SDK discards a query in the URL; so must the simulator.
				WebSocketURL:      srv.url() + "?stale=1",
				FleetID:           tr.Env.Fleet,
				HostID:            tr.Env.Host,
				AuthToken:         tr.Env.Token,
				ProcessIDs:        []string{tr.Env.Process},
				HeartbeatInterval: time.Hour, // the test sends the second heartbeat itself
				Logger:            testLogger(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			p := s.Processes()[0]
			port := strconv.Itoa(p.Port())
			c, r := srv.accept()

			// Upgrade: same path and the same query, byte for byte, apart
			// from the random IdempotencyToken.
			if r.URL.Path != run.run.UpgradeRequest.Path {
				t.Errorf("path %q, want %q", r.URL.Path, run.run.UpgradeRequest.Path)
			}
			token := r.URL.Query().Get("IdempotencyToken")
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(token) {
				t.Errorf("IdempotencyToken %q is not a UUIDv4", token)
			}
			recordedQ, _ := url.ParseQuery(run.run.UpgradeRequest.RawQuery)
			wantQuery := strings.Replace(run.run.UpgradeRequest.RawQuery,
				"IdempotencyToken="+recordedQ.Get("IdempotencyToken"), "IdempotencyToken="+token, 1)
			if r.URL.RawQuery != wantQuery {
				t.Errorf("query\n got %s\nwant %s", r.URL.RawQuery, wantQuery)
			}

			// Play the frames. Requests must match exactly once the RequestId
			// and the player port are substituted; the replies and pushes are
			// the transcript's, addressed to the simulator's RequestIds.
			recordedPort := portIn(run.run.Frames)
			withPort := func(s string) string {
				return strings.ReplaceAll(s, `"Port":`+recordedPort, `"Port":`+port)
			}
			// The player lines were recorded in the main run only; the
			// variant differs in its port and in the player session's
			// CreationTime, which the service chose.
			linePort, lineTime := portIn(tr.Frames), creationTime(tr.Frames)
			runTime := creationTime(run.run.Frames)
			lineWithPort := func(s string) string {
				s = strings.ReplaceAll(s, `"CreationTime":`+lineTime, `"CreationTime":`+runTime)
				return strings.ReplaceAll(s, `"Port":`+linePort, `"Port":`+port)
			}
			var player *lineClient
			tcp := tr.TCP.Lines
			var lastID, lineWant string
			heartbeats := 0
			for _, f := range run.run.Frames {
				want := withPort(f.Text)
				switch {
				case f.Dir == "sdk->service":
					switch action := actionOf(want); action {
					case "ActivateServerProcess", "ActivateGameSession":
						// The simulator sends these on its own.
					case "HeartbeatServerProcess":
						if heartbeats++; heartbeats > 1 {
							go p.Heartbeat(ctx) //nolint:errcheck // the script answers it
						}
					case "TerminateServerProcess":
						if run.end {
							player.send(t, "end")
							lineWant = "OK end"
						}
					default:
						if player == nil {
							player = dialPlayer(t, p)
							if player.greeting != tcp[0].Reply {
								t.Errorf("greeting %q, want %q", player.greeting, tcp[0].Reply)
							}
							expectLine(t, player, *tcp[1].Sent, lineWithPort(tcp[1].Reply))
							tcp = tcp[2:]
						}
						player.send(t, *tcp[0].Sent)
						lineWant = lineWithPort(tcp[0].Reply)
						tcp = tcp[1:]
					}
					got := c.next(t)
					lastID = requestID(got)
					if norm := strings.Replace(got, lastID, requestID(want), 1); norm != want {
						t.Errorf("seq %d: simulator sent\n %s\nSDK sent\n %s", f.Seq, norm, want)
					}
				case requestID(want) != "":
					c.send(t, strings.Replace(want, requestID(want), lastID, 1))
					if lineWant != "" {
						if got := player.read(t); got != lineWant {
							t.Errorf("player line answered\n %s\nwant\n %s", got, lineWant)
						}
						lineWant = ""
					}
				default:
					if actionOf(want) == "CreateGameSession" {
						waitReady(t, p)
					}
					c.send(t, want)
				}
			}
			if len(tcp) != 0 {
				t.Errorf("player lines not replayed: %d", len(tcp))
			}

			// Like the SDK's Destroy: the TCP connection just ends, with no
			// close frame.
			select {
			case err := <-c.err:
				var ce *websocket.CloseError
				if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
					t.Errorf("simulator sent a close frame (%d); the SDK never does", ce.Code)
				}
			case <-time.After(waitLong):
				t.Fatal("the simulator kept the connection open")
			}
			waitDone(t, p)
			if p.Err() != nil {
				t.Errorf("process error: %v", p.Err())
			}
			if !run.end && p.TerminationTime() != 1795496895177 {
				t.Errorf("TerminationTime = %d", p.TerminationTime())
			}
		})
	}
}

func portIn(frames []tFrame) string {
	var m struct{ Port int }
	_ = json.Unmarshal([]byte(frames[0].Text), &m)
	return strconv.Itoa(m.Port)
}

var creationTimeField = regexp.MustCompile(`"CreationTime":(\d+)`)

func creationTime(frames []tFrame) string {
	for _, f := range frames {
		if m := creationTimeField.FindStringSubmatch(f.Text); m != nil {
			return m[1]
		}
	}
	return ""
}

func actionOf(frame string) string {
	var m struct{ Action string }
	_ = json.Unmarshal([]byte(frame), &m)
	return m.Action
}

type lineClient struct {
	c        net.Conn
	r        *bufio.Reader
	greeting string
}

func dialPlayer(t *testing.T, p *sim.Process) *lineClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), waitLong)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lc := &lineClient{c: c, r: bufio.NewReader(c)}
	lc.greeting = lc.read(t)
	return lc
}

func (lc *lineClient) send(t *testing.T, line string) {
	t.Helper()
	if _, err := lc.c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
}

func (lc *lineClient) read(t *testing.T) string {
	t.Helper()
	_ = lc.c.SetReadDeadline(time.Now().Add(waitLong))
	s, err := lc.r.ReadString('\n')
	if err != nil {
		t.Fatalf("player line: %v (partial %q)", err, s)
	}
	return strings.TrimSuffix(s, "\n")
}

func (lc *lineClient) do(t *testing.T, line string) string {
	t.Helper()
	lc.send(t, line)
	return lc.read(t)
}

func expectLine(t *testing.T, lc *lineClient, send, want string) {
	t.Helper()
	if got := lc.do(t, send); got != want {
		t.Errorf("%q answered\n %s\nwant\n %s", send, got, want)
	}
}

// TestHalfOpenReconnect: after two requests in a row time out with nothing
// received in between, the SDK assumes a half-open socket and reconnects to
// the same URL; so does the simulator.
func TestHalfOpenReconnect(t *testing.T) {
	srv := newScripted(t)
	s, err := sim.Start(t.Context(), sim.Config{
		WebSocketURL:      srv.url(),
		FleetID:           "fleet-1",
		HostID:            "compute-1",
		AuthToken:         "tok",
		HeartbeatInterval: 10 * time.Millisecond,
		HeartbeatJitter:   -1,
		RequestTimeout:    50 * time.Millisecond,
		Logger:            testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { <-s.Done() })
	c, first := srv.accept()
	act := c.next(t)
	c.send(t, `{"Action":"ActivateServerProcess","RequestId":"`+requestID(act)+`","StatusCode":200}`)
	// Heartbeats go unanswered.
	for range 2 {
		if a := actionOf(c.next(t)); a != "HeartbeatServerProcess" {
			t.Fatalf("got %s, want a heartbeat", a)
		}
	}
	c2, second := srv.accept()
	if second.URL.RawQuery != first.URL.RawQuery {
		t.Errorf("reconnect query %s, want the original %s", second.URL.RawQuery, first.URL.RawQuery)
	}
	if a := actionOf(c2.next(t)); a != "HeartbeatServerProcess" {
		t.Errorf("first frame after reconnect is %s; ActivateServerProcess must not be repeated", a)
	}
}
