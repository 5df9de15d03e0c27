package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/gorilla/websocket"
)

// TestAnywhereFlow runs the whole GameLift Anywhere flow of issue 2 once per
// client: the aws-sdk-go-v2 gamelift client (Smithy RPC v2 CBOR) and AWS JSON
// 1.1 requests signed and parsed as botocore does.
func TestAnywhereFlow(t *testing.T) {
	t.Parallel()
	clients := []struct {
		name string
		mk   func(url string, creds *aws.Credentials) apiClient
	}{
		{"go-cbor", func(u string, c *aws.Credentials) apiClient { return newGoClient(u, c, nil) }},
		{"json-botocore", func(u string, c *aws.Credentials) apiClient { return newJSONClient(u, c) }},
	}
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			t.Parallel()
			srv := startServe(t, t.TempDir(), "127.0.0.1:0")
			f := &flow{
				c:     cl.mk(srv.URL, &aws.Credentials{AccessKeyID: adminAccessKeyID, SecretAccessKey: adminSecret}),
				srv:   srv,
				since: time.Now(),
				loc:   "custom-e2e-home",
				loc2:  "custom-e2e-lab",
			}
			f.run(t)
		})
	}
}

// flow is the state the scenario builds up.
type flow struct {
	root  *testing.T // the test the game servers live as long as
	c     apiClient
	srv   *serveProc
	since time.Time

	account        string
	loc, loc2      string
	fleetID, arn   string
	fleetName      string
	compute        string
	computeArn     string
	sdkURL, token  string
	sim            *simProc
	addrByPort     map[int32]string
	gs1, gs2, gs3  string
	gs1Port        int32
	gs2Port        int32
	aliasID        string
	termAliasID    string
	termAliasMsg   string
	gs1Max, gs1Cur int32
	gs1Props       map[string]string
	gs3Port        int32
	gs3Created     time.Time
	reservedPS     string // a RESERVED player session of game session 1
}

func (f *flow) run(t *testing.T) {
	f.root = t
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"locations", f.locations},
		{"fleet", f.fleet},
		{"compute", f.computeStep},
		{"server processes", f.serverProcesses},
		{"game session", f.gameSession},
		{"player sessions", f.playerSessions},
		{"aliases", f.aliases},
		{"fleet capacity", f.capacity},
		{"terminate", f.terminate},
		{"activating", f.activating},
		{"not found", f.notFound},
		{"invalid requests", f.invalidRequests},
		{"auth", f.auth},
		{"unsupported operations", f.unsupported},
		{"process ends", f.processEnds},
		{"deletes", f.deletes},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Errorf("step %q failed; skipping the rest of the flow", s.name)
			break
		}
	}
	// Stopped with its game servers still connected: SIGTERM must still
	// exit 0.
	f.srv.stop(t)
}

// ---------------------------------------------------------------------------

func (f *flow) locations(t *testing.T) {
	c := f.c
	out, _ := must[gamelift.CreateLocationOutput](t, c, &gamelift.CreateLocationInput{LocationName: &f.loc})
	var lm *types.LocationModel
	check(t, "CreateLocation", out).Custom("Location", func(v any, ok bool) {
		if !ok {
			t.Fatal("CreateLocation: no Location")
		}
		l := v.(types.LocationModel)
		lm = &l
	}).Done()
	// The account comes from the location ARN; fleets must use the same one.
	m := regexp.MustCompile(`^arn:aws:gamelift:us-west-2:(\d{12}):location/` + f.loc + `$`).FindStringSubmatch(deref(lm.LocationArn))
	if m == nil {
		t.Fatalf("CreateLocation: LocationArn %q, want arn:aws:gamelift:us-west-2:<account>:location/%s", deref(lm.LocationArn), f.loc)
	}
	f.account = m[1]
	checkLocation := func(what string, l *types.LocationModel, name string) {
		check(t, what, l).Eq("LocationName", name).Eq("LocationArn", locationArn(f.account, name)).Absent("PingBeacon").Done()
	}
	checkLocation("CreateLocation.Location", lm, f.loc)

	expectErr(t, c, &gamelift.CreateLocationInput{LocationName: &f.loc}, "ConflictException", f.loc)
	for _, bad := range []string{"nocustom-x", "custom-", "custom-a_b", "custom-" + strings.Repeat("x", 58)} {
		expectErr(t, c, &gamelift.CreateLocationInput{LocationName: ptr(bad)}, "InvalidRequestException", "LocationName")
	}

	must[gamelift.CreateLocationOutput](t, c, &gamelift.CreateLocationInput{LocationName: &f.loc2})

	// No filter: the home Region and the custom locations (spec §3.6).
	all, raw := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{})
	hasList(t, raw, "Locations")
	noKey(t, raw, "NextToken")
	var names []string
	for i := range all.Locations {
		l := &all.Locations[i]
		name := deref(l.LocationName)
		names = append(names, name)
		if strings.HasPrefix(name, "custom-") {
			checkLocation("ListLocations", l, name)
		} else {
			check(t, "ListLocations (AWS)", l).Match("LocationName", regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)).Absent("LocationArn").
				Custom("PingBeacon", func(v any, ok bool) {
					if ok && (v.(types.PingBeacon).UDPEndpoint == nil || deref(v.(types.PingBeacon).UDPEndpoint.Domain) == "") {
						t.Errorf("ListLocations: AWS location %s has a PingBeacon without a UDPEndpoint", name)
					}
				}).Done()
		}
	}
	sort.Strings(names)
	if want := sorted(f.loc2, f.loc, region); fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("ListLocations: %v, want %v", names, want)
	}

	custom, raw := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}})
	hasList(t, raw, "Locations")
	if got := locationNames(custom.Locations); fmt.Sprint(got) != fmt.Sprint(sorted(f.loc2, f.loc)) {
		t.Errorf("ListLocations(CUSTOM): %v, want [%s %s]", got, f.loc2, f.loc)
	}
	awsLocs, raw := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterAws}})
	hasList(t, raw, "Locations")
	for _, n := range locationNames(awsLocs.Locations) {
		if strings.HasPrefix(n, "custom-") {
			t.Errorf("ListLocations(AWS) lists the custom location %s", n)
		}
	}

	// Paging: Limit 1 over the two custom locations.
	p1, raw := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}, Limit: ptr[int32](1)})
	if hasList(t, raw, "Locations") != 1 || p1.NextToken == nil {
		t.Fatalf("ListLocations(CUSTOM, Limit 1): %d locations, NextToken %v; want 1 and a token", len(p1.Locations), p1.NextToken)
	}
	p2, raw := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}, Limit: ptr[int32](1), NextToken: p1.NextToken})
	noKey(t, raw, "NextToken")
	if got := locationNames(append(p1.Locations, p2.Locations...)); fmt.Sprint(got) != fmt.Sprint(sorted(f.loc2, f.loc)) {
		t.Errorf("ListLocations pages: %v", got)
	}

	// DeleteLocation by ARN; then it is gone.
	tmp := "custom-e2e-tmp"
	must[gamelift.CreateLocationOutput](t, c, &gamelift.CreateLocationInput{LocationName: &tmp})
	del, raw := must[gamelift.DeleteLocationOutput](t, c, &gamelift.DeleteLocationInput{LocationName: ptr(locationArn(f.account, tmp))})
	check(t, "DeleteLocation", del).Done()
	if len(raw) != 0 {
		t.Errorf("DeleteLocation: response %v, want {}", raw)
	}
	expectErr(t, c, &gamelift.DeleteLocationInput{LocationName: &tmp}, "NotFoundException", tmp)
	after, _ := must[gamelift.ListLocationsOutput](t, c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}})
	if got := locationNames(after.Locations); fmt.Sprint(got) != fmt.Sprint(sorted(f.loc2, f.loc)) {
		t.Errorf("ListLocations after DeleteLocation: %v", got)
	}
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func locationNames(ls []types.LocationModel) []string {
	var out []string
	for _, l := range ls {
		out = append(out, deref(l.LocationName))
	}
	sort.Strings(out)
	return out
}

// checkFleetAttributes asserts every member of an Anywhere fleet's attributes.
func (f *flow) checkFleetAttributes(t *testing.T, what string, a *types.FleetAttributes, name, desc string, rclp [2]int32, created time.Time) {
	t.Helper()
	c := check(t, what, a)
	if f.fleetID == "" {
		c.Match("FleetId", reFleetID)
		c.Match("FleetArn", reAccount)
	} else {
		c.Eq("FleetId", f.fleetID)
		c.Eq("FleetArn", f.arn)
	}
	c.Eq("Name", name).Eq("Description", desc).Eq("Status", "ACTIVE").Eq("ComputeType", "ANYWHERE")
	if created.IsZero() {
		c.Time("CreationTime", f.since, time.Now())
	} else {
		c.TimeEq("CreationTime", created)
	}
	c.Absent("TerminationTime", "BuildId", "BuildArn", "ScriptId", "ScriptArn", "InstanceType",
		"ServerLaunchPath", "ServerLaunchParameters", "LogPaths", "StoppedActions", "InstanceRoleArn",
		"InstanceRoleCredentialsProvider", "PlayerGatewayConfiguration")
	c.Eq("NewGameSessionProtectionPolicy", "FullProtection")
	c.Eq("MetricGroups", []string{"e2e-metrics"})
	c.Custom("AnywhereConfiguration", func(v any, ok bool) {
		if !ok || deref(v.(types.AnywhereConfiguration).Cost) != "0.5" {
			t.Errorf("%s.AnywhereConfiguration = %+v, want Cost 0.5", what, v)
		}
	})
	c.Custom("ResourceCreationLimitPolicy", func(v any, ok bool) {
		p, _ := v.(types.ResourceCreationLimitPolicy)
		if !ok || deref(p.NewGameSessionsPerCreator) != rclp[0] || deref(p.PolicyPeriodInMinutes) != rclp[1] {
			t.Errorf("%s.ResourceCreationLimitPolicy = %+v, want %v", what, v, rclp)
		}
	})
	c.Custom("CertificateConfiguration", func(v any, ok bool) {
		if ok && v.(types.CertificateConfiguration).CertificateType != types.CertificateTypeDisabled {
			t.Errorf("%s.CertificateConfiguration = %+v, want DISABLED", what, v)
		}
	})
	c.AbsentOr("FleetType", "ON_DEMAND")
	c.AbsentOr("PlayerGatewayMode", "DISABLED")
	c.Ignore("Anywhere fleets have no operating system of their own", "OperatingSystem")
	c.Done()
}

