package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Fleet-level enums and defaults (spec §3.2, §3.5).
const (
	computeTypeEC2      = "EC2"
	computeTypeAnywhere = "ANYWHERE"

	certificateDisabled  = "DISABLED"
	certificateGenerated = "GENERATED"

	playerGatewayDisabled = "DISABLED"

	// maxFleetIDsPerRequest caps FleetIds in the Describe* operations. GameLift
	// has a cap but does not document it; 100 keeps a request bounded while
	// covering any realistic batch.
	maxFleetIDsPerRequest = 100

	defaultMetricGroup = "default"
)

// Patterns the shared validate.go does not carry (spec §3.1, §3.2).
var (
	reBuildIDOrArn  = regexp.MustCompile(`^(build-\S+|arn:.*:build\/build-\S+)$`)
	reScriptIDOrArn = regexp.MustCompile(`^(script-\S+|arn:.*:script\/script-\S+)$`)
	reNoSpace       = regexp.MustCompile(`^[^\s]+$`)
	// ListCompute.ContainerGroupDefinitionName: a name or a (versioned) ARN.
	reContainerGroupDefinition = regexp.MustCompile(`^[a-zA-Z0-9\-]+$|^arn:.*:containergroupdefinition\/[a-zA-Z0-9\-]+(:[0-9]+)?$`)
)

// anyFleet finds a fleet by id or ARN in any status, TERMINATED included.
func (s *Service) anyFleet(tx store.Tx, idOrArn string) (model.Fleet, error) {
	id := fleetIDFromInput(idOrArn)
	f, err := tx.GetFleet(id)
	if errors.Is(err, store.ErrNotFound) {
		return model.Fleet{}, apierr.New(apierr.NotFound, "Fleet %s not found.", id)
	}
	return f, err
}

// liveFleet is anyFleet for operations that change or use a fleet: a
// TERMINATED fleet is gone as far as they are concerned. The store keeps
// terminated records (so that DescribeFleetAttributes and DescribeFleetEvents
// can still show them), which is why the status has to be checked here.
func (s *Service) liveFleet(tx store.Tx, idOrArn string) (model.Fleet, error) {
	f, err := s.anyFleet(tx, idOrArn)
	if err != nil {
		return f, err
	}
	if f.Status == model.FleetTerminated {
		return model.Fleet{}, apierr.New(apierr.NotFound, "Fleet %s not found.", f.ID)
	}
	return f, nil
}

func (s *Service) toFleetAttributes(f model.Fleet) shapes.FleetAttributes {
	out := shapes.FleetAttributes{
		FleetId:                        ptr(f.ID),
		FleetArn:                       ptr(f.Arn),
		Name:                           ptr(f.Name),
		Description:                    strp(f.Description),
		CreationTime:                   shapes.NewTimestamp(f.CreationTime),
		TerminationTime:                shapes.NewTimestamp(f.TerminationTime),
		Status:                         f.Status,
		ComputeType:                    f.ComputeType,
		NewGameSessionProtectionPolicy: f.NewGameSessionProtectionPolicy,
		MetricGroups:                   append([]string(nil), f.MetricGroups...),
		CertificateConfiguration:       &shapes.CertificateConfiguration{CertificateType: f.CertificateType},
		// GameLift reports a fleet without a policy as a policy of zeros.
		ResourceCreationLimitPolicy: &shapes.ResourceCreationLimitPolicy{
			NewGameSessionsPerCreator: ptr(int32(0)),
			PolicyPeriodInMinutes:     ptr(int32(0)),
		},
	}
	if out.NewGameSessionProtectionPolicy == "" {
		out.NewGameSessionProtectionPolicy = model.NoProtection
	}
	if len(out.MetricGroups) == 0 {
		out.MetricGroups = []string{defaultMetricGroup}
	}
	if out.CertificateConfiguration.CertificateType == "" {
		out.CertificateConfiguration.CertificateType = certificateDisabled
	}
	if p := f.ResourceCreationLimitPolicy; p != nil {
		out.ResourceCreationLimitPolicy = &shapes.ResourceCreationLimitPolicy{
			NewGameSessionsPerCreator: ptr(p.NewGameSessionsPerCreator),
			PolicyPeriodInMinutes:     ptr(p.PolicyPeriodInMinutes),
		}
	}
	if f.AnywhereCost != "" {
		out.AnywhereConfiguration = &shapes.AnywhereConfiguration{Cost: ptr(f.AnywhereCost)}
	}
	return out
}

