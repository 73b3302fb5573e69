// Package comnormdrain is the workload of the comnorm-drain benchmark: our
// consumer draining 10,000 queued messages from our durable server
// (bbolt store, fsync per group commit), against the naive serial loop a
// user would write first (peek count=1, handle, delete). It also measures
// the server's post→peek→delete throughput and the long-poll wake-up
// latency. internal/bench/comnorm_drain.go registers it with the runner.
package comnormdrain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// Messages is how many messages one drain run handles.
const Messages = 10000

const partnerKey = "bench-partner-key-0123456789"

// Env is one durable server with one queue, shared by the runs.
type Env struct {
	// N is how many messages each drain run handles (default Messages).
	N int

	dir    string
	base   string
	stop   context.CancelFunc
	done   chan error
	client *comnorm.Client
	sender *comnorm.Sender
	queue  *comnorm.Queue
}

// Setup starts the server on a free port with its data in a temp dir.
func Setup(ctx context.Context) (*Env, error) {
	dir, err := os.MkdirTemp("", "comnorm-drain")
	if err != nil {
		return nil, err
	}
	auth, err := comnormserver.NewStaticKeys(map[string]string{"bench": partnerKey})
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e := &Env{N: Messages, dir: dir, stop: stop, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() {
		e.done <- comnormserver.ListenAndServe(sctx, comnormserver.Config{
			Addr: "127.0.0.1:0", DataDir: dir, Auth: auth,
			Ready: func(a net.Addr) { ready <- a },
		})
	}()
	select {
	case a := <-ready:
		e.base = "http://" + a.String() + "/api"
	case err := <-e.done:
		return nil, err
	}
	if e.client, err = comnorm.NewClient(partnerKey, comnorm.WithBaseURL(e.base)); err != nil {
		e.Close()
		return nil, err
	}
	if e.sender, err = comnorm.NewSender(); err != nil {
		e.Close()
		return nil, err
	}
	if e.queue, err = e.client.CreateQueue(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the server and removes its data.
func (e *Env) Close() {
	e.stop()
	<-e.done
	_ = os.RemoveAll(e.dir)
}

// order is the message the shop posts.
type order struct {
	Action  string `json:"action"`
	Article string `json:"article"`
	N       int    `json:"n"`
}

// handle is the work done per message in both loops: decode it.
func handle(content []byte) error {
	var o order
	if err := json.Unmarshal(content, &o); err != nil {
		return err
	}
	if o.Action == "" {
		return errors.New("empty action")
	}
	return nil
}

// fill posts n messages with 16 concurrent senders (not timed).
func (e *Env) fill(ctx context.Context, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := e.sender.Post(ctx, e.queue.NotificationURL, e.queue.NotificationSecret, order{"Artikelwahl", "4711", i}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// DrainSDK fills the queue (not timed), then times comnorm.Consumer
// (batch 100, concurrency 16) until all N messages are handled and deleted.
func (e *Env) DrainSDK(ctx context.Context) (time.Duration, error) {
	if err := e.fill(ctx, e.N); err != nil {
		return 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var handled atomic.Int64
	var failed atomic.Value
	cons, err := comnorm.NewConsumer(e.client, e.queue.ID,
		comnorm.WithBatch(100), comnorm.WithConcurrency(16), comnorm.WithPollTimeout(time.Second),
		comnorm.WithOnError(func(err error) { failed.Store(err) }))
	if err != nil {
		return 0, err
	}
	cons.OnMessage(func(ctx context.Context, ev *comnorm.Event) error {
		if err := handle(ev.Message.Content); err != nil {
			return err
		}
		if handled.Add(1) == int64(e.N) {
			cancel() // Run flushes the pending deletes before it returns
		}
		return nil
	})
	start := time.Now()
	if err := cons.Run(rctx); err != nil {
		return 0, err
	}
	el := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	if err := e.expectEmpty(ctx); err != nil {
		return 0, err
	}
	return el, nil
}

// DrainNaive fills the queue (not timed), then times the loop a user
// writes with plain net/http: peek one message, handle it, delete it,
// repeat.
func (e *Env) DrainNaive(ctx context.Context) (time.Duration, error) {
	if err := e.fill(ctx, e.N); err != nil {
		return 0, err
	}
	hc := &http.Client{}
	do := func(method, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-PARTNER-KEY", partnerKey)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s %s: %d", method, url, resp.StatusCode)
		}
		return b, err
	}
	qurl := e.base + "/queues/" + e.queue.ID + "/messages"
	start := time.Now()
	for n := 0; n < e.N; {
		b, err := do("GET", qurl)
		if err != nil {
			return 0, err
		}
		var msgs []struct {
			MessageID string          `json:"messageId"`
			Content   json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(b, &msgs); err != nil {
			return 0, err
		}
		if len(msgs) == 0 {
			return 0, fmt.Errorf("queue empty after %d messages", n)
		}
		if err := handle(msgs[0].Content); err != nil {
			return 0, err
		}
		if _, err := do("DELETE", qurl+"/"+msgs[0].MessageID); err != nil {
			return 0, err
		}
		n++
	}
	el := time.Since(start)
	if err := e.expectEmpty(ctx); err != nil {
		return 0, err
	}
	return el, nil
}

func (e *Env) expectEmpty(ctx context.Context) error {
	msgs, err := e.client.Peek(ctx, e.queue.ID, comnorm.PeekOptions{Count: 10})
	if err != nil {
		return err
	}
	if len(msgs) != 0 {
		return fmt.Errorf("%d messages left after the drain", len(msgs))
	}
	return nil
}

// CycleThroughput runs 16 workers, each with its own queue, doing
// post → peek → delete for d, and returns completed cycles per second.
func (e *Env) CycleThroughput(ctx context.Context, d time.Duration) (float64, error) {
	const workers = 16
	var cycles atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		q, err := e.client.CreateQueue(ctx)
		if err != nil {
			return 0, err
		}
		wg.Go(func() {
			defer func() { _ = e.client.DeleteQueue(ctx, q.ID) }()
			for time.Now().Before(deadline) {
				if err := e.sender.Post(ctx, q.NotificationURL, q.NotificationSecret, order{"Artikelwahl", "4711", 1}); err != nil {
					firstErr.Store(err)
					return
				}
				msgs, err := e.client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 1})
				if err != nil || len(msgs) != 1 {
					firstErr.Store(fmt.Errorf("peek: %d messages, %v", len(msgs), err))
					return
				}
				if err := e.client.DeleteMessage(ctx, q.ID, msgs[0].ID); err != nil {
					firstErr.Store(err)
					return
				}
				cycles.Add(1)
			}
		})
	}
	start := time.Now()
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(cycles.Load()) / time.Since(start).Seconds(), nil
}

// WakeupLatency measures, n times, the time from sending a post to a
// waiting long poll returning the message, and returns p50 and p99.
func (e *Env) WakeupLatency(ctx context.Context, n int) (p50, p99 time.Duration, err error) {
	q, err := e.client.CreateQueue(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = e.client.DeleteQueue(ctx, q.ID) }()
	lat := make([]time.Duration, 0, n)
	for range n {
		got := make(chan []comnorm.Message, 1)
		errc := make(chan error, 1)
		go func() {
			msgs, err := e.client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 1, Timeout: 10 * time.Second})
			if err != nil {
				errc <- err
				return
			}
			got <- msgs
		}()
		time.Sleep(5 * time.Millisecond) // let the poll reach the server and wait
		start := time.Now()
		if err := e.sender.Post(ctx, q.NotificationURL, q.NotificationSecret, order{"Artikelwahl", "4711", 1}); err != nil {
			return 0, 0, err
		}
		var msgs []comnorm.Message
		select {
		case msgs = <-got:
		case err := <-errc:
			return 0, 0, err
		}
		lat = append(lat, time.Since(start))
		if len(msgs) != 1 {
			return 0, 0, fmt.Errorf("long poll returned %d messages", len(msgs))
		}
		if err := e.client.DeleteMessage(ctx, q.ID, msgs[0].ID); err != nil {
			return 0, 0, err
		}
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], nil
}

// Summary formats the extra measurements for the runner's output.
func Summary(cycles float64, p50, p99 time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "comnorm-drain: post→peek→delete throughput %.0f cycles/s (16 workers, durable store)\n", cycles)
	fmt.Fprintf(&b, "comnorm-drain: long-poll wake-up latency p50 %v, p99 %v (post sent → poll returned)\n", p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
	return b.String()
}
