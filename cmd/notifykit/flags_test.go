package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsageErrors checks that every command answers bad or missing flags
// with exit status 2 and a message, and -h with status 0 and its usage.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	keys := writeFile(t, dir, "keys", []byte("p1 key-1\n"))
	for _, env := range []string{"KREDITSMART_ENDPOINT", "KREDITSMART_CLIENT_ID", "KREDITSMART_CERT_FILE", "KREDITSMART_KEY_FILE",
		"KREDITSMART_THING", "KREDITSMART_TOPIC", "KREDITSMART_WEBHOOK_SECRET", "KREDITSMART_TOPIC_POINTER", "BANQUP_AMQP_URL", "BANQUP_QUEUE",
		"COMNORM_PARTNER_KEY", "COMNORM_QUEUE", "COMNORM_PARTNER_KEYS", "COMNORM_DATA_DIR", "COMNORM_MEMORY", "COMNORM_POSTGRES_URL",
		"DSGO_PARTY_ID", "DSGO_TRUST_ROOTS", "DSGO_WEBHOOK_TOKEN", "DSGO_BASE_URL", "DSGO_CLIENT_ID", "DSGO_KEY_FILE", "DSGO_SERVER_ID"} {
		t.Setenv(env, "")
	}
	dsgoConn := []string{"-base-url", "http://127.0.0.1:1", "-client-id", "EU.EORI.NL1", "-key", dir + "/missing.key", "-server-id", "EU.EORI.NL2"}
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"listen"}, "Usage: notifykit listen"},
		{[]string{"listen", "twitter"}, "unknown command"},
		{[]string{"listen", "kreditsmart"}, "missing -cert, -client-id, -endpoint, -key"},
		{[]string{"listen", "kreditsmart", "-endpoint", "h", "-client-id", "c", "-cert", "c.pem", "-key", "k.pem"}, "either -topic, or -thing"},
		{[]string{"listen", "kreditsmart", "-endpoint", "h", "-client-id", "c", "-cert", "c.pem", "-key", "k.pem", "-thing", "t"}, "either -topic, or -thing"},
		{[]string{"listen", "kreditsmart", "-port", "x"}, "invalid value"},
		{[]string{"listen", "kreditsmart", "-webhook", ":0"}, "missing -secret"},
		{[]string{"listen", "banqup"}, "missing -queue, -url"},
		{[]string{"listen", "banqup", "-url", "amqp://u:p@h/", "-queue", "q", "-streams", "account,bogus"}, `unknown stream "bogus"`},
		{[]string{"listen", "banqup", "-url", "http://not-amqp", "-queue", "q"}, "invalid AMQP URL"},
		{[]string{"listen", "comnorm", "-queue", "q"}, "missing -partner-key"},
		{[]string{"listen", "comnorm", "-partner-key", "k", "-queue", "q", "-poll-timeout", "2m"}, "-poll-timeout must be"},
		{[]string{"listen", "comnorm", "-partner-key", "k", "-queue", "q", "extra"}, "unexpected argument"},
		{[]string{"listen", "dsgo"}, "missing -party-id"},
		{[]string{"listen", "dsgo", "-party-id", "p"}, "choose one of -trust-roots, -token and -no-auth"},
		{[]string{"listen", "dsgo", "-party-id", "p", "-token", "t", "-no-auth"}, "choose one of"},
		{[]string{"listen", "dsgo", "-party-id", "p", "-no-auth", "-tls-cert", "c.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"listen", "dsgo", "-party-id", "p", "-trust-roots", dir + "/nope.pem"}, "no such file"},
		{[]string{"comnorm"}, "Usage: notifykit comnorm serve"},
		{[]string{"comnorm", "server"}, "unknown command"},
		{[]string{"comnorm", "serve"}, "missing -partner-keys"},
		{[]string{"comnorm", "serve", "-partner-keys", keys}, "set -data-dir"},
		{[]string{"comnorm", "serve", "-partner-keys", keys, "-postgres", "postgres://127.0.0.1:1/x", "-memory"}, "cannot be combined"},
		{[]string{"comnorm", "serve", "-max-queues", "many"}, "invalid value"},
		{[]string{"dsgo"}, "Usage: notifykit dsgo subscriptions"},
		{[]string{"dsgo", "subscriptions"}, "Usage: notifykit dsgo subscriptions create|delete|list|test"},
		{[]string{"dsgo", "subscriptions", "update"}, "unknown command"},
		{[]string{"dsgo", "subscriptions", "list"}, "missing -base-url, -client-id, -key, -server-id"},
		{append([]string{"dsgo", "subscriptions", "list"}, dsgoConn...), "bad credentials"},
		{[]string{"dsgo", "subscriptions", "create", "-webhook-url", "https://x"}, "missing -event-types"},
		{append(append([]string{"dsgo", "subscriptions", "create"}, dsgoConn...), "-event-types", "Modified", "-webhook-url", "https://x", "-end", "soon"), "neither an RFC 3339 time nor a duration"},
		{[]string{"dsgo", "subscriptions", "delete"}, "want exactly one subscription id"},
		{[]string{"dsgo", "subscriptions", "test", "a", "b"}, "want exactly one subscription id"},
		{[]string{"sandbox", "-rate", "-1"}, "-rate in (0, 10000]"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			st := run(context.Background(), c.args, &out, &errOut)
			if st != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", st, out.String(), errOut.String())
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("stderr does not contain %q:\n%s", c.want, errOut.String())
			}
		})
	}
}

