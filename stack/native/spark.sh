#!/usr/bin/env bash
# Apache Spark $SPARK_VERSION standalone (one master, $SPARK_WORKERS workers: 1, or 2 in the cluster
# topology) and a Spark Connect server that runs its driver against that master. Sourced by stack/stack.sh after stack/lib.sh; defines spark_fetch,
# spark_start, spark_stop, spark_status (and spark_* helpers), nothing else.
#
# Where Spark comes from (no release tarball is reachable, only package registries):
#   - the pyspark==$SPARK_VERSION package from PyPI, installed into a venv under $STACK_CACHE, is
#     SPARK_HOME: it carries Spark's jars/ and bin/ (spark-class, spark-submit);
#   - Maven Central adds what the Spark distribution lacks: spark-connect (the Connect server),
#     spark-sql-kafka-0-10 with its token provider, kafka-clients and commons-pool2, the Spark
#     Cassandra Connector with its driver, MySQL Connector/J. Jars whose artifact Spark already ships
#     are left out, so the classpath holds one version of each library.
# The venv also carries the Connect client extras of pyspark (pandas, pyarrow, grpcio), handy for
# trying queries: $SPARK_VENV/bin/python (pass the secret: sc://127.0.0.1:15002/;x-idxstream-secret=…).
#
# Every call to the Connect server must carry the stack's secret (SPARK_CONNECT_SECRET of .env) in
# the gRPC header x-idxstream-secret: the interceptor of stack/spark-ext, compiled here with the
# JDK's javac against the Connect jar, refuses the others with UNAUTHENTICATED.
#
# Listeners: master 127.0.0.1:$SPARK_MASTER_PORT (UI $SPARK_MASTER_UI_PORT), worker i's UI
# 127.0.0.1:$SPARK_WORKER_UI_PORT + i-1, driver UI 127.0.0.1:$SPARK_DRIVER_UI_PORT, all on loopback through
# SPARK_LOCAL_IP and --host. Spark Connect 3.5 listens on ALL interfaces on $SPARK_CONNECT_PORT: its
# gRPC server binds the wildcard address and the option to choose one
# (spark.connect.grpc.binding.address) only exists from Spark 4.0. Keep that port firewalled.
#
# The functions set a local SERVICE, which log() of lib.sh prints.
# shellcheck disable=SC2034

: "${SPARK_MASTER_PORT:=7077}"
: "${SPARK_MASTER_UI_PORT:=8080}"
: "${SPARK_WORKER_UI_PORT:=8081}"
: "${SPARK_CONNECT_PORT:=15002}"
: "${SPARK_DRIVER_UI_PORT:=4040}"
: "${SPARK_WORKERS:=1}"
# Per worker. One worker offers both cores; two offer one each, and the Connect server then runs
# one executor of one core on each (spark_write_config), so a lost worker costs half the cores.
if [ "$SPARK_WORKERS" -eq 1 ]; then : "${SPARK_WORKER_CORES:=2}" "${SPARK_WORKER_MEMORY:=2g}"
else : "${SPARK_WORKER_CORES:=1}" "${SPARK_WORKER_MEMORY:=1g}"; fi
: "${SPARK_DAEMON_HEAP:=256m}"          # master and worker JVMs (SPARK_DAEMON_MEMORY)
: "${SPARK_CONNECT_DRIVER_MEMORY:=}"    # Connect driver heap; empty = spark.driver.memory of spark-defaults.conf (1g)

SPARK_CACHE_DIR="$STACK_CACHE/spark-$SPARK_VERSION"
SPARK_VENV="$SPARK_CACHE_DIR/venv"
SPARK_EXTRA_JARS="$SPARK_CACHE_DIR/maven"     # every artifact Maven resolved, before filtering
SPARK_DIR="$STACK_HOME/spark"
SPARK_CONF_OUT="$SPARK_DIR/conf"

# Per worker I: name (spark-worker, or spark-worker-I), UI port and work directory.
spark_worker_name() { node_name spark-worker "$SPARK_WORKERS" "$1"; }
spark_worker_ui_port() { echo $(( SPARK_WORKER_UI_PORT + $1 - 1 )); }
spark_worker_dir() { if [ "$SPARK_WORKERS" -eq 1 ]; then echo "$SPARK_DIR/work"; else echo "$SPARK_DIR/work-$1"; fi; }

