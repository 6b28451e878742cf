#!/usr/bin/env bash
# Apache Cassandra $CASSANDRA_VERSION (5.0.x), $CASSANDRA_NODES nodes (1, or 3 in the cluster
# topology), assembled from Maven Central jars (org.apache.cassandra:cassandra-all + runtime
# dependencies) and run on JDK 17 without the tarball's bin/ and conf/. Sourced by stack/stack.sh
# after stack/lib.sh; defines functions and variables only.
#
# Node i listens on 127.0.0.i: CQL $CASSANDRA_PORT (9042), storage/gossip $CASSANDRA_STORAGE_PORT
# (7000); its JMX (for nodetool) on 127.0.0.1 only, port $CASSANDRA_JMX_PORT + 100*(i-1) (7199,
# 7299, 7399). Heap $CASSANDRA_HEAP (1G), direct memory $CASSANDRA_DIRECT_MEMORY (256M) per node.
# A node is named cassandra (one node) or cassandra-i: config in $STACK_HOME/<name>/conf (rewritten
# on every start from stack/native/cassandra/*.tmpl), data in $STACK_HOME/<name>/data, log in
# $STACK_HOME/logs/<name>.log. Nodes 1 and 2 are the seeds.

: "${CASSANDRA_PORT:=9042}"
: "${CASSANDRA_NODES:=1}"
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
CASSANDRA_TEMPLATES="$STACK_REPO/stack/native/cassandra"

# Per node I: name, directory, log, address and JMX port.
cassandra_name() { node_name cassandra "$CASSANDRA_NODES" "$1"; }
cassandra_dir()  { echo "$STACK_HOME/$(cassandra_name "$1")"; }
cassandra_log()  { echo "$STACK_HOME/logs/$(cassandra_name "$1").log"; }
cassandra_addr() { node_addr "$1"; }
cassandra_jmx_port() { echo $(( CASSANDRA_JMX_PORT + 100 * ($1 - 1) )); }
# cassandra_hosts: every node's CQL address, the list the programs are given.
cassandra_hosts() { addr_list "$CASSANDRA_PORT" "$CASSANDRA_NODES"; }
# cassandra_token I: node I's token. One node keeps token 0 (what its data was written with);
# nodes of a cluster divide Murmur3's ring [-2^63, 2^63) evenly.
cassandra_token() {
  if [ "$CASSANDRA_NODES" -eq 1 ]; then echo 0; return; fi
  local t=$(( -9223372036854775807 - 1 )) step=$(( 9223372036854775807 / CASSANDRA_NODES * 2 )) j
  for ((j = 1; j < $1; j++)); do t=$(( t + step )); done   # step by step: never outside 64 bits
  echo "$t"
}

# cassandra_lib: the jar directory of the current CASSANDRA_VERSION.
cassandra_lib() { echo "$STACK_CACHE/cassandra-$CASSANDRA_VERSION/lib"; }

