package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/shapes"
)

// fixture is one captured client request (shared/fixtures/README.md).
type fixture struct {
	file           string
	Client         string            `json:"client"`
	Operation      string            `json:"operation"`
	Protocol       string            `json:"protocol"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	Headers        map[string]string `json:"headers"`
	HeaderLines    [][2]string       `json:"header_lines_as_received"`
	BodyBase64     string            `json:"body_base64"`
	ExpectedParams map[string]any    `json:"expected_params"`
	AccessKeyID    string            `json:"access_key_id"`
	SecretKey      string            `json:"secret_access_key"`
	SignedAt       string            `json:"signed_at"`
	Expect         string            `json:"expect"`
	body           []byte
}

func (f *fixture) proto() protocol {
	if f.Protocol == "rpcv2Cbor" {
		return protoCBOR
	}
	return protoJSON
}

func (f *fixture) signedAt(t *testing.T) time.Time {
	at, err := time.Parse(amzDateLayout, f.SignedAt)
	if err != nil {
		t.Fatalf("%s: signed_at: %v", f.file, err)
	}
	return at
}

// request rebuilds the captured request as net/http would hand it to a handler.
func (f *fixture) request() *http.Request {
	r := httptest.NewRequest(f.Method, f.Path, bytes.NewReader(f.body))
	r.Header = http.Header{}
	for k, v := range f.Headers {
		r.Header.Set(k, v)
	}
	r.Host = f.Headers["host"]
	r.Header.Del("Host")
	return r
}

// raw renders the request exactly as the client put it on the wire, so that it
// can also go through a real net/http server.
func (f *fixture) raw() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", f.Method, f.Path)
	for _, l := range f.HeaderLines {
		fmt.Fprintf(&b, "%s: %s\r\n", l[0], l[1])
	}
	b.WriteString("\r\n")
	b.Write(f.body)
	return b.Bytes()
}

func loadFixtures(t *testing.T) (valid, tampered []*fixture) {
	t.Helper()
	dir := filepath.Join(findSharedFixtures(t), "control-plane")
	load := func(pattern string) []*fixture {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		var out []*fixture
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{file: filepath.Base(file)}
			if err := json.Unmarshal(raw, f); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if f.body, err = base64.StdEncoding.DecodeString(f.BodyBase64); err != nil {
				t.Fatalf("%s: body_base64: %v", file, err)
			}
			out = append(out, f)
		}
		return out
	}
	valid = load("*.json")
	tampered = load(filepath.Join("tampered", "*.json"))
	// The README promises 28 captures and 3 tampered copies; fewer means the
	// glob or the tree is wrong and the test would pass on nothing.
	if len(valid) < 28 || len(tampered) < 3 {
		t.Fatalf("found %d valid and %d tampered fixtures in %s; want 28 and 3", len(valid), len(tampered), dir)
	}
	return valid, tampered
}

// recorder implements the operations the fixtures call and keeps the decoded
// input of the last call.
type recorder struct {
	mu    sync.Mutex
	op    string
	in    any
	keyID string
}

func (s *recorder) record(ctx context.Context, op string, in any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.op, s.in, s.keyID = op, in, AccessKeyID(ctx)
}

func (s *recorder) last() (string, any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, in, key := s.op, s.in, s.keyID
	s.op, s.in, s.keyID = "", nil, ""
	return op, in, key
}

func (s *recorder) CreateFleet(ctx context.Context, in *shapes.CreateFleetInput) (*shapes.CreateFleetOutput, error) {
	s.record(ctx, "CreateFleet", in)
	return &shapes.CreateFleetOutput{}, nil
}

func (s *recorder) CreateGameSession(ctx context.Context, in *shapes.CreateGameSessionInput) (*shapes.CreateGameSessionOutput, error) {
	s.record(ctx, "CreateGameSession", in)
	return &shapes.CreateGameSessionOutput{}, nil
}

func (s *recorder) CreatePlayerSession(ctx context.Context, in *shapes.CreatePlayerSessionInput) (*shapes.CreatePlayerSessionOutput, error) {
	s.record(ctx, "CreatePlayerSession", in)
	return &shapes.CreatePlayerSessionOutput{}, nil
}

func (s *recorder) CreatePlayerSessions(ctx context.Context, in *shapes.CreatePlayerSessionsInput) (*shapes.CreatePlayerSessionsOutput, error) {
	s.record(ctx, "CreatePlayerSessions", in)
	return &shapes.CreatePlayerSessionsOutput{}, nil
}

func (s *recorder) DescribePlayerSessions(ctx context.Context, in *shapes.DescribePlayerSessionsInput) (*shapes.DescribePlayerSessionsOutput, error) {
	s.record(ctx, "DescribePlayerSessions", in)
	return &shapes.DescribePlayerSessionsOutput{}, nil
}

func (s *recorder) ListFleets(ctx context.Context, in *shapes.ListFleetsInput) (*shapes.ListFleetsOutput, error) {
	s.record(ctx, "ListFleets", in)
	return &shapes.ListFleetsOutput{}, nil
}

func (s *recorder) RegisterCompute(ctx context.Context, in *shapes.RegisterComputeInput) (*shapes.RegisterComputeOutput, error) {
	s.record(ctx, "RegisterCompute", in)
	return &shapes.RegisterComputeOutput{}, nil
}

func newFixtureHandler(t *testing.T, svc any, f *fixture) http.Handler {
	t.Helper()
	h, err := NewHandler(Config{
		Service:     svc,
		Credentials: staticCreds{f.AccessKeyID: f.SecretKey},
		Clock:       clock.NewFake(f.signedAt(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// asParams turns a decoded input into the same generic form as
// expected_params, so values are compared rather than bytes or key order.
func asParams(t *testing.T, in any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustJSON(t, in), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFixturesValid(t *testing.T) {
	valid, _ := loadFixtures(t)
	for _, f := range valid {
		t.Run(f.file, func(t *testing.T) {
			if f.Expect != "valid" {
				t.Fatalf("expect %q outside tampered/", f.Expect)
			}
			svc := &recorder{}
			h := newFixtureHandler(t, svc, f)

			check := func(t *testing.T, res response) {
				t.Helper()
				if res.status != http.StatusOK {
					t.Fatalf("status %d; body %s", res.status, res.raw)
				}
				checkEnvelope(t, res, f.proto())
				op, in, key := svc.last()
				if op != f.Operation {
					t.Fatalf("service saw operation %q; want %q", op, f.Operation)
				}
				if key != f.AccessKeyID {
					t.Errorf("AccessKeyID(ctx) = %q; want %q", key, f.AccessKeyID)
				}
				if got := asParams(t, in); !reflect.DeepEqual(got, f.ExpectedParams) {
					t.Errorf("decoded params\n got %v\nwant %v", got, f.ExpectedParams)
				}
			}

			t.Run("handler", func(t *testing.T) {
				check(t, do(t, h, f.request()))
			})
			t.Run("wire", func(t *testing.T) {
				check(t, sendRaw(t, h, f.raw()))
			})
			t.Run("clock-skew", func(t *testing.T) {
				// The same capture sixteen minutes later must be refused, which
				// shows the fixture passes because of the frozen clock and not
				// despite it.
				h, err := NewHandler(Config{
					Service:     svc,
					Credentials: staticCreds{f.AccessKeyID: f.SecretKey},
					Clock:       clock.NewFake(f.signedAt(t).Add(16 * time.Minute)),
				})
				if err != nil {
					t.Fatal(err)
				}
				res := do(t, h, f.request())
				checkError(t, res, f.proto(), http.StatusForbidden, "InvalidSignatureException")
				if msg, _ := res.body["message"].(string); !strings.HasPrefix(msg, "Signature expired: "+f.SignedAt) {
					t.Errorf("message %q", msg)
				}
			})
		})
	}
}

func TestFixturesTampered(t *testing.T) {
	_, tampered := loadFixtures(t)
	for _, f := range tampered {
		t.Run(f.file, func(t *testing.T) {
			if f.Expect != "InvalidSignatureException" {
				t.Fatalf("expect %q in tampered/", f.Expect)
			}
			svc := &recorder{}
			h := newFixtureHandler(t, svc, f)
			for name, res := range map[string]func() response{
				"handler": func() response { return do(t, h, f.request()) },
				"wire":    func() response { return sendRaw(t, h, f.raw()) },
			} {
				checkError(t, res(), f.proto(), http.StatusForbidden, "InvalidSignatureException")
				if op, _, _ := svc.last(); op != "" {
					t.Errorf("%s: tampered request reached the service (%s)", name, op)
				}
			}
		})
	}
}

// sendRaw writes raw to a real net/http server running h and reads the reply,
// so header handling (Host, Content-Length, canonicalised names) is net/http's
// own.
func sendRaw(t *testing.T, h http.Handler, raw []byte) response {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResponse(t, res)
}
