package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const awsCLI = "/usr/bin/aws"

// TestAWSCLI is a smoke test with Debian's AWS CLI, an unmodified botocore
// client speaking AWS JSON 1.1: a fleet, a game session and a player session.
func TestAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skipf("%s is not installed", awsCLI)
	}
	t.Parallel()
	const account = "210987654321"
	srv := startServe(t, t.TempDir(), "127.0.0.1:0", "--account-id", account)

	cfgDir := t.TempDir()
	empty := filepath.Join(cfgDir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+adminAccessKeyID, "AWS_SECRET_ACCESS_KEY="+adminSecret, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"HOME="+cfgDir,
	)
	// aws runs one gamelift command and returns its parsed JSON output, or
	// its exit code and stderr when it fails.
	aws := func(args ...string) (map[string]any, int, string) {
		t.Helper()
		args = append(append([]string{"gamelift"}, args...), "--endpoint-url", srv.URL, "--output", "json")
		cmd := exec.Command(awsCLI, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			return nil, code, stderr.String()
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
		return out, 0, stderr.String()
	}
	mustAWS := func(args ...string) map[string]any {
		t.Helper()
		out, code, stderr := aws(args...)
		if code != 0 {
			t.Fatalf("aws gamelift %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return out
	}
	get := func(m map[string]any, path string) any {
		t.Helper()
		var v any = m
		for _, k := range strings.Split(path, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: %v is not an object", path, v)
			}
			v = obj[k]
		}
		return v
	}
	str := func(m map[string]any, path string) string {
		t.Helper()
		s, _ := get(m, path).(string)
		return s
	}
	eq := func(m map[string]any, path string, want any) {
		t.Helper()
		if got := get(m, path); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	match := func(m map[string]any, path string, re *regexp.Regexp) {
		t.Helper()
		if got := str(m, path); !re.MatchString(got) {
			t.Errorf("%s = %q, want a match of %s", path, got, re)
		}
	}
	// The CLI prints timestamps as ISO 8601; ahead is how far in the future
	// the value should lie.
	timeIn := func(m map[string]any, path string, ahead time.Duration) {
		t.Helper()
		ts, err := time.Parse(time.RFC3339Nano, str(m, path))
		want := time.Now().Add(ahead)
		if err != nil || ts.Before(want.Add(-2*time.Minute)) || ts.After(want.Add(time.Minute)) {
			t.Errorf("%s = %v, want about %v (%v)", path, get(m, path), want, err)
		}
	}
	isTime := func(m map[string]any, path string) { t.Helper(); timeIn(m, path, 0) }

	loc := "custom-cli"
	out := mustAWS("create-location", "--location-name", loc)
	eq(out, "Location.LocationName", loc)
	eq(out, "Location.LocationArn", "arn:aws:gamelift:us-west-2:"+account+":location/"+loc)

	out = mustAWS("create-fleet", "--name", "cli-fleet", "--compute-type", "ANYWHERE", "--locations", "Location="+loc)
	fleetID := str(out, "FleetAttributes.FleetId")
	match(out, "FleetAttributes.FleetId", reFleetID)
	eq(out, "FleetAttributes.FleetArn", "arn:aws:gamelift:us-west-2:"+account+":fleet/"+fleetID)
	eq(out, "FleetAttributes.Name", "cli-fleet")
	eq(out, "FleetAttributes.Status", "ACTIVE")
	eq(out, "FleetAttributes.ComputeType", "ANYWHERE")
	isTime(out, "FleetAttributes.CreationTime")

	out = mustAWS("register-compute", "--fleet-id", fleetID, "--compute-name", "cli-host", "--ip-address", "127.0.0.1", "--location", loc)
	eq(out, "Compute.FleetId", fleetID)
	eq(out, "Compute.ComputeName", "cli-host")
	eq(out, "Compute.IpAddress", "127.0.0.1")
	eq(out, "Compute.Location", loc)
	eq(out, "Compute.ComputeStatus", "ACTIVE")
	isTime(out, "Compute.CreationTime")
	sdkURL := str(out, "Compute.GameLiftServiceSdkEndpoint")
	if !strings.HasPrefix(sdkURL, "ws://"+srv.Addr) {
		t.Errorf("GameLiftServiceSdkEndpoint %q, want ws://%s...", sdkURL, srv.Addr)
	}

	out = mustAWS("get-compute-auth-token", "--fleet-id", fleetID, "--compute-name", "cli-host")
	eq(out, "FleetId", fleetID)
	eq(out, "ComputeName", "cli-host")
	match(out, "AuthToken", reAuthToken)
	timeIn(out, "ExpirationTimestamp", time.Hour)
	token := str(out, "AuthToken")

	sim := startSim(t, simEnv{WebSocketURL: sdkURL, FleetID: fleetID, HostID: "cli-host", AuthToken: token, ProcessID: "cli"}, 1)
	ready := sim.waitReady(t, 1, 30*time.Second)

	// The process is eligible once its first heartbeat is in; until then
	// CreateGameSession may find no capacity.
	var gs map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		var code int
		var stderr string
		gs, code, stderr = aws("create-game-session", "--fleet-id", fleetID, "--location", loc, "--maximum-player-session-count", "2", "--name", "cli-game")
		if code == 0 {
			break
		}
		if !strings.Contains(stderr, "(FleetCapacityExceededException)") || time.Now().After(deadline) {
			t.Fatalf("aws gamelift create-game-session: exit %d\n%s", code, stderr)
		}
		time.Sleep(250 * time.Millisecond)
	}
	gsID := str(gs, "GameSession.GameSessionId")
	match(gs, "GameSession.GameSessionId", gameSessionIDRE(fleetID))
	eq(gs, "GameSession.FleetId", fleetID)
	eq(gs, "GameSession.Name", "cli-game")
	eq(gs, "GameSession.MaximumPlayerSessionCount", 2)
	eq(gs, "GameSession.CurrentPlayerSessionCount", 0)
	eq(gs, "GameSession.Location", loc)
	isTime(gs, "GameSession.CreationTime")

	var desc map[string]any
	deadline = time.Now().Add(20 * time.Second)
	for {
		desc = mustAWS("describe-game-sessions", "--game-session-id", gsID)
		list, _ := desc["GameSessions"].([]any)
		if len(list) != 1 {
			t.Fatalf("describe-game-sessions: %v", desc)
		}
		if list[0].(map[string]any)["Status"] == "ACTIVE" {
			desc = list[0].(map[string]any)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("game session not ACTIVE: %v", list[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
	eq(desc, "IpAddress", "127.0.0.1")
	eq(desc, "Port", strings.TrimPrefix(ready[0].Addr, "127.0.0.1:"))
	eq(desc, "PlayerSessionCreationPolicy", "ACCEPT_ALL")
	// (Debian's CLI, 2.9.19, has a model that predates GameSession.ComputeName
	// and drops it.)

	ps := mustAWS("create-player-session", "--game-session-id", gsID, "--player-id", "cli-player", "--player-data", "hello")
	match(ps, "PlayerSession.PlayerSessionId", rePlayerSessionID)
	eq(ps, "PlayerSession.PlayerId", "cli-player")
	eq(ps, "PlayerSession.GameSessionId", gsID)
	eq(ps, "PlayerSession.FleetId", fleetID)
	eq(ps, "PlayerSession.FleetArn", "arn:aws:gamelift:us-west-2:"+account+":fleet/"+fleetID)
	eq(ps, "PlayerSession.Status", "RESERVED")
	eq(ps, "PlayerSession.IpAddress", "127.0.0.1")
	eq(ps, "PlayerSession.Port", strings.TrimPrefix(ready[0].Addr, "127.0.0.1:"))
	eq(ps, "PlayerSession.PlayerData", "hello")
	isTime(ps, "PlayerSession.CreationTime")

	// The CLI names the typed exception from __type.
	_, code, stderr := aws("describe-alias", "--alias-id", "alias-00000000-0000-0000-0000-000000000000")
	if code == 0 || !strings.Contains(stderr, "An error occurred (NotFoundException) when calling the DescribeAlias operation: ") {
		t.Errorf("describe-alias of an unknown alias: exit %d, stderr %q; want a NotFoundException", code, stderr)
	}
	srv.stop(t)
}
