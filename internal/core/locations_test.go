package core

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/shapes"
)

func TestCreateLocation(t *testing.T) {
	f := newFx(t)
	out := fxMust(f.svc.CreateLocation(f.ctx, &shapes.CreateLocationInput{
		LocationName: ptr("custom-lab-1"),
		Tags:         []shapes.Tag{{Key: ptr("k"), Value: ptr("")}},
	}))(t)
	if deref(out.Location.LocationName) != "custom-lab-1" ||
		deref(out.Location.LocationArn) != "arn:aws:gamelift:us-west-2:111122223333:location/custom-lab-1" ||
		out.Location.PingBeacon != nil {
		t.Fatalf("Location = %+v", out.Location)
	}
	create := func(name *string, tags []shapes.Tag) func() error {
		return func() error {
			_, err := f.svc.CreateLocation(f.ctx, &shapes.CreateLocationInput{LocationName: name, Tags: tags})
			return err
		}
	}
	var manyTags []shapes.Tag
	for i := 0; i < 201; i++ {
		manyTags = append(manyTags, shapes.Tag{Key: ptr(fmt.Sprint(i)), Value: ptr("v")})
	}
	runErrCases(t, []errCase{
		{"duplicate", create(ptr("custom-lab-1"), nil), apierr.Conflict, "custom-lab-1"},
		{"missing", create(nil, nil), "", "LocationName"},
		{"too short", create(ptr("custom-"), nil), "", "LocationName"},
		{"too long", create(ptr("custom-"+strings.Repeat("x", 58)), nil), "", "LocationName"},
		{"no custom prefix", create(ptr("onprem-lab-1"), nil), "", "LocationName"},
		{"bad character", create(ptr("custom-lab_1"), nil), "", "LocationName"},
		{"AWS region", create(ptr("us-west-2"), nil), "", "LocationName"},
		{"too many tags", create(ptr("custom-lab-2"), manyTags), "", "Tags"},
		{"tag key missing", create(ptr("custom-lab-2"), []shapes.Tag{{Value: ptr("v")}}), "", "Tags[0].Key"},
		{"tag key too long", create(ptr("custom-lab-2"), []shapes.Tag{{Key: ptr(strings.Repeat("k", 129)), Value: ptr("v")}}), "", "Tags[0].Key"},
		{"tag value missing", create(ptr("custom-lab-2"), []shapes.Tag{{Key: ptr("k")}}), "", "Tags[0].Value"},
	})
	// Exactly 64 characters is allowed.
	fxMust(f.svc.CreateLocation(f.ctx, &shapes.CreateLocationInput{LocationName: ptr("custom-" + strings.Repeat("x", 57))}))(t)
}

func TestListLocations(t *testing.T) {
	f := newFx(t)
	names := []string{"custom-e", "custom-a", "custom-d", "custom-b", "custom-c"}
	for _, n := range names {
		f.location(n)
	}
	list := func(filters []string, limit int32) []shapes.LocationModel {
		t.Helper()
		all, _ := walkPages(t, func(next *string) ([]shapes.LocationModel, *string, error) {
			out, err := f.svc.ListLocations(f.ctx, &shapes.ListLocationsInput{Filters: filters, Limit: ptr(limit), NextToken: next})
			if err != nil {
				return nil, nil, err
			}
			return out.Locations, out.NextToken, nil
		})
		return all
	}
	render := func(ls []shapes.LocationModel) string {
		var parts []string
		for _, l := range ls {
			s := deref(l.LocationName)
			if l.LocationArn != nil {
				s += "+arn"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ",")
	}
	cases := []struct {
		name    string
		filters []string
		want    string
	}{
		{"both by default", nil, "us-west-2,custom-a+arn,custom-b+arn,custom-c+arn,custom-d+arn,custom-e+arn"},
		{"AWS", []string{"AWS"}, "us-west-2"},
		{"CUSTOM", []string{"CUSTOM"}, "custom-a+arn,custom-b+arn,custom-c+arn,custom-d+arn,custom-e+arn"},
		{"both named", []string{"CUSTOM", "AWS"}, "us-west-2,custom-a+arn,custom-b+arn,custom-c+arn,custom-d+arn,custom-e+arn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(list(tc.filters, 2)); got != tc.want {
				t.Fatalf("got %s; want %s", got, tc.want)
			}
		})
	}
	// One page when everything fits, with no token.
	out := fxMust(f.svc.ListLocations(f.ctx, &shapes.ListLocationsInput{Limit: ptr(int32(200))}))(t)
	if len(out.Locations) != 6 || out.NextToken != nil {
		t.Fatalf("got %d locations, token %v; want 6 and none", len(out.Locations), out.NextToken)
	}

	listErr := func(in *shapes.ListLocationsInput) func() error {
		return func() error {
			_, err := f.svc.ListLocations(f.ctx, in)
			return err
		}
	}
	runErrCases(t, []errCase{
		{"filter unknown", listErr(&shapes.ListLocationsInput{Filters: []string{"MARS"}}), "", "Filters[0]"},
		{"filter empty string", listErr(&shapes.ListLocationsInput{Filters: []string{"AWS", ""}}), "", "Filters[1]"},
		{"filters empty", listErr(&shapes.ListLocationsInput{Filters: []string{}}), "", "Filters"},
		{"filters too many", listErr(&shapes.ListLocationsInput{Filters: []string{"AWS", "CUSTOM", "AWS"}}), "", "Filters"},
		{"limit zero", listErr(&shapes.ListLocationsInput{Limit: ptr(int32(0))}), "", "Limit"},
		{"limit over 200", listErr(&shapes.ListLocationsInput{Limit: ptr(int32(201))}), "", "Limit"},
		{"token empty", listErr(&shapes.ListLocationsInput{NextToken: ptr("")}), "", "NextToken"},
		{"token forged", listErr(&shapes.ListLocationsInput{NextToken: ptr("abc")}), "", "NextToken"},
	})
}

func TestDeleteLocation(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a")

	del := func(name *string) func() error {
		return func() error {
			_, err := f.svc.DeleteLocation(f.ctx, &shapes.DeleteLocationInput{LocationName: name})
			return err
		}
	}
	runErrCases(t, []errCase{
		{"missing", del(nil), "", "LocationName"},
		{"not custom", del(ptr("us-west-2")), "", "LocationName"},
		{"too long", del(ptr("custom-" + strings.Repeat("x", 122))), "", "LocationName"},
		{"unknown", del(ptr("custom-zzz")), apierr.NotFound, "custom-zzz"},
		{"unknown ARN", del(ptr("arn:aws:gamelift:us-west-2:111122223333:location/custom-zzz")), apierr.NotFound, "custom-zzz"},
		{"in use", del(ptr("custom-a")), "", fl.ID},
	})

	fxMust(f.svc.DeleteLocation(f.ctx, &shapes.DeleteLocationInput{LocationName: ptr(f.svc.locationArn("custom-b"))}))(t)
	wantErr(t, del(ptr("custom-b"))(), apierr.NotFound, "custom-b")

	// Once the fleet is gone the location is free.
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)}))(t)
	fxMust(f.svc.DeleteLocation(f.ctx, &shapes.DeleteLocationInput{LocationName: ptr("custom-a")}))(t)
	out := fxMust(f.svc.ListLocations(f.ctx, &shapes.ListLocationsInput{Filters: []string{"CUSTOM"}}))(t)
	if out.Locations == nil || len(out.Locations) != 0 {
		t.Fatalf("Locations = %#v; want an empty, non-nil list", out.Locations)
	}
	// A deleted location can be created again.
	f.location("custom-a")
}
