package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// localServer is an http.Server on a free loopback port.
type localServer struct {
	URL  string // http://127.0.0.1:<port>
	srv  *http.Server
	done chan struct{}
}

// serveLocal serves h on 127.0.0.1 at a free port until shutdown.
func serveLocal(h http.Handler) (*localServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &localServer{
		URL:  "http://" + ln.Addr().String(),
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		// Serve returns ErrServerClosed after shutdown; any other error means
		// the listener broke, which the clients of the server notice anyway.
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// shutdown stops accepting, lets requests in progress finish (bounded by
// ctx, then closes them) and waits for the server goroutine.
func (s *localServer) shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// lockedWriter serialises writes of several goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
