package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// prevTokenRefreshDelay is how long after a process authenticates with a
// compute's previous token openlift pushes it the current one: long enough for
// the connection to be attached, short compared with the ≤ lifetime/4 the old
// token has left.
const prevTokenRefreshDelay = 10 * time.Second

// computeNameFromInput turns arn:…:compute/name into name. Names may contain
// one "/" (container computes), so cut after "compute/", not at the last slash.
func computeNameFromInput(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if _, after, ok := strings.Cut(v, ":compute/"); ok {
			return after
		}
	}
	return v
}

func (s *Service) toCompute(f model.Fleet, c model.Compute) shapes.Compute {
	return shapes.Compute{
		FleetId:                    ptr(f.ID),
		FleetArn:                   ptr(f.Arn),
		ComputeName:                ptr(c.Name),
		ComputeArn:                 ptr(c.Arn),
		IpAddress:                  strp(c.IPAddress),
		DnsName:                    strp(c.DNSName),
		ComputeStatus:              computeStatus(c),
		Location:                   strp(c.Location),
		CreationTime:               shapes.NewTimestamp(c.CreationTime),
		GameLiftServiceSdkEndpoint: strp(s.cfg.SDKEndpoint()),
	}
}

// computeStatus is the ComputeStatus openlift reports: a compute whose agent
// is draining it is on its way out, which GameLift calls TERMINATING, although
// the stored status stays ACTIVE so that its processes can still reconnect.
func computeStatus(c model.Compute) string {
	if c.Draining && c.Status == model.ComputeActive {
		return model.ComputeTerminating
	}
	return c.Status
}

// getCompute finds a compute of a live fleet; unknown fleet or compute →
// NotFoundException.
func (s *Service) getCompute(tx store.Tx, fleetIDOrArn, nameOrArn string) (model.Fleet, model.Compute, error) {
	f, err := s.liveFleet(tx, fleetIDOrArn)
	if err != nil {
		return f, model.Compute{}, err
	}
	name := computeNameFromInput(nameOrArn)
	c, err := tx.GetCompute(f.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return f, c, apierr.New(apierr.NotFound, "Compute %s not found in fleet %s.", name, f.ID)
	}
	return f, c, err
}

// RegisterCompute registers an Anywhere host. RegisterCompute's modeled errors
// have no NotFoundException or InvalidFleetStatusException, so an unknown fleet
// is an InvalidRequestException and a fleet being deleted a ConflictException.
//
// Registering a name that the fleet already has updates its address, location
// and certificate path and keeps its creation time and auth tokens: hosts and
// agents re-register whenever they restart, and must not fail or lose the
// token their running game servers use.
func (s *Service) RegisterCompute(ctx context.Context, in *shapes.RegisterComputeInput) (*shapes.RegisterComputeOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.reqStr("ComputeName", in.ComputeName, 1, 128, reComputeName)
	c.str("CertificatePath", in.CertificatePath, 1, 1024, nil)
	c.str("DnsName", in.DnsName, 1, 256, reDNSName)
	c.str("IpAddress", in.IpAddress, 1, 128, reIPAddress)
	c.str("Location", in.Location, 1, 64, reLocation)
	if err := c.Err(); err != nil {
		return nil, err
	}
	if in.IpAddress == nil {
		return nil, apierr.Invalid("IpAddress is required for ANYWHERE fleets")
	}
	if in.Location == nil {
		return nil, apierr.Invalid("Location is required for ANYWHERE fleets")
	}
	now := s.now()
	var (
		f  model.Fleet
		cp model.Compute
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if errors.Is(err, &apierr.Error{Code: apierr.NotFound}) {
			return apierr.Invalid("FleetId %s does not name an existing fleet", fleetIDFromInput(*in.FleetId))
		}
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return apierr.New(apierr.Conflict, "Fleet %s is %s; computes can only be registered with an ACTIVE fleet.", f.ID, f.Status)
		}
		if !containsString(f.Locations, *in.Location) {
			return apierr.Invalid("Location %s is not a location of fleet %s", *in.Location, f.ID)
		}
		cp, err = tx.GetCompute(f.ID, *in.ComputeName)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cp = model.Compute{
				FleetID:      f.ID,
				Name:         *in.ComputeName,
				Arn:          s.computeArn(*in.ComputeName),
				CreationTime: now,
			}
		case err != nil:
			return err
		}
		cp.IPAddress = *in.IpAddress
		cp.DNSName = deref(in.DnsName)
		cp.Location = *in.Location
		cp.CertificatePath = deref(in.CertificatePath)
		cp.Status = model.ComputeActive
		// A host registers when its agent starts: whatever drain an earlier
		// agent began on it is over.
		cp.Draining = false
		return tx.PutCompute(cp)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := s.toCompute(f, cp)
	return &shapes.RegisterComputeOutput{Compute: &out}, nil
}