// locationStates lists only the custom locations: an Anywhere fleet hosts
// nothing in its home Region, so GameLift does not report the Region as one of
// its locations. Every location of a live fleet is ACTIVE because Anywhere
// fleets never build anything.
func locationStates(f model.Fleet) []shapes.LocationState {
	out := make([]shapes.LocationState, 0, len(f.Locations))
	for _, l := range f.Locations {
		out = append(out, shapes.LocationState{Location: ptr(l), Status: f.Status})
	}
	return out
}

// checkCreationLimitPolicy enforces ResourceCreationLimitPolicy (both WholeNumber).
func checkCreationLimitPolicy(c *checker, p *shapes.ResourceCreationLimitPolicy) {
	if p == nil {
		return
	}
	c.int32Range("ResourceCreationLimitPolicy.NewGameSessionsPerCreator", p.NewGameSessionsPerCreator, 0, maxInt32)
	c.int32Range("ResourceCreationLimitPolicy.PolicyPeriodInMinutes", p.PolicyPeriodInMinutes, 0, maxInt32)
}

// creationLimitPolicy converts the wire policy. A policy of zeros is what
// GameLift reports for "no policy", so it is stored as none: the game session
// code then applies the default per-creator limit instead of "zero sessions".
func creationLimitPolicy(p *shapes.ResourceCreationLimitPolicy) *model.ResourceCreationLimitPolicy {
	if p == nil {
		return nil
	}
	m := model.ResourceCreationLimitPolicy{
		NewGameSessionsPerCreator: deref(p.NewGameSessionsPerCreator),
		PolicyPeriodInMinutes:     deref(p.PolicyPeriodInMinutes),
	}
	if m == (model.ResourceCreationLimitPolicy{}) {
		return nil
	}
	return &m
}

func checkMetricGroups(c *checker, groups []string) {
	c.count("MetricGroups", len(groups), 0, 1)
	for i, g := range groups {
		c.strVal(indexed("MetricGroups", i, ""), g, 1, 255, nil)
	}
}

func checkAnywhereConfiguration(c *checker, a *shapes.AnywhereConfiguration) {
	if a == nil {
		return
	}
	c.reqStr("AnywhereConfiguration.Cost", a.Cost, 1, 11, reAnywhereCost)
}

func checkFleetIDList(c *checker, ids []string) {
	if ids == nil {
		return
	}
	c.count("FleetIds", len(ids), 1, maxFleetIDsPerRequest)
	for i, id := range ids {
		c.strVal(indexed("FleetIds", i, ""), id, 1, 512, reFleetIDOrArn)
	}
}

func checkIPPermissions(c *checker, perms []shapes.IpPermission) {
	c.count("EC2InboundPermissions", len(perms), 0, 50)
	for i, p := range perms {
		name := indexed("EC2InboundPermissions", i, "")
		c.required(name+".FromPort", p.FromPort != nil)
		c.int32Range(name+".FromPort", p.FromPort, 1, 60000)
		c.required(name+".ToPort", p.ToPort != nil)
		c.int32Range(name+".ToPort", p.ToPort, 1, 60000)
		c.reqStr(name+".IpRange", p.IpRange, 1, -1, reNoSpace)
		c.required(name+".Protocol", p.Protocol != "")
		c.enum(name+".Protocol", p.Protocol, "TCP", "UDP")
	}
}

