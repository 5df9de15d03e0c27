package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
)

// Fixture constructors set every field to a non-zero value, and
// checkAllFieldsSet proves it, so that a field added to a model record without
// being stored fails the round-trip tests instead of passing unnoticed.
// Times have millisecond precision, the least every backend must keep.

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// at returns t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func location(name string, created time.Time) model.Location {
	return model.Location{
		Name:         name,
		Arn:          "arn:aws:gamelift:us-west-2:123456789012:location/" + name,
		CreationTime: created,
	}
}

func fleet(id string, created time.Time) model.Fleet {
	return model.Fleet{
		ID:                             id,
		Arn:                            "arn:aws:gamelift:us-west-2:123456789012:fleet/" + id,
		Name:                           "name of " + id,
		Description:                    "description of " + id,
		ComputeType:                    "ANYWHERE",
		Status:                         model.FleetActive,
		CreationTime:                   created,
		TerminationTime:                created.Add(90*time.Minute + 7*time.Millisecond),
		Locations:                      []string{"custom-b", "custom-a"},
		NewGameSessionProtectionPolicy: model.FullProtection,
		ResourceCreationLimitPolicy: &model.ResourceCreationLimitPolicy{
			NewGameSessionsPerCreator: 3,
			PolicyPeriodInMinutes:     15,
		},
		MetricGroups:                        []string{"mg-1"},
		AnywhereCost:                        "0.25",
		CertificateType:                     "GENERATED",
		Tags:                                map[string]string{"team": "blue", "ünïcode": "✓ \"quoted\"\n"},
		GameSessionActivationTimeoutSeconds: 300,
		RuntimeConfiguration: &model.RuntimeConfiguration{
			ServerProcesses: []model.ServerProcessConfig{
				{LaunchPath: "/local/game/server", Parameters: "-port 7777 -map \"dust\"", ConcurrentExecutions: 3},
				{LaunchPath: "/local/game/other", ConcurrentExecutions: 1},
			},
			MaxConcurrentGameSessionActivations: 2,
			GameSessionActivationTimeoutSeconds: 300,
		},
		Capacity: map[string]model.LocationCapacity{"custom-a": {Desired: 2, Min: 1, Max: 4}, "custom-b": {Max: 1}},
	}
}

func compute(fleetID, name string, created time.Time) model.Compute {
	return model.Compute{
		FleetID:             fleetID,
		Name:                name,
		Arn:                 "arn:aws:gamelift:us-west-2:123456789012:compute/" + fleetID + "/" + name,
		IPAddress:           "10.0.0.7",
		DNSName:             name + ".example.internal",
		Location:            "custom-a",
		Status:              model.ComputeActive,
		CreationTime:        created,
		CertificatePath:     "/etc/certs/" + name,
		AuthToken:           "tok-" + name,
		AuthTokenExpiry:     created.Add(15 * time.Minute),
		PrevAuthToken:       "prev-" + name,
		PrevAuthTokenExpiry: created.Add(5*time.Minute + 1*time.Millisecond),
		Draining:            true,
	}
}

func alias(id string, created time.Time) model.Alias {
	return model.Alias{
		ID:              id,
		Arn:             "arn:aws:gamelift:us-west-2:123456789012:alias/" + id,
		Name:            "name of " + id,
		Description:     "description of " + id,
		RoutingType:     model.RoutingTerminal,
		FleetID:         "fleet-x",
		Message:         "gone fishing",
		CreationTime:    created,
		LastUpdatedTime: created.Add(3 * time.Second),
		Tags:            map[string]string{"k": "v"},
	}
}

