package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/openlift/openlift/internal/server"
	"github.com/openlift/openlift/internal/sim"
	"github.com/openlift/openlift/internal/webhook"
)

// Queues, placement and placement webhooks end to end: the real
// aws-sdk-go-v2 client (CBOR, SigV4) against a real openlift server with its
// SQLite store, game servers simulated over the Server SDK 5 protocol, and
// webhook receivers on real HTTP that verify every signature.

const (
	placementTopic  = "arn:aws:sns:us-west-2:123456789012:placement-events"
	receiverSecretA = "receiver-a-secret"
)

// hookReceiver collects verified placement events.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	fail   int // answer 503 to this many requests first
	calls  int
	events map[string]webhookEvent // by placement id + type
}

type webhookEvent struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     struct {
		Type                 string `json:"type"`
		PlacementID          string `json:"placementId"`
		Port                 string `json:"port"`
		GameSessionArn       string `json:"gameSessionArn"`
		IPAddress            string `json:"ipAddress"`
		StartTime            string `json:"startTime"`
		EndTime              string `json:"endTime"`
		GameSessionRegion    string `json:"gameSessionRegion"`
		CustomEventData      string `json:"customEventData"`
		PlacedPlayerSessions []struct {
			PlayerID        string `json:"playerId"`
			PlayerSessionID string `json:"playerSessionId"`
		} `json:"placedPlayerSessions"`
	} `json:"detail"`
}

func newHookReceiver(t *testing.T, fail int) *hookReceiver {
	r := &hookReceiver{t: t, fail: fail, events: map[string]webhookEvent{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		if r.calls <= r.fail {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		sig, ts := req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderTimestamp)
		if err := webhook.Verify(r.secret, sig, ts, body); err != nil {
			t.Errorf("webhook signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if err := webhook.CheckTimestamp(ts, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook timestamp: %v", err)
		}
		var ev webhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
		}
		if req.Header.Get(webhook.HeaderEventID) != ev.ID || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook headers %v for event %s", req.Header, ev.ID)
		}
		r.events[ev.Detail.PlacementID+"/"+ev.Detail.Type] = ev
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) await(placementID, typ string) webhookEvent {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.mu.Lock()
		ev, ok := r.events[placementID+"/"+typ]
		r.mu.Unlock()
		if ok {
			return ev
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: no %s event for %s", r.srv.URL, typ, placementID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type placementEnv struct {
	t      *testing.T
	ctx    context.Context
	client *gamelift.Client
	srv    *server.Server
	fleets map[string]*types.FleetAttributes // by location
	sdk    map[string]string                 // SDK endpoint by location
	tokens map[string]string                 // auth token by location
}

func startPlacementEnv(t *testing.T, routes webhook.Routes) *placementEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-west-2", AccountID: "123456789012",
		AdminAccessKeyID: benchKey, AdminSecretAccessKey: benchSecret, Logger: quiet,
		Webhooks: routes, WebhookMinBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	client := gamelift.New(gamelift.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: benchKey, SecretAccessKey: benchSecret}, nil
		}),
		RetryMaxAttempts: 1,
	})
	return &placementEnv{t: t, ctx: ctx, client: client, srv: srv,
		fleets: map[string]*types.FleetAttributes{}, sdk: map[string]string{}, tokens: map[string]string{}}
}

// fleet creates a custom location with an Anywhere fleet and one compute.
func (e *placementEnv) fleet(loc string) {
	e.t.Helper()
	c := e.client
	if _, err := c.CreateLocation(e.ctx, &gamelift.CreateLocationInput{LocationName: &loc}); err != nil {
		e.t.Fatal(err)
	}
	f, err := c.CreateFleet(e.ctx, &gamelift.CreateFleetInput{Name: aws.String("fleet-" + loc), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: &loc}}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.fleets[loc] = f.FleetAttributes
	host := "host-" + loc
	rc, err := c.RegisterCompute(e.ctx, &gamelift.RegisterComputeInput{FleetId: f.FleetAttributes.FleetId, ComputeName: &host, IpAddress: aws.String("127.0.0.1"), Location: &loc})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := c.GetComputeAuthToken(e.ctx, &gamelift.GetComputeAuthTokenInput{FleetId: f.FleetAttributes.FleetId, ComputeName: &host})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sdk[loc], e.tokens[loc] = *rc.Compute.GameLiftServiceSdkEndpoint, *tok.AuthToken
}

