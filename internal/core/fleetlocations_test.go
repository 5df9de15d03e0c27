package core

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

func locationConfigs(names ...string) []shapes.LocationConfiguration {
	out := make([]shapes.LocationConfiguration, 0, len(names))
	for _, n := range names {
		out = append(out, shapes.LocationConfiguration{Location: ptr(n)})
	}
	return out
}

func locationStateList(states []shapes.LocationState) string {
	var parts []string
	for _, s := range states {
		parts = append(parts, deref(s.Location)+"="+s.Status)
	}
	return strings.Join(parts, " ")
}

func locationAttributeList(attrs []shapes.LocationAttributes) string {
	var parts []string
	for _, a := range attrs {
		if a.LocationState == nil {
			parts = append(parts, "<no LocationState>")
			continue
		}
		parts = append(parts, deref(a.LocationState.Location)+"="+a.LocationState.Status)
	}
	return strings.Join(parts, " ")
}

func countCodes(events []shapes.Event, code string) int {
	n := 0
	for _, e := range events {
		if e.EventCode == code {
			n++
		}
	}
	return n
}

func (f *fx) describeLocations(fleetID string, locs ...string) []shapes.LocationAttributes {
	f.t.Helper()
	out := fxMust(f.svc.DescribeFleetLocationAttributes(f.ctx, &shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fleetID), Locations: locs}))(f.t)
	if deref(out.FleetId) == "" || deref(out.FleetArn) == "" || out.LocationAttributes == nil {
		f.t.Fatalf("DescribeFleetLocationAttributes = %+v; want FleetId, FleetArn and a list", out)
	}
	return out.LocationAttributes
}

func TestCreateFleetLocationsConstraints(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b"} {
		f.location(l)
	}
	fl := f.fleet("custom-a")
	deleting := f.fleet("custom-a")
	f.setFleetStatus(deleting.ID, model.FleetDeleting)
	deleted := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)

	call := func(fleetID *string, locs []shapes.LocationConfiguration) func() error {
		return func() error {
			_, err := f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: fleetID, Locations: locs})
			return err
		}
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("custom-%d", i)
	}
	runErrCases(t, []errCase{
		{"FleetId missing", call(nil, locationConfigs("custom-b")), "", "FleetId is required"},
		{"FleetId pattern", call(ptr("fleet 1"), locationConfigs("custom-b")), "", "FleetId"},
		{"FleetId too long", call(ptr("fleet-"+strings.Repeat("a", 507)), locationConfigs("custom-b")), "", "FleetId must be 1 to 512"},
		{"Locations missing", call(ptr(fl.ID), nil), "", "Locations is required"},
		{"Locations empty", call(ptr(fl.ID), []shapes.LocationConfiguration{}), "", "Locations must contain 1 to 100 items"},
		{"Locations too many", call(ptr(fl.ID), locationConfigs(many...)), "", "Locations must contain 1 to 100 items"},
		{"Location missing", call(ptr(fl.ID), []shapes.LocationConfiguration{{Location: ptr("custom-b")}, {}}), "", "Locations[1].Location is required"},
		{"Location empty", call(ptr(fl.ID), locationConfigs("")), "", "Locations[0].Location must be 1 to 64"},
		{"Location pattern", call(ptr(fl.ID), locationConfigs("custom-b", "custom b")), "", "Locations[1].Location"},
		{"Location too long", call(ptr(fl.ID), locationConfigs("custom-"+strings.Repeat("x", 58))), "", "Locations[0].Location must be 1 to 64"},
		{"AWS Region", call(ptr(fl.ID), locationConfigs("custom-b", "us-east-1")), "", "Locations[1].Location must be a custom location"},
		{"repeated", call(ptr(fl.ID), locationConfigs("custom-b", "custom-b")), "", "Locations lists custom-b more than once"},
		{"fleet unknown", call(ptr("fleet-nope"), locationConfigs("custom-b")), apierr.NotFound, "fleet-nope"},
		{"fleet deleted", call(ptr(deleted.ID), locationConfigs("custom-b")), apierr.NotFound, deleted.ID},
		{"fleet DELETING", call(ptr(deleting.ID), locationConfigs("custom-b")), apierr.InvalidFleetStatus, "DELETING"},
		{"location unknown", call(ptr(fl.ID), locationConfigs("custom-b", "custom-nope")), apierr.NotFound, "custom-nope"},
	})
	// A refused request adds nothing, not even the locations it named first.
	if got := f.getFleet(fl.ID).Locations; !slices.Equal(got, []string{"custom-a"}) {
		t.Fatalf("after refusals the fleet has %v; want [custom-a]", got)
	}
	if n := countCodes(f.events(fl.ID), eventLocationCreated); n != 0 {
		t.Fatalf("refusals recorded %d %s events", n, eventLocationCreated)
	}
}

