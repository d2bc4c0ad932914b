#!/usr/bin/env bash
# make-demo-media.sh writes the classmesh demo lecture into
# testdata/media/demo/: three H.264/AAC renditions (240p, 360p, 720p) of a
# 30 s test pattern with the rendition name and a running clock burnt in,
# plus asset.json. All renditions share a fixed 2 s GOP so their keyframes
# fall at identical times. Needs only ffmpeg (and ffprobe) and the DejaVu
# font from Debian's fonts-dejavu-core package.
#
# Usage: scripts/make-demo-media.sh [output-dir]
set -euo pipefail

readonly FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
readonly DURATION=30
readonly FPS=30
readonly GOP=60              # frames: one keyframe every 2 s at 30 fps
readonly MAX_TOTAL=8000000   # bytes, all files together

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/testdata/media/demo}"

die() {
	echo "make-demo-media: $*" >&2
	exit 1
}

command -v ffmpeg >/dev/null || die "ffmpeg not found (apt-get install ffmpeg)"
command -v ffprobe >/dev/null || die "ffprobe not found (apt-get install ffmpeg)"
[[ -r "$FONT" ]] || die "font $FONT missing (apt-get install fonts-dejavu-core)"

mkdir -p "$out"
tmp="$(mktemp -d "$out/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# encode NAME WIDTH HEIGHT VIDEO_KBPS
encode() {
	local name=$1 w=$2 h=$3 kbps=$4
	local size=$((h / 12))
	local vf
	vf="drawtext=fontfile=${FONT}:text='classmesh demo ${name}'"
	vf+=":fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6"
	vf+=":x=(w-tw)/2:y=h/8"
	vf+=",drawtext=fontfile=${FONT}:text='%{pts\\:hms}  frame %{n}'"
	vf+=":fontsize=${size}:fontcolor=yellow:box=1:boxcolor=black@0.6"
	vf+=":x=(w-tw)/2:y=h-h/8-th"
	echo "make-demo-media: encoding ${name} (${w}x${h}, ${kbps} kb/s)" >&2
	ffmpeg -hide_banner -loglevel error -nostdin -y \
		-filter_threads 1 \
		-f lavfi -i "testsrc2=size=${w}x${h}:rate=${FPS}:duration=${DURATION}" \
		-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${DURATION}" \
		-vf "$vf" \
		-map 0:v -map 1:a \
		-c:v libx264 -profile:v main -preset veryfast -pix_fmt yuv420p \
		-threads 1 -x264-params "sliced-threads=0:lookahead-threads=1" \
		-g "$GOP" -keyint_min "$GOP" -sc_threshold 0 \
		-b:v "${kbps}k" -maxrate "$((kbps * 3 / 2))k" -bufsize "$((kbps * 2))k" \
		-c:a aac -profile:a aac_low -b:a 64k -ar 48000 -ac 1 \
		-map_metadata -1 -movflags +faststart \
		-fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
		"$tmp/${name}.mp4"
}

encode 240p 426 240 200
encode 360p 640 360 400
encode 720p 1280 720 900

cat >"$tmp/asset.json" <<'JSON'
{
  "title": "Welcome to classmesh (demo lecture)",
  "description": "A 30 second test pattern in three renditions (240p, 360p, 720p) with the rendition name and a running clock burnt in and a 440 Hz beep every second. Keyframes every 2 s, aligned across renditions."
}
JSON

# keyframes NAME prints the presentation times of the video keyframes.
keyframes() {
	ffprobe -v error -select_streams v:0 -skip_frame nokey \
		-show_entries frame=pts_time -of default=noprint_wrappers=1:nokey=1 \
		"$tmp/$1.mp4" | grep -E '^[0-9]+(\.[0-9]+)?$'
}
ref="$(keyframes 240p)"
[[ -n "$ref" ]] || die "no keyframes found in 240p"
for r in 360p 720p; do
	[[ "$(keyframes "$r")" == "$ref" ]] || die "keyframes of $r differ from 240p"
done

total=$(cat "$tmp"/*.mp4 "$tmp/asset.json" | wc -c)
((total <= MAX_TOTAL)) || die "total size ${total} B exceeds ${MAX_TOTAL} B"

mv -f "$tmp"/240p.mp4 "$tmp"/360p.mp4 "$tmp"/720p.mp4 "$tmp"/asset.json "$out"/
echo "make-demo-media: wrote $out (${total} bytes; keyframes at: $(echo "$ref" | tr '\n' ' '| sed 's/ $//'))" >&2
