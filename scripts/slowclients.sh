#!/usr/bin/env bash
# Slow and malformed clients against one node (issue 11, finding 5).
#
# Starts `classmesh serve --demo` with an open-file limit of NOFILE (1024)
# through prlimit, with segments of SEGMENT_TARGET (18s: the 720p demo
# rendition's segments are then about 2 MB), and holds for LOAD_TIME:
#   SLOW_BODY (1100) HTTP connections trickling a POST body (from 127.0.0.2),
#   NO_READ   (1100) HTTP connections that never read their responses (127.0.0.3),
#   RTMP      (1024) RTMP connections trickling after the handshake (127.0.0.4).
# A connection the node closes is opened again, so the load stays on.
# Meanwhile a learner on 127.0.0.1 fetches a 2 MB segment every 2 s (curl
# -w '%{time_total}'), once at 1 Mbit/s (slowload -thin: curl's --limit-rate
# reads ahead into large socket buffers), and an
# instructor connects to RTMP. It prints the learner's times, the node's
# cut counters and its open descriptors.
#
#   bash scripts/slowclients.sh
#   NOFILE=1024 SLOW_BODY=1100 NO_READ=1100 RTMP=1024 LOAD_TIME=60 bash scripts/slowclients.sh
#   SRC_BODY=127.0.0.10-127.0.0.17 SRC_NO_READ=127.0.0.20-127.0.0.27 SRC_RTMP=127.0.0.30-127.0.0.157 bash scripts/slowclients.sh
#
# Loopback only; every wait is bounded; every process started here is
# stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$PWD/.cache/slowclients
mkdir -p "$work"
NOFILE=${NOFILE:-1024}
SLOW_BODY=${SLOW_BODY:-1100}
NO_READ=${NO_READ:-1100}
RTMP=${RTMP:-1024}
LOAD_TIME=${LOAD_TIME:-60}
PORT=${PORT:-18580}
SEGMENT_TARGET=${SEGMENT_TARGET:-18s}
EXTRA=${EXTRA:-} # more serve flags, e.g. "--http-min-rate -1" to compare
# Source addresses of each kind of load: one address, or a range of the
# last octet ("127.0.0.10-127.0.0.17") for an attacker with several.
SRC_BODY=${SRC_BODY:-127.0.0.2}
SRC_NO_READ=${SRC_NO_READ:-127.0.0.3}
SRC_RTMP=${SRC_RTMP:-127.0.0.4}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

go build -o "$work/classmesh" ./cmd/classmesh
go build -o "$work/slowload" ./cmd/slowload
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # for slowload's sockets

rm -rf "$work/data"
# shellcheck disable=SC2086
prlimit --nofile="$NOFILE:$NOFILE" "$work/classmesh" serve --demo --data "$work/data" \
  --http 127.0.0.1:$PORT --gossip 127.0.0.1:$((PORT + 1)) --quic 127.0.0.1:$((PORT + 2)) \
  --rtmp 127.0.0.1:$((PORT + 3)) --admin-http 127.0.0.1:$((PORT + 4)) --segment-target "$SEGMENT_TARGET" --log-level warn $EXTRA \
  >"$work/node.log" 2>&1 &
node=$!; pids+=("$node")
base=http://127.0.0.1:$PORT
for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$base/readyz" || { tail -20 "$work/node.log"; exit 1; }
seg=/v/demo/720p/seg-0.m4s
size=$(curl -fsS -o /dev/null -w '%{size_download}' "$base$seg")
echo "node pid $node, open-file limit $(prlimit --pid "$node" --nofile --noheadings --output SOFT), segment $seg: $size bytes"

fetch() { curl -sS -o /dev/null --max-time 30 -w '%{http_code} %{time_total}s %{size_download}B' "$@" "$base$seg" 2>&1 || true; }
echo "before the load: $(fetch)"

"$work/slowload" -http 127.0.0.1:$PORT -rtmp-addr 127.0.0.1:$((PORT + 3)) -get "$seg" \
  -slow-body "$SLOW_BODY" -no-read "$NO_READ" -rtmp "$RTMP" -duration "${LOAD_TIME}s" \
  -src-body "$SRC_BODY" -src-no-read "$SRC_NO_READ" -src-rtmp "$SRC_RTMP" >"$work/load.log" 2>&1 &
load=$!; pids+=("$load")
t0=$SECONDS
sleep 5
# A learner at 1 Mbit/s fetches the 2 MB segment while the load is on.
("$work/slowload" -http 127.0.0.1:$PORT -get "$seg" -thin 131072 >"$work/thin.txt" 2>&1 || true) &
pids+=($!)
times=()
while [ $((SECONDS - t0)) -lt $((LOAD_TIME - 5)) ]; do
  r=$(fetch)
  times+=("$r")
  fds=$(ls /proc/"$node"/fd 2>/dev/null | wc -l)
  echo "t=$((SECONDS - t0))s learner: $r  node fds: $fds  load: $(tail -1 "$work/load.log")"
  sleep 2
done
echo "instructor (RTMP handshake + connect) at t=$((SECONDS - t0))s: $("$work/slowload" -probe-rtmp -rtmp-addr 127.0.0.1:$((PORT + 3)) 2>&1)"
wait "${pids[-1]}" || true
echo "learner at 1 Mbit/s (slowload -thin 131072: 128 KiB/s, 16 KiB receive buffer) from t=5s: $(cat "$work/thin.txt")"
curl -fsS "http://127.0.0.1:$((PORT + 4))/metrics" | grep -E '^classmesh_(http_conns_cut_total|http_open_conns|rtmp_connections_closed_total|rtmp_connections )' || true
wait "$load" || true
tail -1 "$work/load.log"
printf '%s\n' "${times[@]}" | awk '{ if ($1 == 200) { n++; s += $2 + 0; if ($2 + 0 > m) m = $2 + 0 } else bad++ }
  END { printf "learner under load: %d of %d fetches 200, mean %.3f s, max %.3f s\n", n, n + bad, (n ? s / n : 0), m }'
grep -c "http connection cut" "$work/node.log" | xargs echo "node log lines about cuts (rate-limited):"
