package load_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/openlift/openlift/internal/load"
)

// TestRunAgainstServe builds openlift, runs a short load against a real serve
// child and its echo baseline, and checks that the numbers agree with each
// other and with what the server stored.
func TestRunAgainstServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds openlift and runs two child processes")
	}
	bin := filepath.Join(t.TempDir(), "openlift")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/openlift/openlift/cmd/openlift").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Few sessions so the pool goes round and recycling is exercised.
	rep, err := load.Run(ctx, load.Config{
		Bin: bin, Credentials: aws.Credentials{AccessKeyID: "AKIDLOADTEST00000001", SecretAccessKey: "load-test-secret"},
		Duration: time.Second, Concurrency: 8, Processes: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())

	tg, v := rep.Target, rep.Validation
	if tg.Successes == 0 || tg.Requests != tg.Successes || len(tg.Errors) != 0 {
		t.Errorf("target: %d requests, %d ok, errors %v", tg.Requests, tg.Successes, tg.Errors)
	}
	if !(tg.P50 > 0 && tg.P50 <= tg.P90 && tg.P90 <= tg.P99 && tg.P99 <= tg.Max) {
		t.Errorf("target latencies out of order: p50 %v p90 %v p99 %v max %v", tg.P50, tg.P90, tg.P99, tg.Max)
	}
	if !v.OK || v.Reservations != tg.Successes || v.Reservations-v.Removed != v.CurrentPlayerSessions || v.MaxCurrent > load.Slots || v.GameSessions != 4 {
		t.Errorf("validation: %+v", *v)
	}
	if tg.Successes > 4*load.Slots && v.Removed == 0 {
		t.Errorf("%d reservations on %d slots without recycling", tg.Successes, 4*load.Slots)
	}
	if tg.Memory == nil || tg.Memory.Before.RSS <= 0 || tg.Memory.After.RSS <= 0 {
		t.Errorf("server memory not read: %+v", tg.Memory)
	}
	b := rep.Baseline
	if b == nil || b.Successes == 0 || b.Requests != b.Successes {
		t.Fatalf("baseline: %+v", b)
	}
	if rep.ThroughputRatio <= 0 {
		t.Errorf("throughput ratio %v", rep.ThroughputRatio)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil || !bytes.Contains(js.Bytes(), []byte(`"ops_per_second"`)) {
		t.Errorf("JSON report: %v\n%s", err, js.String())
	}
}
