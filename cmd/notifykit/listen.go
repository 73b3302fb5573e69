package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/notifykit/notifykit"
)

// listenSources are the platforms "notifykit listen" can watch.
func listenSources() map[string]func(context.Context, []string, io.Writer, io.Writer) int {
	return map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"kreditsmart": listenKreditsmart,
		"banqup":      listenBanqup,
		"comnorm":     listenComnorm,
		"dsgo":        listenDSGO,
	}
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return subcommand(ctx, "listen", listenSources(), args, stdout, stderr)
}

// listenCommon are the flags every listener has.
type listenCommon struct {
	json    bool
	verbose bool
}

func (c *listenCommon) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print events as JSON lines (CloudEvents 1.0) instead of text")
	fs.BoolVar(&c.verbose, "v", false, "log the SDK's own messages to stderr")
}

func (c *listenCommon) logger(stderr io.Writer) *slog.Logger {
	if c.verbose {
		return slog.New(slog.NewTextHandler(stderr, nil))
	}
	return discardLogger()
}

// printer returns the handler that prints every event and succeeds.
func (c *listenCommon) printer(stdout io.Writer) (*eventPrinter, notifykit.HandlerFunc) {
	p := &eventPrinter{w: stdout, json: c.json}
	return p, func(_ context.Context, e notifykit.Event) error {
		p.print(e, nil)
		return nil
	}
}

// onError reports the SDK's asynchronous failures on stderr.
func onError(stderr io.Writer, source string) func(error) {
	p := &lockedWriter{w: stderr}
	return func(err error) { p.printf("%s: %v\n", source, err) }
}

// usageFor sets a FlagSet's usage text: the synopsis, a description and
// the flags.
func usageFor(fs *flag.FlagSet, synopsis string, description ...string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n", synopsis)
		if len(description) > 0 {
			fmt.Fprintf(w, "\n%s\n", strings.Join(description, "\n"))
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

// required reports missing required flags as a usage error.
func required(fs *flag.FlagSet, stderr io.Writer, flags map[string]string) bool {
	var missing []string
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := flags[f.Name]; ok && v == "" {
			missing = append(missing, "-"+f.Name)
		}
	})
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "%s: missing %s (see -h)\n", fs.Name(), strings.Join(missing, ", "))
		return false
	}
	return true
}

// noArgs rejects positional arguments as a usage error.
func noArgs(fs *flag.FlagSet, stderr io.Writer) bool {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

// runFailed prints err and returns exit status 1, or 0 when err is nil.
func runFailed(stderr io.Writer, name string, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}
