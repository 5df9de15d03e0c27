package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// The benchmarks run each operation from many goroutines at once, as the API
// server would, and report throughput and latency percentiles alongside
// ns/op. Sub-benchmark names give the number of concurrent callers; group
// commit only pays off with several. UpdateNoop (no writes, so COMMIT does not
// fsync) is the floor set by queueing and batching; UpdatePut writes one row,
// like a reservation without the conditional UPDATE.

var benchParallelism = []int{1, 8, 64} // × GOMAXPROCS goroutines

func BenchmarkReservePlayerSessions(b *testing.B) {
	benchParallel(b, func(b *testing.B, s *Store) func(i int64) error {
		// Enough sessions that none fills up: each gets at most ~100 of the
		// 200 slots.
		n := 1000 + b.N/100
		ids := make([]string, n)
		now := time.Now().UTC()
		for lo := 0; lo < n; lo += 500 {
			err := s.Update(context.Background(), func(tx store.Tx) error {
				for i := lo; i < min(lo+500, n); i++ {
					ids[i] = "gsess-" + strconv.Itoa(i)
					g := model.GameSession{ID: ids[i], FleetID: "fleet-1", Location: "custom-a",
						Status: model.GameSessionActive, PlayerSessionCreationPolicy: model.AcceptAll,
						MaximumPlayerSessionCount: model.MaxPlayersPerGameSession, CreationTime: now,
						IPAddress: "10.0.0.1", Port: 7777, GameProperties: []model.GameProperty{{Key: "mode", Value: "ctf"}}}
					if err := tx.InsertGameSession(g); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		return func(i int64) error {
			gs := ids[i%int64(n)]
			_, err := s.ReservePlayerSessions(context.Background(), gs, []model.PlayerSession{{
				ID: "psess-" + strconv.FormatInt(i, 10), PlayerID: "player-" + strconv.FormatInt(i, 10),
				FleetID: "fleet-1", CreationTime: now, IPAddress: "10.0.0.1", Port: 7777,
			}})
			return err
		}
	})
}

func BenchmarkUpdateNoop(b *testing.B) {
	benchParallel(b, func(b *testing.B, s *Store) func(i int64) error {
		noop := func(store.Tx) error { return nil }
		return func(int64) error { return s.Update(context.Background(), noop) }
	})
}

func BenchmarkUpdatePut(b *testing.B) {
	benchParallel(b, func(b *testing.B, s *Store) func(i int64) error {
		now := time.Now().UTC()
		return func(i int64) error {
			p := model.PlayerSession{ID: "psess-" + strconv.FormatInt(i, 10), PlayerID: "p", GameSessionID: "gsess-1",
				Status: model.PlayerSessionReserved, CreationTime: now}
			return s.Update(context.Background(), func(tx store.Tx) error { return tx.PutPlayerSession(p) })
		}
	})
}

func BenchmarkViewGetGameSession(b *testing.B) {
	benchParallel(b, func(b *testing.B, s *Store) func(i int64) error {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			return tx.InsertGameSession(model.GameSession{ID: "gsess-1", Status: model.GameSessionActive,
				PlayerSessionCreationPolicy: model.AcceptAll, MaximumPlayerSessionCount: 10, CreationTime: time.Now().UTC()})
		})
		if err != nil {
			b.Fatal(err)
		}
		return func(int64) error {
			return s.View(context.Background(), func(tx store.Tx) error {
				_, err := tx.GetGameSession("gsess-1")
				return err
			})
		}
	})
}

// benchParallel opens a fresh store per sub-benchmark, lets setup prepare it
// and return the operation, then runs the operation under b.RunParallel.
func benchParallel(b *testing.B, setup func(b *testing.B, s *Store) func(i int64) error) {
	for _, par := range benchParallelism {
		b.Run(fmt.Sprintf("callers=%d", par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			op := setup(b, s)
			var (
				next   atomic.Int64
				mu     sync.Mutex
				all    = make([]time.Duration, 0, b.N)
				before = s.txs.Load()
			)
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				lat := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					if err := op(next.Add(1)); err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Since(t0))
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if len(all) == 0 {
				return
			}
			slices.Sort(all)
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
			if txs := s.txs.Load() - before; txs > 0 {
				b.ReportMetric(float64(len(all))/float64(txs), "ops/tx")
			}
		})
	}
}
