package kreditsmart

import (
	"context"

	"github.com/eclipse/paho.golang/autopaho"
)

// FetchShadow returns the raw device shadow document, so that an integrator
// can see where Europace keeps the topic and configure WithTopicPointer.
// It uses HTTPS with WithShadowHTTPS; otherwise the running connection, or,
// when Run is not active, a short-lived MQTT connection of its own (with the
// same client id, so do not call it next to a running instance elsewhere).
func (s *Subscriber) FetchShadow(ctx context.Context) ([]byte, error) {
	if s.prefix == "" {
		return nil, configErr("FetchShadow needs WithThing")
	}
	if s.o.shadowHTTPS {
		return s.fetchShadowHTTPS(ctx)
	}
	s.mu.Lock()
	cm, gen, up := s.cm, s.gen, s.up
	s.mu.Unlock()
	if cm != nil && up {
		s.subMu.Lock()
		err := s.subscribeShadow(ctx, cm, gen)
		s.subMu.Unlock()
		if err != nil {
			return nil, err
		}
		return s.fetchShadowMQTT(ctx, cm)
	}
	if s.running.Load() {
		return nil, &ShadowError{Thing: s.o.thing, Shadow: s.o.shadowName, Message: "not connected"}
	}
	return s.fetchOnce(ctx)
}

// fetchOnce opens its own connection for one shadow read.
func (s *Subscriber) fetchOnce(ctx context.Context) ([]byte, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	connErr := make(chan error, 1)
	cfg := s.clientConfig(cctx, false)
	cfg.OnConnectError = func(err error) {
		select {
		case connErr <- &ConnectError{Endpoint: s.host, Err: err, Permanent: permanentTLS(err)}:
		default:
		}
	}
	cm, err := autopaho.NewConnection(cctx, cfg)
	if err != nil {
		return nil, configErr("%v", err)
	}
	defer func() { cancel(); <-cm.Done() }()
	up := make(chan error, 1)
	go func() { up <- cm.AwaitConnection(cctx) }()
	select {
	case err := <-connErr:
		return nil, err
	case err := <-up:
		if err != nil {
			return nil, err
		}
	}
	// A private generation number so subscribe() treats this connection as
	// live without touching Run's state.
	s.mu.Lock()
	s.gen++
	gen := s.gen
	s.up = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.up = false
		s.mu.Unlock()
	}()
	if err := s.subscribeShadow(ctx, cm, gen); err != nil {
		return nil, err
	}
	return s.fetchShadowMQTT(ctx, cm)
}
