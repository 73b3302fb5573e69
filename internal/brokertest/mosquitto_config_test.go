package brokertest

import (
	"strings"
	"testing"
)

func TestMosquittoConfigFiles(t *testing.T) {
	conf := MosquittoConfig{
		TLS: &MosquittoTLS{
			CertPEM: []byte("CERT"), KeyPEM: []byte("KEY"), CAPEM: []byte("CA"),
			RequireCertificate: true, UseIdentityAsUsername: true,
		},
		ACL:   "user device-1\ntopic read a/#\n",
		Extra: []string{"max_queued_messages 5000"},
	}
	files := conf.files(mosquittoLayout{dir: "/d", dataDir: "/data", bind: "127.0.0.1", plainPort: 1000, tlsPort: 1001, user: "root", logDest: "stderr"})
	main := string(files["mosquitto.conf"])
	for _, want := range []string{
		"allow_anonymous true", "persistence_location /data/", "user root",
		"acl_file /d/acl", "max_queued_messages 5000",
		"listener 1000 127.0.0.1", "listener 1001 127.0.0.1",
		"certfile /d/server.pem", "keyfile /d/server.key", "cafile /d/ca.pem",
		"require_certificate true", "use_identity_as_username true",
	} {
		if !strings.Contains(main, want+"\n") {
			t.Errorf("mosquitto.conf lacks %q:\n%s", want, main)
		}
	}
	// Extra lines are global options: they must come before any listener,
	// where Mosquitto would read listener options as the listener's.
	if strings.Index(main, "max_queued_messages") > strings.Index(main, "listener ") {
		t.Error("Extra lines placed inside a listener section")
	}
	if strings.Index(main, "require_certificate") < strings.Index(main, "listener 1001") {
		t.Error("TLS options not in the TLS listener's section")
	}
	for name, want := range map[string]string{"acl": conf.ACL, "server.pem": "CERT", "server.key": "KEY", "ca.pem": "CA"} {
		if string(files[name]) != want {
			t.Errorf("%s = %q, want %q", name, files[name], want)
		}
	}

	plain := MosquittoConfig{}.files(mosquittoLayout{dir: "/d", dataDir: "/d", plainPort: 1883, logDest: "stdout"})
	if len(plain) != 1 || strings.Contains(string(plain["mosquitto.conf"]), "acl_file") ||
		!strings.Contains(string(plain["mosquitto.conf"]), "listener 1883\n") {
		t.Errorf("zero config rendered unexpectedly: %v", plain)
	}
}

func TestMosquittoConfigValidate(t *testing.T) {
	bad := map[string]MosquittoConfig{
		"TLS without key":                 {TLS: &MosquittoTLS{CertPEM: []byte("c")}},
		"client certificates without CA":  {TLS: &MosquittoTLS{CertPEM: []byte("c"), KeyPEM: []byte("k"), RequireCertificate: true}},
		"identity as username without CA": {TLS: &MosquittoTLS{CertPEM: []byte("c"), KeyPEM: []byte("k"), UseIdentityAsUsername: true}},
		"multi-line Extra":                {Extra: []string{"a 1\nlistener 1"}},
	}
	for name, c := range bad {
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (MosquittoConfig{TLS: &MosquittoTLS{CertPEM: []byte("c"), KeyPEM: []byte("k")}}).validate(); err != nil {
		t.Errorf("server-only TLS rejected: %v", err)
	}
}
