#!/usr/bin/env bash
# Where a native stack's micro-batches spend their time (docs/operations.md, "Where a micro-batch's
# time goes"). Reads only what the stack already writes; changes nothing.
#
#   bash scripts/profile.sh cpu > before.txt      CPU seconds so far of each server process
#   bash scripts/profile.sh cpu-diff before.txt after.txt
#                                                 CPU used in between, per process and share
#   bash scripts/profile.sh batches FILTER        per streaming query whose name contains FILTER:
#                                                 batches and the p50 / p90 of each phase Spark
#                                                 reports (durationMs of its progress events in
#                                                 $STACK_HOME/logs/spark-connect.log), rows/batch
set -euo pipefail
: "${STACK_HOME:=${XDG_DATA_HOME:-$HOME/.local/share}/idxstream}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# cpu: "NAME SECONDS" for each process the launcher runs ($STACK_HOME/run/*.pid) and each Spark
# executor (a child of a worker), from utime + stime of /proc/PID/stat.
cpu() {
  local f name pid child
  secs() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$1/stat"; }
  for f in "$STACK_HOME"/run/*.pid; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .pid); pid=$(cat "$f")
    kill -0 "$pid" 2>/dev/null || continue
    # the recorded pid may be a wrapper (nice, setsid, spark-class): take the JVM or server under it
    while child=$(pgrep -P "$pid" | head -1) && [ -n "$child" ] && ! grep -q "^java\|^mariadbd" "/proc/$pid/comm"; do pid=$child; done
    echo "$name $(secs "$pid")"
    if [[ "$name" == spark-worker* ]]; then
      for child in $(pgrep -f CoarseGrainedExecutorBackend); do
        [ "$(ps -o ppid= -p "$child" | tr -d ' ')" = "$pid" ] && echo "executor-of-$name $(secs "$child")"
      done
    fi
  done
}

cpu_diff() {
  join <(sort "$1") <(sort "$2") | awk '{ d[$1] = $3 - $2; t += $3 - $2 }
    END { for (n in d) printf "%-28s %8.1f CPU-s %5.1f %%\n", n, d[n], (t > 0 ? 100 * d[n] / t : 0); printf "%-28s %8.1f CPU-s\n", "total", t }' | sort -k2 -nr
}

batches() {
  python3 - "$1" "$STACK_HOME/logs/spark-connect.log" <<'PY'
import json, re, sys, statistics
want, path = sys.argv[1], sys.argv[2]
text = open(path, errors="replace").read()
by = {}
for m in re.finditer(r"Streaming query made progress: (\{.*?\n\})\n", text, re.S):
    p = json.loads(m.group(1))
    if want not in (p.get("name") or "") or not p.get("numInputRows"):
        continue  # idle triggers carry no work
    q = p["name"].rsplit("__", 1)[-1]
    d = by.setdefault(q, {"rows": []})
    d["rows"].append(p["numInputRows"])
    for k, v in p["durationMs"].items():
        d.setdefault(k, []).append(v)
def q(xs, f):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(f * len(xs)))]
for name, d in sorted(by.items()):
    print(f"{name}: {len(d['rows'])} batches with input, {statistics.median(d['rows']):.0f} Kafka records each (p50)")
    for k in ("triggerExecution", "latestOffset", "queryPlanning", "getBatch", "addBatch", "walCommit", "commitOffsets"):
        if k in d:
            print(f"  {k:17} p50 {q(d[k], .5) / 1000:6.2f} s   p90 {q(d[k], .9) / 1000:6.2f} s")
PY
}

case "${1:-}" in
  cpu) cpu ;;
  cpu-diff) [ $# -eq 3 ] || usage; cpu_diff "$2" "$3" ;;
  batches) [ $# -eq 2 ] || usage; batches "$2" ;;
  *) usage ;;
esac
