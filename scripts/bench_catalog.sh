#!/usr/bin/env bash
# Catalog benchmarks for `make bench` (run at the end of scripts/bench.sh,
# or alone: bash scripts/bench_catalog.sh), classmesh side by side with etcd.
#
# B6 writes/s: 64 concurrent writers for at most 10 s (and at most 50000
#    writes) against a 3-voter classmesh catalog (POST /api/v1/sites) and a
#    3-member etcd (POST /v3/kv/put through its HTTP/JSON gateway, the same
#    site JSON as value); writes/s, p50/p99 latency, ratio classmesh/etcd.
#    B6_ROUNDS (default 3) alternating rounds, summed.
# B7 failover: kill -9 of the leader, time to the first acknowledged write
#    on a surviving member (a new attempt every 10 ms; TRIALS=10 trials each; the killed member is
#    restarted with its data dir between trials); p50 and max.
# B8 local reads: a 4th classmesh node with --roles edge (a non-voter
#    replica) answers GET /api/v1/sites/s1 2000 times; p50/p99 next to the
#    same GET on the leader.
#
# B6_ONLY=1 stops after B6 (a quick A/B of write throughput).
#
# Both systems are driven by the same Go client (cmd/catalogload).
# Everything runs on 127.0.0.1 ports 18600-18699; every wait
# is bounded; every process started here is stopped at exit. Results are
# appended to .cache/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench
cw=$work/catalog
bin=$root/bin/classmesh
TRIALS=${TRIALS:-10}
for tool in curl go; do
  command -v $tool >/dev/null || { echo "bench_catalog: $tool missing" >&2; exit 1; }
done
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v jq >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench_catalog: etcd or jq missing; install them with: sudo apt-get install -y etcd-server etcd-client jq" >&2
    exit 1
  fi
  echo "bench_catalog: installing etcd and jq (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client jq >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client jq >/dev/null; }
fi
go build -o "$bin" ./cmd/classmesh
rm -rf "$cw"; mkdir -p "$cw"
go build -o "$cw/catalogload" ./cmd/catalogload
SECRET=bench-catalog-secret-0123456789ab

