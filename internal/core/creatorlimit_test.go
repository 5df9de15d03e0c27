package core

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// creatorFleet is a fleet in custom-a with one compute and n processes ready
// to host, so that the tests below are refused by the creator limit and never
// for want of a process.
func (f *fx) creatorFleet(n int, pol *shapes.ResourceCreationLimitPolicy) model.Fleet {
	f.t.Helper()
	out := fxMust(f.svc.CreateFleet(f.ctx, &shapes.CreateFleetInput{
		Name:                        ptr("limited"),
		ComputeType:                 computeTypeAnywhere,
		Locations:                   []shapes.LocationConfiguration{{Location: ptr("custom-a")}},
		ResourceCreationLimitPolicy: pol,
	}))(f.t)
	fl := f.getFleet(*out.FleetAttributes.FleetId)
	f.compute(fl.ID, "host", "custom-a")
	f.moreProcesses(fl.ID, "p", n)
	return fl
}

func (f *fx) moreProcesses(fleetID, prefix string, n int) {
	f.t.Helper()
	for i := range n {
		f.readyProcess(fleetID, "host", fmt.Sprintf("%s-%s%d", fleetID, prefix, i))
	}
}

// createAs creates a game session in custom-a as creator ("" for none).
func (f *fx) createAs(fleetID, creator string) error {
	in := &shapes.CreateGameSessionInput{FleetId: ptr(fleetID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(2))}
	if creator != "" {
		in.CreatorId = ptr(creator)
	}
	_, err := f.svc.CreateGameSession(f.ctx, in)
	return err
}

func wantCreate(t *testing.T, what string, err error, want apierr.Code) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s: %v; want success", what, err)
	case want != "" && apierr.CodeOf(err) != want:
		t.Fatalf("%s: %v; want %s", what, err, want)
	}
}

func creationPolicy(n, minutes int32) *shapes.ResourceCreationLimitPolicy {
	return &shapes.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(n), PolicyPeriodInMinutes: ptr(minutes)}
}

