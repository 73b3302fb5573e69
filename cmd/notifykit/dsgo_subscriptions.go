package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

func runDSGO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return subcommand(ctx, "dsgo", map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"subscriptions": dsgoSubscriptions,
	}, args, stdout, stderr)
}

func dsgoSubscriptions(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return subcommand(ctx, "dsgo subscriptions", map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"list":   dsgoSubList,
		"create": dsgoSubCreate,
		"delete": dsgoSubDelete,
		"test":   dsgoSubTest,
	}, args, stdout, stderr)
}

// dsgoClientFlags are the connection and iSHARE flags of every
// "dsgo subscriptions" command.
type dsgoClientFlags struct {
	baseURL, clientID, keyFile, chainFile, serverID, tokenURL, scope string
	json                                                             bool
	timeout                                                          time.Duration
}

func (f *dsgoClientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.baseURL, "base-url", envDefault("DSGO_BASE_URL", ""), "provider API base URL that /subscriptions is relative to (env DSGO_BASE_URL)")
	fs.StringVar(&f.clientID, "client-id", envDefault("DSGO_CLIENT_ID", ""), "our organisation ID, the iSHARE client_id (env DSGO_CLIENT_ID)")
	fs.StringVar(&f.keyFile, "key", envDefault("DSGO_KEY_FILE", ""), "PEM file with our RSA private key (env DSGO_KEY_FILE)")
	fs.StringVar(&f.chainFile, "chain", envDefault("DSGO_CHAIN_FILE", ""), "PEM file with our certificate chain, signing certificate first (env DSGO_CHAIN_FILE; default: the -key file)")
	fs.StringVar(&f.serverID, "server-id", envDefault("DSGO_SERVER_ID", ""), "the provider's organisation ID, the assertion's audience (env DSGO_SERVER_ID)")
	fs.StringVar(&f.tokenURL, "token-url", envDefault("DSGO_TOKEN_URL", ""), "token endpoint (env DSGO_TOKEN_URL; default <base-url>/connect/token)")
	fs.StringVar(&f.scope, "scope", envDefault("DSGO_SCOPE", ""), "token scope (env DSGO_SCOPE; default iSHARE, the DSGO wiki writes \"dsgo ishare\")")
	fs.BoolVar(&f.json, "json", false, "print the provider's objects as JSON")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "bound for the whole command")
}

// client validates the flags (false: usage error, already reported) and
// builds the client.
func (f *dsgoClientFlags) client(fs *flag.FlagSet, stderr io.Writer) (*dsgo.Client, bool) {
	if !required(fs, stderr, map[string]string{"base-url": f.baseURL, "client-id": f.clientID, "key": f.keyFile, "server-id": f.serverID}) {
		return nil, false
	}
	creds, err := dsgo.LoadCredentials(f.clientID, f.keyFile, f.chainFile)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return nil, false
	}
	opts := []dsgo.Option{dsgo.WithCredentials(creds, f.serverID)}
	if f.tokenURL != "" {
		opts = append(opts, dsgo.WithTokenURL(f.tokenURL))
	}
	if f.scope != "" {
		opts = append(opts, dsgo.WithScope(f.scope))
	}
	c, err := dsgo.NewClient(f.baseURL, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return nil, false
	}
	return c, true
}

