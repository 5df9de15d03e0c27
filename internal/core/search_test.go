package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
)

// searchFleet is an Anywhere fleet with one compute in each of two custom
// locations, on which the tests start game sessions the way a game server
// does: a process activates and heartbeats, CreateGameSession places a
// session on it, and the process activates the session.
type searchFleet struct {
	*env
	loc2  string
	procs int
}

func newSearchFleet(t *testing.T) *searchFleet {
	t.Helper()
	e := newEnv(t)
	f := &searchFleet{env: e, loc2: "custom-search-two"}
	e.loc = "custom-search-one"
	for _, l := range []string{e.loc, f.loc2} {
		must(e.svc.CreateLocation(e.ctx, &shapes.CreateLocationInput{LocationName: ptr(l)}))(t)
	}
	out := must(e.svc.CreateFleet(e.ctx, &shapes.CreateFleetInput{
		Name:        ptr("search"),
		ComputeType: "ANYWHERE",
		Locations:   []shapes.LocationConfiguration{{Location: ptr(e.loc)}, {Location: ptr(f.loc2)}},
	}))(t)
	e.fleet = *out.FleetAttributes.FleetId
	must(e.svc.RegisterCompute(e.ctx, &shapes.RegisterComputeInput{FleetId: &e.fleet, ComputeName: ptr("host-1"), IpAddress: ptr("192.0.2.1"), Location: ptr(e.loc)}))(t)
	must(e.svc.RegisterCompute(e.ctx, &shapes.RegisterComputeInput{FleetId: &e.fleet, ComputeName: ptr("host-2"), IpAddress: ptr("192.0.2.2"), Location: ptr(f.loc2)}))(t)
	return f
}

// start starts a process in loc and places a game session on it; with
// activate the process activates the session, else it stays ACTIVATING. The
// clock moves a second first, so creationTimeMillis differs per session.
func (f *searchFleet) start(loc, name string, maxPlayers int32, props map[string]string, activate bool) (string, sdkmsg.Identity) {
	f.t.Helper()
	f.clk.Advance(time.Second)
	f.procs++
	compute := "host-1"
	if loc == f.loc2 {
		compute = "host-2"
	}
	id := sdkmsg.Identity{ProcessID: fmt.Sprintf("proc-%d", f.procs), FleetID: f.fleet, ComputeName: compute}
	f.svc.Attach(id, &recorder{})
	if err := f.svc.ActivateServerProcess(f.ctx, id, sdkmsg.ActivateServerProcess{Port: 7000 + f.procs, SdkVersion: "5.6.0", SdkLanguage: "Go"}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.HeartbeatServerProcess(f.ctx, id, sdkmsg.HeartbeatServerProcess{HealthStatus: true}); err != nil {
		f.t.Fatal(err)
	}
	in := &shapes.CreateGameSessionInput{FleetId: &f.fleet, Location: &loc, MaximumPlayerSessionCount: &maxPlayers}
	if name != "" {
		in.Name = &name
	}
	for k, v := range props {
		in.GameProperties = append(in.GameProperties, shapes.GameProperty{Key: ptr(k), Value: ptr(v)})
	}
	gs := *must(f.svc.CreateGameSession(f.ctx, in))(f.t).GameSession.GameSessionId
	if activate {
		if err := f.svc.ActivateGameSession(f.ctx, id, sdkmsg.ActivateGameSession{GameSessionId: gs}); err != nil {
			f.t.Fatal(err)
		}
	}
	return gs, id
}

func (f *searchFleet) players(gs string, n int) {
	f.t.Helper()
	for i := range n {
		must(f.svc.CreatePlayerSession(f.ctx, &shapes.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: ptr(fmt.Sprintf("player-%d", i))}))(f.t)
	}
}

// search runs one request and names the sessions returned by their labels.
func (f *searchFleet) search(in *shapes.SearchGameSessionsInput, labels map[string]string) string {
	f.t.Helper()
	if in.FleetId == nil && in.AliasId == nil {
		in.FleetId = &f.fleet
	}
	out := must(f.svc.SearchGameSessions(f.ctx, in))(f.t)
	if out.NextToken != nil {
		f.t.Fatalf("unexpected NextToken for %+v", in)
	}
	got := make([]string, 0, len(out.GameSessions))
	for _, g := range out.GameSessions {
		if g.Status != "ACTIVE" {
			f.t.Errorf("returned %s in status %s", *g.GameSessionId, g.Status)
		}
		l, ok := labels[*g.GameSessionId]
		if !ok {
			l = "?" + *g.GameSessionId
		}
		got = append(got, l)
	}
	return strings.Join(got, " ")
}

