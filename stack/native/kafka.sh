#!/usr/bin/env bash
# Apache Kafka $KAFKA_VERSION in KRaft mode, assembled from Maven Central jars: $KAFKA_NODES nodes
# (1, or 3 in the cluster topology), each broker and controller in one JVM, node i listening on
# 127.0.0.i:$KAFKA_PORT (controller 127.0.0.i:$KAFKA_CONTROLLER_PORT), heap $KAFKA_HEAP. With three
# nodes the controller quorum has three voters and the topics' defaults are replication factor 3,
# min.insync.replicas 2: one node may die without stopping a producer that waits for acks=all.
# Sourced by stack/stack.sh after stack/lib.sh.

: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${KAFKA_NODES:=1}"
: "${KAFKA_HEAP:=512m}"
KAFKA_LIBS="$STACK_CACHE/kafka-$KAFKA_SCALA-$KAFKA_VERSION/libs"

# Per node I: its name (kafka, or kafka-I in a cluster), directory, log and address.
kafka_name() { node_name kafka "$KAFKA_NODES" "$1"; }
kafka_dir()  { echo "$STACK_HOME/$(kafka_name "$1")"; }
kafka_log()  { echo "$STACK_HOME/logs/$(kafka_name "$1").log"; }
kafka_addr() { node_addr "$1"; }
# kafka_bootstrap: every node's client address, the list the programs are given.
kafka_bootstrap() { addr_list "$KAFKA_PORT" "$KAFKA_NODES"; }

# kafka_fetch: kafka_$KAFKA_SCALA and its runtime dependencies, plus the SLF4J binding that matches
# the slf4j-api the POM brings (Kafka 4.x: slf4j 1.7 -> log4j-slf4j-impl; slf4j 2 -> log4j-slf4j2-impl).
# Kafka's POM already brings log4j-api/log4j-core; the binding takes their version.
kafka_fetch() {
  if [ -f "$KAFKA_LIBS/.binding" ]; then log "Kafka $KAFKA_VERSION jars cached in $KAFKA_LIBS"; return 0; fi
  log "fetching Kafka $KAFKA_VERSION (kafka_$KAFKA_SCALA) from Maven Central into $KAFKA_LIBS"
  ( mvn_fetch "$KAFKA_LIBS" "org.apache.kafka:kafka_$KAFKA_SCALA:$KAFKA_VERSION" ) \
    || die "Kafka $KAFKA_VERSION could not be fetched; if Maven says it is not found, set KAFKA_VERSION in stack/versions.env to a 4.x that the repository serves"
  local slf4j log4j binding
  slf4j=$(cd "$KAFKA_LIBS" && ls slf4j-api-*.jar 2>/dev/null | sed 's/^slf4j-api-\(.*\)\.jar$/\1/' | head -1)
  log4j=$(cd "$KAFKA_LIBS" && ls log4j-api-*.jar 2>/dev/null | sed 's/^log4j-api-\(.*\)\.jar$/\1/' | head -1)
  : "${log4j:=$LOG4J_VERSION}"
  case "$slf4j" in
    1.*) binding='log4j-slf4j-impl' ;;
    2.*) binding='log4j-slf4j2-impl' ;;
    *) die "no slf4j-api jar among the Kafka jars in $KAFKA_LIBS; cannot choose a logging binding" ;;
  esac
  log "slf4j-api $slf4j -> adding org.apache.logging.log4j:$binding:$log4j"
  local a
  for a in "$binding" log4j-api log4j-core; do
    [ -f "$KAFKA_LIBS/$a-$log4j.jar" ] && continue
    mvn -B -q dependency:copy -Dartifact="org.apache.logging.log4j:$a:$log4j" -DoutputDirectory="$KAFKA_LIBS" >/dev/null \
      || die "could not fetch org.apache.logging.log4j:$a:$log4j"
  done
  echo "$binding-$log4j" > "$KAFKA_LIBS/.binding"
}


