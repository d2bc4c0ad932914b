#!/usr/bin/env bash
# make bench: B1 (hot serving vs nginx), B2 (cold packaging vs ffmpeg),
# B3 (500 clients over 20 cold segments). Everything on loopback, side by
# side in one run. Results are printed and written to .cache/bench/results.md
# (copy them into docs/BENCHMARKS.md). BENCH_ONLY=B1 runs B1 alone;
# BENCH_DURATION and BENCH_CONNS change wrk's -d and -c.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench
mkdir -p "$work"
bin=$root/bin/classmesh
[ -x "$bin" ] || { echo "bench: build first (make build)" >&2; exit 1; }
for tool in ffmpeg nginx wrk curl; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "bench: $tool missing (make test-deps)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-64}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# --- media: a 2-minute 1080p H.264/AAC lecture at ~2.7 Mb/s (≈2 MB per 6 s segment)
media=$work/media
src=$work/b1080.mp4
if [ ! -f "$src" ]; then
  echo "bench: encoding the 1080p source (once; cached in $src)"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t 120 -c:v libx264 -preset ultrafast -b:v 2700k -maxrate 2700k -bufsize 5400k -x264-params nal-hrd=cbr \
    -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 96k "$src.tmp.mp4"
  mv "$src.tmp.mp4" "$src"
fi
rm -rf "$media"; mkdir -p "$media"
# Ten assets over the same bytes: 10 x 20 = 200 distinct cold segments for B2.
for i in $(seq 0 9); do mkdir -p "$media/lecture$i"; ln "$src" "$media/lecture$i/1080p.mp4" 2>/dev/null || cp "$src" "$media/lecture$i/1080p.mp4"; done
for a in storm whole; do mkdir -p "$media/$a"; ln "$src" "$media/$a/1080p.mp4" 2>/dev/null || cp "$src" "$media/$a/1080p.mp4"; done

port_cm=18480; port_ngx=18481
start_node() {
  rm -rf "$work/data"
  "$bin" serve --media "$media" --http 127.0.0.1:$port_cm --data "$work/data" --log-level warn --rescan -1s --gossip 127.0.0.1:18482 --quic 127.0.0.1:18483 --admin-http 127.0.0.1:18484 ${BENCH_NODE_FLAGS:-} >"$work/node.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port_cm/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: node did not start"; cat "$work/node.log"; exit 1
}
stop_node() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

start_node
base=http://127.0.0.1:$port_cm/v/lecture0/1080p

