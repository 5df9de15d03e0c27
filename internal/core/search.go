package core

import (
	"context"
	"slices"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/search"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// searchPageSize is GameLift's cap on SearchGameSessions pages: 20 whatever
// Limit says (spec §1.7).
const searchPageSize = 20

// SearchGameSessions returns the ACTIVE game sessions of a fleet (or of the
// fleet an alias routes to) that match FilterExpression, ordered by
// SortExpression. GameLift leaves the order without a SortExpression
// unspecified; openlift uses creation order, the order the store keeps. As
// in DescribeGameSessions, a Location the fleet does not have simply matches
// nothing.
func (s *Service) SearchGameSessions(ctx context.Context, in *shapes.SearchGameSessionsInput) (*shapes.SearchGameSessionsOutput, error) {
	var c checker
	c.str("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.str("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	c.str("Location", in.Location, 1, 64, reLocation)
	c.str("FilterExpression", in.FilterExpression, 1, 1024, nil)
	c.str("SortExpression", in.SortExpression, 1, 1024, nil)
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var (
		filter search.Filter
		order  search.Sort
		sorted = in.SortExpression != nil
		err    error
	)
	if in.FilterExpression != nil {
		if filter, err = search.ParseFilter(*in.FilterExpression); err != nil {
			return nil, apierr.Invalid("FilterExpression: %s", err)
		}
	}
	if sorted {
		if order, err = search.ParseSort(*in.SortExpression); err != nil {
			return nil, apierr.Invalid("SortExpression: %s", err)
		}
	}
	var list []model.GameSession
	err = s.st.View(ctx, func(tx store.Tx) error {
		fleet, err := s.resolveFleet(tx, in.FleetId, in.AliasId)
		if err != nil {
			return err
		}
		list, err = tx.ListGameSessions(store.GameSessionFilter{
			FleetID:  fleet.ID,
			Location: deref(in.Location),
			Statuses: []model.GameSessionStatus{model.GameSessionActive},
		})
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	// Pointers into list: the interface conversions and the sort then copy
	// no session records and allocate nothing per session.
	hits := make([]*searchSession, 0, len(list))
	for i := range list {
		if g := (*searchSession)(&list[i]); filter.Match(g) {
			hits = append(hits, g)
		}
	}
	if sorted {
		// Compare is a total order, so pages stay consistent from one
		// request to the next while the sessions do not change.
		slices.SortFunc(hits, func(a, b *searchSession) int { return order.Compare(a, b) })
	}
	limit := int32(searchPageSize)
	if in.Limit != nil && *in.Limit < limit {
		limit = *in.Limit
	}
	pg, next, err := page(hits, &limit, in.NextToken, searchPageSize)
	if err != nil {
		return nil, err
	}
	out := make([]shapes.GameSession, 0, len(pg))
	for _, g := range pg {
		out = append(out, toGameSession(model.GameSession(*g)))
	}
	return &shapes.SearchGameSessionsOutput{GameSessions: out, NextToken: next}, nil
}

// searchSession is a stored game session seen through search.Session.
type searchSession model.GameSession

func (g *searchSession) GameSessionID() string           { return g.ID }
func (g *searchSession) GameSessionName() (string, bool) { return g.Name, g.Name != "" }
func (g *searchSession) MaximumSessions() int64          { return int64(g.MaximumPlayerSessionCount) }
func (g *searchSession) CreationTimeMillis() int64       { return g.CreationTime.UnixMilli() }
func (g *searchSession) PlayerSessionCount() int64       { return int64(g.CurrentPlayerSessionCount) }

func (g *searchSession) GameSessionProperty(key string) (string, bool) {
	for _, p := range g.GameProperties {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}