// CreateFleet creates an Anywhere fleet. openlift runs no EC2 instances, so
// EC2 fleets (ComputeType EC2, or omitted, which GameLift defaults to EC2) are
// refused, as are the members that only make sense for them: accepting them
// silently would suggest that a build or instance type is being used. Every
// member is still checked against the model's constraints first, so a client
// learns about all of its mistakes in the order GameLift would name them.
func (s *Service) CreateFleet(ctx context.Context, in *shapes.CreateFleetInput) (*shapes.CreateFleetOutput, error) {
	var c checker
	c.reqStr("Name", in.Name, 1, 1024, nil)
	c.str("Description", in.Description, 1, 1024, nil)
	c.str("BuildId", in.BuildId, 1, 512, reBuildIDOrArn)
	c.str("ScriptId", in.ScriptId, 1, 512, reScriptIDOrArn)
	c.str("ServerLaunchPath", in.ServerLaunchPath, 1, 1024, reLaunchPath)
	c.str("ServerLaunchParameters", in.ServerLaunchParameters, 1, 1024, reLaunchParameters)
	for i, p := range in.LogPaths {
		c.strVal(indexed("LogPaths", i, ""), p, 1, 1024, nil)
	}
	checkIPPermissions(&c, in.EC2InboundPermissions)
	c.enum("NewGameSessionProtectionPolicy", in.NewGameSessionProtectionPolicy, model.NoProtection, model.FullProtection)
	checkRuntimeConfiguration(&c, in.RuntimeConfiguration, false)
	checkCreationLimitPolicy(&c, in.ResourceCreationLimitPolicy)
	checkMetricGroups(&c, in.MetricGroups)
	c.str("PeerVpcAwsAccountId", in.PeerVpcAwsAccountId, 1, 1024, nil)
	c.str("PeerVpcId", in.PeerVpcId, 1, 1024, nil)
	c.enum("FleetType", in.FleetType, "ON_DEMAND", "SPOT")
	c.str("InstanceRoleArn", in.InstanceRoleArn, 1, -1, nil)
	if cc := in.CertificateConfiguration; cc != nil {
		c.required("CertificateConfiguration.CertificateType", cc.CertificateType != "")
		c.enum("CertificateConfiguration.CertificateType", cc.CertificateType, certificateDisabled, certificateGenerated)
	}
	if in.Locations != nil {
		c.count("Locations", len(in.Locations), 1, 100)
	}
	for i, l := range in.Locations {
		c.reqStr(indexed("Locations", i, "Location"), l.Location, 1, 64, reLocation)
	}
	checkTags(&c, in.Tags)
	c.enum("ComputeType", in.ComputeType, computeTypeEC2, computeTypeAnywhere)
	checkAnywhereConfiguration(&c, in.AnywhereConfiguration)
	c.enum("InstanceRoleCredentialsProvider", in.InstanceRoleCredentialsProvider, "SHARED_CREDENTIAL_FILE")
	c.enum("PlayerGatewayMode", in.PlayerGatewayMode, "DISABLED", "ENABLED", "REQUIRED")
	if pg := in.PlayerGatewayConfiguration; pg != nil {
		c.enum("PlayerGatewayConfiguration.GameServerIpProtocolSupported", pg.GameServerIpProtocolSupported, "IPv4", "DUAL_STACK")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}

	if in.ComputeType != computeTypeAnywhere {
		return nil, apierr.Invalid("ComputeType must be ANYWHERE: openlift supports only ANYWHERE fleets")
	}
	for _, m := range []struct {
		name string
		set  bool
	}{
		{"BuildId", in.BuildId != nil},
		{"ScriptId", in.ScriptId != nil},
		{"ServerLaunchPath", in.ServerLaunchPath != nil},
		{"ServerLaunchParameters", in.ServerLaunchParameters != nil},
		{"LogPaths", len(in.LogPaths) > 0},
		{"EC2InstanceType", in.EC2InstanceType != ""},
		{"EC2InboundPermissions", len(in.EC2InboundPermissions) > 0},
		{"FleetType", in.FleetType != ""},
		{"PeerVpcAwsAccountId", in.PeerVpcAwsAccountId != nil},
		{"PeerVpcId", in.PeerVpcId != nil},
		{"InstanceRoleArn", in.InstanceRoleArn != nil},
		{"InstanceRoleCredentialsProvider", in.InstanceRoleCredentialsProvider != ""},
	} {
		if m.set {
			return nil, apierr.Invalid("%s is not supported for ANYWHERE fleets", m.name)
		}
	}
	// Custom locations have no player gateway, so a fleet cannot turn it on.
	if in.PlayerGatewayMode != "" && in.PlayerGatewayMode != playerGatewayDisabled {
		return nil, apierr.Invalid("PlayerGatewayMode must be DISABLED: custom locations have no player gateway")
	}
	if len(in.Locations) == 0 {
		return nil, apierr.Invalid("Locations is required for ANYWHERE fleets")
	}
	locs := make([]string, 0, len(in.Locations))
	for i, l := range in.Locations {
		name := *l.Location
		if !reCustomLocation.MatchString(name) {
			return nil, apierr.Invalid("%s must be a custom location (custom-...) for ANYWHERE fleets, got %q", indexed("Locations", i, "Location"), name)
		}
		if containsString(locs, name) {
			return nil, apierr.Invalid("Locations lists %s more than once", name)
		}
		locs = append(locs, name)
	}

	now := s.now()
	id := "fleet-" + newUUID()
	f := model.Fleet{
		ID:                             id,
		Arn:                            s.fleetArn(id),
		Name:                           *in.Name,
		Description:                    deref(in.Description),
		ComputeType:                    computeTypeAnywhere,
		Status:                         model.FleetActive,
		CreationTime:                   now,
		Locations:                      locs,
		NewGameSessionProtectionPolicy: in.NewGameSessionProtectionPolicy,
		ResourceCreationLimitPolicy:    creationLimitPolicy(in.ResourceCreationLimitPolicy),
		MetricGroups:                   in.MetricGroups,
		CertificateType:                certificateDisabled,
		Tags:                           tagMap(in.Tags),
	}
	if f.NewGameSessionProtectionPolicy == "" {
		f.NewGameSessionProtectionPolicy = model.NoProtection
	}
	if len(f.MetricGroups) == 0 {
		f.MetricGroups = []string{defaultMetricGroup}
	}
	if in.CertificateConfiguration != nil {
		f.CertificateType = in.CertificateConfiguration.CertificateType
	}
	if in.AnywhereConfiguration != nil {
		f.AnywhereCost = *in.AnywhereConfiguration.Cost
	}
	setRuntimeConfiguration(&f, in.RuntimeConfiguration)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		for _, l := range f.Locations {
			if _, err := tx.GetLocation(l); errors.Is(err, store.ErrNotFound) {
				return apierr.New(apierr.NotFound, "Location %s not found.", l)
			} else if err != nil {
				return err
			}
		}
		if err := tx.InsertFleet(f); err != nil {
			return err
		}
		if err := fleetEvent(tx, f.ID, eventFleetCreated, fmt.Sprintf("Fleet %s created.", f.ID), now); err != nil {
			return err
		}
		// Anywhere fleets have nothing to build: straight to ACTIVE (spec §4.5).
		return fleetEvent(tx, f.ID, eventFleetStateActive, fmt.Sprintf("Fleet %s changed status to ACTIVE.", f.ID), now)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	attrs := s.toFleetAttributes(f)
	return &shapes.CreateFleetOutput{FleetAttributes: &attrs, LocationStates: locationStates(f)}, nil
}

