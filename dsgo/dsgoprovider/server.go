package dsgoprovider

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// TestEventType is the event type of notifications triggered by
// POST /subscriptions/{id}/test.
const TestEventType = "Test"

// Server is the provider side of DSGO subscriptions: the /subscriptions API,
// an iSHARE /connect/token endpoint, and the dispatcher that delivers
// notifications to the subscribers' webhooks (Run).
type Server struct {
	ownID    string
	store    Store
	o        options
	verifier *dsgo.AssertionVerifier
	tokens   *dsgo.TokenEndpoint
	auth     dsgo.Authenticator
	client   *http.Client
	wake     chan struct{}
	mux      *http.ServeMux
}

// New returns a provider with organisation ID ownID that trusts client
// certificate chains ending in trustedRoots and keeps its state in store.
// WithWebhookAuth is required.
func New(ownID string, trustedRoots *x509.CertPool, store Store, opts ...Option) (*Server, error) {
	if ownID == "" || trustedRoots == nil || store == nil {
		return nil, optErr("New needs an own party id, trusted roots and a store")
	}
	o := defaults()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.webhookAuth == nil {
		return nil, optErr("WithWebhookAuth is required (NoWebhookAuth to send without credentials)")
	}
	vopts := append([]dsgo.Option{dsgo.WithClock(o.now), dsgo.WithLogger(o.logger), dsgo.WithOnError(o.onError)}, o.verifierOpts...)
	v, err := dsgo.NewAssertionVerifier(ownID, trustedRoots, vopts...)
	if err != nil {
		return nil, err
	}
	te, err := dsgo.NewTokenEndpoint(v, vopts...)
	if err != nil {
		return nil, err
	}
	s := &Server{ownID: ownID, store: store, o: o, verifier: v, tokens: te, auth: o.auth,
		client: o.httpClient, wake: make(chan struct{}, 1)}
	if s.auth == nil {
		s.auth = dsgo.BearerFromTokenEndpoint(te)
	}
	if s.client == nil {
		s.client = guardedClient(o.allowPrivate)
	}
	s.routes()
	return s, nil
}

// OwnID returns the provider's organisation ID.
func (s *Server) OwnID() string { return s.ownID }

// Store returns the provider's store.
func (s *Server) Store() Store { return s.store }

// TokenEndpoint returns the provider's token endpoint (mounted by Handler
// at /connect/token).
func (s *Server) TokenEndpoint() *dsgo.TokenEndpoint { return s.tokens }

// Verifier returns the provider's assertion verifier.
func (s *Server) Verifier() *dsgo.AssertionVerifier { return s.verifier }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("/connect/token", s.tokens)
	m.HandleFunc("GET /subscriptions", s.list)
	m.HandleFunc("POST /subscriptions", s.create)
	m.HandleFunc("GET /subscriptions/{id}", s.get)
	m.HandleFunc("DELETE /subscriptions/{id}", s.delete)
	m.HandleFunc("POST /subscriptions/{id}/test", s.test)
	s.mux = m
}

// ServeHTTP serves /connect/token and /subscriptions. Mount it at the
// provider's base path with http.StripPrefix and set WithBasePath.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	s.mux.ServeHTTP(w, r)
}

// authenticate identifies the caller; it has answered 401 (or 500) when ok
// is false. It runs once per request: an authenticator may consume what it
// checks (a one-time assertion).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	party, err := s.auth.Authenticate(r)
	if err == nil && party != "" {
		return party, true
	}
	if err == nil || errors.Is(err, dsgo.ErrUnauthorized) {
		dsgo.WriteOAuthError(w, http.StatusUnauthorized, "invalid_token", "a valid access token is required")
	} else {
		s.o.onError(err)
		dsgo.WriteOAuthError(w, http.StatusInternalServerError, "server_error", "")
	}
	return "", false
}

// authorize applies the policy; it has answered 403 when ok is false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, party string, action Action, sub *dsgo.Subscription) bool {
	if s.o.policy == nil {
		return true
	}
	if err := s.o.policy(r.Context(), party, action, sub); err != nil {
		dsgo.WriteOAuthError(w, http.StatusForbidden, "access_denied", "not allowed by the provider's policy")
		return false
	}
	return true
}

// caller authenticates and authorises a request that names no
// subscription.
func (s *Server) caller(w http.ResponseWriter, r *http.Request, action Action) (string, bool) {
	party, ok := s.authenticate(w, r)
	if !ok || !s.authorize(w, r, party, action, nil) {
		return "", false
	}
	return party, true
}