func TestCreateFleetLocationsLimit(t *testing.T) {
	f := newFx(t)
	var names []string
	for i := range maxFleetLocations + 1 {
		names = append(names, fmt.Sprintf("custom-l%03d", i))
		f.location(names[i])
	}
	fl := f.fleet(names[:60]...)
	fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs(names[60:100]...)}))(t)
	// Locations the fleet has already do not count twice.
	fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs(names[:100]...)}))(t)
	_, err := f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs(names[100])})
	wantErr(t, err, apierr.LimitExceeded, "at most 100")
	if n := len(f.getFleet(fl.ID).Locations); n != maxFleetLocations {
		t.Fatalf("fleet has %d locations; want %d", n, maxFleetLocations)
	}
}

func TestCreateFleetLocations(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		f.location(l)
	}
	fl := f.fleet("custom-a")

	// By ARN, with a location the fleet already has: that one is accepted and
	// left out of the response.
	out := fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.Arn), Locations: locationConfigs("custom-b", "custom-a", "custom-c")}))(t)
	if deref(out.FleetId) != fl.ID || deref(out.FleetArn) != fl.Arn {
		t.Fatalf("FleetId %s FleetArn %s; want %s %s", deref(out.FleetId), deref(out.FleetArn), fl.ID, fl.Arn)
	}
	if got := locationStateList(out.LocationStates); got != "custom-b=ACTIVE custom-c=ACTIVE" {
		t.Fatalf("LocationStates = %s", got)
	}
	if got := f.getFleet(fl.ID).Locations; !slices.Equal(got, []string{"custom-a", "custom-b", "custom-c"}) {
		t.Fatalf("fleet locations = %v", got)
	}
	evs := f.events(fl.ID)
	if countCodes(evs, eventLocationCreated) != 2 || countCodes(evs, eventLocationActive) != 2 {
		t.Fatalf("events = %v; want two %s and two %s", eventCodes(evs), eventLocationCreated, eventLocationActive)
	}
	for _, e := range evs {
		if e.EventCode == eventLocationActive && (deref(e.ResourceId) != fl.ID || !strings.Contains(deref(e.Message), "custom-")) {
			t.Fatalf("event %+v; want the fleet as resource and the location in the message", e)
		}
	}

	// Asking again is a success that adds nothing.
	again := fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs("custom-b")}))(t)
	if again.LocationStates == nil || len(again.LocationStates) != 0 {
		t.Fatalf("repeat LocationStates = %#v; want an empty list", again.LocationStates)
	}
	if n := countCodes(f.events(fl.ID), eventLocationCreated); n != 2 {
		t.Fatalf("repeat recorded events: %d %s", n, eventLocationCreated)
	}

	// A new location is a location like the first: computes register, game
	// sessions start, and every per-location report covers it.
	f.compute(fl.ID, "host-b", "custom-b")
	f.readyProcess(fl.ID, "host-b", "proc-b")
	gs := f.createGameSession(fl.ID, "custom-b")
	if g := f.getGameSession(gs); g.Location != "custom-b" || g.ComputeName != "host-b" {
		t.Fatalf("game session in %s on %s; want custom-b on host-b", g.Location, g.ComputeName)
	}
	capB := fxMust(f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-b")}))(t)
	if got := counts(*capB.FleetCapacity); got != `custom-b desired 1 min 0 max 1 pending 0 active 1 idle 0 terminating 0 type ""` {
		t.Fatalf("custom-b capacity: %s", got)
	}
	capC := fxMust(f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-c")}))(t)
	if got := counts(*capC.FleetCapacity); got != `custom-c desired 0 min 0 max 1 pending 0 active 0 idle 0 terminating 0 type ""` {
		t.Fatalf("custom-c capacity: %s", got)
	}
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		u := fxMust(f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID), Location: ptr(l)}))(t)
		want := int32(0)
		if l == "custom-b" {
			want = 1
		}
		if deref(u.FleetUtilization.Location) != l || deref(u.FleetUtilization.ActiveServerProcessCount) != want {
			t.Fatalf("%s utilization = %+v; want %d active processes", l, u.FleetUtilization, want)
		}
	}
	whole := fxMust(f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{FleetIds: []string{fl.ID}}))(t)
	if got := counts(whole.FleetCapacity[0]); got != `us-west-2 desired 1 min 0 max 3 pending 0 active 1 idle 0 terminating 0 type ""` {
		t.Fatalf("fleet capacity: %s", got)
	}
	if got := locationAttributeList(f.describeLocations(fl.ID)); got != "custom-a=ACTIVE custom-b=ACTIVE custom-c=ACTIVE" {
		t.Fatalf("DescribeFleetLocationAttributes = %s", got)
	}
	// A custom location a fleet uses cannot be deleted.
	_, err := f.svc.DeleteLocation(f.ctx, &shapes.DeleteLocationInput{LocationName: ptr("custom-c")})
	wantErr(t, err, apierr.InvalidRequest, "in use by fleet")
}

