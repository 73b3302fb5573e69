package comnormserver

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Header names exactly as the vendor document spells them (net/http matches
// them case-insensitively).
const (
	headerPartnerKey = "X-PARTNER-KEY"
	headerSecret     = "X-COMNORM-NOTIFICATION-SECRET"
)

// Server is a ComNorm-compatible queue service as an http.Handler. Create it
// with New; stop its waiting long polls with Close before shutting down the
// http.Server.
type Server struct {
	store   Store
	auth    Authenticator
	opts    options
	limits  Limits
	mux     *http.ServeMux
	closing chan struct{}
	once    sync.Once
}

// New returns a Server over store, authenticating receivers with auth.
func New(store Store, auth Authenticator, opts ...Option) (*Server, error) {
	if store == nil || auth == nil {
		return nil, errors.New("comnormserver: New needs a store and an authenticator")
	}
	o := options{logger: slog.New(slog.DiscardHandler), onError: func(error) {}, prefix: "/api", recheck: 5 * time.Second}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("comnormserver: nil Option")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Server{store: store, auth: auth, opts: o, limits: o.limits.withDefaults(), mux: http.NewServeMux(), closing: make(chan struct{})}
	p := o.prefix
	s.mux.HandleFunc("POST "+p+"/queues", s.createQueue)
	s.mux.HandleFunc("DELETE "+p+"/queues/{queueId}", s.deleteQueue)
	s.mux.HandleFunc("POST "+p+"/queues/{queueId}/messages", s.postMessage)
	s.mux.HandleFunc("GET "+p+"/queues/{queueId}/messages", s.peek)
	s.mux.HandleFunc("DELETE "+p+"/queues/{queueId}/messages/{messageId}", s.deleteMessage)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	return s, nil
}

// Close makes waiting long polls answer 503 at once, so a graceful
// http.Server.Shutdown does not wait for them to time out. It does not close
// the store.
func (s *Server) Close() { s.once.Do(func() { close(s.closing) }) }

// ServeHTTP implements http.Handler with an access log that records method,
// path, status and duration, and never headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.opts.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
		slog.String("remote", r.RemoteAddr))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writeJSON answers with a JSON value.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// unauthorized answers 401 with an empty body, saying nothing about why.
func unauthorized(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) }

