#!/usr/bin/env bash
# Cluster benchmarks for `make bench` (run at the end of scripts/bench.sh,
# or alone: bash scripts/bench_cluster.sh).
#
# B4 herd: 50 cold segments, 1000 concurrent clients spread round-robin over
#    five front servers, three systems side by side:
#    (a) a 5-node classmesh cluster reading an nginx origin over HTTP Range;
#    (b) five nginx proxy_cache + proxy_cache_lock instances in front of one
#        classmesh node that packages the segments;
#    (c) five Varnish instances in front of the same kind of upstream.
#    Reports origin requests per unique segment and client latency.
# B5 two nodes: a segment fetched from its owner over QUIC versus from the
#    local cache (p50/p99), peer-fill throughput, and the cluster package's
#    BenchmarkFillFetch1MiB.
#
# Everything runs on 127.0.0.1; every wait is bounded; every process started
# here is stopped at exit. Results are appended to .cache/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench
cw=$work/cluster
bin=$root/bin/classmesh
[ -x "$bin" ] || { echo "bench_cluster: build first (make build)" >&2; exit 1; }
for tool in ffmpeg nginx curl go; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "bench_cluster: $tool missing (make test-deps)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)
if [ ! -x "$VARNISHD" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench_cluster: varnishd missing; install it with: sudo apt-get install -y varnish" >&2
    exit 1
  fi
  echo "bench_cluster: installing varnish (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends varnish >/dev/null 2>&1 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends varnish >/dev/null; }
  [ -x "$VARNISHD" ] || { echo "bench_cluster: varnish install failed" >&2; exit 1; }
fi
ulimit -n 65536 2>/dev/null || true
SECRET=bench-cluster-secret-0123456789ab
CLIENTS=1000 SEGS=50

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
die() { echo "bench_cluster: $*" >&2; for f in "$cw"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

# --- media: the 1080p source of scripts/bench.sh (encoded the same way when missing)
src=$work/b1080.mp4
mkdir -p "$work"
if [ ! -f "$src" ]; then
  echo "bench_cluster: encoding the 1080p source (once; cached in $src)"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t 120 -c:v libx264 -preset ultrafast -b:v 2700k -maxrate 2700k -bufsize 5400k -x264-params nal-hrd=cbr \
    -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 96k "$src.tmp.mp4"
  mv "$src.tmp.mp4" "$src"
fi
rm -rf "$cw"; mkdir -p "$cw"
link() { mkdir -p "$(dirname "$2")"; ln "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
link "$src" "$cw/www/herd-a/1080p.mp4"                           # (a): nginx origin, read over HTTP
link "$src" "$cw/up/herd-b/1080p.mp4"; link "$src" "$cw/up/herd-c/1080p.mp4"  # (b), (c): upstream node
for i in 0 1 2 3 4 5; do link "$src" "$cw/b5/p$i/1080p.mp4"; done  # B5: 6 x 20 segments of ~2 MB

go build -o "$cw/benchload" ./cmd/benchload
load() { "$cw/benchload" -timeout 120s "$@"; }
field() { echo "$1" | sed "s/.*\"$2\":\([0-9.e+-]*\).*/\1/"; }
f1() { awk -v v="$1" 'BEGIN{printf "%.2f", v}'; }

# wait_for DESCRIPTION TRIES CMD...: retries CMD every 0.1 s, at most TRIES times.
wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "timed out waiting for $what"
}
alive_count() { curl -fsm 10 "$1/api/v1/cluster/members" | grep -c '"state": "alive"'; }
has_members() { [ "$(alive_count "$1")" -ge "$2" ]; }
asset_ready() { curl -fsm 10 "$1/api/v1/assets/$2" | grep -q '"status": "ready"'; }

# adm HTTP_PORT: the admin listener (members, metrics) of the node on HTTP_PORT.
adm() { echo "http://127.0.0.1:$(($1 + 1000))"; }

# start_node NAME HTTP GOSSIP QUIC ARGS...: a classmesh node on loopback.
start_node() {
  local name=$1 http=$2 gossip=$3 quic=$4; shift 4
  "$bin" serve --http 127.0.0.1:$http --gossip 127.0.0.1:$gossip --quic 127.0.0.1:$quic --admin-http 127.0.0.1:$((http + 1000)) \
    --data "$cw/data-$name" --cluster-secret "$SECRET" --gossip-profile local --node-id "$name" \
    --rescan -1s --log-level warn "$@" >"$cw/$name.log" 2>&1 &
  pids+=($!)
}

# ============================ B4 ============================
echo "bench_cluster: B4 $CLIENTS clients over $SEGS cold segments, 5 front servers per system"
# herd_urls PORTS ASSET: request i asks segment i%50 of front server (i/50)%5,
# so every segment is asked 4 times from each of the five servers.
herd_urls() {
  awk -v ports="$1" -v asset="$2" -v n="$CLIENTS" -v segs="$SEGS" 'BEGIN{
    split(ports, p, " ");
    for (i = 0; i < n; i++) printf "http://127.0.0.1:%s/v/%s/1080p/seg-%d.m4s\n", p[int(i/segs)%5 + 1], asset, i%segs }'
}

# (a) origin: nginx with autoindex, one log line per upstream request.
port_origin=18500
cat >"$cw/origin.conf" <<EOF
worker_processes 1;
pid $cw/origin.pid;
error_log $cw/origin-error.log crit;
events { worker_connections 4096; }
http {
  log_format req '\$request \$status \$http_range';
  access_log $cw/origin-access.log req;
  sendfile on;
  server { listen 127.0.0.1:$port_origin; root $cw/www; autoindex on; }
}
EOF
"$NGINX" -c "$cw/origin.conf" -g 'daemon off;' 2>>"$cw/origin-error.log" &
pids+=($!)
wait_for "the nginx origin" 50 curl -fsm 10 "http://127.0.0.1:$port_origin/herd-a/"

a_ports=() a_metrics=()
for i in 1 2 3 4 5; do
  p=$((18500 + 10 * i))
  join=(); [ "$i" -gt 1 ] && join=(--join 127.0.0.1:18512)
  start_node "n$i" $((p + 1)) $((p + 2)) $((p + 3)) --origin-url "http://127.0.0.1:$port_origin/" --segment-target 2s "${join[@]}"
  a_ports+=($((p + 1))); a_metrics+=("$(adm $((p + 1)))/metrics")
done
for p in "${a_ports[@]}"; do
  wait_for "node :$p ready" 300 curl -fsm 10 "http://127.0.0.1:$p/readyz"
  wait_for "node :$p to see 5 members" 300 has_members "$(adm "$p")" 5
  wait_for "node :$p to index herd-a" 300 asset_ready "http://127.0.0.1:$p" herd-a
done
nsegs=$(curl -fsm 10 "http://127.0.0.1:${a_ports[0]}/v/herd-a/1080p/media.m3u8" | grep -c '^seg-')
[ "$nsegs" -ge "$SEGS" ] || die "herd-a has $nsegs segments, need $SEGS"
herd_urls "${a_ports[*]}" herd-a >"$cw/b4a.urls"
b4a=$(load -mode storm -clients $CLIENTS -urls "$cw/b4a.urls" -unique $SEGS -settle 200ms \
  -metrics "$(IFS=,; echo "${a_metrics[*]}")" -fill-source origin -upstream-log "$cw/origin-access.log") || die "B4 (a) load failed"
b4a_peer=$(for m in "${a_metrics[@]}"; do curl -fsm 10 "$m"; done | awk '/^classmesh_cache_fills_total\{source="peer"\}/ {s += $2} END {print s + 0}')
for _ in 1 2 3 4 5; do kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; done

# (b), (c): one upstream classmesh node packaging herd-b and herd-c.
port_up=18561
start_node up $port_up 18562 18563 --media "$cw/up" --segment-target 2s
wait_for "the upstream node" 300 curl -fsm 10 "http://127.0.0.1:$port_up/readyz"
wait_for "the upstream node to index herd-b" 300 asset_ready "http://127.0.0.1:$port_up" herd-b
wait_for "the upstream node to index herd-c" 300 asset_ready "http://127.0.0.1:$port_up" herd-c

b_ports=()
for i in 1 2 3 4 5; do
  p=$((18570 + i)); d=$cw/nginx$i; mkdir -p "$d"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy_temp;
  fastcgi_temp_path $d/fcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  proxy_cache_path $d/cache levels=1:2 keys_zone=seg$i:10m max_size=2g inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$p;
    location / {
      proxy_pass http://127.0.0.1:$port_up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache seg$i;
      proxy_cache_lock on;
      proxy_cache_valid 200 1h;
    }
  }
}
EOF
  "$NGINX" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/error.log" &
  pids+=($!); b_ports+=($p)
