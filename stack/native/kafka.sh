#!/usr/bin/env bash
# Apache Kafka $KAFKA_VERSION, single node in KRaft mode (broker + controller in one JVM), assembled
# from Maven Central jars. Sourced by stack/stack.sh after stack/lib.sh.
# Listener 127.0.0.1:$KAFKA_PORT, controller 127.0.0.1:$KAFKA_CONTROLLER_PORT, heap 512 MiB.

: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
KAFKA_LIBS="$STACK_CACHE/kafka-$KAFKA_SCALA-$KAFKA_VERSION/libs"
KAFKA_DIR="$STACK_HOME/kafka"
KAFKA_LOG="$STACK_HOME/logs/kafka.log"

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

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data" "$STACK_HOME/logs"
  cat > "$KAFKA_DIR/server.properties" <<EOF
# Written by stack/native/kafka.sh; regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=${KAFKA_PARTITIONS:-3}
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
log.retention.hours=168
# How often the broker applies retention (Kafka's default 5 min); a soak run shortens it so that
# retention acts within the run.
log.retention.check.interval.ms=${KAFKA_RETENTION_CHECK_MS:-300000}
EOF
  cat > "$KAFKA_DIR/log4j2.properties" <<'EOF'
# Written by stack/native/kafka.sh: everything to stdout, which the launcher sends to kafka.log.
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

kafka_java_opts() {
  echo "-Dlog4j2.configurationFile=file:$KAFKA_DIR/log4j2.properties -Dkafka.logs.dir=$KAFKA_DIR/logs -Djava.awt.headless=true"
}

kafka_start() {
  if pid_of kafka >/dev/null; then log "already running (127.0.0.1:$KAFKA_PORT)"; return 0; fi
  require_port_free kafka "$KAFKA_PORT" KAFKA_PORT
  require_port_free kafka "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
  [ -f "$KAFKA_LIBS/.binding" ] || die "Kafka jars missing in $KAFKA_LIBS (fetch did not finish)"
  local java; java=$(java17) || die "Kafka needs a JDK 17 (none found; set JAVA_HOME)"
  kafka_write_config
  # shellcheck disable=SC2046
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local id
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    [[ "$id" == -* ]] && id="A${id:1}"
    log "formatting storage in $KAFKA_DIR/data (cluster id $id)"
    "$java" $(kafka_java_opts) -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      -t "$id" -c "$KAFKA_DIR/server.properties" --ignore-formatted >>"$KAFKA_LOG" 2>&1 \
      || die "formatting Kafka storage failed; see $KAFKA_LOG
$(tail -n 15 "$KAFKA_LOG")"
  fi
  log "starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, log $KAFKA_LOG)"
  # shellcheck disable=SC2046
  start_bg kafka "$KAFKA_LOG" "$java" -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent $(kafka_java_opts) \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
  # A bound port is not proof: ready once the broker answers a real request.
  KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" await_ready kafka "$KAFKA_LOG" "$(cat "$STACK_HOME/run/kafka.pid")" 120 kafka
  log "ready"
}

kafka_stop() { stop_bg kafka 60 "stopping (controlled shutdown)"; }

kafka_status() { proc_row kafka "$KAFKA_PORT" "127.0.0.1:$KAFKA_PORT"; }
