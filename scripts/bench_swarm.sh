#!/usr/bin/env bash
# B9: "classmesh swarm" with 100 viewers of a 3 Mbit/s rendition for 2
# minutes against one node on loopback, once with P2P and once HTTP only.
# Prints offload and the stall ratio (stall_seconds / (peers x duration))
# of both runs and writes them to .cache/bench-swarm/results.md.
#
#   B9_PEERS=100 B9_DURATION=2m B9_FLAGS="--downlink 20mbit" scripts/bench_swarm.sh
# (B9_BIN overrides bin/classmesh; B9_RUNS="p2p" skips the HTTP-only run
# while iterating.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/bench-swarm
bin=${B9_BIN:-$root/bin/classmesh}
PEERS=${B9_PEERS:-100}
DURATION=${B9_DURATION:-2m}
FLAGS=${B9_FLAGS:-}
RUNS=${B9_RUNS:-p2p http}
port=18490

[ -x "$bin" ] || { echo "bench_swarm: build first (make build)" >&2; exit 1; }
for tool in ffmpeg curl jq; do
  command -v $tool >/dev/null || { echo "bench_swarm: $tool missing (make test-deps)" >&2; exit 1; }
done
if ! grep -q p2p "$root/node/routes.go"; then
  echo "bench_swarm: the node does not serve /p2p/ws yet (node/routes.go); B9 skipped" >&2
  exit 0
fi
mkdir -p "$work"

# --- media: 150 s of 720p H.264 at 3 Mbit/s (CBR-ish), keyframe every 2 s
src=$work/b9-3m.mp4
if [ ! -f "$src" ]; then
  echo "bench_swarm: encoding the 3 Mbit/s source (once; cached in $src)"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 150 \
    -c:v libx264 -preset ultrafast -b:v 3M -maxrate 3M -bufsize 6M -x264-params nal-hrd=cbr \
    -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 96k "$src.tmp.mp4"
  mv "$src.tmp.mp4" "$src"
fi
media=$work/media
rm -rf "$media" "$work/data"
mkdir -p "$media/b9"
ln "$src" "$media/b9/3m.mp4" 2>/dev/null || cp "$src" "$media/b9/3m.mp4"

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
"$bin" serve --media "$media" --http 127.0.0.1:$port --data "$work/data" --log-level warn \
  --gossip 127.0.0.1:18491 --quic 127.0.0.1:18492 >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "bench_swarm: node did not start"; cat "$work/node.log"; exit 1; }
url=http://127.0.0.1:$port/v/b9/3m/media.m3u8
curl -fs "$url" >/dev/null || { echo "bench_swarm: $url not served"; exit 1; }

run() { # name, extra flags...
  local name=$1; shift
  echo "bench_swarm: $name: $PEERS viewers for $DURATION"
  # shellcheck disable=SC2086
  "$bin" swarm --url "$url" --peers "$PEERS" --duration "$DURATION" --json $FLAGS "$@" >"$work/$name.json"
}
case " $RUNS " in *" p2p "*) run p2p ;; esac
case " $RUNS " in *" http "*) run http --p2p=false ;; esac

row() {
  jq -r --arg n "$1" '"| \($n) | \(.peers) | \(.duration_s|floor) s | \((.offload*1000|round)/10) % | \(.stalls) | \((.stall_seconds*10|round)/10) s | \(.stall_ratio) | \(.startup_ms_p50) / \(.startup_ms_p95) ms | \(.peers_connected) |"' "$work/$1.json"
}
{
  echo "B9 ($(date -u +%F), $(nproc) cores): classmesh swarm, 3 Mbit/s rendition, $PEERS viewers, $DURATION ${FLAGS:+($FLAGS)}"
  echo
  echo "| run | viewers | duration | offload | stalls | stall time | stall ratio | startup p50 / p95 | peers connected |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in $RUNS; do row "$r"; done
  echo
  for r in $RUNS; do
    echo "$r: HTTP bytes by cause (MiB, segments): $(jq -c '[.http_bytes_by_cause, .http_segments_by_cause] | .[0] as $b | .[1] as $s | $b | to_entries | sort_by(-.value) | map("\(.key) \((.value/1048576|floor)) (\($s[.key]))") | join(", ")' "$work/$r.json")"
  done
} | tee "$work/results.md"
