package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/agentws"
	"github.com/openlift/openlift/internal/api"
	"github.com/openlift/openlift/internal/clock"
	"github.com/openlift/openlift/internal/core"
	"github.com/openlift/openlift/internal/sdkws"
	"github.com/openlift/openlift/internal/store/sqlite"
	"github.com/openlift/openlift/internal/webhook"
)

// The core Service is the backend of both WebSocket endpoints. The guards live
// here rather than in core, which does not import the endpoints (nor net/http).
var (
	_ sdkws.Backend   = (*core.Service)(nil)
	_ agentws.Backend = (*core.Service)(nil)
)

// Config configures one openlift node.
type Config struct {
	// Listen is the host:port for the API and the SDK endpoint (":0" picks a port).
	Listen string
	// DataDir holds the embedded store and the admin credential.
	DataDir   string
	Region    string
	AccountID string
	// AdvertiseURL is the WebSocket URL given to game servers (RegisterCompute);
	// default ws://<listen address>/.
	AdvertiseURL string
	// AdminAccessKeyID and AdminSecretAccessKey, when set, are the admin credential.
	AdminAccessKeyID     string
	AdminSecretAccessKey string
	Logger               *slog.Logger
	Clock                clock.Clock
	// Core tunables (zero means the core default).
	HeartbeatTimeout time.Duration
	TokenLifetime    time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take at shutdown.
	ShutdownTimeout time.Duration
	// Webhooks maps notification targets (SNS topic ARNs) to the webhooks
	// that receive their placement events (docs/webhooks.md).
	Webhooks webhook.Routes
	// WebhookMinBackoff is the first retry wait of a failed delivery (default 1 s).
	WebhookMinBackoff time.Duration
}

// Server is a running openlift node.
type Server struct {
	cfg        Config
	ln         net.Listener
	st         *sqlite.Store
	svc        *core.Service
	http       *http.Server
	sdk        http.Handler
	agents     *agentws.Handler
	webhooks   *webhook.Dispatcher
	secrets    *webhook.Secrets
	creds      adminCredentials
	credsNew   bool
	advertised string
}

// New opens the data directory and binds the listener; Serve starts serving.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	creds, created, err := loadOrCreateCredentials(cfg.DataDir, cfg.AdminAccessKeyID, cfg.AdminSecretAccessKey)
	if err != nil {
		return nil, fmt.Errorf("admin credential: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	advertised := cfg.AdvertiseURL
	if advertised == "" {
		advertised = "ws://" + advertiseHost(ln.Addr().(*net.TCPAddr)) + "/"
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "openlift.db"), sqlite.Options{})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	svc, err := core.New(core.Config{
		Store:            st,
		Clock:            cfg.Clock,
		Logger:           cfg.Logger,
		Region:           cfg.Region,
		AccountID:        cfg.AccountID,
		SDKEndpoint:      func() string { return advertised },
		HeartbeatTimeout: cfg.HeartbeatTimeout,
		TokenLifetime:    cfg.TokenLifetime,
	})
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	secrets, err := webhook.OpenSecrets(filepath.Join(cfg.DataDir, webhook.SecretsFile))
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	dispatcher, err := webhook.New(webhook.Options{Store: st, Routes: cfg.Webhooks, Secrets: secrets, Logger: cfg.Logger, MinBackoff: cfg.WebhookMinBackoff})
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	svc.SetNotifier(dispatcher.Notify)
	apiHandler, err := api.NewHandler(api.Config{Service: svc, Credentials: creds, Clock: cfg.Clock, Logger: cfg.Logger})
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, ln: ln, st: st, svc: svc, creds: creds, credsNew: created, advertised: advertised, webhooks: dispatcher, secrets: secrets}
	s.sdk = sdkws.NewHandler(svc, sdkws.Options{Logger: cfg.Logger})
	s.agents = agentws.NewHandler(svc, agentws.Options{Logger: cfg.Logger})
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		// Host agents dial one fixed path; game servers dial whatever path
		// the advertised SDK URL has, so the SDK endpoint takes the rest.
		case sdkws.IsUpgrade(r) && r.URL.Path == agentmsg.Path:
			s.agents.ServeHTTP(w, r)
		case sdkws.IsUpgrade(r):
			s.sdk.ServeHTTP(w, r)
		case api.IsAPIRequest(r):
			apiHandler.ServeHTTP(w, r)
		case r.Method == http.MethodGet && r.URL.Path == "/healthz":
			w.Write([]byte("ok\n"))
		default:
			http.Error(w, "openlift: not found", http.StatusNotFound)
		}
	})
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	return s, nil
}

func advertiseHost(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	}
	return a.String()
}

// Addr is the bound address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the HTTP endpoint for AWS clients.
func (s *Server) URL() string { return "http://" + advertiseHost(s.ln.Addr().(*net.TCPAddr)) }

// AdminCredentials returns the admin access key pair.
func (s *Server) AdminCredentials() (accessKeyID, secret string) {
	return s.creds.AccessKeyID, s.creds.Secret
}

// WebhookSecret returns the secret that signs deliveries to url (generating
// and persisting one if the configuration gives none).
func (s *Server) WebhookSecret(url string) (string, error) { return s.secrets.For(url) }

// CredentialsCreated reports whether this start created the admin credential file.
func (s *Server) CredentialsCreated() bool { return s.credsNew }

// Serve runs until ctx ends, then finishes in-flight requests and closes
// everything. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.svc.Start(ctx); err != nil {
		s.close()
		return err
	}
	deliveries, stopDeliveries := context.WithCancel(ctx)
	delivered := make(chan struct{})
	go func() { s.webhooks.Run(deliveries); close(delivered) }()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(shutdownCtx)
	if c, ok := s.sdk.(interface{ Close() }); ok {
		c.Close()
	}
	s.agents.Close()
	stopDeliveries()
	<-delivered
	s.close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

func (s *Server) close() {
	s.svc.Close()
	if err := s.st.Close(); err != nil {
		s.cfg.Logger.Error("closing store", "err", err)
	}
}
