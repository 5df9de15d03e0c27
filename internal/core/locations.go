package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Location filter values of ListLocations.
const (
	locationFilterAWS    = "AWS"
	locationFilterCustom = "CUSTOM"
)

// checkTags enforces TagList: at most 200 tags, Key 1..128, Value 0..256.
func checkTags(c *checker, tags []shapes.Tag) {
	c.count("Tags", len(tags), 0, 200)
	for i, t := range tags {
		c.reqStr(indexed("Tags", i, "Key"), t.Key, 1, 128, nil)
		c.reqStr(indexed("Tags", i, "Value"), t.Value, 0, 256, nil)
	}
}

// tagMap keeps the last value of a repeated key, as a later PUT of the same
// key would.
func tagMap(tags []shapes.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[deref(t.Key)] = deref(t.Value)
	}
	return m
}

// indexed names a member of a list item the way the SDKs print paths
// (Tags[2].Key), so the client can find the offending entry.
func indexed(list string, i int, member string) string {
	if member == "" {
		return fmt.Sprintf("%s[%d]", list, i)
	}
	return fmt.Sprintf("%s[%d].%s", list, i, member)
}

func (s *Service) toLocationModel(l model.Location) shapes.LocationModel {
	return shapes.LocationModel{LocationName: ptr(l.Name), LocationArn: ptr(l.Arn)}
}

// CreateLocation adds a custom location for Anywhere fleets.
//
// Tags are validated but not kept: model.Location has no place for them yet,
// and no operation reads a location's tags back.
func (s *Service) CreateLocation(ctx context.Context, in *shapes.CreateLocationInput) (*shapes.CreateLocationOutput, error) {
	var c checker
	c.reqStr("LocationName", in.LocationName, 8, 64, reCustomLocation)
	checkTags(&c, in.Tags)
	if err := c.Err(); err != nil {
		return nil, err
	}
	l := model.Location{
		Name:         *in.LocationName,
		Arn:          s.locationArn(*in.LocationName),
		CreationTime: s.now(),
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		err := tx.InsertLocation(l)
		if errors.Is(err, store.ErrConflict) {
			// Not documented by GameLift; openlift decision (spec §3.6).
			return apierr.New(apierr.Conflict, "Location %s already exists.", l.Name)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := s.toLocationModel(l)
	return &shapes.CreateLocationOutput{Location: &out}, nil
}

// ListLocations lists the home Region (filter AWS) and the custom locations
// (filter CUSTOM); no filter means both (spec §3.6 decision).
//
// openlift hosts nothing in AWS Regions, but clients that build latency maps
// or location pickers expect at least the Region they talk to, so the AWS
// filter yields exactly the configured home Region, without a PingBeacon
// (there is no UDP beacon to ping) and without an ARN (GameLift gives AWS
// locations none).
func (s *Service) ListLocations(ctx context.Context, in *shapes.ListLocationsInput) (*shapes.ListLocationsOutput, error) {
	var c checker
	if in.Filters != nil {
		c.count("Filters", len(in.Filters), 1, 2)
	}
	for i, f := range in.Filters {
		c.enum(indexed("Filters", i, ""), nonEmpty(f), locationFilterAWS, locationFilterCustom)
	}
	c.int32Range("Limit", in.Limit, 1, 200)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	wantAWS, wantCustom := len(in.Filters) == 0, len(in.Filters) == 0
	for _, f := range in.Filters {
		wantAWS = wantAWS || f == locationFilterAWS
		wantCustom = wantCustom || f == locationFilterCustom
	}
	var all []shapes.LocationModel
	if wantAWS {
		all = append(all, shapes.LocationModel{LocationName: ptr(s.cfg.Region)})
	}
	if wantCustom {
		err := s.st.View(ctx, func(tx store.Tx) error {
			ls, err := tx.ListLocations()
			for _, l := range ls {
				all = append(all, s.toLocationModel(l))
			}
			return err
		})
		if err != nil {
			return nil, storeErr(err)
		}
	}
	items, next, err := page(all, in.Limit, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return &shapes.ListLocationsOutput{Locations: nonNil(items), NextToken: next}, nil
}

// DeleteLocation removes a custom location by name or ARN.
//
// A location that a fleet still lists is refused: the fleet's computes and game
// sessions would be left pointing at a location that no longer exists.
// DeleteLocation's modeled errors have no ConflictException, so the refusal is
// an InvalidRequestException; delete the fleet first. Terminated fleets do not
// hold a location.
func (s *Service) DeleteLocation(ctx context.Context, in *shapes.DeleteLocationInput) (*shapes.DeleteLocationOutput, error) {
	var c checker
	c.reqStr("LocationName", in.LocationName, 1, 128, reCustomLocOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	name := locationNameFromInput(*in.LocationName)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetLocation(name); errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Location %s not found.", name)
		} else if err != nil {
			return err
		}
		fleets, err := tx.ListFleets()
		if err != nil {
			return err
		}
		for _, f := range fleets {
			if f.Status != model.FleetTerminated && containsString(f.Locations, name) {
				return apierr.Invalid("Location %s is in use by fleet %s; delete the fleet first.", name, f.ID)
			}
		}
		return tx.DeleteLocation(name)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.DeleteLocationOutput{}, nil
}

// locationNameFromInput turns arn:…:location/custom-x into custom-x. The ARN
// pattern allows any non-space after "location/", so cut there rather than at
// the last slash.
func locationNameFromInput(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if _, after, ok := strings.Cut(v, ":location/"); ok {
			return after
		}
	}
	return v
}

// nonEmpty makes an empty enum value visible to checker.enum, which otherwise
// treats "" as an absent member.
func nonEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
