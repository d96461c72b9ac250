#!/usr/bin/env bash
# Time `loudqc check` (the default, speech gate on), `loudqc check --no-dialog` and ffmpeg's
# ebur128 filter (and libebur128's loudgain CLI, if installed) on the same deterministic file, in
# one run, and print the README table: × realtime, speed ratio against ffmpeg, CPU seconds, peak RSS.
#
#   benches/compare.sh [minutes=10] [channels=6] [rate=48000] [bits=24] [runs=5]
#
# Needs ffmpeg (apt-get install ffmpeg) and GNU time (/usr/bin/time). The tools run in alternating
# rounds (loudqc, loudqc --no-dialog, ffmpeg, loudqc, ...) on a warm page cache, so a burst of load
# from elsewhere hits all of them alike; each figure is the median over `runs` rounds. CPU seconds
# are user + system time (what the run costs whatever else the machine does); wall time and
# × realtime need a quiet machine. Readings are printed so the numbers can be seen to agree.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
channels=${2:-6}
rate=${3:-48000}
bits=${4:-24}
runs=${5:-5}
dir=${TMPDIR:-/tmp}/loudqc-compare
mkdir -p "$dir"
file="$dir/programme_v2_${minutes}min_${channels}ch_${rate}_${bits}.wav"

cargo build --release --quiet --bin loudqc --example gen_program
[ -f "$file" ] || target/release/examples/gen_program "$file" "$minutes" "$channels" "$rate" "$bits"
cat "$file" >/dev/null # warm the page cache
duration=$(python3 -c "print($minutes*60)")

# The tools, in table order: name, then the command.
names=(loudqc loudqc_no_dialog)
cmd_loudqc=(target/release/loudqc check "$file")
cmd_loudqc_no_dialog=(target/release/loudqc check --no-dialog "$file")
if command -v ffmpeg >/dev/null; then
    names+=(ffmpeg)
    cmd_ffmpeg=(ffmpeg -hide_banner -nostats -nostdin -i "$file" -af ebur128=peak=true -f null -)
fi
if command -v loudgain >/dev/null; then
    names+=(loudgain)
    cmd_loudgain=(loudgain -k "$file")
fi

rm -f "$dir"/*.times
for _ in $(seq "$runs"); do
    for name in "${names[@]}"; do
        declare -n cmd="cmd_$name"
        # wall s, user s, sys s, max RSS KiB
        /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "${cmd[@]}" \
            >"$dir/$name.out" 2>"$dir/$name.err" || true
        tail -n 1 "$dir/time.txt" >>"$dir/$name.times"
        unset -n cmd
    done
done

# median FILE COLUMN-EXPRESSION
median() {
    awk "{print $2}" "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ffmpeg_wall=""
[ -f "$dir/ffmpeg.times" ] && ffmpeg_wall=$(median "$dir/ffmpeg.times" '$1')

label() {
    case $1 in
    loudqc) echo '`loudqc check` (default: streaming profile, speech gate on)' ;;
    loudqc_no_dialog) echo '`loudqc check --no-dialog` (I, LRA, max M/S, per-channel true peak, events)' ;;
    ffmpeg) echo '`ffmpeg -af ebur128=peak=true`' ;;
    loudgain) echo '`loudgain -k`' ;;
    esac
}

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
echo "file: $file (${minutes} min, ${channels} ch, ${rate} Hz, ${bits}-bit), median of $runs alternating rounds"
echo "machine: $(nproc) cores, ${cpu_model}, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "| command | wall | × realtime | vs ffmpeg | CPU s | peak RSS |"
echo "|---|---|---|---|---|---|"
for name in "${names[@]}"; do
    t="$dir/$name.times"
    wall=$(median "$t" '$1')
    cpu=$(median "$t" '$2 + $3')
    kb=$(sort -g -k4 "$t" | tail -n 1 | awk '{print $4}')
    awk -v l="$(label "$name")" -v w="$wall" -v c="$cpu" -v k="$kb" -v d="$duration" \
        -v f="$ffmpeg_wall" 'BEGIN {
            ratio = (f == "") ? "n/a" : (f / w >= 1 ? sprintf("%.1f× faster", f / w) : sprintf("%.1f× slower", w / f));
            if (f != "" && f == w) ratio = "1×";
            printf "| %s | %.2f s | %.0f× | %s | %.2f | %.1f MiB |\n", l, w, d / w, ratio, c, k / 1024
        }'
done
echo
echo "readings:"
grep -E "integrated|dialog|true " "$dir/loudqc.out" | sed 's/^/  loudqc: /' || true
[ -f "$dir/ffmpeg.err" ] && grep -E "^\s+(I:|LRA:|Peak:)" "$dir/ffmpeg.err" | sed 's/^/  ffmpeg: /'
exit 0
