#!/usr/bin/env bash
# Apache Cassandra $CASSANDRA_VERSION (5.0.x), one node, assembled from Maven Central jars
# (org.apache.cassandra:cassandra-all + runtime dependencies) and run on JDK 17 without the tarball's
# bin/ and conf/. Sourced by stack/stack.sh after stack/lib.sh; defines functions and variables only.
#
# Listeners (all on 127.0.0.1): CQL $CASSANDRA_PORT (9042), storage/gossip $CASSANDRA_STORAGE_PORT
# (7000), JMX $CASSANDRA_JMX_PORT (7199, loopback only, for nodetool). Heap $CASSANDRA_HEAP (1G),
# direct memory $CASSANDRA_DIRECT_MEMORY (256M). Config in $STACK_HOME/cassandra/conf (rewritten on
# every start from stack/native/cassandra/*.tmpl), data in $STACK_HOME/cassandra/data, log in
# $STACK_HOME/logs/cassandra.log.

: "${CASSANDRA_PORT:=9042}"
: "${CASSANDRA_STORAGE_PORT:=7000}"
: "${CASSANDRA_JMX_PORT:=7199}"
: "${CASSANDRA_HEAP:=1G}"
: "${CASSANDRA_DIRECT_MEMORY:=256M}"
# The disk guardrail (cassandra.yaml.tmpl says why): warn, then refuse writes, when the node's data
# takes this share of what it may use (its data plus the volume's free space).
: "${CASSANDRA_DISK_WARN_PERCENT:=80}"
: "${CASSANDRA_DISK_FAIL_PERCENT:=90}"
: "${CASSANDRA_COMMITLOG_TOTAL:=1024MiB}"   # commitlog_total_space
: "${CASSANDRA_START_TIMEOUT:=180}"   # seconds until CQL must answer
: "${CASSANDRA_STOP_TIMEOUT:=60}"     # seconds between SIGTERM and SIGKILL
# CASSANDRA_JVM_EXTRA_OPTS: optional extra JVM options (space-separated), appended last.
CASSANDRA_DIR="$STACK_HOME/cassandra"
CASSANDRA_LOG="$STACK_HOME/logs/cassandra.log"
CASSANDRA_TEMPLATES="$STACK_REPO/stack/native/cassandra"

# cassandra_lib: the jar directory of the current CASSANDRA_VERSION.
cassandra_lib() { echo "$STACK_CACHE/cassandra-$CASSANDRA_VERSION/lib"; }

# cassandra_pid: the pid of our running node: the recorded pid, alive and really a CassandraDaemon (a pid
# file left over from before a reboot may name an unrelated process, which must never be signalled).
cassandra_pid() {
  local p
  p=$(pid_of cassandra) || return 1
  if ps -o args= -p "$p" 2>/dev/null | grep -q 'org.apache.cassandra.service.CassandraDaemon'; then
    echo "$p"
  else
    rm -f "$STACK_HOME/run/cassandra.pid"; return 1
  fi
}

# cassandra_served VERSION: true if the Maven repository serves cassandra-all VERSION (POM and jar).
cassandra_served() {
  mvn -B -q dependency:get -Dartifact="org.apache.cassandra:cassandra-all:$1" -Dtransitive=false >/dev/null 2>&1
}

# cassandra_fetch: cassandra-all and its runtime dependencies into $STACK_CACHE/cassandra-V/lib.
# When the pinned version is not served it stops, naming a neighbouring 5.0.x patch that is
# (newer first, then older) and where to pin it; it never edits stack/versions.env, which is
# tracked: a version changes by a commit that says so, not as a side effect of `make up`.
cassandra_fetch() {
  if [ -f "$(cassandra_lib)/.complete" ]; then log "Cassandra $CASSANDRA_VERSION jars cached in $(cassandra_lib)"; return 0; fi
  log "fetching Cassandra $CASSANDRA_VERSION (cassandra-all) from Maven Central into $(cassandra_lib)"
  if ! cassandra_served "$CASSANDRA_VERSION"; then
    local pinned=$CASSANDRA_VERSION patch v found=""
    [[ "$pinned" =~ ^5\.0\.([0-9]+)$ ]] || die "org.apache.cassandra:cassandra-all:$pinned is not served, and CASSANDRA_VERSION in stack/versions.env is not a 5.0.x version to search around; set CASSANDRA_VERSION in stack/versions.env to a served 5.0.x"
    patch=${BASH_REMATCH[1]}
    for v in $((patch + 1)) $((patch + 2)) $((patch - 1)) $((patch - 2)) $((patch - 3)); do
      [ "$v" -ge 0 ] || continue
      log "cassandra-all:$pinned is not served; looking for 5.0.$v"
      if cassandra_served "5.0.$v"; then found=5.0.$v; break; fi
    done
    [ -n "$found" ] || die "org.apache.cassandra:cassandra-all:$pinned is not served and no neighbouring 5.0.x patch is (or the Maven repository is unreachable); set CASSANDRA_VERSION in stack/versions.env to a served 5.0.x"
    die "org.apache.cassandra:cassandra-all:$pinned is not served, but $found is: set CASSANDRA_VERSION=$found in stack/versions.env (the one file that pins the versions; docker-compose.yml reads it too), commit it, and run again"
  fi
  mvn_fetch "$(cassandra_lib)" "org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION"
  local need
  for need in "cassandra-all-$CASSANDRA_VERSION.jar" 'jamm-*.jar' 'logback-classic-*.jar' 'snakeyaml-*.jar' 'netty-all-*.jar' 'jna-*.jar'; do
    compgen -G "$(cassandra_lib)/$need" >/dev/null || die "fetched Cassandra jars in $(cassandra_lib) lack $need; delete that directory and fetch again"
  done
}

