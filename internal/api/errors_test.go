package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/openlift/openlift/internal/shapes"
)

// countingService implements CreateGameSession and counts the calls that got
// through, so a test can tell that a refused request never reached it.
type countingService struct {
	calls atomic.Int32
	last  atomic.Pointer[shapes.CreateGameSessionInput]
}

func (s *countingService) CreateGameSession(ctx context.Context, in *shapes.CreateGameSessionInput) (*shapes.CreateGameSessionOutput, error) {
	s.calls.Add(1)
	s.last.Store(in)
	return &shapes.CreateGameSessionOutput{}, nil
}

var bothProtocols = []protocol{protoJSON, protoCBOR}

// validBody is a CreateGameSession input in protocol p.
func validBody(t testing.TB, p protocol) []byte {
	in := map[string]any{"FleetId": "fleet-1", "MaximumPlayerSessionCount": 2}
	if p == protoCBOR {
		return mustCBOR(t, in)
	}
	return mustJSON(t, in)
}

func TestAuthErrors(t *testing.T) {
	tests := []struct {
		name    string
		clock   time.Duration // handler clock offset from the signing time
		build   func(t *testing.T, p protocol) *http.Request
		status  int
		code    string
		message string // prefix
	}{
		{
			name: "no Authorization header",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Del("Authorization")
				return r
			},
			status: 403, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token",
		},
		{
			name: "no Signature",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				a := r.Header.Get("Authorization")
				r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "Authorization header requires 'Signature' parameter.",
		},
		{
			name: "no Credential",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				a := r.Header.Get("Authorization")
				r.Header.Set("Authorization", strings.Replace(a, "Credential=", "Credentials=", 1))
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "Authorization header requires 'Credential' parameter.",
		},
		{
			name: "other algorithm",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "Unsupported AWS 'algorithm'",
		},
		{
			name: "truncated credential",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/gamelift/aws4_request", "", 1))
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "Credential must have the form",
		},
		{
			name: "no X-Amz-Date",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Del("X-Amz-Date")
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "Authorization header requires existence of a 'X-Amz-Date' header.",
		},
		{
			name: "host not signed",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
				return r
			},
			status: 403, code: "IncompleteSignatureException", message: "'Host' must be a 'SignedHeader'",
		},
		{
			name:  "signature expired",
			clock: 15*time.Minute + time.Second,
			build: func(t *testing.T, p protocol) *http.Request {
				return request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
			},
			status: 403, code: "InvalidSignatureException",
			message: "Signature expired: 20261124T050000Z is now earlier than 20261124T050001Z (20261124T051501Z - 15 min.)",
		},
		{
			name:  "signature not yet current",
			clock: -15*time.Minute - time.Second,
			build: func(t *testing.T, p protocol) *http.Request {
				return request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
			},
			status: 403, code: "InvalidSignatureException",
			message: "Signature not yet current: 20261124T050000Z is still later than 20261124T045959Z (20261124T044459Z + 15 min.)",
		},
		{
			name: "unknown access key",
			build: func(t *testing.T, p protocol) *http.Request {
				return request{proto: p, op: "CreateGameSession", body: validBody(t, p), keyID: "AKIDSTRANGER"}.build(t)
			},
			status: 403, code: "UnrecognizedClientException", message: "The security token included in the request is invalid.",
		},
		{
			name: "wrong secret",
			build: func(t *testing.T, p protocol) *http.Request {
				return request{proto: p, op: "CreateGameSession", body: validBody(t, p), secret: "guess"}.build(t)
			},
			status: 403, code: "InvalidSignatureException", message: "The request signature we calculated does not match",
		},
		{
			name: "body changed after signing",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				b := validBody(t, p)
				b = bytes.Replace(b, []byte("fleet-1"), []byte("fleet-2"), 1)
				r.Body = ioNopCloser(b)
				return r
			},
			status: 403, code: "InvalidSignatureException", message: "The request signature we calculated does not match",
		},
		{
			name: "signed header changed after signing",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Content-Type", "text/plain")
				return r
			},
			status: 403, code: "InvalidSignatureException", message: "The request signature we calculated does not match",
		},
		{
			name: "host changed after signing",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Host = "evil.example:18080"
				return r
			},
			status: 403, code: "InvalidSignatureException", message: "The request signature we calculated does not match",
		},
		{
			name: "signed payload hash that is not the body's",
			build: func(t *testing.T, p protocol) *http.Request {
				// Signed correctly, header included: only our own hash of the
				// body can catch it.
				return request{proto: p, op: "CreateGameSession", body: validBody(t, p),
					header: map[string]string{"X-Amz-Content-Sha256": strings.Repeat("ab", 32)}}.build(t)
			},
			status: 403, code: "InvalidSignatureException", message: "The provided 'x-amz-content-sha256' header does not match",
		},
		{
			name: "scoped to another service",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/gamelift/", "/dynamodb/", 1))
				return r
			},
			status: 403, code: "InvalidSignatureException", message: "Credential should be scoped to correct service: 'gamelift'.",
		},
		{
			name: "scope date differs from X-Amz-Date",
			build: func(t *testing.T, p protocol) *http.Request {
				r := request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261124/", "/20261123/", 1))
				return r
			},
			status: 403, code: "InvalidSignatureException", message: "Date in Credential scope does not match",
		},
	}
	for _, tt := range tests {
		for _, p := range bothProtocols {
			t.Run(tt.name+"/"+p.String(), func(t *testing.T) {
				svc := &countingService{}
				h := newTestHandler(t, svc, testNow.Add(tt.clock))
				res := do(t, h, tt.build(t, p))
				checkError(t, res, p, tt.status, tt.code)
				if msg, _ := res.body["message"].(string); !strings.HasPrefix(msg, tt.message) {
					t.Errorf("message %q; want prefix %q", msg, tt.message)
				}
				if n := svc.calls.Load(); n != 0 {
					t.Errorf("refused request reached the service %d times", n)
				}
			})
		}
	}
}