func (f *flow) fleet(t *testing.T) {
	c := f.c
	f.fleetName = "e2e-fleet"
	in := &gamelift.CreateFleetInput{
		Name:                           &f.fleetName,
		Description:                    ptr("e2e anywhere fleet"),
		ComputeType:                    types.ComputeTypeAnywhere,
		Locations:                      []types.LocationConfiguration{{Location: &f.loc}},
		AnywhereConfiguration:          &types.AnywhereConfiguration{Cost: ptr("0.5")},
		NewGameSessionProtectionPolicy: types.ProtectionPolicyFullProtection,
		ResourceCreationLimitPolicy:    &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr[int32](5), PolicyPeriodInMinutes: ptr[int32](2)},
		MetricGroups:                   []string{"e2e-metrics"},
	}
	out, _ := must[gamelift.CreateFleetOutput](t, c, in)
	oc := check(t, "CreateFleet", out)
	oc.Custom("FleetAttributes", func(v any, ok bool) {
		if !ok {
			t.Fatal("CreateFleet: no FleetAttributes")
		}
		a := v.(types.FleetAttributes)
		f.checkFleetAttributes(t, "CreateFleet.FleetAttributes", &a, "e2e-fleet", "e2e anywhere fleet", [2]int32{5, 2}, time.Time{})
		f.fleetID, f.arn = deref(a.FleetId), deref(a.FleetArn)
	})
	oc.Custom("LocationStates", func(v any, ok bool) {
		// An Anywhere fleet reports its custom location; the home Region may
		// be listed as well.
		states, _ := v.([]types.LocationState)
		found := false
		for i, s := range states {
			sc := check(t, fmt.Sprintf("CreateFleet.LocationStates[%d]", i), &s)
			if deref(s.Location) == f.loc {
				found = true
				sc.Eq("Location", f.loc)
			} else {
				sc.Eq("Location", region)
			}
			sc.Eq("Status", "ACTIVE").AbsentOr("PlayerGatewayStatus", "DISABLED").Done()
		}
		if !found {
			t.Errorf("CreateFleet.LocationStates = %+v, want %s ACTIVE", states, f.loc)
		}
	})
	oc.Done()
	if f.fleetID == "" {
		t.FailNow()
	}
	if got := reAccount.FindStringSubmatch(f.arn); got == nil || got[1] != f.account || f.arn != fleetArn(f.account, f.fleetID) {
		t.Errorf("FleetArn %s, want %s", f.arn, fleetArn(f.account, f.fleetID))
	}
	created := *out.FleetAttributes.CreationTime

	for _, ids := range [][]string{{f.fleetID}, {f.arn}} {
		d, raw := must[gamelift.DescribeFleetAttributesOutput](t, c, &gamelift.DescribeFleetAttributesInput{FleetIds: ids})
		hasList(t, raw, "FleetAttributes")
		noKey(t, raw, "NextToken")
		if len(d.FleetAttributes) != 1 {
			t.Fatalf("DescribeFleetAttributes(%v): %d fleets", ids, len(d.FleetAttributes))
		}
		f.checkFleetAttributes(t, "DescribeFleetAttributes", &d.FleetAttributes[0], "e2e-fleet", "e2e anywhere fleet", [2]int32{5, 2}, created)
	}
	// Unknown IDs are left out, not refused (spec §3.5).
	d, raw := must[gamelift.DescribeFleetAttributesOutput](t, c, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{"fleet-00000000-0000-0000-0000-000000000000"}})
	if hasList(t, raw, "FleetAttributes") != 0 {
		t.Errorf("DescribeFleetAttributes(unknown): %+v, want []", d.FleetAttributes)
	}
	d, _ = must[gamelift.DescribeFleetAttributesOutput](t, c, &gamelift.DescribeFleetAttributesInput{})
	if len(d.FleetAttributes) != 1 || deref(d.FleetAttributes[0].FleetId) != f.fleetID {
		t.Errorf("DescribeFleetAttributes(all): %d fleets, want just %s", len(d.FleetAttributes), f.fleetID)
	}

	lf, raw := must[gamelift.ListFleetsOutput](t, c, &gamelift.ListFleetsInput{})
	hasList(t, raw, "FleetIds")
	noKey(t, raw, "NextToken")
	check(t, "ListFleets", lf).Eq("FleetIds", []string{f.fleetID}).Absent("NextToken").Done()

	up, _ := must[gamelift.UpdateFleetAttributesOutput](t, c, &gamelift.UpdateFleetAttributesInput{
		FleetId:                     &f.fleetID,
		Name:                        ptr("e2e-fleet-renamed"),
		Description:                 ptr("updated by e2e"),
		ResourceCreationLimitPolicy: &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr[int32](10), PolicyPeriodInMinutes: ptr[int32](1)},
	})
	check(t, "UpdateFleetAttributes", up).Eq("FleetId", f.fleetID).Eq("FleetArn", f.arn).Done()
	d, _ = must[gamelift.DescribeFleetAttributesOutput](t, c, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{f.fleetID}})
	if len(d.FleetAttributes) == 1 {
		f.checkFleetAttributes(t, "DescribeFleetAttributes after update", &d.FleetAttributes[0], "e2e-fleet-renamed", "updated by e2e", [2]int32{10, 1}, created)
	}
	f.fleetName = "e2e-fleet-renamed"

	ev, raw := must[gamelift.DescribeFleetEventsOutput](t, c, &gamelift.DescribeFleetEventsInput{FleetId: &f.fleetID})
	hasList(t, raw, "Events")
	var createdEv *types.Event
	for i := range ev.Events {
		if ev.Events[i].EventCode == types.EventCodeFleetCreated {
			createdEv = &ev.Events[i]
		}
	}
	if createdEv == nil {
		t.Errorf("DescribeFleetEvents: no FLEET_CREATED among %d events", len(ev.Events))
	} else {
		ec := check(t, "FLEET_CREATED event", createdEv).Match("EventId", regexp.MustCompile(`\S`)).Eq("ResourceId", f.fleetID).
			Eq("EventCode", "FLEET_CREATED").Match("Message", regexp.MustCompile(`\S`)).Absent("PreSignedLogUrl").
			Custom("Count", func(v any, ok bool) {
				if ok && (v.(int64) < 1 || v.(int64) > 101) {
					t.Errorf("FLEET_CREATED Count %v, want 1..101", v)
				}
			})
		ec.Time("EventTime", f.since, time.Now())
		ec.Done()
	}

	// A time window (timestamps as input: JSON numbers with a fraction, CBOR tag 1).
	win, raw := must[gamelift.DescribeFleetEventsOutput](t, c, &gamelift.DescribeFleetEventsInput{FleetId: &f.fleetID, StartTime: ptr(f.since.Add(-time.Second)), EndTime: ptr(time.Now().Add(time.Second))})
	hasList(t, raw, "Events")
	if len(win.Events) != len(ev.Events) {
		t.Errorf("DescribeFleetEvents over the test's lifetime: %d events, want all %d", len(win.Events), len(ev.Events))
	}
	past, raw := must[gamelift.DescribeFleetEventsOutput](t, c, &gamelift.DescribeFleetEventsInput{FleetId: &f.fleetID, StartTime: ptr(f.since.Add(-time.Hour)), EndTime: ptr(f.since.Add(-30 * time.Minute))})
	if hasList(t, raw, "Events") != 0 {
		t.Errorf("DescribeFleetEvents before the fleet existed: %d events, want []", len(past.Events))
	}

	expectErr(t, c, &gamelift.CreateFleetInput{Name: ptr("ec2"), ComputeType: types.ComputeTypeEc2, EC2InstanceType: types.EC2InstanceTypeC5Large, BuildId: ptr("build-00000000-0000-0000-0000-000000000000")}, "InvalidRequestException", "ComputeType")
}

func (f *flow) checkCompute(t *testing.T, what string, cp *types.Compute, created time.Time) {
	t.Helper()
	c := check(t, what, cp)
	c.Eq("FleetId", f.fleetID).Eq("FleetArn", f.arn).Eq("ComputeName", f.compute)
	c.Match("ComputeArn", regexp.MustCompile(`^arn:aws:gamelift:us-west-2:(`+f.account+`)?:compute/`+f.compute+`$`))
	c.Eq("IpAddress", "127.0.0.1").Absent("DnsName").Eq("ComputeStatus", "ACTIVE").Eq("Location", f.loc)
	if created.IsZero() {
		c.Time("CreationTime", f.since, time.Now())
	} else {
		c.TimeEq("CreationTime", created)
	}
	c.Match("GameLiftServiceSdkEndpoint", regexp.MustCompile(`^ws://127\.0\.0\.1:\d+(/\S*)?$`))
	c.Absent("GameLiftAgentEndpoint", "InstanceId", "ContainerAttributes", "GameServerContainerGroupDefinitionArn", "Type")
	c.Ignore("not set for Anywhere computes by the spec", "OperatingSystem")
	c.Done()
}

func (f *flow) computeStep(t *testing.T) {
	c := f.c
	f.compute = "e2e-host-1"
	rc, _ := must[gamelift.RegisterComputeOutput](t, c, &gamelift.RegisterComputeInput{
		FleetId: &f.fleetID, ComputeName: &f.compute, IpAddress: ptr("127.0.0.1"), Location: &f.loc,
	})
	check(t, "RegisterCompute", rc).Custom("Compute", func(v any, ok bool) {
		if !ok {
			t.Fatal("RegisterCompute: no Compute")
		}
		cp := v.(types.Compute)
		f.checkCompute(t, "RegisterCompute.Compute", &cp, time.Time{})
	}).Done()
	f.computeArn = deref(rc.Compute.ComputeArn)
	f.sdkURL = deref(rc.Compute.GameLiftServiceSdkEndpoint)
	created := deref(rc.Compute.CreationTime)
	if u, err := url.Parse(f.sdkURL); err != nil || u.Host != f.srv.Addr {
		t.Errorf("GameLiftServiceSdkEndpoint %q is not on the server's listener %s", f.sdkURL, f.srv.Addr)
	}

	for i, name := range []string{f.compute, f.computeArn} {
		fleet := []string{f.fleetID, f.arn}[i]
		dc, _ := must[gamelift.DescribeComputeOutput](t, c, &gamelift.DescribeComputeInput{FleetId: &fleet, ComputeName: &name})
		check(t, "DescribeCompute", dc).Custom("Compute", func(v any, ok bool) {
			cp := v.(types.Compute)
			f.checkCompute(t, "DescribeCompute.Compute", &cp, created)
		}).Done()
	}
	for _, loc := range []*string{nil, &f.loc} {
		lc, raw := must[gamelift.ListComputeOutput](t, c, &gamelift.ListComputeInput{FleetId: &f.fleetID, Location: loc})
		hasList(t, raw, "ComputeList")
		noKey(t, raw, "NextToken")
		if len(lc.ComputeList) != 1 {
			t.Fatalf("ListCompute: %d computes, want 1", len(lc.ComputeList))
		}
		f.checkCompute(t, "ListCompute.ComputeList[0]", &lc.ComputeList[0], created)
	}
	lc, raw := must[gamelift.ListComputeOutput](t, c, &gamelift.ListComputeInput{FleetId: &f.fleetID, Location: &f.loc2})
	if hasList(t, raw, "ComputeList") != 0 {
		t.Errorf("ListCompute(Location %s): %d computes, want []", f.loc2, len(lc.ComputeList))
	}

	var exp time.Time
	for i := range 2 {
		tok, _ := must[gamelift.GetComputeAuthTokenOutput](t, c, &gamelift.GetComputeAuthTokenInput{FleetId: &f.fleetID, ComputeName: &f.compute})
		tc := check(t, "GetComputeAuthToken", tok).Eq("FleetId", f.fleetID).Eq("FleetArn", f.arn).Eq("ComputeName", f.compute).
			Eq("ComputeArn", f.computeArn).Match("AuthToken", reAuthToken)
		if i == 0 {
			f.token = deref(tok.AuthToken)
			// openlift decision: tokens live 1 hour (spec §3.6).
			exp = tc.Time("ExpirationTimestamp", time.Now().Add(59*time.Minute), time.Now().Add(61*time.Minute))
		} else {
			tc.Eq("AuthToken", f.token).TimeEq("ExpirationTimestamp", exp)
		}
		tc.Done()
	}

	expectErr(t, c, &gamelift.DescribeComputeInput{FleetId: &f.fleetID, ComputeName: ptr("no-such-host")}, "NotFoundException", "no-such-host")
	expectErr(t, c, &gamelift.GetComputeAuthTokenInput{FleetId: &f.fleetID, ComputeName: ptr("no-such-host")}, "NotFoundException", "no-such-host")

	// The SDK endpoint refuses the upgrade for a wrong token, an unknown
	// compute and an unknown fleet (the SDK would just retry the dial).
	for _, tc := range []struct{ name, fleet, host, token string }{
		{"wrong token", f.fleetID, f.compute, "wrong-token"},
		{"unknown compute", f.fleetID, "no-such-host", f.token},
		{"unknown fleet", "fleet-00000000-0000-0000-0000-000000000000", f.compute, f.token},
	} {
		q := url.Values{"pID": {"e2e-probe"}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "ComputeId": {tc.host},
			"FleetId": {tc.fleet}, "IdempotencyToken": {"e2e-probe-1"}, "Authorization": {tc.token}}
		conn, resp, err := websocket.DefaultDialer.Dial(strings.TrimSuffix(f.sdkURL, "?")+"?"+q.Encode(), nil)
		if err == nil {
			conn.Close()
			t.Errorf("SDK endpoint upgrade with %s: accepted, want refused", tc.name)
			continue
		}
		if resp == nil || resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Errorf("SDK endpoint upgrade with %s: %v (response %v), want a 4xx refusal", tc.name, err, resp)
		}
	}
}

