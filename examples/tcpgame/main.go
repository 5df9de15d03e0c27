// Command tcpgame is a small multiplayer game server for openlift: everyone in
// a game session guesses the same secret number, and can chat. It is a real
// game server process built on openlift's Server SDK 5 protocol client
// (internal/sim). Like a game on the official SDK it reads the GAMELIFT_SDK_*
// environment variables, calls ProcessReady with its player port, heartbeats,
// activates the game session it is given, accepts and removes player sessions,
// and calls ProcessEnding before it exits. It hosts one game session per
// process, as every GameLift game server does.
//
// # Player protocol
//
// Lines of UTF-8 text over TCP, so nc or telnet can play:
//
//	server: HELLO tcpgame: send your player session id
//	player: psess-...       the id that CreatePlayerSession returned
//	server: WELCOME <player> <n>   you are in, with n players in the game
//	        or ERR <reason>, and the server hangs up
//
// Then the player sends any of
//
//	<number>   a guess at the secret number, from 1 to 100
//	/who       who is playing: PLAYERS <player>=<score> ... (only to you)
//	/quit      leave: BYE, and the server hangs up
//	<text>     anything else is said to everyone
//
// and everyone in the game sees
//
//	JOIN <player>                      someone joined (sent to the others)
//	SAY <player> <text>                someone said something
//	GUESS <player> <n> HIGHER|LOWER    a wrong guess: the number is higher or lower than n
//	WIN <player> <n>                   n was right and scores a point;
//	ROUND <k>                          a new round with a new number follows
//	LEAVE <player>                     someone left
//	END <reason>                       the game server is shutting down
//
// <player> is the PlayerId given to CreatePlayerSession.
//
// # Lifecycle
//
// When the last player leaves (once someone has joined), the game ends its game
// session and itself with ProcessEnding and exits 0. A TerminateProcess from
// the service (TerminateGameSession) and SIGINT or SIGTERM end it the same way.
//
// Usage:
//
//	GAMELIFT_SDK_WEBSOCKET_URL=ws://... GAMELIFT_SDK_FLEET_ID=... GAMELIFT_SDK_HOST_ID=... \
//	GAMELIFT_SDK_AUTH_TOKEN=... [GAMELIFT_SDK_PROCESS_ID=...] tcpgame [-host H] [-port N] [-log-file F]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/sim"
)

const (
	maxNumber = 100
	// helloTimeout bounds how long a connection may take to name its player
	// session, so that port scanners do not hold goroutines.
	helloTimeout = 30 * time.Second
	// sendQueue is how many lines a player may fall behind before the game
	// hangs up on them rather than stall everyone else.
	sendQueue    = 64
	writeTimeout = 10 * time.Second
	// endTimeout covers ProcessEnding, whose reply may take the SDK's 20 s.
	endTimeout = 25 * time.Second
)

func main() { os.Exit(run()) }