// processes starts n simulated game servers in loc and waits until openlift
// may place on them.
func (e *placementEnv) processes(loc string, n int) {
	e.t.Helper()
	var ready sync.WaitGroup
	ready.Add(n)
	_, err := sim.Start(e.ctx, sim.Config{
		WebSocketURL: e.sdk[loc], FleetID: *e.fleets[loc].FleetId, HostID: "host-" + loc, AuthToken: e.tokens[loc],
		Count: n, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnReady: func(*sim.Process) { ready.Done() },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ready.Wait()
}

func (e *placementEnv) queue(name string, timeout int32, locs ...string) {
	e.t.Helper()
	var dests []types.GameSessionQueueDestination
	for _, l := range locs {
		dests = append(dests, types.GameSessionQueueDestination{DestinationArn: e.fleets[l].FleetArn})
	}
	_, err := e.client.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{
		Name: &name, TimeoutInSeconds: &timeout, Destinations: dests,
		NotificationTarget: aws.String(placementTopic), CustomEventData: aws.String("custom-" + name),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *placementEnv) start(in *gamelift.StartGameSessionPlacementInput) *types.GameSessionPlacement {
	e.t.Helper()
	if in.MaximumPlayerSessionCount == nil {
		in.MaximumPlayerSessionCount = aws.Int32(4)
	}
	out, err := e.client.StartGameSessionPlacement(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	if out.GameSessionPlacement.Status != types.GameSessionPlacementStatePending {
		e.t.Fatalf("StartGameSessionPlacement: status %s", out.GameSessionPlacement.Status)
	}
	return out.GameSessionPlacement
}

func (e *placementEnv) describe(id string) *types.GameSessionPlacement {
	e.t.Helper()
	out, err := e.client.DescribeGameSessionPlacement(e.ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: &id})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.GameSessionPlacement
}

func (e *placementEnv) await(id string, want types.GameSessionPlacementState, within time.Duration) *types.GameSessionPlacement {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		p := e.describe(id)
		if p.Status == want {
			return p
		}
		if p.Status != types.GameSessionPlacementStatePending || time.Now().After(deadline) {
			e.t.Fatalf("placement %s: %s, want %s", id, p.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func latenciesFor(players []string, east, west float32) []types.PlayerLatency {
	var out []types.PlayerLatency
	for _, p := range players {
		out = append(out,
			types.PlayerLatency{PlayerId: aws.String(p), RegionIdentifier: aws.String("custom-east"), LatencyInMilliseconds: aws.Float32(east)},
			types.PlayerLatency{PlayerId: aws.String(p), RegionIdentifier: aws.String("custom-west"), LatencyInMilliseconds: aws.Float32(west)})
	}
	return out
}

func TestPlacementEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 10 s queue timeout")
	}
	a := newHookReceiver(t, 0)
	b := newHookReceiver(t, 2) // fails twice before it takes anything
	a.secret = receiverSecretA
	e := startPlacementEnv(t, webhook.Routes{placementTopic: {{URL: a.srv.URL + "/gamelift", Secret: receiverSecretA}, {URL: b.srv.URL + "/hooks"}}})
	var err error
	if b.secret, err = e.srv.WebhookSecret(b.srv.URL + "/hooks"); err != nil || b.secret == "" {
		t.Fatalf("generated secret: %q %v", b.secret, err)
	}
	e.fleet("custom-east")
	e.fleet("custom-west")
	e.fleet("custom-empty") // never gets a process
	e.queue("main", 60, "custom-east", "custom-west")
	e.queue("lonely", 10, "custom-empty")
	e.queue("doomed", 600, "custom-empty")

	// The queue timeout runs in real time: start that placement first.
	lonely := e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("lonely-1"), GameSessionQueueName: aws.String("lonely")})

	// Queues as the client sees them.
	dq, err := e.client.DescribeGameSessionQueues(e.ctx, &gamelift.DescribeGameSessionQueuesInput{Names: []string{"main", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.GameSessionQueues) != 1 || *dq.GameSessionQueues[0].GameSessionQueueArn != "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/main" ||
		len(dq.GameSessionQueues[0].Destinations) != 2 || *dq.GameSessionQueues[0].TimeoutInSeconds != 60 {
		t.Fatalf("DescribeGameSessionQueues: %+v", dq.GameSessionQueues)
	}

	e.processes("custom-east", 1)
	e.processes("custom-west", 1)
	players := []string{"alice", "bob"}
	desired := []types.DesiredPlayerSession{{PlayerId: aws.String("alice"), PlayerData: aws.String("alice-data")}, {PlayerId: aws.String("bob")}}

	// 1. Lowest latency: west, though east is the first destination.
	e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("near-1"), GameSessionQueueName: aws.String("main"),
		PlayerLatencies: latenciesFor(players, 90, 25), DesiredPlayerSessions: desired, GameSessionName: aws.String("match-1")})
	p1 := e.await("near-1", types.GameSessionPlacementStateFulfilled, 10*time.Second)
	if *p1.GameSessionRegion != "custom-west" || *p1.IpAddress != "127.0.0.1" || p1.Port == nil || *p1.GameSessionArn != *p1.GameSessionId ||
		len(p1.PlacedPlayerSessions) != 2 || *p1.GameSessionName != "match-1" || len(p1.PlayerLatencies) != 4 || p1.EndTime == nil {
		t.Fatalf("near-1: %+v", p1)
	}
	for i, placed := range p1.PlacedPlayerSessions {
		ps, err := e.client.DescribePlayerSessions(e.ctx, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: placed.PlayerSessionId})
		if err != nil {
			t.Fatal(err)
		}
		got := ps.PlayerSessions[0]
		if got.Status != types.PlayerSessionStatusReserved || *got.PlayerId != players[i] || *got.GameSessionId != *p1.GameSessionId {
			t.Fatalf("placed player session %d: %+v", i, got)
		}
	}
	if d := *e.describe("near-1").PlacedPlayerSessions[0].PlayerId; d != "alice" {
		t.Fatalf("first placed player %s", d)
	}

	// 2. West is full: east, despite the latencies.
	e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("near-2"), GameSessionQueueName: aws.String("main"),
		PlayerLatencies: latenciesFor(players, 90, 25)})
	if p := e.await("near-2", types.GameSessionPlacementStateFulfilled, 10*time.Second); *p.GameSessionRegion != "custom-east" {
		t.Fatalf("near-2: %+v", p)
	}

	// 3. No capacity: PENDING until a process comes up.
	e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("wait-1"), GameSessionQueueName: aws.String("main")})
	time.Sleep(300 * time.Millisecond)
	if p := e.describe("wait-1"); p.Status != types.GameSessionPlacementStatePending {
		t.Fatalf("wait-1 without capacity: %s", p.Status)
	}
	e.processes("custom-west", 1)
	if p := e.await("wait-1", types.GameSessionPlacementStateFulfilled, 10*time.Second); *p.GameSessionRegion != "custom-west" {
		t.Fatalf("wait-1: %+v", p)
	}

	// 4. StopGameSessionPlacement cancels; a second stop is refused.
	e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("stop-1"), GameSessionQueueName: aws.String("main")})
	st, err := e.client.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: aws.String("stop-1")})
	if err != nil || st.GameSessionPlacement.Status != types.GameSessionPlacementStateCancelled || st.GameSessionPlacement.EndTime == nil {
		t.Fatalf("StopGameSessionPlacement: %+v %v", st, err)
	}
	_, err = e.client.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: aws.String("stop-1")})
	var invalid *types.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Fatalf("stopping twice: %v", err)
	}
	// Placement ids can never be reused, and unknown queues are NotFound.
	_, err = e.client.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("stop-1"),
		GameSessionQueueName: aws.String("main"), MaximumPlayerSessionCount: aws.Int32(2)})
	if !errors.As(err, &invalid) {
		t.Fatalf("reusing a placement id: %v", err)
	}
	_, err = e.client.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("x-1"),
		GameSessionQueueName: aws.String("nope"), MaximumPlayerSessionCount: aws.Int32(2)})
	var notFound *types.NotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("unknown queue: %v", err)
	}

	// 5. Deleting a queue fails what waits on it.
	e.start(&gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("doomed-1"), GameSessionQueueName: aws.String("doomed")})
	if _, err := e.client.DeleteGameSessionQueue(e.ctx, &gamelift.DeleteGameSessionQueueInput{Name: aws.String("doomed")}); err != nil {
		t.Fatal(err)
	}
	if p := e.describe("doomed-1"); p.Status != types.GameSessionPlacementStateFailed {
		t.Fatalf("doomed-1: %s", p.Status)
	}

	// 6. No capacity until the queue timeout: TIMED_OUT 10 s after the start.
	p := e.await("lonely-1", types.GameSessionPlacementStateTimedOut, 15*time.Second)
	if got := p.EndTime.Sub(*lonely.StartTime); got < 10*time.Second || got > 12*time.Second {
		t.Fatalf("lonely-1 timed out after %v", got)
	}

	// Every event reached both webhooks of the topic, signed with each one's secret.
	for _, r := range []*hookReceiver{a, b} {
		ful := r.await("near-1", "PlacementFulfilled")
		if ful.Version != "0" || ful.DetailType != "GameLift Queue Placement Event" || ful.Source != "aws.gamelift" ||
			ful.Account != "123456789012" || ful.Region != "us-west-2" ||
			len(ful.Resources) != 1 || ful.Resources[0] != "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/main" ||
			ful.Detail.GameSessionArn != *p1.GameSessionArn || ful.Detail.GameSessionRegion != "custom-west" || ful.Detail.IPAddress != "127.0.0.1" ||
			ful.Detail.Port == "" || ful.Detail.CustomEventData != "custom-main" || len(ful.Detail.PlacedPlayerSessions) != 2 ||
			ful.Detail.PlacedPlayerSessions[0].PlayerSessionID != *p1.PlacedPlayerSessions[0].PlayerSessionId {
			t.Fatalf("%s: PlacementFulfilled %+v", r.srv.URL, ful)
		}
		r.await("near-2", "PlacementFulfilled")
		r.await("wait-1", "PlacementFulfilled")
		if ev := r.await("stop-1", "PlacementCancelled"); ev.Detail.EndTime == "" || ev.Detail.GameSessionArn != "" {
			t.Fatalf("PlacementCancelled: %+v", ev)
		}
		r.await("doomed-1", "PlacementFailed")
		if ev := r.await("lonely-1", "PlacementTimedOut"); ev.Detail.CustomEventData != "custom-lonely" {
			t.Fatalf("PlacementTimedOut: %+v", ev)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls < len(b.events)+2 {
		t.Fatalf("receiver b: %d calls for %d events; the first two should have failed", b.calls, len(b.events))
	}
}
