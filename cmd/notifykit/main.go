// Command notifykit shows the notifykit SDK at work and helps operate it.
//
//	notifykit sandbox                 all four platforms simulated locally, events shown live
//	notifykit listen <source> ...     print a live notification stream (kreditsmart|banqup|comnorm|dsgo)
//	notifykit comnorm serve ...       run the self-hostable ComNorm queue server (bbolt; -postgres to scale out)
//	notifykit dsgo subscriptions ...  list, create, delete or test DSGO subscriptions
//
// Run "notifykit help <command>" or "notifykit <command> -h" for the flags.
// Exit status: 0 on success, 1 when the work failed, 2 for bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command is one sub-command. run returns the process exit status.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"sandbox", "run local stand-ins of all four platforms and show events flowing through the SDK", runSandbox},
		{"listen", "print a live notification stream: listen kreditsmart|banqup|comnorm|dsgo", runListen},
		{"comnorm", "the self-hostable ComNorm queue server: comnorm serve (bbolt, or -postgres for several instances)", runComnorm},
		{"dsgo", "manage DSGO subscriptions with iSHARE auth: dsgo subscriptions list|create|delete|test", runDSGO},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "notifykit: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "notifykit receives partner-platform notifications reliably (KreditSmart, banqUP, ComNorm, DSGO).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: notifykit <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "notifykit help <command>" for a command's flags.`)
}

// parseFlags parses args with fs and turns -h and flag errors into exit
// statuses: 0 after help, 2 after a bad flag, -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	return -1
}

// subcommand dispatches "<group> <name> ..." commands such as
// "comnorm serve" and "dsgo subscriptions list".
func subcommand(ctx context.Context, group string, subs map[string]func(context.Context, []string, io.Writer, io.Writer) int, args []string, stdout, stderr io.Writer) int {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		status := 2
		if len(args) > 0 {
			w, status = stdout, 0
		}
		fmt.Fprintf(w, "Usage: notifykit %s %s [flags]\n", group, strings.Join(names, "|"))
		return status
	}
	f, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "notifykit %s: unknown command %q (want %s)\n", group, args[0], strings.Join(names, ", "))
		return 2
	}
	return f(ctx, args[1:], stdout, stderr)
}

// envDefault returns the environment variable's value, or def when unset;
// flags use it so that secrets can come from the environment instead of
// the command line (where ps would show them).
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// secretFromEnv fills an empty secret flag from the environment after
// parsing. Secret flags have no default, so that -h, which prints defaults,
// never shows a secret taken from the environment.
func secretFromEnv(p *string, name string) {
	if *p == "" {
		*p = os.Getenv(name)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
