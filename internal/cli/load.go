package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/openlift/openlift/internal/load"
)

// The admin credential of a serve child this command starts; it exists only
// for the child's life, in a temporary data directory.
const loadKeyID, loadSecret = "AKIDOPENLIFTLOAD0001", "openlift-load-secret-key-000000000000000"

// runLoad runs `openlift load`. Its children are this same binary: `serve`,
// and `load -internal-child echo` for the baseline. The -internal-child form
// is not in the usage because only runLoad itself starts it.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) >= 2 && args[0] == "-internal-child" {
		return runLoadChild(ctx, args[1], args[2:], stdout, stderr)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: openlift load [flags]

Drives CreatePlayerSession from outside the server's process and, in the same
run, the same requests against a trivial HTTP server of this binary (the
machine's HTTP floor). Without -endpoint it starts its own openlift serve on
127.0.0.1 with a temporary data directory; with -endpoint it signs with
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. It sets up a location, fleet,
compute and simulated game servers hosting 200-slot game sessions, frees full
game sessions by removing their player sessions (as players leaving), checks
at the end that the server counts exactly the reservations made, and prints
throughput, latencies, server memory and the ratio to the floor.

flags:`)
		fs.PrintDefaults()
	}
	endpoint := fs.String("endpoint", "", "existing openlift or GameLift-compatible endpoint (default: start openlift serve)")
	region := fs.String("region", "us-west-2", "Region used in signatures")
	duration := fs.Duration("duration", 10*time.Second, "how long each run (target and baseline) lasts")
	concurrency := fs.Int("concurrency", 32, "concurrent callers")
	client := fs.String("client", "raw", "raw (SigV4 signer over pre-encoded CBOR) or sdk (the full aws-sdk-go-v2 client)")
	processes := fs.Int("processes", 256, "simulated game server processes")
	sessions := fs.Int("sessions", 0, "game sessions of 200 slots, at most one per process (default: one per process)")
	noBaseline := fs.Bool("no-baseline", false, "skip the HTTP floor run")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write the serve child's CPU profile (setup and target run) to this file")
	bin := fs.String("bin", "", "openlift binary for the child processes (default: this executable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openlift load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "openlift load: %v\n", err)
			return 1
		}
		*bin = exe
	}
	creds := aws.Credentials{AccessKeyID: loadKeyID, SecretAccessKey: loadSecret}
	if *endpoint != "" {
		creds = aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
		if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
			fmt.Fprintln(stderr, "openlift load: -endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
			return 2
		}
	}
	rep, err := load.Run(ctx, load.Config{
		Bin: *bin, Endpoint: *endpoint, Region: *region, Credentials: creds,
		Duration: *duration, Concurrency: *concurrency, Client: *client,
		Processes: *processes, Sessions: *sessions, NoBaseline: *noBaseline,
		CPUProfile: *cpuProfile, Log: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "openlift load: %v\n", err)
		if rep == nil {
			return 1
		}
	}
	if *asJSON {
		rep.WriteJSON(stdout)
	} else {
		rep.WriteTable(stdout)
	}
	if err != nil || !rep.Validation.OK {
		return 1
	}
	return 0
}

// runLoadChild is the hidden child side: the echo server of the baseline, or
// openlift serve under the CPU profiler.
func runLoadChild(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) int {
	switch kind {
	case "echo":
		if err := load.ServeEcho(ctx, stdout); err != nil {
			fmt.Fprintf(stderr, "openlift load echo: %v\n", err)
			return 1
		}
		return 0
	case "serve":
		if len(args) < 3 || args[0] != "-internal-cpuprofile" || args[2] != "--" {
			break
		}
		f, err := os.Create(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "openlift load: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "openlift load: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
		return runServe(ctx, args[3:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "openlift load: bad internal child %q %q\n", kind, args)
	return 2
}
