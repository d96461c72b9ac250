#!/usr/bin/env bash
# Issue 14 bench: what the channel-integrity scan adds to a `--no-dialog` check (target: at most
# 20 %). Makes the deterministic 5.1 programme (gen_program), then times `loudqc check
# --no-dialog` with and without `--no-integrity` in alternating rounds and prints the CPU
# seconds (user + system, GNU time) of each run, the medians and the ratio.
#
#   benches/integrity_cost.sh [minutes=10] [runs=7]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
runs=${2:-7}
dir=${TMPDIR:-/tmp}/loudqc-compare
mkdir -p "$dir"
wav="$dir/programme_v2_${minutes}min_6ch_48000_24.wav"
cargo build --release --quiet --bin loudqc --example gen_program
[ -f "$wav" ] || target/release/examples/gen_program "$wav" "$minutes" 6 48000 24
cat "$wav" >/dev/null # warm the page cache
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A cpu
for i in $(seq "$runs"); do
    for mode in without with; do
        flag=()
        [ "$mode" = without ] && flag=(--no-integrity)
        t=$( { /usr/bin/time -f '%U %S' target/release/loudqc check --no-dialog "${flag[@]}" \
            --format json "$wav" >/dev/null || true; } 2>&1 | tail -n 1)
        s=$(awk '{printf "%.2f", $1 + $2}' <<<"$t")
        cpu[$mode]="${cpu[$mode]:-} $s"
        echo "run $i $mode integrity: $s CPU-s"
    done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(median "${cpu[without]}")
b=$(median "${cpu[with]}")
echo "median CPU-s: --no-integrity $a, with the scan $b, cost +$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", (b / a - 1) * 100}') %"
