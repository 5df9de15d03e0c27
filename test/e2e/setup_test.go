package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

func adminCreds() *aws.Credentials {
	return &aws.Credentials{AccessKeyID: adminAccessKeyID, SecretAccessKey: adminSecret}
}

// anywhere is a custom location, an ANYWHERE fleet in it and one registered
// compute with its auth token: what a game server needs to connect.
type anywhere struct {
	loc, fleetID, fleetArn, compute, sdkURL, token string
}

// setupAnywhere creates the location, fleet and compute (the per-response
// details are asserted by TestAnywhereFlow; here only what later steps use).
func setupAnywhere(t *testing.T, c apiClient, loc, compute string) anywhere {
	t.Helper()
	must[gamelift.CreateLocationOutput](t, c, &gamelift.CreateLocationInput{LocationName: &loc})
	fl, _ := must[gamelift.CreateFleetOutput](t, c, &gamelift.CreateFleetInput{
		Name: ptr("fleet-" + loc), ComputeType: types.ComputeTypeAnywhere, Locations: []types.LocationConfiguration{{Location: &loc}},
	})
	a := anywhere{loc: loc, fleetID: deref(fl.FleetAttributes.FleetId), fleetArn: deref(fl.FleetAttributes.FleetArn), compute: compute}
	if !reFleetID.MatchString(a.fleetID) || fl.FleetAttributes.Status != types.FleetStatusActive {
		t.Fatalf("CreateFleet: id %q status %s", a.fleetID, fl.FleetAttributes.Status)
	}
	rc, _ := must[gamelift.RegisterComputeOutput](t, c, &gamelift.RegisterComputeInput{
		FleetId: &a.fleetID, ComputeName: &compute, IpAddress: ptr("127.0.0.1"), Location: &loc,
	})
	a.sdkURL = deref(rc.Compute.GameLiftServiceSdkEndpoint)
	tok, _ := must[gamelift.GetComputeAuthTokenOutput](t, c, &gamelift.GetComputeAuthTokenInput{FleetId: &a.fleetID, ComputeName: &compute})
	a.token = deref(tok.AuthToken)
	return a
}

func (a anywhere) simEnv(processID string) simEnv {
	return simEnv{WebSocketURL: a.sdkURL, FleetID: a.fleetID, HostID: a.compute, AuthToken: a.token, ProcessID: processID}
}

// waitProcesses waits until the fleet counts n active server processes.
func waitProcesses(t *testing.T, c apiClient, fleetID string, n int32) {
	t.Helper()
	eventually(t, 15*time.Second, 100*time.Millisecond, fmt.Sprintf("ActiveServerProcessCount %d", n), func() error {
		if got := deref(utilization(t, c, fleetID).ActiveServerProcessCount); got != n {
			return fmt.Errorf("ActiveServerProcessCount %d", got)
		}
		return nil
	})
}

// portOf maps a game session's port to the READY line of its process.
func portOf(t *testing.T, ready []readyLine, port int32) readyLine {
	t.Helper()
	for _, r := range ready {
		if r.Addr == fmt.Sprintf("127.0.0.1:%d", port) {
			return r
		}
	}
	t.Fatalf("port %d is none of the ready processes %v", port, ready)
	return readyLine{}
}
