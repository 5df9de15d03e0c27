package sdkws_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/sdkws/sdkwstest"
)

const (
	fixtureToken   = "openlift-fixture-auth-token-0000"
	fixtureFleet   = "fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab"
	fixtureCompute = "compute-1"
	fixturePID     = "proc-fixture-0001"
	sdkUserAgent   = "gamelift-go-sdk/1.0"
	waitLong       = 5 * time.Second
)

// logBuf collects handler logs; they are printed only when a test fails.
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

type env struct {
	t    *testing.T
	b    *sdkwstest.Backend
	srv  *httptest.Server
	logs *logBuf
}

// newEnv starts the handler on 127.0.0.1:0. Cleanup closes the server and
// then waits for every attached connection to be detached, so no handler
// goroutine outlives the test.
func newEnv(t *testing.T, opts sdkws.Options) *env {
	t.Helper()
	e := &env{t: t, b: sdkwstest.New(fixtureToken), logs: &logBuf{}}
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = httptest.NewServer(sdkws.NewHandler(e.b, opts))
	t.Cleanup(func() {
		e.srv.Close()
		if !e.b.Await(waitLong, func() bool { return e.b.Open() == 0 }) {
			t.Errorf("connections still attached after the test: %d", e.b.Open())
		}
		if t.Failed() {
			t.Logf("handler log:\n%s", e.logs.String())
		}
	})
	return e
}

func (e *env) wsURL(rawQuery string) string {
	return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?" + rawQuery
}

func fixtureQuery(pID, token string) string {
	return url.Values{
		"Authorization":    {token},
		"ComputeId":        {fixtureCompute},
		"FleetId":          {fixtureFleet},
		"IdempotencyToken": {"2f1c7a0e-6a8e-4f33-9a55-1b8f3c1d2e4f"},
		"pID":              {pID},
		"sdkLanguage":      {"Go"},
		"sdkVersion":       {"5.6.0"},
	}.Encode()
}

// dial connects like the SDK does; the connection is dropped without a close
// frame at cleanup, as the SDK's Destroy does.
func (e *env) dial(rawQuery string) *websocket.Conn {
	e.t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(rawQuery), http.Header{"User-Agent": {sdkUserAgent}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial: %v (status %d)", err, status)
	}
	e.t.Cleanup(func() { ws.NetConn().Close() })
	return ws
}

func send(t *testing.T, ws *websocket.Conn, frame string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// recv reads one text frame and decodes it keeping numbers exact, so that a
// float where an integer belongs is visible.
func recv(t *testing.T, ws *websocket.Conn) (map[string]any, string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(waitLong))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if mt != websocket.TextMessage {
		t.Fatalf("got frame type %d, want text", mt)
	}
	return decode(t, data), string(data)
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("reply is not a JSON object: %v: %s", err, data)
	}
	return m
}

// isInt reports whether v is a JSON number written as an integer.
func isInt(v any) bool {
	n, ok := v.(json.Number)
	return ok && !strings.ContainsAny(n.String(), ".eE")
}

func wantStatus(t *testing.T, m map[string]any, status int) {
	t.Helper()
	sc, ok := m["StatusCode"]
	if !ok || !isInt(sc) || sc.(json.Number).String() != itoa(status) {
		t.Errorf("StatusCode = %v, want integer %d (reply %v)", sc, status, m)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

type transcript struct {
	UpgradeRequest struct {
		RawQuery       string `json:"raw_query"`
		RawRequestHead string `json:"raw_request_head"`
	} `json:"upgrade_request"`
	Frames  []transcriptFrame `json:"frames"`
	Variant struct {
		UpgradeRequest struct {
			RawQuery string `json:"raw_query"`
		} `json:"upgrade_request"`
		Frames []transcriptFrame `json:"frames"`
	} `json:"variant_end_line"`
}

type transcriptFrame struct {
	Seq  int    `json:"seq"`
	Dir  string `json:"dir"`
	Text string `json:"text"`
}

func loadTranscript(t *testing.T) transcript {
	t.Helper()
	data, err := os.ReadFile("testdata/server-sdk-go-5.6.0-transcript.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr transcript
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// eventually polls cond, for conditions that no backend event signals.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