done

c_ports=()
for i in 1 2 3 4 5; do
  p=$((18580 + i))
  "$VARNISHD" -F -a 127.0.0.1:$p -b 127.0.0.1:$port_up -s malloc,512m -n "$cw/varnish$i" -T none \
    -p default_ttl=3600 >"$cw/varnish$i.log" 2>&1 &
  pids+=($!); c_ports+=($p)
done
for p in "${b_ports[@]}" "${c_ports[@]}"; do
  wait_for "proxy :$p" 100 curl -fsm 10 "http://127.0.0.1:$p/readyz"
done

up_metrics=$(adm $port_up)/metrics
herd_urls "${b_ports[*]}" herd-b >"$cw/b4b.urls"
b4b=$(load -mode storm -clients $CLIENTS -urls "$cw/b4b.urls" -unique $SEGS -settle 200ms -upstream-metrics "$up_metrics") || die "B4 (b) load failed"
herd_urls "${c_ports[*]}" herd-c >"$cw/b4c.urls"
b4c=$(load -mode storm -clients $CLIENTS -urls "$cw/b4c.urls" -unique $SEGS -settle 200ms -upstream-metrics "$up_metrics") || die "B4 (c) load failed"
cleanup; pids=()

# ============================ B5 ============================
echo "bench_cluster: B5 owner over QUIC versus local cache, two nodes"
start_node b5a 18591 18592 18593 --media "$cw/b5"
start_node b5b 18594 18595 18596 --media "$cw/b5" --join 127.0.0.1:18592
for p in 18591 18594; do
  wait_for "node :$p ready" 300 curl -fsm 10 "http://127.0.0.1:$p/readyz"
  wait_for "node :$p to see 2 members" 300 has_members "$(adm "$p")" 2
  for i in 0 1 2 3 4 5; do wait_for "node :$p to index p$i" 300 asset_ready "http://127.0.0.1:$p" p$i; done
