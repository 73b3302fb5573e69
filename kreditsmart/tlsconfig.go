package kreditsmart

import (
	"crypto/tls"
	"crypto/x509"
	_ "embed"
)

// amazonRoots holds Amazon Root CA 1 (RSA 2048) and Amazon Root CA 3 (ECC
// P-256), the anchors of AWS IoT's ATS endpoints. They are embedded so that
// minimal containers without a CA bundle can connect.
//
//go:embed amazon_roots.pem
var amazonRoots []byte

// defaultRoots is the system pool plus the Amazon roots.
func defaultRoots() *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(amazonRoots)
	return pool
}

// alpnMQTT is the protocol AWS IoT expects for MQTT with client
// certificates on port 443.
const alpnMQTT = "x-amzn-mqtt-ca"

// tlsConfig builds the mutual-TLS client configuration: TLS 1.2 or later,
// SNI set to the endpoint host (AWS IoT routes on it), no session tickets
// (AWS IoT does not support them), ALPN on port 443.
func tlsConfig(host string, port int, cert tls.Certificate, roots *x509.CertPool, nextProto string) *tls.Config {
	if roots == nil {
		roots = defaultRoots()
	}
	c := &tls.Config{
		MinVersion:             tls.VersionTLS12,
		ServerName:             host,
		RootCAs:                roots,
		Certificates:           []tls.Certificate{cert},
		SessionTicketsDisabled: true,
	}
	if port == 443 && nextProto != "" {
		c.NextProtos = []string{nextProto}
	}
	return c
}
