package core

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// connInfo is what a player session copies from its game session. It is final
// once the game session is ACTIVE, so it can be cached for the reservation path.
type connInfo struct {
	fleetID, fleetArn, ip, dns string
	port                       int32
}

// connCache maps game session id → connInfo for ACTIVE game sessions.
type connCache struct{ m sync.Map }

func (c *connCache) put(g model.GameSession) {
	c.m.Store(g.ID, connInfo{fleetID: g.FleetID, fleetArn: g.FleetArn, ip: g.IPAddress, dns: g.DNSName, port: g.Port})
}

func (c *connCache) get(id string) (connInfo, bool) {
	v, ok := c.m.Load(id)
	if !ok {
		return connInfo{}, false
	}
	return v.(connInfo), true
}

func (c *connCache) drop(id string) { c.m.Delete(id) }

type playerRequest struct {
	playerID, playerData string
}

// CreatePlayerSession reserves one slot in an ACTIVE game session.
func (s *Service) CreatePlayerSession(ctx context.Context, in *shapes.CreatePlayerSessionInput) (*shapes.CreatePlayerSessionOutput, error) {
	var c checker
	c.reqStr("GameSessionId", in.GameSessionId, 1, 512, reArnString)
	c.reqStr("PlayerId", in.PlayerId, 1, 1024, nil)
	c.str("PlayerData", in.PlayerData, 1, 2048, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	ps, err := s.reserve(ctx, *in.GameSessionId, []playerRequest{{playerID: *in.PlayerId, playerData: deref(in.PlayerData)}})
	if err != nil {
		return nil, err
	}
	out := toPlayerSession(ps[0])
	return &shapes.CreatePlayerSessionOutput{PlayerSession: &out}, nil
}

// CreatePlayerSessions reserves up to 25 slots, all or nothing (openlift decision, spec §3.3).
func (s *Service) CreatePlayerSessions(ctx context.Context, in *shapes.CreatePlayerSessionsInput) (*shapes.CreatePlayerSessionsOutput, error) {
	var c checker
	c.reqStr("GameSessionId", in.GameSessionId, 1, 512, reArnString)
	c.required("PlayerIds", in.PlayerIds != nil)
	if in.PlayerIds != nil {
		c.count("PlayerIds", len(in.PlayerIds), 1, 25)
	}
	for _, p := range in.PlayerIds {
		c.strVal("PlayerIds", p, 1, 1024, nil)
	}
	for k, v := range in.PlayerDataMap {
		c.strVal("PlayerDataMap key", k, 1, 1024, nil)
		c.strVal("PlayerDataMap", v, 1, 2048, nil)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	reqs := make([]playerRequest, len(in.PlayerIds))
	for i, p := range in.PlayerIds {
		// Entries whose key is not a requested player are ignored, as GameLift does.
		reqs[i] = playerRequest{playerID: p, playerData: in.PlayerDataMap[p]}
	}
	ps, err := s.reserve(ctx, *in.GameSessionId, reqs)
	if err != nil {
		return nil, err
	}
	return &shapes.CreatePlayerSessionsOutput{PlayerSessions: toPlayerSessions(ps)}, nil
}

// reserve is the hot path: one atomic conditional update in the store.
func (s *Service) reserve(ctx context.Context, gameSessionID string, reqs []playerRequest) ([]model.PlayerSession, error) {
	info, ok := s.conns.get(gameSessionID)
	if !ok {
		var g model.GameSession
		err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			g, err = tx.GetGameSession(gameSessionID)
			return err
		})
		if err != nil {
			return nil, s.reserveErr(gameSessionID, g, err)
		}
		if g.Status != model.GameSessionActive {
			return nil, s.reserveErr(gameSessionID, g, store.ErrGameSessionNotActive)
		}
		s.conns.put(g)
		info, _ = s.conns.get(gameSessionID)
	}
	now := s.now()
	sessions := make([]model.PlayerSession, len(reqs))
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = "psess-" + newUUID()
		sessions[i] = model.PlayerSession{
			ID:            ids[i],
			PlayerID:      r.playerID,
			GameSessionID: gameSessionID,
			FleetID:       info.fleetID,
			FleetArn:      info.fleetArn,
			CreationTime:  now,
			Status:        model.PlayerSessionReserved,
			IPAddress:     info.ip,
			DNSName:       info.dns,
			Port:          info.port,
			PlayerData:    r.playerData,
		}
	}
	g, err := s.st.ReservePlayerSessions(ctx, gameSessionID, sessions)
	if err != nil {
		return nil, s.reserveErr(gameSessionID, g, err)
	}
	s.timeq.add(now.Add(model.ReservationTimeout), ids...)
	return sessions, nil
}

