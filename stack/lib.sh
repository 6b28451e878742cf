#!/usr/bin/env bash
# Shared helpers of the native launcher. Sourced by stack/stack.sh and by stack/native/*.sh;
# defines functions and variables only (no side effects when sourced).

: "${STACK_HOME:=${XDG_DATA_HOME:-$HOME/.local/share}/idxstream}"   # configs, data, logs, pids
: "${STACK_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/idxstream}"        # downloaded artifacts, reusable
STACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
. "$STACK_REPO/stack/versions.env"

log()  { printf '%s %-9s %s\n' "$(date +%H:%M:%S)" "[${SERVICE:-stack}]" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# java17 prints the path of a JDK 17 java binary: JAVA_HOME if it is 17, else the system's 17.
java17() {
  local j
  for j in "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
           /usr/lib/jvm/java-17-openjdk-arm64/bin/java /usr/lib/jvm/openjdk-17/bin/java; do
    # a JDK, not a JRE: the launcher compiles the Spark Connect interceptor with its javac
    [ -n "$j" ] && [ -x "$j" ] && [ -x "$(dirname "$j")/javac" ] || continue
    if "$j" -version 2>&1 | head -1 | grep -q '"17\.'; then echo "$j"; return 0; fi
  done
  return 1
}

# dotenv_value NAME: NAME from the environment, else from the repository's .env (last line wins).
dotenv_value() {
  local v=${!1:-}
  if [ -z "$v" ] && [ -f "$STACK_REPO/.env" ]; then
    v=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\+\)\?$1=//p" "$STACK_REPO/.env" | tail -n 1)
    v=${v%\"}; v=${v#\"}; v=${v%\'}; v=${v#\'}
  fi
  printf '%s' "$v"
}

# port_in_use PORT [ADDR]: true if something listens on ADDR:PORT (default 127.0.0.1).
port_in_use() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# require_port_free SERVICE PORT VARIABLE [ADDR]: a clear error naming who needs the port and how to move it.
require_port_free() {
  local addr=${4:-127.0.0.1}
  if port_in_use "$2" "$addr"; then
    die "$1 needs $addr:$2 but something already listens there ($(ss -ltnpH "sport = :$2" 2>/dev/null | sed -n 's/.*users:((\"\([^\"]*\)\".*/\1/p' | head -1)). Stop it, or set $3 to another port."
  fi
}

# ---------------------------------------------------------------------------------------------
# Topology. STACK_TOPOLOGY=single runs one node of each engine; cluster runs KAFKA_NODES=3 Kafka
# nodes, CASSANDRA_NODES=3 Cassandra nodes and SPARK_WORKERS=2 Spark workers on this machine
# (docs/operations.md, "Running on a cluster"). stack.sh resolves it (stack_topology) before the
# service files are sourced; they read only the counts. Node i of Kafka and Cassandra listens on
# 127.0.0.i (Linux routes all of 127.0.0.0/8 to loopback), so every node keeps the single node's
# ports and node 1 is where the single node was: a program given one address still finds the
# cluster.

# topology_counts TOPOLOGY: set the node counts of a topology.
topology_counts() {
  case "$1" in
    single)  KAFKA_NODES=1 CASSANDRA_NODES=1 SPARK_WORKERS=1 ;;
    cluster) KAFKA_NODES=3 CASSANDRA_NODES=3 SPARK_WORKERS=2 ;;
    *) die "STACK_TOPOLOGY must be single or cluster (got '$1')" ;;
  esac
  STACK_TOPOLOGY=$1
  export STACK_TOPOLOGY KAFKA_NODES CASSANDRA_NODES SPARK_WORKERS
}

# recorded_topology: the topology the stack of $STACK_HOME was brought up with (a home made
# before topologies existed holds a single node); empty for a new home.
recorded_topology() {
  if [ -f "$STACK_HOME/topology" ]; then cat "$STACK_HOME/topology"
  elif [ -d "$STACK_HOME/kafka" ] || [ -d "$STACK_HOME/cassandra" ]; then echo single
  fi
}

# node_addr I: the loopback address of node I.
node_addr() { echo "127.0.0.$1"; }

# node_name SERVICE COUNT I: a node's name: the service's own when it has one node (the single
# topology keeps its names, files and pids), SERVICE-I otherwise.
node_name() { if [ "$2" -eq 1 ]; then echo "$1"; else echo "$1-$3"; fi; }

# addr_list PORT COUNT: "127.0.0.1:PORT,127.0.0.2:PORT,..." of COUNT nodes.
addr_list() {
  local i out=""
  for ((i = 1; i <= $2; i++)); do out+="${out:+,}$(node_addr "$i"):$1"; done
  echo "$out"
}

# stackctl ARGS...: the stack's Go tool ($STACKCTL, built by stack/stack.sh), run from the repo root
# so that it reads ./.env.
stackctl() { (cd "$STACK_REPO" && "${STACKCTL:?stackctl is not built (stack/stack.sh builds it)}" "$@"); }

