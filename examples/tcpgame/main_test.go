package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/openlift/openlift/internal/server"
)

// These tests run the game as players and operators meet it: the game is
// built and started as its own OS process with the GAMELIFT_SDK_* variables,
// against a real openlift service driven with the aws-sdk-go-v2 client, and
// players talk to it over TCP.

const (
	accessKeyID = "AKIDTCPGAME000000001"
	secretKey   = "tcpgame-secret-key-000000000000000000000"
	region      = "us-west-2"
	waitLong    = 10 * time.Second
)

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	var err error
	binDir, err = os.MkdirTemp("", "tcpgame-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// gameBinary builds this package once, as a studio builds its game server.
func gameBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "tcpgame")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is an openlift service with an Anywhere fleet and one compute: what
// an operator sets up before starting game servers.
type fixture struct {
	ctx                  context.Context
	gl                   *gamelift.Client
	fleetID, loc, sdkURL string
	compute, token       string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	logs := &syncBuffer{}
	srv, err := server.New(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: region,
		AdminAccessKeyID: accessKeyID, AdminSecretAccessKey: secretKey,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("openlift log:\n%s", logs)
		}
	})

	f := &fixture{ctx: ctx, loc: "custom-tcpgame", compute: "host-1"}
	f.gl = gamelift.New(gamelift.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretKey}, nil
		}),
	})
	if _, err := f.gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: &f.loc}); err != nil {
		t.Fatal(err)
	}
	fl, err := f.gl.CreateFleet(ctx, &gamelift.CreateFleetInput{
		Name: aws.String("tcpgame"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: &f.loc}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.fleetID = aws.ToString(fl.FleetAttributes.FleetId)
	rc, err := f.gl.RegisterCompute(ctx, &gamelift.RegisterComputeInput{
		FleetId: &f.fleetID, ComputeName: &f.compute, IpAddress: aws.String("127.0.0.1"), Location: &f.loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sdkURL = aws.ToString(rc.Compute.GameLiftServiceSdkEndpoint)
	tok, err := f.gl.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &f.fleetID, ComputeName: &f.compute})
	if err != nil {
		t.Fatal(err)
	}
	f.token = aws.ToString(tok.AuthToken)
	return f
}

// gameProc is one running game server process.
type gameProc struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	logFile string
	done    chan struct{}
	err     error // from Wait, once done is closed
}

// startGame launches the game with the environment the host agent gives it,
// and waits until it can host a game session.
func (f *fixture) startGame(t *testing.T, processID string) *gameProc {
	t.Helper()
	dir := t.TempDir()
	g := &gameProc{out: &syncBuffer{}, logFile: filepath.Join(dir, "game.log"), done: make(chan struct{})}
	g.cmd = exec.Command(gameBinary(t), "-host", "127.0.0.1", "-port", "0", "-log-file", g.logFile)
	g.cmd.Dir = dir
	g.cmd.Env = append(os.Environ(),
		"GAMELIFT_SDK_WEBSOCKET_URL="+f.sdkURL,
		"GAMELIFT_SDK_FLEET_ID="+f.fleetID,
		"GAMELIFT_SDK_HOST_ID="+f.compute,
		"GAMELIFT_SDK_AUTH_TOKEN="+f.token,
		"GAMELIFT_SDK_PROCESS_ID="+processID,
	)
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		g.err = g.cmd.Wait()
		close(g.done)
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			g.cmd.Process.Kill()
			<-g.done
		}
		if t.Failed() {
			t.Logf("game output:\n%s", g.out)
		}
	})
	// The game logs this once openlift may place a game session on it.
	waitFor(t, "the game to be ready", func() error {
		select {
		case <-g.done:
			t.Fatalf("the game exited before it was ready: %v", g.err)
		default:
		}
		if !strings.Contains(g.out.String(), `msg="ready to host a game session" processId=`+processID) {
			return errors.New("no ready line on stdout")
		}
		return nil
	})
	return g
}

// exitedCleanly waits for the game to exit and checks that it exited 0.
func (g *gameProc) exitedCleanly(t *testing.T) {
	t.Helper()
	select {
	case <-g.done:
	case <-time.After(waitLong):
		t.Fatal("the game did not exit")
	}
	if g.err != nil {
		t.Errorf("the game exited with %v, want exit status 0", g.err)
	}
}

func (g *gameProc) running() bool {
	select {
	case <-g.done:
		return false
	default:
		return true
	}
}

