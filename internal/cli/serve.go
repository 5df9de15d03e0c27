package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/openlift/openlift/internal/server"
	"github.com/openlift/openlift/internal/webhook"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9080", "host:port for the GameLift API and the Server SDK WebSocket endpoint")
	dataDir := fs.String("data-dir", "openlift-data", "directory for the embedded store and the admin credential")
	region := fs.String("region", "us-west-2", "AWS Region name used in ARNs and expected in request signatures")
	account := fs.String("account-id", "123456789012", "12-digit account id used in ARNs")
	advertise := fs.String("advertise-url", "", "WebSocket URL handed to game servers (default ws://<listen>/)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	heartbeat := fs.Duration("heartbeat-timeout", 0, "end a server process after this long without a heartbeat (default 3m)")
	tokenLifetime := fs.Duration("token-lifetime", 0, "compute auth token lifetime (default 1h)")
	routes := webhook.Routes{}
	fs.Func("webhook", "deliver placement events published to an SNS topic to a URL: <topic-arn>=<url> (repeatable; see docs/webhooks.md)", func(v string) error {
		target, e, err := webhook.ParseFlag(v)
		if err == nil {
			routes.Add(target, e)
		}
		return err
	})
	fs.Func("webhooks", "JSON file mapping SNS topic ARNs to webhook URLs, each a URL or {\"url\", \"secret\"} (see docs/webhooks.md)", func(path string) error {
		r, err := webhook.LoadFile(path)
		for target, es := range r {
			for _, e := range es {
				routes.Add(target, e)
			}
		}
		return err
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger, err := newLogger("serve", *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	srv, err := server.New(ctx, server.Config{
		Listen:               *listen,
		DataDir:              *dataDir,
		Region:               *region,
		AccountID:            *account,
		AdvertiseURL:         *advertise,
		AdminAccessKeyID:     os.Getenv("OPENLIFT_ADMIN_ACCESS_KEY_ID"),
		AdminSecretAccessKey: os.Getenv("OPENLIFT_ADMIN_SECRET_ACCESS_KEY"),
		Logger:               logger,
		HeartbeatTimeout:     *heartbeat,
		TokenLifetime:        *tokenLifetime,
		Webhooks:             routes,
	})
	if err != nil {
		fmt.Fprintf(stderr, "openlift serve: %v\n", err)
		return 1
	}
	credPath, _ := filepath.Abs(filepath.Join(*dataDir, server.CredentialsFile))
	switch {
	case os.Getenv("OPENLIFT_ADMIN_ACCESS_KEY_ID") != "":
		fmt.Fprintf(stdout, "admin credential: from OPENLIFT_ADMIN_ACCESS_KEY_ID / OPENLIFT_ADMIN_SECRET_ACCESS_KEY\n")
	case srv.CredentialsCreated():
		fmt.Fprintf(stdout, "created the admin credential: %s (profile \"openlift\")\n", credPath)
	default:
		fmt.Fprintf(stdout, "admin credential: %s (profile \"openlift\")\n", credPath)
	}
	if len(routes) > 0 {
		secrets, _ := filepath.Abs(filepath.Join(*dataDir, webhook.SecretsFile))
		fmt.Fprintf(stdout, "webhooks for %d notification target(s); generated signing secrets are kept in %s\n", len(routes), secrets)
	}
	fmt.Fprintf(stdout, "openlift listening on %s (region %s)\n", srv.URL(), *region)
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "openlift serve: %v\n", err)
		return 1
	}
	return 0
}
