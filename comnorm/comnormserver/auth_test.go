package comnormserver_test

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestLoadKeysFile(t *testing.T) {
	p := t.TempDir() + "/keys"
	_ = writeFile(p, "# comment\n\nalice alice-key-0123456789\nbob-only-key-0123456789\n")
	k, err := comnormserver.LoadKeysFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if id, ok, _ := k.Authenticate(ctx, "alice-key-0123456789"); !ok || id != "alice" {
		t.Fatalf("alice: %q %v", id, ok)
	}
	if id, ok, _ := k.Authenticate(ctx, "bob-only-key-0123456789"); !ok || !strings.HasPrefix(id, "p-") {
		t.Fatalf("key-only line: %q %v", id, ok)
	}
	for _, bad := range []string{"", "alice", "alice-key-0123456789x"} {
		if _, ok, _ := k.Authenticate(ctx, bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestLoadKeysFileErrorsNameLinesNotKeys(t *testing.T) {
	for name, content := range map[string]string{
		"short key":  "alice tiny-key\n",
		"three cols": "a b c-0123456789abcdef\n",
		"duplicate":  "a same-key-0123456789\nb same-key-0123456789\n",
		"empty":      "# nothing\n",
	} {
		p := t.TempDir() + "/keys"
		_ = writeFile(p, content)
		_, err := comnormserver.LoadKeysFile(p)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "same-key") || strings.Contains(err.Error(), "tiny-key") {
			t.Errorf("%s: error leaks a key: %v", name, err)
		}
	}
	if _, err := comnormserver.LoadKeysFile(t.TempDir() + "/missing"); err == nil {
		t.Fatal("missing file accepted")
	}
}

func FuzzCheckMessage(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `[]`, `"x"`, `null`, `{`, " {\"ü\":\"€\"} ", "{\"a\":\"\xff\"}", `{"a":{"b":[1,2,{"c":null}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := comnormserver.CheckMessage(b, 64)
		if err == nil {
			trimmed := strings.TrimLeft(string(b), " \t\r\n")
			if !strings.HasPrefix(trimmed, "{") || len([]rune(string(b))) > 64 {
				t.Fatalf("accepted %q", b)
			}
		}
	})
}

func TestRegisterFlags(t *testing.T) {
	t.Setenv("COMNORM_DATA_DIR", "/from/env")
	var cfg comnormserver.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"-addr", ":9999", "-max-queues", "5"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9999" || cfg.DataDir != "/from/env" || cfg.Limits.MaxQueuesPerPartner != 5 || cfg.Prefix != "/api" {
		t.Fatalf("%+v", cfg)
	}
}