func TestDeleteFleetLocationsConstraints(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		f.location(l)
	}
	fl := f.fleet("custom-a", "custom-b")
	deleting := f.fleet("custom-a", "custom-b")
	f.setFleetStatus(deleting.ID, model.FleetDeleting)
	deleted := f.fleet("custom-a", "custom-b")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)

	call := func(fleetID *string, locs ...string) func() error {
		return func() error {
			_, err := f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: fleetID, Locations: locs})
			return err
		}
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("custom-%d", i)
	}
	runErrCases(t, []errCase{
		{"FleetId missing", call(nil, "custom-b"), "", "FleetId is required"},
		{"FleetId pattern", call(ptr("arn:aws:gamelift:us-west-2::alias/alias-1"), "custom-b"), "", "FleetId"},
		{"Locations missing", call(ptr(fl.ID)), "", "Locations is required"},
		{"Locations empty", func() error {
			_, err := f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.ID), Locations: []string{}})
			return err
		}, "", "Locations must contain 1 to 100 items"},
		{"Locations too many", call(ptr(fl.ID), many...), "", "Locations must contain 1 to 100 items"},
		{"Location empty", call(ptr(fl.ID), "custom-b", ""), "", "Locations[1] must be 1 to 64"},
		{"Location pattern", call(ptr(fl.ID), "custom_b"), "", "Locations[0]"},
		{"Location too long", call(ptr(fl.ID), strings.Repeat("x", 65)), "", "Locations[0] must be 1 to 64"},
		{"home Region", call(ptr(fl.ID), "custom-b", fxRegion), "", "Locations[1]: us-west-2 is the fleet's home Region"},
		{"repeated", call(ptr(fl.ID), "custom-b", "custom-b"), "", "Locations lists custom-b more than once"},
		{"not a fleet location", call(ptr(fl.ID), "custom-b", "custom-c"), apierr.NotFound, "Locations[1]: location custom-c is not a location of fleet"},
		{"fleet unknown", call(ptr("fleet-nope"), "custom-b"), apierr.NotFound, "fleet-nope"},
		{"fleet deleted", call(ptr(deleted.ID), "custom-b"), apierr.NotFound, deleted.ID},
		// DeleteFleetLocations models no InvalidFleetStatusException.
		{"fleet DELETING", call(ptr(deleting.ID), "custom-b"), apierr.InvalidRequest, "DELETING"},
	})
	if got := f.getFleet(fl.ID).Locations; !slices.Equal(got, []string{"custom-a", "custom-b"}) {
		t.Fatalf("after refusals the fleet has %v", got)
	}
}