# cassandra_render TEMPLATE OUT: copy a template, replacing @DATA@, @PORT@, @STORAGE_PORT@ and the
# disk guardrail's shares @DISK_WARN@ and @DISK_FAIL@.
cassandra_render() {
  local data="$CASSANDRA_DIR/data"
  sed -e "s|@DATA@|$data|g" \
      -e "s|@PORT@|$CASSANDRA_PORT|g" \
      -e "s|@STORAGE_PORT@|$CASSANDRA_STORAGE_PORT|g" \
      -e "s|@DISK_WARN@|$CASSANDRA_DISK_WARN_PERCENT|g" \
      -e "s|@DISK_FAIL@|$CASSANDRA_DISK_FAIL_PERCENT|g" \
      -e "s|@COMMITLOG_TOTAL@|$CASSANDRA_COMMITLOG_TOTAL|g" \
      "$1" > "$2.tmp" && mv "$2.tmp" "$2"
}

cassandra_write_config() {
  mkdir -p "$CASSANDRA_DIR/conf/triggers" "$CASSANDRA_DIR/data" "$CASSANDRA_DIR/tmp" "$STACK_HOME/logs"
  local f
  for f in cassandra.yaml logback.xml; do
    [ -f "$CASSANDRA_TEMPLATES/$f.tmpl" ] || die "template $CASSANDRA_TEMPLATES/$f.tmpl is missing"
    cassandra_render "$CASSANDRA_TEMPLATES/$f.tmpl" "$CASSANDRA_DIR/conf/$f"
  done
}

# cassandra_jpms_opts: what Cassandra 5.0 needs on JDK 17 (conf/jvm17-server.options of the tarball plus
# java.nio and java.management/com.sun.jmx.remote.security). Without the --add-* flags start-up dies
# in FileUtils.<clinit> with "IllegalAccessException: access to public member failed:
# sun.nio.ch.DirectBuffer.cleaner". nodetool needs the same flags.
cassandra_jpms_opts() {
  cat <<'EOF'
-Djdk.attach.allowAttachSelf=true
--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
--add-exports=java.base/java.lang.ref=ALL-UNNAMED
--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
--add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED
--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
--add-exports=java.sql/java.sql=ALL-UNNAMED
--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED
--add-opens=java.base/java.lang.module=ALL-UNNAMED
--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
--add-opens=java.base/jdk.internal.math=ALL-UNNAMED
--add-opens=java.base/jdk.internal.module=ALL-UNNAMED
--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED
--add-opens=java.base/java.io=ALL-UNNAMED
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED
--add-opens=java.base/java.lang=ALL-UNNAMED
--add-opens=java.base/java.util=ALL-UNNAMED
--add-opens=java.base/java.nio=ALL-UNNAMED
--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
-Dio.netty.tryReflectionSetAccessible=true
-Djava.net.preferIPv4Stack=true
EOF
}

# cassandra_jvm_opts: the server's JVM options, one per line. Memory: heap CASSANDRA_HEAP (Xms=Xmx),
# direct memory capped (chunk cache, networking buffers), metaspace and code cache bounded, small
# thread stacks; no AlwaysPreTouch, so RSS grows with use instead of starting at the full heap.
cassandra_jvm_opts() {
  local jamm; jamm=$(compgen -G "$(cassandra_lib)/jamm-*.jar" | head -1)
  cat <<EOF
-Xms$CASSANDRA_HEAP
-Xmx$CASSANDRA_HEAP
-XX:MaxDirectMemorySize=$CASSANDRA_DIRECT_MEMORY
-XX:MaxMetaspaceSize=256m
-XX:ReservedCodeCacheSize=128m
-Xss256k
-XX:+UseG1GC
-XX:+ParallelRefProcEnabled
-XX:MaxTenuringThreshold=1
-XX:G1HeapRegionSize=4m
-XX:G1RSetUpdatingPauseTimePercent=5
-XX:MaxGCPauseMillis=300
-XX:InitiatingHeapOccupancyPercent=70
-XX:+UseThreadPriorities
-XX:+UseTLAB
-XX:+ResizeTLAB
-XX:+PerfDisableSharedMem
-XX:+ExitOnOutOfMemoryError
-XX:ErrorFile=$CASSANDRA_DIR/hs_err_pid%p.log
-Djava.io.tmpdir=$CASSANDRA_DIR/tmp
-Djava.awt.headless=true
-ea
-da:net.openhft...
-javaagent:$jamm
EOF
  cassandra_jpms_opts
  cat <<EOF
-Dio.netty.allocator.useCacheForAllThreads=true
-Dio.netty.allocator.maxOrder=11
-Dcassandra.jmx.local.port=$CASSANDRA_JMX_PORT
-Dcom.sun.management.jmxremote.rmi.port=$CASSANDRA_JMX_PORT
-Dcassandra-foreground=yes
-Dcassandra.config=file://$CASSANDRA_DIR/conf/cassandra.yaml
-Dlogback.configurationFile=file://$CASSANDRA_DIR/conf/logback.xml
-Dcassandra.logdir=$STACK_HOME/logs
-Dcassandra.storagedir=$CASSANDRA_DIR/data
-Dcassandra.triggers_dir=$CASSANDRA_DIR/conf/triggers
-Dcassandra.skip_wait_for_gossip_to_settle=0
EOF
}

