package brokertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables the harness reads.
const (
	// EnvAMQPURL names an existing RabbitMQ to use instead of starting one.
	EnvAMQPURL = "NOTIFYKIT_AMQP_URL"
	// EnvMQTTURL names an existing MQTT broker to use instead of starting
	// one, for tests whose MosquittoConfig is the zero value.
	EnvMQTTURL = "NOTIFYKIT_MQTT_URL"
	// EnvRequireBrokers, set to 1, turns a missing broker from a skip into
	// a test failure (CI sets it).
	EnvRequireBrokers = "NOTIFYKIT_REQUIRE_BROKERS"
)

// installHint is the exact command that makes the local path work.
const installHint = "apt-get update && apt-get install -y rabbitmq-server mosquitto"

// StartRabbitMQ gets a RabbitMQ for code outside tests (the bench runner):
// the broker named by NOTIFYKIT_AMQP_URL, else a private node started from
// the installed rabbitmq-server, else a container when a Docker engine
// answers. The caller must Close the broker. When none is available the
// error wraps ErrNoBroker and says how to install one.
func StartRabbitMQ(ctx context.Context) (*Broker, error) {
	if url := os.Getenv(EnvAMQPURL); url != "" {
		return &Broker{URL: url}, nil
	}
	return startOwnRabbitMQ(ctx)
}

// startOwnRabbitMQ is StartRabbitMQ without the environment's broker.
func startOwnRabbitMQ(ctx context.Context) (*Broker, error) {
	b, localErr := startLocalRabbitMQ(ctx)
	if !errors.Is(localErr, ErrNoBroker) {
		return b, localErr // started, or installed but broken: report that
	}
	b, dockerErr := startContainerRabbitMQ(ctx)
	if !errors.Is(dockerErr, ErrNoBroker) {
		return b, dockerErr
	}
	return nil, noBroker("RabbitMQ", EnvAMQPURL, localErr, dockerErr)
}

// StartMosquitto gets a Mosquitto configured as conf, resolved like
// StartRabbitMQ. NOTIFYKIT_MQTT_URL is used only for the zero
// MosquittoConfig: a broker someone else runs cannot be given a TLS
// listener or an ACL, so such configurations go on to a local or container
// broker. The caller must Close the broker.
func StartMosquitto(ctx context.Context, conf MosquittoConfig) (*Broker, error) {
	if err := conf.validate(); err != nil {
		return nil, err
	}
	if url := os.Getenv(EnvMQTTURL); url != "" && conf.isZero() {
		return &Broker{URL: url}, nil
	}
	b, localErr := startLocalMosquitto(ctx, conf)
	if !errors.Is(localErr, ErrNoBroker) {
		return b, localErr
	}
	b, dockerErr := startContainerMosquitto(ctx, conf)
	if !errors.Is(dockerErr, ErrNoBroker) {
		return b, dockerErr
	}
	return nil, noBroker("Mosquitto", EnvMQTTURL, localErr, dockerErr)
}

func noBroker(kind, env string, localErr, dockerErr error) error {
	return fmt.Errorf("%w: no %s (%s is unset; %v; %v); install one with: %s",
		ErrNoBroker, kind, env, strip(localErr), strip(dockerErr), installHint)
}

// strip drops the ErrNoBroker prefix from a wrapped reason so the combined
// message says it once.
func strip(err error) string {
	return strings.TrimPrefix(err.Error(), ErrNoBroker.Error()+": ")
}

// verdict is what a test helper does when it could not get a broker.
type verdict int

const (
	verdictFail verdict = iota
	verdictSkip
)

// judge decides between skipping and failing. Only a missing broker may
// skip, and not when brokers are required; a broker that is installed but
// fails to start is always a failure, since skipping would hide it.
func judge(err error, require bool) verdict {
	if errors.Is(err, ErrNoBroker) && !require {
		return verdictSkip
	}
	return verdictFail
}

// requireBrokers reports whether NOTIFYKIT_REQUIRE_BROKERS asks for brokers.
// Any value but "", "0" and "false" does, so a typo errs on the strict side.
func requireBrokers() bool {
	v := strings.TrimSpace(os.Getenv(EnvRequireBrokers))
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}
