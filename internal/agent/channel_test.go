package agent

import (
	"encoding/json"
	"net/url"
	"testing"
)

func TestAgentURL(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"http://127.0.0.1:9080", "ws://127.0.0.1:9080/agent"},
		{"http://127.0.0.1:9080/", "ws://127.0.0.1:9080/agent"},
		{"https://gl.example.com/openlift/", "wss://gl.example.com/openlift/agent"},
		{"ws://h:1", "ws://h:1/agent"},
	} {
		got, err := agentURL(tc.endpoint, "fleet-1", "host-1", "a+b/c=")
		if err != nil {
			t.Fatalf("agentURL(%q): %v", tc.endpoint, err)
		}
		u, _ := url.Parse(got)
		q := u.Query()
		u.RawQuery = ""
		if u.String() != tc.want || q.Get("FleetId") != "fleet-1" || q.Get("ComputeName") != "host-1" || q.Get("Authorization") != "a+b/c=" {
			t.Errorf("agentURL(%q) = %s; want %s with FleetId, ComputeName, Authorization", tc.endpoint, got, tc.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:9080", "ftp://h/", "http://"} {
		if _, err := agentURL(bad, "f", "c", "t"); err == nil {
			t.Errorf("agentURL(%q) accepted", bad)
		}
	}
}

func TestRequestFrame(t *testing.T) {
	b, err := requestFrame("AgentHeartbeat", "req-1", struct {
		ProcessIds []string
		Draining   bool `json:",omitempty"`
	}{ProcessIds: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"Action":"AgentHeartbeat","RequestId":"req-1","ProcessIds":["p1"]}` {
		t.Errorf("frame %s", b)
	}
	b, err = requestFrame("X", "req-2", struct{}{})
	if err != nil || string(b) != `{"Action":"X","RequestId":"req-2"}` {
		t.Errorf("empty body: %s, %v", b, err)
	}
	if _, err := requestFrame("X", "r", []int{1}); err == nil {
		t.Error("a non-object body was accepted")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Error(err)
	}
}