declare -A pid=()
cleanup() {
  for k in "${!pid[@]}"; do kill -9 "${pid[$k]}" 2>/dev/null || true; done
  for k in "${!pid[@]}"; do gone "${pid[$k]}" || true; done
}
# gone PID: waits (at most 5 s) until a killed, disowned process has exited.
gone() { for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
trap cleanup EXIT
die() { echo "bench_catalog: $*" >&2; for f in "$cw"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
# wait_for DESCRIPTION TRIES CMD...: retries CMD every 0.1 s, at most TRIES times.
wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "timed out waiting for $what"
}
f2() { awk -v v="$1" 'BEGIN{printf "%.2f", v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# p50/max of numbers on stdin (nearest rank).
p50() { sort -n | awk '{v[NR]=$1} END{i=int((NR+1)/2); print v[i]}'; }
pmax() { sort -n | tail -1; }

# ---------------- classmesh: 3 voters (n1..n3), later an edge n4 ----------------
cm_http() { echo $((18600 + 10 * $1)); }
cm_url() { echo "http://127.0.0.1:$(cm_http "$1")"; }
cm_admin() { echo "http://127.0.0.1:$(($(cm_http "$1") + 3))"; } # --admin-http: raft status
start_cm() {
  local i=$1 p; p=$(cm_http "$i"); shift
  local extra=(--join 127.0.0.1:18611)
  [ "$i" -eq 1 ] && extra=(--demo)
  "$bin" serve --http 127.0.0.1:$p --gossip 127.0.0.1:$((p + 1)) --quic 127.0.0.1:$((p + 2)) \
    --admin-http 127.0.0.1:$((p + 3)) --data "$cw/D$i" --cluster-secret "$SECRET" --gossip-profile local --node-id "n$i" \
    --rescan -1s --log-level warn "${extra[@]}" "$@" >>"$cw/n$i.log" 2>&1 &
  pid[n$i]=$!
  disown "${pid[n$i]}" # no "Killed" job reports; cleanup still kills it by pid
}
raft() { curl -fsm 2 "$(cm_admin "$1")/api/v1/raft/status"; }
voters_are() { [ "$(raft "$1" | jq '.voters | length')" -eq "$2" ] && [ -n "$(raft "$1" | jq -r '.leader_id // empty')" ]; }
cm_leader() { raft "$1" | jq -r '.leader_id' | sed 's/^n//'; }
# caught_up I: member I has applied what the leader had committed, the way
# a restarted etcd member only passes `endpoint health` (a linearizable
# read) once it has caught up. Without it a trial could kill the leader
# while the restarted member is still restoring its snapshot.
caught_up() {
  local l c a; l=$(cm_leader "$1"); [ -n "$l" ] && [ "$l" != null ] || return 1
  c=$(raft "$l" | jq '.commit_index'); a=$(raft "$1" | jq '.applied_index')
  [ -n "$c" ] && [ -n "$a" ] && [ "$a" -ge "$c" ]
}

echo "bench_catalog: starting 3 classmesh voters and 3 etcd members"
start_cm 1
wait_for "classmesh n1" 100 test -s "$cw/D1/admin-token"
start_cm 2; start_cm 3
TOKEN=$(tr -d ' \n' <"$cw/D1/admin-token")

# ---------------- etcd: 3 members e1..e3 ----------------
et_client() { echo $((18670 + $1)); }
et_url() { echo "http://127.0.0.1:$(et_client "$1")"; }
ET_CLUSTER="e1=http://127.0.0.1:18681,e2=http://127.0.0.1:18682,e3=http://127.0.0.1:18683"
start_etcd() {
  local i=$1
  etcd --name "e$i" --data-dir "$cw/etcd/e$i" \
    --listen-client-urls "$(et_url "$i")" --advertise-client-urls "$(et_url "$i")" \
    --listen-peer-urls "http://127.0.0.1:$((18680 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((18680 + i))" \
    --initial-cluster "$ET_CLUSTER" --initial-cluster-state new --initial-cluster-token bench-catalog \
    --log-level error >>"$cw/e$i.log" 2>&1 &
  pid[e$i]=$!
  disown "${pid[e$i]}"
}
ET_EPS="$(et_url 1),$(et_url 2),$(et_url 3)"
etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints="$ET_EPS" --command-timeout=2s endpoint health >/dev/null 2>&1; }
# etcd_leader: index (1..3) of the member that leads.
etcd_leader() {
  ETCDCTL_API=3 etcdctl --endpoints="$ET_EPS" --command-timeout=2s endpoint status -w json 2>/dev/null |
    jq -r '.[] | select(.Status.header.member_id == .Status.leader) | .Endpoint' | sed 's/.*:1867//'
}
for i in 1 2 3; do start_etcd "$i"; done
wait_for "3 classmesh voters" 300 voters_are 1 3
wait_for "etcd health" 300 etcd_healthy
cl="$cw/catalogload"

# ============================ B6 ============================
echo "bench_catalog: B6 64 writers, <= 10 s"
# B6_ROUNDS rounds (default 3) of 10 s each, alternating which system goes
# first, so that a disturbance from elsewhere on the machine does not land
# on one system only. Throughput = all writes / all wall time of a
# system; latencies are from its median round.
B6_ROUNDS=${B6_ROUNDS:-3}
b6_cm() { "$cl" -mode write -kind classmesh -token "$TOKEN" -urls "$(cm_url 1),$(cm_url 2),$(cm_url 3)" -c 64 -n 50000 -d 10s -start "$1"; }
b6_et() { "$cl" -mode write -kind etcd -urls "$ET_EPS" -c 64 -n 50000 -d 10s -start "$1"; }
b6c_all=(); b6e_all=()
for r in $(seq 1 "$B6_ROUNDS"); do
  start=$((1 + (r - 1) * 50000))
  if [ $((r % 2)) -eq 1 ]; then
    b6c_all+=("$(b6_cm "$start")"); b6e_all+=("$(b6_et "$start")")
  else
    b6e_all+=("$(b6_et "$start")"); b6c_all+=("$(b6_cm "$start")")
  fi
  echo "raw: B6 round $r classmesh ${b6c_all[-1]}"; echo "raw: B6 round $r etcd ${b6e_all[-1]}"
done
j() { echo "$1" | jq -r ".$2"; }
# b6_total JSON...: one JSON with the summed writes, errors and wall time,
# writes_per_sec over them, the median round's p50/p99 and every round's
# writes/s.
b6_total() {
  printf '%s\n' "$@" | jq -s '(sort_by(.writes_per_sec)) as $s | {
    writes: (map(.writes) | add), errors: (map(.errors) | add), wall_seconds: (map(.wall_seconds) | add),
    writes_per_sec: ((map(.writes) | add) / (map(.wall_seconds) | add)),
    p50_ms: $s[(length / 2 | floor)].p50_ms, p99_ms: $s[(length / 2 | floor)].p99_ms,
    rounds: map(.writes_per_sec | floor)}' -c
}
b6c=$(b6_total "${b6c_all[@]}"); b6e=$(b6_total "${b6e_all[@]}")
echo "raw: B6 classmesh $b6c"; echo "raw: B6 etcd $b6e"
if [ -n "${B6_ONLY:-}" ]; then # quick A/B of write throughput only
  echo "B6 writes/s classmesh $(j "$b6c" writes_per_sec) etcd $(j "$b6e" writes_per_sec) rounds $(j "$b6c" 'rounds | join(",")') / $(j "$b6e" 'rounds | join(",")') ratio $(ratio "$(j "$b6c" writes_per_sec)" "$(j "$b6e" writes_per_sec)")"
  exit 0
fi

