#!/usr/bin/env bash
# The project's test command. Modes:
#   unit         unit tests of every module (no servers)
#   integration  unit + integration + browser + end-to-end tests against a stack that is up
#   all          starts the stack if it is down, runs `integration`, stops the stack again if it
#                started it; the README's test command (`make test`).
# Prints `N passed, N failed, N skipped` last. With INTEGRATION_REQUIRED=1 (set here for
# integration and all) a test that cannot reach its server fails instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
read -r -a MODULES <<<"$(go list -m -f '{{.Dir}}' | xargs -n1 basename | tr '\n' ' ')"   # the modules of go.work
# Modules that go.work leaves out on purpose (test-only; see OFFWORK in the Makefile) run with
# GOWORK=off, e.g. sparkconnect/internal/compat, which links spark-connect-go.
read -r -a OFFWORK <<<"$(git ls-files -- '*/go.mod' | xargs -n1 dirname | grep -vxF "${MODULES[@]/#/-e}" | tr '\n' ' ')"
OUT=${TEST_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export GOFLAGS="${GOFLAGS:-} -count=1"

started_stack=0
cleanup() {
  if [ "$started_stack" = 1 ] && [ "${KEEP_STACK:-0}" != 1 ]; then
    echo "== stopping the stack this run started (KEEP_STACK=1 keeps it)"
    bash stack/stack.sh down || true
  fi
}
trap cleanup EXIT

case "$mode" in
  unit) tags="" serial="" ;;
  integration|all)
    tags="integration browser e2e"
    export INTEGRATION_REQUIRED=1
    export PRODUCER_BROKER_RESTART_TEST=1   # tests may restart servers: this stack is the run's own
    # One package at a time: some tests stop or restart a server (the job's Cassandra outage, the
    # producer's and e2e's broker restarts), which must not hit another package's tests.
    serial="-p 1"
    # the dashboard's browser test drives Debian's headless Chromium
    . scripts/deps.sh
    ensure_debs chromium || { echo "0 passed, 1 failed"; exit 1; }
    if [ "$mode" = all ] && ! bash stack/stack.sh status >/dev/null 2>&1; then
      echo "== starting the stack (make up)"
      started_stack=1
      bash stack/stack.sh up || { echo "0 passed, 1 failed"; exit 1; }
    fi
    # the programs and tests read the passwords that `make up` wrote
    if [ -f .env ]; then set -a; . ./.env; set +a; fi
    ;;
  *) echo "usage: $0 unit|integration|all" >&2; exit 2 ;;
esac

status=0
check_module() { # dir [VAR=value...]: go vet and go test of one module, with the given environment
  local m=$1 log; shift
  log="$OUT/${m//\//_}"
  : > "$log.log"
  echo "== $m: go vet${*:+ ($*)}"
  (cd "$m" && env "$@" go vet ${tags:+-tags "$tags"} ./...) > "$log.vet" 2>&1 || { cat "$log.vet"; echo "--- FAIL: go vet $m" >> "$log.log"; status=1; }
  echo "== $m: go test ${tags:+-tags \"$tags\"}"
  if ! (cd "$m" && env "$@" go test -v $serial -timeout 40m ${tags:+-tags "$tags"} ./... 2>&1) >> "$log.log"; then
    status=1
    # a package that fails without a failing test (build error, panic, timeout) still counts
    grep -q -- '--- FAIL' "$log.log" || echo "--- FAIL: $m (package failed, see log)" >> "$log.log"
  fi
  grep -E -- '^(--- FAIL|FAIL|ok|panic:)|^\s+--- FAIL|\[build failed\]' "$log.log" | sed 's/^/   /' | head -40
}
for m in "${MODULES[@]}"; do check_module "$m"; done
for m in "${OFFWORK[@]}"; do check_module "$m" GOWORK=off; done

passed=$(cat "$OUT"/*.log | grep -cE '^\s*--- PASS')
failed=$(cat "$OUT"/*.log | grep -cE '^\s*--- FAIL')
skipped=$(cat "$OUT"/*.log | grep -cE '^\s*--- SKIP')
echo "logs: $OUT"
if [ "$failed" -gt 0 ]; then
  echo "failed tests:"; cat "$OUT"/*.log | grep -E '^\s*--- FAIL' | sed 's/^\s*/  /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" = 0 ] && [ "$failed" = 0 ]
