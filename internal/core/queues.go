package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Game session queues (spec/gamelift-api.md §3.8, §4.8).

// DefaultQueueTimeoutSeconds is the timeout of a queue created without
// TimeoutInSeconds. GameLift's own default is not documented; openlift takes
// the longest timeout the documentation allows, so that an unconfigured queue
// gives capacity the most time to appear.
const DefaultQueueTimeoutSeconds = 600

// Queue limits from the GameLift documentation.
const (
	minQueueTimeoutSeconds = 10
	maxQueueTimeoutSeconds = 600
	maxQueuesPerPage       = 50
)

var (
	reQueueName          = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	reQueueNameOrArn     = regexp.MustCompile(`^([a-zA-Z0-9-]+|arn:.*:gamesessionqueue\/[a-zA-Z0-9-]+)$`)
	reNotificationTarget = regexp.MustCompile(`^[a-zA-Z0-9:_-]*(\.fifo)?$`)
	reDestinationFleet   = regexp.MustCompile(`^arn:.*:[a-z]*fleet\/([a-z]*fleet-[a-zA-Z0-9\-]+)$`)
	reDestinationAlias   = regexp.MustCompile(`^arn:.*:alias\/(alias-\S+)$`)
)

var priorityTypes = []string{model.PriorityLatency, model.PriorityCost, model.PriorityDestination, model.PriorityLocation}

func (s *Service) queueArn(name string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s:%s:gamesessionqueue/%s", s.cfg.Region, s.cfg.AccountID, name)
}

// queueNameFromInput turns arn:…:gamesessionqueue/name into name.
func queueNameFromInput(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if _, after, ok := strings.Cut(v, ":gamesessionqueue/"); ok {
			return after
		}
	}
	return v
}

func (s *Service) getQueue(tx store.Tx, nameOrArn string) (model.Queue, error) {
	name := queueNameFromInput(nameOrArn)
	q, err := tx.GetQueue(name)
	if errors.Is(err, store.ErrNotFound) {
		return q, apierr.New(apierr.NotFound, "Game session queue %s not found.", name)
	}
	return q, err
}

// isWebhookURL reports whether a NotificationTarget is an http(s) URL, the
// openlift extension to GameLift's SNS topic ARNs.
func isWebhookURL(v string) bool {
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Host != ""
}

// queueSettings is what Create and Update share: the members that configure
// placement. A nil field was not given.
type queueSettings struct {
	timeout        *int32
	latency        []shapes.PlayerLatencyPolicy
	destinations   []shapes.GameSessionQueueDestination
	filter         *shapes.FilterConfiguration
	priority       *shapes.PriorityConfiguration
	customData     *string
	notification   *string
	latencyGiven   bool
	destinationsOn bool
}

func checkQueueSettings(c *checker, q queueSettings) {
	if q.timeout != nil && (*q.timeout < minQueueTimeoutSeconds || *q.timeout > maxQueueTimeoutSeconds) {
		c.fail("TimeoutInSeconds must be between %d and %d", minQueueTimeoutSeconds, maxQueueTimeoutSeconds)
	}
	for i, p := range q.latency {
		name := indexed("PlayerLatencyPolicies", i, "MaximumIndividualPlayerLatencyMilliseconds")
		c.required(name, p.MaximumIndividualPlayerLatencyMilliseconds != nil)
		c.int32Range(name, p.MaximumIndividualPlayerLatencyMilliseconds, 0, maxInt32)
		c.int32Range(indexed("PlayerLatencyPolicies", i, "PolicyDurationSeconds"), p.PolicyDurationSeconds, 0, maxInt32)
	}
	for i, d := range q.destinations {
		name := indexed("Destinations", i, "DestinationArn")
		c.reqStr(name, d.DestinationArn, 1, 512, reArnString)
		if v := deref(d.DestinationArn); v != "" && reArnString.MatchString(v) &&
			!reDestinationFleet.MatchString(v) && !reDestinationAlias.MatchString(v) {
			c.fail("%s %q is neither a fleet ARN nor an alias ARN", name, v)
		}
	}
	if f := q.filter; f != nil && f.AllowedLocations != nil {
		c.count("FilterConfiguration.AllowedLocations", len(f.AllowedLocations), 1, 100)
		for i, l := range f.AllowedLocations {
			c.strVal(indexed("FilterConfiguration.AllowedLocations", i, ""), l, 1, 64, reLocation)
		}
	}
	if p := q.priority; p != nil {
		if p.PriorityOrder != nil {
			c.count("PriorityConfiguration.PriorityOrder", len(p.PriorityOrder), 1, 4)
		}
		for i, t := range p.PriorityOrder {
			name := indexed("PriorityConfiguration.PriorityOrder", i, "")
			c.enum(name, t, priorityTypes...)
			if t == "" || slices.Index(p.PriorityOrder, t) != i {
				c.fail("%s %q must be a priority type listed once", name, t)
			}
		}
		if p.LocationOrder != nil {
			c.count("PriorityConfiguration.LocationOrder", len(p.LocationOrder), 1, 100)
		}
		for i, l := range p.LocationOrder {
			c.strVal(indexed("PriorityConfiguration.LocationOrder", i, ""), l, 1, 64, reLocation)
		}
	}
	c.str("CustomEventData", q.customData, 0, 256, nil)
	if n := q.notification; n != nil && !isWebhookURL(*n) {
		c.str("NotificationTarget", n, 0, 300, reNotificationTarget)
	}
	if n := q.notification; n != nil && isWebhookURL(*n) {
		c.str("NotificationTarget", n, 1, 2048, nil)
	}
}

