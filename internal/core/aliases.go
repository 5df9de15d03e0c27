package core

import (
	"context"
	"errors"
	"strings"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// aliasIDFromInput turns arn:…:alias/alias-x into alias-x. The ARN pattern
// allows any non-space after "alias/", so cut there rather than at the last
// slash.
func aliasIDFromInput(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if _, after, ok := strings.Cut(v, ":alias/"); ok {
			return after
		}
	}
	return v
}

func (s *Service) getAlias(tx store.Tx, idOrArn string) (model.Alias, error) {
	id := aliasIDFromInput(idOrArn)
	a, err := tx.GetAlias(id)
	if errors.Is(err, store.ErrNotFound) {
		return a, apierr.New(apierr.NotFound, "Alias %s not found.", id)
	}
	return a, err
}

func toAlias(a model.Alias) shapes.Alias {
	rs := &shapes.RoutingStrategy{Type: a.RoutingType}
	if a.RoutingType == model.RoutingSimple {
		rs.FleetId = strp(a.FleetID)
	} else {
		rs.Message = strp(a.Message)
	}
	return shapes.Alias{
		AliasId:         ptr(a.ID),
		AliasArn:        ptr(a.Arn),
		Name:            ptr(a.Name),
		Description:     strp(a.Description),
		RoutingStrategy: rs,
		CreationTime:    shapes.NewTimestamp(a.CreationTime),
		LastUpdatedTime: shapes.NewTimestamp(a.LastUpdatedTime),
	}
}

// checkRoutingStrategy enforces RoutingStrategy's shape. The model makes every
// member optional, but an alias without a Type cannot route, so Type is
// required; a SIMPLE alias needs a fleet id (not an ARN: the member is a
// FleetId).
func checkRoutingStrategy(c *checker, rs *shapes.RoutingStrategy) {
	c.required("RoutingStrategy", rs != nil)
	if rs == nil {
		return
	}
	c.required("RoutingStrategy.Type", rs.Type != "")
	c.enum("RoutingStrategy.Type", rs.Type, model.RoutingSimple, model.RoutingTerminal)
	c.str("RoutingStrategy.FleetId", rs.FleetId, 1, 128, reFleetID)
	if rs.Type == model.RoutingSimple {
		c.required("RoutingStrategy.FleetId", rs.FleetId != nil)
	}
}

// applyRoutingStrategy stores rs on a. A TERMINAL strategy drops any FleetId,
// as GameLift does (aws-cdk PR #38448); symmetrically a SIMPLE one drops its
// Message, which nothing could ever show. A SIMPLE alias must point at a fleet
// that exists and is not deleted: an alias that can never resolve is a
// mistake worth reporting now. CreateAlias has no NotFoundException in its
// model, so this is an InvalidRequestException naming the member.
func (s *Service) applyRoutingStrategy(tx store.Tx, a *model.Alias, rs *shapes.RoutingStrategy) error {
	a.RoutingType = rs.Type
	a.FleetID, a.Message = "", ""
	if rs.Type == model.RoutingTerminal {
		a.Message = deref(rs.Message)
		return nil
	}
	f, err := tx.GetFleet(*rs.FleetId)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Status == model.FleetTerminated) {
		return apierr.Invalid("RoutingStrategy.FleetId %s does not name an existing fleet", *rs.FleetId)
	}
	if err != nil {
		return err
	}
	a.FleetID = f.ID
	return nil
}

