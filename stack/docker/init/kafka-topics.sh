#!/usr/bin/env bash
# Creates the pipeline's topics on the compose stack's broker; runs in a one-shot container of the
# apache/kafka image (service kafka-init in docker-compose.yml). Safe to run again: existing topics
# are left as they are.
#   KAFKA_BOOTSTRAP  broker as seen from the compose network (kafka:19092)
#   KAFKA_TOPICS     space-separated topic names (trading_data test_topic)
#   KAFKA_PARTITIONS partitions of a new topic (3)
#   KAFKA_BIN        Kafka's scripts (/opt/kafka/bin in the image)
set -euo pipefail
: "${KAFKA_BOOTSTRAP:?}" "${KAFKA_TOPICS:?}" "${KAFKA_PARTITIONS:?}"
bin=${KAFKA_BIN:-/opt/kafka/bin}
for topic in $KAFKA_TOPICS; do
  "$bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$KAFKA_PARTITIONS" --replication-factor 1
done
"$bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --describe --topic "${KAFKA_TOPICS// /,}" 2>/dev/null \
  | grep -E '^Topic:' || true
echo "kafka-init: topics ready: $KAFKA_TOPICS"