func (f *flow) serverProcesses(t *testing.T) {
	f.sim = startSimFor(t, f.root, simEnv{WebSocketURL: f.sdkURL, FleetID: f.fleetID, HostID: f.compute, AuthToken: f.token, ProcessID: "e2e-proc"}, 3)
	ready := f.sim.waitReady(t, 3, 30*time.Second)
	f.addrByPort = map[int32]string{}
	for _, r := range ready {
		host, port, err := net.SplitHostPort(r.Addr)
		if err != nil || host != "127.0.0.1" {
			t.Errorf("READY %s %s: want 127.0.0.1:<port>", r.PID, r.Addr)
		}
		p, _ := strconv.Atoi(port)
		f.addrByPort[int32(p)] = r.Addr
		if pl := dialPlayer(t, r.Addr); pl.pID != r.PID {
			t.Errorf("player port %s greets as %s, want %s", r.Addr, pl.pID, r.PID)
		} else {
			pl.close()
		}
	}
	eventually(t, 15*time.Second, 100*time.Millisecond, "ActiveServerProcessCount 3", func() error {
		if n := deref(utilization(t, f.c, f.fleetID).ActiveServerProcessCount); n != 3 {
			return fmt.Errorf("ActiveServerProcessCount %d", n)
		}
		return nil
	})
	checkUtilization(t, "DescribeFleetUtilization", utilization(t, f.c, f.fleetID),
		utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: region, procs: 3})
	lu, _ := must[gamelift.DescribeFleetLocationUtilizationOutput](t, f.c, &gamelift.DescribeFleetLocationUtilizationInput{FleetId: &f.fleetID, Location: &f.loc})
	check(t, "DescribeFleetLocationUtilization", lu).Custom("FleetUtilization", func(v any, ok bool) {
		u, _ := v.(types.FleetUtilization)
		checkUtilization(t, "DescribeFleetLocationUtilization.FleetUtilization", &u,
			utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: f.loc, procs: 3})
	}).Done()

	// A game server with a wrong auth token is refused at the upgrade and
	// never becomes ready.
	bad := startSim(t, simEnv{WebSocketURL: f.sdkURL, FleetID: f.fleetID, HostID: f.compute, AuthToken: "wrong-token", ProcessID: "e2e-bad"}, 1)
	eventually(t, 20*time.Second, 100*time.Millisecond, "the wrong-token sim's refusal in its log", func() error {
		if !reRefused.MatchString(bad.log.String()) {
			return fmt.Errorf("no refusal logged yet")
		}
		return nil
	})
	if r := bad.readyLines(); len(r) != 0 {
		t.Errorf("sim with a wrong auth token became ready: %v", r)
	}
	bad.kill()
	if n := deref(utilization(t, f.c, f.fleetID).ActiveServerProcessCount); n != 3 {
		t.Errorf("ActiveServerProcessCount %d after a refused game server, want 3", n)
	}
}

// reRefused matches the sim's report of a refused WebSocket upgrade.
var reRefused = regexp.MustCompile(`(?i)(bad handshake|401|403|unauthori[sz]ed|forbidden)`)

func (f *flow) gsBase() gsWant {
	return gsWant{fleetID: f.fleetID, fleetArn: f.arn, location: f.loc, compute: f.compute, ip: "127.0.0.1", policy: "ACCEPT_ALL"}
}

func (f *flow) gameSession(t *testing.T) {
	c := f.c
	token := "e2e-gs-1"
	in := &gamelift.CreateGameSessionInput{
		FleetId:                   &f.fleetID,
		Location:                  &f.loc,
		MaximumPlayerSessionCount: ptr[int32](3),
		Name:                      ptr("e2e-game"),
		GameProperties:            []types.GameProperty{{Key: ptr("mode"), Value: ptr("ctf")}, {Key: ptr("map"), Value: ptr("dust")}},
		CreatorId:                 ptr("creator-1"),
		GameSessionData:           ptr(`{"seed":42}`),
		IdempotencyToken:          &token,
	}
	out, _ := must[gamelift.CreateGameSessionOutput](t, c, in)
	f.gs1 = gameSessionIDWithToken(f.fleetID, token)
	f.gs1Props = map[string]string{"mode": "ctf", "map": "dust"}
	w := f.gsBase()
	w.id, w.name, w.max, w.props, w.creator, w.data = f.gs1, "e2e-game", 3, f.gs1Props, "creator-1", `{"seed":42}`
	created := time.Time{}
	check(t, "CreateGameSession", out).Custom("GameSession", func(v any, ok bool) {
		gs := v.(types.GameSession)
		ww := w
		ww.status = string(gs.Status)
		if gs.Status != types.GameSessionStatusActivating && gs.Status != types.GameSessionStatusActive {
			t.Errorf("CreateGameSession: status %s, want ACTIVATING or ACTIVE", gs.Status)
		}
		if gs.Status == types.GameSessionStatusActive {
			ww.port = deref(gs.Port)
		}
		checkGameSession(t, "CreateGameSession.GameSession", &gs, ww, f.since)
		created = deref(gs.CreationTime)
	}).Done()

	gs := waitGameSession(t, c, f.gs1, "ACTIVE", 15*time.Second)
	f.gs1Port = deref(gs.Port)
	if _, ok := f.addrByPort[f.gs1Port]; !ok {
		t.Fatalf("game session port %d is none of the ready processes' ports %v", f.gs1Port, f.addrByPort)
	}
	w.status, w.port, w.created = "ACTIVE", f.gs1Port, created
	checkGameSession(t, "DescribeGameSessions", gs, w, f.since)

	// The game server received the session as created (the CreateGameSession
	// push), as a game built on the SDK sees it.
	var sv struct {
		GameSessionId, GameSessionData, Name, FleetId, IpAddress string
		MaximumPlayerSessionCount, Port                          int
		GameProperties                                           map[string]string
	}
	line := playerSay(t, f.addrByPort[f.gs1Port], "session")
	if js, ok := strings.CutPrefix(line, "OK session "); !ok || json.Unmarshal([]byte(js), &sv) != nil {
		t.Errorf("session on the game server: %q", line)
	} else if sv.GameSessionId != f.gs1 || sv.GameSessionData != `{"seed":42}` || sv.Name != "e2e-game" || sv.FleetId != f.fleetID ||
		sv.IpAddress != "127.0.0.1" || sv.MaximumPlayerSessionCount != 3 || sv.Port != int(f.gs1Port) || fmt.Sprint(sv.GameProperties) != fmt.Sprint(map[string]string{"mode": "ctf", "map": "dust"}) {
		t.Errorf("game server's view of the session: %+v", sv)
	}

	// The same IdempotencyToken returns the same session, now ACTIVE.
	again, _ := must[gamelift.CreateGameSessionOutput](t, c, in)
	checkGameSession(t, "CreateGameSession (repeat)", again.GameSession, w, f.since)

	for _, tc := range []struct {
		what string
		in   *gamelift.DescribeGameSessionsInput
		want int
	}{
		{"FleetId", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID}, 1},
		{"FleetArn", &gamelift.DescribeGameSessionsInput{FleetId: &f.arn}, 1},
		{"FleetId+Location", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, Location: &f.loc}, 1},
		{"FleetId+other Location", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, Location: &f.loc2}, 0},
		{"StatusFilter ACTIVE", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, StatusFilter: ptr("ACTIVE")}, 1},
		{"StatusFilter TERMINATED", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, StatusFilter: ptr("TERMINATED")}, 0},
		{"StatusFilter ACTIVATING", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, StatusFilter: ptr("ACTIVATING")}, 0},
	} {
		d, raw := must[gamelift.DescribeGameSessionsOutput](t, c, tc.in)
		if n := hasList(t, raw, "GameSessions"); n != tc.want {
			t.Errorf("DescribeGameSessions(%s): %d sessions, want %d", tc.what, n, tc.want)
			continue
		}
		noKey(t, raw, "NextToken")
		for i := range d.GameSessions {
			checkGameSession(t, "DescribeGameSessions("+tc.what+")", &d.GameSessions[i], w, f.since)
		}
	}

	f.checkDetails(t, w, "FullProtection")

	// UpdateGameSession changes only what it is given; properties merge.
	up, _ := must[gamelift.UpdateGameSessionOutput](t, c, &gamelift.UpdateGameSessionInput{
		GameSessionId:             &f.gs1,
		Name:                      ptr("e2e-game-2"),
		MaximumPlayerSessionCount: ptr[int32](4),
		GameProperties:            []types.GameProperty{{Key: ptr("mode"), Value: ptr("koth")}, {Key: ptr("extra"), Value: ptr("1")}},
		ProtectionPolicy:          types.ProtectionPolicyNoProtection,
	})
	f.gs1Props = map[string]string{"mode": "koth", "map": "dust", "extra": "1"}
	f.gs1Max = 4
	w.name, w.max, w.props = "e2e-game-2", 4, f.gs1Props
	checkGameSession(t, "UpdateGameSession.GameSession", up.GameSession, w, f.since)
	checkGameSession(t, "DescribeGameSessions after update", describeGameSession(t, c, f.gs1), w, f.since)
	f.checkDetails(t, w, "NoProtection")

	checkUtilization(t, "DescribeFleetUtilization", utilization(t, c, f.fleetID),
		utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: region, procs: 3, sessions: 1, max: 4})
}