func TestSearchGameSessions(t *testing.T) {
	f := newSearchFleet(t)
	labels := map[string]string{}
	add := func(label, loc, name string, maxPlayers int32, props map[string]string, players int) string {
		gs, _ := f.start(loc, name, maxPlayers, props, true)
		f.players(gs, players)
		labels[gs] = label
		return gs
	}
	s1 := add("s1", f.loc, "alpha", 10, map[string]string{"mode": "brawl"}, 2)
	s2 := add("s2", f.loc, "beta", 4, map[string]string{"mode": "ctf"}, 4)
	s3 := add("s3", f.loc2, "", 8, map[string]string{"mode": "brawl"}, 0)
	add("s4", f.loc2, "It's", 2, nil, 1)
	// Sessions that are not ACTIVE never appear, even when they match.
	f.start(f.loc, "alpha", 10, map[string]string{"mode": "brawl"}, false)
	ended, endedProc := f.start(f.loc, "alpha", 10, map[string]string{"mode": "brawl"}, true)
	must(f.svc.TerminateGameSession(f.ctx, &shapes.TerminateGameSessionInput{GameSessionId: &ended, TerminationMode: "TRIGGER_ON_PROCESS_TERMINATE"}))(t)
	if err := f.svc.TerminateServerProcess(f.ctx, endedProc); err != nil {
		t.Fatal(err)
	}
	if st := f.gameSession(ended).Status; st != "TERMINATED" {
		t.Fatalf("ended session is %s", st)
	}
	s2Created := f.gameSession(s2).CreationTime.UnixMilli()
	alias := must(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: ptr("search"), RoutingStrategy: &shapes.RoutingStrategy{Type: "SIMPLE", FleetId: &f.fleet}}))(t)

	for _, tc := range []struct {
		name     string
		filter   string
		sort     string
		location string
		viaAlias bool
		want     string
	}{
		{name: "everything in creation order", want: "s1 s2 s3 s4"},
		{name: "by name", filter: `gameSessionName = 'alpha'`, want: "s1"},
		{name: "escaped quote", filter: `gameSessionName = 'It\'s'`, want: "s4"},
		{name: "double quotes", filter: `gameSessionName = "It's"`, want: "s4"},
		{name: "has room", filter: `hasAvailablePlayerSessions = true`, want: "s1 s3 s4"},
		{name: "doc example", filter: `maximumSessions>=8 AND hasAvailablePlayerSessions=true`, want: "s1 s3"},
		{name: "property and number", filter: `gameSessionProperties.mode = 'brawl' AND playerSessionCount < 1`, want: "s3"},
		{name: "missing property", filter: `gameSessionProperties.mode <> 'brawl'`, want: "s2"},
		{name: "NOT includes missing", filter: `NOT gameSessionProperties.mode = 'brawl'`, want: "s2 s4"},
		{name: "precedence", filter: `gameSessionName = 'beta' OR gameSessionName = 'alpha' AND maximumSessions = 4`, want: "s2"},
		{name: "creation time", filter: fmt.Sprintf(`creationTimeMillis > %d`, s2Created), want: "s3 s4"},
		{name: "id", filter: `gameSessionId = '` + s3 + `'`, want: "s3"},
		{name: "name ascending, unnamed last", sort: `gameSessionName ASC`, want: "s4 s1 s2 s3"},
		{name: "name descending, unnamed last", sort: `gameSessionName DESC`, want: "s2 s1 s4 s3"},
		{name: "players descending", sort: `playerSessionCount DESC`, want: "s2 s1 s4 s3"},
		{name: "property, missing last", sort: `gameSessionProperties.mode desc`, want: "s2 s1 s3 s4"},
		{name: "filter and sort", filter: `hasAvailablePlayerSessions = true`, sort: `maximumSessions ASC`, want: "s4 s3 s1"},
		{name: "location", location: f.loc2, want: "s3 s4"},
		{name: "location and filter", location: f.loc, filter: `playerSessionCount > 0`, sort: `creationTimeMillis DESC`, want: "s2 s1"},
		{name: "unknown location", location: "custom-elsewhere", want: ""},
		{name: "alias", viaAlias: true, filter: `gameSessionName <> 'beta'`, want: "s1 s4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &shapes.SearchGameSessionsInput{}
			if tc.filter != "" {
				in.FilterExpression = &tc.filter
			}
			if tc.sort != "" {
				in.SortExpression = &tc.sort
			}
			if tc.location != "" {
				in.Location = &tc.location
			}
			if tc.viaAlias {
				in.AliasId = alias.Alias.AliasArn
			}
			if got := f.search(in, labels); got != tc.want {
				t.Errorf("got [%s]; want [%s]", got, tc.want)
			}
		})
	}

	// The sessions come back whole.
	out := must(f.svc.SearchGameSessions(f.ctx, &shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr(`gameSessionName = 'alpha'`)}))(t)
	if len(out.GameSessions) != 1 {
		t.Fatalf("%d sessions", len(out.GameSessions))
	}
	g := out.GameSessions[0]
	if *g.GameSessionId != s1 || *g.Name != "alpha" || *g.CurrentPlayerSessionCount != 2 || *g.MaximumPlayerSessionCount != 10 ||
		len(g.GameProperties) != 1 || *g.GameProperties[0].Value != "brawl" || *g.Location != f.loc || *g.FleetId != f.fleet {
		t.Errorf("returned %+v", g)
	}
	// An empty result is an empty list, not an absent one.
	out = must(f.svc.SearchGameSessions(f.ctx, &shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr(`maximumSessions > 100`)}))(t)
	if out.GameSessions == nil || len(out.GameSessions) != 0 || out.NextToken != nil {
		t.Errorf("empty result: %+v", out)
	}
}

