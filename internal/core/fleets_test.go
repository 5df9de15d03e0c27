package core

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
	"github.com/openlift/openlift/internal/store/sqlite"
)

// Shared fixture of the location, fleet, compute and alias tests: a Service
// over a real SQLite store in a temporary directory, driven by a fake clock.

var fxT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const (
	fxRegion   = "us-west-2"
	fxAccount  = "111122223333"
	fxEndpoint = "wss://openlift.test:9443/"
)

type fx struct {
	t   *testing.T
	ctx context.Context
	svc *Service
	clk *clock.Fake
	st  store.Store
}

func newFx(t *testing.T) *fx {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "openlift.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(fxT0)
	svc, err := New(Config{
		Store:       st,
		Clock:       clk,
		Region:      fxRegion,
		AccountID:   fxAccount,
		SDKEndpoint: func() string { return fxEndpoint },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return &fx{t: t, ctx: ctx, svc: svc, clk: clk, st: st}
}

// fxMust(op(...))(t) returns op's result, failing the test on an error.
func fxMust[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantErr checks the wire code and that the client message mentions want
// (the member name, for InvalidRequestException).
func wantErr(t *testing.T, err error, code apierr.Code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s mentioning %q", code, want)
	}
	e := apierr.As(err)
	if e.Code != code {
		t.Fatalf("got %s (%s); want %s", e.Code, e.Message, code)
	}
	if !strings.Contains(e.Message, want) {
		t.Fatalf("message %q does not mention %q", e.Message, want)
	}
}

type errCase struct {
	name string
	call func() error
	code apierr.Code
	want string
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.code
			if code == "" {
				code = apierr.InvalidRequest
			}
			wantErr(t, tc.call(), code, tc.want)
		})
	}
}

// walkPages follows NextToken to the end, failing on a repeated token, and
// returns every item and the number of pages.
func walkPages[T any](t *testing.T, fetch func(next *string) ([]T, *string, error)) ([]T, int) {
	t.Helper()
	var all []T
	seen := map[string]bool{}
	var next *string
	for pages := 1; ; pages++ {
		items, tok, err := fetch(next)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		all = append(all, items...)
		if tok == nil {
			return all, pages
		}
		if *tok == "" {
			t.Fatalf("page %d: empty NextToken instead of none", pages)
		}
		if seen[*tok] {
			t.Fatalf("page %d: NextToken %q repeated", pages, *tok)
		}
		seen[*tok] = true
		next = tok
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
	}
}

func (f *fx) location(name string) {
	f.t.Helper()
	fxMust(f.svc.CreateLocation(f.ctx, &shapes.CreateLocationInput{LocationName: ptr(name)}))(f.t)
}

// fleet creates an Anywhere fleet over the given (existing) locations.
func (f *fx) fleet(locs ...string) model.Fleet {
	f.t.Helper()
	in := &shapes.CreateFleetInput{Name: ptr("fleet"), ComputeType: "ANYWHERE"}
	for _, l := range locs {
		in.Locations = append(in.Locations, shapes.LocationConfiguration{Location: ptr(l)})
	}
	out := fxMust(f.svc.CreateFleet(f.ctx, in))(f.t)
	return f.getFleet(*out.FleetAttributes.FleetId)
}

func (f *fx) getFleet(id string) model.Fleet {
	f.t.Helper()
	var fl model.Fleet
	err := f.st.View(f.ctx, func(tx store.Tx) error {
		var err error
		fl, err = tx.GetFleet(id)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return fl
}

func (f *fx) compute(fleetID, name, loc string) shapes.Compute {
	f.t.Helper()
	out := fxMust(f.svc.RegisterCompute(f.ctx, &shapes.RegisterComputeInput{
		FleetId: ptr(fleetID), ComputeName: ptr(name), IpAddress: ptr("192.0.2.10"), Location: ptr(loc),
	}))(f.t)
	return *out.Compute
}

func (f *fx) update(fn func(tx store.Tx) error) {
	f.t.Helper()
	if err := f.st.Update(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) putProcess(p model.Process) {
	f.t.Helper()
	if p.ActivatedAt.IsZero() {
		p.ActivatedAt = f.clk.Now()
	}
	f.update(func(tx store.Tx) error { return tx.PutProcess(p) })
}

func (f *fx) putGameSession(fl model.Fleet, idString, loc string, st model.GameSessionStatus, cur, maxPlayers int32) model.GameSession {
	f.t.Helper()
	g := model.GameSession{
		ID:                          f.svc.gameSessionArn(fl.ID, idString),
		FleetID:                     fl.ID,
		FleetArn:                    fl.Arn,
		CreationTime:                f.clk.Now(),
		CurrentPlayerSessionCount:   cur,
		MaximumPlayerSessionCount:   maxPlayers,
		Status:                      st,
		PlayerSessionCreationPolicy: model.AcceptAll,
		Location:                    loc,
		ProtectionPolicy:            model.NoProtection,
	}
	f.update(func(tx store.Tx) error { return tx.InsertGameSession(g) })
	return g
}

func (f *fx) events(fleetID string) []shapes.Event {
	f.t.Helper()
	out := fxMust(f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fleetID)}))(f.t)
	return out.Events
}