// gs1Want is game session 1 as it should be now.
func (f *flow) gs1Want() gsWant {
	w := f.gsBase()
	w.id, w.name, w.max, w.cur, w.props, w.creator, w.data = f.gs1, "e2e-game-2", f.gs1Max, f.gs1Cur, f.gs1Props, "creator-1", `{"seed":42}`
	w.status, w.port = "ACTIVE", f.gs1Port
	return w
}

func (f *flow) checkDetails(t *testing.T, w gsWant, protection string) {
	t.Helper()
	d, raw := must[gamelift.DescribeGameSessionDetailsOutput](t, f.c, &gamelift.DescribeGameSessionDetailsInput{GameSessionId: &w.id})
	hasList(t, raw, "GameSessionDetails")
	noKey(t, raw, "NextToken")
	if len(d.GameSessionDetails) != 1 {
		t.Fatalf("DescribeGameSessionDetails: %d details, want 1", len(d.GameSessionDetails))
	}
	check(t, "DescribeGameSessionDetails", &d.GameSessionDetails[0]).
		Custom("GameSession", func(v any, ok bool) {
			gs := v.(types.GameSession)
			checkGameSession(t, "DescribeGameSessionDetails.GameSession", &gs, w, f.since)
		}).
		Eq("ProtectionPolicy", protection).Done()
}

// expectCount asserts CurrentPlayerSessionCount of game session 1 (and of the fleet).
func (f *flow) expectCount(t *testing.T, n int32, fleetPlayers int32) {
	t.Helper()
	f.gs1Cur = n
	checkGameSession(t, fmt.Sprintf("game session with %d players", n), describeGameSession(t, f.c, f.gs1), f.gs1Want(), f.since)
	if got := deref(utilization(t, f.c, f.fleetID).CurrentPlayerSessionCount); got != fleetPlayers {
		t.Errorf("DescribeFleetUtilization.CurrentPlayerSessionCount %d, want %d", got, fleetPlayers)
	}
}

func (f *flow) psBase(gsID string, port int32) psWant {
	return psWant{gsID: gsID, fleetID: f.fleetID, fleetArn: f.arn, ip: "127.0.0.1", port: port, status: "RESERVED"}
}

func (f *flow) playerSessions(t *testing.T) {
	c := f.c
	addr := f.addrByPort[f.gs1Port]

	p1, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-1"), PlayerData: ptr("data-1")})
	w1 := f.psBase(f.gs1, f.gs1Port)
	w1.playerID, w1.data = "player-1", "data-1"
	check(t, "CreatePlayerSession", p1).Custom("PlayerSession", func(v any, ok bool) {
		ps := v.(types.PlayerSession)
		checkPlayerSession(t, "CreatePlayerSession.PlayerSession", &ps, w1, f.since)
	}).Done()
	ps1 := deref(p1.PlayerSession.PlayerSessionId)
	w1.id, w1.created = ps1, deref(p1.PlayerSession.CreationTime)
	f.expectCount(t, 1, 1)

	pm, raw := must[gamelift.CreatePlayerSessionsOutput](t, c, &gamelift.CreatePlayerSessionsInput{
		GameSessionId: &f.gs1,
		PlayerIds:     []string{"player-2", "player-3"},
		PlayerDataMap: map[string]string{"player-2": "data-2", "player-9": "not requested"},
	})
	if hasList(t, raw, "PlayerSessions") != 2 {
		t.Fatalf("CreatePlayerSessions: %d sessions, want 2", len(pm.PlayerSessions))
	}
	wants := map[string]psWant{}
	for i := range pm.PlayerSessions {
		ps := &pm.PlayerSessions[i]
		w := f.psBase(f.gs1, f.gs1Port)
		w.playerID = deref(ps.PlayerId)
		if w.playerID == "player-2" {
			w.data = "data-2"
		} else if w.playerID != "player-3" {
			t.Errorf("CreatePlayerSessions: unexpected PlayerId %q", w.playerID)
		}
		checkPlayerSession(t, "CreatePlayerSessions.PlayerSessions", ps, w, f.since)
		w.id, w.created = deref(ps.PlayerSessionId), deref(ps.CreationTime)
		wants[w.id] = w
	}
	wants[ps1] = w1
	f.expectCount(t, 3, 3)

	// openlift decision: a PlayerId with a live session gets another one.
	p4, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-1")})
	w4 := f.psBase(f.gs1, f.gs1Port)
	w4.playerID = "player-1"
	checkPlayerSession(t, "CreatePlayerSession (same player)", p4.PlayerSession, w4, f.since)
	w4.id, w4.created = deref(p4.PlayerSession.PlayerSessionId), deref(p4.PlayerSession.CreationTime)
	if w4.id == ps1 {
		t.Errorf("CreatePlayerSession for the same player returned the same id %s", ps1)
	}
	wants[w4.id] = w4
	f.reservedPS = w4.id
	f.expectCount(t, 4, 4)

	// Full.
	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-5")}, "GameSessionFullException")
	expectErr(t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: []string{"player-5"}}, "GameSessionFullException")
	f.expectCount(t, 4, 4)

	// The player presents its id on the game server's port: ACTIVE.
	pl := dialPlayer(t, addr)
	if got := pl.send(t, ps1); got != "OK accept "+ps1 {
		t.Fatalf("player accept: %q, want OK accept %s", got, ps1)
	}
	acc := waitPlayerSession(t, c, ps1, "ACTIVE", 10*time.Second)
	w1.status = "ACTIVE"
	wants[ps1] = w1
	checkPlayerSession(t, "DescribePlayerSessions(PlayerSessionId) ACTIVE", acc, w1, f.since)
	f.expectCount(t, 4, 4)
	// The game server sees the same record through the SDK's
	// DescribePlayerSessions (times in epoch milliseconds).
	var dr struct {
		NextToken      string
		PlayerSessions []struct {
			PlayerId, PlayerSessionId, GameSessionId, FleetId, PlayerData, IpAddress, Status string
			Port                                                                             int
			CreationTime, TerminationTime                                                    int64
		}
	}
	line := pl.send(t, "describe "+ps1)
	if js, ok := strings.CutPrefix(line, "OK describe "); !ok || json.Unmarshal([]byte(js), &dr) != nil || len(dr.PlayerSessions) != 1 {
		t.Errorf("describe on the game server: %q", line)
	} else if p := dr.PlayerSessions[0]; p.PlayerSessionId != ps1 || p.PlayerId != "player-1" || p.GameSessionId != f.gs1 || p.FleetId != f.fleetID ||
		p.PlayerData != "data-1" || p.IpAddress != "127.0.0.1" || p.Port != int(f.gs1Port) || p.Status != "ACTIVE" ||
		p.CreationTime != w1.created.UnixMilli() || p.TerminationTime != 0 || dr.NextToken != "" {
		t.Errorf("game server's DescribePlayerSessions: %+v (want CreationTime %d)", dr, w1.created.UnixMilli())
	}
	// A second accept of the same id, and an unknown id, are refused.
	if got := playerSay(t, addr, ps1); !strings.HasPrefix(got, "ERR 4") {
		t.Errorf("second accept of %s: %q, want ERR 4xx", ps1, got)
	}
	if got := playerSay(t, addr, "psess-00000000-0000-0000-0000-000000000000"); !strings.HasPrefix(got, "ERR 4") {
		t.Errorf("accept of an unknown player session: %q, want ERR 4xx", got)
	}

	// Every selector, the status filter, paging.
	f.checkPlayerSessionSet(t, "GameSessionId", playerSessionsOf(t, c, f.gs1, "", 0), wants, nil)
	byPlayer, raw := must[gamelift.DescribePlayerSessionsOutput](t, c, &gamelift.DescribePlayerSessionsInput{PlayerId: ptr("player-1")})
	hasList(t, raw, "PlayerSessions")
	noKey(t, raw, "NextToken")
	f.checkPlayerSessionSet(t, "PlayerId", byPlayer.PlayerSessions, wants, func(w psWant) bool { return w.playerID == "player-1" })
	// The status filter has no effect with PlayerId or PlayerSessionId (spec §3.3).
	byPlayerF, _ := must[gamelift.DescribePlayerSessionsOutput](t, c, &gamelift.DescribePlayerSessionsInput{PlayerId: ptr("player-1"), PlayerSessionStatusFilter: ptr("COMPLETED")})
	f.checkPlayerSessionSet(t, "PlayerId+COMPLETED", byPlayerF.PlayerSessions, wants, func(w psWant) bool { return w.playerID == "player-1" })
	byIDF, _ := must[gamelift.DescribePlayerSessionsOutput](t, c, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: &ps1, PlayerSessionStatusFilter: ptr("TIMEDOUT")})
	f.checkPlayerSessionSet(t, "PlayerSessionId+TIMEDOUT", byIDF.PlayerSessions, wants, func(w psWant) bool { return w.id == ps1 })
	for _, st := range []string{"RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"} {
		f.checkPlayerSessionSet(t, "GameSessionId+"+st, playerSessionsOf(t, c, f.gs1, st, 0), wants, func(w psWant) bool { return w.status == st })
	}
	for _, limit := range []int32{1, 3, 4, 200} {
		f.checkPlayerSessionSet(t, fmt.Sprintf("GameSessionId Limit %d", limit), playerSessionsOf(t, c, f.gs1, "", limit), wants, nil)
	}
	// Limit 1 gives 4 pages: three tokens, none repeated (checked by playerSessionsOf).

	// bye: COMPLETED, and the slot frees.
	if got := pl.send(t, "bye "+ps1); got != "OK remove "+ps1 {
		t.Fatalf("bye: %q, want OK remove %s", got, ps1)
	}
	done := waitPlayerSession(t, c, ps1, "COMPLETED", 10*time.Second)
	w1.status, w1.ended = "COMPLETED", true
	wants[ps1] = w1
	checkPlayerSession(t, "DescribePlayerSessions COMPLETED", done, w1, f.since)
	f.expectCount(t, 3, 3)
	f.checkPlayerSessionSet(t, "after bye", playerSessionsOf(t, c, f.gs1, "", 2), wants, nil)

	// DENY_ALL from the game server: GameSessionFullException (openlift decision).
	if got := pl.send(t, "policy DENY_ALL"); got != "OK policy DENY_ALL" {
		t.Fatalf("policy DENY_ALL: %q", got)
	}
	eventually(t, 5*time.Second, 50*time.Millisecond, "DENY_ALL visible", func() error {
		if p := describeGameSession(t, c, f.gs1).PlayerSessionCreationPolicy; p != types.PlayerSessionCreationPolicyDenyAll {
			return fmt.Errorf("policy %s", p)
		}
		return nil
	})
	w := f.gs1Want()
	w.policy = "DENY_ALL"
	checkGameSession(t, "game session under DENY_ALL", describeGameSession(t, c, f.gs1), w, f.since)
	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-6")}, "GameSessionFullException", "not accepting new player sessions")
	expectErr(t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: []string{"player-6"}}, "GameSessionFullException", "not accepting new player sessions")
	// ... and back through the API.
	up, _ := must[gamelift.UpdateGameSessionOutput](t, c, &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs1, PlayerSessionCreationPolicy: types.PlayerSessionCreationPolicyAcceptAll})
	checkGameSession(t, "UpdateGameSession ACCEPT_ALL", up.GameSession, f.gs1Want(), f.since)
	// DENY_ALL through the API too.
	must[gamelift.UpdateGameSessionOutput](t, c, &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs1, PlayerSessionCreationPolicy: types.PlayerSessionCreationPolicyDenyAll})
	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-6")}, "GameSessionFullException", "not accepting new player sessions")
	must[gamelift.UpdateGameSessionOutput](t, c, &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs1, PlayerSessionCreationPolicy: types.PlayerSessionCreationPolicyAcceptAll})
	f.expectCount(t, 3, 3)

	// All or nothing: two players for one free slot reserve nothing.
	expectErr(t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: []string{"player-5", "player-6"}}, "GameSessionFullException")
	f.expectCount(t, 3, 3)
	p5, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("player-5")})
	w5 := f.psBase(f.gs1, f.gs1Port)
	w5.playerID = "player-5"
	checkPlayerSession(t, "CreatePlayerSession in the freed slot", p5.PlayerSession, w5, f.since)
	f.expectCount(t, 4, 4)
}

