#!/usr/bin/env bash
# `make test`: the whole suite on SQLite and on the PostgreSQL server at 127.0.0.1:5432
# (TEST_DATABASE=postgresql: a scratch database per run, see tests/conftest.py), the two passes
# side by side. Most of a pass is waiting on sockets and subprocesses, so running them together
# takes little more than the longer one. Each pass's output is printed whole when it ends;
# the exit status is non-zero when either failed. Extra arguments go to both pytest runs.
set -uo pipefail
python="${PYTHON:-.venv/bin/python}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
"$python" -m pytest "$@" >"$logs/sqlite" 2>&1 &
sqlite=$!
TEST_DATABASE=postgresql "$python" -m pytest -p no:cacheprovider "$@" >"$logs/postgresql" 2>&1 &
postgresql=$!
wait "$sqlite"; sqlite_status=$?
echo "== the suite on SQLite (exit $sqlite_status)"; cat "$logs/sqlite"
wait "$postgresql"; postgresql_status=$?
echo "== the suite on PostgreSQL (exit $postgresql_status)"; cat "$logs/postgresql"
[ "$sqlite_status" -eq 0 ] && [ "$postgresql_status" -eq 0 ]