func run() int {
	host := flag.String("host", "0.0.0.0", "address players connect to")
	port := flag.Int("port", envInt("TCPGAME_PORT", 0), "player TCP port, 0 picks a free one (default $TCPGAME_PORT)")
	logFile := flag.String("log-file", fmt.Sprintf("logs/tcpgame-%d.log", os.Getpid()),
		"also log here; reported to the service in ProcessReady (\"\" for stdout only)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tcpgame: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	out, logPaths := io.Writer(os.Stdout), []string{}
	if *logFile != "" {
		f, err := openLog(*logFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tcpgame: %v\n", err)
			return 1
		}
		defer f.Close()
		out, logPaths = io.MultiWriter(os.Stdout, f), []string{f.Name()}
	}
	log := slog.New(slog.NewTextHandler(out, nil))

	g := &game{log: log, over: make(chan struct{}), players: map[*player]struct{}{}}
	cfg := sim.ApplyEnv(sim.Config{
		ListenHost:         *host,
		BasePort:           *port,
		LogPaths:           logPaths,
		Logger:             log,
		WithholdActivation: true, // the game activates its session itself, in start
		OnStartGameSession: g.start,
		ServePlayers:       g.serve,
		OnReady: func(p *sim.Process) {
			log.Info("ready to host a game session", "processId", p.ID(), "addr", p.Addr())
		},
	}, os.LookupEnv)
	s, err := sim.Start(ctx, cfg)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	select {
	case <-g.over:
		log.Info("the last player left; ending the game session and the process")
		ectx, cancel := context.WithTimeout(context.Background(), endTimeout)
		err := s.Processes()[0].End(ectx)
		cancel()
		if err != nil {
			log.Error("ProcessEnding failed", "error", err)
			return 1
		}
	case <-s.Done():
	}
	if err := s.Wait(); err != nil {
		log.Error("game server failed", "error", err)
		return 1
	}
	log.Info("exiting")
	return 0
}

func openLog(path string) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(abs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// game is the one game session this process hosts.
type game struct {
	log  *slog.Logger
	over chan struct{} // closed when the last player has left

	mu      sync.Mutex
	players map[*player]struct{}
	joined  bool // someone has joined, so an empty game is over
	ended   bool // over is closed; nobody else gets in
	secret  int
	round   int
}

type player struct {
	sessionID string
	name      string
	conn      net.Conn
	out       chan string // lines for the writer goroutine
	score     int
}

// send queues a line without blocking the game: a player too far behind is
// hung up on, which ends their reader and so their part in the game.
func (pl *player) send(line string) {
	select {
	case pl.out <- line:
	default:
		pl.conn.Close()
	}
}

func (pl *player) writeLines() {
	for line := range pl.out {
		_ = pl.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := io.WriteString(pl.conn, line+"\n"); err != nil {
			pl.conn.Close() // keep draining so send never blocks
		}
	}
}

// start is OnStartGameSession. The game has nothing to load, so it picks a
// number and tells the service at once that players may come.
func (g *game) start(ctx context.Context, p *sim.Process, gs sdkmsg.GameSession) {
	g.mu.Lock()
	g.secret, g.round = rand.IntN(maxNumber)+1, 1
	g.mu.Unlock()
	g.log.Info("starting the game", "gameSessionId", gs.GameSessionId, "maxPlayers", gs.MaximumPlayerSessionCount)
	if err := p.ActivateGameSession(ctx); err != nil {
		g.log.Error("ActivateGameSession failed", "error", err)
	}
}

// serve is ServePlayers: it runs until the process ends, when the listener is
// closed and every player's read side is shut so that their loops return.
func (g *game) serve(ctx context.Context, p *sim.Process, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error("accepting players failed", "error", err)
			}
			return
		}
		wg.Go(func() { g.play(ctx, p, c) })
	}
}

