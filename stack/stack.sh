#!/usr/bin/env bash
# The stack launcher behind `make up|down|status|logs|clean`.
#
#   bash stack/stack.sh up               start Kafka, MariaDB/MySQL, Cassandra, Spark; migrate; create topics
#   bash stack/stack.sh down             stop everything, keep data
#   bash stack/stack.sh status           one line per service; exit 1 when something is down
#   bash stack/stack.sh restart [svc...] stop and start some services (default all), keeping data
#   bash stack/stack.sh logs [svc] [-f|--no-follow]
#   bash stack/stack.sh nodetool ARGS    Cassandra's nodetool on a node (CASSANDRA_NODE=i; e.g. flush trading)
#   bash stack/stack.sh clean [--yes]    stop and delete $STACK_HOME (data, logs, configs); keeps $STACK_CACHE
#
# STACK_MODE=auto|docker|native (default auto: docker when `docker info` answers, else native).
# Native mode assembles the servers from Maven Central, PyPI and Debian packages (stack/native/*.sh).
# STACK_TOPOLOGY=single|cluster (`make up TOPOLOGY=cluster`): one node of each engine, or 3 Kafka
# nodes, 3 Cassandra nodes and 2 Spark workers. `up` records it in $STACK_HOME/topology; the other
# commands act on the recorded one.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# The topology, before the service files read its node counts. A home's data belongs to one
# topology: Kafka's log, Spark's checkpoints and the MySQL batch log that records Kafka offsets
# would not match the other's servers, so `up` refuses to switch rather than mix them.
_recorded=$(recorded_topology)
if [ -n "${STACK_TOPOLOGY:-}" ] && [ -n "$_recorded" ] && [ "$STACK_TOPOLOGY" != "$_recorded" ]; then
  if [ "${1:-}" = up ] && [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    die "STACK_TOPOLOGY=$STACK_TOPOLOGY, but $STACK_HOME holds a $_recorded stack (its Kafka log, Spark checkpoints and MySQL batch log belong to those servers). Either delete it ('make clean') and run 'make up TOPOLOGY=$STACK_TOPOLOGY', or give the $STACK_TOPOLOGY stack a home of its own: 'make up TOPOLOGY=$STACK_TOPOLOGY STACK_HOME=\$HOME/.local/share/idxstream-$STACK_TOPOLOGY' (and the same STACK_HOME for the later commands)"
  fi
  log "STACK_TOPOLOGY=$STACK_TOPOLOGY, but $STACK_HOME holds a $_recorded stack: acting on that one"
fi
topology_counts "${_recorded:-${STACK_TOPOLOGY:-single}}"
unset _recorded

ALL_SERVICES=(mariadb kafka cassandra spark)   # start order; stop order is the reverse
# STACK_SERVICES="mariadb kafka" limits every command to some services (default: all).
read -r -a WANTED <<<"${STACK_SERVICES:-${ALL_SERVICES[*]}}"
for _svc in "${WANTED[@]}"; do
  [[ " ${ALL_SERVICES[*]} " == *" $_svc "* ]] || { echo "STACK_SERVICES: unknown service '$_svc' (one of: ${ALL_SERVICES[*]})" >&2; exit 2; }
done
SERVICES=()                                    # the wanted ones whose service file exists
for _svc in "${ALL_SERVICES[@]}"; do
  [[ " ${WANTED[*]} " == *" $_svc "* ]] || continue
  if [ -f "$STACK_REPO/stack/native/$_svc.sh" ]; then
    # shellcheck disable=SC1090
    . "$STACK_REPO/stack/native/$_svc.sh"
    SERVICES+=("$_svc")
  fi
done
unset _svc

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# mode

stack_mode() {
  case "${STACK_MODE:-auto}" in
    docker|native) echo "$STACK_MODE" ;;
    auto)
      if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then echo docker; else echo native; fi ;;
    *) die "STACK_MODE must be auto, docker or native (got '$STACK_MODE')" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# prerequisites (native mode)

APT_UPDATED=0
apt_install() {  # apt_install PKG...: install Debian packages when root, else explain.
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing prerequisites; install them first: sudo apt-get install -y $*"
  fi
  log "installing missing Debian packages: $*"
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed (see above)"
}

