"""The Python package against the CLI (same records, bit for bit) and against itself."""

import json
import math
import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

import loudqc

ROOT = Path(__file__).resolve().parents[2]
RATE = 48_000


def cli():
    """The loudqc binary built by `cargo build` (LOUDQC_BIN overrides)."""
    exe = os.environ.get("LOUDQC_BIN") or shutil.which("loudqc")
    if not exe:
        for profile in ("debug", "release"):
            p = ROOT / "target" / profile / "loudqc"
            if p.exists():
                exe = str(p)
                break
    assert exe, "build the CLI first (cargo build) or set LOUDQC_BIN"
    return exe


def program(seconds=6.0, channels=2, seed=7):
    """Noise whose level steps every half second, int16 frames x channels."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    levels = np.repeat(rng.uniform(0.02, 0.3, size=int(seconds * 2) + 1), RATE // 2)[:n]
    x = rng.uniform(-1.0, 1.0, size=(n, channels)) * levels[:, None]
    return np.round(x * 32767).astype(np.int16)


def write_wav(path, pcm16):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm16.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.ascontiguousarray(pcm16).tobytes())


def cli_record(path, *flags):
    out = subprocess.run(
        [cli(), "check", "--format", "json", *flags, str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode in (0, 1, 2), out.stderr
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, out.stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    pcm = program()
    path = tmp_path_factory.mktemp("wav") / "stereo.wav"
    write_wav(path, pcm)
    return path, pcm


def test_check_equals_the_cli_record(stereo):
    path, _ = stereo
    got = loudqc.check(str(path))
    want = cli_record(path)
    assert got == want
    assert got["loudness"]["integrated_lufs"] is not None
    # Other profiles and options reach the engine as the flags do.
    assert loudqc.check(path, "ebu-r128", dialog=False) == cli_record(
        path, "--profile", "ebu-r128", "--no-dialog"
    )


def test_meter_equals_check_on_the_same_samples(stereo):
    path, pcm = stereo
    record = loudqc.check(path, dialog=False)["loudness"]
    m = loudqc.Meter(RATE, 2)
    for block in np.array_split(pcm, 37):
        m.push(np.ascontiguousarray(block))
    got = m.finish()
    assert got == record
    assert set(got) == set(record)


def test_int16_input_equals_float_input_scaled():
    pcm = program(seconds=5.0, channels=6, seed=3)
    readings = []
    for samples in (
        pcm,
        pcm.astype(np.float32) / 32768.0,
        pcm.astype(np.float64) / 32768.0,
        pcm.astype(np.int32) << 16,
    ):
        m = loudqc.Meter(RATE, 6, channel_map="L,R,C,LFE,Ls,Rs")
        m.push(samples)
        live = (m.momentary_lufs(), m.short_term_lufs(), m.integrated_lufs())
        readings.append((live, m.finish()))
    for r in readings[1:]:
        assert r == readings[0]


def test_live_getters():
    t = np.arange(4 * RATE) / RATE
    amp = 10 ** (-20 / 20)
    tone = (amp * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    m = loudqc.Meter(RATE, 1)
    assert m.momentary_lufs() is None
    m.push(tone)
    # A mono sine at -20 dBFS peak reads -23.01 LUFS (BS.1770 K-weighting is ~0 dB at 1 kHz).
    for v in (m.momentary_lufs(), m.short_term_lufs(), m.integrated_lufs()):
        assert v == pytest.approx(-23.0, abs=0.1)
    assert m.true_peak_dbtp(0) == pytest.approx(-20.0, abs=0.05)
    assert m.true_peak_dbtp(1) is None
    assert m.loudness_range_lu() == pytest.approx(0.0, abs=0.1)
    live = m.integrated_lufs()
    final = m.finish()
    assert final["integrated_lufs"] == pytest.approx(live, abs=1e-9)
    with pytest.raises(ValueError, match="finished"):
        m.integrated_lufs()


def test_bad_input_raises():
    m = loudqc.Meter(RATE, 2)
    with pytest.raises(ValueError, match="2 channels"):
        m.push(np.zeros((10, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="int8"):
        m.push(np.zeros((10, 2), dtype=np.int8))
    with pytest.raises(ValueError, match="C-contiguous"):
        m.push(np.zeros((2, 10), dtype=np.float32).T)
    with pytest.raises(ValueError):
        loudqc.Meter(0, 2)
    with pytest.raises(TypeError, match="unexpected option"):
        loudqc.check("x.wav", colour="red")


def test_errors_raise_with_the_cli_kind_and_message(tmp_path):
    missing = tmp_path / "missing.wav"
    want = cli_record(missing)["error"]
    with pytest.raises(loudqc.LoudqcError) as e:
        loudqc.check(missing)
    assert (e.value.kind, str(e.value)) == (want["kind"], want["message"])
    assert "missing.wav" in str(e.value)

    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunk")
    want = cli_record(junk)["error"]
    with pytest.raises(loudqc.LoudqcError) as e:
        loudqc.check(junk)
    assert (e.value.kind, str(e.value)) == (want["kind"], want["message"])


FIXTURES = ROOT / "tests" / "fixtures" / "containers"


@pytest.mark.parametrize("name", ["ref-51-s16.wav", "mov-51-s16le.mov", "w64-51-s16.w64"])
def test_check_equals_the_cli_record_on_files_ffmpeg_wrote(name):
    """5.1 files written by ffmpeg (tests/fixtures/README.md), with and without the speech gate."""
    path = FIXTURES / name
    got = loudqc.check(path)
    assert got == cli_record(path)
    assert got["schema_version"] == cli_record(path)["schema_version"]
    assert got["format"]["channels"] == 6
    assert loudqc.check(path, "ebu-r128", dialog=False, integrity=False) == cli_record(
        path, "--profile", "ebu-r128", "--no-dialog", "--no-integrity"
    )


def test_meter_equals_check_on_a_file_ffmpeg_wrote():
    path = FIXTURES / "ref-51-s16.wav"
    # WAVE_FORMAT_EXTENSIBLE (Python's wave module reads only plain PCM): walk the RIFF chunks.
    raw, pos, rate, pcm = path.read_bytes(), 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], int.from_bytes(raw[pos + 4 : pos + 8], "little")
        if cid == b"fmt ":
            assert int.from_bytes(raw[pos + 10 : pos + 12], "little") == 6
            assert int.from_bytes(raw[pos + 22 : pos + 24], "little") == 16
            rate = int.from_bytes(raw[pos + 12 : pos + 16], "little")
        elif cid == b"data":
            pcm = np.frombuffer(raw[pos + 8 : pos + 8 + size], dtype="<i2").reshape(-1, 6)
        pos += 8 + size + (size & 1)
    assert rate == 8000 and pcm.shape == (6400, 6)
    m = loudqc.Meter(rate, 6, channel_map="L,R,C,LFE,Ls,Rs")
    m.push(pcm)
    assert m.finish() == loudqc.check(path, dialog=False)["loudness"]


def test_spec_file_and_overrides_follow_the_cli(stereo, tmp_path):
    path, _ = stereo
    assert loudqc.check(path, target_lufs=-16.0, tolerance_lu=0.5) == cli_record(
        path, "--target-lufs", "-16", "--tolerance-lu", "0.5"
    )
    spec = tmp_path / "house.toml"
    spec.write_text(
        subprocess.run(
            [cli(), "spec", "show", "ebu-r128"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert loudqc.check(path, spec=spec) == cli_record(path, "--spec", str(spec))
    with pytest.raises(ValueError, match="not a profile"):
        loudqc.check(path, "no-such-profile")
