package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
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
	usageFor(fs, "notifykit comnorm serve -partner-keys FILE (-data-dir DIR | -memory) [flags]",
		"Runs the self-hostable ComNorm-compatible queue server: the vendor's five routes under -prefix",
		"plus GET /healthz. Queues are durable in -data-dir (bbolt, fsynced before a post is answered).",
		"The partner keys file has one \"<partner-id> <key>\" per line. Ctrl-C shuts down gracefully.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"partner-keys": cfg.PartnerKeysFile}) {
		return 2
	}
	if cfg.DataDir == "" && !cfg.Memory {
		fmt.Fprintln(stderr, "notifykit comnorm serve: set -data-dir (or -memory for a throwaway server)")
		return 2
	}
	if !*quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	cfg.Ready = func(addr net.Addr) {
		fmt.Fprintf(stderr, "notifykit comnorm serve: listening on http://%s%s\n", addr, cfg.Prefix)
	}
	return runFailed(stderr, "notifykit comnorm serve", comnormserver.ListenAndServe(ctx, cfg))
}
