#!/usr/bin/env bash
# loudqc's Python package against pyloudnorm on a 1-hour 5.1 programme and its front pair
# (README "Python"). Wall time, CPU seconds and peak memory from /usr/bin/time -v; one run each.
#
#   benches/pyloudnorm.sh [WORKDIR]     (default /tmp/loudqc-pyloudnorm; needs ~3 GB there)
#
# The programme: one minute of six independent noise channels (pink, brown on the LFE) with a
# slow level swing, made by ffmpeg and repeated 60 times (concat, stream copy) to one hour of
# 48 kHz 16-bit WAV; the stereo file is its L and R. A venv under target/ gets pyloudnorm,
# soundfile and the loudqc package built in release (`pip install ./python`).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/loudqc-pyloudnorm}
mkdir -p "$work"
venv="$PWD/target/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q pyloudnorm soundfile numpy
"$venv/bin/python" -c "import loudqc" 2>/dev/null || "$venv/bin/pip" install -q ./python

if [ ! -s "$work/hour51.wav" ]; then
    ffmpeg -v error -y \
        -f lavfi -i "anoisesrc=c=pink:a=0.2:d=60:r=48000:s=1" \
        -f lavfi -i "anoisesrc=c=pink:a=0.2:d=60:r=48000:s=2" \
        -f lavfi -i "anoisesrc=c=pink:a=0.25:d=60:r=48000:s=3" \
        -f lavfi -i "anoisesrc=c=brown:a=0.1:d=60:r=48000:s=4" \
        -f lavfi -i "anoisesrc=c=pink:a=0.1:d=60:r=48000:s=5" \
        -f lavfi -i "anoisesrc=c=pink:a=0.1:d=60:r=48000:s=6" \
        -filter_complex "[0][1][2][3][4][5]amerge=inputs=6,volume='0.6+0.4*sin(2*PI*t/37)':eval=frame[a]" \
        -map "[a]" -channel_layout 5.1 -c:a pcm_s16le "$work/minute51.wav"
    for _ in $(seq 60); do echo "file '$work/minute51.wav'"; done > "$work/list.txt"
    ffmpeg -v error -y -f concat -safe 0 -i "$work/list.txt" -c copy "$work/hour51.wav"
    ffmpeg -v error -y -i "$work/hour51.wav" -af "pan=stereo|c0=c0|c1=c1" -c:a pcm_s16le \
        "$work/hour20.wav"
fi

cat > "$work/run.py" <<'PY'
import sys, time
import numpy as np
what, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if what == "pyloudnorm":
    import pyloudnorm, soundfile
    data, rate = soundfile.read(path)
    try:
        print("integrated", pyloudnorm.Meter(rate).integrated_loudness(data))
    except ValueError as e:
        print("pyloudnorm refuses:", e)
elif what == "pyloudnorm-no-lfe":  # 5.1 as pyloudnorm allows: L R C Ls Rs (BS.1770 drops LFE)
    import pyloudnorm, soundfile
    data, rate = soundfile.read(path)
    print("integrated", pyloudnorm.Meter(rate).integrated_loudness(data[:, [0, 1, 2, 4, 5]]))
elif what == "loudqc-meter":  # the same in-memory array as pyloudnorm, pushed to loudqc.Meter
    import loudqc, soundfile
    data, rate = soundfile.read(path)
    m = loudqc.Meter(rate, data.shape[1])
    m.push(data)
    r = m.finish()
    print("integrated", r["integrated_lufs"], "true peak", r["true_peak_dbtp"])
elif what == "loudqc-check":  # the file, streamed: full QC record (speech gate, integrity, ...)
    import loudqc
    r = loudqc.check(path)
    print("integrated", r["loudness"]["integrated_lufs"], "verdict", r["verdict"])
elif what == "loudqc-check-meter-only":
    import loudqc
    r = loudqc.check(path, dialog=False, integrity=False)
    print("integrated", r["loudness"]["integrated_lufs"], "verdict", r["verdict"])
print(f"wall {time.perf_counter() - t:.1f} s")
PY

for f in hour20 hour51; do
    for what in pyloudnorm pyloudnorm-no-lfe loudqc-meter loudqc-check-meter-only loudqc-check; do
        [ "$f" = hour20 ] && [ "$what" = pyloudnorm-no-lfe ] && continue
        echo "== $f $what"
        /usr/bin/time -v "$venv/bin/python" "$work/run.py" "$what" "$work/$f.wav" 2>"$work/time.txt" | tail -2
        grep -E "Elapsed|User time|System time|Maximum resident" "$work/time.txt"
    done
done
