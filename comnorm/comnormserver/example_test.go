package comnormserver_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// A server over the durable bbolt store; in production use ListenAndServe
// or mount the handler in your own http.Server.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "comnorm-example")
	defer os.RemoveAll(dir)
	store, err := comnormserver.OpenBoltStore(filepath.Join(dir, "comnorm.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	keys, _ := comnormserver.NewStaticKeys(map[string]string{"shop-partner": "a-long-partner-key-123"})
	srv, err := comnormserver.New(store, keys)
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	req, _ := http.NewRequest("POST", ts.URL+"/api/queues", nil)
	req.Header.Set("X-PARTNER-KEY", "a-long-partner-key-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	resp, _ = http.Post(ts.URL+"/api/queues/unknown/messages", "application/json", strings.NewReader(`{}`))
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200
	// 404
}