func TestSearchGameSessionsErrors(t *testing.T) {
	f := newSearchFleet(t)
	f.start(f.loc, "alpha", 4, nil, true)
	terminal := must(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: ptr("closed"), RoutingStrategy: &shapes.RoutingStrategy{Type: "TERMINAL", Message: ptr("We are closed.")}}))(t)
	long := strings.Repeat("x", 1025)
	for _, tc := range []struct {
		name string
		in   shapes.SearchGameSessionsInput
		code apierr.Code
		msg  string // the whole message when it starts with "=", else a part
	}{
		{"neither fleet nor alias", shapes.SearchGameSessionsInput{}, apierr.InvalidRequest, "FleetId or AliasId"},
		{"fleet and alias", shapes.SearchGameSessionsInput{FleetId: &f.fleet, AliasId: terminal.Alias.AliasId}, apierr.InvalidRequest, "not both"},
		{"malformed fleet", shapes.SearchGameSessionsInput{FleetId: ptr("nope")}, apierr.InvalidRequest, "FleetId"},
		{"malformed location", shapes.SearchGameSessionsInput{FleetId: &f.fleet, Location: ptr("us west")}, apierr.InvalidRequest, "Location"},
		{"empty filter", shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr("")}, apierr.InvalidRequest, "FilterExpression must be 1 to 1024"},
		{"long filter", shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: &long}, apierr.InvalidRequest, "FilterExpression must be 1 to 1024"},
		{"empty sort", shapes.SearchGameSessionsInput{FleetId: &f.fleet, SortExpression: ptr("")}, apierr.InvalidRequest, "SortExpression must be 1 to 1024"},
		{"long sort", shapes.SearchGameSessionsInput{FleetId: &f.fleet, SortExpression: &long}, apierr.InvalidRequest, "SortExpression must be 1 to 1024"},
		{"zero limit", shapes.SearchGameSessionsInput{FleetId: &f.fleet, Limit: ptr(int32(0))}, apierr.InvalidRequest, "Limit must be at least 1"},
		{"empty token", shapes.SearchGameSessionsInput{FleetId: &f.fleet, NextToken: ptr("")}, apierr.InvalidRequest, "NextToken"},
		{"forged token", shapes.SearchGameSessionsInput{FleetId: &f.fleet, NextToken: ptr("bm9wZQ")}, apierr.InvalidRequest, "NextToken"},
		{"filter syntax", shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr(`maximumSessions = 10 AND playerSessionCount AND x = 1`)},
			apierr.InvalidRequest, `=FilterExpression: expected a comparator (=, <>, <, >, <= or >=) at position 45, found "AND"`},
		{"filter type", shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr(`gameSessionProperties.level > 5`)},
			apierr.InvalidRequest, `FilterExpression: expected = or <> at position 29`},
		{"filter whitespace only", shapes.SearchGameSessionsInput{FleetId: &f.fleet, FilterExpression: ptr(` `)},
			apierr.InvalidRequest, `=FilterExpression: expected an operand at position 2, found end of expression`},
		{"sort syntax", shapes.SearchGameSessionsInput{FleetId: &f.fleet, SortExpression: ptr(`maximumSessions UP`)},
			apierr.InvalidRequest, `=SortExpression: expected ASC or DESC at position 17, found "UP"`},
		{"unknown fleet", shapes.SearchGameSessionsInput{FleetId: ptr("fleet-00000000-0000-0000-0000-000000000000")}, apierr.NotFound, "fleet-00000000"},
		{"unknown alias", shapes.SearchGameSessionsInput{AliasId: ptr("alias-00000000-0000-0000-0000-000000000000")}, apierr.NotFound, "alias-00000000"},
		{"terminal alias", shapes.SearchGameSessionsInput{AliasId: terminal.Alias.AliasArn}, apierr.TerminalRoutingStrategy, "We are closed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := f.svc.SearchGameSessions(f.ctx, &in)
			e := apierr.As(err)
			if err == nil || e.Code != tc.code {
				t.Fatalf("got %v; want %s", err, tc.code)
			}
			if whole, ok := strings.CutPrefix(tc.msg, "="); ok {
				if e.Message != whole {
					t.Errorf("message %q; want %q", e.Message, whole)
				}
			} else if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not mention %q", e.Message, tc.msg)
			}
		})
	}
}

