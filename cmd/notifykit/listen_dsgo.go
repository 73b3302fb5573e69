package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

func listenDSGO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit listen dsgo", flag.ContinueOnError)
	var common listenCommon
	common.register(fs)
	addr := fs.String("addr", envDefault("DSGO_LISTEN_ADDR", ":8080"), "listen address of the webhook (env DSGO_LISTEN_ADDR)")
	path := fs.String("path", "/", "URL path of the webhook (the subscription's webhook_url path)")
	partyID := fs.String("party-id", envDefault("DSGO_PARTY_ID", ""), "our own organisation ID; notifications must be addressed to it (env DSGO_PARTY_ID)")
	roots := fs.String("trust-roots", envDefault("DSGO_TRUST_ROOTS", ""), "PEM file of trusted root CAs: accept providers' signed iSHARE client assertions (env DSGO_TRUST_ROOTS)")
	token := fs.String("token", "", "accept this shared bearer token instead (env DSGO_WEBHOOK_TOKEN; prefer the environment)")
	noAuth := fs.Bool("no-auth", false, "accept unauthenticated notifications (only behind something that authenticates)")
	tlsCert := fs.String("tls-cert", envDefault("DSGO_TLS_CERT", ""), "serve HTTPS with this PEM certificate chain (env DSGO_TLS_CERT); DSGO requires TLS")
	tlsKey := fs.String("tls-key", envDefault("DSGO_TLS_KEY", ""), "private key of -tls-cert (env DSGO_TLS_KEY)")
	usageFor(fs, "notifykit listen dsgo -party-id ID (-trust-roots FILE | -token TOKEN | -no-auth) [flags]",
		"Runs a DSGO webhook receiver and prints one line per event of every notification it accepts.",
		"Create a subscription whose webhook_url points here with \"notifykit dsgo subscriptions create\".")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	secretFromEnv(token, "DSGO_WEBHOOK_TOKEN")
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"party-id": *partyID}) {
		return 2
	}
	methods := 0
	for _, set := range []bool{*roots != "", *token != "", *noAuth} {
		if set {
			methods++
		}
	}
	if methods != 1 {
		fmt.Fprintln(stderr, "notifykit listen dsgo: choose one of -trust-roots, -token and -no-auth")
		return 2
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(stderr, "notifykit listen dsgo: -tls-cert and -tls-key go together")
		return 2
	}
	logger := common.logger(stderr)
	var auth dsgo.Authenticator
	switch {
	case *roots != "":
		pem, err := os.ReadFile(*roots)
		if err != nil {
			fmt.Fprintf(stderr, "notifykit listen dsgo: %v\n", err)
			return 2
		}
		pool, err := dsgo.CertPool(pem)
		if err != nil {
			fmt.Fprintf(stderr, "notifykit listen dsgo: -trust-roots: %v\n", err)
			return 2
		}
		v, err := dsgo.NewAssertionVerifier(*partyID, pool, dsgo.WithLogger(logger))
		if err != nil {
			fmt.Fprintf(stderr, "notifykit listen dsgo: %v\n", err)
			return 2
		}
		auth = dsgo.SignedAssertion(v)
	case *token != "":
		auth = dsgo.StaticBearer(*token)
	default:
		auth = dsgo.AllowUnauthenticated()
	}
	_, h := common.printer(stdout)
	recv, err := dsgo.NewReceiver(*partyID, auth, dsgo.WithHandler(h), dsgo.WithLogger(logger),
		dsgo.WithOnError(onError(stderr, "dsgo")))
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen dsgo: %v\n", err)
		return 2
	}
	mux := http.NewServeMux()
	mux.Handle(*path, recv)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return runFailed(stderr, "notifykit listen dsgo", err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stderr, "notifykit listen dsgo: webhook at %s://%s%s\n", scheme, ln.Addr(), *path)
	return runFailed(stderr, "notifykit listen dsgo", serveUntil(ctx, ln, mux, *tlsCert, *tlsKey))
}

// serveUntil serves h on ln until ctx ends, then shuts down gracefully.
func serveUntil(ctx context.Context, ln net.Listener, h http.Handler, certFile, keyFile string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() {
		if certFile != "" {
			served <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
