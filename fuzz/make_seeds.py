#!/usr/bin/env python3
"""Write the fuzz seed corpus: small valid WAV/BWF/RF64/BW64/FLAC/AIFF/CAF/Ogg files.

Needs `pip install soundfile numpy` (libsndfile writes the containers). The seeds are committed
in fuzz/seeds/, so this only runs when they change:  python3 fuzz/make_seeds.py

Seeds for `open_probe` and `analyze` are one selector byte (the extension hint) + the file;
seeds for `meter` are command streams (see fuzz_targets/meter.rs).
"""
import io
import os
import struct

import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))


def tone(rate, seconds, channels, level_db=-20.0):
    n = int(rate * seconds)
    t = np.arange(n) / rate
    a = 10 ** (level_db / 20)
    return np.stack([a * np.sin(2 * np.pi * (440 + 110 * c) * t) for c in range(channels)], axis=1)


def encode(fmt, subtype, rate, seconds, channels):
    b = io.BytesIO()
    sf.write(b, tone(rate, seconds, channels), rate, format=fmt, subtype=subtype)
    return b.getvalue()


def bwf(rate=8000, seconds=0.1):
    """A RIFF WAVE with a 602-byte bext chunk (EBU Tech 3285 v1) before fmt."""
    pcm = (tone(rate, seconds, 2) * 32767).astype("<i2").tobytes()
    bext = bytearray(602)
    bext[338:346] = struct.pack("<Q", 3600 * rate)
    fmt = struct.pack("<HHIIHH", 1, 2, rate, rate * 4, 4, 16)
    body = b"WAVE" + b"bext" + struct.pack("<I", len(bext)) + bext
    body += b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


FILES = {
    # (hint byte, bytes). Hints: 0 none, 1 wav, 2 flac, 3 aiff (analyze uses sel & 3).
    "wav_s16_stereo": (1, encode("WAV", "PCM_16", 8000, 0.5, 2)),
    "wav_s24_51_wavex": (1, encode("WAVEX", "PCM_24", 8000, 0.05, 6)),
    "wav_f32_mono": (1, encode("WAV", "FLOAT", 8000, 0.45, 1)),
    "wav_f64_mono": (0, encode("WAV", "DOUBLE", 8000, 0.05, 1)),
    "wav_u8_mono": (0, encode("WAV", "PCM_U8", 8000, 0.5, 1)),
    "wav_s32_stereo": (1, encode("WAV", "PCM_32", 8000, 0.05, 2)),
    "wav_ima_adpcm": (1, encode("WAV", "IMA_ADPCM", 8000, 0.2, 1)),
    "wav_ulaw": (0, encode("WAV", "ULAW", 8000, 0.2, 1)),
    "bwf_bext": (1, bwf()),
    "rf64_s24_stereo": (0, encode("RF64", "PCM_24", 8000, 0.1, 2)),
    "flac_s16_stereo": (2, encode("FLAC", "PCM_16", 8000, 0.5, 2)),
    "flac_s24_51": (2, encode("FLAC", "PCM_24", 48000, 0.05, 6)),
    "aiff_s16_stereo": (3, encode("AIFF", "PCM_16", 8000, 0.3, 2)),
    "aifc_float": (3, encode("AIFF", "FLOAT", 8000, 0.05, 1)),
    "caf_s16": (0, encode("CAF", "PCM_16", 8000, 0.1, 1)),
    "ogg_vorbis": (0, encode("OGG", "VORBIS", 8000, 0.5, 1)),
}
# BW64 (ITU-R BS.2088) is RF64 with another magic.
FILES["bw64_s24_stereo"] = (0, b"BW64" + FILES["rf64_s24_stereo"][1][4:])


def meter_seed(channels_byte, rate_sel, flags, blocks):
    out = bytearray([channels_byte, rate_sel, flags])
    for frames, interleaved, samples in blocks:
        out += struct.pack("<H", frames | (0x8000 if interleaved else 0))
        out += struct.pack("<%df" % len(samples), *samples)
    return bytes(out)


def main():
    for target in ("open_probe", "analyze"):
        d = os.path.join(HERE, "seeds", target)
        os.makedirs(d, exist_ok=True)
        for name, (hint, data) in FILES.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(bytes([hint]) + data)
    d = os.path.join(HERE, "seeds", "meter")
    os.makedirs(d, exist_ok=True)
    sine = [float(v) for v in tone(8000, 0.45, 1)[:, 0]]
    specials = [float("nan"), float("inf"), float("-inf"), 1e-42, -1e-45, 3.0e38, -3.0e38, 0.0]
    seeds = {
        "mono_sine_8k": meter_seed(0, 0, 0, [(len(sine), False, sine)]),
        "stereo_interleaved": meter_seed(1, 3, 4, [(400, True, sine[:800]), (7, True, sine[:14])]),
        "specials_51": meter_seed(5, 3, 0, [(8, False, (specials * 6)[:48]), (0, False, [])]),
        "many_channels": meter_seed(63, 7, 6, [(2, False, specials[:8] * 16)]),
        "masked_71": meter_seed(7, 4, 1, [(100, True, (sine * 2)[:800])]),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