func process(id, fleetID, computeName string, status model.ProcessStatus, activated time.Time) model.Process {
	return model.Process{
		ID:             id,
		FleetID:        fleetID,
		ComputeName:    computeName,
		Location:       "custom-a",
		Port:           7777,
		IPAddress:      "10.0.0.8",
		DNSName:        "p.example.internal",
		LogPaths:       []string{"/var/log/a", "/var/log/b"},
		SdkVersion:     "5.6.0",
		SdkLanguage:    "Go",
		Status:         status,
		Eligible:       true,
		ActivatedAt:    activated,
		LastHeartbeat:  activated.Add(61 * time.Second),
		UnhealthyCount: 2,
		GameSessionID:  "gsess-of-" + id,
		EndedAt:        activated.Add(time.Hour),
	}
}

func gameSession(id, fleetID string, status model.GameSessionStatus, created time.Time) model.GameSession {
	return model.GameSession{
		ID:                          id,
		Name:                        "name of " + id,
		FleetID:                     fleetID,
		FleetArn:                    "arn:aws:gamelift:us-west-2:123456789012:fleet/" + fleetID,
		CreationTime:                created,
		TerminationTime:             created.Add(2 * time.Hour),
		CurrentPlayerSessionCount:   0,
		MaximumPlayerSessionCount:   10,
		Status:                      status,
		StatusReason:                model.ReasonInterrupted,
		GameProperties:              []model.GameProperty{{Key: "mode", Value: "ctf"}, {Key: "map", Value: "dust"}},
		IPAddress:                   "10.0.0.9",
		DNSName:                     "gs.example.internal",
		Port:                        7778,
		PlayerSessionCreationPolicy: model.AcceptAll,
		CreatorID:                   "creator-1",
		GameSessionData:             `{"blob":"` + id + `"}`,
		MatchmakerData:              `{"matchId":"m-1"}`,
		Location:                    "custom-a",
		ComputeName:                 "compute-1",
		ProcessID:                   "proc-1",
		ProtectionPolicy:            model.NoProtection,
		IdempotencyToken:            "token-" + id,
	}
}

func playerSession(id, gameSessionID, playerID string, status model.PlayerSessionStatus, created time.Time) model.PlayerSession {
	return model.PlayerSession{
		ID:              id,
		PlayerID:        playerID,
		GameSessionID:   gameSessionID,
		FleetID:         "fleet-1",
		FleetArn:        "arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-1",
		CreationTime:    created,
		TerminationTime: created.Add(time.Minute),
		Status:          status,
		IPAddress:       "10.0.0.9",
		DNSName:         "gs.example.internal",
		Port:            7778,
		PlayerData:      "data for " + playerID,
	}
}

func event(id, fleetID string, when time.Time) model.Event {
	return model.Event{
		ID:         id,
		ResourceID: fleetID,
		Code:       "FLEET_STATE_ACTIVE",
		Message:    "event " + id,
		Time:       when,
	}
}

// checkAllFieldsSet fails if any field of the struct v is its zero value.
// CurrentPlayerSessionCount is allowed to be zero: fixtures start empty.
func checkAllFieldsSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.Name == "CurrentPlayerSessionCount" {
			continue
		}
		if rv.Field(i).IsZero() {
			t.Errorf("fixture %T leaves %s zero; set it so the round-trip tests cover it", v, f.Name)
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// inZone returns a copy of the record v with every time field moved to loc
// (same instant, different zone).
func inZone[T any](v T, loc *time.Location) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == timeType {
			if tm := f.Interface().(time.Time); !tm.IsZero() {
				f.Set(reflect.ValueOf(tm.In(loc)))
			}
		}
	}
	return v
}

// checkUTC fails if a time field of the record v is not in UTC.
func checkUTC(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == timeType {
			if loc := f.Interface().(time.Time).Location(); loc != time.UTC {
				t.Errorf("%T.%s is in %v, want UTC", v, rv.Type().Field(i).Name, loc)
			}
		}
	}
}

// eq fails the test when got and want differ.
func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %s\nwant: %s", what, show(got), show(want))
	}
}

func show(v any) string { return fmt.Sprintf("%+v", v) }

// isErr fails the test unless errors.Is(err, target).
func isErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
