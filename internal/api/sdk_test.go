package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/shapes"
)

// sdkService answers the calls the aws-sdk-go-v2 tests make.
type sdkService struct {
	mu          sync.Mutex
	requestID   string
	accessKeyID string
	placementIn *shapes.StartGameSessionPlacementInput
	eventsIn    *shapes.DescribeFleetEventsInput
}

var (
	sdkCreated    = time.Date(2026, 11, 24, 4, 58, 15, 123e6, time.UTC)
	sdkTerminated = time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
)

func (s *sdkService) CreateGameSession(ctx context.Context, in *shapes.CreateGameSessionInput) (*shapes.CreateGameSessionOutput, error) {
	s.mu.Lock()
	s.requestID, s.accessKeyID = RequestID(ctx), AccessKeyID(ctx)
	s.mu.Unlock()
	return &shapes.CreateGameSessionOutput{GameSession: &shapes.GameSession{
		GameSessionId:             aws.String("arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-1"),
		FleetId:                   in.FleetId,
		Name:                      in.Name,
		CreationTime:              shapes.NewTimestamp(sdkCreated),
		TerminationTime:           shapes.NewTimestamp(sdkTerminated),
		CurrentPlayerSessionCount: aws.Int32(0),
		MaximumPlayerSessionCount: in.MaximumPlayerSessionCount,
		Port:                      aws.Int32(7777),
		Status:                    "ACTIVE",
		GameProperties:            []shapes.GameProperty{},
	}}, nil
}

func (s *sdkService) CreatePlayerSession(ctx context.Context, in *shapes.CreatePlayerSessionInput) (*shapes.CreatePlayerSessionOutput, error) {
	return nil, apierr.New(apierr.GameSessionFull, "Game session %s is full.", aws.ToString(in.GameSessionId))
}

func (s *sdkService) DescribeGameSessions(ctx context.Context, in *shapes.DescribeGameSessionsInput) (*shapes.DescribeGameSessionsOutput, error) {
	return nil, errors.New("the database is on fire")
}

func (s *sdkService) DeleteFleet(ctx context.Context, in *shapes.DeleteFleetInput) (*shapes.DeleteFleetOutput, error) {
	return nil, nil
}

func (s *sdkService) StartGameSessionPlacement(ctx context.Context, in *shapes.StartGameSessionPlacementInput) (*shapes.StartGameSessionPlacementOutput, error) {
	s.mu.Lock()
	s.placementIn = in
	s.mu.Unlock()
	return &shapes.StartGameSessionPlacementOutput{GameSessionPlacement: &shapes.GameSessionPlacement{
		PlacementId: in.PlacementId,
		Status:      "PENDING",
		StartTime:   shapes.NewTimestamp(sdkCreated),
		PlayerLatencies: []shapes.PlayerLatency{
			{PlayerId: aws.String("p1"), RegionIdentifier: aws.String("us-west-2"), LatencyInMilliseconds: aws.Float32(12.5)},
			{PlayerId: aws.String("p2"), RegionIdentifier: aws.String("us-west-2"), LatencyInMilliseconds: aws.Float32(0.1)},
		},
	}}, nil
}

func (s *sdkService) DescribeFleetEvents(ctx context.Context, in *shapes.DescribeFleetEventsInput) (*shapes.DescribeFleetEventsOutput, error) {
	s.mu.Lock()
	s.eventsIn = in
	s.mu.Unlock()
	return &shapes.DescribeFleetEventsOutput{Events: []shapes.Event{
		{EventId: aws.String("ev-1"), EventCode: "FLEET_CREATED", EventTime: in.StartTime},
	}}, nil
}

// newSDKClient points an unmodified aws-sdk-go-v2 GameLift client (Smithy RPC
// v2 CBOR) at a real HTTP server running the handler.
func newSDKClient(t *testing.T, svc any, keyID, secret string) *gamelift.Client {
	t.Helper()
	srv := httptest.NewServer(newTestHandler(t, svc, time.Now()))
	t.Cleanup(srv.Close)
	return gamelift.New(gamelift.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, nil
		}),
		// One attempt, so a test sees exactly what the server said.
		Retryer:    aws.NopRetryer{},
		HTTPClient: srv.Client(),
	})
}

