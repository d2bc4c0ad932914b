#!/usr/bin/env bash
# B10: tracker capacity. Connects P2P_PEERS (default 50 000) WebSocket peers
# to one tracker on loopback (from many 127.0.0.x source addresses, so no
# ephemeral port exhaustion), holds them while they send have/want, reads
# the server's resident memory from /proc and prints peers and bytes/peer.
#
# The server is `bin/classmesh serve` when its /p2p/ws is wired (answers the
# plain GET probe with 400 "subprotocol required"), otherwise the bare
# tracker cmd/trackerd. Each process needs one file descriptor
# per socket: the script raises `ulimit -n` as far as the hard limit allows
# and, if that is below the target, caps the peers and says so (the
# bytes/peer figure still holds; a projection to 50 000 is printed).
#
#   bash scripts/bench_p2p.sh                 P2P_PEERS=20000 P2P_HOLD=20s bash scripts/bench_p2p.sh
#
# Every wait is bounded; every process started here is stopped at exit.
# The result line is appended to .cache/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench/p2p
mkdir -p "$work"
PEERS=${P2P_PEERS:-50000}
HOLD=${P2P_HOLD:-30s}
RATE=${P2P_RATE:-800}
PORT=${P2P_PORT:-18490}
SRC=${P2P_SRC:-127.0.0.2-127.0.0.50}

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
capped=""
if [ "$nofile" != unlimited ] && [ "$PEERS" -gt $((nofile - 1000)) ]; then
  capped="capped from $PEERS by ulimit -n $nofile (hard limit)"
  PEERS=$((nofile - 1000))
  echo "bench_p2p: $capped" >&2
fi
per_client=$PEERS
[ "$nofile" != unlimited ] && per_client=$((nofile - 500))

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
die() { echo "bench_p2p: $*" >&2; tail -n 5 "$work"/*.log >&2 || true; exit 1; }

go build -o "$work/p2pload" ./cmd/p2pload
go build -o "$work/trackerd" ./cmd/trackerd

wait_http() { # url, seconds
  for _ in $(seq 1 $(($2 * 10))); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

server=""
swarms=()
metrics_url="http://127.0.0.1:$PORT/metrics" # trackerd; classmesh: its admin listener
if [ -x bin/classmesh ]; then
  rm -rf "$work/data"
  bin/classmesh serve --http 127.0.0.1:$PORT --gossip 127.0.0.1:$((PORT + 1)) --quic 127.0.0.1:$((PORT + 2)) \
    --admin-http 127.0.0.1:$((PORT + 3)) --data "$work/data" --demo --rtmp off --log-level warn >"$work/node.log" 2>&1 &
  spid=$!; pids+=("$spid")
  if wait_http "http://127.0.0.1:$PORT/healthz" 60 &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/p2p/ws")" = 400 ]; then
    server="classmesh serve"
    metrics_url="http://127.0.0.1:$((PORT + 3))/metrics"
    # The node accepts only swarms of what it serves: the demo's renditions.
    swarms=(-swarm-list "$(curl -fsS "http://127.0.0.1:$PORT/api/v1/assets/demo" | jq -r '[.renditions[].id | "vod/demo/" + .] | join(",")')")
  else
    kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  fi
fi
if [ -z "$server" ]; then
  "$work/trackerd" -addr 127.0.0.1:$PORT >"$work/trackerd.log" 2>&1 &
  spid=$!; pids+=("$spid")
  wait_http "http://127.0.0.1:$PORT/healthz" 30 || die "trackerd did not start"
  server="trackerd"
fi
echo "bench_p2p: server $server (pid $spid), $PEERS peers, hold $HOLD" >&2

rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
metric() { curl -fsS "$metrics_url" | awk -v m="$1" '$1 == m {print $2}' | head -1; }
sleep 1
base_rss=$(rss "$spid")

# Client processes: each holds at most per_client sockets.
nclients=$(((PEERS + per_client - 1) / per_client))
left=$PEERS
cpids=()
for i in $(seq 1 $nclients); do
  n=$((left < per_client ? left : per_client)); left=$((left - n))
  rm -f "$work/ready.$i"
  "$work/p2pload" -url "ws://127.0.0.1:$PORT/p2p/ws" -peers "$n" -src "$SRC" -rate $((RATE / nclients + 1)) "${swarms[@]}" \
    -duration "$HOLD" -interval 10s -timeout 20m -ready "$work/ready.$i" >"$work/load.$i.json" 2>"$work/load.$i.log" &
  cpids+=($!); pids+=($!)
done

# Wait (bounded) for every client's connect phase, then let the server settle.
deadline=$((SECONDS + 1200))
for i in $(seq 1 $nclients); do
  while [ ! -f "$work/ready.$i" ]; do
    [ $SECONDS -lt $deadline ] || die "connect phase did not finish"
    kill -0 "${cpids[$((i - 1))]}" 2>/dev/null || die "p2pload $i exited early"
    sleep 1
  done
done
sleep 3
peers=$(metric classmesh_p2p_peers)
peers=${peers%.*}
load_rss=$(rss "$spid")
heap=$(metric go_memstats_heap_inuse_bytes || true)
goroutines=$(metric go_goroutines || true)
for p in "${cpids[@]}"; do wait "$p" || true; done

connected=0; errors=0
for i in $(seq 1 $nclients); do
  c=$(sed -n 's/.*"connected": \([0-9]*\).*/\1/p' "$work/load.$i.json" | head -1)
  e=$(sed -n 's/.*"errors": \([0-9]*\).*/\1/p' "$work/load.$i.json" | head -1)
  connected=$((connected + ${c:-0})); errors=$((errors + ${e:-0}))
done
[ "${peers:-0}" -gt 0 ] || die "no peers connected"
per_peer=$(((load_rss - base_rss) / peers))
total_per_peer=$((load_rss / peers))
proj=$(awk -v b="$base_rss" -v p="$per_peer" 'BEGIN {printf "%.0f", (b + 50000 * p) / 1048576}')
json=$(printf '{"server":"%s","peers_target":%d,"peers":%d,"client_connected":%d,"client_errors":%d,"rss_base_bytes":%d,"rss_bytes":%d,"bytes_per_peer":%d,"rss_per_peer_total":%d,"heap_inuse_bytes":%s,"goroutines":%s,"projected_50k_mib":%s,"note":"%s"}' \
  "$server" "${P2P_PEERS:-50000}" "$peers" "$connected" "$errors" "$base_rss" "$load_rss" "$per_peer" "$total_per_peer" \
  "${heap:-0}" "${goroutines:-0}" "$proj" "$capped")
echo "$json"
out=$root/.cache/bench/results.md
echo "| B10 tracker capacity ($server) | $peers peers, RSS $((load_rss / 1048576)) MiB, $per_peer B/peer (projected 50 000 peers: $proj MiB) | | | ≥ 50 000 peers < 2 GiB |" >>"$out"
