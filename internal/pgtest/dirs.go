package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// dirPrefix names every temp dir this package makes, followed by the owning
// test binary's pid, so sweep can tell abandoned dirs from live ones.
const dirPrefix = "notifykit-pgtest-"

// credential returns who postgres runs as: nil (ourselves) unless we are
// root, which postgres refuses; then the "postgres" system user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and PostgreSQL refuses root, but there is no \"postgres\" user to run it as (%v); install with: %s", err, InstallHint)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: bad uid/gid for user postgres: %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// makeDir creates a temp dir postgres can own. t.TempDir is no good: its
// root-owned 0700 parents are closed to the postgres user.
func makeDir(cred *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("pgtest: %w", err)
		}
	}
	return dir, nil
}

// The template cluster is initdb'd once per test binary; every Server
// copies it, which is several times faster than initdb.
var tmpl struct {
	mu  sync.Mutex
	dir string // the template's data dir; "" until made
}

// cloneTemplate copies the template cluster to dst, making the template
// first if needed. The lock keeps RemoveTemplate from deleting it mid-copy.
func cloneTemplate(ctx context.Context, binDir string, cred *syscall.Credential, dst string) error {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if tmpl.dir == "" {
		dir, err := makeDir(cred)
		if err != nil {
			return err
		}
		data := filepath.Join(dir, "data")
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "-D", data, "-U", "postgres",
			"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			return fmt.Errorf("pgtest: initdb: %v: %s", err, out)
		}
		tmpl.dir = data
	}
	// cp -a keeps ownership and modes, which postgres checks on its data dir.
	if out, err := exec.CommandContext(ctx, "cp", "-a", tmpl.dir, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: copy template cluster: %v: %s", err, out)
	}
	return nil
}

var sweepOnce sync.Once

// sweep removes temp dirs left behind by test binaries that died without
// cleaning up (a timeout, a crash). A dir is left alone while its owner or
// its postmaster is alive, so parallel test binaries never lose theirs.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		rest := strings.TrimPrefix(filepath.Base(dir), dirPrefix)
		owner, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || owner == os.Getpid() || alive(owner) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			if pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil && alive(pm) {
				continue
			}
		}
		_ = os.RemoveAll(dir)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
