#!/bin/sh
# Regenerate the committed container fixtures of tests/it/containers.rs (issue 16) with ffmpeg
# (tested with ffmpeg 5.1 / Lavf59) and sox. Every file holds the same 0.8 s 5.1 programme (or
# a downmix/extract of it) at 8 kHz, so each is < 100 KB; tests/fixtures/README.md lists them.
#
#   tools/make_container_fixtures.sh [OUT_DIR]   (default tests/fixtures/containers)
set -eu
out=${1:-tests/fixtures/containers}
mkdir -p "$out"
ff="ffmpeg -nostdin -v error -y -bitexact"
# 5.1 at 8 kHz: a different sine per channel (LFE 60 Hz), ffmpeg's sine source (amplitude 1/8).
src="sine=f=997:r=8000:d=0.8"
$ff -f lavfi -i "$src" -f lavfi -i "sine=f=500:r=8000:d=0.8" -f lavfi -i "sine=f=1500:r=8000:d=0.8" \
    -f lavfi -i "sine=f=60:r=8000:d=0.8" -f lavfi -i "sine=f=300:r=8000:d=0.8" \
    -f lavfi -i "sine=f=2000:r=8000:d=0.8" \
    -filter_complex "[0][1][2][3][4][5]join=inputs=6:channel_layout=5.1[o]" -map "[o]" \
    -c:a pcm_s16le "$out/ref-51-s16.wav"
ref="$out/ref-51-s16.wav"
# Wave64 (Sony), 5.1 and stereo.
$ff -i "$ref" -c:a pcm_s16le -f w64 "$out/w64-51-s16.w64"
$ff -i "$ref" -ac 2 -c:a pcm_s24le -f w64 "$out/w64-stereo-s24.w64"
$ff -i "$ref" -ac 2 -c:a pcm_s24le "$out/ref-stereo-s24.wav"
# WAV / RF64 / Wave64 written to a pipe: unset sizes (0xFFFFFFFF, 0 in ds64, i64::MAX).
$ff -i "$ref" -c:a pcm_s16le -f wav - | cat > "$out/wav-pipe-ffmpeg.wav"
$ff -i "$ref" -c:a pcm_s16le -rf64 always -f wav - | cat > "$out/rf64-pipe-ffmpeg.wav"
$ff -i "$ref" -c:a pcm_s16le -f w64 - | cat > "$out/w64-pipe-ffmpeg.w64"
# sox writes correct sizes when it knows the length; from raw samples on a pipe it does not.
$ff -i "$ref" -f s16le - | sox -t raw -r 8000 -e signed -b 16 -c 6 - -t wav - 2>/dev/null \
    | cat > "$out/wav-pipe-sox.wav"
# QuickTime PCM: 5.1 little- and big-endian integer, float; 5.1 + video.
$ff -i "$ref" -c:a pcm_s16le "$out/mov-51-s16le.mov"
$ff -i "$ref" -t 0.5 -c:a pcm_s24be "$out/mov-51-s24be.mov"
# (from the stereo WAV: ffmpeg's 5.1 → stereo downmix is not normalised for float output)
$ff -i "$out/ref-stereo-s24.wav" -c:a pcm_f32be "$out/mov-stereo-f32be.mov"
# ALAC in QuickTime, stereo 24-bit.
$ff -i "$out/ref-stereo-s24.wav" -c:a alac "$out/mov-stereo-alac.mov"
# Six mono PCM tracks (L R C LFE Ls Rs) plus a tiny video track.
$ff -f lavfi -i "color=s=16x16:r=24:d=0.8" -i "$ref" \
    -filter_complex "[1]channelsplit=channel_layout=5.1[L][R][C][LFE][Ls][Rs]" \
    -map 0:v -map "[L]" -map "[R]" -map "[C]" -map "[LFE]" -map "[Ls]" -map "[Rs]" \
    -c:v mpeg4 -c:a pcm_s16le "$out/mov-6mono-video.mov"