// CreateAlias creates an alias. Names need not be unique (spec §3.7).
func (s *Service) CreateAlias(ctx context.Context, in *shapes.CreateAliasInput) (*shapes.CreateAliasOutput, error) {
	var c checker
	c.reqStr("Name", in.Name, 1, 1024, reNonBlank)
	c.str("Description", in.Description, 1, 1024, nil)
	checkRoutingStrategy(&c, in.RoutingStrategy)
	checkTags(&c, in.Tags)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	id := "alias-" + newUUID()
	a := model.Alias{
		ID:              id,
		Arn:             s.aliasArn(id),
		Name:            *in.Name,
		Description:     deref(in.Description),
		CreationTime:    now,
		LastUpdatedTime: now,
		Tags:            tagMap(in.Tags),
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if err := s.applyRoutingStrategy(tx, &a, in.RoutingStrategy); err != nil {
			return err
		}
		return tx.InsertAlias(a)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toAlias(a)
	return &shapes.CreateAliasOutput{Alias: &out}, nil
}

// DescribeAlias describes an alias by id or ARN.
func (s *Service) DescribeAlias(ctx context.Context, in *shapes.DescribeAliasInput) (*shapes.DescribeAliasOutput, error) {
	var c checker
	c.reqStr("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var a model.Alias
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = s.getAlias(tx, *in.AliasId)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toAlias(a)
	return &shapes.DescribeAliasOutput{Alias: &out}, nil
}

// terminalErr is what every alias-accepting operation answers for a TERMINAL
// alias. The exception's message is the alias' Message (spec §1.5); an alias
// created without one gets a sentence instead of an empty message.
func terminalErr(a model.Alias) error {
	if a.Message != "" {
		return apierr.New(apierr.TerminalRoutingStrategy, "%s", a.Message)
	}
	return apierr.New(apierr.TerminalRoutingStrategy, "Alias %s has a TERMINAL routing strategy.", a.ID)
}

// ResolveAlias returns the fleet a SIMPLE alias points at. The fleet is not
// re-checked: GameLift resolves an alias whose fleet has since been deleted,
// and operations that then use the fleet report its state themselves.
func (s *Service) ResolveAlias(ctx context.Context, in *shapes.ResolveAliasInput) (*shapes.ResolveAliasOutput, error) {
	var c checker
	c.reqStr("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var a model.Alias
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = s.getAlias(tx, *in.AliasId)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if a.RoutingType == model.RoutingTerminal {
		return nil, terminalErr(a)
	}
	return &shapes.ResolveAliasOutput{FleetId: ptr(a.FleetID), FleetArn: ptr(s.fleetArn(a.FleetID))}, nil
}

// ListAliases lists aliases, filtered by routing type and exact name.
func (s *Service) ListAliases(ctx context.Context, in *shapes.ListAliasesInput) (*shapes.ListAliasesOutput, error) {
	var c checker
	c.enum("RoutingStrategyType", in.RoutingStrategyType, model.RoutingSimple, model.RoutingTerminal)
	c.str("Name", in.Name, 1, -1, nil)
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, -1, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var list []model.Alias
	err := s.st.View(ctx, func(tx store.Tx) error {
		list = nil
		all, err := tx.ListAliases()
		for _, a := range all {
			if in.RoutingStrategyType != "" && a.RoutingType != in.RoutingStrategyType {
				continue
			}
			if in.Name != nil && a.Name != *in.Name {
				continue
			}
			list = append(list, a)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	items, next, err := page(list, in.Limit, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := make([]shapes.Alias, 0, len(items))
	for _, a := range items {
		out = append(out, toAlias(a))
	}
	return &shapes.ListAliasesOutput{Aliases: out, NextToken: next}, nil
}

// UpdateAlias changes the supplied members; a RoutingStrategy replaces the
// old one whole. LastUpdatedTime moves on every successful call.
func (s *Service) UpdateAlias(ctx context.Context, in *shapes.UpdateAliasInput) (*shapes.UpdateAliasOutput, error) {
	var c checker
	c.reqStr("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	c.str("Name", in.Name, 1, 1024, reNonBlank)
	c.str("Description", in.Description, 1, 1024, nil)
	if in.RoutingStrategy != nil {
		checkRoutingStrategy(&c, in.RoutingStrategy)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var a model.Alias
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		a, err = s.getAlias(tx, *in.AliasId)
		if err != nil {
			return err
		}
		if in.Name != nil {
			a.Name = *in.Name
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.RoutingStrategy != nil {
			if err := s.applyRoutingStrategy(tx, &a, in.RoutingStrategy); err != nil {
				return err
			}
		}
		a.LastUpdatedTime = now
		return tx.PutAlias(a)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toAlias(a)
	return &shapes.UpdateAliasOutput{Alias: &out}, nil
}

// DeleteAlias removes the alias record entirely.
func (s *Service) DeleteAlias(ctx context.Context, in *shapes.DeleteAliasInput) (*shapes.DeleteAliasOutput, error) {
	var c checker
	c.reqStr("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		a, err := s.getAlias(tx, *in.AliasId)
		if err != nil {
			return err
		}
		err = tx.DeleteAlias(a.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Alias %s not found.", a.ID)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.DeleteAliasOutput{}, nil
}

// resolveFleet finds the fleet an operation addresses by FleetId (id or ARN)
// or AliasId (id or ARN); exactly one must be given. It returns the fleet in
// whatever status it is, TERMINATED included, so that reads (describing the
// sessions of a deleted fleet) work; callers that need an ACTIVE fleet check
// Status themselves. Errors: InvalidRequestException (neither or both, or a
// malformed value), TerminalRoutingStrategyException (TERMINAL alias, with
// its message), NotFoundException (unknown alias, or unknown fleet, including
// the fleet of a SIMPLE alias).
func (s *Service) resolveFleet(tx store.Tx, fleetID, aliasID *string) (model.Fleet, error) {
	switch {
	case fleetID != nil && aliasID != nil:
		return model.Fleet{}, apierr.Invalid("Specify either FleetId or AliasId, not both")
	case fleetID == nil && aliasID == nil:
		return model.Fleet{}, apierr.Invalid("Either FleetId or AliasId is required")
	}
	var c checker
	c.str("FleetId", fleetID, 1, 512, reFleetIDOrArn)
	c.str("AliasId", aliasID, 1, 512, reAliasIDOrArn)
	if err := c.Err(); err != nil {
		return model.Fleet{}, err
	}
	if fleetID != nil {
		return s.anyFleet(tx, *fleetID)
	}
	a, err := s.getAlias(tx, *aliasID)
	if err != nil {
		return model.Fleet{}, err
	}
	if a.RoutingType == model.RoutingTerminal {
		return model.Fleet{}, terminalErr(a)
	}
	return s.anyFleet(tx, a.FleetID)
}