// DescribeCompute describes one compute by name or ARN.
func (s *Service) DescribeCompute(ctx context.Context, in *shapes.DescribeComputeInput) (*shapes.DescribeComputeOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.reqStr("ComputeName", in.ComputeName, 1, 1024, reComputeNameOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var (
		f  model.Fleet
		cp model.Compute
	)
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		f, cp, err = s.getCompute(tx, *in.FleetId, *in.ComputeName)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := s.toCompute(f, cp)
	return &shapes.DescribeComputeOutput{Compute: &out}, nil
}

// ListCompute lists a fleet's computes. ListCompute's modeled errors have no
// NotFoundException, so an unknown fleet is an InvalidRequestException.
// ContainerGroupDefinitionName selects container computes, which Anywhere
// fleets never have, so it matches nothing.
func (s *Service) ListCompute(ctx context.Context, in *shapes.ListComputeInput) (*shapes.ListComputeOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.str("Location", in.Location, 1, 64, reLocation)
	c.str("ContainerGroupDefinitionName", in.ContainerGroupDefinitionName, 1, 512, reContainerGroupDefinition)
	c.enum("ComputeStatus", in.ComputeStatus, model.ComputeActive, "IMPAIRED")
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var (
		f    model.Fleet
		list []model.Compute
	)
	err := s.st.View(ctx, func(tx store.Tx) error {
		list = nil
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if errors.Is(err, &apierr.Error{Code: apierr.NotFound}) {
			return apierr.Invalid("FleetId %s does not name an existing fleet", fleetIDFromInput(*in.FleetId))
		}
		if err != nil || in.ContainerGroupDefinitionName != nil {
			return err
		}
		all, err := tx.ListComputes(f.ID)
		for _, cp := range all {
			if in.Location != nil && cp.Location != *in.Location {
				continue
			}
			if in.ComputeStatus != "" && computeStatus(cp) != in.ComputeStatus {
				continue
			}
			list = append(list, cp)
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
	out := make([]shapes.Compute, 0, len(items))
	for _, cp := range items {
		out = append(out, s.toCompute(f, cp))
	}
	return &shapes.ListComputeOutput{ComputeList: out, NextToken: next}, nil
}

// DeregisterCompute ends the compute's processes and removes it. The compute
// is marked TERMINATING first so that no process can become ready on it while
// the others are being ended; if ending them fails, a repeated call resumes.
func (s *Service) DeregisterCompute(ctx context.Context, in *shapes.DeregisterComputeInput) (*shapes.DeregisterComputeOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.reqStr("ComputeName", in.ComputeName, 1, 1024, reComputeNameOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var cp model.Compute
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		_, cp, err = s.getCompute(tx, *in.FleetId, *in.ComputeName)
		if err != nil {
			return err
		}
		cp.Status = model.ComputeTerminating
		return tx.PutCompute(cp)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	// Connected processes are told to exit: the host is leaving the fleet and
	// could not authenticate them again.
	if err := s.endProcesses(ctx, store.ProcessFilter{FleetID: cp.FleetID, ComputeName: cp.Name}, "", true); err != nil {
		return nil, storeErr(err)
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		err := tx.DeleteCompute(cp.FleetID, cp.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil // a concurrent DeregisterCompute got there first
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.DeregisterComputeOutput{}, nil
}

// newAuthToken returns 32 random bytes in hex: 64 characters of [0-9a-f], the
// most ComputeAuthToken allows, and 256 bits that cannot be guessed.
func newAuthToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for an auth token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// rotateToken applies openlift's reissue rule (spec §3.6): the current token is
// kept while more than a quarter of the lifetime (15 min of 1 h) remains; once
// that much or less remains (or there is none), a new token is minted and the
// current one becomes the previous one, valid until its own expiry. It reports
// whether it minted. One previous slot is enough: a token is displaced at
// least three quarters of a lifetime after it was minted, by which time the
// token before it (displaced a quarter lifetime before its expiry) is dead.
func (s *Service) rotateToken(c *model.Compute, now time.Time) (bool, error) {
	if !s.tokenDue(*c, now) {
		return false, nil
	}
	tok, err := newAuthToken()
	if err != nil {
		return false, err
	}
	if c.AuthToken != "" && now.Before(c.AuthTokenExpiry) {
		c.PrevAuthToken, c.PrevAuthTokenExpiry = c.AuthToken, c.AuthTokenExpiry
	} else {
		c.PrevAuthToken, c.PrevAuthTokenExpiry = "", time.Time{}
	}
	c.AuthToken, c.AuthTokenExpiry = tok, now.Add(s.cfg.TokenLifetime)
	return true, nil
}

// tokenDue reports whether rotateToken would mint.
func (s *Service) tokenDue(c model.Compute, now time.Time) bool {
	return c.AuthToken == "" || c.AuthTokenExpiry.Sub(now) <= s.cfg.TokenLifetime/4
}

// GetComputeAuthToken returns the compute's current auth token, minting a new
// one per rotateToken. When it mints, every connected process of the compute
// is pushed the new token at once: otherwise a caller that polls this
// operation (the GameLift Agent does, every 5 min) would always rotate before
// the refresh loop, which would then see a fresh token and never push, leaving
// processes to reconnect with a token that has expired.
func (s *Service) GetComputeAuthToken(ctx context.Context, in *shapes.GetComputeAuthTokenInput) (*shapes.GetComputeAuthTokenOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.reqStr("ComputeName", in.ComputeName, 1, 1024, reComputeNameOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var (
		f      model.Fleet
		cp     model.Compute
		minted bool
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, cp, err = s.getCompute(tx, *in.FleetId, *in.ComputeName)
		if err != nil {
			return err
		}
		minted, err = s.rotateToken(&cp, now)
		if err != nil || !minted {
			return err
		}
		return tx.PutCompute(cp)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if minted {
		s.pushToken(cp.FleetID, cp.Name, cp.AuthToken, cp.AuthTokenExpiry)
	}
	return &shapes.GetComputeAuthTokenOutput{
		FleetId:             ptr(f.ID),
		FleetArn:            ptr(f.Arn),
		ComputeName:         ptr(cp.Name),
		ComputeArn:          ptr(cp.Arn),
		AuthToken:           ptr(cp.AuthToken),
		ExpirationTimestamp: shapes.NewTimestamp(cp.AuthTokenExpiry),
	}, nil
}

// errBadCredentials is the one answer to every failed authentication, so that
// a caller cannot probe which fleets, computes or tokens exist.
func errBadCredentials() error {
	return apierr.New(apierr.Unauthorized, "The auth token is not valid for this fleet and compute.")
}

// Authenticate checks a WebSocket upgrade (sdkws.Backend): the fleet is
// ACTIVE, the compute is registered with it, and authToken is the compute's
// current or previous token and has not expired. Expired tokens are refused
// even on an automatic reconnect; the refresh loop keeps connected processes
// supplied with valid ones (server-sdk-protocol.md §7).
func (s *Service) Authenticate(ctx context.Context, fleetID, computeName, authToken string) error {
	if authToken == "" || fleetID == "" || computeName == "" {
		return errBadCredentials()
	}
	// The SDK passes whatever the host configured; tolerate an ARN.
	fid := fleetIDFromInput(fleetID)
	var cp model.Compute
	err := s.st.View(ctx, func(tx store.Tx) error {
		f, err := tx.GetFleet(fid)
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return errBadCredentials()
		}
		cp, err = tx.GetCompute(fid, computeName)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errBadCredentials()
	}
	if err != nil {
		return storeErr(err)
	}
	if cp.Status != model.ComputeActive {
		return errBadCredentials()
	}
	now := s.clk.Now()
	// Compare with both tokens every time so the timing does not tell which
	// one matched or whether either exists.
	cur := tokenMatches(cp.AuthToken, authToken) && now.Before(cp.AuthTokenExpiry)
	prev := tokenMatches(cp.PrevAuthToken, authToken) && now.Before(cp.PrevAuthTokenExpiry)
	switch {
	case cur:
		return nil
	case prev:
		// The process will need the current token to reconnect once the
		// previous one expires; the refresh loop will not push it, because
		// the current token is fresh. Keyed per compute, so a burst of such
		// connections (an agent starting many processes) costs one push.
		s.setTimer("refresh:"+fleetID+"/"+computeName, prevTokenRefreshDelay, func() {
			s.pushCurrentToken(s.bg(), fleetID, computeName)
		})
		return nil
	}
	return errBadCredentials()
}

// tokenMatches compares in constant time; an empty stored token never matches.
func tokenMatches(stored, given string) bool {
	ok := subtle.ConstantTimeCompare([]byte(stored), []byte(given)) == 1
	return ok && stored != ""
}

// pushToken sends RefreshConnection with token to every connected process of
// the compute and to its agent. A process that misses it (not connected, or
// its queue was full and the socket closed) reconnects with the previous
// token, which is still valid for a quarter lifetime, and Authenticate then
// sends it the current one; the agent, which hands the token to the processes
// it launches, is covered the same way.
func (s *Service) pushToken(fleetID, computeName, token string, expiry time.Time) {
	frame := sdkmsg.RefreshConnection{
		Action:                    sdkmsg.PushRefreshConnection,
		RefreshConnectionEndpoint: s.cfg.SDKEndpoint(),
		AuthToken:                 token,
	}
	for _, e := range s.hub.byCompute(fleetID, computeName) {
		if err := e.conn.Push(frame); err != nil {
			s.log.Warn("RefreshConnection push failed", "fleet", fleetID, "compute", computeName, "process", e.id.ProcessID, "err", err)
		}
	}
	s.pushAgent(fleetID, computeName, agentmsg.RefreshConnection{
		Action:               agentmsg.PushRefreshConnection,
		AuthToken:            token,
		ExpirationTimeMillis: expiry.UnixMilli(),
	})
}

func (s *Service) pushCurrentToken(ctx context.Context, fleetID, computeName string) {
	var cp model.Compute
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		cp, err = tx.GetCompute(fleetIDFromInput(fleetID), computeName)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("reading compute for RefreshConnection", "fleet", fleetID, "compute", computeName, "err", err)
		}
		return
	}
	if cp.AuthToken != "" && s.clk.Now().Before(cp.AuthTokenExpiry) {
		s.pushToken(fleetID, computeName, cp.AuthToken, cp.AuthTokenExpiry)
	}
}

// scheduleRefresh arms the credential refresh loop (started by Start): every
// RefreshInterval, each compute with connected processes or a connected agent
// whose current token is within a quarter of its lifetime of expiry, i.e. past
// three quarters of it, gets a new token, and its processes and agent are
// pushed RefreshConnection with it (server-sdk-protocol.md §7), so that their
// automatic reconnects always present a valid token. Agents count on their
// own: an agent whose processes all failed to start still has to reconnect.
func (s *Service) scheduleRefresh() {
	s.setTimer("refresh", s.cfg.RefreshInterval, func() {
		s.refreshConnections(s.bg())
		s.scheduleRefresh()
	})
}

func (s *Service) refreshConnections(ctx context.Context) {
	keys := s.hub.computes()
	for _, k := range s.agents.computes() {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		fleetID, computeName := k.fleetID, k.computeName
		fid := fleetID
		now := s.now()
		var (
			cp     model.Compute
			minted bool
		)
		// Most ticks find nothing to do: look before taking the write lock.
		err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			cp, err = tx.GetCompute(fid, computeName)
			return err
		})
		if err == nil && !s.tokenDue(cp, now) {
			continue
		}
		err = s.st.Update(ctx, func(tx store.Tx) error {
			minted = false
			f, err := tx.GetFleet(fid)
			if err != nil || f.Status != model.FleetActive {
				return err
			}
			cp, err = tx.GetCompute(fid, computeName)
			if err != nil || cp.Status != model.ComputeActive {
				return err
			}
			minted, err = s.rotateToken(&cp, now)
			if err != nil || !minted {
				return err
			}
			return tx.PutCompute(cp)
		})
		if errors.Is(err, store.ErrNotFound) {
			continue // deregistered or deleted; its processes are being ended
		}
		if err != nil {
			s.log.Error("refreshing compute auth token", "fleet", fleetID, "compute", computeName, "err", err)
			continue
		}
		if minted {
			s.pushToken(fleetID, computeName, cp.AuthToken, cp.AuthTokenExpiry)
		}
	}
}