func eventCodes(events []shapes.Event) []string {
	var codes []string
	for _, e := range events {
		codes = append(codes, e.EventCode)
	}
	return codes
}

// recorder is a connection that keeps what the service pushes.
type recorder struct {
	mu     sync.Mutex
	frames []any
}

func (r *recorder) Push(frame any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, frame)
	return nil
}

func (r *recorder) refreshes() []sdkmsg.RefreshConnection {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sdkmsg.RefreshConnection
	for _, f := range r.frames {
		if rc, ok := f.(sdkmsg.RefreshConnection); ok {
			out = append(out, rc)
		}
	}
	return out
}

func (r *recorder) terminations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.frames {
		if _, ok := f.(sdkmsg.TerminateProcess); ok {
			n++
		}
	}
	return n
}

func (f *fx) attach(pid, fleetID, computeName string) *recorder {
	r := &recorder{}
	f.svc.hub.attach(sdkmsg.Identity{ProcessID: pid, FleetID: fleetID, ComputeName: computeName}, r)
	return r
}

var reFleetIDShape = regexp.MustCompile(`^fleet-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCreateFleetConstraints(t *testing.T) {
	f := newFx(t)
	f.location("custom-home")
	anywhere := func(mod func(in *shapes.CreateFleetInput)) func() error {
		return func() error {
			in := &shapes.CreateFleetInput{
				Name:        ptr("f"),
				ComputeType: "ANYWHERE",
				Locations:   []shapes.LocationConfiguration{{Location: ptr("custom-home")}},
			}
			mod(in)
			_, err := f.svc.CreateFleet(f.ctx, in)
			return err
		}
	}
	many := func(n int, v string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	runErrCases(t, []errCase{
		{"name missing", anywhere(func(in *shapes.CreateFleetInput) { in.Name = nil }), "", "Name"},
		{"name empty", anywhere(func(in *shapes.CreateFleetInput) { in.Name = ptr("") }), "", "Name"},
		{"name too long", anywhere(func(in *shapes.CreateFleetInput) { in.Name = ptr(strings.Repeat("n", 1025)) }), "", "Name"},
		{"description empty", anywhere(func(in *shapes.CreateFleetInput) { in.Description = ptr("") }), "", "Description"},
		{"description too long", anywhere(func(in *shapes.CreateFleetInput) { in.Description = ptr(strings.Repeat("d", 1025)) }), "", "Description"},
		{"compute type absent", anywhere(func(in *shapes.CreateFleetInput) { in.ComputeType = "" }), "", "ANYWHERE"},
		{"compute type EC2", anywhere(func(in *shapes.CreateFleetInput) { in.ComputeType = "EC2" }), "", "only ANYWHERE fleets"},
		{"compute type unknown", anywhere(func(in *shapes.CreateFleetInput) { in.ComputeType = "CONTAINER" }), "", "ComputeType"},
		{"locations absent", anywhere(func(in *shapes.CreateFleetInput) { in.Locations = nil }), "", "Locations"},
		{"locations empty", anywhere(func(in *shapes.CreateFleetInput) { in.Locations = []shapes.LocationConfiguration{} }), "", "Locations"},
		{"locations too many", anywhere(func(in *shapes.CreateFleetInput) {
			in.Locations = make([]shapes.LocationConfiguration, 101)
			for i := range in.Locations {
				in.Locations[i].Location = ptr(fmt.Sprintf("custom-l%d", i))
			}
		}), "", "Locations"},
		{"location missing", anywhere(func(in *shapes.CreateFleetInput) { in.Locations = []shapes.LocationConfiguration{{}} }), "", "Locations[0].Location"},
		{"location bad pattern", anywhere(func(in *shapes.CreateFleetInput) { in.Locations[0].Location = ptr("custom_x") }), "", "Locations[0].Location"},
		{"location too long", anywhere(func(in *shapes.CreateFleetInput) { in.Locations[0].Location = ptr("custom-" + strings.Repeat("x", 58)) }), "", "Locations[0].Location"},
		{"location not custom", anywhere(func(in *shapes.CreateFleetInput) { in.Locations[0].Location = ptr("us-west-2") }), "", "Locations[0].Location"},
		{"location repeated", anywhere(func(in *shapes.CreateFleetInput) { in.Locations = append(in.Locations, in.Locations[0]) }), "", "Locations"},
		{"location unknown", anywhere(func(in *shapes.CreateFleetInput) { in.Locations[0].Location = ptr("custom-nowhere") }), apierr.NotFound, "custom-nowhere"},
		{"cost missing", anywhere(func(in *shapes.CreateFleetInput) { in.AnywhereConfiguration = &shapes.AnywhereConfiguration{} }), "", "AnywhereConfiguration.Cost"},
		{"cost not decimal", anywhere(func(in *shapes.CreateFleetInput) {
			in.AnywhereConfiguration = &shapes.AnywhereConfiguration{Cost: ptr("cheap")}
		}), "", "AnywhereConfiguration.Cost"},
		{"cost too precise", anywhere(func(in *shapes.CreateFleetInput) {
			in.AnywhereConfiguration = &shapes.AnywhereConfiguration{Cost: ptr("1.123456")}
		}), "", "AnywhereConfiguration.Cost"},
		{"protection policy", anywhere(func(in *shapes.CreateFleetInput) { in.NewGameSessionProtectionPolicy = "Partial" }), "", "NewGameSessionProtectionPolicy"},
		{"creation limit negative", anywhere(func(in *shapes.CreateFleetInput) {
			in.ResourceCreationLimitPolicy = &shapes.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(int32(-1))}
		}), "", "ResourceCreationLimitPolicy.NewGameSessionsPerCreator"},
		{"creation period negative", anywhere(func(in *shapes.CreateFleetInput) {
			in.ResourceCreationLimitPolicy = &shapes.ResourceCreationLimitPolicy{PolicyPeriodInMinutes: ptr(int32(-5))}
		}), "", "ResourceCreationLimitPolicy.PolicyPeriodInMinutes"},
		{"metric groups two", anywhere(func(in *shapes.CreateFleetInput) { in.MetricGroups = many(2, "g") }), "", "MetricGroups"},
		{"metric group empty", anywhere(func(in *shapes.CreateFleetInput) { in.MetricGroups = []string{""} }), "", "MetricGroups[0]"},
		{"metric group too long", anywhere(func(in *shapes.CreateFleetInput) { in.MetricGroups = []string{strings.Repeat("g", 256)} }), "", "MetricGroups[0]"},
		{"certificate type missing", anywhere(func(in *shapes.CreateFleetInput) {
			in.CertificateConfiguration = &shapes.CertificateConfiguration{}
		}), "", "CertificateConfiguration.CertificateType"},
		{"certificate type unknown", anywhere(func(in *shapes.CreateFleetInput) {
			in.CertificateConfiguration = &shapes.CertificateConfiguration{CertificateType: "SELF_SIGNED"}
		}), "", "CertificateConfiguration.CertificateType"},
		{"tags too many", anywhere(func(in *shapes.CreateFleetInput) {
			for i := 0; i < 201; i++ {
				in.Tags = append(in.Tags, shapes.Tag{Key: ptr(fmt.Sprint(i)), Value: ptr("v")})
			}
		}), "", "Tags"},
		{"tag key empty", anywhere(func(in *shapes.CreateFleetInput) { in.Tags = []shapes.Tag{{Key: ptr(""), Value: ptr("v")}} }), "", "Tags[0].Key"},
		{"tag value too long", anywhere(func(in *shapes.CreateFleetInput) {
			in.Tags = []shapes.Tag{{Key: ptr("k"), Value: ptr(strings.Repeat("v", 257))}}
		}), "", "Tags[0].Value"},
		{"build id bad pattern", anywhere(func(in *shapes.CreateFleetInput) { in.BuildId = ptr("bld-1") }), "", "BuildId"},
		{"build id on anywhere", anywhere(func(in *shapes.CreateFleetInput) { in.BuildId = ptr("build-1") }), "", "BuildId is not supported for ANYWHERE"},
		{"script id on anywhere", anywhere(func(in *shapes.CreateFleetInput) { in.ScriptId = ptr("script-1") }), "", "ScriptId"},
		{"instance type on anywhere", anywhere(func(in *shapes.CreateFleetInput) { in.EC2InstanceType = "c5.large" }), "", "EC2InstanceType"},
		{"fleet type unknown", anywhere(func(in *shapes.CreateFleetInput) { in.FleetType = "RESERVED" }), "", "FleetType"},
		{"launch path bad", anywhere(func(in *shapes.CreateFleetInput) { in.ServerLaunchPath = ptr("/game/$HOME") }), "", "ServerLaunchPath"},
		{"inbound permission port", anywhere(func(in *shapes.CreateFleetInput) {
			in.EC2InboundPermissions = []shapes.IpPermission{{FromPort: ptr(int32(0)), ToPort: ptr(int32(10)), IpRange: ptr("0.0.0.0/0"), Protocol: "TCP"}}
		}), "", "EC2InboundPermissions[0].FromPort"},
		{"player gateway required", anywhere(func(in *shapes.CreateFleetInput) { in.PlayerGatewayMode = "REQUIRED" }), "", "PlayerGatewayMode"},
		{"player gateway unknown", anywhere(func(in *shapes.CreateFleetInput) { in.PlayerGatewayMode = "ON" }), "", "PlayerGatewayMode"},
		{"activation timeout", anywhere(func(in *shapes.CreateFleetInput) {
			in.RuntimeConfiguration = &shapes.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: ptr(int32(601))}
		}), "", "RuntimeConfiguration.GameSessionActivationTimeoutSeconds"},
		{"server processes over 50", anywhere(func(in *shapes.CreateFleetInput) {
			in.RuntimeConfiguration = &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{
				{LaunchPath: ptr("/local/game/a"), ConcurrentExecutions: ptr(int32(30))},
				{LaunchPath: ptr("/local/game/b"), ConcurrentExecutions: ptr(int32(21))},
			}}
		}), "", "RuntimeConfiguration.ServerProcesses"},
		{"server process launch path missing", anywhere(func(in *shapes.CreateFleetInput) {
			in.RuntimeConfiguration = &shapes.RuntimeConfiguration{ServerProcesses: []shapes.ServerProcess{{ConcurrentExecutions: ptr(int32(1))}}}
		}), "", "RuntimeConfiguration.ServerProcesses[0].LaunchPath"},
	})
	// Nothing was created by the failed calls.
	ids := fxMust(f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{}))(t)
	if len(ids.FleetIds) != 0 {
		t.Fatalf("failed CreateFleet calls left fleets behind: %v", ids.FleetIds)
	}
}

func TestCreateFleetAttributes(t *testing.T) {
	f := newFx(t)
	f.location("custom-b")
	f.location("custom-a")
	out := fxMust(f.svc.CreateFleet(f.ctx, &shapes.CreateFleetInput{
		Name:                  ptr("my fleet"),
		Description:           ptr("for testing"),
		ComputeType:           "ANYWHERE",
		Locations:             []shapes.LocationConfiguration{{Location: ptr("custom-b")}, {Location: ptr("custom-a")}},
		AnywhereConfiguration: &shapes.AnywhereConfiguration{Cost: ptr("0.5")},
		Tags:                  []shapes.Tag{{Key: ptr("team"), Value: ptr("core")}},
		RuntimeConfiguration:  &shapes.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: ptr(int32(120))},
	}))(t)
	a := out.FleetAttributes
	if a == nil || a.FleetId == nil || !reFleetIDShape.MatchString(*a.FleetId) {
		t.Fatalf("FleetId = %v; want fleet-<uuid>", a)
	}
	id := *a.FleetId
	checks := []struct {
		name      string
		got, want any
	}{
		{"FleetArn", deref(a.FleetArn), "arn:aws:gamelift:us-west-2:111122223333:fleet/" + id},
		{"Name", deref(a.Name), "my fleet"},
		{"Description", deref(a.Description), "for testing"},
		{"CreationTime", a.CreationTime.Time, fxT0},
		{"TerminationTime", a.TerminationTime, (*shapes.Timestamp)(nil)},
		{"Status", a.Status, "ACTIVE"},
		{"ComputeType", a.ComputeType, "ANYWHERE"},
		{"Cost", deref(a.AnywhereConfiguration.Cost), "0.5"},
		{"NewGameSessionProtectionPolicy", a.NewGameSessionProtectionPolicy, "NoProtection"},
		{"NewGameSessionsPerCreator", deref(a.ResourceCreationLimitPolicy.NewGameSessionsPerCreator), int32(0)},
		{"PolicyPeriodInMinutes", deref(a.ResourceCreationLimitPolicy.PolicyPeriodInMinutes), int32(0)},
		{"MetricGroups", fmt.Sprint(a.MetricGroups), "[default]"},
		{"CertificateType", a.CertificateConfiguration.CertificateType, "DISABLED"},
		{"FleetType", a.FleetType, ""},
		{"InstanceType", a.InstanceType, ""},
		{"BuildId", a.BuildId, (*string)(nil)},
		{"OperatingSystem", a.OperatingSystem, ""},
		{"LocationStates", fmt.Sprint(len(out.LocationStates)), "2"},
		{"LocationStates[0]", deref(out.LocationStates[0].Location) + "/" + out.LocationStates[0].Status, "custom-b/ACTIVE"},
		{"LocationStates[1]", deref(out.LocationStates[1].Location) + "/" + out.LocationStates[1].Status, "custom-a/ACTIVE"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
	stored := f.getFleet(id)
	if stored.Tags["team"] != "core" || stored.GameSessionActivationTimeoutSeconds != 120 {
		t.Errorf("stored fleet = %+v; want tag team=core and activation timeout 120", stored)
	}

	// Creation emits FLEET_CREATED and FLEET_STATE_ACTIVE with distinct ids.
	events := f.events(id)
	codes := eventCodes(events)
	if len(events) != 2 || !containsString(codes, "FLEET_CREATED") || !containsString(codes, "FLEET_STATE_ACTIVE") {
		t.Fatalf("events = %v; want FLEET_CREATED and FLEET_STATE_ACTIVE", codes)
	}
	if deref(events[0].EventId) == deref(events[1].EventId) || deref(events[0].EventId) == "" {
		t.Fatalf("event ids not unique: %q %q", deref(events[0].EventId), deref(events[1].EventId))
	}
	for _, e := range events {
		if deref(e.ResourceId) != id || e.EventTime == nil || !e.EventTime.Time.Equal(fxT0) || deref(e.Message) == "" {
			t.Errorf("event %+v: want ResourceId %s, EventTime %v and a message", e, id, fxT0)
		}
	}

	// Options that are set come back as set.
	out2 := fxMust(f.svc.CreateFleet(f.ctx, &shapes.CreateFleetInput{
		Name:                           ptr("other"),
		ComputeType:                    "ANYWHERE",
		Locations:                      []shapes.LocationConfiguration{{Location: ptr("custom-a")}},
		NewGameSessionProtectionPolicy: "FullProtection",
		ResourceCreationLimitPolicy:    &shapes.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(int32(3)), PolicyPeriodInMinutes: ptr(int32(15))},
		MetricGroups:                   []string{"eu"},
		CertificateConfiguration:       &shapes.CertificateConfiguration{CertificateType: "GENERATED"},
		PlayerGatewayMode:              "DISABLED",
	}))(t)
	b := out2.FleetAttributes
	if b.NewGameSessionProtectionPolicy != "FullProtection" || deref(b.ResourceCreationLimitPolicy.NewGameSessionsPerCreator) != 3 ||
		deref(b.ResourceCreationLimitPolicy.PolicyPeriodInMinutes) != 15 || fmt.Sprint(b.MetricGroups) != "[eu]" ||
		b.CertificateConfiguration.CertificateType != "GENERATED" || b.AnywhereConfiguration != nil {
		t.Fatalf("attributes = %+v; want the requested options", b)
	}
	if *b.FleetId == id {
		t.Fatal("two fleets got the same id")
	}
}

func TestDescribeFleetAttributes(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, f.fleet("custom-a").ID)
	}
	describe := func(in *shapes.DescribeFleetAttributesInput) *shapes.DescribeFleetAttributesOutput {
		t.Helper()
		return fxMust(f.svc.DescribeFleetAttributes(f.ctx, in))(t)
	}

	t.Run("by id and ARN, unknown omitted, repeats once", func(t *testing.T) {
		out := describe(&shapes.DescribeFleetAttributesInput{
			FleetIds: []string{ids[2], "fleet-00000000-0000-0000-0000-000000000000", f.svc.fleetArn(ids[0]), ids[2]},
			Limit:    ptr(int32(1)), // ignored with FleetIds
		})
		if len(out.FleetAttributes) != 2 || *out.FleetAttributes[0].FleetId != ids[2] || *out.FleetAttributes[1].FleetId != ids[0] || out.NextToken != nil {
			t.Fatalf("got %d fleets, token %v; want %s, %s and no token", len(out.FleetAttributes), out.NextToken, ids[2], ids[0])
		}
	})
	t.Run("only unknown ids", func(t *testing.T) {
		out := describe(&shapes.DescribeFleetAttributesInput{FleetIds: []string{"fleet-nope"}})
		if out.FleetAttributes == nil || len(out.FleetAttributes) != 0 {
			t.Fatalf("FleetAttributes = %#v; want an empty, non-nil list", out.FleetAttributes)
		}
	})
	t.Run("all, paginated", func(t *testing.T) {
		all, pages := walkPages(t, func(next *string) ([]shapes.FleetAttributes, *string, error) {
			out, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{Limit: ptr(int32(2)), NextToken: next})
			if err != nil {
				return nil, nil, err
			}
			return out.FleetAttributes, out.NextToken, nil
		})
		if len(all) != 5 || pages != 3 {
			t.Fatalf("got %d fleets in %d pages; want 5 in 3", len(all), pages)
		}
		seen := map[string]bool{}
		for _, a := range all {
			seen[*a.FleetId] = true
		}
		if len(seen) != 5 {
			t.Fatalf("pages repeated fleets: %v", seen)
		}
	})
	t.Run("terminated visible by id only", func(t *testing.T) {
		f.clk.Advance(time.Minute)
		fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(ids[4])}))(t)
		out := describe(&shapes.DescribeFleetAttributesInput{FleetIds: []string{ids[4]}})
		if len(out.FleetAttributes) != 1 || out.FleetAttributes[0].Status != "TERMINATED" ||
			out.FleetAttributes[0].TerminationTime == nil || !out.FleetAttributes[0].TerminationTime.Time.Equal(fxT0.Add(time.Minute)) {
			t.Fatalf("deleted fleet = %+v; want TERMINATED with a TerminationTime", out.FleetAttributes)
		}
		all := describe(&shapes.DescribeFleetAttributesInput{})
		for _, a := range all.FleetAttributes {
			if *a.FleetId == ids[4] {
				t.Fatal("a TERMINATED fleet is listed without FleetIds")
			}
		}
	})

	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("fleet-%d", i)
	}
	runErrCases(t, []errCase{
		{"FleetIds empty", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{FleetIds: []string{}})
			return err
		}, "", "FleetIds"},
		{"FleetIds too many", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{FleetIds: tooMany})
			return err
		}, "", "FleetIds"},
		{"FleetIds bad", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{FleetIds: []string{"alias-1"}})
			return err
		}, "", "FleetIds[0]"},
		{"Limit zero", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{Limit: ptr(int32(0))})
			return err
		}, "", "Limit"},
		{"NextToken empty", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{NextToken: ptr("")})
			return err
		}, "", "NextToken"},
		{"NextToken forged", func() error {
			_, err := f.svc.DescribeFleetAttributes(f.ctx, &shapes.DescribeFleetAttributesInput{NextToken: ptr("not-a-token")})
			return err
		}, "", "NextToken"},
	})
}

func TestListFleets(t *testing.T) {
	f := newFx(t)
	empty := fxMust(f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{}))(t)
	if empty.FleetIds == nil || len(empty.FleetIds) != 0 || empty.NextToken != nil {
		t.Fatalf("empty ListFleets = %#v; want [] and no token", empty)
	}
	f.location("custom-a")
	want := map[string]bool{}
	for i := 0; i < 4; i++ {
		want[f.fleet("custom-a").ID] = true
	}
	gone := f.fleet("custom-a").ID
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(gone)}))(t)

	ids, pages := walkPages(t, func(next *string) ([]string, *string, error) {
		out, err := f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{Limit: ptr(int32(3)), NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return out.FleetIds, out.NextToken, nil
	})
	if len(ids) != 4 || pages != 2 {
		t.Fatalf("got %v in %d pages; want the 4 live fleets in 2", ids, pages)
	}
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("ListFleets returned %s (deleted: %s)", id, gone)
		}
	}
	byBuild := fxMust(f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{BuildId: ptr("build-1234")}))(t)
	byScript := fxMust(f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{ScriptId: ptr("arn:aws:gamelift:us-west-2:1:script/script-1")}))(t)
	if byBuild.FleetIds == nil || len(byBuild.FleetIds) != 0 || len(byScript.FleetIds) != 0 {
		t.Fatalf("build/script filters = %v, %v; want [] (Anywhere fleets have neither)", byBuild.FleetIds, byScript.FleetIds)
	}
	runErrCases(t, []errCase{
		{"BuildId bad", func() error {
			_, err := f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{BuildId: ptr("b-1")})
			return err
		}, "", "BuildId"},
		{"ScriptId bad", func() error {
			_, err := f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{ScriptId: ptr("s 1")})
			return err
		}, "", "ScriptId"},
		{"Limit zero", func() error {
			_, err := f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{Limit: ptr(int32(0))})
			return err
		}, "", "Limit"},
		{"NextToken too long", func() error {
			_, err := f.svc.ListFleets(f.ctx, &shapes.ListFleetsInput{NextToken: ptr(strings.Repeat("t", 1025))})
			return err
		}, "", "NextToken"},
	})
}

func TestUpdateFleetAttributes(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.clk.Advance(time.Hour)

	out := fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{
		FleetId:                        ptr(fl.Arn),
		Name:                           ptr("renamed"),
		NewGameSessionProtectionPolicy: "FullProtection",
		ResourceCreationLimitPolicy:    &shapes.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(int32(2)), PolicyPeriodInMinutes: ptr(int32(10))},
		MetricGroups:                   []string{"blue"},
		AnywhereConfiguration:          &shapes.AnywhereConfiguration{Cost: ptr("12.25")},
	}))(t)
	if deref(out.FleetId) != fl.ID || deref(out.FleetArn) != fl.Arn {
		t.Fatalf("output = %v/%v; want %s/%s", deref(out.FleetId), deref(out.FleetArn), fl.ID, fl.Arn)
	}
	got := f.getFleet(fl.ID)
	if got.Name != "renamed" || got.Description != "" || got.NewGameSessionProtectionPolicy != "FullProtection" ||
		got.ResourceCreationLimitPolicy == nil || *got.ResourceCreationLimitPolicy != (model.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: 2, PolicyPeriodInMinutes: 10}) ||
		fmt.Sprint(got.MetricGroups) != "[blue]" || got.AnywhereCost != "12.25" {
		t.Fatalf("after update: %+v", got)
	}
	codes := eventCodes(f.events(fl.ID))
	if len(codes) != 3 || codes[0] != "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED" {
		t.Fatalf("events = %v; want the protection policy update first (newest)", codes)
	}

	// Only supplied members change; an unchanged policy emits no event.
	fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{
		FleetId: ptr(fl.ID), Description: ptr("now described"), NewGameSessionProtectionPolicy: "FullProtection",
	}))(t)
	got = f.getFleet(fl.ID)
	if got.Name != "renamed" || got.Description != "now described" || got.AnywhereCost != "12.25" || fmt.Sprint(got.MetricGroups) != "[blue]" {
		t.Fatalf("after partial update: %+v", got)
	}
	if n := len(f.events(fl.ID)); n != 3 {
		t.Fatalf("%d events; an unchanged protection policy must not add one", n)
	}
	// A policy of zeros means "no policy".
	fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{
		FleetId: ptr(fl.ID), ResourceCreationLimitPolicy: &shapes.ResourceCreationLimitPolicy{},
	}))(t)
	if p := f.getFleet(fl.ID).ResourceCreationLimitPolicy; p != nil {
		t.Fatalf("zero policy stored as %+v; want none", p)
	}

	runErrCases(t, []errCase{
		{"FleetId missing", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{Name: ptr("x")})
			return err
		}, "", "FleetId"},
		{"FleetId bad", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr("fleet_1")})
			return err
		}, "", "FleetId"},
		{"FleetId unknown", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr("fleet-unknown")})
			return err
		}, apierr.NotFound, "fleet-unknown"},
		{"Name empty", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), Name: ptr("")})
			return err
		}, "", "Name"},
		{"Description too long", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), Description: ptr(strings.Repeat("d", 1025))})
			return err
		}, "", "Description"},
		{"protection policy", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), NewGameSessionProtectionPolicy: "none"})
			return err
		}, "", "NewGameSessionProtectionPolicy"},
		{"metric groups", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), MetricGroups: []string{"a", "b"}})
			return err
		}, "", "MetricGroups"},
		{"creation limit", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID),
				ResourceCreationLimitPolicy: &shapes.ResourceCreationLimitPolicy{PolicyPeriodInMinutes: ptr(int32(-1))}})
			return err
		}, "", "ResourceCreationLimitPolicy.PolicyPeriodInMinutes"},
		{"cost", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID),
				AnywhereConfiguration: &shapes.AnywhereConfiguration{Cost: ptr("123456")}})
			return err
		}, "", "AnywhereConfiguration.Cost"},
	})
}

func TestDeleteFleet(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	conn := f.attach("proc-1", fl.ID, "host-1")
	f.putProcess(model.Process{ID: "proc-1", FleetID: fl.ID, ComputeName: "host-1", Location: "custom-a", Port: 7777, Status: model.ProcessActive})

	for _, st := range []model.GameSessionStatus{model.GameSessionActivating, model.GameSessionActive, model.GameSessionTerminating} {
		t.Run("refused with "+string(st)+" game session", func(t *testing.T) {
			g := f.putGameSession(fl, "gs-"+string(st), "custom-a", st, 0, 4)
			_, err := f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)})
			wantErr(t, err, apierr.InvalidFleetStatus, "game sessions")
			if got := f.getFleet(fl.ID).Status; got != model.FleetActive {
				t.Fatalf("refused delete left the fleet %s", got)
			}
			g.Status = model.GameSessionTerminated
			f.update(func(tx store.Tx) error { return tx.PutGameSession(g) })
		})
	}

	f.clk.Advance(time.Minute)
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.Arn)}))(t)
	got := f.getFleet(fl.ID)
	if got.Status != model.FleetTerminated || !got.TerminationTime.Equal(fxT0.Add(time.Minute)) {
		t.Fatalf("after delete: status %s, terminated %v", got.Status, got.TerminationTime)
	}
	var proc model.Process
	f.update(func(tx store.Tx) error {
		var err error
		proc, err = tx.GetProcess("proc-1")
		return err
	})
	if proc.Status != model.ProcessTerminated {
		t.Fatalf("process is %s after DeleteFleet; want TERMINATED", proc.Status)
	}
	if conn.terminations() != 1 {
		t.Fatalf("connected process was not told to terminate: %v", conn.frames)
	}
	_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")})
	wantErr(t, err, apierr.NotFound, fl.ID)
	if codes := eventCodes(f.events(fl.ID)); codes[0] != "FLEET_DELETED" {
		t.Fatalf("events = %v; want FLEET_DELETED newest", codes)
	}

	runErrCases(t, []errCase{
		{"again", func() error {
			_, err := f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)})
			return err
		}, apierr.NotFound, fl.ID},
		{"unknown", func() error {
			_, err := f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr("fleet-none")})
			return err
		}, apierr.NotFound, "fleet-none"},
		{"FleetId missing", func() error {
			_, err := f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{})
			return err
		}, "", "FleetId"},
		{"FleetId bad", func() error {
			_, err := f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr("arn:aws:gamelift:us-west-2::alias/alias-1")})
			return err
		}, "", "FleetId"},
		{"update deleted", func() error {
			_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), Name: ptr("x")})
			return err
		}, apierr.NotFound, fl.ID},
	})
}

func TestDeleteFleetResumesFromDeleting(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	// A DeleteFleet that failed half-way leaves the fleet DELETING.
	fl.Status = model.FleetDeleting
	f.update(func(tx store.Tx) error { return tx.PutFleet(fl) })
	_, err := f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), Name: ptr("x")})
	wantErr(t, err, apierr.InvalidFleetStatus, "DELETING")
	_, err = f.svc.RegisterCompute(f.ctx, &shapes.RegisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("h"), IpAddress: ptr("10.0.0.1"), Location: ptr("custom-a")})
	wantErr(t, err, apierr.Conflict, "DELETING")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)}))(t)
	if got := f.getFleet(fl.ID).Status; got != model.FleetTerminated {
		t.Fatalf("status %s; want TERMINATED", got)
	}
}

func TestFleetUtilization(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a", "custom-b")
	idle := f.fleet("custom-a")
	for i, p := range []struct {
		loc string
		st  model.ProcessStatus
	}{
		{"custom-a", model.ProcessActive},
		{"custom-a", model.ProcessActive},
		{"custom-b", model.ProcessActive},
		{"custom-a", model.ProcessTerminating},
		{"custom-b", model.ProcessTerminated},
	} {
		f.putProcess(model.Process{ID: fmt.Sprintf("p%d", i), FleetID: fl.ID, ComputeName: "h", Location: p.loc, Port: int32(7000 + i), Status: p.st})
	}
	f.putGameSession(fl, "g1", "custom-a", model.GameSessionActive, 3, 10)
	f.putGameSession(fl, "g2", "custom-b", model.GameSessionActive, 1, 5)
	f.putGameSession(fl, "g3", "custom-a", model.GameSessionActivating, 0, 8)
	f.putGameSession(fl, "g4", "custom-a", model.GameSessionTerminated, 4, 4)
	f.putGameSession(fl, "g5", "custom-b", model.GameSessionTerminating, 2, 6)

	out := fxMust(f.svc.DescribeFleetUtilization(f.ctx, &shapes.DescribeFleetUtilizationInput{FleetIds: []string{fl.ID, idle.Arn, "fleet-unknown"}}))(t)
	if len(out.FleetUtilization) != 2 || out.NextToken != nil {
		t.Fatalf("got %d entries (token %v); want 2", len(out.FleetUtilization), out.NextToken)
	}
	u := out.FleetUtilization[0]
	if got := fmt.Sprintf("%s %s %s p%d g%d c%d m%d", deref(u.FleetId), deref(u.FleetArn), deref(u.Location),
		deref(u.ActiveServerProcessCount), deref(u.ActiveGameSessionCount), deref(u.CurrentPlayerSessionCount), deref(u.MaximumPlayerSessionCount)); got !=
		fmt.Sprintf("%s %s us-west-2 p3 g2 c4 m15", fl.ID, fl.Arn) {
		t.Fatalf("fleet utilization = %s", got)
	}
	z := out.FleetUtilization[1]
	if deref(z.FleetId) != idle.ID || z.ActiveServerProcessCount == nil || *z.ActiveServerProcessCount != 0 || z.MaximumPlayerSessionCount == nil {
		t.Fatalf("idle fleet = %+v; want zeros that are present", z)
	}

	all, _ := walkPages(t, func(next *string) ([]shapes.FleetUtilization, *string, error) {
		out, err := f.svc.DescribeFleetUtilization(f.ctx, &shapes.DescribeFleetUtilizationInput{Limit: ptr(int32(1)), NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return out.FleetUtilization, out.NextToken, nil
	})
	if len(all) != 2 {
		t.Fatalf("paged utilization has %d entries; want 2", len(all))
	}

	loc := fxMust(f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID), Location: ptr("custom-b")}))(t)
	lu := loc.FleetUtilization
	if got := fmt.Sprintf("%s p%d g%d c%d m%d", deref(lu.Location), deref(lu.ActiveServerProcessCount), deref(lu.ActiveGameSessionCount),
		deref(lu.CurrentPlayerSessionCount), deref(lu.MaximumPlayerSessionCount)); got != "custom-b p1 g1 c1 m5" {
		t.Fatalf("custom-b utilization = %s", got)
	}

	runErrCases(t, []errCase{
		{"location not in fleet", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(idle.ID), Location: ptr("custom-b")})
			return err
		}, apierr.NotFound, "custom-b"},
		{"home region is not a location", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID), Location: ptr(fxRegion)})
			return err
		}, apierr.NotFound, fxRegion},
		{"fleet unknown", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr("fleet-x"), Location: ptr("custom-a")})
			return err
		}, apierr.NotFound, "fleet-x"},
		{"Location missing", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID)})
			return err
		}, "", "Location"},
		{"Location bad", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID), Location: ptr("custom a")})
			return err
		}, "", "Location"},
		{"FleetId missing", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{Location: ptr("custom-a")})
			return err
		}, "", "FleetId"},
		{"utilization FleetIds bad", func() error {
			_, err := f.svc.DescribeFleetUtilization(f.ctx, &shapes.DescribeFleetUtilizationInput{FleetIds: []string{fl.ID, "x"}})
			return err
		}, "", "FleetIds[1]"},
		{"utilization Limit", func() error {
			_, err := f.svc.DescribeFleetUtilization(f.ctx, &shapes.DescribeFleetUtilizationInput{Limit: ptr(int32(-3))})
			return err
		}, "", "Limit"},
	})
}