// checkPlayerSessionSet asserts that got is exactly the wants that keep
// selects, each with every field right.
func (f *flow) checkPlayerSessionSet(t *testing.T, what string, got []types.PlayerSession, wants map[string]psWant, keep func(psWant) bool) {
	t.Helper()
	want := map[string]bool{}
	for id, w := range wants {
		if keep == nil || keep(w) {
			want[id] = true
		}
	}
	seen := map[string]bool{}
	for i := range got {
		id := deref(got[i].PlayerSessionId)
		w, ok := wants[id]
		if !ok || !want[id] {
			t.Errorf("DescribePlayerSessions(%s) returned %s (%s), which it should not", what, id, got[i].Status)
			continue
		}
		seen[id] = true
		checkPlayerSession(t, "DescribePlayerSessions("+what+")", &got[i], w, f.since)
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("DescribePlayerSessions(%s) is missing %s", what, id)
		}
	}
}

func (f *flow) checkAlias(t *testing.T, what string, a *types.Alias, id, name, desc string, rs types.RoutingStrategy, created time.Time, updated bool) {
	t.Helper()
	c := check(t, what, a)
	if id == "" {
		c.Match("AliasId", reAliasID)
		id = deref(a.AliasId)
	} else {
		c.Eq("AliasId", id)
	}
	c.Eq("AliasArn", aliasArn(id)).Eq("Name", name)
	if desc == "" {
		c.Absent("Description")
	} else {
		c.Eq("Description", desc)
	}
	c.Custom("RoutingStrategy", func(v any, ok bool) {
		got, _ := v.(types.RoutingStrategy)
		if got.Type != rs.Type || deref(got.FleetId) != deref(rs.FleetId) || deref(got.Message) != deref(rs.Message) {
			t.Errorf("%s.RoutingStrategy = {%s %v %v}, want {%s %v %v}", what, got.Type, deref(got.FleetId), deref(got.Message), rs.Type, deref(rs.FleetId), deref(rs.Message))
		}
	})
	var ct time.Time
	if created.IsZero() {
		ct = c.Time("CreationTime", f.since, time.Now())
	} else {
		c.TimeEq("CreationTime", created)
		ct = created
	}
	if updated {
		c.Time("LastUpdatedTime", ct, time.Now())
		if lu := deref(a.LastUpdatedTime); !lu.After(ct) {
			t.Errorf("%s.LastUpdatedTime %v, want after CreationTime %v", what, lu, ct)
		}
	} else {
		c.TimeEq("LastUpdatedTime", ct)
	}
	c.Done()
}

func (f *flow) aliases(t *testing.T) {
	c := f.c
	simple := types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: &f.fleetID}
	ca, _ := must[gamelift.CreateAliasOutput](t, c, &gamelift.CreateAliasInput{Name: ptr("e2e-alias"), Description: ptr("routes to the e2e fleet"), RoutingStrategy: &simple})
	check(t, "CreateAlias", ca).Custom("Alias", func(v any, ok bool) {
		a := v.(types.Alias)
		f.checkAlias(t, "CreateAlias.Alias", &a, "", "e2e-alias", "routes to the e2e fleet", simple, time.Time{}, false)
	}).Done()
	f.aliasID = deref(ca.Alias.AliasId)
	created := deref(ca.Alias.CreationTime)
	for _, id := range []string{f.aliasID, aliasArn(f.aliasID)} {
		da, _ := must[gamelift.DescribeAliasOutput](t, c, &gamelift.DescribeAliasInput{AliasId: &id})
		f.checkAlias(t, "DescribeAlias", da.Alias, f.aliasID, "e2e-alias", "routes to the e2e fleet", simple, created, false)
	}
	// LastUpdatedTime must move; make sure the clock has.
	time.Sleep(20 * time.Millisecond)
	ua, _ := must[gamelift.UpdateAliasOutput](t, c, &gamelift.UpdateAliasInput{AliasId: &f.aliasID, Description: ptr("updated by e2e")})
	f.checkAlias(t, "UpdateAlias", ua.Alias, f.aliasID, "e2e-alias", "updated by e2e", simple, created, true)
	updated := deref(ua.Alias.LastUpdatedTime)

	for _, id := range []string{f.aliasID, aliasArn(f.aliasID)} {
		ra, _ := must[gamelift.ResolveAliasOutput](t, c, &gamelift.ResolveAliasInput{AliasId: &id})
		check(t, "ResolveAlias", ra).Eq("FleetId", f.fleetID).Eq("FleetArn", f.arn).Done()
	}

	f.termAliasMsg = "The e2e arena is closed for maintenance."
	terminal := types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: &f.termAliasMsg}
	ta, _ := must[gamelift.CreateAliasOutput](t, c, &gamelift.CreateAliasInput{Name: ptr("e2e-closed"), RoutingStrategy: &terminal})
	f.checkAlias(t, "CreateAlias (TERMINAL)", ta.Alias, "", "e2e-closed", "", terminal, time.Time{}, false)
	f.termAliasID = deref(ta.Alias.AliasId)

	la, raw := must[gamelift.ListAliasesOutput](t, c, &gamelift.ListAliasesInput{})
	hasList(t, raw, "Aliases")
	noKey(t, raw, "NextToken")
	if len(la.Aliases) != 2 {
		t.Errorf("ListAliases: %d aliases, want 2", len(la.Aliases))
	}
	for i := range la.Aliases {
		a := &la.Aliases[i]
		if deref(a.AliasId) == f.aliasID {
			f.checkAlias(t, "ListAliases", a, f.aliasID, "e2e-alias", "updated by e2e", simple, created, true)
			if !deref(a.LastUpdatedTime).Equal(updated) {
				t.Errorf("ListAliases: LastUpdatedTime %v, want %v", deref(a.LastUpdatedTime), updated)
			}
		} else {
			f.checkAlias(t, "ListAliases", a, f.termAliasID, "e2e-closed", "", terminal, deref(ta.Alias.CreationTime), false)
		}
	}
	for _, tc := range []struct {
		in   *gamelift.ListAliasesInput
		want string
	}{
		{&gamelift.ListAliasesInput{RoutingStrategyType: types.RoutingStrategyTypeTerminal}, f.termAliasID},
		{&gamelift.ListAliasesInput{RoutingStrategyType: types.RoutingStrategyTypeSimple}, f.aliasID},
		{&gamelift.ListAliasesInput{Name: ptr("e2e-alias")}, f.aliasID},
	} {
		l, _ := must[gamelift.ListAliasesOutput](t, c, tc.in)
		if len(l.Aliases) != 1 || deref(l.Aliases[0].AliasId) != tc.want {
			t.Errorf("ListAliases(%+v): %d aliases, want just %s", tc.in, len(l.Aliases), tc.want)
		}
	}
	pa, raw := must[gamelift.ListAliasesOutput](t, c, &gamelift.ListAliasesInput{Limit: ptr[int32](1)})
	if hasList(t, raw, "Aliases") != 1 || pa.NextToken == nil {
		t.Errorf("ListAliases(Limit 1): %d aliases, NextToken %v; want 1 and a token", len(pa.Aliases), pa.NextToken)
	} else {
		pb, raw := must[gamelift.ListAliasesOutput](t, c, &gamelift.ListAliasesInput{Limit: ptr[int32](1), NextToken: pa.NextToken})
		noKey(t, raw, "NextToken")
		if len(pb.Aliases) != 1 || deref(pb.Aliases[0].AliasId) == deref(pa.Aliases[0].AliasId) {
			t.Errorf("ListAliases second page: %+v", pb.Aliases)
		}
	}
	l, raw := must[gamelift.ListAliasesOutput](t, c, &gamelift.ListAliasesInput{Name: ptr("no-such-alias")})
	if hasList(t, raw, "Aliases") != 0 {
		t.Errorf("ListAliases(no match): %d aliases, want []", len(l.Aliases))
	}

	// TERMINAL: every alias-accepting operation raises the alias message.
	for _, in := range []any{
		&gamelift.ResolveAliasInput{AliasId: &f.termAliasID},
		&gamelift.CreateGameSessionInput{AliasId: &f.termAliasID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](2)},
		&gamelift.DescribeGameSessionsInput{AliasId: &f.termAliasID},
		&gamelift.DescribeGameSessionDetailsInput{AliasId: &f.termAliasID},
	} {
		if e := expectErr(t, c, in, "TerminalRoutingStrategyException", f.termAliasMsg); e != nil && e.Message != f.termAliasMsg {
			t.Errorf("%s: TerminalRoutingStrategyException message %q, want exactly the alias message %q", opName(in), e.Message, f.termAliasMsg)
		}
	}

	// SIMPLE: a game session through the alias (generated id).
	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{AliasId: &f.aliasID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](2)})
	f.gs2 = deref(gs.GameSession.GameSessionId)
	w := f.gsBase()
	w.idRE, w.max, w.status = gameSessionIDRE(f.fleetID), 2, string(gs.GameSession.Status)
	checkGameSession(t, "CreateGameSession(AliasId)", gs.GameSession, w, f.since)
	active := waitGameSession(t, c, f.gs2, "ACTIVE", 15*time.Second)
	f.gs2Port = deref(active.Port)
	if f.gs2Port == f.gs1Port || f.addrByPort[f.gs2Port] == "" {
		t.Errorf("alias game session on port %d; want an idle ready process other than %d (%v)", f.gs2Port, f.gs1Port, f.addrByPort)
	}
	w.id, w.status, w.port, w.created = f.gs2, "ACTIVE", f.gs2Port, deref(gs.GameSession.CreationTime)
	checkGameSession(t, "DescribeGameSessions (alias session)", active, w, f.since)
	d, raw := must[gamelift.DescribeGameSessionsOutput](t, c, &gamelift.DescribeGameSessionsInput{AliasId: &f.aliasID})
	if hasList(t, raw, "GameSessions") != 2 {
		t.Errorf("DescribeGameSessions(AliasId): %d sessions, want 2", len(d.GameSessions))
	}
}