func TestDeleteFleetLocations(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		f.location(l)
	}
	fl := f.fleet("custom-a", "custom-b", "custom-c")
	f.compute(fl.ID, "host-a", "custom-a")
	f.compute(fl.ID, "host-b", "custom-b")
	f.compute(fl.ID, "host-b2", "custom-b")
	connA := f.attach("proc-a", fl.ID, "host-a")
	f.putProcess(model.Process{ID: "proc-a", FleetID: fl.ID, ComputeName: "host-a", Location: "custom-a", Port: 7000, Status: model.ProcessActive})
	connB := f.attach("proc-b", fl.ID, "host-b")
	f.putProcess(model.Process{ID: "proc-b", FleetID: fl.ID, ComputeName: "host-b", Location: "custom-b", Port: 7001, Status: model.ProcessActive})
	connB2 := f.attach("proc-b2", fl.ID, "host-b2")
	f.putProcess(model.Process{ID: "proc-b2", FleetID: fl.ID, ComputeName: "host-b2", Location: "custom-b", Port: 7002, Status: model.ProcessTerminating})
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-b"), DesiredInstances: ptr(int32(2)), MaxSize: ptr(int32(4))}))(t)

	// A location with a live game session is refused, and a refusal for one
	// location leaves the others of the request in place.
	for _, st := range []model.GameSessionStatus{model.GameSessionActivating, model.GameSessionActive, model.GameSessionTerminating} {
		t.Run("refused with "+string(st)+" game session", func(t *testing.T) {
			g := f.putGameSession(fl, "gs-"+string(st), "custom-c", st, 0, 4)
			_, err := f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.ID), Locations: []string{"custom-b", "custom-c"}})
			wantErr(t, err, apierr.InvalidRequest, "custom-c")
			wantErr(t, err, apierr.InvalidRequest, "terminate them")
			if got := f.getFleet(fl.ID).Locations; len(got) != 3 {
				t.Fatalf("refused delete left locations %v", got)
			}
			g.Status = model.GameSessionTerminated
			f.update(func(tx store.Tx) error { return tx.PutGameSession(g) })
		})
	}
	if connB.terminations() != 0 {
		t.Fatal("a refused delete told a process to terminate")
	}

	out := fxMust(f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.Arn), Locations: []string{"custom-b"}}))(t)
	if deref(out.FleetId) != fl.ID || deref(out.FleetArn) != fl.Arn || locationStateList(out.LocationStates) != "custom-b=DELETING" {
		t.Fatalf("DeleteFleetLocations = %s %s %s", deref(out.FleetId), deref(out.FleetArn), locationStateList(out.LocationStates))
	}
	got := f.getFleet(fl.ID)
	if !slices.Equal(got.Locations, []string{"custom-a", "custom-c"}) || got.Status != model.FleetActive {
		t.Fatalf("fleet after delete: %s %v", got.Status, got.Locations)
	}
	if _, ok := got.Capacity["custom-b"]; ok {
		t.Fatalf("capacity of the removed location kept: %v", got.Capacity)
	}
	for _, pid := range []string{"proc-b", "proc-b2"} {
		var p model.Process
		f.update(func(tx store.Tx) error {
			var err error
			p, err = tx.GetProcess(pid)
			return err
		})
		if p.Status != model.ProcessTerminated {
			t.Fatalf("%s is %s; want TERMINATED", pid, p.Status)
		}
	}
	if connB.terminations() != 1 || connB2.terminations() != 1 || connA.terminations() != 0 {
		t.Fatalf("TerminateProcess pushes: b %d, b2 %d, a %d; want 1, 1, 0", connB.terminations(), connB2.terminations(), connA.terminations())
	}
	for _, name := range []string{"host-b", "host-b2"} {
		_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr(name)})
		wantErr(t, err, apierr.NotFound, name)
	}
	fxMust(f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-a")}))(t)
	evs := f.events(fl.ID)
	if countCodes(evs, eventLocationDeleting) != 1 || countCodes(evs, eventLocationDeleted) != 1 {
		t.Fatalf("events = %v; want one %s and one %s", eventCodes(evs), eventLocationDeleting, eventLocationDeleted)
	}

	// The location is gone from everything that reports or uses locations.
	if got := locationAttributeList(f.describeLocations(fl.ID)); got != "custom-a=ACTIVE custom-c=ACTIVE" {
		t.Fatalf("DescribeFleetLocationAttributes = %s", got)
	}
	if got := f.describeLocations(fl.ID, "custom-b"); len(got) != 0 {
		t.Fatalf("removed location still described: %s", locationAttributeList(got))
	}
	runErrCases(t, []errCase{
		{"capacity", func() error {
			_, err := f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-b")})
			return err
		}, apierr.NotFound, "custom-b"},
		{"utilization", func() error {
			_, err := f.svc.DescribeFleetLocationUtilization(f.ctx, &shapes.DescribeFleetLocationUtilizationInput{FleetId: ptr(fl.ID), Location: ptr("custom-b")})
			return err
		}, apierr.NotFound, "custom-b"},
		{"game session", func() error {
			_, err := f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-b"), MaximumPlayerSessionCount: ptr(int32(2))})
			return err
		}, apierr.InvalidRequest, "custom-b"},
		{"compute", func() error {
			_, err := f.svc.RegisterCompute(f.ctx, &shapes.RegisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-b"), IpAddress: ptr("192.0.2.1"), Location: ptr("custom-b")})
			return err
		}, apierr.InvalidRequest, "custom-b"},
		{"again", func() error {
			_, err := f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.ID), Locations: []string{"custom-b"}})
			return err
		}, apierr.NotFound, "custom-b"},
	})
	// No fleet uses it any more, so the custom location itself can go.
	fxMust(f.svc.DeleteLocation(f.ctx, &shapes.DeleteLocationInput{LocationName: ptr("custom-b")}))(t)

	// Added back, a location starts afresh: default capacity, no computes.
	f.location("custom-b")
	fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs("custom-b")}))(t)
	capB := fxMust(f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-b")}))(t)
	if got := counts(*capB.FleetCapacity); got != `custom-b desired 0 min 0 max 1 pending 0 active 0 idle 0 terminating 0 type ""` {
		t.Fatalf("re-added custom-b capacity: %s", got)
	}

	// Every location can go; the fleet then hosts nothing until one is added.
	fxMust(f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.ID), Locations: []string{"custom-c", "custom-a", "custom-b"}}))(t)
	if got := f.describeLocations(fl.ID); len(got) != 0 {
		t.Fatalf("fleet without locations describes %s", locationAttributeList(got))
	}
	if connA.terminations() != 1 {
		t.Fatalf("proc-a was told to terminate %d times; want 1", connA.terminations())
	}
	whole := fxMust(f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{FleetIds: []string{fl.ID}}))(t)
	if got := counts(whole.FleetCapacity[0]); got != `us-west-2 desired 0 min 0 max 0 pending 0 active 0 idle 0 terminating 0 type ""` {
		t.Fatalf("capacity of a fleet without locations: %s", got)
	}
	fxMust(f.svc.CreateFleetLocations(f.ctx, &shapes.CreateFleetLocationsInput{FleetId: ptr(fl.ID), Locations: locationConfigs("custom-c")}))(t)
	if got := locationAttributeList(f.describeLocations(fl.ID)); got != "custom-c=ACTIVE" {
		t.Fatalf("after re-adding: %s", got)
	}
}

