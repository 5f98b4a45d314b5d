// Package storagetest is the storage test suite every database engine must
// pass, and the means to get a fresh database of each engine in a test.
//
// Run(t, driver) runs the suite (accounts, rosters and shared groups, the
// per-user records and queues behind vCards, private XML, block lists,
// last activity and offline messages, persistent group chat rooms, transactions and retries, schema
// parity) on a fresh database of that engine; internal/storage's engine
// tests call it for sqlite, postgres and mysql. Config and Open give other
// tests a fresh database of an engine.
//
// SQLite is always available. PostgreSQL and MySQL/MariaDB come from the
// environment: PARLEY_TEST_POSTGRES_DSN and PARLEY_TEST_MYSQL_DSN name a
// server (an admin connection; each test creates a database of its own and
// drops it afterwards), as scripts/test-databases.sh start prints them.
// Without them those engines are skipped, unless PARLEY_REQUIRE_ENGINES=1
// (set by CI), which turns a missing engine into a failure.
//
// It owns no production code and is imported only by tests.
package storagetest
