package pgtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// childrenOf lists the pids whose parent is pid, from /proc (Linux).
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		ppid, _, ok := procStat(path)
		if ok && ppid == pid {
			if c, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// procAlive reports whether pid exists and is not a zombie (a zombie holds
// no shared memory; whoever inherited it reaps it eventually).
func procAlive(pid int) bool {
	_, state, ok := procStat("/proc/" + strconv.Itoa(pid) + "/stat")
	return ok && state != "Z" && state != "X"
}

// procStat parses ppid and state from a /proc/<pid>/stat file: the fields
// after the command name, which is in parentheses and may contain spaces.
func procStat(path string) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0], err == nil
}
