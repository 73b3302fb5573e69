package kreditsmarttest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// errPolicy closes the connection: AWS IoT answers packets outside the
// policy or its limits by disconnecting, not with an error code.
// mochi closes the connection only for errors matching ErrRejectPacket.
var errPolicy = fmt.Errorf("kreditsmarttest: not authorized (%w)", packets.ErrRejectPacket)

// hook implements the AWS IoT behaviour on top of mochi's broker.
type hook struct {
	mqtt.HookBase
	s *Server
}

func (h *hook) ID() string { return "kreditsmarttest-aws-iot" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketRead, mqtt.OnSubscribed,
		mqtt.OnPublish, mqtt.OnDisconnect:
		return true
	}
	return false
}

// OnConnectAuthenticate identifies the device by its certificate's common
// name; a certificate without a policy is refused.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	tc, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return false
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return false
	}
	cn := st.PeerCertificates[0].Subject.CommonName
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connects[cl.ID] = append(s.connects[cl.ID], time.Now())
	if s.policies[cn] == nil {
		return false
	}
	s.identity[cl] = cn
	return true
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.s.mu.Lock()
	delete(h.s.identity, cl)
	delete(h.s.inSub, cl)
	h.s.mu.Unlock()
}

// OnPacketRead enforces the policy and the limits before mochi processes
// a packet; an error closes the connection.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	pk, err := h.check(cl, pk)
	if err != nil {
		h.s.logf("kreditsmarttest: closing connection of %s: %v", cl.ID, err)
	}
	return pk, err
}

func (h *hook) check(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cn := s.identity[cl]
	pol := s.policies[cn]
	switch pk.FixedHeader.Type {
	case packets.Subscribe:
		if len(pk.Properties.SubscriptionIdentifier) > 0 {
			return pk, fmt.Errorf("%w: subscription identifiers are not supported", errPolicy)
		}
		filters := map[string]bool{}
		for _, f := range pk.Filters {
			if f.Identifier != 0 {
				return pk, fmt.Errorf("%w: subscription identifiers are not supported", errPolicy)
			}
			if f.Qos > 1 {
				return pk, fmt.Errorf("%w: QoS 2", errPolicy)
			}
			plain := unshare(f.Filter)
			if !withinLimits(plain) || pol == nil || !pol.allowsFilter(cn, plain) {
				return pk, fmt.Errorf("%w: SUBSCRIBE %q", errPolicy, f.Filter)
			}
			filters[f.Filter] = true
		}
		s.inSub[cl] = filters
	case packets.Publish:
		if !withinLimits(pk.TopicName) || len(pk.Payload) > MaxPayloadBytes {
			return pk, fmt.Errorf("%w: PUBLISH over the limits", errPolicy)
		}
		p := prefix(cn, "")
		t := pk.TopicName
		if pol == nil || !pol.Shadow || !strings.HasPrefix(t, p+"/") ||
			!(strings.HasSuffix(t, "/get") || strings.HasSuffix(t, "/update")) {
			return pk, fmt.Errorf("%w: PUBLISH %q", errPolicy, t)
		}
	}
	return pk, nil
}

func (h *hook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	h.s.mu.Lock()
	delete(h.s.inSub, cl)
	h.s.mu.Unlock()
}

// OnACLCheck decides deliveries: the device must hold a subscription that
// matches under AWS's rules (T/# does not match T) and be allowed to
// receive the topic. Filters of a SUBSCRIBE were checked in OnPacketRead.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write || cl.Net.Inline {
		return true
	}
	s := h.s
	s.mu.Lock()
	cn := s.identity[cl]
	pol := s.policies[cn]
	subscribing := s.inSub[cl][topic]
	s.mu.Unlock()
	if subscribing {
		return true
	}
	if pol == nil || !pol.allowsReceive(cn, topic) {
		return false
	}
	for f := range cl.State.Subscriptions.GetAll() {
		if awsMatch(unshare(f), topic) {
			return true
		}
	}
	return false
}