check_java() {
  local j v
  if ! j=$(java17); then
    v=""
    [ -n "${JAVA_HOME:-}" ] && v=" (JAVA_HOME=$JAVA_HOME is $("$JAVA_HOME/bin/java" -version 2>&1 | head -1 || echo 'not a JDK'))"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "no JDK 17 found$v"
      apt_install openjdk-17-jdk-headless
      j=$(java17) || die "JDK 17 still not found after installing openjdk-17-jdk-headless"
    else
      die "the servers need a JDK 17 and none was found$v. Install one (Debian: sudo apt-get install openjdk-17-jdk-headless) or point JAVA_HOME at a JDK 17."
    fi
  fi
  if [ -n "${JAVA_HOME:-}" ] && [ "$j" != "$JAVA_HOME/bin/java" ]; then
    log "WARNING: JAVA_HOME=$JAVA_HOME is not a JDK 17 ($("$JAVA_HOME/bin/java" -version 2>&1 | head -1 || echo 'no java there')); using $(dirname "$(dirname "$j")") instead"
  fi
  JAVA_HOME=$(dirname "$(dirname "$j")")
  export JAVA_HOME
}

check_prereqs() {
  local missing=()
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v python3 >/dev/null 2>&1 && python3 -c 'import pip' >/dev/null 2>&1 || missing+=(python3-pip)
  { command -v mariadbd || [ -x /usr/sbin/mariadbd ]; } >/dev/null 2>&1 || missing+=(mariadb-server)
  command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  check_java
}

# ---------------------------------------------------------------------------------------------
# .env and stackctl

