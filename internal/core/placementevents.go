package core

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Placement events, in the JSON shape GameLift publishes to a queue's SNS
// topic (developer guide, "Game session placement events"). core only queues
// them in the store's outbox, in the transaction that changes the placement;
// delivering them is internal/webhook's job.

// Placement event types (detail.type).
const (
	EventPlacementFulfilled = "PlacementFulfilled"
	EventPlacementCancelled = "PlacementCancelled"
	EventPlacementTimedOut  = "PlacementTimedOut"
	EventPlacementFailed    = "PlacementFailed"
)

// PlacementEvent is one placement event as delivered.
type PlacementEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     PlacementDetail `json:"detail"`
}

// PlacementDetail is a placement event's detail. The connection members are
// only in PlacementFulfilled. Port is a string, as in GameLift's examples.
type PlacementDetail struct {
	Type                 string               `json:"type"`
	PlacementID          string               `json:"placementId"`
	Port                 string               `json:"port,omitempty"`
	GameSessionArn       string               `json:"gameSessionArn,omitempty"`
	IPAddress            string               `json:"ipAddress,omitempty"`
	DNSName              string               `json:"dnsName,omitempty"`
	StartTime            string               `json:"startTime"`
	EndTime              string               `json:"endTime,omitempty"`
	GameSessionRegion    string               `json:"gameSessionRegion,omitempty"`
	PlacedPlayerSessions []EventPlayerSession `json:"placedPlayerSessions,omitempty"`
	CustomEventData      string               `json:"customEventData,omitempty"`
}

// EventPlayerSession is one placed player session in a PlacementFulfilled event.
type EventPlayerSession struct {
	PlayerID        string `json:"playerId"`
	PlayerSessionID string `json:"playerSessionId"`
}

const (
	eventTimeLayout   = "2006-01-02T15:04:05Z"     // the envelope's time
	detailTimeLayout  = "2006-01-02T15:04:05.000Z" // startTime, endTime
	placementEventTyp = "GameLift Queue Placement Event"
)

var eventTypes = map[model.PlacementStatus]string{
	model.PlacementFulfilled: EventPlacementFulfilled,
	model.PlacementCancelled: EventPlacementCancelled,
	model.PlacementTimedOut:  EventPlacementTimedOut,
	model.PlacementFailed:    EventPlacementFailed,
}

// placementEventTx queues the event for p's current (final) status, if its
// queue still exists and has a notification target. It reports whether it
// queued one.
func (s *Service) placementEventTx(tx store.Tx, p model.Placement, now time.Time) (bool, error) {
	typ, ok := eventTypes[p.Status]
	if !ok {
		return false, nil
	}
	q, err := tx.GetQueue(p.QueueName)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if q.NotificationTarget == "" {
		return false, nil
	}
	ev := PlacementEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: placementEventTyp,
		Source:     "aws.gamelift",
		Account:    s.cfg.AccountID,
		Time:       now.UTC().Format(eventTimeLayout),
		Region:     s.cfg.Region,
		Resources:  []string{q.Arn},
		Detail: PlacementDetail{
			Type:            typ,
			PlacementID:     p.ID,
			StartTime:       p.StartTime.UTC().Format(detailTimeLayout),
			CustomEventData: q.CustomEventData,
		},
	}
	if !p.EndTime.IsZero() {
		ev.Detail.EndTime = p.EndTime.UTC().Format(detailTimeLayout)
	}
	if p.Status == model.PlacementFulfilled {
		d := &ev.Detail
		d.GameSessionArn, d.IPAddress, d.DNSName, d.GameSessionRegion = p.GameSessionID, p.IPAddress, p.DNSName, p.GameSessionRegion
		if p.Port != 0 {
			d.Port = strconv.Itoa(int(p.Port))
		}
		d.PlacedPlayerSessions = make([]EventPlayerSession, 0, len(p.PlacedPlayerSessions))
		for _, ps := range p.PlacedPlayerSessions {
			d.PlacedPlayerSessions = append(d.PlacedPlayerSessions, EventPlayerSession{PlayerID: ps.PlayerID, PlayerSessionID: ps.PlayerSessionID})
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return false, err
	}
	return true, tx.InsertOutbox(model.OutboxMessage{
		ID:           ev.ID,
		EventID:      ev.ID,
		Target:       q.NotificationTarget,
		Body:         string(body),
		CreationTime: now,
		NextAttempt:  now,
	})
}
