package core

import (
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
)

// Conversions from stored records to wire shapes. Absent values are omitted
// (nil), counts are always present, and lists are never nil.

func toGameSession(g model.GameSession) shapes.GameSession {
	props := make([]shapes.GameProperty, 0, len(g.GameProperties))
	for _, p := range g.GameProperties {
		props = append(props, shapes.GameProperty{Key: ptr(p.Key), Value: ptr(p.Value)})
	}
	out := shapes.GameSession{
		GameSessionId:               ptr(g.ID),
		Name:                        strp(g.Name),
		FleetId:                     ptr(g.FleetID),
		FleetArn:                    ptr(g.FleetArn),
		CreationTime:                shapes.NewTimestamp(g.CreationTime),
		TerminationTime:             shapes.NewTimestamp(g.TerminationTime),
		CurrentPlayerSessionCount:   ptr(g.CurrentPlayerSessionCount),
		MaximumPlayerSessionCount:   ptr(g.MaximumPlayerSessionCount),
		Status:                      string(g.Status),
		StatusReason:                g.StatusReason,
		GameProperties:              props,
		IpAddress:                   strp(g.IPAddress),
		DnsName:                     strp(g.DNSName),
		PlayerSessionCreationPolicy: g.PlayerSessionCreationPolicy,
		CreatorId:                   strp(g.CreatorID),
		GameSessionData:             strp(g.GameSessionData),
		MatchmakerData:              strp(g.MatchmakerData),
		Location:                    strp(g.Location),
		ComputeName:                 strp(g.ComputeName),
	}
	if g.Port != 0 {
		out.Port = ptr(g.Port)
	}
	return out
}

func toPlayerSession(p model.PlayerSession) shapes.PlayerSession {
	out := shapes.PlayerSession{
		PlayerSessionId: ptr(p.ID),
		PlayerId:        ptr(p.PlayerID),
		GameSessionId:   ptr(p.GameSessionID),
		FleetId:         ptr(p.FleetID),
		FleetArn:        ptr(p.FleetArn),
		CreationTime:    shapes.NewTimestamp(p.CreationTime),
		TerminationTime: shapes.NewTimestamp(p.TerminationTime),
		Status:          string(p.Status),
		IpAddress:       strp(p.IPAddress),
		DnsName:         strp(p.DNSName),
		PlayerData:      strp(p.PlayerData),
	}
	if p.Port != 0 {
		out.Port = ptr(p.Port)
	}
	return out
}

func toPlayerSessions(ps []model.PlayerSession) []shapes.PlayerSession {
	out := make([]shapes.PlayerSession, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPlayerSession(p))
	}
	return out
}

func toGameSessions(gs []model.GameSession) []shapes.GameSession {
	out := make([]shapes.GameSession, 0, len(gs))
	for _, g := range gs {
		out = append(out, toGameSession(g))
	}
	return out
}
