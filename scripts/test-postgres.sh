#!/usr/bin/env bash
# Runs the test suite against PostgreSQL: starts the local cluster when it is
# not running, makes a fresh `keeper_test` database (each test then works in
# a schema of its own inside it) and runs `cargo test` with
# KEEPER_TEST_DATABASE_URL pointing at it. Extra arguments go to cargo test.
#
# KEEPER_TEST_PG (default postgres://postgres@127.0.0.1:5432) names the
# server; it needs a role that may create databases.
set -euo pipefail
cd "$(dirname "$0")/.."

server="${KEEPER_TEST_PG:-postgres://postgres@127.0.0.1:5432}"

if ! pg_isready -q -d "$server/postgres"; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    echo "starting PostgreSQL $version (cluster main)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -d "$server/postgres" && break
    sleep 1
  done
  pg_isready -d "$server/postgres"
fi

psql -q -v ON_ERROR_STOP=1 -d "$server/postgres" \
  -c "DROP DATABASE IF EXISTS keeper_test WITH (FORCE)" \
  -c "CREATE DATABASE keeper_test"

KEEPER_TEST_DATABASE_URL="$server/keeper_test" cargo test --locked "$@"