// selectFleets implements the shared selection of DescribeFleetAttributes and
// DescribeFleetUtilization. With FleetIds it returns those fleets in request
// order, skipping unknown ids and repeats, and ignores Limit/NextToken (spec
// §1.7); deleted fleets stay visible by id, as GameLift keeps TERMINATED
// fleets describable. Without FleetIds it pages through the fleets that are
// not TERMINATED: the store keeps terminated records forever, and listing them
// all would grow without bound.
func (s *Service) selectFleets(ctx context.Context, ids []string, limit *int32, next *string, fn func(tx store.Tx, fleets []model.Fleet) error) (*string, error) {
	var c checker
	checkFleetIDList(&c, ids)
	c.int32Range("Limit", limit, 1, maxInt32)
	c.str("NextToken", next, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var token *string
	err := s.st.View(ctx, func(tx store.Tx) error {
		token = nil
		var fleets []model.Fleet
		if ids != nil {
			seen := map[string]bool{}
			for _, raw := range ids {
				id := fleetIDFromInput(raw)
				if seen[id] {
					continue
				}
				seen[id] = true
				f, err := tx.GetFleet(id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				fleets = append(fleets, f)
			}
			return fn(tx, fleets)
		}
		all, err := tx.ListFleets()
		if err != nil {
			return err
		}
		for _, f := range all {
			if f.Status != model.FleetTerminated {
				fleets = append(fleets, f)
			}
		}
		fleets, token, err = page(fleets, limit, next, 100)
		if err != nil {
			return err
		}
		return fn(tx, fleets)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return token, nil
}

// DescribeFleetAttributes describes fleets by id or ARN, or all fleets.
func (s *Service) DescribeFleetAttributes(ctx context.Context, in *shapes.DescribeFleetAttributesInput) (*shapes.DescribeFleetAttributesOutput, error) {
	out := &shapes.DescribeFleetAttributesOutput{FleetAttributes: []shapes.FleetAttributes{}}
	next, err := s.selectFleets(ctx, in.FleetIds, in.Limit, in.NextToken, func(_ store.Tx, fleets []model.Fleet) error {
		out.FleetAttributes = out.FleetAttributes[:0]
		for _, f := range fleets {
			out.FleetAttributes = append(out.FleetAttributes, s.toFleetAttributes(f))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	return out, nil
}

// ListFleets lists the ids of the fleets that are not TERMINATED. A BuildId or
// ScriptId filter matches nothing: Anywhere fleets have neither.
func (s *Service) ListFleets(ctx context.Context, in *shapes.ListFleetsInput) (*shapes.ListFleetsOutput, error) {
	var c checker
	c.str("BuildId", in.BuildId, 1, 512, reBuildIDOrArn)
	c.str("ScriptId", in.ScriptId, 1, 512, reScriptIDOrArn)
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var ids []string
	if in.BuildId == nil && in.ScriptId == nil {
		err := s.st.View(ctx, func(tx store.Tx) error {
			ids = nil
			fleets, err := tx.ListFleets()
			for _, f := range fleets {
				if f.Status != model.FleetTerminated {
					ids = append(ids, f.ID)
				}
			}
			return err
		})
		if err != nil {
			return nil, storeErr(err)
		}
	}
	items, next, err := page(ids, in.Limit, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return &shapes.ListFleetsOutput{FleetIds: nonNil(items), NextToken: next}, nil
}

// UpdateFleetAttributes changes the supplied members only.
func (s *Service) UpdateFleetAttributes(ctx context.Context, in *shapes.UpdateFleetAttributesInput) (*shapes.UpdateFleetAttributesOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.str("Name", in.Name, 1, 1024, nil)
	c.str("Description", in.Description, 1, 1024, nil)
	c.enum("NewGameSessionProtectionPolicy", in.NewGameSessionProtectionPolicy, model.NoProtection, model.FullProtection)
	checkCreationLimitPolicy(&c, in.ResourceCreationLimitPolicy)
	checkMetricGroups(&c, in.MetricGroups)
	checkAnywhereConfiguration(&c, in.AnywhereConfiguration)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var f model.Fleet
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return apierr.New(apierr.InvalidFleetStatus, "Fleet %s is %s and can no longer be updated.", f.ID, f.Status)
		}
		if in.Name != nil {
			f.Name = *in.Name
		}
		if in.Description != nil {
			f.Description = *in.Description
		}
		protectionChanged := false
		if p := in.NewGameSessionProtectionPolicy; p != "" && p != f.NewGameSessionProtectionPolicy {
			f.NewGameSessionProtectionPolicy = p
			protectionChanged = true
		}
		// The policy is one value: a partial policy replaces the whole, with
		// absent members meaning 0, as in CreateFleet.
		if in.ResourceCreationLimitPolicy != nil {
			f.ResourceCreationLimitPolicy = creationLimitPolicy(in.ResourceCreationLimitPolicy)
		}
		// An empty list cannot be told apart from an absent one on every
		// codec, so only a non-empty list changes the metric group.
		if len(in.MetricGroups) > 0 {
			f.MetricGroups = in.MetricGroups
		}
		if in.AnywhereConfiguration != nil {
			f.AnywhereCost = *in.AnywhereConfiguration.Cost
		}
		if err := tx.PutFleet(f); err != nil {
			return err
		}
		if protectionChanged {
			msg := fmt.Sprintf("Fleet %s new game session protection policy updated to %s.", f.ID, f.NewGameSessionProtectionPolicy)
			return fleetEvent(tx, f.ID, eventFleetProtectionPolicyUpdated, msg, now)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.UpdateFleetAttributesOutput{FleetId: ptr(f.ID), FleetArn: ptr(f.Arn)}, nil
}

// liveGameSessionStatuses are the statuses that keep a fleet from being deleted.
var liveGameSessionStatuses = []model.GameSessionStatus{
	model.GameSessionActivating, model.GameSessionActive, model.GameSessionTerminating,
}

// DeleteFleet deletes an Anywhere fleet: ACTIVE → DELETING → TERMINATED at
// once. A fleet that still hosts game sessions is refused; the caller must
// terminate them first, so that no player is cut off by a fleet deletion.
//
// The fleet is marked DELETING first, in its own transaction, so that no game
// session or compute can be added while its processes are being ended; if
// ending them fails, the fleet stays DELETING and a repeated DeleteFleet
// carries on from there.
func (s *Service) DeleteFleet(ctx context.Context, in *shapes.DeleteFleetInput) (*shapes.DeleteFleetOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var f model.Fleet
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		live, err := tx.ListGameSessions(store.GameSessionFilter{FleetID: f.ID, Statuses: liveGameSessionStatuses})
		if err != nil {
			return err
		}
		if len(live) > 0 {
			return apierr.New(apierr.InvalidFleetStatus,
				"Fleet %s still has %d game sessions that are ACTIVATING, ACTIVE or TERMINATING; terminate them before deleting the fleet.", f.ID, len(live))
		}
		if f.Status == model.FleetDeleting {
			return nil
		}
		f.Status = model.FleetDeleting
		return tx.PutFleet(f)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	// Connected processes are told to exit: nothing can reach them any more.
	if err := s.endProcesses(ctx, store.ProcessFilter{FleetID: f.ID}, "", true); err != nil {
		return nil, storeErr(err)
	}
	now := s.now()
	err = s.st.Update(ctx, func(tx store.Tx) error {
		computes, err := tx.ListComputes(f.ID)
		if err != nil {
			return err
		}
		for _, cp := range computes {
			if err := tx.DeleteCompute(f.ID, cp.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		f, err = tx.GetFleet(f.ID)
		if err != nil {
			return err
		}
		f.Status = model.FleetTerminated
		f.TerminationTime = now
		if err := tx.PutFleet(f); err != nil {
			return err
		}
		return fleetEvent(tx, f.ID, eventFleetDeleted, fmt.Sprintf("Fleet %s deleted.", f.ID), now)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.DeleteFleetOutput{}, nil
}

// utilization sums a fleet's activity, in one location or ("") all of them.
//
// Only ACTIVE game sessions count as active: an ACTIVATING session has not been
// confirmed by its server and admits no players yet. Player counts are summed
// over those same sessions, so the four numbers describe one consistent set.
func utilization(tx store.Tx, f model.Fleet, location string) (shapes.FleetUtilization, error) {
	procs, err := tx.ListProcesses(store.ProcessFilter{FleetID: f.ID, Statuses: []model.ProcessStatus{model.ProcessActive}})
	if err != nil {
		return shapes.FleetUtilization{}, err
	}
	var nProcs int32
	for _, p := range procs {
		if location == "" || p.Location == location {
			nProcs++
		}
	}
	sessions, err := tx.ListGameSessions(store.GameSessionFilter{
		FleetID:  f.ID,
		Location: location,
		Statuses: []model.GameSessionStatus{model.GameSessionActive},
	})
	if err != nil {
		return shapes.FleetUtilization{}, err
	}
	var cur, maxPlayers int32
	for _, g := range sessions {
		cur += g.CurrentPlayerSessionCount
		maxPlayers += g.MaximumPlayerSessionCount
	}
	return shapes.FleetUtilization{
		FleetId:                   ptr(f.ID),
		FleetArn:                  ptr(f.Arn),
		ActiveServerProcessCount:  ptr(nProcs),
		ActiveGameSessionCount:    ptr(int32(len(sessions))),
		CurrentPlayerSessionCount: ptr(cur),
		MaximumPlayerSessionCount: ptr(maxPlayers),
	}, nil
}

// DescribeFleetUtilization reports whole-fleet numbers under the home Region,
// as GameLift does for the fleet-wide call (locations have their own call).
func (s *Service) DescribeFleetUtilization(ctx context.Context, in *shapes.DescribeFleetUtilizationInput) (*shapes.DescribeFleetUtilizationOutput, error) {
	out := &shapes.DescribeFleetUtilizationOutput{FleetUtilization: []shapes.FleetUtilization{}}
	next, err := s.selectFleets(ctx, in.FleetIds, in.Limit, in.NextToken, func(tx store.Tx, fleets []model.Fleet) error {
		out.FleetUtilization = out.FleetUtilization[:0]
		for _, f := range fleets {
			u, err := utilization(tx, f, "")
			if err != nil {
				return err
			}
			u.Location = ptr(s.cfg.Region)
			out.FleetUtilization = append(out.FleetUtilization, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	return out, nil
}

// viewFleetLocation validates a FleetId+Location request and runs fn on the
// live fleet, inside one read transaction, once the location is known to be
// one of the fleet's.
func (s *Service) viewFleetLocation(ctx context.Context, fleetID, location *string, fn func(tx store.Tx, f model.Fleet) error) error {
	var c checker
	c.reqStr("FleetId", fleetID, 1, 512, reFleetIDOrArn)
	c.reqStr("Location", location, 1, 64, reLocation)
	if err := c.Err(); err != nil {
		return err
	}
	err := s.st.View(ctx, func(tx store.Tx) error {
		f, err := s.liveFleet(tx, *fleetID)
		if err != nil {
			return err
		}
		if !containsString(f.Locations, *location) {
			return apierr.New(apierr.NotFound, "Location %s not found in fleet %s.", *location, f.ID)
		}
		return fn(tx, f)
	})
	return storeErr(err)
}

// DescribeFleetLocationUtilization reports one custom location of a fleet.
func (s *Service) DescribeFleetLocationUtilization(ctx context.Context, in *shapes.DescribeFleetLocationUtilizationInput) (*shapes.DescribeFleetLocationUtilizationOutput, error) {
	var u shapes.FleetUtilization
	err := s.viewFleetLocation(ctx, in.FleetId, in.Location, func(tx store.Tx, f model.Fleet) error {
		var err error
		u, err = utilization(tx, f, *in.Location)
		return err
	})
	if err != nil {
		return nil, err
	}
	u.Location = ptr(*in.Location)
	return &shapes.DescribeFleetLocationUtilizationOutput{FleetUtilization: &u}, nil
}
