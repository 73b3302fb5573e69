// Package pgtest gives tests a private PostgreSQL: a fresh database per test
// on a cluster shared by the test binary (New), or a whole cluster of its own
// that the test may stop, restart or SIGKILL (NewServer, Start).
//
// Resolution, in order:
//
//  1. NOTIFYKIT_POSTGRES_URL: New creates each test's database on that server
//     (the URL's user needs CREATEDB). Fault tests still need local binaries,
//     because an external server cannot be killed.
//  2. Local binaries: initdb and postgres from PATH or /usr/lib/postgresql/*/bin
//     (newest version first). The cluster lives in a temp dir, listens on a
//     free 127.0.0.1 port and puts its unix socket in the same dir.
//  3. Otherwise the test is skipped with the install command
//     ("apt-get install -y postgresql"), or fails when
//     NOTIFYKIT_REQUIRE_BROKERS=1, as CI sets.
//
// When the test process runs as root, PostgreSQL (which refuses to run as
// root) runs as the "postgres" system user, started directly through the
// process credentials, so neither runuser nor sudo is needed.
//
// fsync and synchronous_commit stay on, so durability tests that SIGKILL the
// server mean what they say; the rest is tuned for speed (small buffers,
// minimal WAL, no full-page writes, which only protect against torn pages on
// a power loss, not a process crash).
//
// Cleanup: a private cluster stops on t.Cleanup. The shared cluster lives as
// long as the test binary; the kernel sends it SIGINT (fast shutdown) when
// the binary exits, and leftover temp dirs of dead test binaries are swept
// the next time a cluster starts. Main, called from TestMain, stops it and
// removes its dir right away.
package pgtest