// TestAuthBoundaries checks the edges of what must be accepted.
func TestAuthBoundaries(t *testing.T) {
	for _, p := range bothProtocols {
		for _, skew := range []time.Duration{15 * time.Minute, -15 * time.Minute, 0} {
			t.Run(p.String()+"/skew "+skew.String(), func(t *testing.T) {
				svc := &countingService{}
				res := do(t, newTestHandler(t, svc, testNow.Add(skew)),
					request{proto: p, op: "CreateGameSession", body: validBody(t, p)}.build(t))
				if res.status != 200 || svc.calls.Load() != 1 {
					t.Errorf("status %d, calls %d; want 200 and 1 (%s)", res.status, svc.calls.Load(), res.raw)
				}
			})
		}
		t.Run(p.String()+"/correct x-amz-content-sha256 and messy header spacing", func(t *testing.T) {
			body := validBody(t, p)
			svc := &countingService{}
			r := request{proto: p, op: "CreateGameSession", body: body, header: map[string]string{
				"X-Amz-Content-Sha256": sha256Hex(body),
				"X-Custom":             "  a   b  c ",
			}}.build(t)
			res := do(t, newTestHandler(t, svc, testNow), r)
			if res.status != 200 || svc.calls.Load() != 1 {
				t.Errorf("status %d; want 200 (%s)", res.status, res.raw)
			}
		})
		t.Run(p.String()+"/query string and repeated header", func(t *testing.T) {
			// No GameLift client sends these, but a signature over them must
			// still verify the way the reference signer computes it.
			body := validBody(t, p)
			r := request{proto: p, op: "CreateGameSession", body: body}.build(t)
			r.URL.RawQuery = "b=2&a=x%20y&a=0&c"
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "  two   words ")
			r.Header.Del("Authorization")
			signRequest(t, r, body, "", "", time.Time{})
			svc := &countingService{}
			res := do(t, newTestHandler(t, svc, testNow), r)
			if res.status != 200 || svc.calls.Load() != 1 {
				t.Errorf("status %d; want 200 (%s)", res.status, res.raw)
			}
		})
		t.Run(p.String()+"/secret rotated between requests", func(t *testing.T) {
			// The derived key is cached; a new secret must not be answered
			// from the cache.
			creds := staticCreds{testKeyID: testSecret}
			h, err := NewHandler(Config{Service: &countingService{}, Credentials: creds, Clock: fakeAt(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			body := validBody(t, p)
			if res := do(t, h, request{proto: p, op: "CreateGameSession", body: body}.build(t)); res.status != 200 {
				t.Fatalf("before rotation: %d %s", res.status, res.raw)
			}
			creds[testKeyID] = "rotated"
			res := do(t, h, request{proto: p, op: "CreateGameSession", body: body}.build(t))
			checkError(t, res, p, 403, "InvalidSignatureException")
			if res := do(t, h, request{proto: p, op: "CreateGameSession", body: body, secret: "rotated"}.build(t)); res.status != 200 {
				t.Errorf("after rotation: %d %s", res.status, res.raw)
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	tests := []struct {
		name    string
		proto   protocol
		build   func(t *testing.T) *http.Request
		status  int
		code    string
		message string
	}{
		{
			name: "unknown JSON target", proto: protoJSON,
			build: func(t *testing.T) *http.Request {
				return request{proto: protoJSON, op: "LaunchRocket", body: []byte("{}")}.build(t)
			},
			status: 400, code: "UnknownOperationException", message: "GameLift.LaunchRocket is not a GameLift operation.",
		},
		{
			name: "target of another service", proto: protoJSON,
			build: func(t *testing.T) *http.Request {
				return request{proto: protoJSON, body: []byte("{}"),
					header: map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables"}}.build(t)
			},
			status: 400, code: "UnknownOperationException", message: "DynamoDB_20120810.ListTables is not a GameLift operation.",
		},
		{
			name: "no target", proto: protoJSON,
			build: func(t *testing.T) *http.Request {
				r := httpRequest(t, http.MethodPost, "/", []byte("{}"), nil)
				return r
			},
			status: 400, code: "UnknownOperationException", message: "The request has no X-Amz-Target header.",
		},
		{
			name: "GET", proto: protoJSON,
			build:  func(t *testing.T) *http.Request { return httpRequest(t, http.MethodGet, "/", nil, nil) },
			status: 400, code: "UnknownOperationException", message: "GameLift operations are called with POST, not GET.",
		},
		{
			name: "unknown CBOR operation", proto: protoCBOR,
			build: func(t *testing.T) *http.Request {
				return request{proto: protoCBOR, op: "LaunchRocket", body: []byte{0xa0}}.build(t)
			},
			status: 400, code: "UnknownOperationException", message: "LaunchRocket is not a GameLift operation.",
		},
		{
			// Getting past SigV4 to a 400 shows the escaped path was
			// canonicalised (double-encoded) as the reference signer does.
			name: "CBOR operation with an escaped path", proto: protoCBOR,
			build: func(t *testing.T) *http.Request {
				return httpRequest(t, http.MethodPost, cborPathPrefix+"List%20Fleets", []byte{0xa0}, nil)
			},
			status: 400, code: "UnknownOperationException", message: "List Fleets is not a GameLift operation.",
		},
		{
			name: "unsupported JSON operation", proto: protoJSON,
			build: func(t *testing.T) *http.Request {
				return request{proto: protoJSON, op: "ListAliases", body: []byte("{}")}.build(t)
			},
			status: 400, code: "UnsupportedOperationException", message: "openlift does not support the GameLift operation ListAliases yet",
		},
		{
			name: "unsupported CBOR operation", proto: protoCBOR,
			build: func(t *testing.T) *http.Request {
				return request{proto: protoCBOR, op: "ListAliases", body: []byte{0xa0}}.build(t)
			},
			status: 400, code: "UnsupportedOperationException", message: "openlift does not support the GameLift operation ListAliases yet",
		},
		{
			name: "body too large", proto: protoJSON,
			build: func(t *testing.T) *http.Request {
				body := append([]byte(`{"Name":"`), bytes.Repeat([]byte("x"), maxBodyBytes)...)
				body = append(body, `"}`...)
				return request{proto: protoJSON, op: "CreateGameSession", body: body}.build(t)
			},
			status: 413, code: "RequestEntityTooLargeException", message: "The request body is larger than 8388608 bytes.",
		},
		{
			name: "body too large without Content-Length", proto: protoCBOR,
			build: func(t *testing.T) *http.Request {
				body := mustCBOR(t, map[string]string{"Name": strings.Repeat("x", maxBodyBytes)})
				r := request{proto: protoCBOR, op: "CreateGameSession", body: body}.build(t)
				r.ContentLength = -1
				return r
			},
			status: 413, code: "RequestEntityTooLargeException", message: "The request body is larger than 8388608 bytes.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &countingService{}
			res := do(t, newTestHandler(t, svc, testNow), tt.build(t))
			checkError(t, res, tt.proto, tt.status, tt.code)
			if msg := res.body["message"]; msg != tt.message {
				t.Errorf("message %q; want %q", msg, tt.message)
			}
			if svc.calls.Load() != 0 {
				t.Error("request reached the service")
			}
		})
	}
}

func TestSerializationErrors(t *testing.T) {
	tests := []struct {
		name    string
		proto   protocol
		body    []byte
		message string
	}{
		{"malformed JSON", protoJSON, []byte(`{"FleetId": "fleet-1",`), "Malformed JSON request body"},
		{"JSON array", protoJSON, []byte(`[1]`), "The request body must be a JSON object."},
		{"JSON fraction into int32", protoJSON, []byte(`{"FleetId": "f", "MaximumPlayerSessionCount": 1.5}`),
			"Member MaximumPlayerSessionCount cannot be decoded from a JSON number 1.5; it must be a 32-bit integer."},
		{"JSON number into string", protoJSON, []byte(`{"FleetId": 7}`),
			"Member FleetId cannot be decoded from a JSON number; it must be a string."},
		{"JSON int32 overflow", protoJSON, []byte(`{"MaximumPlayerSessionCount": 4294967296}`),
			"Member MaximumPlayerSessionCount cannot be decoded from a JSON number 4294967296; it must be a 32-bit integer."},
		{"JSON string into list", protoJSON, []byte(`{"GameProperties": "x"}`),
			"Member GameProperties cannot be decoded from a JSON string; it must be a list."},
		{"JSON trailing garbage", protoJSON, []byte(`{} {}`), "Malformed JSON request body"},
		{"malformed CBOR", protoCBOR, []byte{0xa1, 0x67, 'F', 'l', 'e'}, "Malformed CBOR request body"},
		{"CBOR array", protoCBOR, []byte{0x81, 0x01}, "The request body must be a CBOR map."},
		{"CBOR float into int32", protoCBOR, mustCBOR(t, map[string]any{"MaximumPlayerSessionCount": 1.5}),
			"Member MaximumPlayerSessionCount cannot be decoded from a CBOR float or simple value; it must be a 32-bit integer."},
		{"CBOR byte string into string", protoCBOR, mustCBOR(t, map[string]any{"FleetId": []byte("fleet-1")}),
			"Member FleetId cannot be decoded from a CBOR byte string; it must be a string."},
		{"CBOR int32 overflow", protoCBOR, mustCBOR(t, map[string]any{"MaximumPlayerSessionCount": 1 << 40}),
			"Member MaximumPlayerSessionCount is out of range; it must be a 32-bit integer."},
		{"CBOR byte-string map key", protoCBOR,
			[]byte{0xa1, 0x6d, 'P', 'l', 'a', 'y', 'e', 'r', 'D', 'a', 't', 'a', 'M', 'a', 'p', 0xa1, 0x41, 'k', 0x61, 'v'},
			"Member PlayerDataMap cannot be decoded from a CBOR byte string; it must be a string."},
		// Timestamps must be tag 1; a bare number is refused, as the Go client
		// itself refuses one.
		{"CBOR untagged timestamp", protoCBOR, mustCBOR(t, map[string]any{"StartTime": 1700000000}),
			"Cannot decode the CBOR request body: timestamp must be CBOR tag 1"},
		{"CBOR trailing data", protoCBOR, []byte{0xa0, 0xa0}, "Malformed CBOR request body"},
	}
	// Cases about members CreateGameSession lacks go to another operation.
	opFor := map[string]string{
		"CBOR byte-string map key": "CreatePlayerSessions",
		"CBOR untagged timestamp":  "DescribeFleetEvents",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &serialService{}
			op := opFor[tt.name]
			if op == "" {
				op = "CreateGameSession"
			}
			res := do(t, newTestHandler(t, svc, testNow), request{proto: tt.proto, op: op, body: tt.body}.build(t))
			checkError(t, res, tt.proto, 400, "SerializationException")
			if msg, _ := res.body["message"].(string); !strings.HasPrefix(msg, tt.message) {
				t.Errorf("message %q; want prefix %q", msg, tt.message)
			}
			if svc.calls.Load() != 0 {
				t.Error("request reached the service")
			}
		})
	}
}

// serialService adds the operations with timestamp and map members.
type serialService struct{ countingService }

func (s *serialService) DescribeFleetEvents(ctx context.Context, in *shapes.DescribeFleetEventsInput) (*shapes.DescribeFleetEventsOutput, error) {
	s.calls.Add(1)
	return &shapes.DescribeFleetEventsOutput{}, nil
}

func (s *serialService) CreatePlayerSessions(ctx context.Context, in *shapes.CreatePlayerSessionsInput) (*shapes.CreatePlayerSessionsOutput, error) {
	s.calls.Add(1)
	return &shapes.CreatePlayerSessionsOutput{}, nil
}

// TestDecodeAccepted covers inputs every decoder must take.
func TestDecodeAccepted(t *testing.T) {
	tests := []struct {
		name  string
		proto protocol
		body  []byte
		want  shapes.CreateGameSessionInput
	}{
		{"empty JSON body", protoJSON, nil, shapes.CreateGameSessionInput{}},
		{"JSON {}", protoJSON, []byte("{}"), shapes.CreateGameSessionInput{}},
		{"JSON null", protoJSON, []byte("null"), shapes.CreateGameSessionInput{}},
		{"JSON with unknown member", protoJSON, []byte(`{"FleetId":"f","FutureMember":{"a":[1]}}`),
			shapes.CreateGameSessionInput{FleetId: aws.String("f")}},
		{"JSON integer", protoJSON, []byte(`{"MaximumPlayerSessionCount": 10}`),
			shapes.CreateGameSessionInput{MaximumPlayerSessionCount: aws.Int32(10)}},
		{"empty CBOR body", protoCBOR, nil, shapes.CreateGameSessionInput{}},
		{"CBOR empty map", protoCBOR, []byte{0xa0}, shapes.CreateGameSessionInput{}},
		{"CBOR indefinite-length map, list and string", protoCBOR, indefiniteCBOR(),
			shapes.CreateGameSessionInput{
				FleetId:                   aws.String("fleet-1"),
				MaximumPlayerSessionCount: aws.Int32(10),
				GameProperties:            []shapes.GameProperty{{Key: aws.String("mode"), Value: aws.String("ctf")}},
			}},
		{"CBOR null member", protoCBOR, []byte{0xa1, 0x67, 'F', 'l', 'e', 'e', 't', 'I', 'd', 0xf6}, shapes.CreateGameSessionInput{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &countingService{}
			res := do(t, newTestHandler(t, svc, testNow), request{proto: tt.proto, op: "CreateGameSession", body: tt.body}.build(t))
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.raw)
			}
			got := svc.last.Load()
			if string(mustJSON(t, got)) != string(mustJSON(t, &tt.want)) {
				t.Errorf("decoded %s; want %s", mustJSON(t, got), mustJSON(t, &tt.want))
			}
		})
	}
}

// indefiniteCBOR is CreateGameSession input written with indefinite-length
// items throughout, which Smithy allows and Go never sends.
func indefiniteCBOR() []byte {
	var b []byte
	text := func(s string) {
		if len(s) < 24 {
			b = append(b, 0x60|byte(len(s)))
		} else {
			b = append(b, 0x78, byte(len(s)))
		}
		b = append(b, s...)
	}
	b = append(b, 0xbf) // map, indefinite
	text("FleetId")
	b = append(b, 0x7f) // text, indefinite, in two chunks
	text("fleet")
	text("-1")
	b = append(b, 0xff)
	text("MaximumPlayerSessionCount")
	b = append(b, 0x0a)
	text("GameProperties")
	b = append(b, 0x9f, 0xbf) // list, indefinite; map, indefinite
	text("Key")
	text("mode")
	text("Value")
	text("ctf")
	b = append(b, 0xff, 0xff, 0xff)
	return b
}
