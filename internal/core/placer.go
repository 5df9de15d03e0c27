package core

import (
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// The placer moves PENDING placements along. It has no goroutine of its own:
// whatever may have made placement possible "kicks" it (a new placement, a
// process becoming eligible, a game session ending, a queue changing, the
// retry timer), and the kicker runs a pass over every PENDING placement,
// oldest first, unless a pass is already running, in which case that pass
// runs once more. So a kick is cheap, passes never overlap, and every change
// is looked at by a pass that starts after it.
//
// A pass gives each placement one transaction:
//
//	attempt in flight (its game session ACTIVATING)  → wait for it
//	attempt's game session ended                     → attempt failed: retry, or FAILED after placementMaxAttempts
//	past the deadline                                → TIMED_OUT
//	queue deleted                                    → FAILED
//	otherwise: try each candidate (fleet, location) in priority order; the
//	first with an idle process gets an ACTIVATING game session (an attempt)
//
// The placement becomes FULFILLED in the transaction that activates its game
// session (activateGameSessionTx), together with its player sessions.

const (
	// placementRetryInterval is the safety net: while any placement is
	// PENDING, a pass runs at least this often, which is also how latency
	// policies relax on time.
	placementRetryInterval = time.Second
	// placementMaxAttempts bounds how many game sessions one placement may
	// start that end before activating (the process died, or activation timed
	// out) before the placement is FAILED, GameLift's status for "the game
	// session terminated before the placement process was completed".
	placementMaxAttempts = 3
)

// placer is the placement engine's state in the Service.
type placer struct {
	mu      sync.Mutex
	running bool
	again   bool
	notify  func()
}

// SetNotifier registers f to be called after a transaction has added
// notifications to the store's outbox (the webhook dispatcher's wake-up).
// It must not block.
func (s *Service) SetNotifier(f func()) {
	s.pl.mu.Lock()
	s.pl.notify = f
	s.pl.mu.Unlock()
}

func (s *Service) notifyOutbox() {
	s.pl.mu.Lock()
	f := s.pl.notify
	s.pl.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *Service) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// kickPlacements runs placement passes until no kick is left unserved. It
// must not be called inside a store transaction.
func (s *Service) kickPlacements() {
	s.pl.mu.Lock()
	if s.pl.running {
		s.pl.again = true
		s.pl.mu.Unlock()
		return
	}
	s.pl.running = true
	s.pl.mu.Unlock()
	for {
		s.placementPass()
		s.pl.mu.Lock()
		if !s.pl.again {
			s.pl.running = false
			s.pl.mu.Unlock()
			return
		}
		s.pl.again = false
		s.pl.mu.Unlock()
	}
}

func (s *Service) placementPass() {
	if s.isClosed() {
		return
	}
	var pending []model.Placement
	err := s.st.View(s.bg(), func(tx store.Tx) error {
		var err error
		pending, err = tx.ListPlacements(store.PlacementFilter{Statuses: []model.PlacementStatus{model.PlacementPending}})
		return err
	})
	if err != nil {
		s.log.Error("listing pending placements", "err", err)
		s.setTimer("placement-retry", placementRetryInterval, s.kickPlacements)
		return
	}
	for _, p := range pending {
		s.advancePlacement(p.ID)
	}
	if len(pending) > 0 {
		s.setTimer("placement-retry", placementRetryInterval, s.kickPlacements)
	}
}

// advancePlacement gives one placement its step (see the table above).
func (s *Service) advancePlacement(id string) {
	now := s.now()
	var (
		started   *model.GameSession
		finished  bool
		events    bool
		fulfilled placementFulfilment
	)
	err := s.st.Update(s.bg(), func(tx store.Tx) error {
		started, finished, events, fulfilled = nil, false, false, placementFulfilment{}
		p, err := tx.GetPlacement(id)
		if err != nil || p.Status != model.PlacementPending {
			return err
		}
		changed := false
		finish := func(status model.PlacementStatus) error {
			finished = true
			events, err = s.finishPlacementTx(tx, &p, status, now)
			return err
		}
		if p.GameSessionID != "" {
			g, err := tx.GetGameSession(p.GameSessionID)
			switch {
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			case err == nil && g.Status == model.GameSessionActivating:
				return nil // the attempt is under way
			case err == nil && g.Status == model.GameSessionActive:
				// Activation fulfils in its own transaction, so this only
				// happens if that went wrong; finish the job here.
				fulfilled, err = s.fulfilPlacementTx(tx, p, &g, now)
				if err != nil {
					return err
				}
				return tx.PutGameSession(g)
			}
			// The attempt's game session ended before it activated.
			p.GameSessionID = ""
			changed = true
			if p.Attempts >= placementMaxAttempts {
				return finish(model.PlacementFailed)
			}
		}
		if !now.Before(p.Deadline) {
			return finish(model.PlacementTimedOut)
		}
		q, err := tx.GetQueue(p.QueueName)
		if errors.Is(err, store.ErrNotFound) {
			return finish(model.PlacementFailed)
		}
		if err != nil {
			return err
		}
		cands, err := s.placementCandidates(tx, q, p, now)
		if err != nil {
			return err
		}
		spec := gameSessionSpec{
			idString:       "gsess-" + newUUID(),
			name:           p.GameSessionName,
			maxPlayers:     p.MaximumPlayerSessionCount,
			props:          p.GameProperties,
			data:           p.GameSessionData,
			matchmakerData: p.MatchmakerData,
		}
		for _, c := range cands {
			g, err := s.startGameSessionTx(tx, c.fleet, c.location, spec, now)
			if apierr.CodeOf(err) == apierr.FleetCapacityExceeded {
				continue
			}
			if err != nil {
				return err
			}
			started = &g
			p.GameSessionID = g.ID
			p.Attempts++
			changed = true
			break
		}
		if !changed {
			return nil // still waiting for capacity: nothing to write
		}
		return tx.PutPlacement(p)
	})
	if err != nil {
		s.log.Error("advancing placement", "placement", id, "err", err)
		return
	}
	if started != nil {
		s.armActivationTimeout(*started, s.activationTimeout(s.bg(), started.FleetID))
		s.pushCreateGameSession(*started)
		s.log.Info("placement attempt started", "placement", id, "gameSession", started.ID, "location", started.Location)
	}
	if fulfilled.placementID != "" {
		s.afterActivation(fulfilled)
	}
	if finished {
		s.afterFinish(id, events)
	}
}

// finishPlacementTx ends a PENDING placement with a final status other than
// FULFILLED, and queues its event. It reports whether it queued one.
func (s *Service) finishPlacementTx(tx store.Tx, p *model.Placement, status model.PlacementStatus, now time.Time) (bool, error) {
	p.Status = status
	p.EndTime = now
	if err := tx.PutPlacement(*p); err != nil {
		return false, err
	}
	return s.placementEventTx(tx, *p, now)
}

// afterFinish runs once a transaction that ended a placement has committed.
func (s *Service) afterFinish(id string, events bool) {
	s.stopTimer("placement:" + id)
	if events {
		s.notifyOutbox()
	}
}

// armPlacementDeadline makes sure a pass looks at the placement when its
// time is up, even if nothing else happens then.
func (s *Service) armPlacementDeadline(p model.Placement) {
	id := p.ID
	s.setTimer("placement:"+id, p.Deadline.Sub(s.now()), func() { s.advancePlacement(id) })
}

// rearmPlacements re-arms the deadline of every PENDING placement after a
// restart (deadlines that passed while openlift was down fire at once) and
// runs a first pass.
func (s *Service) rearmPlacements() error {
	var pending []model.Placement
	err := s.st.View(s.bg(), func(tx store.Tx) error {
		var err error
		pending, err = tx.ListPlacements(store.PlacementFilter{Statuses: []model.PlacementStatus{model.PlacementPending}})
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range pending {
		s.armPlacementDeadline(p)
	}
	if len(pending) > 0 {
		s.log.Info("placement deadlines re-armed", "pendingPlacements", len(pending))
		s.kickPlacements()
	}
	return nil
}

// placementFulfilment is what activateGameSessionTx did, for afterActivation.
type placementFulfilment struct {
	placementID    string
	playerSessions []string
	at             time.Time
	events         bool
}

// activateGameSessionTx writes g, just made ACTIVE, and fulfils the placement
// that started it, if one is still PENDING: in the same transaction, one
// RESERVED player session per DesiredPlayerSessions entry, and the placement
// FULFILLED with its connection details. So a client never sees a FULFILLED
// placement without its player sessions, nor player sessions of a placement
// that is not FULFILLED.
func (s *Service) activateGameSessionTx(tx store.Tx, g *model.GameSession) (placementFulfilment, error) {
	ps, err := tx.ListPlacements(store.PlacementFilter{GameSessionID: g.ID, Statuses: []model.PlacementStatus{model.PlacementPending}})
	if err != nil {
		return placementFulfilment{}, err
	}
	var ful placementFulfilment
	if len(ps) > 0 {
		if ful, err = s.fulfilPlacementTx(tx, ps[0], g, s.now()); err != nil {
			return placementFulfilment{}, err
		}
	}
	return ful, tx.PutGameSession(*g)
}

// fulfilPlacementTx creates the placement's player sessions in g (counting
// them on g, which the caller writes) and marks the placement FULFILLED.
func (s *Service) fulfilPlacementTx(tx store.Tx, p model.Placement, g *model.GameSession, now time.Time) (placementFulfilment, error) {
	ful := placementFulfilment{placementID: p.ID, at: now}
	p.PlacedPlayerSessions = nil
	for _, d := range p.DesiredPlayerSessions {
		ps := model.PlayerSession{
			ID:            "psess-" + newUUID(),
			PlayerID:      d.PlayerID,
			GameSessionID: g.ID,
			FleetID:       g.FleetID,
			FleetArn:      g.FleetArn,
			CreationTime:  now,
			Status:        model.PlayerSessionReserved,
			IPAddress:     g.IPAddress,
			DNSName:       g.DNSName,
			Port:          g.Port,
			PlayerData:    d.PlayerData,
		}
		if err := tx.PutPlayerSession(ps); err != nil {
			return placementFulfilment{}, err
		}
		p.PlacedPlayerSessions = append(p.PlacedPlayerSessions, model.PlacedPlayerSession{PlayerID: d.PlayerID, PlayerSessionID: ps.ID})
		ful.playerSessions = append(ful.playerSessions, ps.ID)
	}
	g.CurrentPlayerSessionCount += int32(len(p.DesiredPlayerSessions))
	p.Status = model.PlacementFulfilled
	p.EndTime = now
	p.GameSessionID = g.ID
	p.GameSessionRegion = g.Location
	p.IPAddress, p.DNSName, p.Port = g.IPAddress, g.DNSName, g.Port
	if err := tx.PutPlacement(p); err != nil {
		return placementFulfilment{}, err
	}
	var err error
	ful.events, err = s.placementEventTx(tx, p, now)
	return ful, err
}

// afterActivation runs once the activation transaction has committed: the
// placed player sessions get their 60 s acceptance window.
func (s *Service) afterActivation(ful placementFulfilment) {
	if ful.placementID == "" {
		return
	}
	if len(ful.playerSessions) > 0 {
		s.timeq.add(ful.at.Add(model.ReservationTimeout), ful.playerSessions...)
	}
	s.log.Info("placement fulfilled", "placement", ful.placementID, "playerSessions", len(ful.playerSessions))
	s.afterFinish(ful.placementID, ful.events)
}

// failQueuePlacementsTx fails every PENDING placement of a queue being
// deleted, while its notification target is still known.
func (s *Service) failQueuePlacementsTx(tx store.Tx, q model.Queue, now time.Time) (ids []string, events bool, err error) {
	ps, err := tx.ListPlacements(store.PlacementFilter{QueueName: q.Name, Statuses: []model.PlacementStatus{model.PlacementPending}})
	if err != nil {
		return nil, false, err
	}
	for _, p := range ps {
		ev, err := s.finishPlacementTx(tx, &p, model.PlacementFailed, now)
		if err != nil {
			return nil, false, err
		}
		events = events || ev
		ids = append(ids, p.ID)
	}
	return ids, events, nil
}

// candidate is one place a placement may go: a fleet location.
type candidate struct {
	fleet    model.Fleet
	location string
	dest     int     // index of the queue destination it came from
	cost     float64 // the fleet's AnywhereConfiguration.Cost
	latency  float64 // average latency of the players who reported one; +Inf without data
}

// placementCandidates lists where p may be placed now, best first.
//
// Destinations are resolved at every attempt (an alias may have been
// repointed); unknown, deleted or inactive fleets and TERMINAL aliases are
// skipped. Each fleet contributes its locations, minus those the queue's
// FilterConfiguration leaves out. While a latency policy is in force (only
// when the request carries latencies), a location is left out unless every
// player who reported any latency reported one for it, at or under the cap:
// openlift treats a missing report as "too far".
func (s *Service) placementCandidates(tx store.Tx, q model.Queue, p model.Placement, now time.Time) ([]candidate, error) {
	latency := map[string]map[string]float64{} // player → location → ms
	var players []string
	for _, l := range p.PlayerLatencies {
		if latency[l.PlayerID] == nil {
			latency[l.PlayerID] = map[string]float64{}
			players = append(players, l.PlayerID)
		}
		latency[l.PlayerID][l.Region] = float64(l.Milliseconds)
	}
	limit, capped := latencyCap(q.PlayerLatencyPolicies, now.Sub(p.StartTime))
	capped = capped && len(players) > 0

	type key struct{ fleet, location string }
	seen := map[key]bool{}
	var cands []candidate
	for i, arn := range q.Destinations {
		f, ok, err := s.destinationFleet(tx, arn)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		cost, _ := strconv.ParseFloat(f.AnywhereCost, 64)
		for _, loc := range f.Locations {
			if len(q.AllowedLocations) > 0 && !slices.Contains(q.AllowedLocations, loc) {
				continue
			}
			if seen[key{f.ID, loc}] {
				continue
			}
			seen[key{f.ID, loc}] = true
			sum, n, within := 0.0, 0, true
			for _, pl := range players {
				ms, ok := latency[pl][loc]
				if !ok {
					within = false
					continue
				}
				sum += ms
				n++
				if ms > float64(limit) {
					within = false
				}
			}
			if capped && !within {
				continue
			}
			c := candidate{fleet: f, location: loc, dest: i, cost: cost, latency: math.Inf(1)}
			if n > 0 {
				c.latency = sum / float64(n)
			}
			cands = append(cands, c)
		}
	}
	sortCandidates(cands, priorityOrder(q, len(players) > 0), locationRank(q))
	if o := p.PriorityConfigurationOverride; o != nil {
		cands = applyOverride(cands, o)
	}
	return cands, nil
}

// destinationFleet resolves a queue destination to an ACTIVE fleet.
func (s *Service) destinationFleet(tx store.Tx, arn string) (model.Fleet, bool, error) {
	var fleetID string
	if m := reDestinationFleet.FindStringSubmatch(arn); m != nil {
		fleetID = m[1]
	} else if m := reDestinationAlias.FindStringSubmatch(arn); m != nil {
		a, err := tx.GetAlias(m[1])
		if errors.Is(err, store.ErrNotFound) {
			return model.Fleet{}, false, nil
		}
		if err != nil {
			return model.Fleet{}, false, err
		}
		if a.RoutingType != model.RoutingSimple {
			return model.Fleet{}, false, nil
		}
		fleetID = a.FleetID
	} else {
		return model.Fleet{}, false, nil
	}
	f, err := tx.GetFleet(fleetID)
	if errors.Is(err, store.ErrNotFound) {
		return model.Fleet{}, false, nil
	}
	if err != nil {
		return model.Fleet{}, false, err
	}
	return f, f.Status == model.FleetActive, nil
}

// latencyCap is the per-player latency cap elapsed into a placement. The
// policies apply one after another, strictest first (GameLift evaluates them
// starting with the lowest maximum), each for its PolicyDurationSeconds; one
// without a duration applies until the placement times out. When they have
// all run out, there is no cap.
func latencyCap(policies []model.PlayerLatencyPolicy, elapsed time.Duration) (int32, bool) {
	ps := slices.Clone(policies)
	slices.SortStableFunc(ps, func(a, b model.PlayerLatencyPolicy) int {
		return int(a.MaxLatencyMilliseconds) - int(b.MaxLatencyMilliseconds)
	})
	var end time.Duration
	for _, p := range ps {
		if p.DurationSeconds <= 0 {
			return p.MaxLatencyMilliseconds, true
		}
		end += time.Duration(p.DurationSeconds) * time.Second
		if elapsed < end {
			return p.MaxLatencyMilliseconds, true
		}
	}
	return 0, false
}

// priorityOrder is the queue's PriorityOrder with the types it leaves out
// appended, or GameLift's default: latency, cost, destination, location when
// the request has latency data, else destination then location.
func priorityOrder(q model.Queue, withLatency bool) []string {
	var order []string
	switch {
	case q.PriorityConfiguration != nil && len(q.PriorityConfiguration.PriorityOrder) > 0:
		order = slices.Clone(q.PriorityConfiguration.PriorityOrder)
	case withLatency:
		order = []string{model.PriorityLatency, model.PriorityCost, model.PriorityDestination, model.PriorityLocation}
	default:
		order = []string{model.PriorityDestination, model.PriorityLocation}
	}
	for _, t := range priorityTypes {
		if !slices.Contains(order, t) {
			order = append(order, t)
		}
	}
	return order
}

// locationRank orders locations: those in the queue's LocationOrder first,
// in that order, then the rest alphabetically.
func locationRank(q model.Queue) func(a, b string) int {
	var order []string
	if q.PriorityConfiguration != nil {
		order = q.PriorityConfiguration.LocationOrder
	}
	return func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
}

func sortCandidates(cands []candidate, order []string, locCmp func(a, b string) int) {
	cmpFloat := func(a, b float64) int {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		for _, t := range order {
			var c int
			switch t {
			case model.PriorityLatency:
				c = cmpFloat(a.latency, b.latency)
			case model.PriorityCost:
				c = cmpFloat(a.cost, b.cost)
			case model.PriorityDestination:
				c = a.dest - b.dest
			case model.PriorityLocation:
				c = locCmp(a.location, b.location)
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// applyOverride puts the override's locations first, in its order (the
// queue's order deciding within one location), followed by the rest unless
// the fallback strategy is NONE.
func applyOverride(cands []candidate, o *model.PriorityConfigurationOverride) []candidate {
	var first, rest []candidate
	for _, c := range cands {
		if slices.Contains(o.LocationOrder, c.location) {
			first = append(first, c)
		} else {
			rest = append(rest, c)
		}
	}
	sort.SliceStable(first, func(i, j int) bool {
		return slices.Index(o.LocationOrder, first[i].location) < slices.Index(o.LocationOrder, first[j].location)
	})
	if o.PlacementFallbackStrategy == model.FallbackNone {
		return first
	}
	return append(first, rest...)
}