# await_ready SERVICE LOGFILE PID SECONDS TARGET: until the server answers a real request. Whether
# it answers is stackctl's decision (`stackctl wait TARGET`, the one readiness check of the stack,
# which gives up as soon as PID exits); this only turns a failure into an error that names the log
# and shows its last lines. Address variables for stackctl go before the call (VAR=... await_ready).
await_ready() {
  local svc=$1 logf=$2 pid=$3 secs=$4 target=$5
  stackctl wait "$target" -pid "$pid" -timeout "${secs}s" -log-level error && return 0
  if ! kill -0 "$pid" 2>/dev/null; then
    die "$svc exited during start-up; see $logf (last lines below)
$(tail -n 20 "$logf" 2>/dev/null)"
  fi
  die "$svc did not answer within ${secs}s; see $logf (last lines below)
$(tail -n 20 "$logf" 2>/dev/null)"
}

# STACK_ENGINE_NICE (default 10): CPU niceness of the engines that do the bulk work: Cassandra, the
# Spark worker (its executors inherit it) and MariaDB (the aggregate path settles a minute of trades
# in it at a time; at a higher priority than the executor it stretched the raw micro-batches). On a machine they share with the dashboard and
# the person using it, a busy micro-batch then yields the CPU to interactive work instead of
# stretching its response times; with nothing else to run they get the whole machine as before.
# 0 turns it off.
STACK_ENGINE_NICE=${STACK_ENGINE_NICE:-10}

# start_engine NAME LOGFILE CMD...: start_bg at STACK_ENGINE_NICE. Under autogroup scheduling (the
# kernel's default on desktops and many VMs) a nice value only ranks threads within their session,
# and each service runs in a session of its own (setsid), so the session's autogroup gets the same
# niceness once the new process leads it.
start_engine() {
  local name=$1 logf=$2 pid i; shift 2
  start_bg "$name" "$logf" nice -n "$STACK_ENGINE_NICE" "$@"
  pid=$(cat "$STACK_HOME/run/$name.pid")
  [ -w "/proc/$pid/autogroup" ] || return 0
  for i in $(seq 50); do
    if [ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
      echo "$STACK_ENGINE_NICE" > "/proc/$pid/autogroup" 2>/dev/null || log "could not lower the CPU priority of $name (autogroup)"
      return 0
    fi
    sleep 0.1
  done
}

# start_bg NAME LOGFILE CMD...: start CMD detached, pid in $STACK_HOME/run/NAME.pid.
start_bg() {
  local name=$1 logf=$2; shift 2
  mkdir -p "$STACK_HOME/run" "$(dirname "$logf")"
  setsid "$@" >>"$logf" 2>&1 < /dev/null &
  echo $! > "$STACK_HOME/run/$name.pid"
}

# pid_of NAME: the recorded pid if that process is alive.
pid_of() {
  local f="$STACK_HOME/run/$1.pid" p
  [ -f "$f" ] || return 1
  p=$(cat "$f"); kill -0 "$p" 2>/dev/null && echo "$p"
}

# stop_bg NAME SECONDS [MESSAGE]: SIGTERM, wait, then SIGKILL; MESSAGE is logged first when the
# process runs (nothing is said of one that does not).
stop_bg() {
  local name=$1 secs=${2:-30} p i
  p=$(pid_of "$name") || { rm -f "$STACK_HOME/run/$name.pid"; return 0; }
  [ -z "${3:-}" ] || log "$3"
  kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
  for ((i = 0; i < secs * 2; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$p" 2>/dev/null && { log "$name did not stop in ${secs}s; killing"; kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p"; }
  rm -f "$STACK_HOME/run/$name.pid"
}

# stop_nodes SECONDS NOTE NAME...: stop_bg every NAME at the same time ("stopping NAME NOTE" logged
# for each that runs) and wait for all: the nodes of a cluster stop side by side (one after
# another, the last ones of a quorum wait for peers that have gone).
stop_nodes() {
  local secs=$1 note=$2 n pids=(); shift 2
  for n in "$@"; do
    stop_bg "$n" "$secs" "stopping $n${note:+ $note}" &
    pids+=($!)
  done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
}

# proc_row NAME [ADDR:]PORT SHOWN [NOTE]: the launcher's status row of a process it runs: "NAME up
# SHOWN NOTE" while the process lives and its port (on ADDR, default 127.0.0.1) is bound, else
# "NAME down SHOWN" and status 1. Whether the server answers is `stackctl status`'s call.
proc_row() {
  local addr=127.0.0.1 port=$2
  if [[ "$2" == *:* ]]; then addr=${2%:*}; port=${2##*:}; fi
  if pid_of "$1" >/dev/null && port_in_use "$port" "$addr"; then
    echo "$1 up $3${4:+ $4}"
  else
    echo "$1 down $3"; return 1
  fi
}

# mvn_fetch DIR GAV...: copy the given artifacts and their runtime dependencies into DIR (once).
mvn_fetch() {
  local dir=$1; shift
  [ -f "$dir/.complete" ] && return 0
  mkdir -p "$dir"
  local pom; pom=$(mktemp -d)/pom.xml
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local.idxstream</groupId><artifactId>fetch</artifactId><version>1</version><packaging>pom</packaging><dependencies>'
    local gav g a v
    for gav in "$@"; do
      IFS=: read -r g a v <<<"$gav"
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } > "$pom"
  # Maven's own output (with stray terminal codes) is kept in a file and shown only on failure.
  local out="${pom%.xml}.log"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir" >"$out" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$out" >&2
    die "could not fetch $* from Maven Central (Maven's output above)"
  fi
  touch "$dir/.complete"
}