func TestSearchGameSessionsPages(t *testing.T) {
	f := newSearchFleet(t)
	const n = 25
	var created []string // oldest first
	for i := range n {
		gs, _ := f.start(f.loc, fmt.Sprintf("game-%02d", i), 10, nil, true)
		created = append(created, gs)
	}
	walk := func(in shapes.SearchGameSessionsInput) ([]string, []int) {
		t.Helper()
		in.FleetId = &f.fleet
		var ids []string
		var sizes []int
		seen := map[string]bool{}
		for {
			out := must(f.svc.SearchGameSessions(f.ctx, &in))(t)
			sizes = append(sizes, len(out.GameSessions))
			for _, g := range out.GameSessions {
				ids = append(ids, *g.GameSessionId)
			}
			if out.NextToken == nil {
				return ids, sizes
			}
			if seen[*out.NextToken] {
				t.Fatalf("NextToken %q repeated", *out.NextToken)
			}
			seen[*out.NextToken] = true
			in.NextToken = out.NextToken
		}
	}
	reversed := make([]string, n)
	for i, id := range created {
		reversed[n-1-i] = id
	}
	withoutThird := append(append([]string(nil), created[:3]...), created[4:]...)
	for _, tc := range []struct {
		name  string
		in    shapes.SearchGameSessionsInput
		want  []string
		sizes string
	}{
		{"default page is 20", shapes.SearchGameSessionsInput{}, created, "20 5"},
		{"Limit above 20 is cut to 20", shapes.SearchGameSessionsInput{Limit: ptr(int32(100))}, created, "20 5"},
		{"Limit 20", shapes.SearchGameSessionsInput{Limit: ptr(int32(20))}, created, "20 5"},
		{"smaller Limit", shapes.SearchGameSessionsInput{Limit: ptr(int32(7))}, created, "7 7 7 4"},
		{"sorted", shapes.SearchGameSessionsInput{SortExpression: ptr("gameSessionName DESC")}, reversed, "20 5"},
		{"sorted by a tie", shapes.SearchGameSessionsInput{SortExpression: ptr("maximumSessions DESC"), Limit: ptr(int32(10))}, created, "10 10 5"},
		{"filtered", shapes.SearchGameSessionsInput{FilterExpression: ptr("maximumSessions = 10 AND gameSessionName <> 'game-03'"), Limit: ptr(int32(24))}, withoutThird, "20 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, sizes := walk(tc.in)
			if got := strings.Trim(fmt.Sprint(sizes), "[]"); got != tc.sizes {
				t.Errorf("page sizes %s; want %s", got, tc.sizes)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("order:\n got %v\nwant %v", ids, tc.want)
			}
		})
	}
}