// checkDestinations refuses destinations that name no fleet or alias.
// Destinations are only resolved to fleets at placement time (an alias may be
// repointed), but a typo is better reported now than as a placement that
// never finds capacity.
func (s *Service) checkDestinations(tx store.Tx, ds []shapes.GameSessionQueueDestination) error {
	for _, d := range ds {
		arn := deref(d.DestinationArn)
		if m := reDestinationFleet.FindStringSubmatch(arn); m != nil {
			if _, err := s.liveFleet(tx, m[1]); err != nil {
				return destinationErr(arn, err)
			}
			continue
		}
		if m := reDestinationAlias.FindStringSubmatch(arn); m != nil {
			if _, err := s.getAlias(tx, m[1]); err != nil {
				return destinationErr(arn, err)
			}
		}
	}
	return nil
}

func destinationErr(arn string, err error) error {
	if apierr.CodeOf(err) == apierr.NotFound {
		return apierr.New(apierr.NotFound, "Destination %s does not name an existing fleet or alias.", arn)
	}
	return err
}

// apply stores the given settings on q.
func (q queueSettings) apply(dst *model.Queue) {
	if q.timeout != nil {
		dst.TimeoutInSeconds = *q.timeout
	}
	if q.latencyGiven {
		dst.PlayerLatencyPolicies = nil
		for _, p := range q.latency {
			dst.PlayerLatencyPolicies = append(dst.PlayerLatencyPolicies, model.PlayerLatencyPolicy{
				MaxLatencyMilliseconds: deref(p.MaximumIndividualPlayerLatencyMilliseconds),
				DurationSeconds:        deref(p.PolicyDurationSeconds),
			})
		}
	}
	if q.destinationsOn {
		dst.Destinations = nil
		for _, d := range q.destinations {
			dst.Destinations = append(dst.Destinations, deref(d.DestinationArn))
		}
	}
	if q.filter != nil {
		dst.AllowedLocations = slices.Clone(q.filter.AllowedLocations)
	}
	if p := q.priority; p != nil {
		dst.PriorityConfiguration = nil
		if len(p.PriorityOrder) > 0 || len(p.LocationOrder) > 0 {
			dst.PriorityConfiguration = &model.PriorityConfiguration{
				PriorityOrder: slices.Clone(p.PriorityOrder),
				LocationOrder: slices.Clone(p.LocationOrder),
			}
		}
	}
	if q.customData != nil {
		dst.CustomEventData = *q.customData
	}
	if q.notification != nil {
		dst.NotificationTarget = *q.notification
	}
}

func toQueue(q model.Queue) shapes.GameSessionQueue {
	out := shapes.GameSessionQueue{
		Name:                  ptr(q.Name),
		GameSessionQueueArn:   ptr(q.Arn),
		TimeoutInSeconds:      ptr(q.TimeoutInSeconds),
		PlayerLatencyPolicies: make([]shapes.PlayerLatencyPolicy, 0, len(q.PlayerLatencyPolicies)),
		Destinations:          make([]shapes.GameSessionQueueDestination, 0, len(q.Destinations)),
		CustomEventData:       strp(q.CustomEventData),
		NotificationTarget:    strp(q.NotificationTarget),
	}
	for _, p := range q.PlayerLatencyPolicies {
		lp := shapes.PlayerLatencyPolicy{MaximumIndividualPlayerLatencyMilliseconds: ptr(p.MaxLatencyMilliseconds)}
		if p.DurationSeconds > 0 {
			lp.PolicyDurationSeconds = ptr(p.DurationSeconds)
		}
		out.PlayerLatencyPolicies = append(out.PlayerLatencyPolicies, lp)
	}
	for _, d := range q.Destinations {
		out.Destinations = append(out.Destinations, shapes.GameSessionQueueDestination{DestinationArn: ptr(d)})
	}
	if len(q.AllowedLocations) > 0 {
		out.FilterConfiguration = &shapes.FilterConfiguration{AllowedLocations: slices.Clone(q.AllowedLocations)}
	}
	if p := q.PriorityConfiguration; p != nil {
		out.PriorityConfiguration = &shapes.PriorityConfiguration{
			PriorityOrder: slices.Clone(p.PriorityOrder),
			LocationOrder: slices.Clone(p.LocationOrder),
		}
	}
	return out
}

