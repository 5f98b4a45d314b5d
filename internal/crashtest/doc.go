// Package crashtest holds the crash test of issue 10: clients exchange
// messages with XEP-0198 stream management through a real `parley serve`
// process, the test kills it with SIGKILL at random points, restarts it on
// the same data and checks that every message the server acknowledged
// (an <a h/> covering it) is in the recipient's message archive exactly
// once (XEP-0313) and reaches the recipient after reconnecting, never
// twice. It runs on SQLite and, when test servers are configured
// (scripts/test-databases.sh), on PostgreSQL and MariaDB. Each kill is one
// iteration: 20 by default, PARLEY_CRASH_ITERATIONS for a longer run.
//
// It has no code outside its tests; it is a package of its own so that
// it builds the binary once and stays out of the other packages' time.
package crashtest
