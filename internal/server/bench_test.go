package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/openlift/openlift/internal/server"
	"github.com/openlift/openlift/internal/sim"
)

// The CreatePlayerSession path end to end: the real aws-sdk-go-v2 client over
// CBOR, SigV4, the core, the SQLite store with group commit, against game
// sessions hosted by simulated processes. BenchmarkHTTPFloor measures, in the
// same run, what this machine's HTTP stack does with an empty handler, so the
// two numbers can be compared.

const benchKey, benchSecret = "AKIDBENCH000000000001", "bench-secret-key-0000000000000000000000"

type benchEnv struct {
	client *gamelift.Client
	fleet  string
	loc    string
	srv    *server.Server
}

func startBench(b *testing.B, processes int) *benchEnv {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: b.TempDir(), Region: "us-west-2", AccountID: "123456789012",
		AdminAccessKeyID: benchKey, AdminSecretAccessKey: benchSecret, Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	client := gamelift.New(gamelift.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: benchKey, SecretAccessKey: benchSecret}, nil
		}),
		HTTPClient:       &http.Client{Transport: tr},
		RetryMaxAttempts: 1,
	})
	e := &benchEnv{client: client, loc: "custom-bench", srv: srv}
	if _, err := client.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: &e.loc}); err != nil {
		b.Fatal(err)
	}
	f, err := client.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String("bench"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: &e.loc}}})
	if err != nil {
		b.Fatal(err)
	}
	e.fleet = *f.FleetAttributes.FleetId
	c, err := client.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: &e.fleet, ComputeName: aws.String("bench-host"), IpAddress: aws.String("127.0.0.1"), Location: &e.loc})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := client.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &e.fleet, ComputeName: aws.String("bench-host")})
	if err != nil {
		b.Fatal(err)
	}
	var ready sync.WaitGroup
	ready.Add(processes)
	_, err = sim.Start(ctx, sim.Config{
		WebSocketURL: *c.Compute.GameLiftServiceSdkEndpoint, FleetID: e.fleet, HostID: "bench-host", AuthToken: *tok.AuthToken,
		Count: processes, Logger: quiet, OnReady: func(*sim.Process) { ready.Done() },
	})
	if err != nil {
		b.Fatal(err)
	}
	ready.Wait()
	return e
}

// gameSessions creates n ACTIVE game sessions of 200 slots.
func (e *benchEnv) gameSessions(b *testing.B, n int) []string {
	ctx := context.Background()
	ids := make([]string, 0, n)
	for range n {
		out, err := e.client.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: &e.fleet, Location: &e.loc, MaximumPlayerSessionCount: aws.Int32(200)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, *out.GameSession.GameSessionId)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			out, err := e.client.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: aws.String(id)})
			if err != nil {
				b.Fatal(err)
			}
			if out.GameSessions[0].Status == types.GameSessionStatusActive {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("game session %s not ACTIVE", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return ids
}

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(l.all[len(l.all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.all[len(l.all)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkCreatePlayerSession(b *testing.B) {
	for _, par := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", par*2), func(b *testing.B) {
			// 60 processes x 200 slots bounds one run at 12,000 reservations;
			// b.N beyond that is a benchmark configuration error.
			e := startBench(b, 60)
			sessions := e.gameSessions(b, 60)
			var next atomic.Int64
			var lat latencies
			b.SetParallelism(par)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				var mine []time.Duration
				for pb.Next() {
					n := next.Add(1) - 1
					gs := sessions[int(n/200)%len(sessions)]
					t := time.Now()
					_, err := e.client.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: &gs, PlayerId: aws.String("p")})
					mine = append(mine, time.Since(t))
					var full *types.GameSessionFullException
					if err != nil && !errors.As(err, &full) {
						b.Error(err)
						return
					}
				}
				lat.add(mine)
			})
			lat.report(b, time.Since(start))
		})
	}
}

// BenchmarkHTTPFloor is the baseline: the same HTTP client and loopback, an
// empty handler, a CBOR-sized request body.
func BenchmarkHTTPFloor(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/cbor")
		w.Write(bytes.Repeat([]byte{0xa0}, 1))
	}))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: tr}
	body := bytes.Repeat([]byte("x"), 200)
	for _, par := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", par*2), func(b *testing.B) {
			var lat latencies
			b.SetParallelism(par)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t := time.Now()
					resp, err := client.Post(srv.URL+"/service/GameLift/operation/CreatePlayerSession", "application/cbor", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(t))
				}
				lat.add(mine)
			})
			lat.report(b, time.Since(start))
		})
	}
}
