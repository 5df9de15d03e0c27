package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"
	"github.com/fxamacker/cbor/v2"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/shapes"
)

type wrongSignature struct{}

func (wrongSignature) CreateGameSession(ctx context.Context, in *shapes.CreatePlayerSessionInput) (*shapes.CreateGameSessionOutput, error) {
	return nil, nil
}

type wrongArity struct{}

func (wrongArity) ListFleets(in *shapes.ListFleetsInput) (*shapes.ListFleetsOutput, error) {
	return nil, nil
}

type valueOutput struct{}

func (valueOutput) ListFleets(ctx context.Context, in *shapes.ListFleetsInput) (shapes.ListFleetsOutput, error) {
	return shapes.ListFleetsOutput{}, nil
}

// notAnOperation has methods the registry must leave alone.
type notAnOperation struct{ countingService }

func (*notAnOperation) Helper(x int) string { return "" }

func TestNewHandlerConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"nil service", Config{Credentials: testCreds}, "Config.Service is nil"},
		{"nil credentials", Config{Service: &countingService{}}, "Config.Credentials is nil"},
		{"wrong input type", Config{Service: wrongSignature{}, Credentials: testCreds},
			"service method CreateGameSession has signature func(context.Context, *shapes.CreatePlayerSessionInput) (*shapes.CreateGameSessionOutput, error); want func(context.Context, *shapes.CreateGameSessionInput) (*shapes.CreateGameSessionOutput, error)"},
		{"no context", Config{Service: wrongArity{}, Credentials: testCreds}, "service method ListFleets has signature"},
		{"output by value", Config{Service: valueOutput{}, Credentials: testCreds}, "service method ListFleets has signature"},
		{"other methods ignored", Config{Service: &notAnOperation{}, Credentials: testCreds}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || h == nil {
					t.Fatalf("NewHandler: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegistryCoversAllOperations(t *testing.T) {
	ops, err := buildRegistry(&countingService{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != len(shapes.Operations) || len(ops) != 120 {
		t.Errorf("%d operations registered; shapes lists %d, GameLift has 120", len(ops), len(shapes.Operations))
	}
	for name, op := range ops {
		if op.fn.IsValid() != (name == "CreateGameSession") {
			t.Errorf("%s implemented = %v", name, op.fn.IsValid())
		}
	}
}

func TestIsAPIRequest(t *testing.T) {
	tests := []struct {
		method, path, target string
		want                 bool
	}{
		{"POST", "/", "GameLift.CreatePlayerSession", true},
		{"POST", "/", "Anything.Else", true}, // answered with UnknownOperationException
		{"POST", "/", "", false},
		{"GET", "/", "GameLift.ListFleets", false},
		{"POST", "/service/GameLift/operation/ListFleets", "", true},
		{"POST", "/service/GameLift/operation/", "", false},
		{"POST", "/service/GameLift/operation/a/b", "", false},
		{"GET", "/service/GameLift/operation/ListFleets", "", false},
		{"GET", "/?Authorization=token&pID=proc-1", "", false}, // the SDK WebSocket upgrade
		{"POST", "/other", "GameLift.ListFleets", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.target != "" {
			r.Header.Set("X-Amz-Target", tt.target)
		}
		if got := IsAPIRequest(r); got != tt.want {
			t.Errorf("IsAPIRequest(%s %s, target %q) = %v; want %v", tt.method, tt.path, tt.target, got, tt.want)
		}
	}
}

func TestContextValues(t *testing.T) {
	if RequestID(context.Background()) != "" || AccessKeyID(context.Background()) != "" {
		t.Error("values outside a request")
	}
	for _, p := range bothProtocols {
		t.Run(p.String(), func(t *testing.T) {
			var gotID, gotKey string
			svc := funcService(func(ctx context.Context) (*shapes.ListFleetsOutput, error) {
				gotID, gotKey = RequestID(ctx), AccessKeyID(ctx)
				return &shapes.ListFleetsOutput{FleetIds: []string{"fleet-1"}}, nil
			})
			body := []byte("{}")
			if p == protoCBOR {
				body = []byte{0xa0}
			}
			res := do(t, newTestHandler(t, svc, testNow), request{proto: p, op: "ListFleets", body: body}.build(t))
			if res.status != 200 {
				t.Fatalf("status %d %s", res.status, res.raw)
			}
			checkEnvelope(t, res, p)
			if gotID == "" || gotID != res.header.Get("X-Amzn-Requestid") {
				t.Errorf("RequestID(ctx) %q; response header %q", gotID, res.header.Get("X-Amzn-Requestid"))
			}
			if gotKey != testKeyID {
				t.Errorf("AccessKeyID(ctx) %q", gotKey)
			}
		})
	}
}

// funcService implements ListFleets with a function.
type funcService func(ctx context.Context) (*shapes.ListFleetsOutput, error)

func (f funcService) ListFleets(ctx context.Context, in *shapes.ListFleetsInput) (*shapes.ListFleetsOutput, error) {
	return f(ctx)
}

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestErrorsAndLogging(t *testing.T) {
	tests := []struct {
		name      string
		fn        func(ctx context.Context) (*shapes.ListFleetsOutput, error)
		status    int
		code      string
		message   string // exact, after replacing <id> with the request id
		level     string
		logsCause string
	}{
		{
			name: "modeled error",
			fn: func(context.Context) (*shapes.ListFleetsOutput, error) {
				return nil, apierr.Invalid("Limit must be at least 1")
			},
			status: 400, code: "InvalidRequestException", message: "Limit must be at least 1", level: "DEBUG",
		},
		{
			name: "wrapped modeled error",
			fn: func(context.Context) (*shapes.ListFleetsOutput, error) {
				return nil, errors.Join(errors.New("context"), &apierr.Error{Code: apierr.NotFound, Message: "No fleet fleet-9."})
			},
			status: 400, code: "NotFoundException", message: "No fleet fleet-9.", level: "DEBUG",
		},
		{
			name: "throttled",
			fn: func(context.Context) (*shapes.ListFleetsOutput, error) {
				return nil, apierr.New(apierr.Throttling, "Rate exceeded")
			},
			status: 400, code: "ThrottlingException", message: "Rate exceeded", level: "DEBUG",
		},
		{
			name:   "plain error",
			fn:     func(context.Context) (*shapes.ListFleetsOutput, error) { return nil, errors.New("disk full") },
			status: 500, code: "InternalServiceException", message: "An internal service error occurred (request id <id>).",
			level: "ERROR", logsCause: "disk full",
		},
		{
			name: "internal error with a specific message",
			fn: func(context.Context) (*shapes.ListFleetsOutput, error) {
				return nil, &apierr.Error{Code: apierr.InternalService, Message: "secret table t_fleets is corrupt"}
			},
			status: 500, code: "InternalServiceException", message: "An internal service error occurred (request id <id>).",
			level: "ERROR",
		},
		{
			name:   "panic",
			fn:     func(context.Context) (*shapes.ListFleetsOutput, error) { panic("nil map write") },
			status: 500, code: "InternalServiceException", message: "An internal service error occurred (request id <id>).",
			level: "ERROR", logsCause: "panic in ListFleets: nil map write",
		},
	}
	for _, tt := range tests {
		for _, p := range bothProtocols {
			t.Run(tt.name+"/"+p.String(), func(t *testing.T) {
				var logs logBuffer
				h, err := NewHandler(Config{
					Service:     funcService(tt.fn),
					Credentials: testCreds,
					Clock:       fakeAt(testNow),
					Logger:      slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				})
				if err != nil {
					t.Fatal(err)
				}
				body := []byte("{}")
				if p == protoCBOR {
					body = []byte{0xa0}
				}
				res := do(t, h, request{proto: p, op: "ListFleets", body: body}.build(t))
				checkError(t, res, p, tt.status, tt.code)
				id := res.header.Get("X-Amzn-Requestid")
				if want := strings.ReplaceAll(tt.message, "<id>", id); res.body["message"] != want {
					t.Errorf("message %q; want %q", res.body["message"], want)
				}
				recs := logs.records(t)
				if len(recs) != 1 {
					t.Fatalf("%d log records; want 1: %v", len(recs), recs)
				}
				rec := recs[0]
				if rec["level"] != tt.level || rec["request_id"] != id || rec["code"] != tt.code || rec["operation"] != "ListFleets" {
					t.Errorf("log record %v", rec)
				}
				if cause, _ := rec["cause"].(string); !strings.Contains(cause, tt.logsCause) {
					t.Errorf("logged cause %q; want it to contain %q", cause, tt.logsCause)
				}
			})
		}
	}
}

// TestWireEncoding checks the CBOR forms the Go client insists on (spec §1.3)
// by decoding our bytes with smithy-go's own decoder, which keeps CBOR types.
func TestWireEncoding(t *testing.T) {
	c, err := newCodecs()
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 24, 4, 58, 15, 123e6, time.UTC)
	out := &shapes.StartGameSessionPlacementOutput{GameSessionPlacement: &shapes.GameSessionPlacement{
		PlacementId:               aws.String("pl-1"),
		MaximumPlayerSessionCount: aws.Int32(10),
		StartTime:                 shapes.NewTimestamp(ts),
		PlayerLatencies:           []shapes.PlayerLatency{{LatencyInMilliseconds: aws.Float32(12.5)}},
		GameProperties:            []shapes.GameProperty{},
		PlacedPlayerSessions:      nil,
	}}
	var buf bytes.Buffer
	if err := c.enc.MarshalToBuffer(out, &buf); err != nil {
		t.Fatal(err)
	}
	v, err := smithycbor.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	p := v.(smithycbor.Map)["GameSessionPlacement"].(smithycbor.Map)
	if _, ok := p["PlacementId"].(smithycbor.String); !ok {
		t.Errorf("PlacementId is %T; want a text string", p["PlacementId"])
	}
	if got, ok := p["MaximumPlayerSessionCount"].(smithycbor.Uint); !ok || got != 10 {
		t.Errorf("MaximumPlayerSessionCount is %T %v; want uint 10", p["MaximumPlayerSessionCount"], p["MaximumPlayerSessionCount"])
	}
	tag, ok := p["StartTime"].(*smithycbor.Tag)
	if !ok || tag.ID != 1 {
		t.Fatalf("StartTime is %T %v; want tag 1", p["StartTime"], p["StartTime"])
	}
	if f, ok := tag.Value.(smithycbor.Float64); !ok || float64(f) != 1795496295.123 {
		t.Errorf("StartTime content %T %v; want float64 1795496295.123", tag.Value, tag.Value)
	}
	lat := p["PlayerLatencies"].(smithycbor.List)[0].(smithycbor.Map)["LatencyInMilliseconds"]
	if f, ok := lat.(smithycbor.Float32); !ok || f != 12.5 {
		t.Errorf("LatencyInMilliseconds is %T %v; want float32 12.5", lat, lat)
	}
	if l, ok := p["GameProperties"].(smithycbor.List); !ok || len(l) != 0 {
		t.Errorf("GameProperties is %T %v; want an empty list", p["GameProperties"], p["GameProperties"])
	}
	for _, absent := range []string{"PlacedPlayerSessions", "EndTime", "GameSessionArn", "Status"} {
		if _, ok := p[absent]; ok {
			t.Errorf("absent member %s is encoded", absent)
		}
	}
}

func TestNilAndEmptyOutputs(t *testing.T) {
	tests := []struct {
		name string
		out  *shapes.ListFleetsOutput
		json string
		cbor []byte
	}{
		{"nil output", nil, "{}", []byte{0xa0}},
		{"empty output", &shapes.ListFleetsOutput{}, "{}", []byte{0xa0}},
		{"empty list", &shapes.ListFleetsOutput{FleetIds: []string{}}, `{"FleetIds":[]}`,
			append([]byte{0xa1, 0x68}, append([]byte("FleetIds"), 0x80)...)},
	}
	for _, tt := range tests {
		for _, p := range bothProtocols {
			t.Run(tt.name+"/"+p.String(), func(t *testing.T) {
				svc := funcService(func(context.Context) (*shapes.ListFleetsOutput, error) { return tt.out, nil })
				body, want := []byte("{}"), []byte(tt.json)
				if p == protoCBOR {
					body, want = []byte{0xa0}, tt.cbor
				}
				res := do(t, newTestHandler(t, svc, testNow), request{proto: p, op: "ListFleets", body: body}.build(t))
				if res.status != http.StatusOK {
					t.Fatalf("status %d", res.status)
				}
				checkEnvelope(t, res, p)
				if !bytes.Equal(res.raw, want) {
					t.Errorf("body % x; want % x", res.raw, want)
				}
			})
		}
	}
}

// TestErrorBodyCBOR pins the exact error map, which the Go client requires to be
// a non-empty map with text keys.
func TestErrorBodyCBOR(t *testing.T) {
	svc := funcService(func(context.Context) (*shapes.ListFleetsOutput, error) {
		return nil, apierr.New(apierr.NotFound, "gone")
	})
	res := do(t, newTestHandler(t, svc, testNow), request{proto: protoCBOR, op: "ListFleets", body: []byte{0xa0}}.build(t))
	var m map[string]string
	dm, _ := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err := dm.Unmarshal(res.raw, &m); err != nil {
		t.Fatalf("error body % x: %v", res.raw, err)
	}
	want := map[string]string{"__type": "NotFoundException", "message": "gone", "Message": "gone"}
	if len(m) != len(want) {
		t.Errorf("error body %v; want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("error body %v; want %v", m, want)
		}
	}
}