// CreateGameSessionQueue creates a queue. Names are unique in the Region; a
// taken name is an InvalidRequestException (the operation models no
// ConflictException).
func (s *Service) CreateGameSessionQueue(ctx context.Context, in *shapes.CreateGameSessionQueueInput) (*shapes.CreateGameSessionQueueOutput, error) {
	set := queueSettings{
		timeout: in.TimeoutInSeconds, latency: in.PlayerLatencyPolicies, latencyGiven: in.PlayerLatencyPolicies != nil,
		destinations: in.Destinations, destinationsOn: in.Destinations != nil,
		filter: in.FilterConfiguration, priority: in.PriorityConfiguration,
		customData: in.CustomEventData, notification: in.NotificationTarget,
	}
	var c checker
	c.reqStr("Name", in.Name, 1, 128, reQueueName)
	checkQueueSettings(&c, set)
	checkTags(&c, in.Tags)
	if err := c.Err(); err != nil {
		return nil, err
	}
	q := model.Queue{
		Name:             *in.Name,
		Arn:              s.queueArn(*in.Name),
		CreationTime:     s.now(),
		TimeoutInSeconds: DefaultQueueTimeoutSeconds,
		Tags:             tagMap(in.Tags),
	}
	set.apply(&q)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if err := s.checkDestinations(tx, in.Destinations); err != nil {
			return err
		}
		err := tx.InsertQueue(q)
		if errors.Is(err, store.ErrConflict) {
			return apierr.Invalid("A game session queue named %s already exists", q.Name)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toQueue(q)
	return &shapes.CreateGameSessionQueueOutput{GameSessionQueue: &out}, nil
}

// DescribeGameSessionQueues describes the named queues, or all. Names that
// match no queue are left out, as GameLift does; pages hold at most 50.
func (s *Service) DescribeGameSessionQueues(ctx context.Context, in *shapes.DescribeGameSessionQueuesInput) (*shapes.DescribeGameSessionQueuesOutput, error) {
	var c checker
	for i, n := range in.Names {
		c.strVal(indexed("Names", i, ""), n, 1, 256, reQueueNameOrArn)
	}
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var list []model.Queue
	err := s.st.View(ctx, func(tx store.Tx) error {
		all, err := tx.ListQueues()
		if err != nil || len(in.Names) == 0 {
			list = all
			return err
		}
		want := map[string]bool{}
		for _, n := range in.Names {
			want[queueNameFromInput(n)] = true
		}
		list = slices.DeleteFunc(all, func(q model.Queue) bool { return !want[q.Name] })
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	limit := in.Limit
	if limit != nil && *limit > maxQueuesPerPage {
		limit = ptr(int32(maxQueuesPerPage))
	}
	items, next, err := page(list, limit, in.NextToken, maxQueuesPerPage)
	if err != nil {
		return nil, err
	}
	out := make([]shapes.GameSessionQueue, 0, len(items))
	for _, q := range items {
		out = append(out, toQueue(q))
	}
	return &shapes.DescribeGameSessionQueuesOutput{GameSessionQueues: out, NextToken: next}, nil
}

// UpdateGameSessionQueue changes the members given; a list given replaces
// the old one whole (an empty list clears it). Placements already PENDING
// keep their deadline but see the new destinations, filter and priorities
// on their next attempt.
func (s *Service) UpdateGameSessionQueue(ctx context.Context, in *shapes.UpdateGameSessionQueueInput) (*shapes.UpdateGameSessionQueueOutput, error) {
	set := queueSettings{
		timeout: in.TimeoutInSeconds, latency: in.PlayerLatencyPolicies, latencyGiven: in.PlayerLatencyPolicies != nil,
		destinations: in.Destinations, destinationsOn: in.Destinations != nil,
		filter: in.FilterConfiguration, priority: in.PriorityConfiguration,
		customData: in.CustomEventData, notification: in.NotificationTarget,
	}
	var c checker
	c.reqStr("Name", in.Name, 1, 256, reQueueNameOrArn)
	checkQueueSettings(&c, set)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var q model.Queue
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if q, err = s.getQueue(tx, *in.Name); err != nil {
			return err
		}
		if err := s.checkDestinations(tx, in.Destinations); err != nil {
			return err
		}
		set.apply(&q)
		return tx.PutQueue(q)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.kickPlacements() // new destinations or looser filters may place what waits
	out := toQueue(q)
	return &shapes.UpdateGameSessionQueueOutput{GameSessionQueue: &out}, nil
}

// DeleteGameSessionQueue removes the queue. Its PENDING placements become
// FAILED in the same transaction, so that their events still reach the
// queue's notification target; a game session one of them had started
// carries on as an ordinary game session, without the placement's players.
func (s *Service) DeleteGameSessionQueue(ctx context.Context, in *shapes.DeleteGameSessionQueueInput) (*shapes.DeleteGameSessionQueueOutput, error) {
	var c checker
	c.reqStr("Name", in.Name, 1, 256, reQueueNameOrArn)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var (
		failed []string
		events bool
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		q, err := s.getQueue(tx, *in.Name)
		if err != nil {
			return err
		}
		if failed, events, err = s.failQueuePlacementsTx(tx, q, now); err != nil {
			return err
		}
		return tx.DeleteQueue(q.Name)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	for _, id := range failed {
		s.afterFinish(id, false)
	}
	if events {
		s.notifyOutbox()
	}
	return &shapes.DeleteGameSessionQueueOutput{}, nil
}