func TestSDKSuccess(t *testing.T) {
	svc := &sdkService{}
	c := newSDKClient(t, svc, testKeyID, testSecret)
	out, err := c.CreateGameSession(context.Background(), &gamelift.CreateGameSessionInput{
		FleetId:                   aws.String("fleet-1"),
		Name:                      aws.String("s1"),
		MaximumPlayerSessionCount: aws.Int32(10),
		GameProperties:            []types.GameProperty{{Key: aws.String("mode"), Value: aws.String("ctf")}},
	})
	if err != nil {
		t.Fatalf("CreateGameSession: %v", err)
	}
	gs := out.GameSession
	if gs == nil {
		t.Fatal("no GameSession")
	}
	if got := aws.ToTime(gs.CreationTime); !got.Equal(sdkCreated) {
		t.Errorf("CreationTime %v; want %v", got, sdkCreated)
	}
	if got := aws.ToTime(gs.TerminationTime); !got.Equal(sdkTerminated) {
		t.Errorf("TerminationTime %v; want %v", got, sdkTerminated)
	}
	if aws.ToInt32(gs.MaximumPlayerSessionCount) != 10 || aws.ToInt32(gs.Port) != 7777 {
		t.Errorf("ints: max %v port %v", gs.MaximumPlayerSessionCount, gs.Port)
	}
	if gs.CurrentPlayerSessionCount == nil || *gs.CurrentPlayerSessionCount != 0 {
		t.Errorf("CurrentPlayerSessionCount %v; want a present 0", gs.CurrentPlayerSessionCount)
	}
	if gs.Status != types.GameSessionStatusActive || aws.ToString(gs.Name) != "s1" || aws.ToString(gs.FleetId) != "fleet-1" {
		t.Errorf("strings: %+v", gs)
	}
	if len(gs.GameProperties) != 0 {
		t.Errorf("GameProperties %v; want empty", gs.GameProperties)
	}
	rid, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if rid == "" || rid != svc.requestID {
		t.Errorf("client saw request id %q, service saw %q", rid, svc.requestID)
	}
	if svc.accessKeyID != testKeyID {
		t.Errorf("AccessKeyID(ctx) = %q; want %q", svc.accessKeyID, testKeyID)
	}
}

func TestSDKEmptyOutput(t *testing.T) {
	c := newSDKClient(t, &sdkService{}, testKeyID, testSecret)
	if _, err := c.DeleteFleet(context.Background(), &gamelift.DeleteFleetInput{FleetId: aws.String("fleet-1")}); err != nil {
		t.Fatalf("DeleteFleet: %v", err)
	}
}

func TestSDKFloat32AndTimestamps(t *testing.T) {
	svc := &sdkService{}
	c := newSDKClient(t, svc, testKeyID, testSecret)
	out, err := c.StartGameSessionPlacement(context.Background(), &gamelift.StartGameSessionPlacementInput{
		GameSessionQueueName:      aws.String("q"),
		MaximumPlayerSessionCount: aws.Int32(4),
		PlacementId:               aws.String("pl-1"),
		PlayerLatencies: []types.PlayerLatency{
			{PlayerId: aws.String("p1"), RegionIdentifier: aws.String("us-west-2"), LatencyInMilliseconds: aws.Float32(33.25)},
		},
	})
	if err != nil {
		t.Fatalf("StartGameSessionPlacement: %v", err)
	}
	// The client's own float32 reached the service intact...
	svc.mu.Lock()
	in := svc.placementIn
	svc.mu.Unlock()
	if len(in.PlayerLatencies) != 1 || aws.ToFloat32(in.PlayerLatencies[0].LatencyInMilliseconds) != 33.25 {
		t.Errorf("service got PlayerLatencies %+v", in.PlayerLatencies)
	}
	// ...and ours reached the client, which rejects a float64 there.
	p := out.GameSessionPlacement
	if p == nil || len(p.PlayerLatencies) != 2 {
		t.Fatalf("placement %+v", p)
	}
	for i, want := range []float32{12.5, 0.1} {
		if got := aws.ToFloat32(p.PlayerLatencies[i].LatencyInMilliseconds); got != want {
			t.Errorf("LatencyInMilliseconds[%d] = %v; want %v", i, got, want)
		}
	}
	if got := aws.ToTime(p.StartTime); !got.Equal(sdkCreated) {
		t.Errorf("StartTime %v; want %v", got, sdkCreated)
	}

	// A timestamp in the input: the client sends tag 1 with a float64.
	start := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	ev, err := c.DescribeFleetEvents(context.Background(), &gamelift.DescribeFleetEventsInput{
		FleetId: aws.String("fleet-1"), StartTime: aws.Time(start),
	})
	if err != nil {
		t.Fatalf("DescribeFleetEvents: %v", err)
	}
	svc.mu.Lock()
	got := svc.eventsIn.StartTime
	svc.mu.Unlock()
	if got == nil || !got.Equal(start) {
		t.Errorf("service got StartTime %v; want %v", got, start)
	}
	if len(ev.Events) != 1 || !aws.ToTime(ev.Events[0].EventTime).Equal(start) {
		t.Errorf("events %+v", ev.Events)
	}
}

