package sdkws_test

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/sdkws/sdkwstest"
)

// TestTranscriptReplay replays what the official Go server SDK 5.6.0 sent in
// both recorded runs, over a real socket with the SDK's exact upgrade query,
// and checks that every reply and push equals what the transcript says openlift
// must send.
func TestTranscriptReplay(t *testing.T) {
	tr := loadTranscript(t)
	runs := []struct {
		name     string
		rawQuery string
		frames   []transcriptFrame
	}{
		{"main", tr.UpgradeRequest.RawQuery, tr.Frames},
		{"variant_end_line", tr.Variant.UpgradeRequest.RawQuery, tr.Variant.Frames},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			e := newEnv(t, sdkws.Options{})
			e.b.SetDescribe(describeFromTranscript(t, run.frames))

			ws := e.dial(run.rawQuery)
			var sentActions []string
			for _, f := range run.frames {
				switch {
				case f.Dir == "sdk->service":
					sentActions = append(sentActions, decode(t, []byte(f.Text))["Action"].(string))
					send(t, ws, f.Text)
				case strings.Contains(f.Text, `"RequestId"`):
					got, raw := recv(t, ws)
					want := decode(t, []byte(f.Text))
					if !reflect.DeepEqual(got, want) {
						t.Errorf("seq %d: reply\n got %s\nwant %s", f.Seq, raw, f.Text)
					}
					checkReplyTypes(t, got)
				default:
					// A push: hand the transcript's frame to the process's Conn.
					if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != nil }) {
						t.Fatal("process never attached")
					}
					if err := e.b.Conn(fixturePID).Push(json.RawMessage(f.Text)); err != nil {
						t.Fatalf("seq %d: push: %v", f.Seq, err)
					}
					got, raw := recv(t, ws)
					if _, has := got["RequestId"]; has {
						t.Errorf("seq %d: push carries a RequestId: %s", f.Seq, raw)
					}
					if want := decode(t, []byte(f.Text)); !reflect.DeepEqual(got, want) {
						t.Errorf("seq %d: push\n got %s\nwant %s", f.Seq, raw, f.Text)
					}
				}
			}

			// The SDK ends with Destroy(): TCP close, no close frame.
			ws.NetConn().Close()
			if !e.b.Await(waitLong, func() bool { return e.b.Open() == 0 }) {
				t.Fatal("no Detach after the SDK dropped the socket")
			}

			var gotActions []string
			for _, c := range e.b.Calls() {
				if c.Action != sdkwstest.ActionAuthenticate {
					gotActions = append(gotActions, c.Action)
				}
			}
			if !reflect.DeepEqual(gotActions, sentActions) {
				t.Errorf("backend calls %v, want %v", gotActions, sentActions)
			}
			checkBackendSaw(t, e.b)
			if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
				t.Errorf("a normal SDK session logged warnings or errors:\n%s", logs)
			}
		})
	}
}

// describeFromTranscript answers DescribePlayerSessions with the player
// sessions the transcript's reply carries.
func describeFromTranscript(t *testing.T, frames []transcriptFrame) func(sdkmsg.DescribePlayerSessions) sdkmsg.DescribePlayerSessionsResult {
	t.Helper()
	for _, f := range frames {
		if f.Dir == "service->sdk" && strings.Contains(f.Text, `"PlayerSessions"`) {
			var res sdkmsg.DescribePlayerSessionsResult
			if err := json.Unmarshal([]byte(f.Text), &res); err != nil {
				t.Fatal(err)
			}
			return func(sdkmsg.DescribePlayerSessions) sdkmsg.DescribePlayerSessionsResult { return res }
		}
	}
	t.Fatal("transcript has no DescribePlayerSessions reply")
	return nil
}

func checkReplyTypes(t *testing.T, m map[string]any) {
	t.Helper()
	wantStatus(t, m, 200)
	if _, ok := m["RequestId"].(string); !ok {
		t.Errorf("RequestId is %T, want string", m["RequestId"])
	}
	if ps, ok := m["PlayerSessions"]; ok {
		list, ok := ps.([]any)
		if !ok {
			t.Fatalf("PlayerSessions is %T, want array", ps)
		}
		for _, p := range list {
			p := p.(map[string]any)
			for _, k := range []string{"CreationTime", "TerminationTime", "Port"} {
				if !isInt(p[k]) {
					t.Errorf("PlayerSession.%s = %v, want an integer", k, p[k])
				}
			}
		}
		if _, ok := m["NextToken"].(string); !ok {
			t.Errorf("NextToken is %T, want string", m["NextToken"])
		}
	}
}