func TestCreatorLimitDefaultOnePerSecond(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.creatorFleet(10, nil)
	other := f.creatorFleet(2, nil)

	wantCreate(t, "first", f.createAs(fl.ID, "alice"), "")
	err := f.createAs(fl.ID, "alice")
	wantCreate(t, "second in the same second", err, apierr.LimitExceeded)
	wantErr(t, err, apierr.LimitExceeded, "alice")
	wantCreate(t, "another creator", f.createAs(fl.ID, "bob"), "")
	wantCreate(t, "no CreatorId", f.createAs(fl.ID, ""), "")
	wantCreate(t, "no CreatorId again", f.createAs(fl.ID, ""), "")
	// The default counts sessions per fleet, like the policy it stands in for.
	wantCreate(t, "same creator on another fleet", f.createAs(other.ID, "alice"), "")

	f.clk.Advance(time.Second - time.Nanosecond)
	wantCreate(t, "just under a second later", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
	f.clk.Advance(time.Nanosecond)
	wantCreate(t, "exactly a second later", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "and again at once", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
	f.clk.Advance(3 * time.Second)
	wantCreate(t, "after a pause", f.createAs(fl.ID, "alice"), "")
}

func TestCreatorLimitIdempotentRetry(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.creatorFleet(2, nil)
	in := &shapes.CreateGameSessionInput{
		FleetId: ptr(fl.ID), Location: ptr("custom-a"), MaximumPlayerSessionCount: ptr(int32(2)),
		CreatorId: ptr("alice"), IdempotencyToken: ptr("retry-me"),
	}
	first := fxMust(f.svc.CreateGameSession(f.ctx, in))(t)
	// A retry of a request that succeeded is not a new session: it gets the
	// original back instead of counting against the creator.
	again := fxMust(f.svc.CreateGameSession(f.ctx, in))(t)
	if deref(again.GameSession.GameSessionId) != deref(first.GameSession.GameSessionId) {
		t.Fatalf("retry returned %s; want %s", deref(again.GameSession.GameSessionId), deref(first.GameSession.GameSessionId))
	}
	wantCreate(t, "a different session", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
}

func TestCreatorLimitRefusalsDoNotCount(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.creatorFleet(0, nil)
	// No process: the request fails for capacity and creates nothing...
	wantCreate(t, "no capacity", f.createAs(fl.ID, "alice"), apierr.FleetCapacityExceeded)
	f.readyProcess(fl.ID, "host", "late")
	// ...so it does not use up the creator's second.
	wantCreate(t, "same second, now with a process", f.createAs(fl.ID, "alice"), "")
}

func TestCreatorLimitPolicy(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.creatorFleet(20, creationPolicy(2, 10))

	// The policy replaces the default: two in the same second are fine.
	wantCreate(t, "first", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "second", f.createAs(fl.ID, "alice"), "")
	err := f.createAs(fl.ID, "alice")
	wantErr(t, err, apierr.LimitExceeded, "2 new game sessions per 10 minutes")
	wantCreate(t, "another creator", f.createAs(fl.ID, "bob"), "")
	// Without a CreatorId the policy is not evaluated.
	for i := range 3 {
		wantCreate(t, fmt.Sprintf("anonymous %d", i), f.createAs(fl.ID, ""), "")
	}

	// Processes that stop heartbeating are ended after 3 minutes, so every
	// long step brings fresh ones.
	f.clk.Advance(5 * time.Minute)
	f.moreProcesses(fl.ID, "b", 5)
	wantCreate(t, "5 min later", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
	wantCreate(t, "bob's second", f.createAs(fl.ID, "bob"), "") // t0+5m
	f.clk.Advance(5*time.Minute - time.Nanosecond)
	f.moreProcesses(fl.ID, "c", 5)
	wantCreate(t, "just under 10 min", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
	wantCreate(t, "bob just under 10 min", f.createAs(fl.ID, "bob"), apierr.LimitExceeded)
	f.clk.Advance(time.Nanosecond) // t0+10m: the t0 sessions leave the window
	wantCreate(t, "10 min: first slot", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "10 min: second slot", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "10 min: third", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
	// bob's window still holds his t0+5m session: one slot, not two.
	wantCreate(t, "bob at 10 min", f.createAs(fl.ID, "bob"), "")
	wantCreate(t, "bob again at 10 min", f.createAs(fl.ID, "bob"), apierr.LimitExceeded)

	// Sessions that have ended still count: the policy limits creation.
	f.update(func(tx store.Tx) error {
		gs, err := tx.ListGameSessions(store.GameSessionFilter{FleetID: fl.ID})
		for _, g := range gs {
			g.Status = model.GameSessionTerminated
			if err := tx.PutGameSession(g); err != nil {
				return err
			}
		}
		return err
	})
	wantCreate(t, "after the sessions ended", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
}

// TestCreatorLimitPolicyNotInForce pins the decision for policies with a zero
// member: they limit nothing themselves, and the one-per-second default applies.
func TestCreatorLimitPolicyNotInForce(t *testing.T) {
	for _, tc := range []struct {
		name string
		pol  *shapes.ResourceCreationLimitPolicy
	}{
		{"zeros", creationPolicy(0, 0)},
		{"NewGameSessionsPerCreator 0", creationPolicy(0, 10)},
		{"PolicyPeriodInMinutes 0", creationPolicy(5, 0)},
		{"only NewGameSessionsPerCreator", &shapes.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(int32(5))}},
		{"only PolicyPeriodInMinutes", &shapes.ResourceCreationLimitPolicy{PolicyPeriodInMinutes: ptr(int32(5))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			f.location("custom-a")
			fl := f.creatorFleet(4, tc.pol)
			wantCreate(t, "first", f.createAs(fl.ID, "alice"), "")
			wantCreate(t, "same second", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
			f.clk.Advance(time.Second)
			wantCreate(t, "a second later", f.createAs(fl.ID, "alice"), "")
			f.clk.Advance(time.Second)
			wantCreate(t, "two seconds later", f.createAs(fl.ID, "alice"), "")
		})
	}
}

func TestCreatorLimitFollowsUpdateFleetAttributes(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.creatorFleet(10, nil)
	wantCreate(t, "default", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "default, same second", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)

	fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), ResourceCreationLimitPolicy: creationPolicy(3, 1)}))(t)
	// The session made under the default counts towards the new policy.
	wantCreate(t, "policy: 2nd", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "policy: 3rd", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "policy: 4th", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)

	// Clearing the policy brings the default back.
	fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{FleetId: ptr(fl.ID), ResourceCreationLimitPolicy: &shapes.ResourceCreationLimitPolicy{}}))(t)
	f.clk.Advance(time.Second)
	wantCreate(t, "cleared", f.createAs(fl.ID, "alice"), "")
	wantCreate(t, "cleared, same second", f.createAs(fl.ID, "alice"), apierr.LimitExceeded)
}

// TestCreatorLimitConcurrent sends simultaneous requests with one CreatorId:
// the limit is checked in the transaction that inserts the session, so
// exactly as many succeed as the limit allows, however they interleave.
func TestCreatorLimitConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pol     *shapes.ResourceCreationLimitPolicy
		callers int
		want    int
	}{
		{"default one per second", nil, 2, 1},
		{"default, many callers", nil, 8, 1},
		{"policy of 3", creationPolicy(3, 5), 8, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			f.location("custom-a")
			fl := f.creatorFleet(tc.callers*3, tc.pol)
			for round := range 3 {
				creator := fmt.Sprintf("creator-%d", round)
				errs := make([]error, tc.callers)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range tc.callers {
					wg.Go(func() {
						<-start
						errs[i] = f.createAs(fl.ID, creator)
					})
				}
				close(start)
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case apierr.CodeOf(err) != apierr.LimitExceeded:
						t.Fatalf("round %d: %v; want success or LimitExceededException", round, err)
					}
				}
				if ok != tc.want {
					t.Fatalf("round %d: %d of %d simultaneous requests succeeded; want %d", round, ok, tc.callers, tc.want)
				}
			}
		})
	}
}