// TestDeleteFleetLocationsRacesCreateGameSession runs the two at once: the
// location is either removed with no session left behind in it, or kept
// because the session came first.
func TestDeleteFleetLocationsRacesCreateGameSession(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b"} {
		f.location(l)
	}
	for round := range 5 {
		fl := f.fleet("custom-a", "custom-b")
		f.compute(fl.ID, "host-b", "custom-b")
		f.readyProcess(fl.ID, "host-b", fmt.Sprintf("race-%d", round))
		var (
			wg                 sync.WaitGroup
			createErr, delErr  error
			start              = make(chan struct{})
			createdID, deleted string
		)
		wg.Go(func() {
			<-start
			out, err := f.svc.CreateGameSession(f.ctx, &shapes.CreateGameSessionInput{FleetId: ptr(fl.ID), Location: ptr("custom-b"), MaximumPlayerSessionCount: ptr(int32(2))})
			if err == nil {
				createdID = deref(out.GameSession.GameSessionId)
			}
			createErr = err
		})
		wg.Go(func() {
			<-start
			_, delErr = f.svc.DeleteFleetLocations(f.ctx, &shapes.DeleteFleetLocationsInput{FleetId: ptr(fl.ID), Locations: []string{"custom-b"}})
			if delErr == nil {
				deleted = "custom-b"
			}
		})
		close(start)
		wg.Wait()
		switch {
		case createErr == nil && apierr.CodeOf(delErr) == apierr.InvalidRequest:
			if g := f.getGameSession(createdID); g.Status != model.GameSessionActivating {
				t.Fatalf("round %d: session %s is %s", round, createdID, g.Status)
			}
		case delErr == nil && createErr != nil:
			if deleted != "custom-b" || slices.Contains(f.getFleet(fl.ID).Locations, "custom-b") {
				t.Fatalf("round %d: location still there", round)
			}
			if c := apierr.CodeOf(createErr); c != apierr.InvalidRequest && c != apierr.FleetCapacityExceeded {
				t.Fatalf("round %d: CreateGameSession after the delete: %v", round, createErr)
			}
		default:
			t.Fatalf("round %d: CreateGameSession %v, DeleteFleetLocations %v; want exactly one to win", round, createErr, delErr)
		}
	}
}