func (f *flow) capacity(t *testing.T) {
	c := f.c
	// By fleet ARN this time (…IdOrArn members take either form).
	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{FleetId: &f.arn, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1), Name: ptr("third")})
	f.gs3 = deref(gs.GameSession.GameSessionId)
	w := f.gsBase()
	w.idRE, w.name, w.max, w.status = gameSessionIDRE(f.fleetID), "third", 1, string(gs.GameSession.Status)
	checkGameSession(t, "CreateGameSession (third)", gs.GameSession, w, f.since)
	active := waitGameSession(t, c, f.gs3, "ACTIVE", 15*time.Second)
	p := deref(active.Port)
	if p == f.gs1Port || p == f.gs2Port || f.addrByPort[p] == "" {
		t.Errorf("third game session on port %d; want the idle ready process (gs1 %d, gs2 %d, ready %v)", p, f.gs1Port, f.gs2Port, f.addrByPort)
	}
	w.id, w.status, w.port, w.created = f.gs3, "ACTIVE", p, deref(gs.GameSession.CreationTime)
	f.gs3Port, f.gs3Created = p, w.created
	checkGameSession(t, "DescribeGameSessions (third)", active, w, f.since)
	// All three processes are busy now.
	expectErr(t, c, &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1)}, "FleetCapacityExceededException", f.fleetID)
	expectErr(t, c, &gamelift.CreateGameSessionInput{AliasId: &f.aliasID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1)}, "FleetCapacityExceededException")
	d, _ := must[gamelift.DescribeGameSessionsOutput](t, c, &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID})
	if len(d.GameSessions) != 3 {
		t.Errorf("after FleetCapacityExceededException: %d game sessions, want 3", len(d.GameSessions))
	}
	// Paging through the three game sessions one at a time.
	seen, tokens := map[string]bool{}, map[string]bool{}
	var next *string
	for range 10 {
		pg, raw := must[gamelift.DescribeGameSessionsOutput](t, c, &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, Limit: ptr[int32](1), NextToken: next})
		if n := hasList(t, raw, "GameSessions"); n != 1 {
			t.Errorf("DescribeGameSessions(Limit 1): %d sessions on a page", n)
		}
		for _, g := range pg.GameSessions {
			if seen[deref(g.GameSessionId)] {
				t.Errorf("DescribeGameSessions paging returned %s twice", deref(g.GameSessionId))
			}
			seen[deref(g.GameSessionId)] = true
		}
		if next = pg.NextToken; next == nil {
			break
		}
		if tokens[*next] {
			t.Fatalf("DescribeGameSessions returned NextToken %q twice", *next)
		}
		tokens[*next] = true
	}
	if len(seen) != 3 || len(tokens) != 2 || next != nil {
		t.Errorf("DescribeGameSessions(Limit 1) paging: %d sessions over %d tokens (last token %v), want 3 over 2 and none at the end", len(seen), len(tokens), next)
	}

	checkUtilization(t, "DescribeFleetUtilization (full)", utilization(t, c, f.fleetID),
		utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: region, procs: 3, sessions: 3, players: 4, max: 4 + 2 + 1})
}

func (f *flow) terminate(t *testing.T) {
	c := f.c
	addr := f.addrByPort[f.gs2Port]
	// One reserved and one accepted player on the alias session.
	ra, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs2, PlayerId: ptr("late-1")})
	rb, _ := must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs2, PlayerId: ptr("late-2")})
	psA, psB := deref(ra.PlayerSession.PlayerSessionId), deref(rb.PlayerSession.PlayerSessionId)
	if got := playerSay(t, addr, psB); got != "OK accept "+psB {
		t.Fatalf("accept on the alias session: %q", got)
	}
	waitPlayerSession(t, c, psB, "ACTIVE", 10*time.Second)

	expectErr(t, c, &gamelift.TerminateGameSessionInput{GameSessionId: &f.gs2, TerminationMode: types.TerminationModeForceTerminate}, "InvalidRequestException", "FORCE_TERMINATE")
	if st := describeGameSession(t, c, f.gs2).Status; st != types.GameSessionStatusActive {
		t.Errorf("after a refused FORCE_TERMINATE: status %s, want ACTIVE", st)
	}

	tg, _ := must[gamelift.TerminateGameSessionOutput](t, c, &gamelift.TerminateGameSessionInput{GameSessionId: &f.gs2, TerminationMode: types.TerminationModeTriggerOnProcessTerminate})
	w := f.gsBase()
	w.id, w.max, w.cur, w.status, w.port, w.created = f.gs2, 2, 2, "TERMINATING", f.gs2Port, deref(tg.GameSession.CreationTime)
	w.reason, w.reasonMayLag = "TRIGGERED_ON_PROCESS_TERMINATE", true
	checkGameSession(t, "TerminateGameSession.GameSession", tg.GameSession, w, f.since)

	// The process gets OnProcessTerminate, calls ProcessEnding: TERMINATED.
	done := waitGameSession(t, c, f.gs2, "TERMINATED", 30*time.Second)
	w.status, w.cur, w.reason, w.reasonMayLag, w.ended = "TERMINATED", 0, "TRIGGERED_ON_PROCESS_TERMINATE", false, true
	checkGameSession(t, "DescribeGameSessions TERMINATED", done, w, f.since)
	for _, ps := range []struct {
		id, player string
		created    time.Time
	}{{psA, "late-1", deref(ra.PlayerSession.CreationTime)}, {psB, "late-2", deref(rb.PlayerSession.CreationTime)}} {
		pw := f.psBase(f.gs2, f.gs2Port)
		pw.id, pw.playerID, pw.status, pw.ended, pw.created = ps.id, ps.player, "COMPLETED", true, ps.created
		checkPlayerSession(t, "player session of the terminated game session", describePlayerSession(t, c, ps.id), pw, f.since)
	}

	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs2, PlayerId: ptr("too-late")}, "InvalidGameSessionStatusException", "TERMINATED")
	expectErr(t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs2, PlayerIds: []string{"too-late"}}, "InvalidGameSessionStatusException", "TERMINATED")
	expectErr(t, c, &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs2, Name: ptr("x")}, "InvalidGameSessionStatusException", "TERMINATED")
	expectErr(t, c, &gamelift.TerminateGameSessionInput{GameSessionId: &f.gs2, TerminationMode: types.TerminationModeTriggerOnProcessTerminate}, "InvalidGameSessionStatusException", "TERMINATED")

	d, raw := must[gamelift.DescribeGameSessionsOutput](t, c, &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, StatusFilter: ptr("TERMINATED")})
	if hasList(t, raw, "GameSessions") != 1 || deref(d.GameSessions[0].GameSessionId) != f.gs2 {
		t.Errorf("DescribeGameSessions(TERMINATED): %d sessions, want just %s", len(d.GameSessions), f.gs2)
	}
	// The ended process no longer counts; the other two still host sessions.
	eventually(t, 10*time.Second, 100*time.Millisecond, "utilization after ProcessEnding", func() error {
		u := utilization(t, c, f.fleetID)
		if deref(u.ActiveServerProcessCount) != 2 || deref(u.ActiveGameSessionCount) != 2 {
			return fmt.Errorf("%d processes, %d game sessions", deref(u.ActiveServerProcessCount), deref(u.ActiveGameSessionCount))
		}
		return nil
	})
	checkUtilization(t, "DescribeFleetUtilization after terminate", utilization(t, c, f.fleetID),
		utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: region, procs: 2, sessions: 2, players: 4, max: 4 + 1})
}

// activating needs a game server that does not activate its game session.
func (f *flow) activating(t *testing.T) {
	c := f.c
	fl, _ := must[gamelift.CreateFleetOutput](t, c, &gamelift.CreateFleetInput{Name: ptr("e2e-slow"), ComputeType: types.ComputeTypeAnywhere, Locations: []types.LocationConfiguration{{Location: &f.loc2}}})
	fleetB := deref(fl.FleetAttributes.FleetId)
	rc, _ := must[gamelift.RegisterComputeOutput](t, c, &gamelift.RegisterComputeInput{FleetId: &fleetB, ComputeName: ptr("e2e-host-2"), IpAddress: ptr("127.0.0.1"), Location: &f.loc2})
	tok, _ := must[gamelift.GetComputeAuthTokenOutput](t, c, &gamelift.GetComputeAuthTokenInput{FleetId: &fleetB, ComputeName: ptr("e2e-host-2")})
	slow := startSim(t, simEnv{WebSocketURL: deref(rc.Compute.GameLiftServiceSdkEndpoint), FleetID: fleetB, HostID: "e2e-host-2", AuthToken: deref(tok.AuthToken), ProcessID: "e2e-slow"}, 1, simWithholdFlag...)
	slowReady := slow.waitReady(t, 1, 30*time.Second)
	eventually(t, 15*time.Second, 100*time.Millisecond, "fleet B process active", func() error {
		if n := deref(utilization(t, c, fleetB).ActiveServerProcessCount); n != 1 {
			return fmt.Errorf("ActiveServerProcessCount %d", n)
		}
		return nil
	})
	gs, _ := must[gamelift.CreateGameSessionOutput](t, c, &gamelift.CreateGameSessionInput{FleetId: &fleetB, Location: &f.loc2, MaximumPlayerSessionCount: ptr[int32](2), Name: ptr("slow")})
	id := deref(gs.GameSession.GameSessionId)
	w := gsWant{idRE: gameSessionIDRE(fleetB), name: "slow", fleetID: fleetB, fleetArn: deref(fl.FleetAttributes.FleetArn), max: 2,
		status: "ACTIVATING", policy: "ACCEPT_ALL", location: f.loc2, compute: "e2e-host-2", ip: "127.0.0.1"}
	checkGameSession(t, "CreateGameSession (withheld activation)", gs.GameSession, w, f.since)
	if st := describeGameSession(t, c, id).Status; st != types.GameSessionStatusActivating {
		t.Fatalf("withheld game session is %s, want ACTIVATING", st)
	}
	expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &id, PlayerId: ptr("early")}, "InvalidGameSessionStatusException", "ACTIVATING")
	expectErr(t, c, &gamelift.CreatePlayerSessionsInput{GameSessionId: &id, PlayerIds: []string{"early"}}, "InvalidGameSessionStatusException", "ACTIVATING")
	checkUtilization(t, "DescribeFleetUtilization (ACTIVATING)", utilization(t, c, fleetB),
		utilWant{fleetID: fleetB, fleetArn: w.fleetArn, location: region, procs: 1})

	// The game server activates it after all: ACTIVE, and players can join.
	if got := playerSay(t, slowReady[0].Addr, "activate"); got != "OK activate "+id {
		t.Fatalf("activate: %q, want OK activate %s", got, id)
	}
	active := waitGameSession(t, c, id, "ACTIVE", 10*time.Second)
	_, port, _ := net.SplitHostPort(slowReady[0].Addr)
	p, _ := strconv.Atoi(port)
	w.id, w.status, w.port, w.created = id, "ACTIVE", int32(p), deref(gs.GameSession.CreationTime)
	checkGameSession(t, "activated game session", active, w, f.since)
	must[gamelift.CreatePlayerSessionOutput](t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &id, PlayerId: ptr("on-time")})

	// A compute that leaves: DeregisterCompute, then it is gone.
	must[gamelift.DeregisterComputeOutput](t, c, &gamelift.DeregisterComputeInput{FleetId: &fleetB, ComputeName: ptr("e2e-host-2")})
	expectErr(t, c, &gamelift.DescribeComputeInput{FleetId: &fleetB, ComputeName: ptr("e2e-host-2")}, "NotFoundException", "e2e-host-2")
	lc, raw := must[gamelift.ListComputeOutput](t, c, &gamelift.ListComputeInput{FleetId: &fleetB})
	if hasList(t, raw, "ComputeList") != 0 {
		t.Errorf("ListCompute after DeregisterCompute: %d computes, want []", len(lc.ComputeList))
	}
	slow.kill()
}