# kafka_write_config I: node I's server.properties and log4j2.properties.
kafka_write_config() {
  local i=$1 dir addr voters="" j rf isr
  dir=$(kafka_dir "$i"); addr=$(kafka_addr "$i")
  for ((j = 1; j <= KAFKA_NODES; j++)); do voters+="${voters:+,}$j@$(kafka_addr "$j"):$KAFKA_CONTROLLER_PORT"; done
  rf=$(( KAFKA_NODES < 3 ? KAFKA_NODES : 3 ))
  isr=$(( rf > 1 ? rf - 1 : 1 ))
  mkdir -p "$dir/data" "$STACK_HOME/logs"
  cat > "$dir/server.properties" <<EOF
# Written by stack/native/kafka.sh; regenerated on every start.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://$addr:$KAFKA_PORT,CONTROLLER://$addr:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$addr:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=${KAFKA_PARTITIONS:-3}
# Replication: each copy on another node, and a write acknowledged (acks=all) once all in-sync
# copies hold it, of which there must be at least min.insync.replicas; a topic's own settings
# (stackctl topics) win over these defaults.
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
log.retention.hours=168
# How often the broker applies retention (Kafka's default 5 min); a soak run shortens it so that
# retention acts within the run.
log.retention.check.interval.ms=${KAFKA_RETENTION_CHECK_MS:-300000}
EOF
  cat > "$dir/log4j2.properties" <<'EOF'
# Written by stack/native/kafka.sh: everything to stdout, which the launcher sends to the node's log.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.controller.name = org.apache.kafka.controller
logger.controller.level = info
logger.state.name = state.change.logger
logger.state.level = warn
EOF
}

kafka_java_opts() {  # kafka_java_opts I
  local dir; dir=$(kafka_dir "$1")
  echo "-Dlog4j2.configurationFile=file:$dir/log4j2.properties -Dkafka.logs.dir=$dir/logs -Djava.awt.headless=true"
}

# kafka_cluster_id: the id the nodes' storage is formatted with, made once per STACK_HOME: a
# cluster's nodes must share it.
kafka_cluster_id() {
  local f="$STACK_HOME/run/kafka-cluster-id" id
  if [ ! -s "$f" ]; then
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    [[ "$id" == -* ]] && id="A${id:1}"
    mkdir -p "$STACK_HOME/run"; echo "$id" > "$f"
  fi
  cat "$f"
}

# kafka_start: start every node that does not run, side by side (a controller quorum needs a
# majority of its voters before any node is ready), then wait until each answers by itself.
kafka_start() {
  local i name dir logf id java started=()
  [ -f "$KAFKA_LIBS/.binding" ] || die "Kafka jars missing in $KAFKA_LIBS (fetch did not finish)"
  java=$(java17) || die "Kafka needs a JDK 17 (none found; set JAVA_HOME)"
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    name=$(kafka_name "$i")
    if pid_of "$name" >/dev/null; then log "$name already running ($(kafka_addr "$i"):$KAFKA_PORT)"; continue; fi
    require_port_free "$name" "$KAFKA_PORT" KAFKA_PORT "$(kafka_addr "$i")"
    require_port_free "$name" "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT "$(kafka_addr "$i")"
    started+=("$i")
  done
  for i in ${started[@]+"${started[@]}"}; do
    name=$(kafka_name "$i"); dir=$(kafka_dir "$i"); logf=$(kafka_log "$i")
    kafka_write_config "$i"
    if [ ! -f "$dir/data/meta.properties" ]; then
      id=$(kafka_cluster_id)
      log "formatting the storage of $name in $dir/data (cluster id $id)"
      # shellcheck disable=SC2046
      "$java" $(kafka_java_opts "$i") -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
        -t "$id" -c "$dir/server.properties" --ignore-formatted >>"$logf" 2>&1 \
        || die "formatting the storage of $name failed; see $logf
$(tail -n 15 "$logf")"
    fi
    log "starting $name on $(kafka_addr "$i"):$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, heap $KAFKA_HEAP, log $logf)"
    # shellcheck disable=SC2046
    start_bg "$name" "$logf" "$java" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent $(kafka_java_opts "$i") \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
  done
  # A bound port is not proof: each node is ready once it answers a real request itself.
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    name=$(kafka_name "$i")
    KAFKA_BOOTSTRAP_SERVERS="$(kafka_addr "$i"):$KAFKA_PORT" await_ready "$name" "$(kafka_log "$i")" "$(pid_of "$name" || echo 0)" 120 kafka
  done
  log "ready: $(kafka_bootstrap)"
}

# kafka_stop: every node at once (stop_nodes); each gets a controlled shutdown, SIGKILL after 60 s.
kafka_stop() {
  local i names=()
  for ((i = KAFKA_NODES; i >= 1; i--)); do names+=("$(kafka_name "$i")"); done
  stop_nodes 60 "(controlled shutdown)" "${names[@]}"
}

kafka_status() {
  local i rc=0 a
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    a="$(kafka_addr "$i"):$KAFKA_PORT"
    proc_row "$(kafka_name "$i")" "$a" "$a" || rc=1
  done
  return $rc
}