func dsgoSubList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit dsgo subscriptions list", flag.ContinueOnError)
	var f dsgoClientFlags
	f.register(fs)
	usageFor(fs, "notifykit dsgo subscriptions list [connection flags]",
		"Lists our subscriptions at the provider, active and inactive.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if !noArgs(fs, stderr) {
		return 2
	}
	c, ok := f.client(fs, stderr)
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	list, err := c.Subscriptions.List(ctx)
	if err != nil {
		return runFailed(stderr, fs.Name(), err)
	}
	if f.json {
		return printJSON(stdout, stderr, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tEVENT TYPES\tWEBHOOK\tEND")
	for _, s := range list.Subscriptions {
		end := "-"
		if !s.EndDate.IsZero() {
			end = s.EndDate.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Status, strings.Join(s.EventTypes, ","), s.WebhookURL, end)
	}
	_ = tw.Flush()
	return 0
}

func dsgoSubCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit dsgo subscriptions create", flag.ContinueOnError)
	var f dsgoClientFlags
	f.register(fs)
	eventTypes := fs.String("event-types", "", "comma-separated event types to subscribe to (required), e.g. Modified,Deleted")
	webhook := fs.String("webhook-url", "", "https URL the provider posts notifications to (required)")
	description := fs.String("description", "", "free text shown with the subscription")
	end := fs.String("end", "", "end the subscription at this RFC 3339 time or after this duration (e.g. 720h); default: no end")
	usageFor(fs, "notifykit dsgo subscriptions create -event-types T1,T2 -webhook-url URL [connection flags]",
		"Subscribes to event types; prints the new subscription (id first). DSGO has no update: to change",
		"a subscription, delete it and create a new one.")
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if !noArgs(fs, stderr) || !required(fs, stderr, map[string]string{"event-types": *eventTypes, "webhook-url": *webhook}) {
		return 2
	}
	req := dsgo.SubscriptionCreate{WebhookURL: *webhook, Description: *description}
	for _, t := range strings.Split(*eventTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			req.EventTypes = append(req.EventTypes, t)
		}
	}
	if *end != "" {
		at, err := parseEnd(*end, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "%s: -end: %v\n", fs.Name(), err)
			return 2
		}
		req.EndDate = dsgo.UnixTime{Time: at}
	}
	c, ok := f.client(fs, stderr)
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	sub, err := c.Subscriptions.Create(ctx, req)
	if err != nil {
		return runFailed(stderr, fs.Name(), err)
	}
	if f.json {
		return printJSON(stdout, stderr, sub)
	}
	fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", sub.ID, sub.Status, strings.Join(sub.EventTypes, ","), sub.WebhookURL)
	return 0
}

// parseEnd reads an RFC 3339 time or a duration from now.
func parseEnd(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("duration %s is not in the future", s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}

func dsgoSubDelete(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dsgoSubByID(ctx, "delete", "Deactivates the subscription (it stays listed as inactive).", args, stdout, stderr,
		func(ctx context.Context, c *dsgo.Client, id string, f *dsgoClientFlags) error {
			if err := c.Subscriptions.Delete(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s deleted\n", id)
			return nil
		})
}

func dsgoSubTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dsgoSubByID(ctx, "test", "Asks the provider to send a test notification (event type Test) to the subscription's webhook.", args, stdout, stderr,
		func(ctx context.Context, c *dsgo.Client, id string, f *dsgoClientFlags) error {
			ev, err := c.Subscriptions.Test(ctx, id)
			if err != nil {
				return err
			}
			if f.json && ev != nil {
				if printJSON(stdout, io.Discard, ev) != 0 {
					return fmt.Errorf("cannot encode the provider's answer")
				}
				return nil
			}
			if ev != nil {
				fmt.Fprintf(stdout, "test notification queued: event %s (%s)\n", ev.EventID, ev.EventType)
			} else {
				fmt.Fprintln(stdout, "test notification queued")
			}
			return nil
		})
}

// dsgoSubByID runs a command that takes one subscription id argument.
func dsgoSubByID(ctx context.Context, name, description string, args []string, stdout, stderr io.Writer,
	do func(context.Context, *dsgo.Client, string, *dsgoClientFlags) error) int {
	fs := flag.NewFlagSet("notifykit dsgo subscriptions "+name, flag.ContinueOnError)
	var f dsgoClientFlags
	f.register(fs)
	usageFor(fs, "notifykit dsgo subscriptions "+name+" [connection flags] ID", description)
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one subscription id (flags go before it)\n", fs.Name())
		return 2
	}
	c, ok := f.client(fs, stderr)
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return runFailed(stderr, fs.Name(), do(ctx, c, fs.Arg(0), &f))
}

func printJSON(stdout, stderr io.Writer, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "notifykit: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
