#!/usr/bin/env bash
# The project's test command. Modes:
#   unit         unit tests of every module (no servers)
#   integration  unit + integration + browser + end-to-end tests against a stack that is up
#   all          starts the stack if it is down, runs `integration`, stops the stack again if it
#                started it; the README's test command (`make test`).
# testkit/cmd/testrun runs go vet and go test per module and prints `N passed, N failed, N skipped`
# last, with an exit code that agrees (build errors, vet findings, panics and timeouts count).
# Against the stack, tests work in namespaces of their own (testkit); `stackctl preflight` checks
# the servers and .env first, and `stackctl fingerprint` guards the product's data: taken before
# and after the tests, a difference is a failure (skipped while `make demo` runs, since its
# programs change that data themselves).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
read -r -a MODULES <<<"$(go list -m -f '{{.Dir}}' | tr '\n' ' ')"   # the modules of go.work
# Modules that go.work leaves out on purpose are test-only and run with GOWORK=off (see OFFWORK in
# the Makefile): sparkconnect/internal/compat links spark-connect-go.
standalone=()
for m in $(git ls-files -- '*/go.mod' | xargs -n1 dirname); do
  [[ " ${MODULES[*]} " == *" $PWD/$m "* ]] || standalone+=(-standalone "$m")
done
OUT=${TEST_OUT:-$(mktemp -d)}
mkdir -p "$OUT/bin"
fail() { echo "$*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

go build -o "$OUT/bin/testrun" ./testkit/cmd/testrun || fail "could not build the test runner (see above)"

started_stack=0
cleanup() {
  if [ "$started_stack" = 1 ] && [ "${KEEP_STACK:-0}" != 1 ]; then
    echo "== stopping the stack this run started (KEEP_STACK=1 keeps it)"
    bash stack/stack.sh down || true
  fi
}
trap cleanup EXIT

args=(-out "$OUT")
case "$mode" in
  unit) ;;
  integration|all)
    export INTEGRATION_REQUIRED=1
    export PRODUCER_BROKER_RESTART_TEST=1   # tests may restart servers: the programs must live through it
    # One package at a time: some tests stop or restart a server (the job's Cassandra outage, the
    # producer's and e2e's broker restarts), which must not hit another package's tests.
    args+=(-tags "integration browser e2e" -p 1)
    # the dashboard's browser test drives Debian's headless Chromium;
    . scripts/deps.sh
    ensure_debs chromium || fail "could not install chromium for the browser tests"
    # the full-disk drill (e2e/diskdrill) makes and loop-mounts a small ext4
    ensure_debs e2fsprogs mount util-linux || fail "could not install e2fsprogs, mount and util-linux for the full-disk drill"
    if [ "$mode" = all ]; then
      if bash stack/stack.sh status >/dev/null 2>&1; then
        # Quick when everything runs: gives a checkout without .env the running stack's secrets
        # and applies what migrations this checkout adds.
        echo "== the stack is up: make up (copies its secrets into a missing .env, applies new migrations)"
      else
        echo "== starting the stack (make up)"
        started_stack=1
      fi
      bash stack/stack.sh up 2>&1 | tee "$OUT/make-up.log" || fail "the stack did not come up (see above)"
    fi
    # the programs and tests read the passwords that `make up` wrote
    if [ -f .env ]; then set -a; . ./.env; set +a; fi
    (cd stack && go build -o "$OUT/bin/stackctl" ./cmd/stackctl) || fail "could not build stackctl (see above)"
    echo "== preflight: the stack answers and .env matches it"
    "$OUT/bin/stackctl" preflight 2>/dev/null || fail "preflight failed: fix the cause above before running tests"
    . stack/lib.sh
    demo_running=""
    for pid in "$STACK_HOME"/run/demo/*.pid; do
      [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null && demo_running="$demo_running $(basename "$pid" .pid)"
    done
    if [ -n "$demo_running" ]; then
      echo "== make demo is running ($demo_running ): its programs change the product's data, so the fingerprint guard is off"
    else
      args+=(-guard "'$OUT/bin/stackctl' fingerprint")
    fi
    ;;
  *) echo "usage: $0 unit|integration|all" >&2; exit 2 ;;
esac

"$OUT/bin/testrun" "${args[@]}" "${standalone[@]}" "${MODULES[@]}"
