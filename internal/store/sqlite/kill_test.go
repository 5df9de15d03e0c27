package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// TestKill9 checks the durability promise end to end: a child process (this
// test binary again) writes as fast as it can and prints each write once it is
// acknowledged; the parent SIGKILLs it mid-stream, reopens the file, and
// every acknowledged write must be there, with reservation counts matching
// the player sessions stored.
//
// kill -9 loses the process but not the OS page cache, so this proves that
// acknowledgements follow COMMIT; surviving power loss additionally relies on
// synchronous=FULL, which TestPragmasAndSchemaVersion checks.

const childEnv = "OPENLIFT_SQLITE_KILL_CHILD"

const (
	killSessions = 4
	killWriters  = 8
)

func TestKill9(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "openlift.db")
	s := openTest(t, path)
	for i := range killSessions {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			return tx.InsertGameSession(model.GameSession{ID: fmt.Sprintf("gsess-%d", i), FleetID: "fleet-1",
				Status: model.GameSessionActive, PlayerSessionCreationPolicy: model.AcceptAll,
				MaximumPlayerSessionCount: 1 << 30, CreationTime: time.Now().UTC()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var (
		fleets   []string
		sessions = map[string][]string{} // game session → acknowledged player sessions
		mu       sync.Mutex
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a torn last line (no '\n') is not an acknowledgement
			}
			f := strings.Fields(line)
			mu.Lock()
			switch {
			case len(f) == 3 && f[0] == "ACK" && f[1] == "U":
				fleets = append(fleets, f[2])
			case len(f) >= 4 && f[0] == "ACK" && f[1] == "R":
				sessions[f[2]] = append(sessions[f[2]], f[3:]...)
			}
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-readDone
	_ = cmd.Wait()

	mu.Lock()
	defer mu.Unlock()
	nReserved := 0
	for _, ps := range sessions {
		nReserved += len(ps)
	}
	t.Logf("child acknowledged %d updates and %d player sessions before SIGKILL", len(fleets), nReserved)
	if len(fleets) < 10 || nReserved < 10 {
		t.Fatalf("too few acknowledgements to prove anything; child stderr:\n%s", stderr.String())
	}

	s = openTest(t, path)
	defer s.Close()
	err = s.View(context.Background(), func(tx store.Tx) error {
		for _, id := range fleets {
			if _, err := tx.GetFleet(id); err != nil {
				t.Errorf("acknowledged fleet %s: %v", id, err)
			}
			if evs, err := tx.ListEvents(id, time.Time{}, time.Time{}); err != nil || len(evs) != 1 {
				t.Errorf("event written with fleet %s: %d, %v", id, len(evs), err)
			}
		}
		for _, acked := range sessions {
			for _, id := range acked {
				if _, err := tx.GetPlayerSession(id); err != nil {
					t.Errorf("acknowledged player session %s: %v", id, err)
				}
			}
		}
		for i := range killSessions {
			id := fmt.Sprintf("gsess-%d", i)
			g, err := tx.GetGameSession(id)
			if err != nil {
				return err
			}
			stored, err := tx.ListPlayerSessions(store.PlayerSessionFilter{GameSessionID: id})
			if err != nil {
				return err
			}
			// Writes that committed but were not yet printed may add to both
			// sides, but count and rows move together.
			if int(g.CurrentPlayerSessionCount) != len(stored) || len(stored) < len(sessions[id]) {
				t.Errorf("%s: count %d, %d player sessions stored, %d acknowledged",
					id, g.CurrentPlayerSessionCount, len(stored), len(sessions[id]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// killChild writes until it is killed, printing each acknowledged write.
func killChild(path string) {
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	var outMu sync.Mutex
	ack := func(format string, args ...any) {
		// One write per line: a kill can then only cut the line short, which
		// the parent ignores, never interleave two.
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		_, _ = io.WriteString(os.Stdout, line)
		outMu.Unlock()
	}
	deadline := time.Now().Add(30 * time.Second) // in case the parent died
	var wg sync.WaitGroup
	for w := range killWriters {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				if i%2 == 0 {
					id := fmt.Sprintf("fleet-%d-%d", w, i)
					err := s.Update(context.Background(), func(tx store.Tx) error {
						now := time.Now().UTC()
						if err := tx.InsertFleet(model.Fleet{ID: id, CreationTime: now}); err != nil {
							return err
						}
						return tx.InsertEvent(model.Event{ID: "ev-" + id, ResourceID: id, Time: now})
					})
					if err != nil {
						fmt.Fprintln(os.Stderr, "child: update:", err)
						os.Exit(2)
					}
					ack("ACK U %s", id)
					continue
				}
				gs := fmt.Sprintf("gsess-%d", (w+i)%killSessions)
				a, b := fmt.Sprintf("psess-%d-%d-a", w, i), fmt.Sprintf("psess-%d-%d-b", w, i)
				_, err := s.ReservePlayerSessions(context.Background(), gs, []model.PlayerSession{
					{ID: a, PlayerID: "p", CreationTime: time.Now().UTC()},
					{ID: b, PlayerID: "p", CreationTime: time.Now().UTC()},
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: reserve:", err)
					os.Exit(2)
				}
				ack("ACK R %s %s %s", gs, a, b)
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
