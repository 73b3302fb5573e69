package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images for the Docker fallback.
const (
	rabbitMQImage  = "rabbitmq:3.13"
	mosquittoImage = "eclipse-mosquitto:2"
)

// containerBroker is a broker in a container. Its fault methods are not
// supported (Broker.CanFault is false): a restarted container gets new host
// ports, and fault tests need the broker back on the same address.
type containerBroker struct {
	c    testcontainers.Container
	once sync.Once
	err  error
}

func (c *containerBroker) start(context.Context) error { return ErrNotSupported }
func (c *containerBroker) stop(context.Context) error  { return ErrNotSupported }
func (c *containerBroker) kill() error                 { return ErrNotSupported }

func (c *containerBroker) close() error {
	c.once.Do(func() { c.err = testcontainers.TerminateContainer(c.c) })
	return c.err
}

// dockerErr probes for a Docker engine once per process: when there is none
// the answer does not change, and every probe costs a timeout.
var dockerErr = sync.OnceValue(func() (err error) {
	defer func() {
		// testcontainers panics in some environments without Docker.
		if r := recover(); r != nil {
			err = fmt.Errorf("docker: %v", r)
		}
	}()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Health(ctx) // Health closes the provider
})

// startContainerRabbitMQ runs RabbitMQ in Docker.
func startContainerRabbitMQ(ctx context.Context) (*Broker, error) {
	if err := dockerErr(); err != nil {
		return nil, fmt.Errorf("%w: no Docker engine (%v)", ErrNoBroker, err)
	}
	c, err := testcontainers.Run(ctx, rabbitMQImage,
		testcontainers.WithExposedPorts("5672/tcp"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("5672/tcp").WithStartupTimeout(startTimeout)),
	)
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("brokertest: run %s: %w", rabbitMQImage, err)
	}
	hostPort, err := c.PortEndpoint(ctx, "5672/tcp", "")
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("brokertest: %w", err)
	}
	url := "amqp://guest:guest@" + hostPort + "/"
	// The port opens before the node finishes booting.
	for err = pingAMQP(ctx, url); err != nil; err = pingAMQP(ctx, url) {
		select {
		case <-ctx.Done():
			_ = testcontainers.TerminateContainer(c)
			return nil, fmt.Errorf("brokertest: %s not ready: %w", rabbitMQImage, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return &Broker{URL: url, b: &containerBroker{c: c}}, nil
}

// startContainerMosquitto runs Mosquitto in Docker with the same
// configuration a local instance would get.
func startContainerMosquitto(ctx context.Context, conf MosquittoConfig) (*Broker, error) {
	if err := dockerErr(); err != nil {
		return nil, fmt.Errorf("%w: no Docker engine (%v)", ErrNoBroker, err)
	}
	const dir = "/mosquitto/config"
	lay := mosquittoLayout{dir: dir, dataDir: "/mosquitto/data", plainPort: 1883, tlsPort: 8883, logDest: "stdout"}
	var files []testcontainers.ContainerFile
	for name, data := range conf.files(lay) {
		files = append(files, testcontainers.ContainerFile{
			Reader:            bytes.NewReader(data),
			ContainerFilePath: dir + "/" + name,
			// The image runs as the mosquitto user, which must read them.
			FileMode: 0o644,
		})
	}
	ports := []string{"1883/tcp"}
	if conf.TLS != nil {
		ports = append(ports, "8883/tcp")
	}
	waits := make([]wait.Strategy, 0, len(ports))
	for _, p := range ports {
		waits = append(waits, wait.ForListeningPort(p).WithStartupTimeout(startTimeout))
	}
	c, err := testcontainers.Run(ctx, mosquittoImage,
		testcontainers.WithExposedPorts(ports...),
		testcontainers.WithFiles(files...),
		testcontainers.WithCmd("mosquitto", "-c", dir+"/mosquitto.conf"),
		testcontainers.WithWaitStrategy(waits...),
	)
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("brokertest: run %s: %w", mosquittoImage, err)
	}
	b := &Broker{b: &containerBroker{c: c}}
	for i, p := range ports {
		hostPort, err := c.PortEndpoint(ctx, p, "")
		if err != nil {
			_ = testcontainers.TerminateContainer(c)
			return nil, fmt.Errorf("brokertest: %w", err)
		}
		if i == 0 {
			b.URL = "mqtt://" + hostPort
		} else {
			b.TLSURL = "mqtts://" + hostPort
		}
	}
	return b, nil
}