ensure_env_file() {
  local env="$STACK_REPO/.env" ex="$STACK_REPO/.env.example" line name added=()
  [ -f "$ex" ] || { [ -f "$env" ] && return 0; die "$ex is missing; cannot create .env"; }
  if [ ! -f "$env" ] && [ -f "$STACK_HOME/secrets.env" ]; then
    # Another checkout brought this stack up: use its secrets rather than new ones, which the next
    # migration would set as the users' passwords under the programs already running.
    log "creating $env from the stack's secrets ($STACK_HOME/secrets.env)"
    (umask 077; cp "$STACK_HOME/secrets.env" "$env")
  fi
  if [ ! -f "$env" ]; then
    log "creating $env with random passwords (names from .env.example)"
    (umask 077; echo "# Created by stack/stack.sh on $(date -u +%FT%TZ). Local secrets: never commit this file." > "$env")
  fi
  # Append the names .env lacks (a new one in .env.example); existing lines are never changed.
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in \#*|'') continue ;; esac
    name=${line%%=*}
    grep -q "^[[:space:]]*\(export[[:space:]]\+\)\?$name=" "$env" && continue
    if [[ "$name" == *PASSWORD* || "$name" == *SECRET* ]]; then
      echo "$name=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)" >> "$env"
    else
      echo "$line" >> "$env"
    fi
    added+=("$name")
  done < "$ex"
  [ ${#added[@]} -eq 0 ] || log "added to .env: ${added[*]}"
}

# record_secrets: the stack keeps a copy of the secrets it was brought up with, for checkouts that
# have none; written only once `up` succeeded, so that a checkout whose .env the servers refuse
# (or an `up` that stops early) never replaces the secrets the servers run with.
record_secrets() {
  mkdir -p "$STACK_HOME"
  (umask 077; cp "$STACK_REPO/.env" "$STACK_HOME/secrets.env.tmp" && mv "$STACK_HOME/secrets.env.tmp" "$STACK_HOME/secrets.env")
}

# build_stackctl: compile stack/cmd/stackctl into $STACK_HOME/bin (Go's build cache makes it quick).
# STACKCTL_BIN=path uses a stackctl built elsewhere instead (e.g. from another checkout, leaving
# the stack's own binary alone).
build_stackctl() {
  if [ -n "${STACKCTL_BIN:-}" ]; then
    [ -x "$STACKCTL_BIN" ] || die "STACKCTL_BIN=$STACKCTL_BIN is not an executable"
    STACKCTL=$STACKCTL_BIN; export STACKCTL; return 0
  fi
  STACKCTL="$STACK_HOME/bin/stackctl"
  mkdir -p "$STACK_HOME/bin"
  # skip the build (seconds on a busy machine) when no source of the module is newer than the binary
  if [ ! -x "$STACKCTL" ] || [ -n "$(find "$STACK_REPO/stack" "$STACK_REPO/go.work" \( -name '*.go' -o -name 'go.*' \) \
        -newer "$STACKCTL" -print -quit 2>/dev/null)" ]; then
    (cd "$STACK_REPO/stack" && go build -o "$STACKCTL" ./cmd/stackctl) \
      || die "could not build stackctl (see the Go errors above)"
  fi
  export STACKCTL
}

# native_stackctl_env: stackctl talks to the servers this launcher started (every node on
# 127.0.0.i, MariaDB's socket), whatever the clients' variables in .env say; on a cluster, topics
# and keyspaces are made with replication 3 unless the environment says otherwise.
native_stackctl_env() {
  export KAFKA_BOOTSTRAP_SERVERS CASSANDRA_HOSTS
  KAFKA_BOOTSTRAP_SERVERS=$(addr_list "${KAFKA_PORT:-9092}" "$KAFKA_NODES")
  CASSANDRA_HOSTS=$(addr_list "${CASSANDRA_PORT:-9042}" "$CASSANDRA_NODES")
  export SPARK_REMOTE="sc://127.0.0.1:${SPARK_CONNECT_PORT:-15002}" SPARK_MASTER_UI_URL="http://127.0.0.1:${SPARK_MASTER_UI_PORT:-8080}"
  if [ -n "${MARIADB_SOCKET:-}" ]; then MYSQL_ADMIN_DSN="$(id -un)@unix($MARIADB_SOCKET)/"; export MYSQL_ADMIN_DSN; fi
  topology_replication_env
}

# topology_replication_env: the replication of a cluster's topics and keyspaces (3 copies; Kafka
# acknowledges a write once 2 hold it), unless the environment sets them.
topology_replication_env() {
  [ "$STACK_TOPOLOGY" = cluster ] || return 0
  export KAFKA_REPLICATION_FACTOR=${KAFKA_REPLICATION_FACTOR:-3} KAFKA_MIN_INSYNC_REPLICAS=${KAFKA_MIN_INSYNC_REPLICAS:-2}
  export CASSANDRA_REPLICATION=${CASSANDRA_REPLICATION:-"{'class': 'SimpleStrategy', 'replication_factor': 3}"}
}

# write_cluster_env: $STACK_HOME/stack.env for a native cluster: every node's address, which
# `make` (and scripts/demo.sh) hand to the programs, so that they start while any node is down.
# Programs run without make find the cluster through node 1 (the address .env gives them).
write_cluster_env() {
  ( native_stackctl_env   # the same addresses and replication stackctl is given
    cat > "$STACK_HOME/stack.env.tmp" <<ENV
# Written by stack/stack.sh (native cluster): every node, for the programs that make starts.
KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS
CASSANDRA_HOSTS=$CASSANDRA_HOSTS
KAFKA_REPLICATION_FACTOR=$KAFKA_REPLICATION_FACTOR
KAFKA_MIN_INSYNC_REPLICAS=$KAFKA_MIN_INSYNC_REPLICAS
ENV
  )
  mv "$STACK_HOME/stack.env.tmp" "$STACK_HOME/stack.env"
}

# ---------------------------------------------------------------------------------------------
# native commands

svc_call() {  # svc_call SVC ACTION: run <svc>_<action> with the log prefix set.
  # shellcheck disable=SC2034 # SERVICE is read by log() inside the service functions
  local SERVICE=$1
  "${1}_$2"
}

native_fetch_all() {
  local svc pids=() names=() i rc=0
  for svc in "${SERVICES[@]}"; do
    # a running service has what it needs; skipping it keeps a repeated `up` quick
    svc_call "$svc" status >/dev/null 2>&1 && continue
    ( svc_call "$svc" fetch ) &
    pids+=($!); names+=("$svc")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { log "fetch of ${names[$i]} failed"; rc=1; }
  done
  [ $rc -eq 0 ] || die "fetching artifacts failed (see above); re-run 'up' to resume"
}

native_up() {
  local t0=$SECONDS svc targets=()
  log "native mode, $STACK_TOPOLOGY topology: STACK_HOME=$STACK_HOME STACK_CACHE=$STACK_CACHE"
  mkdir -p "$STACK_HOME"
  echo "$STACK_TOPOLOGY" > "$STACK_HOME/topology"
  # Spark sees the same addresses as the programs; a cluster's are every node's
  if [ "$STACK_TOPOLOGY" = cluster ]; then write_cluster_env; else rm -f "$STACK_HOME/stack.env"; fi
  # stackctl first: it decides whether a server answers (status, and each start-up's wait)
  command -v go >/dev/null 2>&1 || [ -n "${STACKCTL_BIN:-}" ] || die "Go (1.26 or newer) is needed to build stackctl; install it from go.dev/dl and put it on PATH"
  ensure_env_file
  build_stackctl
  native_stackctl_env
  if native_status >/dev/null 2>&1; then
    # everything runs already: nothing to check, fetch or start (keeps a repeated `up` quick)
    log "all services already up"
  else
    check_prereqs
    mkdir -p "$STACK_HOME/logs" "$STACK_HOME/run" "$STACK_CACHE"
    native_fetch_all
    for svc in "${SERVICES[@]}"; do svc_call "$svc" start; done
  fi
  [[ " ${SERVICES[*]} " == *" mariadb "* ]] && targets+=(mysql)
  [[ " ${SERVICES[*]} " == *" cassandra "* ]] && targets+=(cassandra)
  if [ ${#targets[@]} -gt 0 ]; then
    stackctl migrate -targets "$(IFS=,; echo "${targets[*]}")" || die "migrations failed (see above)"
  fi
  if [[ " ${SERVICES[*]} " == *" kafka "* ]]; then
    stackctl topics || die "creating Kafka topics failed (see above)"
  fi
  native_status || true
  record_secrets
  log "up in $((SECONDS - t0))s"
}

native_down() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do svc_call "${SERVICES[$i]}" stop; done
  log "stopped (data kept in $STACK_HOME)"
}

# native_status: the launcher's rows (each process alive with its port bound: process control)
# go to `stackctl status`, which asks every running server for a real answer, prints the table
# (SERVICE STATE ADDRESS) and exits 1 when a service is down.
native_status() {
  local svc line rows=""
  for svc in "${SERVICES[@]}"; do
    line=$(svc_call "$svc" status 2>/dev/null) || true
    rows+="${line:-$svc down}"$'\n'   # one or more lines "name up|down address"
  done
  for svc in "${WANTED[@]}"; do
    [[ " ${SERVICES[*]} " == *" $svc "* ]] || rows+="$svc down (stack/native/$svc.sh missing)"$'\n'
  done
  build_stackctl
  ( native_stackctl_env; printf '%s' "$rows" | stackctl status -table - -log-level error )
}

# ---------------------------------------------------------------------------------------------
# docker commands

# compose ARGS...: docker compose on the stack's files, with docker-compose.cluster.yml merged over
# docker-compose.yml when STACK_TOPOLOGY=cluster (three Kafka and Cassandra nodes, two Spark workers).
compose() {
  local files=(-f docker-compose.yml)
  if [ "${STACK_TOPOLOGY:-}" = cluster ]; then files+=(-f docker-compose.cluster.yml); fi
  ( set -a; . "$STACK_REPO/stack/versions.env"; [ -f "$STACK_REPO/.env" ] && . "$STACK_REPO/.env"; set +a
    cd "$STACK_REPO" && docker compose "${files[@]}" "$@" )
}

# docker_up: compose brings the servers up, and its one-shot service stack-init runs `stackctl init`
# (wait, migrate -any-host, topics) inside the compose network, the code native_up runs; `up --wait`
# returns once stack-init has exited 0 and the servers are healthy. Nothing is migrated from here.
docker_up() {
  local t0=$SECONDS init_log spark_kafka=kafka:19092
  command -v go >/dev/null 2>&1 || [ -n "${STACKCTL_BIN:-}" ] || die "Go is needed to build stackctl (the Spark Connect check, status)"
  ensure_env_file
  build_stackctl
  mkdir -p "$STACK_HOME"
  echo "$STACK_TOPOLOGY" > "$STACK_HOME/topology"
  if ! compose up -d --wait; then
    compose ps -a || true
    # empty when stack-init never started (a server it waits for did not turn healthy)
    init_log=$(compose logs --no-color --tail 100 stack-init 2>/dev/null || true)
    [ -z "$init_log" ] || { log "stack-init (stackctl init) said:"; printf '%s\n' "$init_log" >&2; }
    die "docker compose up failed; see above and 'bash stack/stack.sh logs [service]'"
  fi
  # The one check left on the host: spark-connect's healthcheck only connects to the port, and
  # stack-init runs before it; this runs SELECT 1 with the secret through the published port, as
  # the job will (the Spark image has no stackctl).
  ( set -a; . "$STACK_REPO/.env"; set +a
    stackctl wait spark -timeout 240s ) || die "Spark Connect does not answer SELECT 1 with the secret (see above; 'bash stack/stack.sh logs spark')"
  # Spark runs in containers: it reaches Kafka and MySQL by service name, not 127.0.0.1.
  # `make` and scripts/demo.sh read this file; the programs on the host keep using 127.0.0.1.
  mkdir -p "$STACK_HOME"
  if [ "${STACK_TOPOLOGY:-}" = cluster ]; then spark_kafka=kafka:19092,kafka-2:19092,kafka-3:19092; fi
  cat > "$STACK_HOME/stack.env" <<ENV
# Written by stack/stack.sh (docker mode): addresses as seen from inside the Spark containers.
SPARK_KAFKA_BOOTSTRAP_SERVERS=$spark_kafka
SPARK_MYSQL_ADDR=mysql:3306
ENV
  if [ "${STACK_TOPOLOGY:-}" = cluster ]; then
    # The cluster for the programs on the host: every node on the port compose publishes it on (the
    # port variables of .env, which compose() reads too). The replication of topics and keyspaces
    # is stack-init's business (docker-compose.cluster.yml); the programs never need it.
    ( if [ -f "$STACK_REPO/.env" ]; then set -a; . "$STACK_REPO/.env"; set +a; fi
      cat >> "$STACK_HOME/stack.env" <<ENV
# The cluster topology (docker-compose.cluster.yml), as seen from the host.
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:${KAFKA_PORT:-9092},127.0.0.1:${KAFKA_PORT_2:-9094},127.0.0.1:${KAFKA_PORT_3:-9096}
CASSANDRA_HOSTS=127.0.0.1:${CASSANDRA_PORT:-9042},127.0.0.1:${CASSANDRA_PORT_2:-9043},127.0.0.1:${CASSANDRA_PORT_3:-9044}
KAFKA_REPLICATION_FACTOR=3
KAFKA_MIN_INSYNC_REPLICAS=2
ENV
    )
  fi
  compose ps
  record_secrets
  log "up in $((SECONDS - t0))s"
}

# docker_status: compose's table of the containers, then `stackctl status`, which asks each
# service on its published 127.0.0.1 port for a real answer and decides the exit code.
docker_status() {
  compose ps -a
  [ -n "$(compose ps -q)" ] || { log "no containers; run 'make up'"; return 1; }
  echo
  build_stackctl
  ( if [ -f "$STACK_REPO/.env" ]; then set -a; . "$STACK_REPO/.env"; set +a; fi
    : "${MYSQL_ADMIN_DSN:=root:${MYSQL_ROOT_PASSWORD:-}@tcp(${MYSQL_ADDR:-127.0.0.1:${MYSQL_PORT:-3306}})/}"
    export MYSQL_ADMIN_DSN
    stackctl status -log-level error )
}

# compose_names SVC: the compose services of a launcher service name.
compose_names() {
  if [ "${STACK_TOPOLOGY:-}" = cluster ]; then
    case "$1" in
      kafka) echo kafka kafka-2 kafka-3; return ;;
      cassandra) echo cassandra cassandra-2 cassandra-3; return ;;
      spark) echo spark-master spark-worker spark-worker-2 spark-connect; return ;;
    esac
  fi
  case "$1" in
    mariadb|mysql) echo mysql ;;
    spark) echo spark-master spark-worker spark-connect ;;
    *) echo "$1" ;;
  esac
}