func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) gameSession(t *testing.T, id string) types.GameSession {
	t.Helper()
	out, err := f.gl.DescribeGameSessions(f.ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: &id})
	if err != nil || len(out.GameSessions) != 1 {
		t.Fatalf("DescribeGameSessions %s: %v (%d sessions)", id, err, len(out.GameSessions))
	}
	return out.GameSessions[0]
}

func (f *fixture) playerSession(t *testing.T, id string) types.PlayerSession {
	t.Helper()
	out, err := f.gl.DescribePlayerSessions(f.ctx, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: &id})
	if err != nil || len(out.PlayerSessions) != 1 {
		t.Fatalf("DescribePlayerSessions %s: %v", id, err)
	}
	return out.PlayerSessions[0]
}

func (f *fixture) waitGameSession(t *testing.T, id string, want types.GameSessionStatus) types.GameSession {
	t.Helper()
	var gs types.GameSession
	waitFor(t, "game session "+string(want), func() error {
		if gs = f.gameSession(t, id); gs.Status != want {
			return fmt.Errorf("status %s (%s)", gs.Status, gs.StatusReason)
		}
		return nil
	})
	return gs
}

func (f *fixture) waitPlayerSession(t *testing.T, id string, want types.PlayerSessionStatus) {
	t.Helper()
	waitFor(t, "player session "+string(want), func() error {
		if got := f.playerSession(t, id).Status; got != want {
			return fmt.Errorf("%s is %s", id, got)
		}
		return nil
	})
}

// newGameSession creates a game session and returns it once it is ACTIVE,
// with the address players connect to.
func (f *fixture) newGameSession(t *testing.T) (id, addr string) {
	t.Helper()
	out, err := f.gl.CreateGameSession(f.ctx, &gamelift.CreateGameSessionInput{
		FleetId: &f.fleetID, Location: &f.loc, MaximumPlayerSessionCount: aws.Int32(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	id = aws.ToString(out.GameSession.GameSessionId)
	gs := f.waitGameSession(t, id, types.GameSessionStatusActive)
	return id, net.JoinHostPort(aws.ToString(gs.IpAddress), strconv.Itoa(int(aws.ToInt32(gs.Port))))
}

func (f *fixture) newPlayerSession(t *testing.T, gameSessionID, playerID string) string {
	t.Helper()
	out, err := f.gl.CreatePlayerSession(f.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: &gameSessionID, PlayerId: &playerID})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.PlayerSession.PlayerSessionId)
	if st := f.playerSession(t, id).Status; st != types.PlayerSessionStatusReserved {
		t.Errorf("new player session %s is %s, want RESERVED", id, st)
	}
	return id
}

// client is a player's TCP connection to the game.
type client struct {
	t    *testing.T
	name string
	c    net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr, name string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLong)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, name: name, c: c, r: bufio.NewReader(c)}
	cl.expect("HELLO tcpgame: send your player session id")
	return cl
}

func (cl *client) send(line string) {
	cl.t.Helper()
	if _, err := fmt.Fprintln(cl.c, line); err != nil {
		cl.t.Fatalf("%s sending %q: %v", cl.name, line, err)
	}
}

func (cl *client) next() string {
	cl.t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(waitLong))
	line, err := cl.r.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("%s reading: %v (partial %q)", cl.name, err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

func (cl *client) expect(want string) {
	cl.t.Helper()
	if got := cl.next(); got != want {
		cl.t.Fatalf("%s got %q, want %q", cl.name, got, want)
	}
}

// expectRefused checks for an ERR line and that the game then hung up.
func (cl *client) expectRefused() {
	cl.t.Helper()
	if line := cl.next(); !strings.HasPrefix(line, "ERR ") {
		cl.t.Fatalf("%s got %q, want ERR", cl.name, line)
	}
	cl.expectHangUp()
}

func (cl *client) expectHangUp() {
	cl.t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(waitLong))
	if line, err := cl.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		cl.t.Fatalf("%s: read %q, %v; want the game to hang up", cl.name, line, err)
	}
}

