package testpki_test

import (
	"crypto/tls"
	"fmt"
	"log"

	"github.com/notifykit/notifykit/internal/testpki"
)

// A server that requires client certificates, and a client presenting one.
func Example() {
	ca, err := testpki.NewCA(testpki.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := ca.Server()
	if err != nil {
		log.Fatal(err)
	}
	cli, err := ca.Client("device-1")
	if err != nil {
		log.Fatal(err)
	}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", testpki.ServerTLS(srv, ca))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if tc.Handshake() == nil {
			fmt.Fprint(tc, tc.ConnectionState().PeerCertificates[0].Subject.CommonName)
		}
	}()

	conn, err := tls.Dial("tcp", ln.Addr().String(), testpki.ClientTLS(ca, cli))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	fmt.Printf("server saw CN=%s\n", buf[:n])
	// Output: server saw CN=device-1
}
