#!/usr/bin/env bash
# Runs the official W3C Trace Context test suite (this folder, vendored from
# w3c/trace-context `test/`) at STRICT_LEVEL=2 SPEC_LEVEL=2 against
# `w3c-service` (service.rs: RacewayLayer + raceway::request), and fails
# unless every test passes. Creates a Python venv with aiohttp on first use.
#
#   bash tests/w3c/run.sh          # from anywhere; honours CARGO_TARGET_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/w3c-venv"
expected=41

if ! "$venv/bin/python" -c 'import aiohttp' 2>/dev/null; then
  echo "-- creating the Python venv $venv (aiohttp from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check aiohttp
fi

echo "-- building w3c-service"
(cd "$root" && cargo build --quiet -p raceway-tests --bin w3c-service)

work="$(mktemp -d)"
service_pid=""
cleanup() {
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$target/debug/w3c-service" "$work/address" 2>"$work/service.log" &
service_pid=$!
# The service writes its address once it listens (within seconds; a minute
# at most on a loaded machine).
for _ in $(seq 600); do
  [ -s "$work/address" ] && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$work/service.log" >&2; echo "w3c-service exited" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/address" ] || { echo "w3c-service did not start" >&2; exit 1; }
endpoint="$(cat "$work/address")"

# A free port for the harness, so that a run never collides with another.
harness_port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

echo "-- W3C Trace Context suite against $endpoint (harness on port $harness_port)"
status=0
(cd "$here" && STRICT_LEVEL=2 SPEC_LEVEL=2 HARNESS_PORT="$harness_port" \
  "$venv/bin/python" -B test.py "$endpoint") >"$work/suite.log" 2>&1 || status=$?
cat "$work/suite.log"
passed="$(grep -c ' \.\.\. ok$' "$work/suite.log" || true)"
echo "-- W3C Trace Context suite: $passed of $expected passed"
if [ "$status" -ne 0 ] || [ "$passed" -ne "$expected" ] || ! grep -q "^Ran $expected tests" "$work/suite.log"; then
  echo "the W3C Trace Context suite must pass $expected of $expected (exit status $status)" >&2
  cat "$work/service.log" >&2
  exit 1
fi