# --- B1: hot serving against nginx (sendfile on, same bytes on disk)
www=$work/www; rm -rf "$www"; mkdir -p "$www"
curl -fs "$base/seg-1.m4s" -o "$www/seg-1.m4s"; curl -fs "$base/seg-1.m4s" >/dev/null
curl -fs "$base/media.m3u8" -o "$www/media.m3u8"
segsize=$(stat -c %s "$www/seg-1.m4s")
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  types { video/mp4 m4s; application/vnd.apple.mpegurl m3u8; }
  server {
    listen 127.0.0.1:$port_ngx;
    root $www;
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
EOF
"$NGINX" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5
curl -fs "http://127.0.0.1:$port_ngx/seg-1.m4s" | cmp - "$www/seg-1.m4s"

wrk_run() { # url -> "rps p99ms"
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$1" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v}
    END {print rps, p99}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

echo "bench: B1 segment ($segsize bytes), $CONNS connections, $DURATION each"
read -r cm_seg_rps cm_seg_p99 < <(wrk_run "$base/seg-1.m4s")
read -r ng_seg_rps ng_seg_p99 < <(wrk_run "http://127.0.0.1:$port_ngx/seg-1.m4s")
read -r cm_pl_rps cm_pl_p99 < <(wrk_run "$base/media.m3u8")
read -r ng_pl_rps ng_pl_p99 < <(wrk_run "http://127.0.0.1:$port_ngx/media.m3u8")

if [ "${BENCH_ONLY:-}" = B1 ]; then
  echo "B1 segment: classmesh $cm_seg_rps req/s p99 $cm_seg_p99 ms, nginx $ng_seg_rps req/s p99 $ng_seg_p99 ms, ratio $(ratio "$cm_seg_rps" "$ng_seg_rps")"
  echo "B1 playlist: classmesh $cm_pl_rps req/s p99 $cm_pl_p99 ms, nginx $ng_pl_rps req/s p99 $ng_pl_p99 ms, ratio $(ratio "$cm_pl_rps" "$ng_pl_rps")"
  exit 0
fi

# --- B2: cold packaging latency over 200 distinct segments, and whole-asset rate vs ffmpeg
: >"$work/b2.urls"
for i in $(seq 0 9); do for s in $(seq 0 19); do echo "http://127.0.0.1:$port_cm/v/lecture$i/1080p/seg-$s.m4s" >>"$work/b2.urls"; done; done
go build -o "$work/benchload" ./cmd/benchload
b2=$("$work/benchload" -mode cold -urls "$work/b2.urls" -metrics "http://127.0.0.1:18484/metrics")
# whole-asset rate: every segment of a fresh asset, one client, cold
: >"$work/b2-asset.urls"
for s in $(seq 0 19); do echo "http://127.0.0.1:$port_cm/v/whole/1080p/seg-$s.m4s" >>"$work/b2-asset.urls"; done
b2asset=$("$work/benchload" -mode cold -urls "$work/b2-asset.urls")
rm -rf "$work/ffhls"; mkdir -p "$work/ffhls"
ff_start=$(date +%s.%N)
ffmpeg -nostdin -v error -y -i "$src" -c copy -f hls -hls_time 6 -hls_playlist_type vod -hls_segment_type fmp4 \
  -hls_segment_filename "$work/ffhls/seg-%d.m4s" "$work/ffhls/media.m3u8"
ff_end=$(date +%s.%N)
ff_secs=$(awk -v a="$ff_start" -v b="$ff_end" 'BEGIN{printf "%.3f", b-a}')
cm_asset_secs=$(echo "$b2asset" | sed 's/.*"wall_seconds":\([0-9.]*\).*/\1/')

# --- B3: 500 concurrent clients over 20 cold segments of a fresh node
stop_node; start_node
: >"$work/b3.urls"
for s in $(seq 0 19); do echo "http://127.0.0.1:$port_cm/v/storm/1080p/seg-$s.m4s" >>"$work/b3.urls"; done
b3=$("$work/benchload" -mode storm -clients 500 -urls "$work/b3.urls" -metrics "http://127.0.0.1:18484/metrics")

field() { echo "$1" | sed "s/.*\"$2\":\([0-9.e+-]*\).*/\1/"; }
out=$work/results.md
{
  echo "Command: \`make bench\` ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$CONNS -d$DURATION, nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'))"
  echo
  echo "| bench | classmesh | peer | ratio classmesh/peer | goal |"
  echo "|---|---|---|---|---|"
  echo "| B1 segment ($segsize B) req/s | $cm_seg_rps | nginx $ng_seg_rps | $(ratio "$cm_seg_rps" "$ng_seg_rps") | ≥ 1.0 |"
  echo "| B1 segment p99 ms | $cm_seg_p99 | nginx $ng_seg_p99 | $(ratio "$cm_seg_p99" "$ng_seg_p99") (lower is better) | |"
  echo "| B1 playlist req/s | $cm_pl_rps | nginx $ng_pl_rps | $(ratio "$cm_pl_rps" "$ng_pl_rps") | ≥ 0.8 |"
  echo "| B1 playlist p99 ms | $cm_pl_p99 | nginx $ng_pl_p99 | $(ratio "$cm_pl_p99" "$ng_pl_p99") (lower is better) | |"
  echo "| B2 cold 1080p segment TTFB p50 / p99 ms (200 segments) | $(field "$b2" ttfb_p50_ms) / $(field "$b2" ttfb_p99_ms) | | | p50 ≤ 10 ms |"
  echo "| B2 cold 1080p segment TTLB p50 / p99 ms | $(field "$b2" ttlb_p50_ms) / $(field "$b2" ttlb_p99_ms) | | | |"
  echo "| B2 whole asset (120 s, 20 segments) seconds | $cm_asset_secs | ffmpeg -c copy -f hls $ff_secs | $(ratio "$ff_secs" "$cm_asset_secs") x ffmpeg's speed | |"
  echo "| B3 500 clients / 20 cold segments: fills per segment | $(field "$b3" fills_per_url) | | | = 1 |"
  echo "| B3 TTLB p50 / p99 ms | $(field "$b3" ttlb_p50_ms) / $(field "$b3" ttlb_p99_ms) | | | |"
} >"$out"
cat "$out"
echo
echo "raw: B2 $b2"
echo "raw: B2 asset $b2asset"
echo "raw: B3 $b3"
[ -n "${BENCH_ONLY:-}" ] || bash scripts/bench_cluster.sh
[ -n "${BENCH_ONLY:-}" ] || bash scripts/bench_catalog.sh
[ -n "${BENCH_ONLY:-}" ] || bash scripts/bench_live.sh
[ -n "${BENCH_ONLY:-}" ] || bash scripts/bench_swarm.sh
[ -n "${BENCH_ONLY:-}" ] || bash scripts/bench_p2p.sh
