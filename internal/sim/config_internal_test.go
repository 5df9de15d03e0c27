package sim

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{WebSocketURL: "ws://127.0.0.1:9080/", FleetID: "fleet-1", HostID: "compute-1", AuthToken: "tok"}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"wss and path", func(c *Config) { c.WebSocketURL = "wss://x.example/prod?a=b" }, ""},
		{"host with slash", func(c *Config) { c.HostID = "task/abc-1" }, ""},
		{"http scheme", func(c *Config) { c.WebSocketURL = "http://127.0.0.1:9080/" }, "scheme must be ws or wss"},
		{"no url", func(c *Config) { c.WebSocketURL = "" }, "WebSocket URL is required"},
		{"host with dot", func(c *Config) { c.HostID = "compute.1" }, "no dots or underscores"},
		{"host with underscore", func(c *Config) { c.HostID = "compute_1" }, "no dots or underscores"},
		{"fleet with underscore", func(c *Config) { c.FleetID = "fleet_1" }, "fleet id"},
		{"no token", func(c *Config) { c.AuthToken = "" }, "auth token"},
		{"duplicate ids", func(c *Config) { c.ProcessIDs = []string{"a", "a"} }, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			_, err := c.withDefaults()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	c := validConfig()
	c.HostID = "a.b"
	if _, err := Start(t.Context(), c); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Start: %v, want ErrInvalidConfig", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := validConfig().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.HeartbeatInterval != 60*time.Second || c.HeartbeatJitter != 10*time.Second || c.RequestTimeout != 20*time.Second ||
		c.ListenHost != "127.0.0.1" || c.DialAttempts != 8 || c.DrainTimeout != 5*time.Second {
		t.Errorf("defaults %+v", c)
	}
	short := validConfig()
	short.HeartbeatInterval = 30 * time.Millisecond
	short.HeartbeatJitter = -1
	if c, _ := short.withDefaults(); c.HeartbeatJitter != 0 {
		t.Errorf("negative jitter gave %v", c.HeartbeatJitter)
	}
	if got := c.logPaths("p-1"); len(got) != 1 || got[0] != "logs/p-1.log" {
		t.Errorf("log paths %v", got)
	}
	for range 100 {
		if d := c.withJitterSample(); d < 50*time.Second || d >= 70*time.Second {
			t.Fatalf("heartbeat wait %v outside 60s±10s", d)
		}
	}
}

// withJitterSample draws one heartbeat wait the way a process does.
func (c Config) withJitterSample() time.Duration {
	return (&Process{cfg: c}).nextHeartbeat()
}

func TestProcessIDs(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f-]{36}$`)
	tests := []struct {
		name string
		cfg  Config
		want []string // "uuid" matches any UUID
	}{
		{"prefix, one", Config{ProcessIDPrefix: "proc"}, []string{"proc"}},
		{"prefix, three", Config{ProcessIDPrefix: "proc", Count: 3}, []string{"proc-1", "proc-2", "proc-3"}},
		{"explicit wins", Config{ProcessIDPrefix: "proc", Count: 3, ProcessIDs: []string{"a", "b"}}, []string{"a", "b"}},
		{"none", Config{Count: 2}, []string{"uuid", "uuid"}},
		{"ManagedResource", Config{ProcessIDs: []string{"ManagedResource"}}, []string{"uuid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.processIDs()
			if len(got) != len(tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
			for i := range got {
				if tt.want[i] == "uuid" && uuidRE.MatchString(got[i]) {
					continue
				}
				if got[i] != tt.want[i] {
					t.Errorf("ids %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		EnvWebSocketURL: "ws://env:1/",
		EnvFleetID:      "fleet-env",
		EnvHostID:       "",
		EnvProcessID:    "env-proc",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c := ApplyEnv(Config{
		WebSocketURL: "ws://flag:1/", FleetID: "fleet-flag", HostID: "host-flag", AuthToken: "tok-flag",
		ProcessIDs: []string{"x"}, Count: 2,
	}, lookup)
	if c.WebSocketURL != "ws://env:1/" || c.FleetID != "fleet-env" {
		t.Errorf("env did not win: %+v", c)
	}
	if c.HostID != "host-flag" || c.AuthToken != "tok-flag" {
		t.Errorf("empty or unset env overrode a flag: %+v", c)
	}
	if ids := c.processIDs(); len(ids) != 2 || ids[0] != "env-proc-1" || ids[1] != "env-proc-2" {
		t.Errorf("ids %v", ids)
	}
}

func TestConnectURL(t *testing.T) {
	got, err := connectURL("ws://h:1/prod?stale=1#frag", "p 1", "fleet-1", "compute-1", "to+k/=")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	want := "Authorization=to%2Bk%2F%3D&ComputeId=compute-1&FleetId=fleet-1&IdempotencyToken=" +
		u.Query().Get("IdempotencyToken") + "&pID=p+1&sdkLanguage=Go&sdkVersion=5.6.0"
	if u.Scheme != "ws" || u.Host != "h:1" || u.Path != "/prod" || u.RawQuery != want || u.Fragment != "" {
		t.Errorf("url %s\nwant query %s", got, want)
	}
	again, _ := connectURL("ws://h:1/prod", "p 1", "fleet-1", "compute-1", "to+k/=")
	if again == got {
		t.Error("IdempotencyToken repeated across Connect calls")
	}
	noTok, _ := connectURL("ws://h:1/", "p", "f", "c", "")
	if strings.Contains(noTok, "Authorization") {
		t.Errorf("empty token still sent: %s", noTok)
	}
}
