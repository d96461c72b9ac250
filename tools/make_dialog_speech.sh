#!/bin/sh
# Render the speech clips of the dialog-gate test set (tests/data/dialog/*.wav) with espeak-ng.
#
# Output: 16 kHz mono 16-bit PCM WAV, one sentence group per clip, several voices, languages
# and speaking rates. Tests read these committed files; they never need espeak-ng.
#
# Requirements (Debian 12): apt-get install -y espeak-ng ffmpeg
# Usage: tools/make_dialog_speech.sh [OUT_DIR=tests/data/dialog]
set -eu
out=${1:-tests/data/dialog}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | voice | words per minute | pitch | text
while IFS='|' read -r name voice wpm pitch text; do
    [ -z "$name" ] && continue
    espeak-ng -v "$voice" -s "$wpm" -p "$pitch" -w "$tmp/$name.wav" "$text"
    ffmpeg -nostdin -v error -y -i "$tmp/$name.wav" -ar 16000 -ac 1 -c:a pcm_s16le -map_metadata -1 \
        -fflags +bitexact -flags:a +bitexact "$out/$name.wav"
done <<'LIST'
en_us_m3|en-us+m3|160|45|Where were you last night? I waited by the river until the lights went out, and nobody came.
en_gb_f2|en-gb+f2|150|60|We have to leave before dawn. Pack only what you can carry, and do not tell your brother.
en_f4|en+f4|175|70|The numbers do not add up. Somebody moved the money twice, and they wanted us to notice.
en_us_m7|en-us+m7|140|35|Listen to me carefully. When the train stops, you walk, you do not run, and you do not look back.
en_sc_f3|en-gb-scotland+f3|165|55|It was raining for three days, and the road to the farm was nothing but mud and stones.
en_rp_m1|en-gb-x-rp+m1|185|50|Honestly, I thought the meeting would be short. Instead we argued for four hours about the budget.
es_m2|es+m2|160|50|No sabemos quien abrio la puerta, pero alguien estuvo aqui esta noche y se llevo las cartas.
fr_f1|fr+f1|160|65|Je ne veux plus attendre. Si tu pars demain, je viendrai avec toi, quoi qu'il arrive.
de_m4|de+m4|150|40|Das Licht im Flur war noch an, als ich nach Hause kam, und die Tuer stand weit offen.
LIST
ls -l "$out"