# Python packages of the Connect client, pinned below the majors pyspark 3.5 was never built for
# (numpy 2 and pandas 3 break parts of pyspark 3.5; protobuf 6 rejects its generated code's age).
SPARK_CLIENT_PIP=("pandas>=1.5,<2.3" "numpy>=1.21,<2" "pyarrow>=11,<20" "grpcio>=1.56,<1.72"
                  "grpcio-status>=1.56,<1.72" "googleapis-common-protos>=1.56.4,<2" "protobuf>=4.21,<6")

# spark_python: a Python 3 that can make a venv.
spark_python() {
  local p
  for p in "${SPARK_PYTHON:-}" python3.11 python3; do
    if [ -z "$p" ] || ! command -v "$p" >/dev/null; then continue; fi
    "$p" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 8))' 2>/dev/null && { command -v "$p"; return 0; }
  done
  return 1
}

# spark_home prints SPARK_HOME (the pyspark package dir inside the venv).
spark_home() {
  local d
  for d in "$SPARK_VENV"/lib/python3*/site-packages/pyspark; do
    [ -x "$d/bin/spark-class" ] && { echo "$d"; return 0; }
  done
  return 1
}

# spark_gavs lists the Maven artifacts added to the pyspark jars.
spark_gavs() {
  # kafka-clients must be the version spark-sql-kafka-0-10 was built with (3.4.1 for Spark 3.5.x);
  # commons-pool2 likewise. Both come transitively from spark-sql-kafka's POM.
  echo "org.apache.spark:spark-connect_$SPARK_SCALA:$SPARK_VERSION"
  echo "org.apache.spark:spark-sql-kafka-0-10_$SPARK_SCALA:$SPARK_VERSION"
  echo "org.apache.spark:spark-token-provider-kafka-0-10_$SPARK_SCALA:$SPARK_VERSION"
  # The -assembly jar of the connector is not served by the registry; the plain connector plus its
  # runtime dependencies (java-driver-core-shaded etc.) is the same code, unshaded.
  echo "com.datastax.spark:spark-cassandra-connector_$SPARK_SCALA:$SPARK_CASSANDRA_CONNECTOR_VERSION"
  echo "com.mysql:mysql-connector-j:$MYSQL_CONNECTOR_J_VERSION"
}

# spark_jar_artifact NAME.jar: the artifact id of a jar file name (name minus "-<version>.jar").
spark_jar_artifact() { sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)*\.jar$//' <<<"$1"; }

