package pgqueue_test

import (
	"context"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgqueue"
)

// Post through one instance, peek and delete through any other.
func ExampleStore() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://localhost/comnorm")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	s, err := pgqueue.Open(ctx, pool, pgqueue.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateQueue(ctx, pgqueue.Queue{ID: "q1", Owner: "partner-1", Secret: []byte("hash")}, 10); err != nil {
		log.Fatal(err)
	}
	if err := s.Post(ctx, "q1", pgqueue.Message{ID: "m1", Content: []byte(`{"a":1}`)}, 1000); err != nil {
		log.Fatal(err)
	}
	msgs, err := s.Peek(ctx, "q1", 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := s.DeleteMessage(ctx, "q1", m.ID); err != nil {
			log.Fatal(err)
		}
	}
}