# cassandra_nodetool ARGS...: nodetool against the running node over loopback JMX, e.g.
# `cassandra_nodetool status`, `cassandra_nodetool flush trading`.
cassandra_nodetool() {
  local java; java=$(java17) || die "nodetool needs a JDK 17"
  local opts=(); mapfile -t opts < <(cassandra_jpms_opts)
  "$java" -Xmx128m "${opts[@]}" -Dcassandra.storagedir="$CASSANDRA_DIR/data" \
    -Dlogback.configurationFile="file://$CASSANDRA_DIR/conf/logback.xml" -Duser.home="$CASSANDRA_DIR" \
    -cp "$CASSANDRA_DIR/conf:$(cassandra_lib)/*" org.apache.cassandra.tools.NodeTool \
    -h 127.0.0.1 -p "$CASSANDRA_JMX_PORT" "$@"
}

# cassandra_wait_ready PID: until a real CQL request answers (`stackctl wait cassandra`, which
# logs in as the stack's superuser; a refused login also means the node answers, before
# `stackctl migrate` has made the roles).
cassandra_wait_ready() {
  CASSANDRA_HOSTS="127.0.0.1:$CASSANDRA_PORT" await_ready cassandra "$CASSANDRA_LOG" "$1" "$CASSANDRA_START_TIMEOUT" cassandra
  log "ready: CQL answers on 127.0.0.1:$CASSANDRA_PORT"
}

cassandra_start() {
  local pid
  if pid=$(cassandra_pid); then
    log "already running (pid $pid, 127.0.0.1:$CASSANDRA_PORT)"
    cassandra_wait_ready "$pid"
    return 0
  fi
  [ -f "$(cassandra_lib)/.complete" ] || die "Cassandra jars missing in $(cassandra_lib) (run the fetch first)"
  require_port_free cassandra "$CASSANDRA_PORT" CASSANDRA_PORT
  require_port_free cassandra "$CASSANDRA_STORAGE_PORT" CASSANDRA_STORAGE_PORT
  require_port_free cassandra "$CASSANDRA_JMX_PORT" CASSANDRA_JMX_PORT
  local java; java=$(java17) || die "Cassandra 5.0 needs a JDK 17 (none found; set JAVA_HOME)"
  cassandra_write_config
  local opts=() extra=()
  mapfile -t opts < <(cassandra_jvm_opts)
  read -r -a extra <<<"${CASSANDRA_JVM_EXTRA_OPTS:-}"   # e.g. GC logging while debugging
  log "starting $CASSANDRA_VERSION on 127.0.0.1:$CASSANDRA_PORT (storage $CASSANDRA_STORAGE_PORT, JMX $CASSANDRA_JMX_PORT, heap $CASSANDRA_HEAP, log $CASSANDRA_LOG)"
  printf '\n===== %s starting Cassandra %s =====\n' "$(date -u +%FT%TZ)" "$CASSANDRA_VERSION" >> "$CASSANDRA_LOG"
  start_engine cassandra "$CASSANDRA_LOG" "$java" "${opts[@]}" ${extra[@]+"${extra[@]}"} \
    -cp "$CASSANDRA_DIR/conf:$(cassandra_lib)/*" org.apache.cassandra.service.CassandraDaemon
  pid=$(cat "$STACK_HOME/run/cassandra.pid")
  cassandra_wait_ready "$pid"
}

# cassandra_stop: SIGTERM (Cassandra drains memtables and the commit log in its shutdown hook),
# then SIGKILL after CASSANDRA_STOP_TIMEOUT seconds.
cassandra_stop() {
  cassandra_pid >/dev/null || { rm -f "$STACK_HOME/run/cassandra.pid"; return 0; }
  log "stopping (SIGTERM, drain; SIGKILL after ${CASSANDRA_STOP_TIMEOUT}s)"
  stop_bg cassandra "$CASSANDRA_STOP_TIMEOUT"
}

cassandra_status() {
  if cassandra_pid >/dev/null && port_in_use "$CASSANDRA_PORT"; then
    echo "cassandra up 127.0.0.1:$CASSANDRA_PORT"
  else
    echo "cassandra down 127.0.0.1:$CASSANDRA_PORT"; return 1
  fi
}
