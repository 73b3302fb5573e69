package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/internal/backoff"
)

func listenComnorm(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit listen comnorm", flag.ContinueOnError)
	var common listenCommon
	common.register(fs)
	baseURL := fs.String("base-url", envDefault("COMNORM_BASE_URL", comnorm.DefaultBaseURL), "ComNorm API base URL, or a self-hosted server's (env COMNORM_BASE_URL)")
	key := fs.String("partner-key", "", "partner key, sent as X-PARTNER-KEY (env COMNORM_PARTNER_KEY; prefer the environment)")
	queue := fs.String("queue", envDefault("COMNORM_QUEUE", ""), "queue id (env COMNORM_QUEUE)")
	peek := fs.Bool("peek", false, "only look: print new messages and leave them in the queue (default: delete each after printing)")
	pollTimeout := fs.Duration("poll-timeout", 20*time.Second, "long-poll timeout per request")
	usageFor(fs, "notifykit listen comnorm -partner-key KEY -queue ID [flags]",
		"Long-polls a ComNorm queue and prints one line per message. By default it consumes: a message is",
		"deleted once printed, as the application's consumer would. With -peek nothing is deleted (ComNorm's",
		"peek does not hide messages, so the application's consumer keeps working alongside).")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	secretFromEnv(key, "COMNORM_PARTNER_KEY")
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"partner-key": *key, "queue": *queue}) {
		return 2
	}
	if *pollTimeout <= 0 || *pollTimeout > comnorm.MaxPollTimeout {
		fmt.Fprintf(stderr, "notifykit listen comnorm: -poll-timeout must be in (0, %s]\n", comnorm.MaxPollTimeout)
		return 2
	}
	logger := common.logger(stderr)
	client, err := comnorm.NewClient(*key, comnorm.WithBaseURL(*baseURL), comnorm.WithLogger(logger))
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen comnorm: %v\n", err)
		return 2
	}
	_, h := common.printer(stdout)
	if *peek {
		return runFailed(stderr, "notifykit listen comnorm", peekLoop(ctx, client, *queue, *pollTimeout, h, onError(stderr, "comnorm")))
	}
	c, err := comnorm.NewConsumer(client, *queue,
		comnorm.WithHandler(h),
		comnorm.WithPollTimeout(*pollTimeout),
		comnorm.WithShutdownTimeout(5*time.Second),
		comnorm.WithLogger(logger),
		comnorm.WithOnError(onError(stderr, "comnorm")))
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen comnorm: %v\n", err)
		return 2
	}
	return runFailed(stderr, "notifykit listen comnorm", c.Run(ctx))
}

// peekLoop prints messages it has not printed before without deleting any.
// ComNorm returns the head of the queue, so a queue whose head never moves
// (nobody consumes) shows only its first 100 messages.
func peekLoop(ctx context.Context, c *comnorm.Client, queue string, timeout time.Duration, h func(context.Context, notifykit.Event) error, onErr func(error)) error {
	seen := map[string]bool{}
	failures := 0
	for ctx.Err() == nil {
		msgs, err := c.Peek(ctx, queue, comnorm.PeekOptions{Count: 100, Timeout: timeout})
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, comnorm.ErrUnauthorized) || errors.Is(err, comnorm.ErrQueueNotFound):
			return err
		case err != nil:
			onErr(err)
			failures++
			if backoff.Sleep(ctx, time.Duration(min(failures, 30))*time.Second) != nil {
				return nil
			}
			continue
		}
		failures = 0
		fresh := 0
		for _, m := range msgs {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			fresh++
			_ = h(ctx, &comnorm.Event{QueueID: queue, Message: m, Received: time.Now(), Attempt: 1})
		}
		if fresh == 0 {
			// The head did not change: the peek answered at once with the
			// same messages; wait instead of spinning.
			if backoff.Sleep(ctx, time.Second) != nil {
				return nil
			}
		}
	}
	return nil
}
