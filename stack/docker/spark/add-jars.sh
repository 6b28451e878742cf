#!/usr/bin/env bash
# add-jars.sh FROM_DIR SPARK_JARS_DIR: copy into SPARK_JARS_DIR the jars of FROM_DIR whose artifact
# Spark does not already ship, so that the classpath holds one version of each library (a second
# scala-library, slf4j-api or hadoop-client next to Spark's own would break it). Artifacts are
# compared by file name minus "-<version>.jar". Used by the Dockerfile at build time only.
set -euo pipefail
from=${1:?usage: add-jars.sh FROM_DIR SPARK_JARS_DIR}
to=${2:?usage: add-jars.sh FROM_DIR SPARK_JARS_DIR}

artifact() { sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)*\.jar$//' <<<"$1"; }

have=$(cd "$to" && for j in *.jar; do artifact "$j"; done | sort -u)
added=0
for path in "$from"/*.jar; do
  j=$(basename "$path"); a=$(artifact "$j")
  case "$a" in
    protobuf-java) continue ;;   # only Connector/J's X DevAPI needs it; JDBC does not
    unused) continue ;;          # an empty placeholder jar of Spark's build
  esac
  if grep -qxF "$a" <<<"$have"; then
    echo "skip $j (Spark ships $a)"
    continue
  fi
  cp "$path" "$to/$j"
  echo "add  $j"
  added=$((added + 1))
done
[ "$added" -gt 0 ] || { echo "add-jars.sh: nothing added from $from" >&2; exit 1; }
echo "added $added jars to $to"
