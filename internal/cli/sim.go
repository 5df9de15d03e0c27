package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/openlift/openlift/internal/sim"
)

// runSim runs `openlift sim`: simulated game server processes that connect to
// the Server SDK endpoint. Like a game on the real SDK it reads the
// GAMELIFT_SDK_* variables, which win over the flags. For each process that
// becomes ready it prints "READY <pID> <host:port>" on stdout, the line tests
// and scripts wait for; everything else goes to stderr. It returns 0 when ctx
// ends (SIGTERM, Ctrl-C) or when every process ended normally.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: openlift sim [flags]

Runs simulated game server processes that speak the GameLift Server SDK 5
protocol. The environment variables GAMELIFT_SDK_WEBSOCKET_URL,
GAMELIFT_SDK_FLEET_ID, GAMELIFT_SDK_HOST_ID, GAMELIFT_SDK_AUTH_TOKEN and
GAMELIFT_SDK_PROCESS_ID override the matching flags, as they do for the SDK.
Prints "READY <pID> <host:port>" for each process once it can host a game
session; players connect to that address (line protocol: see internal/sim).

flags:`)
		fs.PrintDefaults()
	}
	wsURL := fs.String("url", "", "Server SDK WebSocket URL, e.g. ws://127.0.0.1:9080/")
	fleetID := fs.String("fleet-id", "", "fleet id")
	hostID := fs.String("host-id", "", "compute name the processes run on")
	authToken := fs.String("auth-token", "", "compute auth token (GetComputeAuthToken)")
	processID := fs.String("process-id", "", "process id; with -n > 1 the processes are <id>-1..<id>-n (default: random UUIDs)")
	count := fs.Int("n", 1, "number of simulated server processes")
	listenHost := fs.String("listen-host", sim.DefaultListenHost, "host for the player TCP ports")
	basePort := fs.Int("base-port", 0, "first player port (process i gets base+i-1); 0 picks free ports")
	heartbeat := fs.Duration("heartbeat", sim.DefaultHeartbeatInterval, "heartbeat interval, with ±1/6 jitter like the SDK")
	activateDelay := fs.Duration("activate-delay", 0, "wait this long after connecting before ProcessReady")
	withhold := fs.Bool("withhold-activation", false, "leave game sessions ACTIVATING until a player sends \"activate\"")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openlift sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *count < 1 {
		fmt.Fprintln(stderr, "openlift sim: -n must be at least 1")
		return 2
	}
	logger, err := newLogger("sim", *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	var outMu sync.Mutex
	cfg := sim.ApplyEnv(sim.Config{
		WebSocketURL:       *wsURL,
		FleetID:            *fleetID,
		HostID:             *hostID,
		AuthToken:          *authToken,
		ProcessIDPrefix:    *processID,
		Count:              *count,
		ListenHost:         *listenHost,
		BasePort:           *basePort,
		HeartbeatInterval:  *heartbeat,
		ActivateDelay:      *activateDelay,
		WithholdActivation: *withhold,
		Logger:             logger,
		OnReady: func(p *sim.Process) {
			// Processes become ready concurrently; keep each line whole.
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(stdout, "READY %s %s\n", p.ID(), p.Addr())
		},
	}, os.LookupEnv)

	if err := sim.Run(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "openlift sim: %v\n", err)
		if errors.Is(err, sim.ErrInvalidConfig) {
			return 2
		}
		return 1
	}
	return 0
}