func TestGame(t *testing.T) {
	f := newFixture(t)
	game := f.startGame(t, "tcpgame-1")
	gsID, addr := f.newGameSession(t)

	// Without a valid player session nobody gets in.
	stranger := dial(t, addr, "stranger")
	stranger.send("psess-00000000-0000-0000-0000-000000000000")
	stranger.expectRefused()

	alicePS := f.newPlayerSession(t, gsID, "alice")
	bobPS := f.newPlayerSession(t, gsID, "bob")
	alice := dial(t, addr, "alice")
	alice.send(alicePS)
	alice.expect("WELCOME alice 1")
	bob := dial(t, addr, "bob")
	bob.send(bobPS)
	bob.expect("WELCOME bob 2")
	alice.expect("JOIN bob")
	for _, id := range []string{alicePS, bobPS} {
		if st := f.playerSession(t, id).Status; st != types.PlayerSessionStatusActive {
			t.Errorf("player session %s is %s after joining, want ACTIVE", id, st)
		}
	}
	if n := aws.ToInt32(f.gameSession(t, gsID).CurrentPlayerSessionCount); n != 2 {
		t.Errorf("CurrentPlayerSessionCount %d, want 2", n)
	}

	// A player session gets one seat: the service refuses a second accept.
	twin := dial(t, addr, "twin")
	twin.send(alicePS)
	twin.expectRefused()

	alice.send("hello bob")
	alice.expect("SAY alice hello bob")
	bob.expect("SAY alice hello bob")

	// Alice finds the number by halving; bob sees every guess.
	lo, hi := 1, 100
	for guesses := 1; ; guesses++ {
		if guesses > 7 {
			t.Fatal("no WIN after 7 halvings of 1..100")
		}
		n := (lo + hi) / 2
		alice.send(strconv.Itoa(n))
		line := alice.next()
		if seen := bob.next(); seen != line {
			t.Fatalf("alice saw %q, bob saw %q", line, seen)
		}
		if line == fmt.Sprintf("WIN alice %d", n) {
			break
		}
		switch line {
		case fmt.Sprintf("GUESS alice %d HIGHER", n):
			lo = n + 1
		case fmt.Sprintf("GUESS alice %d LOWER", n):
			hi = n - 1
		default:
			t.Fatalf("guess %d answered %q", n, line)
		}
	}
	alice.expect("ROUND 2")
	bob.expect("ROUND 2")
	bob.send("/who")
	bob.expect("PLAYERS alice=1 bob=0")
	bob.send("101")
	bob.expect("ERR guess a number from 1 to 100")

	// Bob leaves: his player session completes and the game goes on.
	bob.send("/quit")
	bob.expect("BYE")
	bob.expectHangUp()
	alice.expect("LEAVE bob")
	f.waitPlayerSession(t, bobPS, types.PlayerSessionStatusCompleted)
	alice.send("anyone?")
	alice.expect("SAY alice anyone?")
	if gs := f.gameSession(t, gsID); gs.Status != types.GameSessionStatusActive || aws.ToInt32(gs.CurrentPlayerSessionCount) != 1 || !game.running() {
		t.Errorf("after one of two players left: game session %s with %d players, game running %v; want ACTIVE, 1, true",
			gs.Status, aws.ToInt32(gs.CurrentPlayerSessionCount), game.running())
	}

	// Alice drops her connection; the last player out ends the game.
	alice.c.Close()
	f.waitPlayerSession(t, alicePS, types.PlayerSessionStatusCompleted)
	f.waitGameSession(t, gsID, types.GameSessionStatusTerminated)
	game.exitedCleanly(t)

	logged, err := os.ReadFile(game.logFile)
	if err != nil || !strings.Contains(string(logged), gsID) {
		t.Errorf("log file %s (%v) does not name the game session:\n%s", game.logFile, err, logged)
	}
}

func TestGameEndsOnTerminateProcess(t *testing.T) {
	f := newFixture(t)
	game := f.startGame(t, "tcpgame-2")
	gsID, addr := f.newGameSession(t)
	carolPS := f.newPlayerSession(t, gsID, "carol")
	carol := dial(t, addr, "carol")
	carol.send(carolPS)
	carol.expect("WELCOME carol 1")

	// The service pushes TerminateProcess; the game says ProcessEnding, tells
	// its players and exits 0.
	_, err := f.gl.TerminateGameSession(f.ctx, &gamelift.TerminateGameSessionInput{
		GameSessionId: &gsID, TerminationMode: types.TerminationModeTriggerOnProcessTerminate,
	})
	if err != nil {
		t.Fatal(err)
	}
	carol.expect("END the game server is shutting down")
	carol.expectHangUp()
	game.exitedCleanly(t)
	if gs := f.gameSession(t, gsID); gs.Status != types.GameSessionStatusTerminated {
		t.Errorf("game session %s (%s), want TERMINATED", gs.Status, gs.StatusReason)
	}
	if st := f.playerSession(t, carolPS).Status; st != types.PlayerSessionStatusCompleted {
		t.Errorf("player session %s, want COMPLETED", st)
	}
}
