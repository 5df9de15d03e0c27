package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/openlift/openlift/internal/shapes"
)

// benchService answers CreatePlayerSession with a typical player session, so
// the benchmark measures the transport around a realistic output.
type benchService struct{ ps shapes.PlayerSession }

func newBenchService() *benchService {
	s := func(v string) *string { return &v }
	port := int32(7777)
	return &benchService{ps: shapes.PlayerSession{
		CreationTime:    shapes.NewTimestamp(testNow),
		DnsName:         s("gs-1.example.internal"),
		FleetArn:        s("arn:aws:gamelift:us-west-2:000000000000:fleet/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab"),
		FleetId:         s("fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab"),
		GameSessionId:   s("arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab/gsess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
		IpAddress:       s("192.0.2.10"),
		PlayerId:        s("player-1"),
		PlayerSessionId: s("psess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
		Port:            &port,
		Status:          "RESERVED",
	}}
}

func (s *benchService) CreatePlayerSession(ctx context.Context, in *shapes.CreatePlayerSessionInput) (*shapes.CreatePlayerSessionOutput, error) {
	ps := s.ps
	ps.PlayerData = in.PlayerData
	return &shapes.CreatePlayerSessionOutput{PlayerSession: &ps}, nil
}

// discardWriter is a ResponseWriter that keeps nothing, so the numbers are the
// handler's own.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// rewindBody lets one request be served again and again.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// benchSetup returns a handler and a signed CreatePlayerSession body in
// protocol p.
func benchSetup(b *testing.B, p protocol) (http.Handler, *http.Request, []byte) {
	in := map[string]string{
		"GameSessionId": "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab/gsess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		"PlayerId":      "player-1",
		"PlayerData":    `{"rank":7}`,
	}
	body := mustJSON(b, in)
	if p == protoCBOR {
		body = mustCBOR(b, in)
	}
	r := request{proto: p, op: "CreatePlayerSession", body: body}.build(b)
	h, err := NewHandler(Config{
		Service:     newBenchService(),
		Credentials: testCreds,
		Clock:       fakeAt(testNow),
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	return h, r, body
}

func benchmarkHandler(b *testing.B, p protocol) {
	h, r, body := benchSetup(b, p)
	rb := &rewindBody{}
	r.Body = rb
	w := &discardWriter{h: http.Header{}}

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rb.Reset(body)
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func BenchmarkHandlerCBOR(b *testing.B) { benchmarkHandler(b, protoCBOR) }

func BenchmarkHandlerJSON(b *testing.B) { benchmarkHandler(b, protoJSON) }

// BenchmarkHandlerCBORParallel shows the handler scales across cores: the
// caches and pools it shares between requests must not serialise them.
func BenchmarkHandlerCBORParallel(b *testing.B) {
	h, r0, body := benchSetup(b, protoCBOR)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rb := &rewindBody{}
		r := r0.Clone(context.Background())
		r.Body = rb
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			rb.Reset(body)
			clear(w.h)
			h.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}
