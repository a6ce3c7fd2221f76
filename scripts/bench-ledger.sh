#!/usr/bin/env bash
# Ledger throughput, measured in one run beside pgbench's TPC-B on the same
# PostgreSQL: internal transfers per second on SQLite and on PostgreSQL
# (go test -bench), queries per transfer, and pgbench's tps.
#
#   scripts/bench-ledger.sh [PG_URL]     (default postgres://postgres@127.0.0.1:5432/test)
#
# Clients: 4 for go test (parallelism 2 at -cpu 2) and 4 for pgbench;
# both on this machine, against the same server.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${1:-postgres://postgres@127.0.0.1:5432/test}
export PSD2BANK_TEST_POSTGRES=$PG

echo "== machine"
nproc; go version; psql "$PG" -qtAc 'SHOW server_version' ; psql "$PG" -qtAc 'SHOW synchronous_commit'

echo "== go test -bench Transfer (3 runs, 5s each)"
go test -run '^$' -bench 'BenchmarkTransfer$' -benchtime 5s -count 3 -cpu 2 ./internal/ledger/

echo "== pgbench TPC-B (scale 10, 4 clients, 2 threads, 30s), same server"
BENCHDB=psd2bank_pgbench
psql "$PG" -qc "DROP DATABASE IF EXISTS $BENCHDB" -qc "CREATE DATABASE $BENCHDB"
BENCHURL=$(printf '%s' "$PG" | sed -E "s#/[^/?]*(\?|$)#/$BENCHDB\1#")
pgbench -q -i -s 10 "$BENCHURL" >/dev/null 2>&1
pgbench -c 4 -j 2 -T 30 -M prepared "$BENCHURL" 2>/dev/null | grep -E 'tps|latency average|number of transactions actually'
psql "$PG" -qc "DROP DATABASE $BENCHDB"
