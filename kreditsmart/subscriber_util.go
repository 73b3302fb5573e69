package kreditsmart

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/rand/v2"
	"time"

	"github.com/notifykit/notifykit/internal/backoff"
)

// x509UnknownAuthority bundles the certificate error types permanentTLS
// looks for.
type x509UnknownAuthority struct {
	e      x509.UnknownAuthorityError
	inv    x509.CertificateInvalidError
	host   x509.HostnameError
	verify *tls.CertificateVerificationError
}

// jittered is the exponential backoff delay for attempt (1-based).
func jittered(min, max time.Duration, attempt int) time.Duration {
	return backoff.Exponential(min, max)(attempt)
}

// jitter returns a uniform delay in [0, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

func sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }
