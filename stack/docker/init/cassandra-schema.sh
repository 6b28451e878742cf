#!/usr/bin/env bash
# Applies schema/cassandra/*.cql in file order to the compose stack's Cassandra; runs in a one-shot
# container of the cassandra image (service cassandra-init in docker-compose.yml). The files'
# {{replication}} placeholder becomes CASSANDRA_REPLICATION. Every statement of those files is
# idempotent (IF NOT EXISTS), so running this again changes nothing. `make up` afterwards also runs
# `stackctl migrate`, which applies the same files and records them in trading.schema_migrations.
#   CASSANDRA_HOST        node as seen from the compose network (cassandra)
#   CASSANDRA_REPLICATION replication map of the keyspace (empty: SimpleStrategy, replication_factor 1)
#   SCHEMA_DIR            where schema/cassandra is mounted (/schema)
set -euo pipefail
: "${CASSANDRA_HOST:?}" "${SCHEMA_DIR:?}"
default_replication="{'class': 'SimpleStrategy', 'replication_factor': 1}"
CASSANDRA_REPLICATION=${CASSANDRA_REPLICATION:-$default_replication}
shopt -s nullglob
files=("$SCHEMA_DIR"/*.cql)
[ ${#files[@]} -gt 0 ] || { echo "cassandra-init: no .cql files in $SCHEMA_DIR" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${files[@]}"; do
  out="$tmp/$(basename "$f")"
  # Plain string replacement in bash (the replacement quoted, so that bash 5.2 does not expand &):
  # the replication map's quotes, braces and colons need no escaping.
  content=$(<"$f")
  printf '%s\n' "${content//'{{replication}}'/"$CASSANDRA_REPLICATION"}" > "$out"
  if grep -q '{{' "$out"; then
    echo "cassandra-init: $(basename "$f") still has a {{placeholder}} after substitution" >&2; exit 1
  fi
  echo "cassandra-init: applying $(basename "$f")"
  cqlsh "$CASSANDRA_HOST" 9042 --request-timeout=60 -f "$out"
done
echo "cassandra-init: schema applied (${#files[@]} files)"