// OnPublish answers shadow requests; they are not forwarded.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline || !strings.HasPrefix(pk.TopicName, "$aws/things/") {
		return pk, nil
	}
	topic, payload := pk.TopicName, bytes.Clone(pk.Payload)
	go h.s.shadowRequest(topic, payload)
	return pk, packets.CodeSuccessIgnore
}

// shadowRequest implements get and update for classic and named shadows.
func (s *Server) shadowRequest(topic string, payload []byte) {
	var req struct {
		ClientToken string          `json:"clientToken"`
		State       json.RawMessage `json:"state"`
	}
	_ = json.Unmarshal(payload, &req)
	key, op := topic[:strings.LastIndexByte(topic, '/')], topic[strings.LastIndexByte(topic, '/')+1:]
	switch op {
	case "get":
		s.mu.Lock()
		sh := s.shadows[key]
		var doc map[string]any
		if sh != nil {
			doc = sh.snapshot()
		}
		s.mu.Unlock()
		if doc == nil {
			_ = s.publishRaw(key+"/get/rejected", mustJSON(map[string]any{"code": 404, "message": "No shadow exists with name: " + key, "clientToken": req.ClientToken}))
			return
		}
		if req.ClientToken != "" {
			doc["clientToken"] = req.ClientToken
		}
		_ = s.publishRaw(key+"/get/accepted", mustJSON(doc))
	case "update":
		var state map[string]any
		if err := json.Unmarshal(req.State, &state); err != nil {
			_ = s.publishRaw(key+"/update/rejected", mustJSON(map[string]any{"code": 400, "message": "Missing required node: state", "clientToken": req.ClientToken}))
			return
		}
		s.mu.Lock()
		sh := s.shadows[key]
		var doc map[string]any
		if sh == nil {
			doc = map[string]any{"state": map[string]any{}}
		} else {
			doc = sh.snapshot()
			delete(doc, "version")
			delete(doc, "timestamp")
		}
		s.mu.Unlock()
		cur, _ := doc["state"].(map[string]any)
		if cur == nil {
			cur = map[string]any{}
		}
		for k, v := range state {
			cur[k] = v
		}
		doc["state"] = cur
		thing, name := splitKey(key)
		s.SetShadow(thing, name, mustJSON(doc))
		_ = s.publishRaw(key+"/update/accepted", mustJSON(map[string]any{"state": state, "clientToken": req.ClientToken}))
	}
}

func splitKey(key string) (thing, name string) {
	rest := strings.TrimPrefix(key, "$aws/things/")
	thing, rest, _ = strings.Cut(rest, "/shadow")
	name = strings.TrimPrefix(rest, "/name/")
	return thing, name
}

func (p *Policy) allowsFilter(cn, f string) bool {
	if strings.HasPrefix(f, "$aws/things/") {
		return p.Shadow && strings.HasPrefix(f, prefix(cn, "")+"/") && !strings.ContainsAny(f, "+#")
	}
	for _, t := range p.Topics {
		if f == t || strings.HasPrefix(f, t+"/") {
			return true
		}
	}
	return false
}

func (p *Policy) allowsReceive(cn, topic string) bool {
	if strings.HasPrefix(topic, "$aws/things/") {
		return p.Shadow && strings.HasPrefix(topic, prefix(cn, "")+"/")
	}
	for _, t := range p.Topics {
		if topic == t || strings.HasPrefix(topic, t+"/") {
			return true
		}
	}
	return false
}

func withinLimits(t string) bool {
	return t != "" && strings.Count(t, "/") <= MaxSlashes && len(t) <= MaxTopicBytes
}

// unshare strips a $share/group/ prefix.
func unshare(f string) string {
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		if _, plain, ok := strings.Cut(rest, "/"); ok {
			return plain
		}
	}
	return f
}

// awsMatch matches like AWS IoT: + is one level, # is one or more levels
// (so T/# does not match T).
func awsMatch(filter, topic string) bool {
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return len(tl) > i
		}
		if i >= len(tl) || (f != "+" && f != tl[i]) {
			return false
		}
	}
	return len(fl) == len(tl)
}