done
b5segs=$(curl -fsm 10 "http://127.0.0.1:18591/v/p0/1080p/media.m3u8" | grep -c '^seg-')
: >"$cw/b5.paths"
for i in 0 1 2 3 4 5; do for s in $(seq 0 $((b5segs - 1))); do echo "/v/p$i/1080p/seg-$s.m4s" >>"$cw/b5.paths"; done; done
b5=$(load -mode peer -urls "$cw/b5.paths" -nodes http://127.0.0.1:18591,http://127.0.0.1:18594) || die "B5 load failed"
cleanup; pids=()
gobench=$(go test -count=1 -timeout 120s -run '^$' -bench BenchmarkFillFetch1MiB ./cluster/fill/ 2>&1 | awk '/^BenchmarkFillFetch1MiB/ {for (i = 1; i <= NF; i++) if ($i == "MB/s") print $(i-1)}' || true)

# ============================ results ============================
sub() { echo "$1" | sed "s/.*\"$2\":{\([^}]*\)}.*/\1/"; }
b5peer=$(sub "$b5" peer); b5local=$(sub "$b5" local)
segbytes=$(awk -v b="$(field "$b4a" bytes)" -v n="$(field "$b4a" requests)" 'BEGIN{printf "%.0f", b/n/1000}')
b5kb=$(awk -v b="$(field "$b5" peer_bytes)" -v n="$(field "$b5peer" requests)" 'BEGIN{ if (n>0) printf "%.0f", b/n/1000; else print "?"}')
out=$work/results.md
{
  echo
  echo "Command: \`bash scripts/bench_cluster.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), $("$VARNISHD" -V 2>&1 | head -1 | sed 's/ revision.*//;s/(//'))"
  echo
  echo "| B4: $CLIENTS clients, $SEGS cold 2 s 1080p segments (~$segbytes kB), 5 front servers | origin reads per unique segment | upstream HTTP requests per segment | TTFB p50 / p99 ms | TTLB p50 / p99 ms | goal |"
  echo "|---|---|---|---|---|---|"
  echo "| classmesh, 5 nodes, origin = nginx over HTTP Range (peer fills: $(f1 "${b4a_peer:-0}")) | **$(f1 "$(field "$b4a" fills_per_url)")** | $(f1 "$(field "$b4a" upstream_per_url)") Range GETs | $(field "$b4a" ttfb_p50_ms) / $(field "$b4a" ttfb_p99_ms) | $(field "$b4a" ttlb_p50_ms) / $(field "$b4a" ttlb_p99_ms) | = 1 |"
  echo "| 5 x nginx proxy_cache + proxy_cache_lock | $(f1 "$(field "$b4b" upstream_per_url)") | $(f1 "$(field "$b4b" upstream_per_url)") | $(field "$b4b" ttfb_p50_ms) / $(field "$b4b" ttfb_p99_ms) | $(field "$b4b" ttlb_p50_ms) / $(field "$b4b" ttlb_p99_ms) | |"
  echo "| 5 x Varnish (-s malloc,512m) | $(f1 "$(field "$b4c" upstream_per_url)") | $(f1 "$(field "$b4c" upstream_per_url)") | $(field "$b4c" ttfb_p50_ms) / $(field "$b4c" ttfb_p99_ms) | $(field "$b4c" ttlb_p50_ms) / $(field "$b4c" ttlb_p99_ms) | |"
  echo
  echo "| B5: two nodes, 6 s 1080p segments (~$b5kb kB), one request at a time | p50 / p99 ms | |"
  echo "|---|---|---|"
  echo "| through the owner over QUIC (non-owner cold, owner warm), TTFB | $(field "$b5peer" ttfb_p50_ms) / $(field "$b5peer" ttfb_p99_ms) | $(field "$b5peer" requests) segments |"
  echo "| through the owner over QUIC, TTLB | $(field "$b5peer" ttlb_p50_ms) / $(field "$b5peer" ttlb_p99_ms) | |"
  echo "| local cache hit on the same node, TTFB | $(field "$b5local" ttfb_p50_ms) / $(field "$b5local" ttfb_p99_ms) | |"
  echo "| local cache hit, TTLB | $(field "$b5local" ttlb_p50_ms) / $(field "$b5local" ttlb_p99_ms) | |"
  echo "| QUIC peer-fill throughput (fill bytes / fill seconds) MB/s | $(f1 "$(field "$b5" fill_mbps)") | HTTP client view: $(f1 "$(field "$b5" peer_http_mbps)") MB/s |"
  echo "| \`go test -bench BenchmarkFillFetch1MiB ./cluster/fill/\` MB/s | ${gobench:-n/a} | |"
} | tee -a "$out"
echo
echo "raw: B4a $b4a"
echo "raw: B4b $b4b"
echo "raw: B4c $b4c"
echo "raw: B5 $b5"
