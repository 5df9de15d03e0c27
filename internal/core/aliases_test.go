package core

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

var reAliasIDShape = regexp.MustCompile(`^alias-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func simple(fleetID string) *shapes.RoutingStrategy {
	return &shapes.RoutingStrategy{Type: "SIMPLE", FleetId: ptr(fleetID)}
}

func terminal(msg string) *shapes.RoutingStrategy {
	return &shapes.RoutingStrategy{Type: "TERMINAL", Message: ptr(msg)}
}

func (f *fx) alias(name string, rs *shapes.RoutingStrategy) shapes.Alias {
	f.t.Helper()
	return *fxMust(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: ptr(name), RoutingStrategy: rs}))(f.t).Alias
}

func TestCreateAlias(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")

	out := fxMust(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{
		Name:            ptr("live"),
		Description:     ptr("players go here"),
		RoutingStrategy: simple(fl.ID),
		Tags:            []shapes.Tag{{Key: ptr("env"), Value: ptr("prod")}},
	}))(t).Alias
	if !reAliasIDShape.MatchString(deref(out.AliasId)) {
		t.Fatalf("AliasId %q; want alias-<uuid>", deref(out.AliasId))
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%v|%v|%v", deref(out.AliasArn), deref(out.Name), deref(out.Description), out.RoutingStrategy.Type,
		deref(out.RoutingStrategy.FleetId), out.RoutingStrategy.Message, out.CreationTime.Time, out.LastUpdatedTime.Time)
	want := fmt.Sprintf("arn:aws:gamelift:us-west-2::alias/%s|live|players go here|SIMPLE|%s|<nil>|%v|%v", deref(out.AliasId), fl.ID, fxT0, fxT0)
	if got != want {
		t.Fatalf("Alias =\n %s\nwant\n %s", got, want)
	}
	var stored model.Alias
	f.update(func(tx store.Tx) error {
		var err error
		stored, err = tx.GetAlias(*out.AliasId)
		return err
	})
	if stored.Tags["env"] != "prod" {
		t.Fatalf("tags not stored: %+v", stored.Tags)
	}

	// TERMINAL keeps its message and silently drops a FleetId.
	term := fxMust(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{
		Name:            ptr("live"), // names need not be unique
		RoutingStrategy: &shapes.RoutingStrategy{Type: "TERMINAL", FleetId: ptr(fl.ID), Message: ptr("Come back later")},
	}))(t).Alias
	if term.RoutingStrategy.FleetId != nil || deref(term.RoutingStrategy.Message) != "Come back later" || term.Description != nil {
		t.Fatalf("TERMINAL alias = %+v / %+v", term, term.RoutingStrategy)
	}

	gone := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(gone.ID)}))(t)
	create := func(name *string, desc *string, rs *shapes.RoutingStrategy) func() error {
		return func() error {
			_, err := f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: name, Description: desc, RoutingStrategy: rs})
			return err
		}
	}
	runErrCases(t, []errCase{
		{"name missing", create(nil, nil, simple(fl.ID)), "", "Name"},
		{"name empty", create(ptr(""), nil, simple(fl.ID)), "", "Name"},
		{"name blank", create(ptr(" \t "), nil, simple(fl.ID)), "", "Name"},
		{"name too long", create(ptr(strings.Repeat("n", 1025)), nil, simple(fl.ID)), "", "Name"},
		{"description empty", create(ptr("a"), ptr(""), simple(fl.ID)), "", "Description"},
		{"description too long", create(ptr("a"), ptr(strings.Repeat("d", 1025)), simple(fl.ID)), "", "Description"},
		{"routing missing", create(ptr("a"), nil, nil), "", "RoutingStrategy"},
		{"type missing", create(ptr("a"), nil, &shapes.RoutingStrategy{FleetId: ptr(fl.ID)}), "", "RoutingStrategy.Type"},
		{"type unknown", create(ptr("a"), nil, &shapes.RoutingStrategy{Type: "ROUND_ROBIN", FleetId: ptr(fl.ID)}), "", "RoutingStrategy.Type"},
		{"simple without fleet", create(ptr("a"), nil, &shapes.RoutingStrategy{Type: "SIMPLE"}), "", "RoutingStrategy.FleetId"},
		{"simple with fleet ARN", create(ptr("a"), nil, simple(fl.Arn)), "", "RoutingStrategy.FleetId"},
		{"simple with unknown fleet", create(ptr("a"), nil, simple("fleet-00000000-0000-0000-0000-000000000000")), "", "RoutingStrategy.FleetId"},
		{"simple with deleted fleet", create(ptr("a"), nil, simple(gone.ID)), "", "RoutingStrategy.FleetId"},
		{"tags", func() error {
			_, err := f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: ptr("a"), RoutingStrategy: simple(fl.ID), Tags: []shapes.Tag{{Key: ptr("k")}}})
			return err
		}, "", "Tags[0].Value"},
	})
}

func TestDescribeResolveDeleteAlias(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	live := f.alias("live", simple(fl.ID))
	closed := f.alias("closed", terminal("Servers are down for maintenance."))
	bare := f.alias("bare", &shapes.RoutingStrategy{Type: "TERMINAL"})

	for _, id := range []string{*live.AliasId, *live.AliasArn} {
		d := fxMust(f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: ptr(id)}))(t).Alias
		if deref(d.AliasId) != *live.AliasId || deref(d.Name) != "live" {
			t.Fatalf("DescribeAlias(%s) = %+v", id, d)
		}
		r := fxMust(f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{AliasId: ptr(id)}))(t)
		if deref(r.FleetId) != fl.ID || deref(r.FleetArn) != fl.Arn {
			t.Fatalf("ResolveAlias(%s) = %s %s", id, deref(r.FleetId), deref(r.FleetArn))
		}
	}

	resolve := func(id string) func() error {
		return func() error {
			_, err := f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{AliasId: ptr(id)})
			return err
		}
	}
	// The TERMINAL exception carries the alias' message verbatim.
	_, err := f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{AliasId: closed.AliasId})
	if e := apierr.As(err); e.Code != apierr.TerminalRoutingStrategy || e.Message != "Servers are down for maintenance." {
		t.Fatalf("ResolveAlias(TERMINAL) = %v; want TerminalRoutingStrategyException with the alias message", err)
	}
	runErrCases(t, []errCase{
		{"terminal without message", resolve(*bare.AliasId), apierr.TerminalRoutingStrategy, *bare.AliasId},
		{"resolve unknown", resolve("alias-00000000-0000-0000-0000-000000000000"), apierr.NotFound, "alias-00000000"},
		{"resolve bad", resolve("fleet-1"), "", "AliasId"},
		{"resolve missing", func() error {
			_, err := f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{})
			return err
		}, "", "AliasId"},
		{"describe unknown ARN", func() error {
			_, err := f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: ptr("arn:aws:gamelift:us-west-2::alias/alias-nope")})
			return err
		}, apierr.NotFound, "alias-nope"},
		{"describe too long", func() error {
			_, err := f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: ptr("alias-" + strings.Repeat("a", 507))})
			return err
		}, "", "AliasId"},
	})

	// An alias whose fleet was deleted still resolves; its users see the
	// fleet's status.
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)}))(t)
	if r := fxMust(f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{AliasId: live.AliasId}))(t); deref(r.FleetId) != fl.ID {
		t.Fatalf("alias of a deleted fleet resolved to %s", deref(r.FleetId))
	}

	fxMust(f.svc.DeleteAlias(f.ctx, &shapes.DeleteAliasInput{AliasId: live.AliasArn}))(t)
	runErrCases(t, []errCase{
		{"describe deleted", func() error {
			_, err := f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: live.AliasId})
			return err
		}, apierr.NotFound, *live.AliasId},
		{"delete again", func() error {
			_, err := f.svc.DeleteAlias(f.ctx, &shapes.DeleteAliasInput{AliasId: live.AliasId})
			return err
		}, apierr.NotFound, *live.AliasId},
		{"delete missing", func() error {
			_, err := f.svc.DeleteAlias(f.ctx, &shapes.DeleteAliasInput{})
			return err
		}, "", "AliasId"},
		{"delete bad", func() error {
			_, err := f.svc.DeleteAlias(f.ctx, &shapes.DeleteAliasInput{AliasId: ptr("alias-")})
			return err
		}, "", "AliasId"},
	})
}

func TestListAliases(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	empty := fxMust(f.svc.ListAliases(f.ctx, &shapes.ListAliasesInput{}))(t)
	if empty.Aliases == nil || len(empty.Aliases) != 0 || empty.NextToken != nil {
		t.Fatalf("empty ListAliases = %#v", empty)
	}
	// The list is in creation order; space the aliases out so that order is
	// not left to their random ids.
	for i := 0; i < 4; i++ {
		f.alias(fmt.Sprintf("s%d", i%2), simple(fl.ID))
		f.clk.Advance(time.Second)
		f.alias(fmt.Sprintf("t%d", i%2), terminal("closed"))
		f.clk.Advance(time.Second)
	}
	list := func(in shapes.ListAliasesInput) []string {
		t.Helper()
		all, _ := walkPages(t, func(next *string) ([]shapes.Alias, *string, error) {
			in := in
			in.Limit, in.NextToken = ptr(int32(3)), next
			out, err := f.svc.ListAliases(f.ctx, &in)
			if err != nil {
				return nil, nil, err
			}
			return out.Aliases, out.NextToken, nil
		})
		var names []string
		seen := map[string]bool{}
		for _, a := range all {
			if seen[*a.AliasId] {
				t.Fatalf("alias %s listed twice", *a.AliasId)
			}
			seen[*a.AliasId] = true
			names = append(names, *a.Name)
		}
		return names
	}
	for _, tc := range []struct {
		name string
		in   shapes.ListAliasesInput
		want string
	}{
		{"all", shapes.ListAliasesInput{}, "[s0 t0 s1 t1 s0 t0 s1 t1]"},
		{"simple", shapes.ListAliasesInput{RoutingStrategyType: "SIMPLE"}, "[s0 s1 s0 s1]"},
		{"terminal named", shapes.ListAliasesInput{RoutingStrategyType: "TERMINAL", Name: ptr("t1")}, "[t1 t1]"},
		{"name is exact", shapes.ListAliasesInput{Name: ptr("s")}, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(list(tc.in)); got != tc.want {
				t.Fatalf("got %s; want %s", got, tc.want)
			}
		})
	}
	listErr := func(in *shapes.ListAliasesInput) func() error {
		return func() error {
			_, err := f.svc.ListAliases(f.ctx, in)
			return err
		}
	}
	runErrCases(t, []errCase{
		{"type unknown", listErr(&shapes.ListAliasesInput{RoutingStrategyType: "simple"}), "", "RoutingStrategyType"},
		{"name empty", listErr(&shapes.ListAliasesInput{Name: ptr("")}), "", "Name"},
		{"limit zero", listErr(&shapes.ListAliasesInput{Limit: ptr(int32(0))}), "", "Limit"},
		{"token empty", listErr(&shapes.ListAliasesInput{NextToken: ptr("")}), "", "NextToken"},
		{"token forged", listErr(&shapes.ListAliasesInput{NextToken: ptr("page-2")}), "", "NextToken"},
	})
}

func TestUpdateAlias(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	one := f.fleet("custom-a")
	two := f.fleet("custom-a")
	a := fxMust(f.svc.CreateAlias(f.ctx, &shapes.CreateAliasInput{Name: ptr("live"), Description: ptr("first"), RoutingStrategy: simple(one.ID)}))(t).Alias

	f.clk.Advance(time.Hour)
	u := fxMust(f.svc.UpdateAlias(f.ctx, &shapes.UpdateAliasInput{AliasId: a.AliasArn, RoutingStrategy: simple(two.ID)}))(t).Alias
	if deref(u.Name) != "live" || deref(u.Description) != "first" || deref(u.RoutingStrategy.FleetId) != two.ID ||
		!u.CreationTime.Time.Equal(fxT0) || !u.LastUpdatedTime.Time.Equal(fxT0.Add(time.Hour)) {
		t.Fatalf("after re-pointing: %+v %+v", u, u.RoutingStrategy)
	}

	f.clk.Advance(time.Hour)
	u = fxMust(f.svc.UpdateAlias(f.ctx, &shapes.UpdateAliasInput{AliasId: a.AliasId, Name: ptr("maint"), RoutingStrategy: terminal("Back soon")}))(t).Alias
	if deref(u.Name) != "maint" || deref(u.Description) != "first" || u.RoutingStrategy.Type != "TERMINAL" || u.RoutingStrategy.FleetId != nil ||
		deref(u.RoutingStrategy.Message) != "Back soon" || !u.LastUpdatedTime.Time.Equal(fxT0.Add(2*time.Hour)) {
		t.Fatalf("after going TERMINAL: %+v %+v", u, u.RoutingStrategy)
	}
	_, err := f.svc.ResolveAlias(f.ctx, &shapes.ResolveAliasInput{AliasId: a.AliasId})
	wantErr(t, err, apierr.TerminalRoutingStrategy, "Back soon")

	f.clk.Advance(time.Hour)
	u = fxMust(f.svc.UpdateAlias(f.ctx, &shapes.UpdateAliasInput{AliasId: a.AliasId, Description: ptr("second"), RoutingStrategy: simple(one.ID)}))(t).Alias
	if deref(u.Description) != "second" || u.RoutingStrategy.Message != nil || deref(u.RoutingStrategy.FleetId) != one.ID {
		t.Fatalf("after going SIMPLE again: %+v %+v", u, u.RoutingStrategy)
	}
	d := fxMust(f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: a.AliasId}))(t).Alias
	if !d.LastUpdatedTime.Time.Equal(fxT0.Add(3 * time.Hour)) {
		t.Fatalf("stored LastUpdatedTime %v", d.LastUpdatedTime.Time)
	}

	upd := func(in *shapes.UpdateAliasInput) func() error {
		return func() error {
			_, err := f.svc.UpdateAlias(f.ctx, in)
			return err
		}
	}
	runErrCases(t, []errCase{
		{"unknown", upd(&shapes.UpdateAliasInput{AliasId: ptr("alias-missing"), Name: ptr("x")}), apierr.NotFound, "alias-missing"},
		{"AliasId missing", upd(&shapes.UpdateAliasInput{Name: ptr("x")}), "", "AliasId"},
		{"name blank", upd(&shapes.UpdateAliasInput{AliasId: a.AliasId, Name: ptr("   ")}), "", "Name"},
		{"description empty", upd(&shapes.UpdateAliasInput{AliasId: a.AliasId, Description: ptr("")}), "", "Description"},
		{"partial routing", upd(&shapes.UpdateAliasInput{AliasId: a.AliasId, RoutingStrategy: &shapes.RoutingStrategy{Type: "SIMPLE"}}), "", "RoutingStrategy.FleetId"},
		{"routing type missing", upd(&shapes.UpdateAliasInput{AliasId: a.AliasId, RoutingStrategy: &shapes.RoutingStrategy{FleetId: ptr(one.ID)}}), "", "RoutingStrategy.Type"},
		{"unknown fleet", upd(&shapes.UpdateAliasInput{AliasId: a.AliasId, RoutingStrategy: simple("fleet-missing")}), "", "RoutingStrategy.FleetId"},
	})
	// Failed updates changed nothing.
	if d2 := fxMust(f.svc.DescribeAlias(f.ctx, &shapes.DescribeAliasInput{AliasId: a.AliasId}))(t).Alias; deref(d2.Description) != "second" ||
		!d2.LastUpdatedTime.Time.Equal(d.LastUpdatedTime.Time) {
		t.Fatalf("a failed update changed the alias: %+v", d2)
	}
}

func TestResolveFleet(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	live := f.alias("live", simple(fl.ID))
	closed := f.alias("closed", terminal("Closed for the night."))
	gone := f.fleet("custom-a")
	orphan := f.alias("orphan", simple(gone.ID))
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(gone.ID)}))(t)

	resolve := func(fleetID, aliasID *string) (model.Fleet, error) {
		var got model.Fleet
		err := f.st.View(f.ctx, func(tx store.Tx) error {
			var err error
			got, err = f.svc.resolveFleet(tx, fleetID, aliasID)
			return err
		})
		return got, err
	}
	for _, tc := range []struct {
		name             string
		fleetID, aliasID *string
		want             string
		status           string
	}{
		{"fleet id", ptr(fl.ID), nil, fl.ID, model.FleetActive},
		{"fleet ARN", ptr(fl.Arn), nil, fl.ID, model.FleetActive},
		{"alias id", nil, live.AliasId, fl.ID, model.FleetActive},
		{"alias ARN", nil, live.AliasArn, fl.ID, model.FleetActive},
		{"deleted fleet", ptr(gone.ID), nil, gone.ID, model.FleetTerminated},
		{"alias of deleted fleet", nil, orphan.AliasId, gone.ID, model.FleetTerminated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.fleetID, tc.aliasID)
			if err != nil || got.ID != tc.want || got.Status != tc.status {
				t.Fatalf("got %s %s, %v; want %s %s", got.ID, got.Status, err, tc.want, tc.status)
			}
		})
	}
	errOf := func(fleetID, aliasID *string) func() error {
		return func() error {
			_, err := resolve(fleetID, aliasID)
			return err
		}
	}
	runErrCases(t, []errCase{
		{"both", errOf(ptr(fl.ID), live.AliasId), "", "FleetId or AliasId"},
		{"neither", errOf(nil, nil), "", "FleetId or AliasId"},
		{"bad fleet id", errOf(ptr("fleet_1"), nil), "", "FleetId"},
		{"bad alias id", errOf(nil, ptr(fl.ID)), "", "AliasId"},
		{"unknown fleet", errOf(ptr("fleet-none"), nil), apierr.NotFound, "fleet-none"},
		{"unknown alias", errOf(nil, ptr("alias-none")), apierr.NotFound, "alias-none"},
		{"terminal alias", errOf(nil, closed.AliasId), apierr.TerminalRoutingStrategy, "Closed for the night."},
	})
}
