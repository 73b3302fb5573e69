package dsgoprovider

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbiddenTarget is matched when a webhook URL resolves to an address
// the dispatcher refuses to call (loopback, private, link-local, ...).
var ErrForbiddenTarget = errors.New("dsgoprovider: webhook target not allowed")

// publicAddr reports whether ip is a globally routable unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Ranges netip does not classify but that are not the public internet.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 can reach private IPv4
	netip.MustParsePrefix("2002::/16"),     // 6to4 likewise
	netip.MustParsePrefix("fec0::/10"),     // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),      // discard
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("255.255.255.255/32"),
}

// guardedClient returns the dispatcher's default client: the address check
// runs on the socket's actual destination (net.Dialer.Control), after DNS
// resolution, so a hostname that resolves (or re-resolves) to an internal
// address is caught too. No proxy (it would hide the destination) and no
// redirects (a redirect could point anywhere).
func guardedClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenTarget, address)
			}
			if !publicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s is not a public address", ErrForbiddenTarget, ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0, // bounded by the attempt's context
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkWebhookURL validates a webhook_url at subscription time: absolute,
// https (or http when allowed), no user info, and not an IP literal outside
// the public internet (names are checked again when dialling).
func checkWebhookURL(raw string, allowHTTP, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("webhook_url must be an absolute URL")
	}
	if u.Scheme != "https" && !(allowHTTP && u.Scheme == "http") {
		return errors.New("webhook_url must use https")
	}
	if u.User != nil {
		return errors.New("webhook_url must not carry credentials")
	}
	if u.Fragment != "" {
		return errors.New("webhook_url must not have a fragment")
	}
	if !allowPrivate {
		host := u.Hostname()
		if ip, err := netip.ParseAddr(host); err == nil && !publicAddr(ip) {
			return fmt.Errorf("%w: %s", ErrForbiddenTarget, host)
		}
		if host == "localhost" || len(host) > 10 && host[len(host)-10:] == ".localhost" {
			return fmt.Errorf("%w: %s", ErrForbiddenTarget, host)
		}
	}
	return nil
}
