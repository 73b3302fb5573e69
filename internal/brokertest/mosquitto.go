package brokertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MosquittoConfig describes the Mosquitto a test needs. The zero value is a
// plain listener that accepts anonymous clients on every topic.
type MosquittoConfig struct {
	// TLS, when set, adds a second listener speaking MQTT over TLS; its
	// address is Broker.TLSURL.
	TLS *MosquittoTLS
	// ACL is the content of Mosquitto's acl_file, applied to all listeners
	// (per_listener_settings is false). Empty means no ACL: every client may
	// use every topic. Lines before the first "user" line apply to anonymous
	// clients; with UseIdentityAsUsername the user is the certificate's CN.
	ACL string
	// Extra lines go into the global part of mosquitto.conf, before the
	// listener sections: use them for global options such as
	// max_queued_messages or autosave_interval, not for listener options.
	Extra []string
}

// MosquittoTLS configures the TLS listener. The PEM blocks are written to
// the broker's own directory.
type MosquittoTLS struct {
	// CertPEM is the server certificate followed by its intermediates, and
	// KeyPEM its private key (testpki's ChainPEM and KeyPEM). Required.
	CertPEM, KeyPEM []byte
	// CAPEM holds the CAs trusted for client certificates (testpki's
	// RootPEM). Required with RequireCertificate.
	CAPEM []byte
	// RequireCertificate rejects clients without a valid certificate.
	RequireCertificate bool
	// UseIdentityAsUsername makes the client certificate's common name the
	// MQTT username that ACL "user" lines match.
	UseIdentityAsUsername bool
}

// isZero reports whether conf asks for nothing beyond a plain broker, which
// is all a broker from NOTIFYKIT_MQTT_URL can promise.
func (c MosquittoConfig) isZero() bool {
	return c.TLS == nil && c.ACL == "" && len(c.Extra) == 0
}

func (c MosquittoConfig) validate() error {
	if t := c.TLS; t != nil {
		if len(t.CertPEM) == 0 || len(t.KeyPEM) == 0 {
			return errors.New("brokertest: MosquittoTLS needs CertPEM and KeyPEM")
		}
		if (t.RequireCertificate || t.UseIdentityAsUsername) && len(t.CAPEM) == 0 {
			return errors.New("brokertest: MosquittoTLS needs CAPEM to verify client certificates")
		}
	}
	for _, l := range c.Extra {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("brokertest: Extra line %q spans lines", l)
		}
	}
	return nil
}

// mosquittoLayout says where a rendered configuration lives: on this
// machine, or inside a container.
type mosquittoLayout struct {
	dir       string // directory holding the configuration, certificates and ACL
	dataDir   string // persistence directory
	bind      string // listener address ("127.0.0.1" or "" for all)
	plainPort int
	tlsPort   int
	user      string // "user" option; empty to leave Mosquitto's default
	logDest   string
}

// files returns mosquitto.conf and the files it refers to, keyed by their
// name inside layout.dir.
func (c MosquittoConfig) files(lay mosquittoLayout) map[string][]byte {
	p := func(name string) string { return filepath.ToSlash(filepath.Join(lay.dir, name)) }
	listener := func(port int) string {
		if lay.bind == "" {
			return "listener " + strconv.Itoa(port)
		}
		return fmt.Sprintf("listener %d %s", port, lay.bind)
	}
	out := map[string][]byte{}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("# written by notifykit internal/brokertest")
	line("per_listener_settings false")
	line("allow_anonymous true")
	line("persistence true")
	line("persistence_location %s/", filepath.ToSlash(lay.dataDir))
	line("log_dest %s", lay.logDest)
	line("log_type error")
	line("log_type warning")
	line("log_type notice")
	if lay.user != "" {
		// Run as root, Mosquitto would switch to the mosquitto user, who
		// cannot read our directory.
		line("user %s", lay.user)
	}
	if c.ACL != "" {
		out["acl"] = []byte(c.ACL)
		line("acl_file %s", p("acl"))
	}
	for _, l := range c.Extra {
		line("%s", l)
	}
	line("")
	line("%s", listener(lay.plainPort))
	if t := c.TLS; t != nil {
		out["server.pem"], out["server.key"] = t.CertPEM, t.KeyPEM
		line("")
		line("%s", listener(lay.tlsPort))
		line("certfile %s", p("server.pem"))
		line("keyfile %s", p("server.key"))
		if len(t.CAPEM) > 0 {
			out["ca.pem"] = t.CAPEM
			line("cafile %s", p("ca.pem"))
		}
		line("require_certificate %t", t.RequireCertificate)
		line("use_identity_as_username %t", t.UseIdentityAsUsername)
	}
	out["mosquitto.conf"] = []byte(b.String())
	return out
}

// mosquittoPath finds the mosquitto binary; Debian puts it in /usr/sbin,
// which is not in every user's PATH.
func mosquittoPath() (string, bool) {
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, true
		}
	}
	return "", false
}

// startLocalMosquitto starts a private Mosquitto from the installed binary.
func startLocalMosquitto(ctx context.Context, conf MosquittoConfig) (*Broker, error) {
	path, ok := mosquittoPath()
	if !ok {
		return nil, fmt.Errorf("%w: mosquitto is not installed", ErrNoBroker)
	}
	var lastErr error
	for range 3 {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		l, err := newLocalMosquitto(path, conf, ports[0], ports[1])
		if err != nil {
			return nil, err
		}
		if lastErr = l.start(ctx); lastErr == nil {
			b := &Broker{URL: fmt.Sprintf("mqtt://127.0.0.1:%d", ports[0]), b: l}
			if conf.TLS != nil {
				b.TLSURL = fmt.Sprintf("mqtts://127.0.0.1:%d", ports[1])
			}
			return b, nil
		}
		_ = l.close()
		if ctx.Err() != nil || !errors.Is(lastErr, errExited) {
			break
		}
	}
	return nil, lastErr
}

func newLocalMosquitto(path string, conf MosquittoConfig, plainPort, tlsPort int) (*localBroker, error) {
	dir, err := os.MkdirTemp("", "notifykit-mosquitto-")
	if err != nil {
		return nil, fmt.Errorf("brokertest: %w", err)
	}
	lay := mosquittoLayout{dir: dir, dataDir: dir, bind: "127.0.0.1", plainPort: plainPort, tlsPort: tlsPort, logDest: "stderr"}
	if u, err := user.Current(); err == nil && os.Geteuid() == 0 {
		lay.user = u.Username
	}
	for name, data := range conf.files(lay) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("brokertest: %w", err)
		}
	}
	ports := []int{plainPort}
	if conf.TLS != nil {
		ports = append(ports, tlsPort)
	}
	return &localBroker{
		kind: "Mosquitto",
		dir:  dir,
		path: path,
		args: []string{"-c", filepath.Join(dir, "mosquitto.conf")},
		env:  os.Environ(),
		ready: func(ctx context.Context) error {
			for _, port := range ports {
				if err := dialTCP(ctx, port); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// dialTCP checks that a listener accepts connections; Mosquitto opens its
// listeners only once its configuration and persistence are loaded.
func dialTCP(ctx context.Context, port int) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return c.Close()
}