# ============================ B8 ============================
# (before B7, while the cluster holds the B6 sites and its first leader)
echo "bench_catalog: B8 non-voter reads"
start_cm 4 --roles edge
nonvoter_has() { raft 4 >/dev/null && curl -fsm 2 -H "Authorization: Bearer $TOKEN" "$(cm_url 4)/api/v1/sites/s1" >/dev/null; }
wait_for "edge n4 replica with s1" 300 nonvoter_has
lead=$(cm_leader 1)
b8e=$("$cl" -mode read -token "$TOKEN" -urls "$(cm_url 4)/api/v1/sites/s1" -n 2000)
b8l=$("$cl" -mode read -token "$TOKEN" -urls "$(cm_url "$lead")/api/v1/sites/s1" -n 2000)
echo "raw: B8 edge $b8e"; echo "raw: B8 leader n$lead $b8l"
kill -9 "${pid[n4]}" 2>/dev/null || true; gone "${pid[n4]}" || true; unset 'pid[n4]'

# ============================ B7 ============================
echo "bench_catalog: B7 leader kill -9, $TRIALS trials each"
: >"$cw/b7-classmesh"; : >"$cw/b7-etcd"
seq_start=1000000
for t in $(seq 1 "$TRIALS"); do
  wait_for "a classmesh leader" 300 voters_are 1 3
  lead=$(cm_leader 1)
  [ -n "$lead" ] || die "no classmesh leader"
  others=(); for i in 1 2 3; do [ "$i" = "$lead" ] || others+=("$(cm_url "$i")"); done
  r=$("$cl" -mode failover -kind classmesh -token "$TOKEN" -kill "${pid[n$lead]}" -urls "$(IFS=,; echo "${others[*]}")" -start $((seq_start + t * 10000)) -req-timeout 5s -timeout 60s) ||
    die "classmesh trial $t"
  echo "raw: B7 classmesh trial $t leader n$lead $r"
  j "$r" recovery_ms >>"$cw/b7-classmesh"
  gone "${pid[n$lead]}" || die "n$lead did not exit"
  start_cm "$lead"
  wait_for "n$lead back" 300 voters_are "$lead" 3
  wait_for "n$lead caught up" 300 caught_up "$lead"
done
for t in $(seq 1 "$TRIALS"); do
  wait_for "etcd health" 300 etcd_healthy
  lead=""; for _ in $(seq 1 50); do lead=$(etcd_leader); [ -n "$lead" ] && break; sleep 0.1; done
  [ -n "$lead" ] || die "no etcd leader"
  others=(); for i in 1 2 3; do [ "$i" = "$lead" ] || others+=("$(et_url "$i")"); done
  r=$("$cl" -mode failover -kind etcd -kill "${pid[e$lead]}" -urls "$(IFS=,; echo "${others[*]}")" -start $((seq_start + t * 10000)) -req-timeout 5s -timeout 60s) ||
    die "etcd trial $t"
  echo "raw: B7 etcd trial $t leader e$lead $r"
  j "$r" recovery_ms >>"$cw/b7-etcd"
  gone "${pid[e$lead]}" || die "e$lead did not exit"
  start_etcd "$lead"
done
b7c50=$(p50 <"$cw/b7-classmesh"); b7cmax=$(pmax <"$cw/b7-classmesh")
b7e50=$(p50 <"$cw/b7-etcd"); b7emax=$(pmax <"$cw/b7-etcd")

# ============================ report ============================
out=$work/catalog-results.md
{
  echo
  echo "### B6-B8 catalog: classmesh vs etcd $(etcd --version | head -1 | awk '{print $3}')"
  echo
  echo "Command: \`bash scripts/bench_catalog.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, 3 voters each on 127.0.0.1, TRIALS=$TRIALS)"
  echo
  echo "| bench | classmesh | etcd | ratio classmesh/etcd |"
  echo "|---|---|---|---|"
  echo "| B6 writes/s (64 writers, $B6_ROUNDS alternating rounds of ≤ 10 s) | $(f2 "$(j "$b6c" writes_per_sec)") | $(f2 "$(j "$b6e" writes_per_sec)") | $(ratio "$(j "$b6c" writes_per_sec)" "$(j "$b6e" writes_per_sec)") |"
  echo "| B6 write p50 / p99 ms | $(j "$b6c" p50_ms) / $(j "$b6c" p99_ms) | $(j "$b6e" p50_ms) / $(j "$b6e" p99_ms) | $(ratio "$(j "$b6c" p50_ms)" "$(j "$b6e" p50_ms)") / $(ratio "$(j "$b6c" p99_ms)" "$(j "$b6e" p99_ms)") (lower is better) |"
  echo "| B6 errors | $(j "$b6c" errors) | $(j "$b6e" errors) | |"
  echo "| B6 writes/s per round | $(j "$b6c" 'rounds | join(", ")') | $(j "$b6e" 'rounds | join(", ")') | |"
  echo "| B7 kill -9 leader → next acked write, p50 / max ms ($TRIALS trials) | $b7c50 / $b7cmax | $b7e50 / $b7emax | $(ratio "$b7c50" "$b7e50") (lower is better) |"
  echo "| B8 GET /api/v1/sites/s1 on edge non-voter, p50 / p99 ms (2000) | $(j "$b8e" p50_ms) / $(j "$b8e" p99_ms) | | |"
  echo "| B8 same GET on the leader, p50 / p99 ms | $(j "$b8l" p50_ms) / $(j "$b8l" p99_ms) | | |"
} >"$out"
cat "$out" | tee -a "$work/results.md"