# cassandra_pid I: the pid of node I: the recorded pid, alive and really a CassandraDaemon (a pid
# file left over from before a reboot may name an unrelated process, which must never be signalled).
cassandra_pid() {
  local p name; name=$(cassandra_name "$1")
  p=$(pid_of "$name") || return 1
  if ps -o args= -p "$p" 2>/dev/null | grep -q 'org.apache.cassandra.service.CassandraDaemon'; then
    echo "$p"
  else
    rm -f "$STACK_HOME/run/$name.pid"; return 1
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

# cassandra_render I TEMPLATE OUT: copy a template for node I, replacing @DATA@, @ADDR@, @SEEDS@,
# @TOKEN@, @PORT@, @STORAGE_PORT@, @COMMITLOG_TOTAL@ and the disk guardrail's shares @DISK_WARN@
# and @DISK_FAIL@.
cassandra_render() {
  local data seeds j
  data="$(cassandra_dir "$1")/data"
  for ((j = 1; j <= CASSANDRA_NODES && j <= 2; j++)); do seeds+="${seeds:+,}$(cassandra_addr "$j"):$CASSANDRA_STORAGE_PORT"; done
  sed -e "s|@DATA@|$data|g" \
      -e "s|@ADDR@|$(cassandra_addr "$1")|g" \
      -e "s|@SEEDS@|$seeds|g" \
      -e "s|@TOKEN@|$(cassandra_token "$1")|g" \
      -e "s|@PORT@|$CASSANDRA_PORT|g" \
      -e "s|@STORAGE_PORT@|$CASSANDRA_STORAGE_PORT|g" \
      -e "s|@DISK_WARN@|$CASSANDRA_DISK_WARN_PERCENT|g" \
      -e "s|@DISK_FAIL@|$CASSANDRA_DISK_FAIL_PERCENT|g" \
      -e "s|@COMMITLOG_TOTAL@|$CASSANDRA_COMMITLOG_TOTAL|g" \
      "$2" > "$3.tmp" && mv "$3.tmp" "$3"
}

cassandra_write_config() {  # cassandra_write_config I
  local f dir; dir=$(cassandra_dir "$1")
  mkdir -p "$dir/conf/triggers" "$dir/data" "$dir/tmp" "$STACK_HOME/logs"
  for f in cassandra.yaml logback.xml; do
    [ -f "$CASSANDRA_TEMPLATES/$f.tmpl" ] || die "template $CASSANDRA_TEMPLATES/$f.tmpl is missing"
    cassandra_render "$1" "$CASSANDRA_TEMPLATES/$f.tmpl" "$dir/conf/$f"
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

# cassandra_jvm_opts I: node I's JVM options, one per line. Memory: heap CASSANDRA_HEAP (Xms=Xmx),
# direct memory capped (chunk cache, networking buffers), metaspace and code cache bounded, small
# thread stacks; no AlwaysPreTouch, so RSS grows with use instead of starting at the full heap.
cassandra_jvm_opts() {
  local jamm dir jmx; jamm=$(compgen -G "$(cassandra_lib)/jamm-*.jar" | head -1)
  dir=$(cassandra_dir "$1"); jmx=$(cassandra_jmx_port "$1")
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
-XX:ErrorFile=$dir/hs_err_pid%p.log
-Djava.io.tmpdir=$dir/tmp
-Djava.awt.headless=true
-ea
-da:net.openhft...
-javaagent:$jamm
EOF
  cassandra_jpms_opts
  cat <<EOF
-Dio.netty.allocator.useCacheForAllThreads=true
-Dio.netty.allocator.maxOrder=11
-Dcassandra.jmx.local.port=$jmx
-Dcom.sun.management.jmxremote.rmi.port=$jmx
-Dcassandra-foreground=yes
-Dcassandra.config=file://$dir/conf/cassandra.yaml
-Dlogback.configurationFile=file://$dir/conf/logback.xml
-Dcassandra.logdir=$STACK_HOME/logs
-Dcassandra.storagedir=$dir/data
-Dcassandra.triggers_dir=$dir/conf/triggers
-Dcassandra.skip_wait_for_gossip_to_settle=0
EOF
}

# cassandra_nodetool ARGS...: nodetool against a running node over loopback JMX, e.g.
# `cassandra_nodetool status`, `cassandra_nodetool flush trading`. CASSANDRA_NODE=I picks node I
# (default 1); any node answers for the cluster (status, ring), flush and repair act on that node.
cassandra_nodetool() {
  local java n=${CASSANDRA_NODE:-1} dir; java=$(java17) || die "nodetool needs a JDK 17"
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "$CASSANDRA_NODES" ] || die "CASSANDRA_NODE=$n: the stack has nodes 1..$CASSANDRA_NODES"
  dir=$(cassandra_dir "$n")
  local opts=(); mapfile -t opts < <(cassandra_jpms_opts)
  "$java" -Xmx128m "${opts[@]}" -Dcassandra.storagedir="$dir/data" \
    -Dlogback.configurationFile="file://$dir/conf/logback.xml" -Duser.home="$dir" \
    -cp "$dir/conf:$(cassandra_lib)/*" org.apache.cassandra.tools.NodeTool \
    -h 127.0.0.1 -p "$(cassandra_jmx_port "$n")" "$@"
}

# cassandra_wait_ready I: until node I answers a real CQL request itself (`stackctl wait
# cassandra` against that node only, which logs in as the stack's superuser; a refused login also
# means the node answers, before `stackctl migrate` has made the roles).
cassandra_wait_ready() {
  local a; a="$(cassandra_addr "$1"):$CASSANDRA_PORT"
  CASSANDRA_HOSTS=$a await_ready "$(cassandra_name "$1")" "$(cassandra_log "$1")" \
    "$(cassandra_pid "$1" || echo 0)" "$CASSANDRA_START_TIMEOUT" cassandra
  log "ready: $(cassandra_name "$1") answers CQL on $a"
}

# cassandra_start: start every node that does not run, side by side (each has its token: no node
# waits for another's bootstrap), then wait until each answers.
cassandra_start() {
  local i name pid java started=() logf dir
  [ -f "$(cassandra_lib)/.complete" ] || die "Cassandra jars missing in $(cassandra_lib) (run the fetch first)"
  java=$(java17) || die "Cassandra 5.0 needs a JDK 17 (none found; set JAVA_HOME)"
  for ((i = 1; i <= CASSANDRA_NODES; i++)); do
    name=$(cassandra_name "$i")
    if pid=$(cassandra_pid "$i"); then log "$name already running (pid $pid, $(cassandra_addr "$i"):$CASSANDRA_PORT)"; continue; fi
    require_port_free "$name" "$CASSANDRA_PORT" CASSANDRA_PORT "$(cassandra_addr "$i")"
    require_port_free "$name" "$CASSANDRA_STORAGE_PORT" CASSANDRA_STORAGE_PORT "$(cassandra_addr "$i")"
    require_port_free "$name" "$(cassandra_jmx_port "$i")" CASSANDRA_JMX_PORT
    started+=("$i")
  done
  for i in ${started[@]+"${started[@]}"}; do
    name=$(cassandra_name "$i"); logf=$(cassandra_log "$i"); dir=$(cassandra_dir "$i")
    cassandra_write_config "$i"
    local opts=() extra=()
    mapfile -t opts < <(cassandra_jvm_opts "$i")
    read -r -a extra <<<"${CASSANDRA_JVM_EXTRA_OPTS:-}"   # e.g. GC logging while debugging
    log "starting $name ($CASSANDRA_VERSION) on $(cassandra_addr "$i"):$CASSANDRA_PORT (storage $CASSANDRA_STORAGE_PORT, JMX $(cassandra_jmx_port "$i"), heap $CASSANDRA_HEAP, log $logf)"
    printf '\n===== %s starting Cassandra %s =====\n' "$(date -u +%FT%TZ)" "$CASSANDRA_VERSION" >> "$logf"
    start_engine "$name" "$logf" "$java" "${opts[@]}" ${extra[@]+"${extra[@]}"} \
      -cp "$dir/conf:$(cassandra_lib)/*" org.apache.cassandra.service.CassandraDaemon
  done
  for ((i = 1; i <= CASSANDRA_NODES; i++)); do cassandra_wait_ready "$i"; done
}

# cassandra_stop: SIGTERM to every node at once (each drains its memtables and commit log in its
# shutdown hook), then SIGKILL after CASSANDRA_STOP_TIMEOUT seconds.
# (cassandra_pid first drops a pid file that names no Cassandra, which must not be signalled.)
cassandra_stop() {
  local i names=()
  for ((i = CASSANDRA_NODES; i >= 1; i--)); do
    cassandra_pid "$i" >/dev/null || true
    names+=("$(cassandra_name "$i")")
  done
  stop_nodes "$CASSANDRA_STOP_TIMEOUT" "(SIGTERM, drain; SIGKILL after ${CASSANDRA_STOP_TIMEOUT}s)" "${names[@]}"
}

cassandra_status() {
  local i rc=0 a
  for ((i = 1; i <= CASSANDRA_NODES; i++)); do
    cassandra_pid "$i" >/dev/null || true   # drops a stale pid file, so that the row says down
    a="$(cassandra_addr "$i"):$CASSANDRA_PORT"
    proc_row "$(cassandra_name "$i")" "$a" "$a" || rc=1
  done
  return $rc
}
