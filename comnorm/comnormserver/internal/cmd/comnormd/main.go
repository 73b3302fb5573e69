// Command comnormd runs a comnormserver from flags. It exists for the
// package's process-level tests (SIGKILL durability, restarts); users run
// "notifykit comnorm serve". Once listening it prints "listening <addr>" on
// stdout so a test can find the port.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

func main() {
	var cfg comnormserver.Config
	cfg.RegisterFlags(flag.CommandLine)
	flag.Parse()
	cfg.Ready = func(a net.Addr) { fmt.Printf("listening %s\n", a) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := comnormserver.ListenAndServe(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
