#!/usr/bin/env bash
# Time `loudqc check` against ffmpeg's ebur128 filter (and libebur128's loudgain CLI, if
# installed) on the same deterministic file, in one run: ×realtime, ratio, peak RSS.
#
#   benches/compare.sh [minutes=10] [channels=6] [rate=48000] [bits=24] [runs=5]
#
# Needs ffmpeg (apt-get install ffmpeg) and GNU time (/usr/bin/time). Each tool runs `runs`
# times on a warm page cache; the median wall time is reported. Readings are printed so the
# numbers can be seen to agree.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
channels=${2:-6}
rate=${3:-48000}
bits=${4:-24}
runs=${5:-5}
dir=${TMPDIR:-/tmp}/loudqc-compare
mkdir -p "$dir"
file="$dir/programme_${minutes}min_${channels}ch_${rate}_${bits}.wav"

cargo build --release --quiet --bin loudqc --example gen_program
[ -f "$file" ] || target/release/examples/gen_program "$file" "$minutes" "$channels" "$rate" "$bits"
cat "$file" >/dev/null # warm the page cache
duration=$(python3 -c "print($minutes*60)")

# run NAME CMD... : median wall seconds and max RSS over $runs runs
run() {
    local name=$1
    shift
    local walls=() rss=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || true
        read -r wall kb < <(tail -n 1 "$dir/time.txt")
        walls+=("$wall")
        ((kb > rss)) && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%s %s %s\n' "$name" "$median" "$rss" >>"$dir/results.txt"
}

rm -f "$dir/results.txt"
# Core measurements (I, LRA, max M/S, per-channel true peak, events) — issue 3's comparison —
# then the default check, which adds the dialog gate (speech detection on the dialogue channels).
run loudqc target/release/loudqc check --no-dialog "$file"
run loudqc+dialog target/release/loudqc check "$file"
if command -v ffmpeg >/dev/null; then
    run ffmpeg ffmpeg -hide_banner -nostats -nostdin -i "$file" -af ebur128=peak=true -f null -
fi
if command -v loudgain >/dev/null; then
    run loudgain loudgain -k "$file"
fi

echo "file: $file (${minutes} min, ${channels} ch, ${rate} Hz, ${bits}-bit), median of $runs runs"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-14s %10s %12s %10s %12s\n' tool wall_s x_realtime vs_loudqc peak_rss_MiB
base=$(awk '$1=="loudqc"{print $2}' "$dir/results.txt")
while read -r name wall kb; do
    awk -v n="$name" -v w="$wall" -v k="$kb" -v d="$duration" -v b="$base" \
        'BEGIN {printf "%-14s %10.2f %12.0f %9.1fx %12.1f\n", n, w, d/w, w/b, k/1024}'
done <"$dir/results.txt"
echo
echo "readings:"
grep -E "integrated|true " "$dir/loudqc.out" | sed 's/^/  loudqc: /'
[ -f "$dir/ffmpeg.err" ] && grep -E "^\s+(I:|LRA:|Peak:)" "$dir/ffmpeg.err" | sed 's/^/  ffmpeg: /'
exit 0
