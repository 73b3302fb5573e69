package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormserver/pgstore"
)

func runComnorm(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return subcommand(ctx, "comnorm", map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"serve": comnormServe,
	}, args, stdout, stderr)
}

func comnormServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit comnorm serve", flag.ContinueOnError)
	var cfg comnormserver.Config
	cfg.RegisterFlags(fs)
	quiet := fs.Bool("quiet", false, "no access log")
	// No default from the environment here: -h prints defaults, and a DSN
	// may carry a password. pgstore.Configure reads the variable instead.
	postgres := fs.String("postgres", "", "PostgreSQL DSN (postgres://...) of a store shared by any number of instances (env "+pgstore.DSNEnv+")")
	usageFor(fs, "notifykit comnorm serve -partner-keys FILE (-data-dir DIR | -memory | -postgres DSN) [flags]",
		"Runs the self-hostable ComNorm-compatible queue server: the vendor's five routes under -prefix",
		"plus GET /healthz. Queues are durable in -data-dir (embedded bbolt, fsynced before a post is",
		"answered; the default store, for one instance). -postgres (or "+pgstore.DSNEnv+") keeps them",
		"in PostgreSQL instead, so several instances behind a load balancer serve the same queues; the",
		"tables are created on first start. The partner keys file has one \"<partner-id> <key>\" per",
		"line. Ctrl-C shuts down gracefully.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"partner-keys": cfg.PartnerKeysFile}) {
		return 2
	}
	dsn := *postgres
	if dsn == "" {
		dsn = os.Getenv(pgstore.DSNEnv)
	}
	switch {
	case dsn != "" && (cfg.DataDir != "" || cfg.Memory):
		fmt.Fprintln(stderr, "notifykit comnorm serve: -postgres (or "+pgstore.DSNEnv+") cannot be combined with -data-dir or -memory")
		return 2
	case dsn == "" && cfg.DataDir == "" && !cfg.Memory:
		fmt.Fprintln(stderr, "notifykit comnorm serve: set -data-dir (or -postgres for a shared store, -memory for a throwaway server)")
		return 2
	}
	log := slog.New(slog.DiscardHandler)
	if !*quiet {
		log = slog.New(slog.NewTextHandler(stderr, nil))
		cfg.Logger = log
	}
	// Configure leaves cfg alone when dsn is empty: the bbolt or memory
	// store chosen above stays in charge.
	closeStore, err := pgstore.Configure(ctx, &cfg, dsn,
		pgstore.WithLogger(log),
		// Losing the wake-up listener only delays long polls (the server
		// re-peeks on an interval), so it is a warning, not a failure.
		pgstore.WithOnError(func(err error) { log.Warn("postgres wake-up listener", "err", err) }))
	if err != nil {
		return runFailed(stderr, "notifykit comnorm serve", err)
	}
	cfg.Ready = func(addr net.Addr) {
		fmt.Fprintf(stderr, "notifykit comnorm serve: listening on http://%s%s\n", addr, cfg.Prefix)
	}
	// ListenAndServe does not close a store it was given.
	serveErr := comnormserver.ListenAndServe(ctx, cfg)
	if err := closeStore(); err != nil && serveErr == nil {
		serveErr = err
	}
	return runFailed(stderr, "notifykit comnorm serve", serveErr)
}