func (g *game) play(ctx context.Context, p *sim.Process, c net.Conn) {
	defer c.Close()
	// Shutting the read side (not a deadline, which a later SetReadDeadline
	// could undo) ends the loop below and still lets the player hear END.
	stop := context.AfterFunc(ctx, func() { _ = c.(*net.TCPConn).CloseRead() })
	defer stop()

	in := bufio.NewScanner(c)
	_ = c.SetDeadline(time.Now().Add(helloTimeout))
	fmt.Fprintln(c, "HELLO tcpgame: send your player session id")
	if !in.Scan() {
		return
	}
	pl, err := g.admit(ctx, p, c, strings.TrimSpace(in.Text()))
	if err != nil {
		g.log.Info("player refused", "remote", c.RemoteAddr(), "error", err)
		fmt.Fprintf(c, "ERR %s\n", reason(err))
		return
	}
	_ = c.SetDeadline(time.Time{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		pl.writeLines()
	}()
	defer func() {
		close(pl.out) // nobody else sends once leave has run
		<-wrote
	}()

	for in.Scan() {
		if quit := g.command(pl, strings.TrimSpace(in.Text())); quit {
			break
		}
	}
	g.leave(ctx, p, pl)
	if ctx.Err() != nil {
		pl.send("END the game server is shutting down")
	}
}

var errGameOver = errors.New("this game is over")

// admit checks the player session with the service (AcceptPlayerSession) and
// puts the player in the game.
func (g *game) admit(ctx context.Context, p *sim.Process, c net.Conn, sessionID string) (*player, error) {
	g.mu.Lock()
	ended := g.ended
	g.mu.Unlock()
	if ended {
		return nil, errGameOver
	}
	if err := p.AcceptPlayerSession(ctx, sessionID); err != nil {
		return nil, err
	}
	pl := &player{sessionID: sessionID, name: sessionID, conn: c, out: make(chan string, sendQueue)}
	// Players know each other by PlayerId, which the player session carries.
	res, err := p.DescribePlayerSessions(ctx, sdkmsg.DescribePlayerSessions{PlayerSessionId: sessionID})
	if err == nil && len(res.PlayerSessions) == 1 && res.PlayerSessions[0].PlayerId != "" {
		pl.name = strings.Join(strings.Fields(res.PlayerSessions[0].PlayerId), "_")
	} else {
		g.log.Warn("no player id; using the player session id", "playerSessionId", sessionID, "error", err)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		// ProcessEnding, already under way, completes the player session.
		return nil, errGameOver
	}
	g.broadcastLocked("JOIN " + pl.name)
	g.players[pl] = struct{}{}
	g.joined = true
	pl.send(fmt.Sprintf("WELCOME %s %d", pl.name, len(g.players)))
	g.log.Info("player joined", "player", pl.name, "playerSessionId", sessionID, "players", len(g.players))
	return pl, nil
}

// leave takes the player out of the game and tells the service
// (RemovePlayerSession); the last one out ends the game.
func (g *game) leave(ctx context.Context, p *sim.Process, pl *player) {
	g.mu.Lock()
	delete(g.players, pl)
	g.broadcastLocked("LEAVE " + pl.name)
	g.mu.Unlock()
	g.log.Info("player left", "player", pl.name, "playerSessionId", pl.sessionID)
	if ctx.Err() != nil {
		return // the process is ending, and ProcessEnding completes every player session
	}
	if err := p.RemovePlayerSession(ctx, pl.sessionID); err != nil {
		g.log.Warn("RemovePlayerSession failed", "playerSessionId", pl.sessionID, "error", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.players) == 0 && g.joined && !g.ended && ctx.Err() == nil {
		g.ended = true
		close(g.over)
	}
}

// command runs one line from a player and reports whether they quit.
func (g *game) command(pl *player, line string) bool {
	switch line {
	case "":
		return false
	case "/quit":
		pl.send("BYE")
		return true
	case "/who":
		g.mu.Lock()
		var who []string
		for q := range g.players {
			who = append(who, fmt.Sprintf("%s=%d", q.name, q.score))
		}
		g.mu.Unlock()
		slices.Sort(who)
		pl.send("PLAYERS " + strings.Join(who, " "))
		return false
	}
	n, err := strconv.Atoi(line)
	if err != nil {
		g.broadcast("SAY " + pl.name + " " + line)
		return false
	}
	if n < 1 || n > maxNumber {
		pl.send(fmt.Sprintf("ERR guess a number from 1 to %d", maxNumber))
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case n < g.secret:
		g.broadcastLocked(fmt.Sprintf("GUESS %s %d HIGHER", pl.name, n))
	case n > g.secret:
		g.broadcastLocked(fmt.Sprintf("GUESS %s %d LOWER", pl.name, n))
	default:
		pl.score++
		g.secret = rand.IntN(maxNumber) + 1
		g.round++
		g.broadcastLocked(fmt.Sprintf("WIN %s %d", pl.name, n))
		g.broadcastLocked(fmt.Sprintf("ROUND %d", g.round))
		g.log.Info("round won", "player", pl.name, "round", g.round-1)
	}
	return false
}

func (g *game) broadcast(line string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.broadcastLocked(line)
}

func (g *game) broadcastLocked(line string) {
	for pl := range g.players {
		pl.send(line)
	}
}

// reason is an error as one line for a player: the service's own message when
// it refused, rather than the protocol client's wrapping.
func reason(err error) string {
	msg := err.Error()
	if se, ok := errors.AsType[*sim.StatusError](err); ok {
		msg = se.Message
	}
	return strings.Join(strings.Fields(msg), " ")
}