func (f *flow) notFound(t *testing.T) {
	c := f.c
	unknownGS := "arn:aws:gamelift:us-west-2::gamesession/" + f.fleetID + "/gsess-00000000-0000-0000-0000-000000000000"
	unknownFleet := "fleet-00000000-0000-0000-0000-000000000000"
	unknownAlias := "alias-00000000-0000-0000-0000-000000000000"
	for _, tc := range []struct {
		in      any
		mention string
	}{
		{&gamelift.CreatePlayerSessionInput{GameSessionId: &unknownGS, PlayerId: ptr("p")}, unknownGS},
		{&gamelift.CreatePlayerSessionsInput{GameSessionId: &unknownGS, PlayerIds: []string{"p"}}, unknownGS},
		{&gamelift.UpdateGameSessionInput{GameSessionId: &unknownGS, Name: ptr("x")}, unknownGS},
		{&gamelift.TerminateGameSessionInput{GameSessionId: &unknownGS, TerminationMode: types.TerminationModeTriggerOnProcessTerminate}, unknownGS},
		{&gamelift.CreateGameSessionInput{FleetId: &unknownFleet, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1)}, unknownFleet},
		{&gamelift.UpdateFleetAttributesInput{FleetId: &unknownFleet, Name: ptr("x")}, unknownFleet},
		{&gamelift.DescribeFleetEventsInput{FleetId: &unknownFleet}, unknownFleet},
		{&gamelift.DescribeAliasInput{AliasId: &unknownAlias}, unknownAlias},
		{&gamelift.ResolveAliasInput{AliasId: &unknownAlias}, unknownAlias},
		{&gamelift.UpdateAliasInput{AliasId: &unknownAlias, Name: ptr("x")}, unknownAlias},
		{&gamelift.DeleteAliasInput{AliasId: &unknownAlias}, unknownAlias},
		{&gamelift.CreateGameSessionInput{AliasId: &unknownAlias, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1)}, unknownAlias},
		{&gamelift.DescribeComputeInput{FleetId: &f.fleetID, ComputeName: ptr("no-such-host")}, "no-such-host"},
		{&gamelift.DeregisterComputeInput{FleetId: &f.fleetID, ComputeName: ptr("no-such-host")}, "no-such-host"},
	} {
		expectErr(t, c, tc.in, "NotFoundException", tc.mention)
	}
	u, raw := must[gamelift.DescribeFleetUtilizationOutput](t, c, &gamelift.DescribeFleetUtilizationInput{FleetIds: []string{unknownFleet}})
	if hasList(t, raw, "FleetUtilization") != 0 {
		t.Errorf("DescribeFleetUtilization(unknown fleet): %+v, want []", u.FleetUtilization)
	}
}

func (f *flow) invalidRequests(t *testing.T) {
	c := f.c.Unvalidated()
	long := func(n int) *string { return ptr(strings.Repeat("x", n)) }
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("player-%d", i)
		}
		return out
	}
	gprops := func(n int) []types.GameProperty {
		out := make([]types.GameProperty, n)
		for i := range out {
			out[i] = types.GameProperty{Key: ptr(fmt.Sprintf("k%d", i)), Value: ptr("v")}
		}
		return out
	}
	max1 := ptr[int32](1)
	for _, tc := range []struct {
		name   string
		in     any
		member string
	}{
		{"CreatePlayerSession without GameSessionId", &gamelift.CreatePlayerSessionInput{PlayerId: ptr("p")}, "GameSessionId"},
		{"CreatePlayerSession without PlayerId", &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1}, "PlayerId"},
		{"PlayerId of 1025 characters", &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: long(1025)}, "PlayerId"},
		{"PlayerData of 2049 characters", &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("p"), PlayerData: long(2049)}, "PlayerData"},
		{"GameSessionId with bad characters", &gamelift.CreatePlayerSessionInput{GameSessionId: ptr("gsess bad!"), PlayerId: ptr("p")}, "GameSessionId"},
		{"GameSessionId of 513 characters", &gamelift.CreatePlayerSessionInput{GameSessionId: long(513), PlayerId: ptr("p")}, "GameSessionId"},
		{"PlayerIds with 0 items", &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: []string{}}, "PlayerIds"},
		{"PlayerIds with 26 items", &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: ids(26)}, "PlayerIds"},
		{"PlayerDataMap value of 2049 characters", &gamelift.CreatePlayerSessionsInput{GameSessionId: &f.gs1, PlayerIds: []string{"p"}, PlayerDataMap: map[string]string{"p": *long(2049)}}, "PlayerDataMap"},
		{"MaximumPlayerSessionCount 201", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](201)}, "MaximumPlayerSessionCount"},
		{"MaximumPlayerSessionCount -1", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](-1)}, "MaximumPlayerSessionCount"},
		{"MaximumPlayerSessionCount missing", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc}, "MaximumPlayerSessionCount"},
		{"both FleetId and AliasId", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, AliasId: &f.aliasID, Location: &f.loc, MaximumPlayerSessionCount: max1}, "AliasId"},
		{"neither FleetId nor AliasId", &gamelift.CreateGameSessionInput{Location: &f.loc, MaximumPlayerSessionCount: max1}, "FleetId"},
		{"Location missing on an Anywhere fleet", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, MaximumPlayerSessionCount: max1}, "Location"},
		{"bad Location name", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: ptr("custom_bad!"), MaximumPlayerSessionCount: max1}, "Location"},
		{"GameProperties with 17 items", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, GameProperties: gprops(17)}, "GameProperties"},
		{"GameProperty key of 33 characters", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, GameProperties: []types.GameProperty{{Key: long(33), Value: ptr("v")}}}, "Key"},
		{"GameProperty value of 97 characters", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, GameProperties: []types.GameProperty{{Key: ptr("k"), Value: long(97)}}}, "Value"},
		{"IdempotencyToken with bad characters", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, IdempotencyToken: ptr("bad token!")}, "IdempotencyToken"},
		{"IdempotencyToken of 49 characters", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, IdempotencyToken: long(49)}, "IdempotencyToken"},
		{"GameSessionData over 262144 characters", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: max1, GameSessionData: long(262145)}, "GameSessionData"},
		{"UpdateGameSession MaximumPlayerSessionCount 201", &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs1, MaximumPlayerSessionCount: ptr[int32](201)}, "MaximumPlayerSessionCount"},
		{"UpdateGameSession bad PlayerSessionCreationPolicy", &gamelift.UpdateGameSessionInput{GameSessionId: &f.gs1, PlayerSessionCreationPolicy: "SOME"}, "PlayerSessionCreationPolicy"},
		{"TerminateGameSession bad TerminationMode", &gamelift.TerminateGameSessionInput{GameSessionId: &f.gs1, TerminationMode: "NOW"}, "TerminationMode"},
		{"DescribeGameSessions bad StatusFilter", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, StatusFilter: ptr("BOGUS")}, "StatusFilter"},
		{"DescribeGameSessions Limit 0", &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID, Limit: ptr[int32](0)}, "Limit"},
		{"DescribePlayerSessions bad status filter", &gamelift.DescribePlayerSessionsInput{GameSessionId: &f.gs1, PlayerSessionStatusFilter: ptr("BOGUS")}, "PlayerSessionStatusFilter"},
		{"DescribePlayerSessions Limit 0", &gamelift.DescribePlayerSessionsInput{GameSessionId: &f.gs1, Limit: ptr[int32](0)}, "Limit"},
		{"DescribePlayerSessions without a selector", &gamelift.DescribePlayerSessionsInput{}, "PlayerSessionId"},
		{"DescribePlayerSessions bad PlayerSessionId", &gamelift.DescribePlayerSessionsInput{PlayerSessionId: ptr("nope")}, "PlayerSessionId"},
		{"ListLocations Limit 201", &gamelift.ListLocationsInput{Limit: ptr[int32](201)}, "Limit"},
		{"CreateFleet with ComputeType EC2", &gamelift.CreateFleetInput{Name: ptr("ec2"), ComputeType: types.ComputeTypeEc2}, "ComputeType"},
		{"CreateFleet without Name", &gamelift.CreateFleetInput{ComputeType: types.ComputeTypeAnywhere, Locations: []types.LocationConfiguration{{Location: &f.loc}}}, "Name"},
		{"CreateFleet with a non-custom location", &gamelift.CreateFleetInput{Name: ptr("x"), ComputeType: types.ComputeTypeAnywhere, Locations: []types.LocationConfiguration{{Location: ptr("us-east-1")}}}, "Location"},
		{"CreateFleet bad AnywhereConfiguration.Cost", &gamelift.CreateFleetInput{Name: ptr("x"), ComputeType: types.ComputeTypeAnywhere, Locations: []types.LocationConfiguration{{Location: &f.loc}}, AnywhereConfiguration: &types.AnywhereConfiguration{Cost: ptr("cheap")}}, "Cost"},
		{"RegisterCompute bad ComputeName", &gamelift.RegisterComputeInput{FleetId: &f.fleetID, ComputeName: ptr("bad name!"), IpAddress: ptr("127.0.0.1"), Location: &f.loc}, "ComputeName"},
		{"RegisterCompute bad IpAddress", &gamelift.RegisterComputeInput{FleetId: &f.fleetID, ComputeName: ptr("h2"), IpAddress: ptr("not-an-ip"), Location: &f.loc}, "IpAddress"},
		{"RegisterCompute without IpAddress", &gamelift.RegisterComputeInput{FleetId: &f.fleetID, ComputeName: ptr("h2"), Location: &f.loc}, "IpAddress"},
		{"CreateAlias SIMPLE without FleetId", &gamelift.CreateAliasInput{Name: ptr("a"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple}}, "FleetId"},
		{"CreateAlias blank Name", &gamelift.CreateAliasInput{Name: ptr("   "), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: ptr("m")}}, "Name"},
		{"DescribeAlias bad AliasId", &gamelift.DescribeAliasInput{AliasId: ptr("nope")}, "AliasId"},
		{"DescribeFleetAttributes bad FleetIds", &gamelift.DescribeFleetAttributesInput{FleetIds: []string{"nope"}}, "FleetIds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectErr(t, c, tc.in, "InvalidRequestException", tc.member)
		})
	}
	// A location that is not the fleet's: the spec allows either code.
	ctx, cancel := testCtx()
	defer cancel()
	_, err := c.Invoke(ctx, "CreateGameSession", &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc2, MaximumPlayerSessionCount: max1}, nil)
	if e, ok := err.(*apiError); ok && e.Code == "UnsupportedRegionException" {
		checkErr(t, c, "CreateGameSession", err, "UnsupportedRegionException", f.loc2)
	} else {
		checkErr(t, c, "CreateGameSession", err, "InvalidRequestException", "Location")
	}

	// None of them created anything.
	d, _ := must[gamelift.DescribeGameSessionsOutput](t, f.c, &gamelift.DescribeGameSessionsInput{FleetId: &f.fleetID})
	if len(d.GameSessions) != 3 {
		t.Errorf("after the refused requests: %d game sessions, want 3", len(d.GameSessions))
	}
	lf, _ := must[gamelift.ListFleetsOutput](t, f.c, &gamelift.ListFleetsInput{})
	for _, id := range lf.FleetIds {
		if a, _ := must[gamelift.DescribeFleetAttributesOutput](t, f.c, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{id}}); len(a.FleetAttributes) == 1 && deref(a.FleetAttributes[0].Name) == "x" {
			t.Errorf("a refused CreateFleet created fleet %s", id)
		}
	}
	lc, _ := must[gamelift.ListComputeOutput](t, f.c, &gamelift.ListComputeInput{FleetId: &f.fleetID})
	if len(lc.ComputeList) != 1 {
		t.Errorf("after the refused RegisterCompute calls: %d computes, want 1", len(lc.ComputeList))
	}
}