# spark_fetch: the pyspark venv (SPARK_HOME) and the extra jars, once; re-running is cheap.
spark_fetch() {
  local SERVICE=spark
  local home
  if home=$(spark_home) && [ -f "$SPARK_CACHE_DIR/.complete" ]; then
    log "Spark $SPARK_VERSION cached in $SPARK_CACHE_DIR"; return 0
  fi
  local py; py=$(spark_python) || die "Spark needs Python 3.8+ with the venv module (Debian: apt-get install python3-venv)"
  mkdir -p "$SPARK_CACHE_DIR"
  if ! home=$(spark_home); then
    log "installing pyspark==$SPARK_VERSION (Spark's jars and scripts, ~320 MB) into $SPARK_VENV"
    rm -rf "$SPARK_VENV"
    "$py" -m venv "$SPARK_VENV" || die "could not create a venv at $SPARK_VENV"
    "$SPARK_VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir \
        "pyspark==$SPARK_VERSION" "${SPARK_CLIENT_PIP[@]}" \
      || die "pip could not install pyspark==$SPARK_VERSION and its Connect client extras; is PyPI reachable and is $SPARK_VERSION published?"
    home=$(spark_home) || die "pyspark installed but $SPARK_VENV has no pyspark/bin/spark-class"
  fi
  log "fetching the extra jars from Maven Central into $SPARK_EXTRA_JARS"
  local gav
  while read -r gav; do
    mvn -B -q dependency:get -Dartifact="$gav" -Dtransitive=false >/dev/null 2>&1 \
      || die "$gav is not served by the Maven repository; pick a served version in stack/versions.env"
  done < <(spark_gavs)
  # shellcheck disable=SC2046
  mvn_fetch "$SPARK_EXTRA_JARS" $(spark_gavs)
  # Add to SPARK_HOME/jars what Spark does not already ship, compared by artifact id. Spark's own
  # jars are those pip installed (the package's RECORD), not what an earlier run may have added.
  local have j a added=() record
  for record in "$(dirname "$home")"/pyspark-*.dist-info/RECORD; do break; done
  [ -f "$record" ] || die "no pip RECORD for pyspark in $(dirname "$home"); delete $SPARK_VENV and fetch again"
  have=$(sed -n 's#^pyspark/jars/\([^,/]*\.jar\),.*#\1#p' "$record" | while read -r j; do spark_jar_artifact "$j"; done | sort -u)
  [ -n "$have" ] || die "the pyspark package in $SPARK_VENV lists no jars; delete $SPARK_VENV and fetch again"
  for j in "$SPARK_EXTRA_JARS"/*.jar; do
    j=$(basename "$j"); a=$(spark_jar_artifact "$j")
    case "$a" in
      protobuf-java) continue ;;   # Connector/J's X DevAPI only; JDBC does not use it
      unused) continue ;;          # org.spark-project.spark:unused, an empty placeholder jar
    esac
    grep -qxF "$a" <<<"$have" && continue
    ln -f "$SPARK_EXTRA_JARS/$j" "$home/jars/$j" 2>/dev/null || cp -f "$SPARK_EXTRA_JARS/$j" "$home/jars/$j"
    added+=("$j")
  done
  printf '%s\n' "${added[@]}" > "$SPARK_CACHE_DIR/added-jars.txt"
  log "added ${#added[@]} jars to $home/jars (list in $SPARK_CACHE_DIR/added-jars.txt)"
  touch "$SPARK_CACHE_DIR/.complete"
}

# spark_env: the environment every Spark process runs with (exported into the caller's shell
# inside a subshell only: spark_start calls it in ( ) for each process).
spark_env() {
  local java; java=$(java17) || die "Spark 3.5 needs a JDK 17 (none found; set JAVA_HOME)"
  export JAVA_HOME; JAVA_HOME=$(dirname "$(dirname "$java")")
  export SPARK_HOME; SPARK_HOME=$(spark_home) || die "Spark is not fetched ($SPARK_VENV missing): run spark_fetch"
  export SPARK_CONF_DIR="$SPARK_CONF_OUT"
  export SPARK_LOCAL_IP=127.0.0.1          # every Spark listener but Connect's gRPC binds here
  export SPARK_LOCAL_HOSTNAME=127.0.0.1    # and advertises this name (no reverse DNS of the host)
  export SPARK_DAEMON_MEMORY="$SPARK_DAEMON_HEAP"
  export SPARK_LOCAL_DIRS="$SPARK_DIR/tmp"  # scratch (shuffle, spills) of driver and executors, not /tmp
  export SPARK_LOG_DIR="$STACK_HOME/logs" SPARK_PID_DIR="$STACK_HOME/run"
  export PYSPARK_PYTHON="$SPARK_VENV/bin/python"
  unset SPARK_REMOTE SPARK_CONNECT_MODE_ENABLED   # these would turn spark-submit into a Connect client
}

# spark_write_config: $SPARK_CONF_OUT/spark-defaults.conf = the repo's spark-defaults.conf minus the
# keys this launcher owns, plus those keys with the native stack's values. Regenerated on each start.
spark_write_config() {
  local src="$STACK_REPO/spark-defaults.conf"
  [ -f "$src" ] || die "missing $src"
  mkdir -p "$SPARK_CONF_OUT" "$SPARK_DIR/checkpoints" "$SPARK_DIR/work" "$SPARK_DIR/tmp" "$STACK_HOME/logs"
  local owned=(spark.master spark.driver.host spark.driver.bindAddress spark.ui.port
    spark.connect.grpc.binding.port spark.sql.streaming.checkpointLocation spark.cassandra.connection.port
    spark.cassandra.connection.host)
  [ "$SPARK_WORKERS" -eq 1 ] || owned+=(spark.executor.cores spark.cores.max)
  local cass_hosts i
  for ((i = 1; i <= ${CASSANDRA_NODES:-1}; i++)); do cass_hosts+="${cass_hosts:+,}$(node_addr "$i")"; done
  local re; re=$(IFS='|'; echo "${owned[*]//./\\.}")
  {
    echo "# Generated by stack/native/spark.sh from $src on every start: edit that file, not this one."
    echo
    grep -Ev "^[[:space:]]*($re)([[:space:]=:]|$)" "$src"
    cat <<EOF

# ---- native launcher (stack/native/spark.sh) ----
spark.master                            spark://127.0.0.1:$SPARK_MASTER_PORT
spark.driver.host                       127.0.0.1
spark.driver.bindAddress                127.0.0.1
spark.ui.port                           $SPARK_DRIVER_UI_PORT
spark.connect.grpc.binding.port         $SPARK_CONNECT_PORT
spark.sql.streaming.checkpointLocation  $SPARK_DIR/checkpoints
spark.cassandra.connection.port         ${CASSANDRA_PORT:-9042}
spark.cassandra.connection.host         $cass_hosts
EOF
    if [ "$SPARK_WORKERS" -gt 1 ]; then
      echo "# one executor of one core per worker: executors on every worker, not two on one"
      echo "spark.executor.cores                    $SPARK_WORKER_CORES"
      echo "spark.cores.max                         $(( SPARK_WORKERS * SPARK_WORKER_CORES ))"
    fi
  } > "$SPARK_CONF_OUT/spark-defaults.conf"
  # Spark's built-in log4j2 defaults print INFO to the console, which start_bg sends to the log file;
  # this copy only quietens the per-request chatter of the Connect server and Kafka consumer config dumps.
  cat > "$SPARK_CONF_OUT/log4j2.properties" <<'EOF'
# Written by stack/native/spark.sh.
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.kafkaconfig.name = org.apache.kafka.clients.consumer.ConsumerConfig
logger.kafkaconfig.level = warn
logger.kafkaadminconfig.name = org.apache.kafka.clients.admin.AdminClientConfig
logger.kafkaadminconfig.level = warn
logger.kafkaappinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.kafkaappinfo.level = warn
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
logger.connectexec.name = org.apache.spark.sql.connect.service.SparkConnectExecutionManager
logger.connectexec.level = warn
EOF
}

# spark_conf_value KEY: the value of KEY in the generated spark-defaults.conf (last one wins).
spark_conf_value() {
  awk -v k="$1" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); v = $0 } END { print v }' "$SPARK_CONF_OUT/spark-defaults.conf"
}

# spark_build_ext: compile the Connect server's extensions (stack/spark-ext: the secret
# interceptor and the raw path's fan-out sink) into $SPARK_EXT_JAR when the jar is missing or older
# than its source.
SPARK_EXT_JAR="$SPARK_DIR/ext/idxstream-spark-ext.jar"
spark_build_ext() {
  local src="$STACK_REPO/stack/spark-ext/src" home classes
  if [ -f "$SPARK_EXT_JAR" ] && [ -z "$(find "$src" -name '*.java' -newer "$SPARK_EXT_JAR" -print -quit)" ]; then
    return 0
  fi
  rm -rf "$SPARK_DIR/auth" # the jar's place before it held more than the interceptor
  home=$(spark_home) || die "no SPARK_HOME"
  [ -x "$JAVA_HOME/bin/javac" ] || die "the Connect server's extensions need javac: JAVA_HOME=$JAVA_HOME is not a JDK (Debian: apt-get install openjdk-17-jdk-headless)"
  classes=$(mktemp -d)
  log "compiling the Spark Connect server's extensions (stack/spark-ext) into $SPARK_EXT_JAR"
  mkdir -p "$(dirname "$SPARK_EXT_JAR")"
  "$JAVA_HOME/bin/javac" --release 17 -nowarn -d "$classes" -cp "$home/jars/*" $(find "$src" -name '*.java') >&2 \
    || die "javac failed on stack/spark-ext (see above)"
  "$JAVA_HOME/bin/jar" --create --file "$SPARK_EXT_JAR" -C "$classes" . || die "jar failed"
  rm -rf "$classes"
}

# spark_await NAME SECONDS TARGET: until `stackctl wait TARGET` (spark-master: the master's UI says
# ALIVE; spark-worker: the master lists an ALIVE worker; spark: SELECT 1 through Spark Connect with
# the secret) while process NAME runs.
spark_await() {
  SPARK_MASTER_UI_URL="http://127.0.0.1:$SPARK_MASTER_UI_PORT" SPARK_REMOTE="sc://127.0.0.1:$SPARK_CONNECT_PORT" \
    SPARK_CONNECT_SECRET="$(dotenv_value SPARK_CONNECT_SECRET)" \
    await_ready "$1" "$STACK_HOME/logs/$1.log" "$(pid_of "$1" || echo 0)" "$2" "$3"
}

# spark_await_workers: until the master lists each worker ALIVE, by its UI address (a restarted
# worker among live ones too).
spark_await_workers() {
  local i
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    SPARK_WORKER_UI_URL="127.0.0.1:$(spark_worker_ui_port "$i")" spark_await "$(spark_worker_name "$i")" 180 spark-worker
  done
}

# spark_workers_running: true when every worker runs.
spark_workers_running() {
  local i
  for ((i = 1; i <= SPARK_WORKERS; i++)); do pid_of "$(spark_worker_name "$i")" >/dev/null || return 1; done
}

spark_start() {
  local SERVICE=spark i name
  if pid_of spark-master >/dev/null && spark_workers_running && pid_of spark-connect >/dev/null; then
    # Already running (perhaps still starting, by another caller): just wait until it is ready.
    spark_await_workers
    spark_await spark-connect 240 spark
    log "already running (spark://127.0.0.1:$SPARK_MASTER_PORT, sc://127.0.0.1:$SPARK_CONNECT_PORT)"; return 0
  fi
  if ! spark_home >/dev/null || [ ! -f "$SPARK_CACHE_DIR/.complete" ]; then
    die "Spark is not fetched into $SPARK_CACHE_DIR (run the fetch step first)"
  fi
  # Check every port this start needs before starting anything.
  pid_of spark-master >/dev/null || {
    require_port_free spark-master "$SPARK_MASTER_PORT" SPARK_MASTER_PORT
    require_port_free spark-master "$SPARK_MASTER_UI_PORT" SPARK_MASTER_UI_PORT
  }
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    name=$(spark_worker_name "$i")
    pid_of "$name" >/dev/null || require_port_free "$name" "$(spark_worker_ui_port "$i")" SPARK_WORKER_UI_PORT
  done
  pid_of spark-connect >/dev/null || {
    require_port_free spark-connect "$SPARK_CONNECT_PORT" SPARK_CONNECT_PORT
    require_port_free spark-connect "$SPARK_DRIVER_UI_PORT" SPARK_DRIVER_UI_PORT
  }
  spark_write_config
  local logs="$STACK_HOME/logs"

  # Master first (the others need its port); then worker and Connect server start side by side
  # (the Connect driver waits for the worker's executor by itself); then both are checked.
  if ! pid_of spark-master >/dev/null; then
    log "starting master on 127.0.0.1:$SPARK_MASTER_PORT (UI $SPARK_MASTER_UI_PORT, log $logs/spark-master.log)"
    ( spark_env; start_bg spark-master "$logs/spark-master.log" "$SPARK_HOME/bin/spark-class" \
        org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$SPARK_MASTER_PORT" \
        --webui-port "$SPARK_MASTER_UI_PORT" ) || exit 1
    spark_await spark-master 120 spark-master
  fi

  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    name=$(spark_worker_name "$i")
    pid_of "$name" >/dev/null && continue
    log "starting $name ($SPARK_WORKER_CORES cores, $SPARK_WORKER_MEMORY; UI $(spark_worker_ui_port "$i"), log $logs/$name.log)"
    mkdir -p "$(spark_worker_dir "$i")"
    ( spark_env
      # Remove the work dirs (executor logs, fetched jars) of finished applications after a day.
      export SPARK_WORKER_OPTS="-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=86400"
      start_engine "$name" "$logs/$name.log" "$SPARK_HOME/bin/spark-class" \
        org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$SPARK_WORKER_CORES" \
        --memory "$SPARK_WORKER_MEMORY" --webui-port "$(spark_worker_ui_port "$i")" \
        --work-dir "$(spark_worker_dir "$i")" "spark://127.0.0.1:$SPARK_MASTER_PORT" ) || exit 1
  done

  if ! pid_of spark-connect >/dev/null; then
    log "starting Spark Connect on port $SPARK_CONNECT_PORT (ALL interfaces: Spark 3.5 cannot bind it to loopback; driver UI $SPARK_DRIVER_UI_PORT, log $logs/spark-connect.log)"
    # spark-submit sizes the Connect server's JVM like a daemon's (SPARK_DAEMON_MEMORY, as for the
    # Thrift server), not from spark.driver.memory: hand it the driver memory that way.
    local mem=${SPARK_CONNECT_DRIVER_MEMORY:-$(spark_conf_value spark.driver.memory)}
    local secret; secret=$(dotenv_value SPARK_CONNECT_SECRET)
    [ -n "$secret" ] || die "SPARK_CONNECT_SECRET is not in $STACK_REPO/.env: the Connect server would refuse every call (make up writes it)"
    spark_build_ext
    # The secret reaches the server's interceptor through its environment, never its command line.
    ( spark_env; export SPARK_DAEMON_MEMORY=${mem:-1g} SPARK_CONNECT_SECRET="$secret"
      start_bg spark-connect "$logs/spark-connect.log" "$SPARK_HOME/bin/spark-submit" \
        --class org.apache.spark.sql.connect.service.SparkConnectServer --name "Spark Connect server" \
        --master "spark://127.0.0.1:$SPARK_MASTER_PORT" --properties-file "$SPARK_CONF_OUT/spark-defaults.conf" \
        --driver-class-path "$SPARK_EXT_JAR" \
        ${SPARK_CONNECT_DRIVER_MEMORY:+--driver-memory "$SPARK_CONNECT_DRIVER_MEMORY"} ) || exit 1
  fi

  # A worker that was already running re-registers by itself with a restarted master.
  spark_await_workers
  log "workers ALIVE at the master"
  # A real request, with the secret: `SELECT 1` through the project's own client (stackctl).
  spark_await spark-connect 240 spark
  log "Spark Connect answered SELECT 1 (with the secret)"
  log "ready: spark://127.0.0.1:$SPARK_MASTER_PORT (UI http://127.0.0.1:$SPARK_MASTER_UI_PORT), Connect sc://127.0.0.1:$SPARK_CONNECT_PORT"
}

spark_stop() {
  local SERVICE=spark n i
  stop_bg spark-connect 30 "stopping spark-connect"
  for ((i = SPARK_WORKERS; i >= 1; i--)); do n=$(spark_worker_name "$i"); stop_bg "$n" 30 "stopping $n"; done
  stop_bg spark-master 30 "stopping spark-master"
}

# spark_status: one line per process; non-zero if any is down.
spark_status() {
  local rc=0
  proc_row spark-master "$SPARK_MASTER_PORT" "127.0.0.1:$SPARK_MASTER_PORT" "(UI http://127.0.0.1:$SPARK_MASTER_UI_PORT)" || rc=1
  local i
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    proc_row "$(spark_worker_name "$i")" "$(spark_worker_ui_port "$i")" "127.0.0.1:$(spark_worker_ui_port "$i")" || rc=1
  done
  proc_row spark-connect "$SPARK_CONNECT_PORT" "sc://127.0.0.1:$SPARK_CONNECT_PORT" \
    "(listens on all interfaces; driver UI http://127.0.0.1:$SPARK_DRIVER_UI_PORT)" || rc=1
  return $rc
}
