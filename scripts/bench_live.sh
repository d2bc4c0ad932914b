#!/usr/bin/env bash
# Live benchmarks for `make bench` (run at the end of scripts/bench.sh, or
# alone: bash scripts/bench_live.sh): B11 latency per relay hop next to
# nginx-rtmp, B12 1000 LL-HLS viewers on one edge.
#
# Setup (all on 127.0.0.1, ports 18700-18749): n1 ingest (origin, RTMP),
# n2 edge joined to n1, n3 edge with --relay-parent n2 (n1 -> n2 -> n3), and
# nginx with libnginx-mod-rtmp (hls on, hls_fragment 1s). One ffmpeg
# (-re, testsrc2 1280x720@30 + sine, libx264 veryfast zerolatency -g 60,
# AAC) pushes the same packets to both servers through the tee muxer, for
# LIVE_SECONDS (default 80).
#
# B11 method (cmd/liveload -mode b11, B11_SECONDS=40):
#   * capture time of media time t = Ts + t, where Ts is the wall clock
#     just before ffmpeg is started (written to live/ffmpeg-start): with -re
#     ffmpeg reads the lavfi input in real time from its own clock, which
#     starts after Ts (process start, lavfi init), so every latency here is
#     an upper bound by that start-up (tens of ms).
#     Also reported, NOT subtracted: the delay until the ingest received the
#     first video frame (T1 = EXT-X-PROGRAM-DATE-TIME of segment m, which
#     the ingest anchors to its clock at that frame, minus tfdt of part
#     m.0). Measured here: latency from T1 comes out negative (about -0.35
#     s), because ffmpeg 5.1's -re clock starts before the tee muxer has
#     connected its RTMP outputs, then sends the frames read meanwhile in a
#     burst: T1 - Ts (about 0.6 s) is connect time, not a constant delay of
#     every frame, so subtracting it would be wrong.
#   * a part is playable at a node when the node's video media playlist
#     lists it: an observer per node follows the playlist with LL-HLS
#     blocking reloads (_HLS_msn/_HLS_part of the preload hint) and notes
#     the wall clock when a playlist first listing the part arrives; it then
#     GETs the part and reads media end = tfdt + sum of trun durations
#     (timescale from the init's mdhd). latency = listed - (T0 + media end).
#   * nginx-rtmp is segment based (no parts, no blocking): its playlist is
#     polled every 50 ms; a .ts segment is playable when first listed; its
#     media end = sum of the EXTINF durations of the segments since the
#     first one (nginx's first segment starts at media time 0). Same T0
#     (the tee writes each packet to both servers at the same moment).
#   * hop overhead = listed on the hop node - listed on the ingest, same part.
# B12 method (liveload -mode b12, B12_SECONDS=30, B12_VIEWERS=1000): viewers
#   on n2 (one hop) loop {blocking playlist request for the hinted part;
#   GET each newly listed part}, starting over 2 s, one keep-alive
#   connection each; observers with blocking reload on n1 and n2. Reported:
#   n2's CPU (utime+stime from /proc over the run, in cores), part delivery
#   = a viewer has the part's bytes - the part was listed on n1 (p50/p99
#   over every viewer x part), hop overhead n2 - n1 (observers). The load
#   generator (observers included: its scheduling delay counts) and ffmpeg
#   share the same cores as the nodes; its own CPU and the load average are
#   printed next to the edge's.
#
# CPU placement (LIVE_PIN=1, the default on a machine with 2 or more
#   cores and taskset): the system under test, n1 (ingest) and n2 (the
#   edge of B12), runs on the last core; ffmpeg, nginx, n3 and the load
#   generator on the others, so that B12 measures the edge and not the
#   load generator taking its CPU. LIVE_PIN=0 lets everything float.
#
# Everything is bounded (about 2.5 min) and every process started here is
# stopped at exit. Results are appended to .cache/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench
lw=$work/live
bin=$root/bin/classmesh
LIVE_SECONDS=${LIVE_SECONDS:-80}
B11_SECONDS=${B11_SECONDS:-40}
B12_SECONDS=${B12_SECONDS:-30}
B12_VIEWERS=${B12_VIEWERS:-1000}
for tool in curl go ffmpeg jq; do
  command -v $tool >/dev/null || { echo "bench_live: $tool missing" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
RTMP_MOD=/usr/lib/nginx/modules/ngx_rtmp_module.so
if [ ! -x "$NGINX" ] || [ ! -f "$RTMP_MOD" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench_live: nginx-rtmp missing; install it with: sudo apt-get install -y nginx libnginx-mod-rtmp" >&2
    exit 1
  fi
  echo "bench_live: installing nginx and libnginx-mod-rtmp (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-rtmp >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-rtmp >/dev/null; }
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
go build -o "$bin" ./cmd/classmesh
rm -rf "$lw"; mkdir -p "$lw"
go build -o "$lw/liveload" ./cmd/liveload
# on SUT|LOAD CMD...: execs CMD on the system-under-test core or the others;
# only in a subshell (with & or inside $(...)), so that $! is CMD's pid.
LIVE_PIN=${LIVE_PIN:-1}
ncpu=$(nproc)
if [ "$LIVE_PIN" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
  cpu_sut=$((ncpu - 1)); cpu_load=0-$((ncpu - 2))
  placement="n1 and n2 on core $cpu_sut; ffmpeg, nginx, n3 and the load generator on cores $cpu_load"
else
  LIVE_PIN=0; placement="no CPU pinning"
fi
on() {
  local where=$1; shift
  if [ "$LIVE_PIN" = 1 ]; then
    if [ "$where" = SUT ]; then exec taskset -c "$cpu_sut" "$@"; else exec taskset -c "$cpu_load" "$@"; fi
  fi
  exec "$@"
}
SECRET=bench-live-secret-0123456789abcdef
SESSION=b11

declare -A pid=()
cleanup() {
  for k in "${!pid[@]}"; do kill "${pid[$k]}" 2>/dev/null || true; done
  for k in "${!pid[@]}"; do gone "${pid[$k]}" || kill -9 "${pid[$k]}" 2>/dev/null || true; done
}
# gone PID: waits (at most 5 s) until a process has exited.
gone() { for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
trap cleanup EXIT
die() { echo "bench_live: $*" >&2; for f in "$lw"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "timed out waiting for $what"
}

# ---------------- classmesh: n1 ingest, n2 edge, n3 edge behind n2 ----------------
cm_http() { echo $((18700 + 10 * $1)); }
cm_url() { echo "http://127.0.0.1:$(cm_http "$1")"; }
cm_admin() { echo "http://127.0.0.1:$(($(cm_http "$1") + 3))"; } # --admin-http: members, metrics
RTMP_CM=18705
start_cm() {
  local i=$1 p where=LOAD; p=$(cm_http "$i"); shift
  [ "$i" -le 2 ] && where=SUT
  on $where "$bin" serve --http 127.0.0.1:$p --gossip 127.0.0.1:$((p + 1)) --quic 127.0.0.1:$((p + 2)) \
    --admin-http 127.0.0.1:$((p + 3)) --data "$lw/D$i" --cluster-secret "$SECRET" --gossip-profile local --node-id "n$i" \
    --rescan -1s --log-level warn --p2p off "$@" >>"$lw/n$i.log" 2>&1 &
  pid[n$i]=$!
  disown "${pid[n$i]}"
}
echo "bench_live: starting n1 (ingest), n2 (edge), n3 (edge via n2) and nginx-rtmp"
start_cm 1 --demo --rtmp 127.0.0.1:$RTMP_CM
wait_for "classmesh n1" 300 test -s "$lw/D1/admin-token"
TOKEN=$(tr -d ' \n' <"$lw/D1/admin-token")
start_cm 2 --roles edge --join 127.0.0.1:18711
start_cm 3 --roles edge --join 127.0.0.1:18711 --relay-parent n2
members3() { [ "$(curl -fsm 2 "$(cm_admin 1)/api/v1/cluster/members" | jq 'if type == "array" then length else (.members | length) end')" -ge 3 ]; }
wait_for "3 members" 300 members3

api() { curl -fsm 5 -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$(cm_url 1)$2" ${3:+-d "$3"}; }
api POST /api/v1/courses '{"id":"bench-live","title":"Bench live","visibility":"public"}' >/dev/null || true
now=$(date -u +%Y-%m-%dT%H:%M:%SZ); later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
KEY=$(api POST /api/v1/sessions "{\"id\":\"$SESSION\",\"course_id\":\"bench-live\",\"title\":\"B11\",\"scheduled_start\":\"$now\",\"scheduled_end\":\"$later\"}" | jq -r .stream_key)
[ -n "$KEY" ] && [ "$KEY" != null ] || die "no stream key"
session_on() { curl -fsm 2 -H "Authorization: Bearer $TOKEN" "$(cm_url "$1")/api/v1/sessions/$SESSION"; }
wait_for "the session on n2" 300 session_on 2
wait_for "the session on n3" 300 session_on 3

# ---------------- nginx-rtmp ----------------
RTMP_NG=18740; HTTP_NG=18741
mkdir -p "$lw/nginx-hls"
cat >"$lw/nginx.conf" <<NGX
load_module $RTMP_MOD;
worker_processes 1;
pid $lw/nginx.pid;
error_log $lw/nginx-error.log warn;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:$RTMP_NG;
    application live { live on; hls on; hls_path $lw/nginx-hls; hls_fragment 1s; hls_playlist_length 10s; }
  }
}
http {
  access_log off;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:$HTTP_NG; root $lw/nginx-hls; location / { add_header Cache-Control no-cache; } }
}
NGX
on LOAD "$NGINX" -c "$lw/nginx.conf" -g 'daemon off;' >>"$lw/nginx.log" 2>&1 &
pid[nginx]=$!
disown "${pid[nginx]}"
wait_for "nginx" 50 curl -sm 1 -o /dev/null "http://127.0.0.1:$HTTP_NG/"

# ---------------- B11: observers first, then ffmpeg ----------------
echo "bench_live: B11 ${B11_SECONDS}s: ffmpeg -> n1 and nginx-rtmp (tee), observers on n1, n2, n3, nginx"
vid() { echo "$(cm_url "$1")/live/$SESSION/video"; }
on LOAD "$lw/liveload" -mode b11 -d "${B11_SECONDS}s" -nodes "ingest=$(vid 1),hop1=$(vid 2),hop2=$(vid 3)" \
  -nginx "http://127.0.0.1:$HTTP_NG/$KEY.m3u8" -ffmpeg-start "$lw/ffmpeg-start" >"$lw/b11.json" 2>"$lw/b11.err" &
b11pid=$!
sleep 0.5
date +%s.%N >"$lw/ffmpeg-start"
on LOAD ffmpeg -nostdin -hide_banner -loglevel error -re \
  -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -map 0:v -map 1:a -t "$LIVE_SECONDS" -c:v libx264 -preset veryfast -tune zerolatency -g 60 -keyint_min 60 \
  -pix_fmt yuv420p -c:a aac -b:a 96k -flags +global_header \
  -f tee "[f=flv:onfail=ignore]rtmp://127.0.0.1:$RTMP_CM/live/$KEY|[f=flv:onfail=ignore]rtmp://127.0.0.1:$RTMP_NG/live/$KEY" \
  >>"$lw/ffmpeg.log" 2>&1 &
pid[ffmpeg]=$!
disown "${pid[ffmpeg]}"
wait "$b11pid" || die "liveload b11 failed: $(cat "$lw/b11.err")"
b11=$(cat "$lw/b11.json")
delay_snap() { curl -fsm 2 "$(cm_admin "$1")/metrics" | grep '^classmesh_live_relay_delay_seconds_bucket' >"$lw/$2" || true; }
delay_snap 2 n2-delay-b11.txt
delay_snap 3 n3-delay-b11.txt
echo "raw: B11 $b11"
kill -0 "${pid[ffmpeg]}" 2>/dev/null || die "ffmpeg stopped early"

# ---------------- B12: viewers on n2 ----------------
echo "bench_live: B12 $B12_VIEWERS viewers on n2 for ${B12_SECONDS}s"
# UDP receive-buffer drops on this host (the relay runs over QUIC/UDP): a
# drop costs a loss recovery, so they are reported next to the hop delay.
udp_rcvbuf_errors() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp; }
udp0=$(udp_rcvbuf_errors)
b12=$(ulimit -n 20000 2>/dev/null; on LOAD "$lw/liveload" -mode b12 -d "${B12_SECONDS}s" -ingest "$(vid 1)" -edge "$(vid 2)" \
  -viewers "$B12_VIEWERS" -pid "${pid[n2]}" 2>"$lw/b12.err") || die "liveload b12 failed: $(cat "$lw/b12.err")"
echo "raw: B12 $b12"
udp_drops=$(($(udp_rcvbuf_errors) - udp0))
curl -fsm 2 "$(cm_admin 3)/metrics" | grep '^classmesh_relay_object_age_seconds' >"$lw/n3-relay-age.txt" || true
delay_snap 2 n2-delay-b12.txt
# delay_pct BEFORE AFTER: from the edge's own histogram
# classmesh_live_relay_delay_seconds (published on the relay at n1 -> listed
# here), the parts observed between two scrapes: "p50 ≤ X ms, p99 ≤ Y ms,
# share ≤ 20 ms, n" (bucket upper bounds; the edge measures itself, so
# the load generator's scheduling does not count).
delay_pct() {
  awk -v before="$1" '
    function le(l) { sub(/.*le="/, "", l); sub(/".*/, "", l); return l }
    FILENAME == before { b[le($1)] = $2; next }
    { k = le($1); c[k] = $2 - b[k]; keys[++n] = k }
    END {
      tot = c["+Inf"]; if (tot <= 0) { print "n/a"; exit }
      p50 = p99 = ""; for (i = 1; i <= n; i++) { k = keys[i]
        if (p50 == "" && c[k] >= 0.5 * tot) p50 = k
        if (p99 == "" && c[k] >= 0.99 * tot) p99 = k
        if (k == "0.02") s20 = c[k] }
      printf "p50 ≤ %s ms, p99 ≤ %s ms, %.1f %% ≤ 20 ms, n %d", ms(p50), ms(p99), 100 * s20 / tot, tot }
    function ms(x) { return x == "+Inf" ? "+Inf" : x * 1000 }' "$1" "$2"
}
: >"$lw/empty.txt"

# ---------------- report ----------------
j() { echo "$1" | jq -r "$2"; }
node() { j "$b11" ".nodes[] | select(.name == \"$1\") | $2"; }
out=$lw/results.md
{
  echo
  echo "### B11-B12 live: classmesh LL-HLS vs nginx-rtmp $("$NGINX" -v 2>&1 | sed 's/.*\///') HLS"
  echo
  echo "Command: \`bash scripts/bench_live.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, 127.0.0.1; 1280x720@30 x264 veryfast zerolatency -g 60 + AAC, tee to both servers; part target 0.5 s, segment target 2 s; B11 ${B11_SECONDS}s, B12 ${B12_SECONDS}s; $placement)"
  echo
  echo "| bench | p50 ms | p95 ms | p99 ms | n | goal |"
  echo "|---|---|---|---|---|---|"
  for n in ingest hop1 hop2; do
    echo "| B11 capture → part listed (newest frame), classmesh $n | $(node $n .latency.p50_ms) | $(node $n .latency.p95_ms) | $(node $n .latency.p99_ms) | $(node $n .latency.n) | $([ $n = hop2 ] && echo '≤ 2000')|"
  done
  echo "| B11 capture → segment listed (newest frame), nginx-rtmp HLS | $(j "$b11" .nginx.latency.p50_ms) | $(j "$b11" .nginx.latency.p95_ms) | $(j "$b11" .nginx.latency.p99_ms) | $(j "$b11" .nginx.latency.n) | |"
  echo "| B11 capture → listed, oldest frame of the unit: classmesh hop2 part / nginx segment | $(node hop2 .latency_oldest_frame.p50_ms) / $(j "$b11" .nginx.latency_oldest_frame.p50_ms) | $(node hop2 .latency_oldest_frame.p95_ms) / $(j "$b11" .nginx.latency_oldest_frame.p95_ms) | $(node hop2 .latency_oldest_frame.p99_ms) / $(j "$b11" .nginx.latency_oldest_frame.p99_ms) | | |"
  echo "| B11 hop overhead n1 → n2 (listed on n2 − on n1) | $(node hop1 .hop_overhead_vs_ingest.p50_ms) | $(node hop1 .hop_overhead_vs_ingest.p95_ms) | $(node hop1 .hop_overhead_vs_ingest.p99_ms) | $(node hop1 .hop_overhead_vs_ingest.n) | ≤ 20 p99 |"
  echo "| B11 two hops n1 → n2 → n3 | $(node hop2 .hop_overhead_vs_ingest.p50_ms) | $(node hop2 .hop_overhead_vs_ingest.p95_ms) | $(node hop2 .hop_overhead_vs_ingest.p99_ms) | $(node hop2 .hop_overhead_vs_ingest.n) | |"
  echo "| B12 $B12_VIEWERS viewers on n2: part delivery after listed on n1 | $(j "$b12" .part_delivery_after_ingest_listed.p50_ms) | $(j "$b12" .part_delivery_after_ingest_listed.p95_ms) | $(j "$b12" .part_delivery_after_ingest_listed.p99_ms) | $(j "$b12" .part_delivery_after_ingest_listed.n) | |"
  echo "| B12 hop overhead n1 → n2 under load | $(j "$b12" .hop_overhead.p50_ms) | $(j "$b12" .hop_overhead.p95_ms) | $(j "$b12" .hop_overhead.p99_ms) | $(j "$b12" .hop_overhead.n) | ≤ 20 p99 |"
  echo
  echo
  echo "Relay delay measured by the edges themselves (classmesh_live_relay_delay_seconds: part published on the relay at n1 → listed at the edge; bucket bounds):"
  echo "B11 n1 → n2: $(delay_pct "$lw/empty.txt" "$lw/n2-delay-b11.txt"); n1 → n2 → n3: $(delay_pct "$lw/empty.txt" "$lw/n3-delay-b11.txt");"
  echo "B12 n1 → n2 under the $B12_VIEWERS viewers: $(delay_pct "$lw/n2-delay-b11.txt" "$lw/n2-delay-b12.txt"); UDP receive-buffer drops on the host during B12: $udp_drops."
  echo
  echo "B11: ffmpeg start → first frame at the ingest $(j "$b11" .ffmpeg_startup_ms) ms (not subtracted, see the script header); latency from that frame p50 ingest / hop2 / nginx: $(node ingest .latency_from_first_packet.p50_ms) / $(node hop2 .latency_from_first_packet.p50_ms) / $(j "$b11" .nginx.latency_from_first_packet.p50_ms) ms."
  echo "B12: edge n2 CPU $(j "$b12" .edge_cpu_cores) cores, load generator $(j "$b12" .loadgen_cpu_cores) cores (same machine; load average after: $(j "$b12" .loadavg_after)); $(j "$b12" .parts_delivered) parts to viewers, $(j "$b12" .requests) requests, $(j "$b12" .errors) errors, $(j "$b12" .viewers_without_parts) viewers without parts. n3 relay object age: live/n3-relay-age.txt."
} >"$out"
cat "$out" | tee -a "$work/results.md"
