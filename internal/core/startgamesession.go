package core

import (
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// gameSessionSpec is what a new game session is made of, whether it comes
// from CreateGameSession or from a placement.
type gameSessionSpec struct {
	idString         string // the last segment of the game session ARN
	name             string
	maxPlayers       int32
	props            []model.GameProperty
	creatorID        string
	data             string
	matchmakerData   string
	idempotencyToken string
}

// startGameSessionTx creates an ACTIVATING game session on an idle process of
// the fleet location and binds the process to it, inside tx. It returns
// FleetCapacityExceededException when no process can take it. The caller
// arms the activation timeout and pushes the session to the process once tx
// has committed.
func (s *Service) startGameSessionTx(tx store.Tx, fleet model.Fleet, location string, spec gameSessionSpec, now time.Time) (model.GameSession, error) {
	p, err := s.pickProcess(tx, fleet, location)
	if err != nil {
		return model.GameSession{}, err
	}
	protection := fleet.NewGameSessionProtectionPolicy
	if protection == "" {
		protection = model.NoProtection
	}
	g := model.GameSession{
		ID:                          s.gameSessionArn(fleet.ID, spec.idString),
		Name:                        spec.name,
		FleetID:                     fleet.ID,
		FleetArn:                    fleet.Arn,
		CreationTime:                now,
		MaximumPlayerSessionCount:   spec.maxPlayers,
		Status:                      model.GameSessionActivating,
		GameProperties:              spec.props,
		IPAddress:                   p.IPAddress,
		DNSName:                     p.DNSName,
		Port:                        p.Port,
		PlayerSessionCreationPolicy: model.AcceptAll,
		CreatorID:                   spec.creatorID,
		GameSessionData:             spec.data,
		MatchmakerData:              spec.matchmakerData,
		Location:                    location,
		ComputeName:                 p.ComputeName,
		ProcessID:                   p.ID,
		ProtectionPolicy:            protection,
		IdempotencyToken:            spec.idempotencyToken,
	}
	if err := tx.InsertGameSession(g); err != nil {
		return model.GameSession{}, err
	}
	p.GameSessionID = g.ID
	if err := tx.PutProcess(p); err != nil {
		return model.GameSession{}, err
	}
	return g, nil
}
