#!/usr/bin/env bash
# Installs what the tests need when it is missing: ffmpeg/ffprobe (real
# clients and test media), Debian's chromium (browser tests), nginx and wrk
# (benchmarks), fonts for the demo media script. Uses apt-get as root.
set -euo pipefail

need=()
command -v ffmpeg  >/dev/null || need+=(ffmpeg)
command -v ffprobe >/dev/null || need+=(ffmpeg)
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to apt-get install ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null
fi

echo "install-test-deps: ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3), $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?'), node $(node --version)"
