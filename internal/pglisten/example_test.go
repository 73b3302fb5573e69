package pglisten_test

import (
	"context"
	"log"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifykit/notifykit/internal/pglisten"
)

// A long poll waits for its key, re-checking the database at least every
// second in case a notification was lost.
func ExampleListener_Subscribe() {
	cfg, err := pgx.ParseConfig("postgres://localhost/app")
	if err != nil {
		log.Fatal(err)
	}
	l := pglisten.New(cfg, "app_wakeup", nil, nil)
	defer l.Close()

	woken, unsubscribe := l.Subscribe("queue-42")
	defer unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		// ... query the database; return if something is there ...
		select {
		case <-woken:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return
		}
	}
}
