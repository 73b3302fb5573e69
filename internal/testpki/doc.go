// Package testpki generates throwaway X.509 material for tests: a CA, server
// certificates for the loopback names, client certificates with a chosen
// common name (valid, expired or from a foreign CA) and intermediate CAs for
// chains such as iSHARE's x5c.
//
// Everything is generated in memory with crypto/rand; nothing is cached, so
// every test gets its own PKI. Keys are ECDSA P-256 by default because they
// are fast to make; set Options.KeyType to RSA2048 where a protocol demands
// RSA (iSHARE signs with RS256).
//
// A short tour:
//
//	ca, _ := testpki.NewCA(testpki.Options{})
//	srv, _ := ca.Server("broker.test")   // localhost, 127.0.0.1, ::1 and broker.test
//	cli, _ := ca.Client("device-1")      // CN=device-1
//	serverConf := testpki.ServerTLS(srv, ca) // requires client certs issued by ca
//	clientConf := testpki.ClientTLS(ca, cli) // trusts ca, presents cli
//
// For programs that need files (Mosquitto's cafile, certfile, keyfile), use
// Cert.WriteFiles or the PEM methods.
package testpki
