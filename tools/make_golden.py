#!/usr/bin/env python3
"""Produce golden Silero VAD v5 outputs with ONNX Runtime for the Rust port's tests.

Usage:
    espeak-ng -w /tmp/speech.wav "<sentences>"         # see tests/data/README.md
    python tools/make_golden.py silero_vad.onnx /tmp/speech.wav tests/data

Writes (little-endian):
    golden_audio_i16.bin   16 kHz mono int16 PCM, a whole number of 512-sample chunks
    golden_probs_f32.bin   one f32 speech probability per 512-sample chunk

The model is driven exactly like silero-vad's `OnnxWrapper.__call__` (5.1.2): the input is the
previous chunk's last 64 samples (zeros at the start) followed by the 512 new samples (576 in
total), `state` (2, 1, 128) starts at zero and is replaced by `stateN` after every call.
Samples are fed to the model as int16 / 32768.
"""
import sys
import wave

import numpy as np
import onnxruntime as ort

SR = 16000
CHUNK = 512
CONTEXT = 64
N_CHUNKS = 256  # 8.192 s -> 262 KB of int16 audio


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        sr = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    return x, sr


def resample_fft(x, sr_in, sr_out):
    """Band-limited resampling by zero-padding/truncating the spectrum (deterministic)."""
    n_out = int(round(len(x) * sr_out / sr_in))
    spec = np.fft.rfft(x)
    keep = n_out // 2 + 1
    spec_out = np.zeros(keep, dtype=complex)
    m = min(keep, len(spec))
    spec_out[:m] = spec[:m]
    return np.fft.irfft(spec_out, n_out) * (n_out / len(x))


def synth_music_and_noise(n):
    """Deterministic music-like tones (a few harmonic notes with decay) then noise."""
    t = np.arange(n) / SR
    out = np.zeros(n)
    notes = [220.0, 277.18, 329.63, 440.0, 392.0, 329.63]
    half = n * 2 // 3
    seg = half // len(notes)
    for i, f in enumerate(notes):
        s = slice(i * seg, (i + 1) * seg)
        tt = t[s] - t[s][0]
        env = np.exp(-3.0 * tt)
        tone = sum(np.sin(2 * np.pi * f * h * tt) / h for h in range(1, 6))
        out[s] = 0.15 * env * tone
    rng = np.random.default_rng(12345)
    out[half:] = 0.05 * rng.standard_normal(n - half)
    return out


def main():
    model, wav, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    speech, sr = read_wav(wav)
    speech = resample_fft(speech, sr, SR)
    total = N_CHUNKS * CHUNK
    n_speech = min(len(speech), total * 5 // 8)
    sig = np.zeros(total)
    sig[:n_speech] = speech[:n_speech]
    gap = SR // 4  # 250 ms of digital silence between speech and music
    sig[n_speech + gap:] = synth_music_and_noise(total - n_speech - gap)
    pcm = np.clip(np.round(sig * 32767.0), -32768, 32767).astype("<i2")

    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = pcm.astype(np.float32) / 32768.0
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, CONTEXT), dtype=np.float32)
    probs = []
    for i in range(N_CHUNKS):
        chunk = x[i * CHUNK:(i + 1) * CHUNK][None, :]
        inp = np.concatenate([context, chunk], axis=1)
        out, state = sess.run(None, {"input": inp, "state": state, "sr": np.array(SR, dtype=np.int64)})
        probs.append(float(out[0, 0]))
        context = inp[:, -CONTEXT:]
    probs = np.array(probs, dtype="<f4")
    pcm.tofile(f"{outdir}/golden_audio_i16.bin")
    probs.tofile(f"{outdir}/golden_probs_f32.bin")
    print(f"speech chunks: {n_speech / CHUNK:.1f}, probs>0.5: {(probs > 0.5).sum()}/{N_CHUNKS}")
    print("probs:", np.array2string(probs, precision=2, max_line_width=200))


if __name__ == "__main__":
    main()
