#!/usr/bin/env bash
# Regenerates the speech fixtures of the service tests (test/fixtures/speech/): short English
# sentences spoken by flite's `slt` voice, converted by sox to 16 kHz mono 16-bit WAV, plus
# fixtures.json listing {file, text}. PocketSphinx transcribes slt speech nearly exactly, so the
# tests can assert on text (ENGINES.md). Needs the Debian packages flite and sox.
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures/speech
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sentences=(
  "where is the train station"
  "i would like a cup of coffee"
  "how much does this ticket cost"
  "the weather is very nice today"
  "please call a doctor"
  "can you help me find my bag"
)

json='['
i=0
for text in "${sentences[@]}"; do
  i=$((i + 1))
  name=$(printf '%02d-%s.wav' "$i" "$(echo "$text" | cut -d' ' -f1-3 | tr ' ' '-')")
  flite -voice slt -t "$text" -o "$tmp/raw.wav"
  sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$out/$name"
  [ "$i" -gt 1 ] && json+=','
  json+=$(printf '\n  {"file": "%s", "text": "%s"}' "$name" "$text")
done
json+=$'\n]\n'
printf '%s' "$json" > "$out/fixtures.json"
echo "wrote $i fixtures to $out"
