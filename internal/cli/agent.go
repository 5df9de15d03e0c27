package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/openlift/openlift/internal/agent"
)

// runAgent runs `openlift agent`: the host agent that registers this machine
// as a compute of an Anywhere fleet and runs the fleet's runtime
// configuration on it. It prints "AGENT READY <compute name>" on stdout once
// registered and connected (the line scripts and tests wait for); logs go to
// stderr. SIGTERM or Ctrl-C drains the compute and exits 0.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: openlift agent --endpoint URL --fleet-id ID --location custom-NAME [flags]

Registers this host as a compute of an Anywhere fleet and keeps the fleet's
runtime configuration (ServerProcesses) running on it: launches, relaunches
with backoff, enforces the InitSDK/ProcessReady deadlines, reports every exit
as a fleet event, and on SIGTERM drains and deregisters. Credentials come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) or the
AWS_PROFILE of the shared credentials file; the region from AWS_REGION
(default us-west-2).

flags:`)
		fs.PrintDefaults()
	}
	d := agent.DefaultSupervisorConfig
	endpoint := fs.String("endpoint", "", "openlift service URL, e.g. http://127.0.0.1:9080")
	fleetID := fs.String("fleet-id", "", "fleet id (an ANYWHERE fleet)")
	location := fs.String("location", "", "the fleet's custom location to register in, e.g. custom-home")
	computeName := fs.String("compute-name", "", "compute name (default: the host name, sanitised)")
	ipAddress := fs.String("ip-address", "", "IP address players connect to (default: first non-loopback IPv4)")
	gameDir := fs.String("game-dir", "", "working directory of the game servers, base of relative launch paths (default: each launch path's directory)")
	logDir := fs.String("log-dir", agent.DefaultLogDir, "directory for the game servers' logs, one <process id>.log each")
	heartbeat := fs.Duration("heartbeat-interval", agent.DefaultHeartbeatInterval, "control channel heartbeat interval")
	configInterval := fs.Duration("config-interval", agent.DefaultConfigInterval, "runtime configuration poll interval (changes are also pushed)")
	initTimeout := fs.Duration("init-timeout", d.InitTimeout, "kill a process that has not called InitSDK this long after its launch")
	readyTimeout := fs.Duration("ready-timeout", d.ReadyTimeout, "kill a process that has not called ProcessReady this long after InitSDK")
	drainTimeout := fs.Duration("drain-timeout", agent.DefaultDrainTimeout, "on SIGTERM, how long processes get to end after OnProcessTerminate")
	killGrace := fs.Duration("kill-grace", d.KillGrace, "time between SIGTERM and SIGKILL when the agent stops a process")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openlift agent: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *endpoint == "" || *fleetID == "" || *location == "" {
		fmt.Fprintln(stderr, "openlift agent: --endpoint, --fleet-id and --location are required")
		return 2
	}
	logger, err := newLogger("agent", *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	creds, err := agent.CredentialsFromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "openlift agent: %v\n", err)
		return 2
	}
	sc := d
	sc.InitTimeout, sc.ReadyTimeout, sc.KillGrace = *initTimeout, *readyTimeout, *killGrace
	a, err := agent.New(agent.Config{
		Endpoint:          *endpoint,
		FleetID:           *fleetID,
		Location:          *location,
		ComputeName:       *computeName,
		IPAddress:         *ipAddress,
		Region:            agent.RegionFromEnv(os.LookupEnv),
		Credentials:       creds,
		GameDir:           *gameDir,
		LogDir:            *logDir,
		HeartbeatInterval: *heartbeat,
		ConfigInterval:    *configInterval,
		DrainTimeout:      *drainTimeout,
		Supervisor:        sc,
		Logger:            logger,
		Ready: func(name string) {
			fmt.Fprintf(stdout, "AGENT READY %s\n", name)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "openlift agent: %v\n", err)
		fs.Usage()
		return 2
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "openlift agent: %v\n", err)
		return 1
	}
	return 0
}