func (f *flow) auth(t *testing.T) {
	locs := func() []string {
		out, _ := must[gamelift.ListLocationsOutput](t, f.c, &gamelift.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}})
		return locationNames(out.Locations)
	}
	before := locs()
	for _, tc := range []struct {
		name  string
		creds *aws.Credentials
		code  string
	}{
		{"unsigned", nil, "MissingAuthenticationTokenException"},
		{"unknown access key", &aws.Credentials{AccessKeyID: "AKIAE2EUNKNOWN000001", SecretAccessKey: adminSecret}, "UnrecognizedClientException"},
		{"wrong secret", &aws.Credentials{AccessKeyID: adminAccessKeyID, SecretAccessKey: "not-the-secret"}, "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.c.WithCredentials(tc.creds)
			expectErr(t, c, &gamelift.CreateLocationInput{LocationName: ptr("custom-refused")}, tc.code)
			expectErr(t, c, &gamelift.CreatePlayerSessionInput{GameSessionId: &f.gs1, PlayerId: ptr("intruder")}, tc.code)
			expectErr(t, c, &gamelift.ListLocationsInput{}, tc.code)
		})
	}
	// A signature over a body that differs from the one sent, and an
	// incomplete Authorization header, are refused too.
	if j, ok := f.c.(*jsonClient); ok {
		f.tamperedBody(t, j)
	}
	if after := locs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused requests changed ListLocations: %v, was %v", after, before)
	}
	f.expectCount(t, 4, 4)
}

// tamperedBody signs one body and sends another, and sends Authorization
// headers that lack a part.
func (f *flow) tamperedBody(t *testing.T, j *jsonClient) {
	ctx, cancel := testCtx()
	defer cancel()
	resp, err := j.sendRaw(ctx, "GameLift.CreateLocation", []byte(`{"LocationName":"custom-signed"}`), []byte(`{"LocationName":"custom-tampered"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = j.decode("CreateLocation", resp, nil)
	checkErr(t, j, "CreateLocation", err, "InvalidSignatureException")

	// The JS SDK v3 signs an x-amz-content-sha256 header (spec §1.4): it is
	// accepted when it is the body's hash, and refused when it is not.
	for _, tc := range []struct {
		name, hash string
		ok         bool
	}{{"right", "", true}, {"wrong", strings.Repeat("ab", 32), false}} {
		body := []byte(`{"Filters":["CUSTOM"]}`)
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		if tc.hash != "" {
			hash = tc.hash
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, j.url+"/", nil)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "GameLift.ListLocations")
		req.Header.Set("X-Amz-Content-Sha256", hash)
		if err := v4.NewSigner().SignHTTP(ctx, *j.creds, req, hash, "gamelift", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(signedHeaders(req.Header.Get("Authorization")), "x-amz-content-sha256") {
			t.Fatalf("test bug: x-amz-content-sha256 not signed: %s", req.Header.Get("Authorization"))
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp, err := j.httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out gamelift.ListLocationsOutput
		_, err = j.decode("ListLocations", resp, &out)
		switch {
		case tc.ok && err != nil:
			t.Errorf("JS-style signed request with the right x-amz-content-sha256: %v", err)
		case !tc.ok:
			checkErr(t, j, "ListLocations", err, "InvalidSignatureException")
		}
	}

	scope := adminAccessKeyID + "/" + time.Now().UTC().Format("20060102") + "/" + region + "/gamelift/aws4_request"
	date := time.Now().UTC().Format("20060102T150405Z")
	for _, tc := range []struct{ name, auth, date string }{
		{"no Signature", "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=content-type;host;x-amz-date;x-amz-target", date},
		{"no SignedHeaders", "AWS4-HMAC-SHA256 Credential=" + scope + ", Signature=" + strings.Repeat("0", 64), date},
		{"no Credential", "AWS4-HMAC-SHA256 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64), date},
		{"no X-Amz-Date", "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=content-type;host;x-amz-target, Signature=" + strings.Repeat("0", 64), ""},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, j.url+"/", strings.NewReader(`{"LocationName":"custom-incomplete"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "GameLift.CreateLocation")
		req.Header.Set("Authorization", tc.auth)
		if tc.date != "" {
			req.Header.Set("X-Amz-Date", tc.date)
		}
		resp, err := j.httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = j.decode("CreateLocation", resp, nil)
		t.Run("incomplete signature: "+tc.name, func(t *testing.T) { checkErr(t, j, "CreateLocation", err, "IncompleteSignatureException") })
	}
}

func (f *flow) unsupported(t *testing.T) {
	e := expectErr(t, f.c, &gamelift.CreateBuildInput{Name: ptr("b")}, "UnsupportedOperationException", "CreateBuild")
	if e != nil && !strings.Contains(strings.ToLower(e.Message), "support") {
		t.Errorf("UnsupportedOperationException message %q does not say it is unsupported", e.Message)
	}
	expectErr(t, f.c, &gamelift.CreateVpcPeeringAuthorizationInput{GameLiftAwsAccountId: ptr("111122223333"), PeerVpcId: ptr("vpc-1")}, "UnsupportedOperationException", "CreateVpcPeeringAuthorization")
	if j, ok := f.c.(*jsonClient); ok {
		ctx, cancel := testCtx()
		defer cancel()
		resp, err := j.send(ctx, "GameLift.NoSuchOperation", []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = j.decode("NoSuchOperation", resp, nil)
		checkErr(t, j, "NoSuchOperation", err, "UnknownOperationException")
	}
}

// processEnds: a process may act only on its own game session, and a
// process that calls ProcessEnding ends its game session.
func (f *flow) processEnds(t *testing.T) {
	c := f.c
	addr := f.addrByPort[f.gs3Port]
	if got := playerSay(t, addr, f.reservedPS); !strings.HasPrefix(got, "ERR 4") {
		t.Errorf("accepting game session 1's player on game session 3's process: %q, want ERR 4xx", got)
	}
	if st := describePlayerSession(t, c, f.reservedPS).Status; st != types.PlayerSessionStatusReserved {
		t.Errorf("player session %s is %s after another process tried to accept it, want RESERVED", f.reservedPS, st)
	}

	if got := playerSay(t, addr, "end"); got != "OK end" {
		t.Fatalf("end: %q, want OK end", got)
	}
	done := waitGameSession(t, c, f.gs3, "TERMINATED", 15*time.Second)
	w := f.gsBase()
	w.id, w.name, w.max, w.status, w.port, w.created, w.ended = f.gs3, "third", 1, "TERMINATED", f.gs3Port, f.gs3Created, true
	c3 := *done
	c3.StatusReason = "" // not specified for a process that ends on its own
	checkGameSession(t, "game session of an ended process", &c3, w, f.since)
	eventually(t, 10*time.Second, 100*time.Millisecond, "utilization after ProcessEnding", func() error {
		u := utilization(t, c, f.fleetID)
		if deref(u.ActiveServerProcessCount) != 1 || deref(u.ActiveGameSessionCount) != 1 {
			return fmt.Errorf("%d processes, %d game sessions", deref(u.ActiveServerProcessCount), deref(u.ActiveGameSessionCount))
		}
		return nil
	})
	checkUtilization(t, "DescribeFleetUtilization after ProcessEnding", utilization(t, c, f.fleetID),
		utilWant{fleetID: f.fleetID, fleetArn: f.arn, location: region, procs: 1, sessions: 1, players: 4, max: 4})
	expectErr(t, c, &gamelift.CreateGameSessionInput{FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: ptr[int32](1)}, "FleetCapacityExceededException")
}

func (f *flow) deletes(t *testing.T) {
	c := f.c
	del, raw := must[gamelift.DeleteAliasOutput](t, c, &gamelift.DeleteAliasInput{AliasId: &f.termAliasID})
	check(t, "DeleteAlias", del).Done()
	if len(raw) != 0 {
		t.Errorf("DeleteAlias: %v, want {}", raw)
	}
	expectErr(t, c, &gamelift.DescribeAliasInput{AliasId: &f.termAliasID}, "NotFoundException", f.termAliasID)
	expectErr(t, c, &gamelift.DeleteAliasInput{AliasId: &f.termAliasID}, "NotFoundException", f.termAliasID)
	l, _ := must[gamelift.ListAliasesOutput](t, c, &gamelift.ListAliasesInput{})
	if len(l.Aliases) != 1 || deref(l.Aliases[0].AliasId) != f.aliasID {
		t.Errorf("ListAliases after DeleteAlias: %d aliases, want just %s", len(l.Aliases), f.aliasID)
	}
	// A location a fleet uses cannot be deleted.
	expectErr(t, c, &gamelift.DeleteLocationInput{LocationName: &f.loc}, "InvalidRequestException", f.loc)
}
