package brokertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	missing := fmt.Errorf("%w: rabbitmq-server is not installed", ErrNoBroker)
	broken := errors.New("brokertest: start RabbitMQ: broker process exited")
	tests := []struct {
		name    string
		err     error
		require bool
		want    verdict
	}{
		{"missing broker skips", missing, false, verdictSkip},
		{"missing broker fails when required", missing, true, verdictFail},
		{"broken broker fails", broken, false, verdictFail},
		{"broken broker fails when required", broken, true, verdictFail},
		{"invalid config fails", errors.New("brokertest: MosquittoTLS needs CertPEM and KeyPEM"), false, verdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := judge(tt.err, tt.require); got != tt.want {
				t.Fatalf("judge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequireBrokers(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "0": false, "false": false, "FALSE": false,
		"1": true, "true": true, "yes": true, " 1 ": true,
	} {
		t.Setenv(EnvRequireBrokers, v)
		if got := requireBrokers(); got != want {
			t.Errorf("%s=%q: requireBrokers = %v, want %v", EnvRequireBrokers, v, got, want)
		}
	}
}

func TestNoBrokerMessage(t *testing.T) {
	err := noBroker("RabbitMQ", EnvAMQPURL,
		fmt.Errorf("%w: rabbitmq-server is not installed", ErrNoBroker),
		fmt.Errorf("%w: no Docker engine (refused)", ErrNoBroker))
	if !errors.Is(err, ErrNoBroker) {
		t.Fatalf("%v does not wrap ErrNoBroker", err)
	}
	for _, want := range []string{installHint, EnvAMQPURL, "rabbitmq-server is not installed", "no Docker engine"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if n := strings.Count(err.Error(), ErrNoBroker.Error()); n != 1 {
		t.Errorf("message repeats %q %d times: %q", ErrNoBroker, n, err)
	}
}

func TestSharedExclusive(t *testing.T) {
	var s sharedRabbitMQ
	s.acquire("TestA")
	s.acquire("TestA/sub")
	if err := s.exclusive("TestA"); err != nil {
		t.Fatalf("a test and its own subtest conflict: %v", err)
	}
	if err := s.exclusive("TestA/sub"); err != nil {
		t.Fatalf("a subtest and its parent conflict: %v", err)
	}
	s.acquire("TestB")
	err := s.exclusive("TestA")
	if !errors.Is(err, ErrShared) || !strings.Contains(err.Error(), "TestB") {
		t.Fatalf("exclusive with TestB holding = %v, want ErrShared naming TestB", err)
	}
	if err := s.exclusive("TestAB"); !errors.Is(err, ErrShared) {
		t.Fatal("TestAB treated as related to TestA")
	}
	s.release("TestB")
	if err := s.exclusive("TestA"); err != nil {
		t.Fatalf("after TestB released: %v", err)
	}
}

// Brokers from the environment are used as they are and cannot be broken.
func TestEnvBrokers(t *testing.T) {
	const amqpURL, mqttURL = "amqp://u:p@broker.invalid:5672/vh", "mqtt://broker.invalid:1883"
	t.Setenv(EnvAMQPURL, amqpURL)
	t.Setenv(EnvMQTTURL, mqttURL)

	for name, b := range map[string]*Broker{
		"RabbitMQ":        RabbitMQ(t),
		"PrivateRabbitMQ": PrivateRabbitMQ(t),
		"Mosquitto":       Mosquitto(t, MosquittoConfig{}),
	} {
		t.Run(name, func(t *testing.T) {
			if b.URL != amqpURL && b.URL != mqttURL {
				t.Fatalf("URL = %q, want the environment's", b.URL)
			}
			if b.CanFault() {
				t.Error("CanFault is true for an environment broker")
			}
			for op, f := range map[string]func() error{"Stop": b.Stop, "Start": b.Start, "Restart": b.Restart, "Kill": b.Kill} {
				if err := f(); !errors.Is(err, ErrNotSupported) {
					t.Errorf("%s = %v, want ErrNotSupported", op, err)
				}
			}
			if err := b.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
		})
	}
}

// A configuration the environment's broker cannot honour goes to a broker
// the harness starts.
func TestEnvMQTTURLNotUsedForTLSOrACL(t *testing.T) {
	t.Setenv(EnvMQTTURL, "mqtt://broker.invalid:1883")
	b := Mosquitto(t, MosquittoConfig{ACL: "topic readwrite #\n"})
	if strings.Contains(b.URL, "broker.invalid") || !b.CanFault() {
		t.Fatalf("got the environment's broker %q for a config with an ACL", b.URL)
	}
}

// On a machine without Docker the container path must report ErrNoBroker
// quickly, so the harness can go on to skip; with Docker it must work.
func TestContainerPathWithoutDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("may pull images when Docker is present")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	start := time.Now()
	b, err := startContainerMosquitto(ctx, MosquittoConfig{})
	switch {
	case err == nil:
		t.Logf("Docker present: container broker at %s", b.URL)
		if b.CanFault() {
			t.Error("container broker claims fault support")
		}
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	case errors.Is(err, ErrNoBroker):
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("probing for Docker took %v", d)
		}
	default:
		t.Fatalf("container path: %v", err)
	}
}
