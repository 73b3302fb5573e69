package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/notifykit/notifykit/internal/pgtest"
)

// A test asks for a database and connects with any PostgreSQL client.
func ExampleNew() {
	var t testing.TB // the test's *testing.T
	db := pgtest.New(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
}

// Fault tests get a cluster of their own to kill and restart.
func ExampleNewServer() {
	var t testing.TB // the test's *testing.T
	srv := pgtest.NewServer(t)
	_ = srv.Kill() // like a crashed machine
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err) // crash recovery failed
	}
}
