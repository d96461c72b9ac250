#!/usr/bin/env bash
# Time `loudqc sync` on a long pair (issue 15: a 2-hour 5.1 / 48 kHz printmaster against a
# 2-hour stereo AAC proxy in under 20 s on 2 cores, memory flat in the length).
#
#   benches/sync_2h.sh [minutes=120] [drift_ppm=40] [offset_ms=-480] [runs=1]
#
# Makes the material with ffmpeg in a temp dir (removed at the end; with DIR=path it is made
# there, kept, and reused by later runs with the same arguments), builds the release binary (or
# takes BIN=path, e.g. a build of an earlier commit to compare), then runs `loudqc sync --format json` `runs` times
# under GNU time and prints wall time, CPU seconds (user + sys: what the run costs whatever else
# the machine does), peak RSS and what was read (offset, drift, status, findings).
#
# The printmaster (24-bit WAV, RF64 past 4 GiB) is not periodic anywhere, or the alignment would
# be ambiguous: L/R carry white noise under an envelope of random decaying hits (aevalsrc
# `random()` impulses, ~2 a second, through a one-pole 2 Hz low-pass: a percussive effects bed),
# C speech-like bursts (pink noise 200-3500 Hz under a thresholded 4 Hz random envelope: syllables
# and pauses), Ls/Rs pink ambience, LFE the hits under 80 Hz. The proxy is ffmpeg's own stereo
# downmix of it (`-ac 2`), played `drift_ppm` fast (sox `speed`: the audio then runs long
# against it by that much), then shifted so the audio is offset_ms late against it (delayed
# by -offset_ms when negative, its head cut by offset_ms when positive), then AAC-LC 128 kb/s in
# MP4.
#
# Needs ffmpeg, sox and /usr/bin/time. About 13 GB free in $TMPDIR for two hours (the WAV is 6.2 GB).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-120}
ppm=${2:-40}
offset_ms=${3:--480}
runs=${4:-1}
secs=$((minutes * 60))
if [ -n "${DIR:-}" ]; then
    dir=$DIR # kept, and its material reused when present (for repeated runs)
    mkdir -p "$dir"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/loudqc-sync2h.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
fi

if [ -n "${BIN:-}" ]; then
    bin=$(realpath "$BIN") # a given binary (e.g. one built from an earlier commit, to compare)
else
    cargo build --release --quiet --bin loudqc
    bin=$PWD/target/release/loudqc
fi

D=$secs
pm="$dir/printmaster_${minutes}min.wav"
proxy="$dir/proxy_${minutes}min_${ppm}ppm_${offset_ms}ms.mp4"
[ -s "$pm" ] || ffmpeg -hide_banner -loglevel error -nostdin -y -filter_complex "
aevalsrc='gt(random(0),0.99996)':s=48000:d=$D:c=mono,lowpass=f=2:p=1,volume=1000[hit];
anoisesrc=r=48000:c=white:seed=11:d=$D[hn];
[hn][hit]amultiply,asplit=3[hL][hR][hLFE];
anoisesrc=r=48000:c=white:seed=12:d=$D,lowpass=f=4,lowpass=f=4,volume=60[se];
anoisesrc=r=48000:c=pink:seed=13:d=$D,highpass=f=200,lowpass=f=3500,volume=2[sn];
[se]aeval='max(0,val(0)-0.2)':c=mono[sg];
[sn][sg]amultiply,asplit=3[C][dL][dR];
anoisesrc=r=48000:c=pink:seed=14:d=$D,volume=0.05[aL];
anoisesrc=r=48000:c=pink:seed=15:d=$D,volume=0.05[aR];
[hL][dL]amix=inputs=2:normalize=0,aformat=channel_layouts=mono[L];
[hR][dR]amix=inputs=2:normalize=0,aformat=channel_layouts=mono[R];
[C]aformat=channel_layouts=mono[C1];
[hLFE]lowpass=f=80,aformat=channel_layouts=mono[LFE];
[aL]aformat=channel_layouts=mono[Ls];
[aR]aformat=channel_layouts=mono[Rs];
[L][R][C1][LFE][Ls][Rs]join=inputs=6:channel_layout=5.1[out]" \
    -map "[out]" -c:a pcm_s24le -rf64 auto -f wav "$pm.part"
[ -s "$pm" ] || mv "$pm.part" "$pm"

speed=$(python3 -c "print(1 + $ppm / 1e6)")
if [ "$offset_ms" -le 0 ]; then
    shift_filter="adelay=$((-offset_ms)):all=1"
else
    shift_filter="atrim=start=$(python3 -c "print($offset_ms / 1000)"),asetpts=PTS-STARTPTS"
fi
# ffmpeg's stereo downmix → sox `speed` (any factor; ffmpeg's asetrate takes whole hertz only,
# 1.92 Hz is 40 ppm) → shift, AAC.
if [ ! -s "$proxy" ]; then
    ffmpeg -hide_banner -loglevel error -nostdin -i "$pm" -ac 2 -f f32le - |
        sox -t f32 -r 48000 -c 2 - -t f32 - speed "$speed" |
        ffmpeg -hide_banner -loglevel error -nostdin -y -f f32le -ar 48000 -ac 2 -i - \
            -af "$shift_filter" -c:a aac -b:a 128k "$proxy.part.mp4"
    mv "$proxy.part.mp4" "$proxy"
fi
ls -l "$dir"
cat "$pm" "$proxy" >/dev/null # warm the page cache

echo "planted: offset $offset_ms ms (positive: audio late), drift $(python3 -c "print(round($ppm / (1 + $ppm / 1e6), 4))") ppm (audio runs long)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" \
        "$bin" sync --reference "$proxy" --format json "$pm" \
        >"$dir/out.json" || true
    # The last line (GNU time first says "Command exited with non-zero status 1" on a FAIL).
    read -r wall user sys rss < <(tail -n 1 "$dir/time.txt")
    python3 - "$dir/out.json" "$wall" "$user" "$sys" "$rss" "$minutes" "$i" <<'EOF'
import json, sys
rec = json.loads(open(sys.argv[1]).readline())
wall, user, sysc, rss, minutes, run = sys.argv[2:]
s = rec["sync"]
cpu = float(user) + float(sysc)
print(f"run {run}: {minutes} min pair: wall {float(wall):.2f} s, CPU {cpu:.2f} s "
      f"(user {user} sys {sysc}), peak RSS {int(rss) / 1024:.1f} MiB")
off = s.get("offset_s")
off = "none" if off is None else f"{off * 1000:.3f} ms"
print(f"  read: status {s['status']}, offset {off}, "
      f"drift {s.get('drift_ppm')} ppm, confidence {s['confidence']:.3f}, "
      f"sections {len(s['sections'])}, findings {[f['code'] for f in rec['findings']]}")
EOF
done
