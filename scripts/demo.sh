#!/usr/bin/env bash
# `make demo`: the whole product from a fresh clone. Brings the stack up (first run downloads the
# servers: several minutes), builds the three programs, starts the streaming job, the producer at
# a gentle rate and the dashboard, prints where to look, and waits. Ctrl-C (or `make stop` from
# another terminal) stops the three programs cleanly; the stack keeps running until `make down`.
set -euo pipefail
cd "$(dirname "$0")/.."
. stack/lib.sh
PIDS="$STACK_HOME/run/demo"
LOGS="$STACK_HOME/logs"

stop_programs() {
  local name pid
  for name in producer spark_script dashboard; do   # the source first, then the job, then the view
    [ -f "$PIDS/$name.pid" ] || continue
    pid=$(cat "$PIDS/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      echo "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { echo "$name did not stop in 30s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$PIDS/$name.pid"
  done
}

if [ "${1:-}" = stop ]; then
  touch "$PIDS/stopping" 2>/dev/null   # tells a running `make demo` that the exits are wanted
  stop_programs; exit 0
fi

echo "== 1/4 stack (make up)"
bash stack/stack.sh up
set -a; . ./.env; [ -f "$STACK_HOME/stack.env" ] && . "$STACK_HOME/stack.env"; set +a

echo "== 2/4 building the programs"
mkdir -p bin "$PIDS" "$LOGS"
go build -o bin/spark_script ./spark_script
go build -o bin/producer ./producer
go build -o bin/dashboard ./dashboard

start() { # name args...: run in the background, log to $LOGS/name.log
  local name=$1; shift
  if [ -f "$PIDS/$name.pid" ] && kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$PIDS/$name.pid"))"; return
  fi
  "./bin/$name" "$@" >>"$LOGS/$name.log" 2>&1 &
  echo $! > "$PIDS/$name.pid"
  echo "$name started (pid $!), log: $LOGS/$name.log"
}

rm -f "$PIDS/stopping"
echo "== 3/4 starting the streaming job, the producer and the dashboard"
start spark_script "${DEMO_TOPIC:-trading_data}"
start producer --rate "${DEMO_RATE:-200}" "${DEMO_TOPIC:-trading_data}"
start dashboard
trap 'echo; stop_programs; echo "programs stopped; the stack is still up (make down stops it)"; exit 0' INT TERM

echo "== 4/4 running"
cat <<MSG

  Dashboard:     http://${DASHBOARD_ADDR:-127.0.0.1:8501}
  Job status:    http://${JOB_STATUS_ADDR:-127.0.0.1:4050}/status
  Spark UI:      http://127.0.0.1:8080 (master)  http://127.0.0.1:4040 (Connect server)
  Logs:          $LOGS/{spark_script,producer,dashboard}.log  (make logs for the servers)

  Ctrl-C or 'make stop' stops the programs; 'make down' stops the stack.
MSG
while true; do
  if [ -f "$PIDS/stopping" ]; then
    echo "programs stopped by 'make stop'; the stack is still up (make down stops it)"; exit 0
  fi
  for name in spark_script producer dashboard; do
    if ! kill -0 "$(cat "$PIDS/$name.pid" 2>/dev/null)" 2>/dev/null; then
      [ -f "$PIDS/stopping" ] && continue
      echo "$name exited; last lines of $LOGS/$name.log:"; tail -n 20 "$LOGS/$name.log"
      stop_programs; exit 1
    fi
  done
  sleep 2
done
