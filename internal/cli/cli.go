package cli

import (
	"context"
	"fmt"
	"io"
)

// Main runs the subcommand named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "sim":
		return runSim(ctx, args[1:], stdout, stderr)
	case "agent":
		return runAgent(ctx, args[1:], stdout, stderr)
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "openlift: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: openlift <command> [flags]

commands:
  serve   run the GameLift-compatible service (API, Server SDK endpoint, embedded store)
  sim     run simulated game server processes that speak the Server SDK 5 protocol
  agent   run a fleet's game server processes on this host (register, supervise, drain)
  load    measure CreatePlayerSession throughput and latency against this machine's HTTP floor`)
}