func (s *Service) reserveErr(id string, g model.GameSession, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.New(apierr.NotFound, "Game session %s not found.", id)
	case errors.Is(err, store.ErrGameSessionNotActive):
		s.conns.drop(id)
		return apierr.New(apierr.InvalidGameSessionStatus, "Game session %s is in status %s; player sessions can only be created in an ACTIVE game session.", id, g.Status)
	case errors.Is(err, store.ErrNotAccepting):
		return apierr.New(apierr.GameSessionFull, "Game session %s is not accepting new player sessions", id)
	case errors.Is(err, store.ErrGameSessionFull):
		return apierr.New(apierr.GameSessionFull, "Game session %s is full.", id)
	}
	return storeErr(err)
}

var playerSessionStatuses = []string{"RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"}

// DescribePlayerSessions selects by exactly one of PlayerSessionId, GameSessionId or PlayerId.
func (s *Service) DescribePlayerSessions(ctx context.Context, in *shapes.DescribePlayerSessionsInput) (*shapes.DescribePlayerSessionsOutput, error) {
	var c checker
	c.str("GameSessionId", in.GameSessionId, 1, 512, reArnString)
	c.str("PlayerId", in.PlayerId, 1, 1024, nil)
	c.str("PlayerSessionId", in.PlayerSessionId, 1, 128, rePlayerSessionID)
	c.str("PlayerSessionStatusFilter", in.PlayerSessionStatusFilter, 1, 1024, nil)
	if in.PlayerSessionStatusFilter != nil {
		c.enum("PlayerSessionStatusFilter", *in.PlayerSessionStatusFilter, playerSessionStatuses...)
	}
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	list, next, err := s.describePlayerSessions(ctx, deref(in.GameSessionId), deref(in.PlayerId), deref(in.PlayerSessionId), deref(in.PlayerSessionStatusFilter), in.Limit, in.NextToken, "")
	if err != nil {
		return nil, err
	}
	return &shapes.DescribePlayerSessionsOutput{PlayerSessions: toPlayerSessions(list), NextToken: next}, nil
}

// describePlayerSessions serves both the API and the SDK. onlyFleet, when set,
// hides player sessions of other fleets (a game server sees only its fleet).
func (s *Service) describePlayerSessions(ctx context.Context, gameSessionID, playerID, playerSessionID, status string, limit *int32, next *string, onlyFleet string) ([]model.PlayerSession, *string, error) {
	selectors := 0
	for _, v := range []string{gameSessionID, playerID, playerSessionID} {
		if v != "" {
			selectors++
		}
	}
	if selectors != 1 {
		return nil, nil, apierr.Invalid("Specify exactly one of GameSessionId, PlayerId or PlayerSessionId")
	}
	var list []model.PlayerSession
	err := s.st.View(ctx, func(tx store.Tx) error {
		switch {
		case playerSessionID != "":
			p, err := tx.GetPlayerSession(playerSessionID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && onlyFleet != "" && p.FleetID != onlyFleet) {
				return apierr.New(apierr.NotFound, "Player session %s not found.", playerSessionID)
			}
			if err != nil {
				return err
			}
			list = []model.PlayerSession{p}
		case gameSessionID != "":
			g, err := tx.GetGameSession(gameSessionID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && onlyFleet != "" && g.FleetID != onlyFleet) {
				return apierr.New(apierr.NotFound, "Game session %s not found.", gameSessionID)
			}
			if err != nil {
				return err
			}
			f := store.PlayerSessionFilter{GameSessionID: gameSessionID}
			if status != "" {
				f.Statuses = []model.PlayerSessionStatus{model.PlayerSessionStatus(status)}
			}
			list, err = tx.ListPlayerSessions(f)
			return err
		default:
			// The status filter is ignored when PlayerId is given (GameLift's documented rule).
			var err error
			list, err = tx.ListPlayerSessions(store.PlayerSessionFilter{PlayerID: playerID})
			if err != nil {
				return err
			}
			if onlyFleet != "" {
				list = slices.DeleteFunc(list, func(p model.PlayerSession) bool { return p.FleetID != onlyFleet })
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, storeErr(err)
	}
	if playerSessionID != "" {
		return list, nil, nil // Limit and NextToken are ignored with PlayerSessionId.
	}
	return pageErr(page(list, limit, next, 50))
}

func pageErr[T any](items []T, next *string, err error) ([]T, *string, error) {
	return items, next, err
}