func TestDescribeFleetLocationAttributes(t *testing.T) {
	f := newFx(t)
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		f.location(l)
	}
	fl := f.fleet("custom-c", "custom-a", "custom-b")

	attrs := f.describeLocations(fl.ID)
	if got := locationAttributeList(attrs); got != "custom-c=ACTIVE custom-a=ACTIVE custom-b=ACTIVE" {
		t.Fatalf("all locations = %s", got)
	}
	for _, a := range attrs {
		if a.StoppedActions != nil || a.UpdateStatus != "" {
			t.Fatalf("%+v: want no StoppedActions and no UpdateStatus", a)
		}
	}
	// Asked-for locations come in the order asked; ones the fleet does not
	// have (the home Region among them) are left out, repeats reported once.
	if got := locationAttributeList(f.describeLocations(fl.Arn, "custom-b", fxRegion, "custom-zzz", "custom-c", "custom-b")); got != "custom-b=ACTIVE custom-c=ACTIVE" {
		t.Fatalf("asked-for locations = %s", got)
	}
	all, pages := walkPages(t, func(next *string) ([]shapes.LocationAttributes, *string, error) {
		out, err := f.svc.DescribeFleetLocationAttributes(f.ctx, &shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Limit: ptr(int32(2)), NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return out.LocationAttributes, out.NextToken, nil
	})
	if pages != 2 || locationAttributeList(all) != "custom-c=ACTIVE custom-a=ACTIVE custom-b=ACTIVE" {
		t.Fatalf("paged: %d pages, %s", pages, locationAttributeList(all))
	}

	// Locations follow the fleet's state, to TERMINATED once it is deleted.
	f.setFleetStatus(fl.ID, model.FleetDeleting)
	if got := locationAttributeList(f.describeLocations(fl.ID, "custom-a")); got != "custom-a=DELETING" {
		t.Fatalf("DELETING fleet: %s", got)
	}
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)}))(t)
	if got := locationAttributeList(f.describeLocations(fl.ID)); got != "custom-c=TERMINATED custom-a=TERMINATED custom-b=TERMINATED" {
		t.Fatalf("deleted fleet: %s", got)
	}

	call := func(in shapes.DescribeFleetLocationAttributesInput) func() error {
		return func() error {
			_, err := f.svc.DescribeFleetLocationAttributes(f.ctx, &in)
			return err
		}
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("custom-%d", i)
	}
	runErrCases(t, []errCase{
		{"FleetId missing", call(shapes.DescribeFleetLocationAttributesInput{}), "", "FleetId is required"},
		{"FleetId pattern", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr("custom-a")}), "", "FleetId"},
		{"Locations empty", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Locations: []string{}}), "", "Locations must contain 1 to 100 items"},
		{"Locations too many", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Locations: many}), "", "Locations must contain 1 to 100 items"},
		{"Location pattern", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Locations: []string{"custom-a", "custom a"}}), "", "Locations[1]"},
		{"Location too long", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Locations: []string{strings.Repeat("x", 65)}}), "", "Locations[0] must be 1 to 64"},
		{"Limit", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), Limit: ptr(int32(0))}), "", "Limit must be at least 1"},
		{"NextToken empty", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), NextToken: ptr("")}), "", "NextToken must be 1 to 1024"},
		{"NextToken foreign", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr(fl.ID), NextToken: ptr("not-a-token")}), "", "NextToken"},
		{"fleet unknown", call(shapes.DescribeFleetLocationAttributesInput{FleetId: ptr("fleet-nope")}), apierr.NotFound, "fleet-nope"},
	})
}
