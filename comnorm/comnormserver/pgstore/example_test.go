package pgstore_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormserver/pgstore"
)

// Run as many of these as needed behind a load balancer, all with the same
// database.
func ExampleConfigure() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := comnormserver.Config{Addr: ":8080", PartnerKeysFile: "/etc/comnorm/partners", PublicURL: "https://queue.example.com"}
	closeStore, err := pgstore.Configure(ctx, &cfg, "postgres://comnorm@db.internal/comnorm")
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	if err := comnormserver.ListenAndServe(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}
