#!/usr/bin/env bash
# Issue 16 bench: decoding a QuickTime PCM file costs about what the same audio as WAV does
# (target: within 20 %). Makes a deterministic 5.1 programme (gen_program), copies its audio
# into a .mov with ffmpeg (pcm_s24le, no re-encoding), then times `loudqc check --no-dialog`
# on both in alternating rounds and prints the CPU seconds (user + system, GNU time) of each
# run, the medians, the ratio, and both readings (which must agree).
#
#   benches/mov_vs_wav.sh [minutes=10] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
runs=${2:-3}
dir=${TMPDIR:-/tmp}/loudqc-compare
mkdir -p "$dir"
wav="$dir/programme_v2_${minutes}min_6ch_48000_24.wav"
mov="$dir/programme_v2_${minutes}min_6ch_48000_24.mov"
cargo build --release --quiet --bin loudqc --example gen_program
[ -f "$wav" ] || target/release/examples/gen_program "$wav" "$minutes" 6 48000 24
[ -f "$mov" ] || ffmpeg -nostdin -v error -y -i "$wav" -c:a pcm_s24le "$mov"
cat "$wav" "$mov" >/dev/null # warm the page cache
declare -A cpu
for i in $(seq "$runs"); do
    for f in "$wav" "$mov"; do
        t=$( { /usr/bin/time -f '%U %S' target/release/loudqc check --no-dialog --format json \
            "$f" >"$dir/out.json" || true; } 2>&1 | tail -n 1)
        s=$(awk '{printf "%.2f", $1 + $2}' <<<"$t")
        lufs=$(python3 -c "import json;print(json.loads(open('$dir/out.json').readline())['loudness']['integrated_lufs'])")
        ext=${f##*.}
        cpu[$ext]="${cpu[$ext]:-} $s"
        echo "run $i $ext: $s CPU-s, integrated $lufs LUFS"
    done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
w=$(median "${cpu[wav]}")
m=$(median "${cpu[mov]}")
echo "median CPU-s: wav $w, mov $m, mov/wav $(awk -v m="$m" -v w="$w" 'BEGIN {printf "%.3f", m / w}')"
