package pgtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// InstallHint is what a skipped test tells the developer to run.
const InstallHint = "apt-get install -y postgresql"

// ErrNoBinaries reports that neither PATH nor the Debian layout has initdb
// and postgres.
var ErrNoBinaries = errors.New("pgtest: PostgreSQL binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin; install with: " + InstallHint)

// findBinDir returns the directory holding both initdb and postgres. Debian
// keeps them out of PATH (only wrappers are there), so its versioned
// directories are searched too, newest first.
func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

// version extracts N from /usr/lib/postgresql/N/bin so that 15 sorts above 9.
func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
