package comnormtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormtest"
)

func TestNewServer(t *testing.T) {
	srv := comnormtest.NewServer(t)
	c, err := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := comnorm.NewSender()
	if err := s.Post(context.Background(), q.NotificationURL, q.NotificationSecret, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Store.Peek(context.Background(), q.ID, 10)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != `{"n":1}` {
		t.Fatalf("%v %v", msgs, err)
	}
}

// In a test: comnormtest.NewServer(t); outside one: Start and Close.
func ExampleStart() {
	srv, err := comnormtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, _ := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	q, _ := c.CreateQueue(context.Background())
	msgs, err := c.Peek(context.Background(), q.ID, comnorm.PeekOptions{})
	fmt.Println(len(msgs), err)
	// Output: 0 <nil>
}
