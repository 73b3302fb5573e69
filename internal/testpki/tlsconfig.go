package testpki

import "crypto/tls"

// ServerTLS returns a server configuration presenting cert. When clientCA is
// non-nil, clients must present a certificate that chains to clientCA's
// root; when nil, no client certificate is requested.
func ServerTLS(cert *Cert, clientCA *CA) *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert.TLSCertificate()},
	}
	if clientCA != nil {
		c.ClientCAs = clientCA.Pool()
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// ClientTLS returns a client configuration trusting serverCA's root and, when
// cert is non-nil, presenting cert. ServerName is left empty: crypto/tls
// takes it from the dialled address (localhost or an IP literal, both in the
// SANs of ca.Server).
func ClientTLS(serverCA *CA, cert *Cert) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    serverCA.Pool(),
	}
	if cert != nil {
		c.Certificates = []tls.Certificate{cert.TLSCertificate()}
	}
	return c
}