# Two stereo tracks that are not one programme (stereo mix + a 5.1 downmix at -6 dB), Matroska.
$ff -i "$ref" -i "$ref" -filter_complex "[0]pan=stereo|c0=c0|c1=c1[a];[1]pan=stereo|c0=0.5*c2|c1=0.5*c2[b]" \
    -map "[a]" -map "[b]" -metadata:s:a:0 language=eng -metadata:s:a:0 title=Stereo \
    -metadata:s:a:1 language=fra -metadata:s:a:1 title=Centre -c:a pcm_s16le \
    "$out/mka-two-stereo.mka"
# AAC-LC stereo in MP4 at 48 kHz, 1.000 s: the edit list drops 1024 priming frames and the
# padding (ffmpeg's native encoder).
$ff -f lavfi -i "sine=f=997:r=48000:d=1" -ac 2 -c:a aac -b:a 96k "$out/m4a-aac-stereo.m4a"
ls -l "$out"
# CAF as ffmpeg writes it: ALAC (its packet table counts the short last packet as full), and
# PCM written to a pipe (data chunk size -1 = to the end of the file).
$ff -i "$out/ref-stereo-s24.wav" -c:a alac "$out/caf-stereo-alac.caf"
$ff -i "$out/ref-stereo-s24.wav" -c:a pcm_s24le -f caf - | cat > "$out/caf-pipe-s24.caf"
# A leading empty edit: the audio starts 0.25 s into the presentation (elst: 250 ms media_time
# -1, then the 0.8 s of audio). ffmpeg's timeline: `ffmpeg -copyts -i F -af
# aresample=async=1:first_pts=0 out.wav` gives 2000 frames of silence, then the audio.
$ff -itsoffset 0.25 -i "$out/ref-stereo-s24.wav" -c:a pcm_s24le "$out/mov-stereo-delay250.mov"
# An edit that starts 100 ms into the media (elst media_time 800, 700 ms long): what ffmpeg
# writes for a negative start; ffmpeg decodes it as the reference from frame 800 on.
$ff -itsoffset -0.1 -i "$out/ref-stereo-s24.wav" -c:a pcm_s24le "$out/mov-stereo-edit800.mov"
# Lossy codecs Symphonia has no decoder for (read with `--features ffmpeg`): 1 s of 5.1 at
# 48 kHz (sines, pink noise on C and Rs; the same command is in tests/it/containers.rs).
$ff -f lavfi -i "sine=f=997:r=48000:d=1" -f lavfi -i "sine=f=500:r=48000:d=1" \
    -f lavfi -i "anoisesrc=c=pink:r=48000:d=1:a=0.1:seed=1" -f lavfi -i "sine=f=60:r=48000:d=1" \
    -f lavfi -i "sine=f=300:r=48000:d=1" -f lavfi -i "anoisesrc=c=pink:r=48000:d=1:a=0.1:seed=2" \
    -filter_complex "[0][1][2][3][4][5]join=inputs=6:channel_layout=5.1[o]" -map "[o]" \
    -c:a pcm_s16le "$out/tmp-51-48k.wav"
$ff -i "$out/tmp-51-48k.wav" -c:a ac3 -b:a 640k "$out/ac3-51.ac3"
$ff -i "$out/tmp-51-48k.wav" -c:a eac3 -b:a 384k "$out/mp4-51-eac3.mp4"
$ff -i "$out/tmp-51-48k.wav" -c:a aac -b:a 256k "$out/m4a-51-aac.m4a"
$ff -i "$out/tmp-51-48k.wav" -c:a libopus -b:a 256k "$out/opus-51.opus"
$ff -i "$out/tmp-51-48k.wav" -ac 2 -c:a libopus -b:a 128k "$out/mkv-stereo-opus.mkv"
rm "$out/tmp-51-48k.wav"
