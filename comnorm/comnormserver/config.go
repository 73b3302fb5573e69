package comnormserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Config describes a runnable server process; ListenAndServe runs it. The
// CLI (notifykit comnorm serve) fills it with RegisterFlags.
type Config struct {
	// Addr is the listen address (default ":8080"; "127.0.0.1:0" picks a
	// free port, reported through Ready).
	Addr string
	// PartnerKeysFile is read with LoadKeysFile. Required unless Auth is set.
	PartnerKeysFile string
	// DataDir holds the durable store (comnorm.db). Required unless Memory
	// or Store is set.
	DataDir string
	// Memory selects the in-memory store: nothing survives a restart.
	Memory bool
	// PublicURL is the externally visible base URL used in notification URLs
	// (see WithPublicURL).
	PublicURL string
	// Prefix of the routes (default "/api").
	Prefix string
	// Limits; zero fields take DefaultLimits.
	Limits Limits
	// ShutdownTimeout bounds the graceful shutdown (default 10 s).
	ShutdownTimeout time.Duration
	// Logger for the access log and errors (default discard).
	Logger *slog.Logger

	// Store replaces the store chosen by DataDir/Memory (for example a
	// PostgreSQL store). ListenAndServe does not close it.
	Store Store
	// Auth replaces PartnerKeysFile.
	Auth Authenticator
	// Ready, if set, is called with the bound address once the server
	// accepts connections.
	Ready func(addr net.Addr)
}

// RegisterFlags binds the configuration to command-line flags whose
// defaults come from the environment (COMNORM_ADDR, COMNORM_PARTNER_KEYS,
// COMNORM_DATA_DIR, COMNORM_PUBLIC_URL, COMNORM_MEMORY=1).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", envOr("COMNORM_ADDR", ":8080"), "listen address (env COMNORM_ADDR)")
	fs.StringVar(&c.PartnerKeysFile, "partner-keys", os.Getenv("COMNORM_PARTNER_KEYS"), "file with one \"<partner-id> <key>\" per line (env COMNORM_PARTNER_KEYS)")
	fs.StringVar(&c.DataDir, "data-dir", os.Getenv("COMNORM_DATA_DIR"), "directory of the durable store (env COMNORM_DATA_DIR)")
	fs.BoolVar(&c.Memory, "memory", os.Getenv("COMNORM_MEMORY") == "1", "keep queues in memory only; lost on restart (env COMNORM_MEMORY=1)")
	fs.StringVar(&c.PublicURL, "public-url", os.Getenv("COMNORM_PUBLIC_URL"), "external base URL for notification URLs, e.g. https://queue.example.com (env COMNORM_PUBLIC_URL)")
	fs.StringVar(&c.Prefix, "prefix", envOr("COMNORM_PREFIX", "/api"), "route prefix (env COMNORM_PREFIX)")
	fs.IntVar(&c.Limits.MaxQueuesPerPartner, "max-queues", DefaultLimits.MaxQueuesPerPartner, "queues per partner")
	fs.IntVar(&c.Limits.MaxMessagesPerQueue, "max-messages", DefaultLimits.MaxMessagesPerQueue, "messages per queue")
	fs.DurationVar(&c.Limits.MaxTimeout, "max-poll-timeout", DefaultLimits.MaxTimeout, "longest long poll")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "graceful shutdown bound")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// ListenAndServe runs the server described by cfg until ctx ends, then
// shuts down gracefully: waiting long polls are answered 503, requests in
// progress finish (bounded by ShutdownTimeout) and the store is closed. It
// returns nil after a shutdown caused by ctx.
func ListenAndServe(ctx context.Context, cfg Config) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	auth := cfg.Auth
	if auth == nil {
		if cfg.PartnerKeysFile == "" {
			return errors.New("comnormserver: a partner keys file is required")
		}
		keys, err := LoadKeysFile(cfg.PartnerKeysFile)
		if err != nil {
			return err
		}
		auth = keys
	}
	store := cfg.Store
	if store == nil {
		switch {
		case cfg.Memory:
			store = NewMemoryStore()
		case cfg.DataDir != "":
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return fmt.Errorf("comnormserver: data dir: %w", err)
			}
			bs, err := OpenBoltStore(filepath.Join(cfg.DataDir, "comnorm.db"))
			if err != nil {
				return err
			}
			store = bs
		default:
			return errors.New("comnormserver: set a data directory (or Memory for a throwaway server)")
		}
		defer store.Close()
	}
	opts := []Option{WithLogger(logger), WithLimits(cfg.Limits)}
	if cfg.Prefix != "" {
		opts = append(opts, WithPrefix(cfg.Prefix))
	}
	if cfg.PublicURL != "" {
		opts = append(opts, WithPublicURL(cfg.PublicURL))
	}
	srv, err := New(store, auth, opts...)
	if err != nil {
		return err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = ":8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("comnormserver: %w", err)
	}
	maxWait := srv.limits.MaxTimeout
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long polls hold the response for up to MaxTimeout.
		WriteTimeout:   maxWait + 15*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10, // larger headers get 431
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	logger.Info("comnorm server listening", slog.String("addr", ln.Addr().String()))
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}
	select {
	case err := <-served:
		return fmt.Errorf("comnormserver: %w", err)
	case <-ctx.Done():
	}
	timeout := cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	srv.Close()
	err = hs.Shutdown(sctx)
	<-served
	if err != nil {
		return fmt.Errorf("comnormserver: shutdown: %w", err)
	}
	return nil
}