func checkBackendSaw(t *testing.T, b *sdkwstest.Backend) {
	t.Helper()
	auth := b.CallsOf(sdkwstest.ActionAuthenticate)
	if len(auth) != 1 || auth[0].ID.FleetID != fixtureFleet || auth[0].ID.ComputeName != fixtureCompute || auth[0].Req != fixtureToken {
		t.Errorf("Authenticate calls = %+v", auth)
	}
	wantID := sdkws.Identity{ProcessID: fixturePID, FleetID: fixtureFleet, ComputeName: fixtureCompute, SdkVersion: "5.6.0", SdkLanguage: "Go"}
	for _, c := range b.Calls() {
		if c.Action != sdkwstest.ActionAuthenticate && c.ID != wantID {
			t.Errorf("%s identity = %+v, want %+v", c.Action, c.ID, wantID)
		}
	}
	asp := b.CallsOf(sdkmsg.ActionActivateServerProcess)[0].Req.(sdkmsg.ActivateServerProcess)
	if asp.SdkVersion != "5.6.0" || asp.SdkLanguage != "Go" || asp.Port == 0 || !reflect.DeepEqual(asp.LogPaths, []string{"logs/proc-fixture-0001.log"}) {
		t.Errorf("ActivateServerProcess = %+v", asp)
	}
	if hb := b.CallsOf(sdkmsg.ActionHeartbeatServerProcess)[0].Req.(sdkmsg.HeartbeatServerProcess); !hb.HealthStatus {
		t.Errorf("heartbeat HealthStatus = false")
	}
	const gsID = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab/gsess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	const psID = "psess-11111111-2222-3333-4444-555555555555"
	if a := b.CallsOf(sdkmsg.ActionActivateGameSession)[0].Req.(sdkmsg.ActivateGameSession); a.GameSessionId != gsID {
		t.Errorf("ActivateGameSession = %+v", a)
	}
	if a := b.CallsOf(sdkmsg.ActionAcceptPlayerSession)[0].Req.(sdkmsg.PlayerSessionRequest); a != (sdkmsg.PlayerSessionRequest{GameSessionId: gsID, PlayerSessionId: psID}) {
		t.Errorf("AcceptPlayerSession = %+v", a)
	}
	if d := b.CallsOf(sdkmsg.ActionDescribePlayerSessions)[0].Req.(sdkmsg.DescribePlayerSessions); d != (sdkmsg.DescribePlayerSessions{PlayerSessionId: psID}) {
		t.Errorf("DescribePlayerSessions = %+v", d)
	}
	var policies []string
	for _, c := range b.CallsOf(sdkmsg.ActionUpdatePlayerSessionCreationPolicy) {
		policies = append(policies, c.Req.(sdkmsg.UpdatePlayerSessionCreationPolicy).PlayerSessionPolicy)
	}
	if !reflect.DeepEqual(policies, []string{"DENY_ALL", "ACCEPT_ALL"}) {
		t.Errorf("policies = %v", policies)
	}
	if n := len(b.CallsOf(sdkmsg.ActionTerminateServerProcess)); n != 1 {
		t.Errorf("TerminateServerProcess calls = %d, want 1", n)
	}
}

// TestTranscriptUpgradeHead sends the SDK's exact request head bytes (only the
// Host differs), so the handler sees precisely what the SDK puts on the wire.
func TestTranscriptUpgradeHead(t *testing.T) {
	tr := loadTranscript(t)
	e := newEnv(t, sdkws.Options{})
	host := strings.TrimPrefix(e.srv.URL, "http://")
	head := strings.Replace(tr.UpgradeRequest.RawRequestHead, "Host: 127.0.0.1:18090", "Host: "+host, 1)
	nc, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(waitLong))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		t.Errorf("server chose subprotocol %q; the SDK offers none", p)
	}
	if x := resp.Header.Get("Sec-WebSocket-Extensions"); x != "" {
		t.Errorf("server negotiated extensions %q", x)
	}
	if !e.b.Await(waitLong, func() bool { return e.b.Conn(fixturePID) != nil }) {
		t.Fatal("no Attach after the upgrade")
	}
}