// storeError maps a store error to a response.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrQueueNotFound):
		writeError(w, http.StatusNotFound, "queue not found")
	case errors.Is(err, ErrQueueFull):
		writeError(w, http.StatusTooManyRequests, "queue full")
	case errors.Is(err, ErrTooManyQueues):
		writeError(w, http.StatusTooManyRequests, "too many queues for this partner")
	case r.Context().Err() != nil:
		// The client is gone; nobody reads the answer.
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		s.opts.onError(err)
		s.opts.logger.Error("store failure", slog.String("path", r.URL.Path), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// partner authenticates the request's partner key; on failure it has
// answered already.
func (s *Server) partner(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, ok, err := s.auth.Authenticate(r.Context(), r.Header.Get(headerPartnerKey))
	if err != nil {
		s.storeError(w, r, err)
		return "", false
	}
	if !ok {
		unauthorized(w)
		return "", false
	}
	return id, true
}

// ownedQueue loads the path's queue and checks that partner owns it. A
// foreign queue is reported as not found, so ids cannot be probed.
func (s *Server) ownedQueue(w http.ResponseWriter, r *http.Request) (QueueRecord, bool) {
	pid, ok := s.partner(w, r)
	if !ok {
		return QueueRecord{}, false
	}
	q, err := s.store.Queue(r.Context(), r.PathValue("queueId"))
	if err == nil && q.Owner != pid {
		err = ErrQueueNotFound
	}
	if err != nil {
		s.storeError(w, r, err)
		return QueueRecord{}, false
	}
	return q, true
}

// randomID returns n random bytes as unpadded base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) createQueue(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.partner(w, r)
	if !ok {
		return
	}
	secret := randomID(32) // 256 bits
	q := QueueRecord{ID: randomID(16), Owner: pid, SecretHash: sha256.Sum256([]byte(secret)), Created: time.Now().UTC()}
	if err := s.store.CreateQueue(r.Context(), q, s.limits.MaxQueuesPerPartner); err != nil {
		s.storeError(w, r, err)
		return
	}
	base := s.opts.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"queueId":            q.ID,
		"notificationURL":    base + s.opts.prefix + "/queues/" + q.ID + "/messages",
		"notificationSecret": secret,
	})
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request) {
	q, ok := s.ownedQueue(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteQueue(r.Context(), q.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// CheckMessage applies the server's rules for a posted body: valid UTF-8, at
// most maxChars Unicode characters (else ErrTooLarge), a JSON object (else
// ErrNotObject).
func CheckMessage(body []byte, maxChars int) error {
	if !utf8.Valid(body) {
		return ErrNotObject
	}
	if utf8.RuneCount(body) > maxChars {
		return ErrTooLarge
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return ErrNotObject
	}
	return nil
}

// Errors returned by CheckMessage.
var (
	// ErrTooLarge: the message exceeds the character limit (413).
	ErrTooLarge = errors.New("comnormserver: message too large")
	// ErrNotObject: the message is not valid UTF-8 JSON or not an object (400).
	ErrNotObject = errors.New("comnormserver: message must be a JSON object")
)

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	q, err := s.store.Queue(r.Context(), r.PathValue("queueId"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	got := sha256.Sum256([]byte(r.Header.Get(headerSecret)))
	if r.Header.Get(headerSecret) == "" || subtle.ConstantTimeCompare(got[:], q.SecretHash[:]) != 1 {
		unauthorized(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "message exceeds "+strconv.Itoa(s.limits.MaxMessageChars)+" characters")
			return
		}
		writeError(w, http.StatusBadRequest, "could not read body")
		return
	}
	switch CheckMessage(body, s.limits.MaxMessageChars) {
	case nil:
	case ErrTooLarge:
		writeError(w, http.StatusRequestEntityTooLarge, "message exceeds "+strconv.Itoa(s.limits.MaxMessageChars)+" characters")
		return
	default:
		writeError(w, http.StatusBadRequest, "body must be a valid JSON object")
		return
	}
	m := MessageRecord{ID: randomID(16), Body: body, Created: time.Now().UTC()}
	if err := s.store.Append(r.Context(), q.ID, m, s.limits.MaxMessagesPerQueue); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// intParam parses an optional non-negative integer query parameter.
func intParam(r *http.Request, name string) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// writePeek answers with the messages, each content byte for byte as it was
// posted (json.Marshal would re-compact it).
func writePeek(w http.ResponseWriter, msgs []MessageRecord) {
	n := 2
	for _, m := range msgs {
		n += len(m.ID) + len(m.Body) + 32
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		id, _ := json.Marshal(m.ID)
		b = append(b, `{"messageId":`...)
		b = append(b, id...)
		b = append(b, `,"content":`...)
		b = append(b, m.Body...)
		b = append(b, '}')
	}
	b = append(b, ']')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) peek(w http.ResponseWriter, r *http.Request) {
	count, ok1 := intParam(r, "count")
	secs, ok2 := intParam(r, "timeout")
	if !ok1 || !ok2 {
		writeError(w, http.StatusBadRequest, "count and timeout must be non-negative integers")
		return
	}
	q, ok := s.ownedQueue(w, r)
	if !ok {
		return
	}
	count = min(max(count, 1), s.limits.MaxCount)
	wait := min(time.Duration(secs)*time.Second, s.limits.MaxTimeout)

	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		// Subscribe before peeking, so a post between the two still wakes us.
		wake, cancel := s.store.Subscribe(q.ID)
		msgs, err := s.store.Peek(r.Context(), q.ID, count)
		if err != nil {
			cancel()
			s.storeError(w, r, err)
			return
		}
		if len(msgs) > 0 || wait == 0 {
			cancel()
			writePeek(w, msgs)
			return
		}
		recheck := time.NewTimer(s.opts.recheck)
		select {
		case <-wake:
		case <-recheck.C:
		case <-deadline:
			cancel()
			recheck.Stop()
			if s.opts.emptyPoll200 {
				writePeek(w, nil)
			} else {
				writeError(w, http.StatusRequestTimeout, "no message arrived within the timeout")
			}
			return
		case <-r.Context().Done():
			cancel()
			recheck.Stop()
			return
		case <-s.closing:
			cancel()
			recheck.Stop()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusServiceUnavailable, "server shutting down")
			return
		}
		cancel()
		recheck.Stop()
	}
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	q, ok := s.ownedQueue(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteMessage(r.Context(), q.ID, r.PathValue("messageId")); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