// own loads the subscription {id} of the caller; it has answered 404 (also
// for another party's subscription, which must not be revealed) when ok is
// false.
func (s *Server) own(w http.ResponseWriter, r *http.Request, action Action) (*dsgo.Subscription, bool) {
	party, ok := s.authenticate(w, r)
	if !ok {
		return nil, false
	}
	sub, err := s.store.GetSubscription(r.Context(), r.PathValue("id"))
	if err != nil && !errors.Is(err, dsgo.ErrNotFound) {
		s.storeError(w, err)
		return nil, false
	}
	if err != nil || sub.ConsumerID != party {
		dsgo.WriteOAuthError(w, http.StatusNotFound, "not_found", "no such subscription")
		return nil, false
	}
	if !s.authorize(w, r, party, action, sub) {
		return nil, false
	}
	return sub, true
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	s.o.logger.Error("dsgoprovider: store", "err", err)
	s.o.onError(err)
	dsgo.WriteOAuthError(w, http.StatusInternalServerError, "server_error", "")
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	party, ok := s.caller(w, r, ActionList)
	if !ok {
		return
	}
	subs, err := s.store.ListSubscriptions(r.Context(), party)
	if err != nil {
		s.storeError(w, err)
		return
	}
	parts := make([]json.RawMessage, 0, len(subs))
	for i := range subs {
		b, err := subs[i].Encode(s.o.dialect)
		if err != nil {
			s.storeError(w, err)
			return
		}
		parts = append(parts, b)
	}
	b, _ := json.Marshal(struct {
		Count         int               `json:"count"`
		Subscriptions []json.RawMessage `json:"subscriptions"`
	}{len(parts), parts})
	s.writeJSON(w, http.StatusOK, b)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.own(w, r, ActionGet)
	if !ok {
		return
	}
	b, err := sub.Encode(s.o.dialect)
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.writeJSON(w, http.StatusOK, b)
}

// maxCreateBody bounds a POST /subscriptions body.
const maxCreateBody = 64 << 10

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	party, ok := s.caller(w, r, ActionCreate)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCreateBody))
	if err != nil {
		dsgo.WriteOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "body too large")
		return
	}
	var req dsgo.SubscriptionCreate
	if err := json.Unmarshal(body, &req); err != nil {
		dsgo.WriteOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	now := s.o.now()
	sub, err := s.newSubscription(party, &req, now)
	if err != nil {
		dsgo.WriteOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if err := s.store.CreateSubscription(r.Context(), sub); err != nil {
		s.storeError(w, err)
		return
	}
	s.o.logger.Info("dsgoprovider: subscription created", "id", sub.ID, "consumer", party)
	b, err := sub.Encode(s.o.dialect)
	if err != nil {
		s.storeError(w, err)
		return
	}
	w.Header().Set("Location", sub.URL)
	s.writeJSON(w, http.StatusCreated, b)
}

func (s *Server) newSubscription(party string, req *dsgo.SubscriptionCreate, now time.Time) (*dsgo.Subscription, error) {
	if req.ResourceType != dsgo.ResourceSubscription {
		return nil, errors.New(`resource_type "subscription" is required`)
	}
	var types []string
	for _, t := range req.EventTypes {
		if strings.TrimSpace(t) == "" {
			return nil, errors.New("event_type entries must not be empty")
		}
		if len(s.o.eventTypes) > 0 && !slices.Contains(s.o.eventTypes, t) {
			return nil, fmt.Errorf("event type %q is not offered; choose from %s", t, strings.Join(s.o.eventTypes, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return nil, errors.New("event_type must list at least one event type")
	}
	if err := checkWebhookURL(req.WebhookURL, s.o.allowHTTP, s.o.allowPrivate); err != nil {
		return nil, err
	}
	start := req.StartDate
	if start.IsZero() {
		start = dsgo.Unix(now)
	}
	if !req.EndDate.IsZero() && (!req.EndDate.After(start.Time) || !req.EndDate.After(now)) {
		return nil, errors.New("end_date must be after start_date and in the future")
	}
	id := newID("sub_")
	return &dsgo.Subscription{
		ID: id, ResourceType: dsgo.ResourceSubscription, URL: s.o.basePath + "/subscriptions/" + id,
		CreatedDate: dsgo.Unix(now), StartDate: start, EndDate: req.EndDate,
		ConsumerID: party, ProviderID: s.ownID, Description: req.Description,
		EventTypes: types, Status: dsgo.StatusActive, WebhookURL: req.WebhookURL,
	}, nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.own(w, r, ActionDelete)
	if !ok {
		return
	}
	if _, err := s.store.DeactivateSubscription(r.Context(), sub.ID, s.o.now()); err != nil {
		if errors.Is(err, dsgo.ErrNotActive) || errors.Is(err, dsgo.ErrNotFound) {
			// DSGO documents 404 as the only non-success answer.
			dsgo.WriteOAuthError(w, http.StatusNotFound, "not_found", "no active subscription with this id")
			return
		}
		s.storeError(w, err)
		return
	}
	s.o.logger.Info("dsgoprovider: subscription deactivated", "id", sub.ID)
	w.WriteHeader(http.StatusOK) // no body: the spec forbids one
}

func (s *Server) test(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.own(w, r, ActionTest)
	if !ok {
		return
	}
	if sub.Status != dsgo.StatusActive {
		dsgo.WriteOAuthError(w, http.StatusNotFound, "not_found", "no active subscription with this id")
		return
	}
	now := s.o.now()
	ev := &dsgo.Event{EventID: newID("eve_"), ResourceType: dsgo.ResourceEvent, EventType: TestEventType,
		Date: dsgo.Unix(now), Description: "Test notification",
		Data: json.RawMessage(`"Test notification for subscription ` + sub.ID + `"`)}
	if _, err := s.enqueue(r.Context(), sub, []*dsgo.Event{ev}, now); err != nil {
		s.storeError(w, err)
		return
	}
	b, err := ev.Encode(s.o.dialect)
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, b)
}
