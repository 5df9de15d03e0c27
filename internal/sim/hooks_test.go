package sim_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sim"
)

// A game that brings its own player protocol (ServePlayers) and activates its
// game session itself from OnStartGameSession, as a game on the SDK does.
func TestSimGameHooks(t *testing.T) {
	svc := newService(t)
	cfg := svc.config(t)
	cfg.WithholdActivation = true

	var (
		mu         sync.Mutex
		started    []sdkmsg.GameSession
		servedLn   net.Listener
		serveEnded atomic.Bool
	)
	cfg.OnStartGameSession = func(ctx context.Context, p *sim.Process, gs sdkmsg.GameSession) {
		mu.Lock()
		started = append(started, gs)
		mu.Unlock()
		// The session must already be the process's current one, or the
		// game could not activate it from here.
		if err := p.ActivateGameSession(ctx); err != nil {
			t.Errorf("ActivateGameSession from OnStartGameSession: %v", err)
		}
	}
	cfg.ServePlayers = func(ctx context.Context, p *sim.Process, ln net.Listener) {
		defer serveEnded.Store(true)
		mu.Lock()
		servedLn = ln
		mu.Unlock()
		var wg sync.WaitGroup
		defer wg.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				stop := context.AfterFunc(ctx, func() { c.Close() })
				defer stop()
				fmt.Fprintf(c, "GAME %s\n", p.ID())
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "ECHO %s\n", sc.Text())
				}
			})
		}
	}
	s, cancel := start(t, cfg)
	p := s.Processes()[0]
	waitReady(t, p)

	asp := svc.callsFor(p.ID(), sdkmsg.ActionActivateServerProcess)
	mu.Lock()
	ln := servedLn
	mu.Unlock()
	if ln == nil || ln.Addr().(*net.TCPAddr).Port != p.Port() {
		t.Fatalf("ServePlayers got listener %v, process port %d", ln, p.Port())
	}
	if len(asp) != 1 || asp[0].Req.(sdkmsg.ActivateServerProcess).Port != p.Port() {
		t.Errorf("ActivateServerProcess %+v, want port %d", asp, p.Port())
	}

	// The game's protocol answers on the port, not the simulator's.
	pl := dialPlayer(t, p)
	if want := "GAME " + p.ID(); pl.greeting != want {
		t.Errorf("greeting %q, want %q", pl.greeting, want)
	}
	expectLine(t, pl, "session", "ECHO session")

	if !eventually(waitLong, p.GameSessionActivated) {
		t.Fatal("game session not activated")
	}
	mu.Lock()
	if len(started) != 1 || started[0].GameSessionId != gameSessionID(p.ID()) || started[0].FleetId != fleet || started[0].Port != p.Port() {
		t.Errorf("OnStartGameSession calls %+v", started)
	}
	mu.Unlock()
	if got := svc.callsFor(p.ID(), sdkmsg.ActionActivateGameSession); len(got) != 1 {
		t.Errorf("%d ActivateGameSession calls, want 1 (the game's own)", len(got))
	}

	// Stopping waits for ServePlayers, which closes its players.
	cancel()
	waitDone(t, p)
	if !serveEnded.Load() {
		t.Error("process ended before ServePlayers returned")
	}
	_ = pl.c.SetReadDeadline(time.Now().Add(waitLong))
	if line, err := pl.r.ReadString('\n'); err == nil {
		t.Errorf("player connection still open after the process ended: read %q", line)
	}
}
