#!/usr/bin/env bash
# make cluster: three classmesh nodes on loopback, one with the demo course
# (origin), two edges with no media that join it. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/classmesh
base=${CLUSTER_DIR:-.cache/cluster}
secret=${CLASSMESH_CLUSTER_SECRET:-local-demo-cluster-secret-change-me}
mkdir -p "$base"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

start() { # name http gossip quic admin extra...
  local name=$1 http=$2 gossip=$3 quic=$4 admin=$5; shift 5
  "$bin" serve --node-id "$name" --http "127.0.0.1:$http" --gossip "127.0.0.1:$gossip" --quic "127.0.0.1:$quic" \
    --admin-http "127.0.0.1:$admin" \
    --data "$base/$name" --cluster-secret "$secret" --gossip-profile local "$@" >"$base/$name.log" 2>&1 &
  pids+=($!)
}
# Admin listeners (members, raft, metrics; loopback, no token): 7948, 7958, 7968.
start node1 8081 7946 7947 7948 --demo
start node2 8082 7956 7957 7958 --join 127.0.0.1:7946 --roles edge
start node3 8083 7966 7967 7968 --join 127.0.0.1:7946 --roles edge
for _ in $(seq 1 100); do
  n=$(curl -fs http://127.0.0.1:7968/api/v1/cluster/members 2>/dev/null | grep -c '"state": "alive"' || true)
  [ "$n" = 3 ] && break
  sleep 0.2
done
"$bin" members --addr http://127.0.0.1:7948
echo
echo "node1 (origin, demo course): http://127.0.0.1:8081/"
echo "node2 (edge):                http://127.0.0.1:8082/"
echo "node3 (edge):                http://127.0.0.1:8083/"
echo "admin (classmesh members --addr ...): http://127.0.0.1:7948/ 7958/ 7968/"
echo "logs in $base/*.log; Ctrl-C stops the cluster"
wait