func TestSDKTypedError(t *testing.T) {
	c := newSDKClient(t, &sdkService{}, testKeyID, testSecret)
	_, err := c.CreatePlayerSession(context.Background(), &gamelift.CreatePlayerSessionInput{
		GameSessionId: aws.String("gsess-1"), PlayerId: aws.String("p1"),
	})
	var full *types.GameSessionFullException
	if !errors.As(err, &full) {
		t.Fatalf("error %v (%T); want *types.GameSessionFullException", err, err)
	}
	if got := aws.ToString(full.Message); got != "Game session gsess-1 is full." {
		t.Errorf("Message %q", got)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("response error %v; want HTTP 400", err)
	}
}

func TestSDKInternalError(t *testing.T) {
	c := newSDKClient(t, &sdkService{}, testKeyID, testSecret)
	_, err := c.DescribeGameSessions(context.Background(), &gamelift.DescribeGameSessionsInput{FleetId: aws.String("fleet-1")})
	var ise *types.InternalServiceException
	if !errors.As(err, &ise) {
		t.Fatalf("error %v (%T); want *types.InternalServiceException", err, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("response error %v; want HTTP 500", err)
	}
	msg := aws.ToString(ise.Message)
	if !strings.Contains(msg, re.ServiceRequestID()) || re.ServiceRequestID() == "" {
		t.Errorf("message %q does not quote the request id %q", msg, re.ServiceRequestID())
	}
	if strings.Contains(msg, "fire") {
		t.Errorf("message %q leaks the cause", msg)
	}
}

func TestSDKGenericErrors(t *testing.T) {
	tests := []struct {
		name           string
		keyID, secret  string
		call           func(*gamelift.Client) error
		code, contains string
		status         int
	}{
		{
			name: "unsupported operation", keyID: testKeyID, secret: testSecret,
			call: func(c *gamelift.Client) error {
				_, err := c.ListAliases(context.Background(), &gamelift.ListAliasesInput{})
				return err
			},
			code: "UnsupportedOperationException", status: 400,
			contains: "openlift does not support the GameLift operation ListAliases yet",
		},
		{
			name: "unknown access key", keyID: "AKIDNOBODY", secret: testSecret,
			call: func(c *gamelift.Client) error {
				_, err := c.DeleteFleet(context.Background(), &gamelift.DeleteFleetInput{FleetId: aws.String("f")})
				return err
			},
			code: "UnrecognizedClientException", status: 403,
			contains: "The security token included in the request is invalid.",
		},
		{
			name: "wrong secret", keyID: testKeyID, secret: "not-the-secret",
			call: func(c *gamelift.Client) error {
				_, err := c.DeleteFleet(context.Background(), &gamelift.DeleteFleetInput{FleetId: aws.String("f")})
				return err
			},
			code: "InvalidSignatureException", status: 403,
			contains: "The request signature we calculated does not match",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(newSDKClient(t, &sdkService{}, tt.keyID, tt.secret))
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
			}
			if ae.ErrorCode() != tt.code {
				t.Errorf("ErrorCode %q; want %q", ae.ErrorCode(), tt.code)
			}
			if !strings.Contains(ae.ErrorMessage(), tt.contains) {
				t.Errorf("ErrorMessage %q; want it to contain %q", ae.ErrorMessage(), tt.contains)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
				t.Errorf("response error %v; want HTTP %d", err, tt.status)
			}
		})
	}
}
