package brokertest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// errExited reports that a broker process ended on its own, typically while
// starting (port taken, bad configuration).
var errExited = errors.New("broker process exited")

// watchdogScript runs beside every broker. Its stdin is a pipe whose only
// writer is this test process, so it reads EOF exactly when we are gone,
// however we died (a timeout panic skips t.Cleanup, SIGKILL skips
// everything). It then kills the broker's process group and removes the
// data directory, so no broker outlives its test binary. On a normal
// shutdown we kill the watchdog first.
const watchdogScript = `read _ || true; kill -9 -"$1" 2>/dev/null; rm -rf -- "$2"`

// proc is one run of a broker: a process group led by the broker (or its
// start script) plus the watchdog guarding it.
type proc struct {
	cmd  *exec.Cmd
	pgid int
	done chan struct{} // closed when the leader has been reaped
	err  error         // the leader's exit status, valid after done

	watchdog     *exec.Cmd
	watchdogPipe *os.File
}

// spawn starts path in a new process group with output appended to out,
// and its watchdog.
func spawn(path string, args, env []string, dir string, out *os.File) (*proc, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	// A group of its own lets Kill reach the broker's children (Erlang's
	// beam under the rabbitmq-server script), and keeps a Ctrl-C at the
	// terminal from reaching the broker before we stop it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &proc{cmd: cmd, pgid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.startWatchdog(dir); err != nil {
		p.killGroup()
		return nil, err
	}
	return p, nil
}

func (p *proc) startWatchdog(dir string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("watchdog pipe: %w", err)
	}
	wd := exec.Command("/bin/sh", "-c", watchdogScript, "brokertest-watchdog", strconv.Itoa(p.pgid), dir)
	wd.Stdin = r
	wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = wd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return fmt.Errorf("start watchdog: %w", err)
	}
	p.watchdog, p.watchdogPipe = wd, w
	return nil
}

// stopWatchdog ends the watchdog without letting it act.
func (p *proc) stopWatchdog() {
	if p.watchdog == nil {
		return
	}
	_ = p.watchdog.Process.Kill()
	_ = p.watchdog.Wait()
	p.watchdogPipe.Close()
	p.watchdog = nil
}

// exited reports whether the leader has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate asks the broker to shut down cleanly with SIGTERM and waits up to
// grace before killing the whole group.
func (p *proc) terminate(grace time.Duration) error {
	defer p.stopWatchdog()
	_ = syscall.Kill(p.pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.killGroup()
		return fmt.Errorf("broker did not stop within %v; killed it", grace)
	}
	// The leader is gone; make sure nothing it started lingers holding the
	// port or the data directory's lock.
	p.killGroup()
	return nil
}

// kill sends SIGKILL to every process in the group and waits until they are
// gone, so a following start finds the port and data directory free.
func (p *proc) kill() {
	defer p.stopWatchdog()
	p.killGroup()
}

func (p *proc) killGroup() {
	_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
	<-p.done
	deadline := time.Now().Add(10 * time.Second)
	for groupAlive(p.pgid) && time.Now().Before(deadline) {
		_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
}

// groupAlive reports whether any process of the group is still running.
// Zombies do not count: they hold no ports or files, and their reaping is up
// to whoever inherited them. Without /proc it falls back to kill(0), which
// counts zombies too.
func groupAlive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	want := []byte(strconv.Itoa(pgid))
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid pgrp ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) >= 3 && bytes.Equal(f[2], want) && !bytes.Equal(f[0], []byte("Z")) {
			return true
		}
	}
	return false
}