// TestHelpEverywhere checks that -h works for every command and describes
// every flag, with exit status 0.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"sandbox"}, {"listen"}, {"listen", "kreditsmart"}, {"listen", "banqup"}, {"listen", "comnorm"}, {"listen", "dsgo"},
		{"comnorm"}, {"comnorm", "serve"}, {"dsgo"}, {"dsgo", "subscriptions"},
		{"dsgo", "subscriptions", "list"}, {"dsgo", "subscriptions", "create"},
		{"dsgo", "subscriptions", "delete"}, {"dsgo", "subscriptions", "test"},
	} {
		var out, errOut bytes.Buffer
		st := run(context.Background(), append(args, "-h"), &out, &errOut)
		text := out.String() + errOut.String()
		if st != 0 || !strings.Contains(text, "Usage: notifykit "+args[0]) {
			t.Errorf("%v -h: exit %d, output:\n%s", args, st, text)
		}
	}
	// "notifykit help listen" is "notifykit listen -h".
	var out bytes.Buffer
	if st := run(context.Background(), []string{"help", "listen"}, &out, &bytes.Buffer{}); st != 0 || !strings.Contains(out.String(), "kreditsmart") {
		t.Errorf("help listen: exit %d, output %q", st, out.String())
	}
}

// TestSecretsNotEchoed checks that secrets from the environment are not
// printed as flag defaults by -h.
func TestSecretsNotEchoed(t *testing.T) {
	const secret = "s3cret-from-env"
	t.Setenv("BANQUP_AMQP_URL", "amqp://user:"+secret+"@host/")
	t.Setenv("COMNORM_PARTNER_KEY", secret)
	t.Setenv("DSGO_WEBHOOK_TOKEN", secret)
	t.Setenv("COMNORM_POSTGRES_URL", "postgres://user:"+secret+"@host/db")
	t.Setenv("KREDITSMART_WEBHOOK_SECRET", secret)
	for _, src := range []string{"banqup", "comnorm", "dsgo", "kreditsmart"} {
		var out, errOut bytes.Buffer
		run(context.Background(), []string{"listen", src, "-h"}, &out, &errOut)
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("listen %s -h prints the secret", src)
		}
	}
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"comnorm", "serve", "-h"}, &out, &errOut)
	if help := out.String() + errOut.String(); strings.Contains(help, secret) || !strings.Contains(help, "-postgres") {
		t.Errorf("comnorm serve -h prints the DSN's password or omits -postgres:\n%s", help)
	}
}
