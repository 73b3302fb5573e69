package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/notifykit/notifykit/kreditsmart"
)

func listenKreditsmart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit listen kreditsmart", flag.ContinueOnError)
	var common listenCommon
	common.register(fs)
	endpoint := fs.String("endpoint", envDefault("KREDITSMART_ENDPOINT", ""), "AWS IoT data endpoint, host or host:port, e.g. abc123-ats.iot.eu-central-1.amazonaws.com (env KREDITSMART_ENDPOINT)")
	clientID := fs.String("client-id", envDefault("KREDITSMART_CLIENT_ID", ""), "MQTT client id; unique per running process, AWS disconnects the older of two (env KREDITSMART_CLIENT_ID)")
	certFile := fs.String("cert", envDefault("KREDITSMART_CERT_FILE", ""), "PEM file with the client certificate Europace issued (env KREDITSMART_CERT_FILE)")
	keyFile := fs.String("key", envDefault("KREDITSMART_KEY_FILE", ""), "PEM file with the certificate's private key (env KREDITSMART_KEY_FILE)")
	caFile := fs.String("ca", envDefault("KREDITSMART_CA_FILE", ""), "extra PEM root CAs to trust besides the system pool and Amazon's roots (env KREDITSMART_CA_FILE)")
	thing := fs.String("thing", envDefault("KREDITSMART_THING", ""), "thing whose device shadow names the topic (env KREDITSMART_THING)")
	pointer := fs.String("topic-pointer", envDefault("KREDITSMART_TOPIC_POINTER", ""), "JSON pointer to the topic in the shadow, e.g. /state/reported/topic (env KREDITSMART_TOPIC_POINTER)")
	topic := fs.String("topic", envDefault("KREDITSMART_TOPIC", ""), "fixed Partnerbaum to subscribe instead of reading the shadow (env KREDITSMART_TOPIC)")
	port := fs.Int("port", 8883, "MQTT port: 8883, or 443 (ALPN x-amzn-mqtt-ca)")
	watch := fs.Duration("shadow-interval", 15*time.Minute, "re-read the shadow this often to follow partner-tree moves (0: only on update/documents)")
	fetch := fs.Bool("fetch-shadow", false, "print the device shadow document and exit (to find -topic-pointer)")
	webhook := fs.String("webhook", "", "instead of MQTT, receive Europace's signed webhooks on this listen address, e.g. :8080")
	secret := fs.String("secret", "", "webhook signing secret; several comma-separated during a rotation (env KREDITSMART_WEBHOOK_SECRET; prefer the environment)")
	usageFor(fs, "notifykit listen kreditsmart -endpoint HOST -client-id ID -cert FILE -key FILE (-thing NAME -topic-pointer PTR | -topic TREE) [flags]\n"+
		"       notifykit listen kreditsmart -webhook ADDR -secret SECRET [flags]",
		"Subscribes to Europace's KEX-PUSH notifications on AWS IoT Core with the device certificate and",
		"prints one line per notification, topic change and gap; nothing is acknowledged before it was printed.",
		"With -webhook it runs the new channel's receiver instead: X-SIGNATURE is checked, then printed.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	secretFromEnv(secret, "KREDITSMART_WEBHOOK_SECRET")
	if *webhook != "" {
		if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"secret": *secret}) {
			return 2
		}
		return listenKreditsmartWebhook(ctx, *webhook, *secret, &common, stdout, stderr)
	}
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{
		"endpoint": *endpoint, "client-id": *clientID, "cert": *certFile, "key": *keyFile,
	}) {
		return 2
	}
	if (*topic == "") == (*thing == "") || (*thing != "" && *pointer == "") {
		fmt.Fprintln(stderr, "notifykit listen kreditsmart: give either -topic, or -thing with -topic-pointer")
		return 2
	}
	opts := []kreditsmart.Option{
		kreditsmart.WithClientCertificateFiles(*certFile, *keyFile),
		kreditsmart.WithPort(*port),
		kreditsmart.WithLogger(common.logger(stderr)),
		kreditsmart.WithOnError(onError(stderr, "kreditsmart")),
	}
	if *caFile != "" {
		opts = append(opts, kreditsmart.WithRootCAFile(*caFile))
	}
	if *topic != "" {
		opts = append(opts, kreditsmart.WithStaticTopic(*topic))
	} else {
		opts = append(opts, kreditsmart.WithThing(*thing), kreditsmart.WithTopicPointer(*pointer),
			kreditsmart.WithWatchShadow(true, *watch))
	}
	_, h := common.printer(stdout)
	opts = append(opts, kreditsmart.WithHandler(h))
	sub, err := kreditsmart.NewSubscriber(*endpoint, *clientID, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen kreditsmart: %v\n", err)
		return 2
	}
	if *fetch {
		doc, err := sub.FetchShadow(ctx)
		if err != nil {
			return runFailed(stderr, "notifykit listen kreditsmart", err)
		}
		fmt.Fprintf(stdout, "%s\n", doc)
		return 0
	}
	return runFailed(stderr, "notifykit listen kreditsmart", sub.Run(ctx))
}

// listenKreditsmartWebhook serves the signed webhook channel on addr.
func listenKreditsmartWebhook(ctx context.Context, addr, secrets string, common *listenCommon, stdout, stderr io.Writer) int {
	var keys [][]byte
	for _, s := range strings.Split(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			keys = append(keys, []byte(s))
		}
	}
	_, h := common.printer(stdout)
	wh, err := kreditsmart.NewWebhookHandler(keys, kreditsmart.WithHandler(h),
		kreditsmart.WithLogger(common.logger(stderr)), kreditsmart.WithOnError(onError(stderr, "kreditsmart")))
	if err != nil {
		fmt.Fprintf(stderr, "notifykit listen kreditsmart: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return runFailed(stderr, "notifykit listen kreditsmart", err)
	}
	fmt.Fprintf(stderr, "notifykit listen kreditsmart: webhook at http://%s/\n", ln.Addr())
	return runFailed(stderr, "notifykit listen kreditsmart", serveUntil(ctx, ln, wh, "", ""))
}
