package kreditsmart

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"vorgangsnummer":"VN1245","teilantragsnummer":"VN1245/1/1"}`)
	secret, old := []byte("0123456789abcdef0123456789abcdef"), []byte("old-secret-old-secret-old-secret")
	sig := Sign(secret, body)
	raw, _ := base64.StdEncoding.DecodeString(sig)
	h := func(v string) http.Header { x := http.Header{}; x.Set(SignatureHeader, v); return x }
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		secrets [][]byte
		want    error
	}{
		{"valid", h(sig), body, [][]byte{secret}, nil},
		{"rotated: new secret among old", h(sig), body, [][]byte{old, secret}, nil},
		{"raw url alphabet", h(base64.RawURLEncoding.EncodeToString(raw)), body, [][]byte{secret}, nil},
		{"wrong secret", h(sig), body, [][]byte{old}, ErrInvalidSignature},
		{"tampered body", h(sig), append(bytes.Clone(body), ' '), [][]byte{secret}, ErrInvalidSignature},
		{"missing", http.Header{}, body, [][]byte{secret}, ErrMissingSignature},
		{"garbage", h("not base64!"), body, [][]byte{secret}, ErrInvalidSignature},
		{"short mac", h(base64.StdEncoding.EncodeToString(raw[:16])), body, [][]byte{secret}, ErrInvalidSignature},
		{"no secrets", h(sig), body, nil, ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.header, tt.body, tt.secrets...)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), string(secret)) {
				t.Fatal("secret in error")
			}
		})
	}
}

func TestWebhookHandlerStatusCodes(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	var (
		mu    sync.Mutex
		got   []*Notification
		fail  bool
		errsN int
	)
	wh, err := NewWebhookHandler([][]byte{secret}, WithMaxBodyBytes(1024), WithOnError(func(error) { mu.Lock(); errsN++; mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	wh.OnNotification(func(_ context.Context, n *Notification) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("downstream down")
		}
		got = append(got, n)
		return nil
	})
	srv := httptest.NewServer(wh)
	defer srv.Close()

	post := func(method string, body []byte, sig string, ct string) int {
		req, _ := http.NewRequest(method, srv.URL+"/kex", bytes.NewReader(body))
		if sig != "" {
			req.Header.Set(SignatureHeader, sig)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	good := []byte(`{"vorgangsnummer":"VN1245","teilantragsnummer":null,"neu":true}`)
	big := []byte(`{"vorgangsnummer":"VN1","x":"` + strings.Repeat("a", 2000) + `"}`)
	cases := []struct {
		name   string
		method string
		body   []byte
		sig    string
		ct     string
		fail   bool
		want   int
	}{
		{"ok", "POST", good, Sign(secret, good), "application/json; charset=utf-8", false, 200},
		{"get", "GET", nil, "", "", false, 405},
		{"no signature", "POST", good, "", "application/json", false, 401},
		{"wrong secret", "POST", good, Sign([]byte("other"), good), "application/json", false, 401},
		{"oversize", "POST", big, Sign(secret, big), "application/json", false, 413},
		{"not json", "POST", []byte("hello"), Sign(secret, []byte("hello")), "application/json", false, 400},
		{"no vorgangsnummer", "POST", []byte(`{"teilantragsnummer":"x"}`), Sign(secret, []byte(`{"teilantragsnummer":"x"}`)), "", false, 400},
		{"form", "POST", good, Sign(secret, good), "application/x-www-form-urlencoded", false, 415},
		{"handler error", "POST", good, Sign(secret, good), "application/json", true, 500},
	}
	for _, c := range cases {
		mu.Lock()
		fail = c.fail
		mu.Unlock()
		if code := post(c.method, c.body, c.sig, c.ct); code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Vorgangsnummer != "VN1245" || got[0].Teilantragsnummer != "" || got[0].Channel != ChannelWebhook || got[0].ReceivedAt.IsZero() {
		t.Fatalf("handled %+v", got)
	}
	if errsN != 4 { // oversize, not json, no vorgangsnummer, handler error
		t.Errorf("OnError called %d times, want 4", errsN)
	}
}

func FuzzVerify(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	f.Add([]byte(`{"vorgangsnummer":"VN1"}`), Sign(secret, []byte(`{"vorgangsnummer":"VN1"}`)))
	f.Add([]byte(``), "")
	f.Add([]byte(`x`), "====")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		err := Verify(h, body, secret)
		if err == nil && Sign(secret, body) != strings.TrimSpace(sig) {
			raw, _ := decodeSignature(strings.TrimSpace(sig))
			want, _ := base64.StdEncoding.DecodeString(Sign(secret, body))
			if !bytes.Equal(raw, want) {
				t.Fatalf("accepted a wrong signature %q", sig)
			}
		}
		if err != nil && !errors.Is(err, ErrInvalidSignature) && !errors.Is(err, ErrMissingSignature) {
			t.Fatalf("untyped %v", err)
		}
		own := http.Header{}
		own.Set(SignatureHeader, Sign(secret, body))
		if err := Verify(own, body, secret); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}