# ---------------------------------------------------------------------------------------------

confirm_clean() {
  local yes=$1
  [ "$yes" = 1 ] || [ "${CI:-}" = true ] && return 0
  [ -t 0 ] || die "clean deletes $STACK_HOME; re-run with --yes to confirm"
  read -r -p "Delete all stack data in $STACK_HOME (downloads in $STACK_CACHE are kept)? [y/N] " a
  [[ "$a" == [yY]* ]] || die "not confirmed; nothing deleted"
}

cmd_logs() {
  local follow=auto svc="" files=() f
  for a in "$@"; do
    case "$a" in -f|--follow) follow=1 ;; --no-follow) follow=0 ;; -*) usage ;; *) svc=$a ;; esac
  done
  [ "$follow" = auto ] && { [ -t 1 ] && follow=1 || follow=0; }
  if [ "$MODE" = docker ]; then
    local names=()
    [ -z "$svc" ] || read -r -a names <<<"$(compose_names "$svc")"
    if [ "$follow" = 1 ]; then compose logs -f "${names[@]}"; else compose logs --tail 100 "${names[@]}"; fi
    return
  fi
  if [ -n "$svc" ]; then
    [[ " ${ALL_SERVICES[*]} " == *" $svc "* ]] || die "unknown service '$svc' (one of: ${ALL_SERVICES[*]})"
    for f in "$STACK_HOME/logs/$svc"*.log; do [ -f "$f" ] && files+=("$f"); done
  else
    for f in "$STACK_HOME"/logs/*.log; do [ -f "$f" ] && files+=("$f"); done
  fi
  [ ${#files[@]} -gt 0 ] || die "no logs ${svc:+of $svc }in $STACK_HOME/logs"
  if [ "$follow" = 1 ]; then tail -n 50 -F "${files[@]}"; else tail -n 50 "${files[@]}"; fi
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1; shift
  MODE=$(stack_mode)
  case "$cmd" in
    up)
      if [ "$MODE" = docker ]; then docker_up; else native_up; fi ;;
    down)
      if [ "$MODE" = docker ]; then compose down; else native_down; fi ;;
    status)
      local rc=0
      if [ "$MODE" = docker ]; then docker_status || rc=$?; else native_status || rc=$?; fi
      # disk use per store and the free space left, with a warning below DISK_MIN_FREE; only when
      # the servers answer, and never what decides the exit code (a full disk shows as a warning)
      if [ "$rc" = 0 ] && command -v go >/dev/null 2>&1; then
        echo
        build_stackctl >/dev/null 2>&1 && ( if [ -f "$STACK_REPO/.env" ]; then set -a; . "$STACK_REPO/.env"; set +a; fi
          [ "$MODE" = docker ] && : "${MYSQL_ADMIN_DSN:=root:${MYSQL_ROOT_PASSWORD:-}@tcp(${MYSQL_ADDR:-127.0.0.1:${MYSQL_PORT:-3306}})/}" && export MYSQL_ADMIN_DSN
          stackctl disk 2>/dev/null ) || echo "(disk use unavailable: run '$STACKCTL disk' to see why)"
      fi
      return "$rc" ;;
    restart)  # restart [svc...]: stop then start the named services (all by default), keeping data
      local only="${*:-${WANTED[*]}}"
      if [ "$MODE" = docker ]; then
        compose restart "$@"
      else
        STACK_SERVICES="$only" bash "${BASH_SOURCE[0]}" down && STACK_SERVICES="$only" bash "${BASH_SOURCE[0]}" up
      fi ;;
    logs) cmd_logs "$@" ;;
    nodetool)  # nodetool ARGS...: Cassandra's nodetool against a running node (CASSANDRA_NODE=i, default 1), e.g. `nodetool flush trading`
      if [ "$MODE" = docker ]; then compose exec cassandra nodetool "$@"; else cassandra_nodetool "$@"; fi ;;
    clean)
      local yes=0
      [ "${1:-}" = --yes ] || [ "${1:-}" = -y ] && yes=1
      confirm_clean $yes
      if [ "$MODE" = docker ]; then
        compose down -v
      else
        native_down
        case "$STACK_HOME" in ''|/|"$HOME") die "refusing to delete STACK_HOME='$STACK_HOME'" ;; esac
        if [ "${#WANTED[@]}" -eq "${#ALL_SERVICES[@]}" ]; then
          rm -rf "$STACK_HOME"
          log "removed $STACK_HOME (downloads kept in $STACK_CACHE)"
        else  # STACK_SERVICES names a subset: remove only their data, configs, logs and pids
          local svc
          for svc in "${WANTED[@]}"; do
            # a cluster's nodes are <svc>-1, <svc>-2, ... (Spark's workers: spark-worker-1, ...)
            rm -rf "${STACK_HOME:?}/$svc" "$STACK_HOME/$svc"-[0-9]* "$STACK_HOME/logs/$svc"*.log "$STACK_HOME/run/$svc"*.pid
          done
          log "removed the data of ${WANTED[*]} from $STACK_HOME (downloads kept in $STACK_CACHE)"
        fi
      fi ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

# Run only when executed (sourcing it gives the functions, e.g. for tests).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; exit $?; fi  # exit: never read on (safe to edit while running)
