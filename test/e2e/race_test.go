package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// TestPlayerSessionRace sends 500 concurrent CreatePlayerSession calls at a
// 200-slot game session: exactly 200 succeed, the other 300 get
// GameSessionFullException, and every count agrees.
func TestPlayerSessionRace(t *testing.T) {
	t.Parallel()
	const slots, callers = 200, 500
	srv := startServe(t, t.TempDir(), "127.0.0.1:0")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = callers, callers
	c := newGoClient(srv.URL, adminCreds(), &http.Client{Transport: tr})
	a := setupAnywhere(t, c, "custom-race", "race-host")
	sim := startSim(t, a.simEnv("race"), 1)
	sim.waitReady(t, 1, 30*time.Second)
	waitProcesses(t, c, a.fleetID, 1)

	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{
		FleetId: &a.fleetID, Location: &a.loc, MaximumPlayerSessionCount: ptr[int32](slots), Name: ptr("race"),
	})
	gsID := deref(gs.GameSession.GameSessionId)
	waitGameSession(t, c, gsID, "ACTIVE", 15*time.Second)

	var (
		mu      sync.Mutex
		ok      = map[string]string{} // player session id → player id
		full    int
		other   []string
		wg      sync.WaitGroup
		startCh = make(chan struct{})
	)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startCh
			player := fmt.Sprintf("racer-%03d", i)
			out, _, err := call[gamelift.CreatePlayerSessionOutput](c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: &player})
			mu.Lock()
			defer mu.Unlock()
			var e *apiError
			switch {
			case err == nil:
				ok[deref(out.PlayerSession.PlayerSessionId)] = player
			case errors.As(err, &e) && e.Code == "GameSessionFullException" && e.Modeled == "GameSessionFullException" && e.HTTPStatus == 400 && e.Message != "":
				full++
			default:
				other = append(other, err.Error())
			}
		}()
	}
	began := time.Now()
	close(startCh)
	wg.Wait()
	t.Logf("%d concurrent CreatePlayerSession calls took %v", callers, time.Since(began))

	if len(ok) != slots || full != callers-slots || len(other) != 0 {
		sort.Strings(other)
		if len(other) > 5 {
			other = other[:5]
		}
		t.Errorf("%d succeeded, %d GameSessionFullException, %d other errors %q; want %d, %d, 0",
			len(ok), full, len(other), other, slots, callers-slots)
	}

	d := describeGameSession(t, c, gsID)
	if n := deref(d.CurrentPlayerSessionCount); n != slots {
		t.Errorf("CurrentPlayerSessionCount %d, want %d", n, slots)
	}
	all := playerSessionsOf(t, c, gsID, "", 0)
	reserved := playerSessionsOf(t, c, gsID, "RESERVED", 0)
	paged := playerSessionsOf(t, c, gsID, "", 37)
	for what, list := range map[string][]types.PlayerSession{"all": all, "RESERVED": reserved, "Limit 37": paged} {
		if len(list) != slots {
			t.Errorf("DescribePlayerSessions(GameSessionId, %s): %d sessions, want %d", what, len(list), slots)
		}
		for _, p := range list {
			id := deref(p.PlayerSessionId)
			if p.Status != types.PlayerSessionStatusReserved || ok[id] == "" || ok[id] != deref(p.PlayerId) {
				t.Errorf("DescribePlayerSessions(%s): %s %s of %s is not one of the successful reservations", what, id, p.Status, deref(p.PlayerId))
				break
			}
		}
	}
	if got := deref(utilization(t, c, a.fleetID).CurrentPlayerSessionCount); got != slots {
		t.Errorf("DescribeFleetUtilization.CurrentPlayerSessionCount %d, want %d", got, slots)
	}
	// Still full.
	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &gsID, PlayerId: ptr("late")}, "GameSessionFullException")

	srv.stop(t)
}
