package kreditsmart

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/notifykit/notifykit"
)

// SignatureHeader carries base64(HMAC-SHA256(secret, raw body)).
const SignatureHeader = "X-SIGNATURE"

// Sign returns the X-SIGNATURE value Europace sends for body under secret:
// standard base64 of HMAC-SHA256 over the exact bytes. Tests use it to build
// valid requests.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks header's X-SIGNATURE against body under each secret (several
// secrets allow rotation: configure old and new until Europace switched).
// The comparison is constant-time. The signature may be standard, unpadded
// or URL-safe base64: Europace does not specify the alphabet. Errors match
// ErrMissingSignature or ErrInvalidSignature and never contain secrets.
func Verify(header http.Header, body []byte, secrets ...[]byte) error {
	got := strings.TrimSpace(header.Get(SignatureHeader))
	if got == "" {
		return ErrMissingSignature
	}
	sig, ok := decodeSignature(got)
	if !ok || len(secrets) == 0 {
		return ErrInvalidSignature
	}
	match := false
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		// Check every secret so timing does not tell which one matched.
		if hmac.Equal(sig, m.Sum(nil)) {
			match = true
		}
	}
	if !match {
		return ErrInvalidSignature
	}
	return nil
}

func decodeSignature(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// WebhookHandler receives KEX-PUSH webhooks: it verifies X-SIGNATURE over
// the raw body, decodes the JSON into the same Notification the MQTT
// Subscriber delivers and calls the handler. Switching channels is
// therefore a configuration change.
//
// Status codes: 200 handled, 400 malformed body, 401 missing or wrong
// signature (handler not called), 405 not POST, 413 body over the limit,
// 415 not JSON, 500 handler error (Europace retries).
type WebhookHandler struct {
	secrets [][]byte
	opts    options
	handler notifykit.Handler
}

// NewWebhookHandler returns a handler accepting signatures under any of
// secrets. Options used: WithHandler, WithMiddleware, WithCoalesce,
// WithRetry, WithMaxBodyBytes, WithLogger, WithOnError. Register the handler
// with OnNotification or WithHandler.
func NewWebhookHandler(secrets [][]byte, opts ...Option) (*WebhookHandler, error) {
	if len(secrets) == 0 {
		return nil, configErr("webhook needs at least one secret")
	}
	for _, s := range secrets {
		if len(s) == 0 {
			return nil, configErr("empty webhook secret")
		}
	}
	o, err := apply(opts)
	if err != nil {
		return nil, err
	}
	w := &WebhookHandler{secrets: secrets, opts: o}
	if o.handler != nil {
		w.handler = wrap(o.handler, o)
	}
	return w, nil
}

// OnNotification sets the typed handler, replacing WithHandler. Call it
// before serving requests.
func (w *WebhookHandler) OnNotification(f func(context.Context, *Notification) error) {
	w.handler = wrap(typed(f), w.opts)
}

// ServeHTTP implements http.Handler.
func (w *WebhookHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			http.Error(rw, "JSON only", http.StatusUnsupportedMediaType)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, w.opts.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			w.report(&PayloadError{Err: fmt.Errorf("%w: webhook body over %d bytes", ErrPayloadTooLarge, w.opts.maxBody)})
			http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(rw, "cannot read body", http.StatusBadRequest)
		return
	}
	if err := Verify(r.Header, body, w.secrets...); err != nil {
		w.opts.logger.Warn("kreditsmart: webhook rejected", "err", err, "remote", r.RemoteAddr)
		http.Error(rw, "invalid signature", http.StatusUnauthorized)
		return
	}
	n, err := Decode(body)
	if err != nil {
		w.report(&PayloadError{Raw: body, Err: err})
		http.Error(rw, "malformed notification", http.StatusBadRequest)
		return
	}
	n.Channel, n.ReceivedAt = ChannelWebhook, time.Now()
	if w.handler == nil {
		w.report(fmt.Errorf("%w: no handler registered", ErrConfig))
		http.Error(rw, "no handler", http.StatusInternalServerError)
		return
	}
	if err := call(r.Context(), w.handler, n, w.opts); err != nil {
		w.report(err)
		http.Error(rw, "handler failed", http.StatusInternalServerError)
		return
	}
	rw.WriteHeader(http.StatusOK)
}

func (w *WebhookHandler) report(err error) {
	w.opts.logger.Error("kreditsmart: webhook", "err", err)
	w.opts.onError(err)
}
