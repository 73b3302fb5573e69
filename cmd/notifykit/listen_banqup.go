package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
)

func listenBanqup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit listen banqup", flag.ContinueOnError)
	var common listenCommon
	common.register(fs)
	url := fs.String("url", "", "AMQP URL with credentials, amqp[s]://user:pass@host/vhost (env BANQUP_AMQP_URL; prefer the environment: it holds the password)")
	queue := fs.String("queue", envDefault("BANQUP_QUEUE", ""), "queue to consume (env BANQUP_QUEUE); use one of its own, see below")
	passive := fs.Bool("passive", false, "declare nothing, only check that the queue and its bindings exist")
	streams := fs.String("streams", "", "comma-separated streams to bind (account,transaction,session,consent,aspspcall; default all)")
	expires := fs.Duration("expires", 0, "let RabbitMQ delete the queue after it was unused this long (x-expires; 0: never)")
	usageFor(fs, "notifykit listen banqup -url AMQP_URL -queue NAME [flags]",
		"Consumes banqUP's streams from RabbitMQ and prints one line per message. Every printed message is",
		"acknowledged: point it at a queue of its own (say myapp-diagnostics, with -expires 1h), which the",
		"listener binds to banqUP's type exchanges, so it gets its own copy of each message and the",
		"application's queue keeps everything.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	secretFromEnv(url, "BANQUP_AMQP_URL")
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"url": *url, "queue": *queue}) {
		return 2
	}
	_, h := common.printer(stdout)
	opts := []banqup.Option{
		banqup.WithHandler(h),
		banqup.WithLogger(common.logger(stderr)),
		banqup.WithOnError(onError(stderr, "banqup")),
		banqup.WithShutdownTimeout(5 * time.Second),
	}
	if *passive {
		opts = append(opts, banqup.WithPassiveTopology())
	}
	if *expires > 0 {
		opts = append(opts, banqup.WithQueueArguments(amqp.Table{"x-expires": expires.Milliseconds()}))
	}
	if *streams != "" {
		var ss []banqup.Stream
		for _, name := range strings.Split(*streams, ",") {
			s := banqup.Stream(strings.TrimSpace(name))
			if !s.Valid() {
				fmt.Fprintf(stderr, "notifykit listen banqup: unknown stream %q in -streams\n", s)
				return 2
			}
			ss = append(ss, s)
		}
		opts = append(opts, banqup.WithStreams(ss...))
	}
	c, err := banqup.NewConsumer(*url, *queue, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen banqup: %v\n", err)
		return 2
	}
	return runFailed(stderr, "notifykit listen banqup", c.Run(ctx))
}
