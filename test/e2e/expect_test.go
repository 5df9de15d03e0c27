package e2e

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// Expected-state descriptions and the exhaustive checks that use them.

// gsWant describes the game session a response must carry.
type gsWant struct {
	id       string         // exact ID, or ""
	idRE     *regexp.Regexp // when id is ""
	name     string         // "" for absent
	fleetID  string
	fleetArn string
	max, cur int32
	status   string
	reason   string // StatusReason, "" for absent
	// reasonMayLag allows StatusReason to be absent too (TERMINATING: the
	// spec gives the reason for the TERMINATED session).
	reasonMayLag bool
	props        map[string]string
	creator      string // "" for absent
	data         string // GameSessionData, "" for absent
	policy       string
	location     string
	compute      string
	ip           string
	port         int32     // 0: the port is not known yet (ACTIVATING)
	created      time.Time // zero: any sane time since the test began
	ended        bool      // TerminationTime present
}

// checkGameSession asserts every member of gs.
func checkGameSession(t testing.TB, what string, gs *types.GameSession, w gsWant, since time.Time) {
	t.Helper()
	c := check(t, what, gs)
	if w.id != "" {
		c.Eq("GameSessionId", w.id)
	} else {
		c.Match("GameSessionId", w.idRE)
	}
	if w.name == "" {
		c.Absent("Name") // none was given
	} else {
		c.Eq("Name", w.name)
	}
	c.Eq("FleetId", w.fleetID)
	c.Eq("FleetArn", w.fleetArn)
	if w.created.IsZero() {
		c.Time("CreationTime", since, time.Now())
	} else {
		c.TimeEq("CreationTime", w.created)
	}
	if w.ended {
		c.Time("TerminationTime", since, time.Now())
	} else {
		c.Absent("TerminationTime")
	}
	c.Eq("CurrentPlayerSessionCount", w.cur)
	c.Eq("MaximumPlayerSessionCount", w.max)
	c.Eq("Status", w.status)
	switch {
	case w.reason == "":
		c.Absent("StatusReason")
	case w.reasonMayLag:
		c.AbsentOr("StatusReason", w.reason)
	default:
		c.Eq("StatusReason", w.reason)
	}
	c.Custom("GameProperties", func(v any, present bool) {
		got := map[string]string{}
		if present {
			got = props(v.([]types.GameProperty))
			if len(got) != len(v.([]types.GameProperty)) {
				t.Errorf("%s.GameProperties has repeated keys: %v", what, v)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(nonNilMap(w.props)) {
			t.Errorf("%s.GameProperties = %v, want %v", what, got, w.props)
		}
	})
	if w.port == 0 {
		// Connection info is final only once ACTIVE (spec §3.4).
		c.AbsentOr("IpAddress", w.ip)
		c.Custom("Port", func(v any, present bool) {})
	} else {
		c.Eq("IpAddress", w.ip)
		c.Eq("Port", w.port)
	}
	c.Absent("DnsName") // the compute was registered with an IP address only
	c.Eq("PlayerSessionCreationPolicy", w.policy)
	if w.creator == "" {
		c.Absent("CreatorId")
	} else {
		c.Eq("CreatorId", w.creator)
	}
	if w.data == "" {
		c.Absent("GameSessionData")
	} else {
		c.Eq("GameSessionData", w.data)
	}
	c.Absent("MatchmakerData")
	c.Eq("Location", w.location)
	c.Eq("ComputeName", w.compute)
	c.AbsentOr("PlayerGatewayStatus", "DISABLED")
	c.Done()
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// psWant describes the player session a response must carry.
type psWant struct {
	id       string // exact, or "" for any psess-<uuid>
	playerID string
	gsID     string
	fleetID  string
	fleetArn string
	status   string
	data     string // "" for absent
	ip       string
	port     int32
	created  time.Time // zero: any sane time since the test began
	ended    bool
}

func checkPlayerSession(t testing.TB, what string, ps *types.PlayerSession, w psWant, since time.Time) {
	t.Helper()
	c := check(t, what, ps)
	if w.id != "" {
		c.Eq("PlayerSessionId", w.id)
	} else {
		c.Match("PlayerSessionId", rePlayerSessionID)
	}
	c.Eq("PlayerId", w.playerID)
	c.Eq("GameSessionId", w.gsID)
	c.Eq("FleetId", w.fleetID)
	c.Eq("FleetArn", w.fleetArn)
	if w.created.IsZero() {
		c.Time("CreationTime", since, time.Now())
	} else {
		c.TimeEq("CreationTime", w.created)
	}
	if w.ended {
		c.Time("TerminationTime", since, time.Now())
	} else {
		c.Absent("TerminationTime")
	}
	c.Eq("Status", w.status)
	c.Eq("IpAddress", w.ip)
	c.Absent("DnsName")
	c.Eq("Port", w.port)
	if w.data == "" {
		c.Absent("PlayerData")
	} else {
		c.Eq("PlayerData", w.data)
	}
	c.Done()
}

// utilWant is a fleet's (or fleet location's) utilization.
type utilWant struct {
	fleetID, fleetArn, location   string
	procs, sessions, players, max int32
}

func checkUtilization(t testing.TB, what string, u *types.FleetUtilization, w utilWant) {
	t.Helper()
	check(t, what, u).
		Eq("FleetId", w.fleetID).
		Eq("FleetArn", w.fleetArn).
		Eq("ActiveServerProcessCount", w.procs).
		Eq("ActiveGameSessionCount", w.sessions).
		Eq("CurrentPlayerSessionCount", w.players).
		Eq("MaximumPlayerSessionCount", w.max).
		Eq("Location", w.location).
		Done()
}

// ---------------------------------------------------------------------------
// look-ups shared by the tests

func describeGameSession(t testing.TB, c apiClient, id string) *types.GameSession {
	t.Helper()
	out, raw := must[gamelift.DescribeGameSessionsOutput](t, c, &gamelift.DescribeGameSessionsInput{GameSessionId: &id})
	hasList(t, raw, "GameSessions")
	noKey(t, raw, "NextToken")
	if len(out.GameSessions) != 1 {
		t.Fatalf("DescribeGameSessions(GameSessionId %s): %d sessions, want 1", id, len(out.GameSessions))
	}
	return &out.GameSessions[0]
}

func waitGameSession(t testing.TB, c apiClient, id, status string, timeout time.Duration) *types.GameSession {
	t.Helper()
	var gs *types.GameSession
	eventually(t, timeout, 100*time.Millisecond, "game session "+id+" "+status, func() error {
		gs = describeGameSession(t, c, id)
		if string(gs.Status) != status {
			return fmt.Errorf("status %s", gs.Status)
		}
		return nil
	})
	return gs
}

func describePlayerSession(t testing.TB, c apiClient, id string) *types.PlayerSession {
	t.Helper()
	out, raw := must[gamelift.DescribePlayerSessionsOutput](t, c, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: &id})
	hasList(t, raw, "PlayerSessions")
	noKey(t, raw, "NextToken")
	if len(out.PlayerSessions) != 1 {
		t.Fatalf("DescribePlayerSessions(PlayerSessionId %s): %d sessions, want 1", id, len(out.PlayerSessions))
	}
	return &out.PlayerSessions[0]
}

func waitPlayerSession(t testing.TB, c apiClient, id, status string, timeout time.Duration) *types.PlayerSession {
	t.Helper()
	var ps *types.PlayerSession
	eventually(t, timeout, 100*time.Millisecond, "player session "+id+" "+status, func() error {
		ps = describePlayerSession(t, c, id)
		if string(ps.Status) != status {
			return fmt.Errorf("status %s", ps.Status)
		}
		return nil
	})
	return ps
}

// playerSessionsOf returns every player session of a game session, walking
// the pages with Limit limit and checking the paging contract: no token twice,
// none on the last page.
func playerSessionsOf(t testing.TB, c apiClient, gsID, statusFilter string, limit int32) []types.PlayerSession {
	t.Helper()
	var all []types.PlayerSession
	seenTokens := map[string]bool{}
	var next *string
	for page := 0; ; page++ {
		in := &gamelift.DescribePlayerSessionsInput{GameSessionId: &gsID, NextToken: next}
		if limit > 0 {
			in.Limit = &limit
		}
		if statusFilter != "" {
			in.PlayerSessionStatusFilter = &statusFilter
		}
		out, raw := must[gamelift.DescribePlayerSessionsOutput](t, c, in)
		n := hasList(t, raw, "PlayerSessions")
		if limit > 0 && int32(n) > limit {
			t.Errorf("DescribePlayerSessions Limit %d returned %d", limit, n)
		}
		all = append(all, out.PlayerSessions...)
		if out.NextToken == nil {
			break
		}
		if *out.NextToken == "" {
			t.Errorf("DescribePlayerSessions returned an empty NextToken; omit it on the last page")
			break
		}
		if seenTokens[*out.NextToken] {
			t.Fatalf("DescribePlayerSessions returned NextToken %q twice", *out.NextToken)
		}
		seenTokens[*out.NextToken] = true
		if n == 0 {
			t.Errorf("DescribePlayerSessions returned an empty page with a NextToken")
		}
		if page > 1000 {
			t.Fatal("DescribePlayerSessions: too many pages")
		}
		next = out.NextToken
	}
	ids := map[string]bool{}
	for _, p := range all {
		if ids[deref(p.PlayerSessionId)] {
			t.Errorf("DescribePlayerSessions paging returned %s twice", deref(p.PlayerSessionId))
		}
		ids[deref(p.PlayerSessionId)] = true
	}
	return all
}

func utilization(t testing.TB, c apiClient, fleetID string) *types.FleetUtilization {
	t.Helper()
	out, raw := must[gamelift.DescribeFleetUtilizationOutput](t, c, &gamelift.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
	hasList(t, raw, "FleetUtilization")
	noKey(t, raw, "NextToken")
	if len(out.FleetUtilization) != 1 {
		t.Fatalf("DescribeFleetUtilization(%s): %d entries, want 1", fleetID, len(out.FleetUtilization))
	}
	return &out.FleetUtilization[0]
}
