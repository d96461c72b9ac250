//! Hostile headers and samples (issue 8), through the library and the binary.
//!
//! Every damaged file must give a clear error that names the file and the problem, exit code 2
//! from the binary, no panic, and no allocation sized from the header: the binary runs every
//! case under a 1 GiB address-space limit (`ulimit -v`), so a buffer sized from a claimed
//! 2^32 channels or a 4 GiB chunk would abort it instead of exiting 2.
//!
//! The basic WAV cases (empty, text, data chunk past the end, 0 Hz, 4 GHz, 65535 plain-PCM
//! channels, unknown codec) are in `cli.rs`; this file adds WAVE_FORMAT_EXTENSIBLE, wrapping and
//! absurd chunk sizes, RF64 `ds64`, and the Symphonia paths (FLAC, AIFF, CAF).

use std::path::{Path, PathBuf};
use std::process::Output;

use loudqc::analyze::{check_path, AnalyzeOptions};
use loudqc::channels::ChannelMap;
use loudqc::decode::{open_path, open_reader, Limits};
use loudqc::meter::{Meter, MeterConfig};
use loudqc::report::Verdict;

use crate::cli::{code, stderr, stdout, tmp, write_wav};
use crate::support::*;

/// WAVE format tags (mmreg.h) and the KSDATAFORMAT sub-format GUID tail.
const PCM: u16 = 1;
const IMA_ADPCM: u16 = 0x11;
const MULAW: u16 = 7;
const EXTENSIBLE: u16 = 0xFFFE;
const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// A RIFF-style file: `magic` (RIFF/RF64), `WAVE`, then chunks of (id, size field, body). The size
/// field may lie about the body; a body of odd length gets its pad byte.
fn riff(magic: &[u8; 4], chunks: &[(&[u8; 4], u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, size, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let riff_size = if magic == b"RIFF" {
        body.len() as u32
    } else {
        u32::MAX
    };
    let mut v = magic.to_vec();
    v.extend_from_slice(&riff_size.to_le_bytes());
    v.extend_from_slice(&body);
    v
}

/// A 16-byte `fmt ` body. `block_align` None = channels × bits / 8.
fn fmt16(tag: u16, channels: u16, rate: u32, bits: u16, block_align: Option<u16>) -> Vec<u8> {
    let block = block_align.unwrap_or(channels.wrapping_mul(bits / 8));
    let mut v = Vec::new();
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v
}

/// A 40-byte WAVE_FORMAT_EXTENSIBLE `fmt ` body with `mask` and sub-format `sub_tag`.
fn fmt_ext(channels: u16, rate: u32, bits: u16, mask: u32, sub_tag: u16) -> Vec<u8> {
    let mut v = fmt16(EXTENSIBLE, channels, rate, bits, None);
    v.extend_from_slice(&22u16.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(&mask.to_le_bytes());
    v.extend_from_slice(&sub_tag.to_le_bytes());
    v.extend_from_slice(&GUID_TAIL);
    v
}

/// A 28-byte RF64 `ds64` body: RIFF size, data size, sample count, table length 0.
fn ds64(data_size: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&u64::MAX.to_le_bytes());
    v.extend_from_slice(&data_size.to_le_bytes());
    v.extend_from_slice(&0u64.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

/// IEEE 754 80-bit extended, big-endian (AIFF's COMM sample rate).
fn extended(x: f64) -> [u8; 10] {
    let mut b = [0u8; 10];
    if x == 0.0 {
        return b;
    }
    let e = x.log2().floor() as i32;
    let mantissa = (x / 2f64.powi(e) * 2f64.powi(63)) as u64;
    b[..2].copy_from_slice(&((16383 + e) as u16).to_be_bytes());
    b[2..].copy_from_slice(&mantissa.to_be_bytes());
    b
}

/// An AIFF of 16-bit samples: COMM says `channels`, `frames`, `rate_hz`; SSND holds `data`.
fn aiff(channels: i16, frames: u32, rate_hz: f64, data: &[u8]) -> Vec<u8> {
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&16i16.to_be_bytes());
    comm.extend_from_slice(&extended(rate_hz));
    let mut body = b"AIFF".to_vec();
    body.extend_from_slice(b"COMM");
    body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    body.extend_from_slice(&comm);
    body.extend_from_slice(b"SSND");
    body.extend_from_slice(&(8 + data.len() as u32).to_be_bytes());
    body.extend_from_slice(&[0u8; 8]);
    body.extend_from_slice(data);
    let mut v = b"FORM".to_vec();
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(&body);
    v
}

/// A CAF (Apple Core Audio Format) of big-endian 16-bit linear PCM.
fn caf(channels: u32, rate_hz: f64, data: &[u8]) -> Vec<u8> {
    let mut v = b"caff".to_vec();
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&0u16.to_be_bytes());
    v.extend_from_slice(b"desc");
    v.extend_from_slice(&32i64.to_be_bytes());
    v.extend_from_slice(&rate_hz.to_be_bytes());
    v.extend_from_slice(b"lpcm");
    v.extend_from_slice(&0u32.to_be_bytes()); // flags: big-endian integer
    v.extend_from_slice(&channels.wrapping_mul(2).to_be_bytes()); // bytes per packet
    v.extend_from_slice(&1u32.to_be_bytes()); // frames per packet
    v.extend_from_slice(&channels.to_be_bytes());
    v.extend_from_slice(&16u32.to_be_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(4 + data.len() as i64).to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes()); // edit count
    v.extend_from_slice(data);
    v
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hostile")
        .join(name)
}

/// The committed FLAC fixture: 0.5 s, 8 kHz, stereo, 16-bit, 4000 frames (see README).
fn flac_fixture() -> Vec<u8> {
    std::fs::read(fixture("tone-8k-stereo-s16.flac")).unwrap()
}

/// The FLAC fixture with STREAMINFO's 20-bit sample rate replaced (FLAC format §STREAMINFO).
fn flac_with_rate(rate_hz: u32) -> Vec<u8> {
    let mut v = flac_fixture();
    v[18] = (rate_hz >> 12) as u8;
    v[19] = (rate_hz >> 4) as u8;
    v[20] = (v[20] & 0x0f) | ((rate_hz & 0xf) as u8) << 4;
    v
}

/// 16-bit stereo PCM bytes of a −20 dBFS 1 kHz tone, `frames` long.
fn pcm16(frames: usize, channels: usize) -> Vec<u8> {
    let x = sine(8_000, 1000.0, -20.0, frames as f64 / 8_000.0);
    let mut v = Vec::new();
    for s in x {
        for _ in 0..channels {
            v.extend_from_slice(&((s * 32767.0) as i16).to_le_bytes());
        }
    }
    v
}

/// One hostile file: its name, bytes, the `error.kind` expected, and a phrase the message must
/// contain.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    kind: &'static str,
    needle: &'static str,
}

fn case(name: &'static str, bytes: Vec<u8>, kind: &'static str, needle: &'static str) -> Case {
    Case {
        name,
        bytes,
        kind,
        needle,
    }
}

fn cases() -> Vec<Case> {
    let tone = pcm16(800, 2);
    let flac = flac_fixture();
    vec![
        // WAVE_FORMAT_EXTENSIBLE: nChannels is 16-bit, the mask claims all 32 speakers.
        case(
            "wavex-65535-channels-full-mask.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 40, fmt_ext(65535, 48_000, 16, u32::MAX, PCM)),
                    (b"data", 400, vec![0; 400]),
                ],
            ),
            "invalid_input",
            "channel count: expected 1 to 64, found 65535",
        ),
        // The same through the compressed-codec path (µ-law goes to Symphonia).
        case(
            "wavex-mulaw-65535-channels.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 40, fmt_ext(65535, 8_000, 8, u32::MAX, MULAW)),
                    (b"data", 400, vec![0; 400]),
                ],
            ),
            "invalid_input",
            "channel count: expected 1 to 64, found 65535",
        ),
        // 40 channels with a one-speaker mask: Symphonia's mask fix-up would shift by 39.
        case(
            "wavex-mulaw-40-channels-1-bit-mask.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 40, fmt_ext(40, 8_000, 8, 0x4, MULAW)),
                    (b"data", 400, vec![0; 400]),
                ],
            ),
            "malformed",
            "channel mask 0x00000004 names 1 speakers for 40 channels",
        ),
        case(
            "wavex-0hz.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 40, fmt_ext(2, 0, 24, 0x3, PCM)),
                    (b"data", 600, vec![0; 600]),
                ],
            ),
            "invalid_input",
            "sample rate: expected 8000 Hz to 768000 Hz, found 0 Hz",
        ),
        case(
            "wavex-4ghz.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 40, fmt_ext(2, u32::MAX, 24, 0x3, PCM)),
                    (b"data", 600, vec![0; 600]),
                ],
            ),
            "invalid_input",
            "found 4294967295 Hz",
        ),
        case(
            "ima-adpcm-0hz.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(IMA_ADPCM, 1, 0, 4, Some(256))),
                    (b"data", 512, vec![0; 512]),
                ],
            ),
            "invalid_input",
            "found 0 Hz",
        ),
        // A 0-byte block: PCM whose block align says 0 bytes per frame.
        case(
            "pcm-block-align-0.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(PCM, 2, 48_000, 16, Some(0))),
                    (b"data", 400, vec![0; 400]),
                ],
            ),
            "malformed",
            "block align 0 does not match 2 channels of 16 bits",
        ),
        case(
            "pcm-0-bits.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(PCM, 2, 48_000, 0, Some(0))),
                    (b"data", 400, vec![0; 400]),
                ],
            ),
            "unsupported_codec",
            "PCM with 0 bits per sample",
        ),
        // IMA ADPCM with 0-byte blocks goes to Symphonia, which must refuse it too.
        case(
            "ima-adpcm-block-align-0.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(IMA_ADPCM, 1, 8_000, 4, Some(0))),
                    (b"data", 512, vec![0; 512]),
                ],
            ),
            "malformed",
            "malformed fmt_adpcm chunk",
        ),
        // A chunk whose size wraps a 32-bit offset: u32::MAX is odd, so size + pad = 2^32.
        case(
            "junk-size-u32-max.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"junk", u32::MAX, vec![0; 6]),
                    (b"data", tone.len() as u32, tone.clone()),
                ],
            ),
            "malformed",
            "chunk \"junk\" at offset 36 claims 4294967295 bytes",
        ),
        // 0xFFFFFFFF itself is the "unknown length" marker of a WAV written to a pipe, read to
        // the end of the file since issue 16 (tests/it/containers.rs); one less is a lie.
        case(
            "data-size-u32-max-minus-1.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", u32::MAX - 1, tone.clone()),
                ],
            ),
            "malformed",
            "data chunk claims 4294967294 bytes",
        ),
        // A fmt chunk claiming 4 GiB: refused before any buffer is sized from it.
        case(
            "fmt-4gib.wav",
            riff(
                b"RIFF",
                &[
                    (b"fmt ", 0xFFFF_FFF0, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", tone.len() as u32, tone.clone()),
                ],
            ),
            "malformed",
            "fmt chunk of 4294967280 bytes",
        ),
        case(
            "rf64-no-ds64.wav",
            riff(
                b"RF64",
                &[
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", u32::MAX, tone.clone()),
                ],
            ),
            "malformed",
            "no ds64 chunk precedes it",
        ),
        case(
            "rf64-ds64-data-u64-max.wav",
            riff(
                b"RF64",
                &[
                    (b"ds64", 28, ds64(u64::MAX)),
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", u32::MAX, tone.clone()),
                ],
            ),
            "malformed",
            "data chunk claims 18446744073709551615 bytes",
        ),
        case(
            "rf64-ds64-size-u32-max.wav",
            riff(
                b"RF64",
                &[
                    (b"ds64", u32::MAX, ds64(tone.len() as u64)),
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", u32::MAX, tone.clone()),
                ],
            ),
            "malformed",
            "ds64 chunk of 4294967295 bytes",
        ),
        case(
            "rf64-ds64-too-short.wav",
            riff(
                b"RF64",
                &[
                    (b"ds64", 8, vec![0; 8]),
                    (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                    (b"data", u32::MAX, tone.clone()),
                ],
            ),
            "malformed",
            "ds64 chunk of 8 bytes",
        ),
        // Symphonia paths: the limits hold there too.
        case(
            "caf-4294967295-channels.caf",
            caf(u32::MAX, 48_000.0, &tone),
            "invalid_input",
            "channel count: expected 1 to 64, found 4294967295",
        ),
        case(
            "caf-100-channels.caf",
            caf(100, 48_000.0, &pcm16(10, 100)),
            "invalid_input",
            "channel count: expected 1 to 64, found 100",
        ),
        case(
            "caf-0hz.caf",
            caf(2, 0.0, &tone),
            "invalid_input",
            "found 0 Hz",
        ),
        case(
            "caf-nan-hz.caf",
            caf(2, f64::NAN, &tone),
            "invalid_input",
            "found NaN Hz",
        ),
        case(
            "caf-4ghz.caf",
            caf(2, 4.0e9, &tone),
            "invalid_input",
            "found 4000000000 Hz",
        ),
        case(
            "aiff-1000-channels.aiff",
            aiff(1000, 1, 48_000.0, &[0; 2000]),
            "invalid_input",
            "channel count: expected 1 to 64, found 1000",
        ),
        case(
            "aiff-0hz.aiff",
            aiff(2, 800, 0.0, &tone),
            "malformed",
            "aiff: sample rate cannot be 0",
        ),
        case(
            "aiff-4ghz.aiff",
            aiff(2, 800, 4.0e9, &tone),
            "invalid_input",
            "found 4000000000 Hz",
        ),
        // An upload cut at 40 %: SSND claims more than the file holds.
        case(
            "aiff-truncated.aiff",
            aiff(2, 8_000, 8_000.0, &pcm16(8_000, 2))[..12_850].to_vec(),
            "malformed",
            "(truncated file)",
        ),
        case(
            "flac-truncated.flac",
            flac[..flac.len() * 6 / 10].to_vec(),
            "malformed",
            "of the 4000 its header declares (truncated file)",
        ),
        case(
            "flac-0hz.flac",
            flac_with_rate(0),
            "malformed",
            "flac: stream sample rate out of bounds",
        ),
        case(
            "flac-1mhz.flac",
            flac_with_rate(1_000_000),
            "malformed",
            "flac: stream sample rate out of bounds",
        ),
        // Legal FLAC (Symphonia takes it), below loudqc's floor.
        case(
            "flac-7khz.flac",
            std::fs::read(fixture("tone-7k-mono-s16.flac")).unwrap(),
            "invalid_input",
            "found 7000 Hz",
        ),
    ]
}

fn write_cases(dir: &Path) -> Vec<(PathBuf, Case)> {
    cases()
        .into_iter()
        .map(|c| {
            let p = dir.join(c.name);
            std::fs::write(&p, &c.bytes).unwrap();
            (p, c)
        })
        .collect()
}

/// `loudqc ARGS` under a 1 GiB address-space limit.
fn run_bounded(args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_loudqc"))
        .args(args);
    cmd.output().expect("run loudqc under sh")
}

#[test]
fn hostile_headers_are_clear_errors_through_the_library() {
    let d = tmp();
    for (path, c) in write_cases(d.path()) {
        let err = match open_path(&path) {
            Err(e) => e,
            Ok(src) => match loudqc::analyze::analyze_source(src, &AnalyzeOptions::default()) {
                Err(e) => e.with_path(&path),
                Ok(a) => panic!("{}: analysed as {:?}", c.name, a.info),
            },
        };
        let msg = err.to_string();
        assert_eq!(err.kind_name(), c.kind, "{}: {msg}", c.name);
        assert_eq!(err.path(), Some(path.as_path()), "{}", c.name);
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(
            msg.contains(c.needle),
            "{}: {c_needle:?} not in {msg:?}",
            c.name,
            c_needle = c.needle
        );
        // The same bytes from memory fail the same way (without a path).
        let mem = open_reader(
            std::io::Cursor::new(c.bytes.clone()),
            path.extension().and_then(|e| e.to_str()),
        )
        .and_then(|src| {
            loudqc::analyze::analyze_source(src, &AnalyzeOptions::default()).map(|_| ())
        });
        let mem_err = mem.expect_err(c.name);
        assert_eq!(mem_err.kind_name(), c.kind, "{}: {mem_err}", c.name);
        // And check_path turns it into an error report.
        let r = check_path(&path, &AnalyzeOptions::default());
        assert_eq!(r.verdict, Verdict::Error, "{}", c.name);
        assert_eq!(r.error.as_ref().unwrap().kind, c.kind, "{}", c.name);
    }
}

#[test]
fn hostile_headers_exit_2_with_bounded_memory_through_the_binary() {
    let d = tmp();
    let written = write_cases(d.path());
    let mut args = vec!["check", "--format", "json"];
    args.extend(written.iter().map(|(p, _)| p.to_str().unwrap()));
    let o = run_bounded(&args);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), written.len());
    for ((path, c), v) in written.iter().zip(&lines) {
        let file = path.display().to_string();
        assert_eq!(v["file"], file.as_str());
        assert_eq!(v["verdict"], "error", "{file}: {v}");
        assert_eq!(v["error"]["kind"], c.kind, "{file}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with(&file) && msg.contains(c.needle), "{msg}");
        assert!(err.contains(msg), "stderr repeats {msg:?}");
    }
    // Text output, one file at a time: exit 2 and the problem on stdout.
    for (path, c) in written.iter().take(3) {
        let o = run_bounded(&["check", path.to_str().unwrap()]);
        assert_eq!(code(&o), 2);
        assert!(
            stdout(&o).contains("ERROR") && stdout(&o).contains(c.needle),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn an_odd_sized_chunk_is_padded_and_the_data_after_it_read_exactly() {
    // RIFF pads odd chunks to even length; a reader that ignores the pad lands one byte off.
    let d = tmp();
    let tone = pcm16(4_000, 2);
    let p = d.path().join("odd-chunk.wav");
    std::fs::write(
        &p,
        riff(
            b"RIFF",
            &[
                (b"fmt ", 16, fmt16(PCM, 2, 8_000, 16, None)),
                (b"LIST", 3, vec![1, 2, 3]),
                (b"data", tone.len() as u32, tone),
            ],
        ),
    )
    .unwrap();
    let r = check_path(&p, &AnalyzeOptions::default());
    let f = r.format.expect("measured");
    assert_eq!(f.frames, 4_000);
    assert_eq!(f.channels, 2);
    let sp = r.loudness.unwrap().sample_peak_dbfs.unwrap();
    assert_close("sample peak", sp, -20.0, 0.01);
}

#[test]
fn limits_are_the_documented_ones() {
    assert_eq!(Limits::MAX_CHANNELS, 64);
    assert_eq!(Limits::MIN_RATE_HZ, 8_000);
    assert_eq!(Limits::MAX_RATE_HZ, 768_000);
    assert!(Limits::check(8_000, 1).is_ok() && Limits::check(768_000, 64).is_ok());
    for (rate, ch) in [(7_999, 2), (768_001, 2), (48_000, 0), (48_000, 65)] {
        assert_eq!(
            Limits::check(rate, ch).unwrap_err().kind_name(),
            "invalid_input"
        );
    }
    let map = ChannelMap::from_count(2);
    assert!(Meter::new(0, &map, &MeterConfig::default()).is_err());
    assert!(Meter::new(u32::MAX, &map, &MeterConfig::default()).is_err());
}

/// A float WAV of `samples` in both channels, padded with a −20 dBFS tone to 1 s.
fn float_file(dir: &Path, name: &str, specials: &[f32]) -> PathBuf {
    let p = dir.join(name);
    let mut x = sine(48_000, 1000.0, -20.0, 1.0);
    for (i, &v) in specials.iter().enumerate() {
        x[1000 + 37 * i] = v;
    }
    write_wav(&p, 48_000, &[x.clone(), x], 0);
    p
}

#[test]
fn negative_infinity_alone_is_counted_and_an_error_verdict() {
    let d = tmp();
    let p = float_file(d.path(), "neg-inf.wav", &[f32::NEG_INFINITY; 3]);
    let r = check_path(&p, &AnalyzeOptions::default());
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(r.findings[0].code, "NON_FINITE_SAMPLES");
    assert_eq!(r.findings[0].value, Some(6.0));
    let o = crate::cli::run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["error"]["kind"], "invalid_samples");
    assert!(v["loudness"]["sample_peak_dbfs"].is_number());
}

#[test]
fn denormal_samples_are_measured_as_the_tiny_values_they_are() {
    // Denormals are finite: no finding; a file of nothing else is silent (below −70 LUFS).
    let d = tmp();
    let p = d.path().join("denormal.wav");
    let tiny = f32::from_bits(1); // 1.4e-45, the smallest denormal
    let x: Vec<f32> = (0..48_000)
        .map(|i| if i % 2 == 0 { tiny } else { -tiny })
        .collect();
    write_wav(&p, 48_000, &[x.clone(), x], 0);
    let o = crate::cli::run(&["check", "--format", "json", p.to_str().unwrap()]);
    let s = stdout(&o);
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert!(v["loudness"]["integrated_lufs"].is_null(), "{s}");
    assert!(v["loudness"]["null_reasons"]["integrated_lufs"]
        .as_str()
        .unwrap()
        .contains("silent"));
    assert_close(
        "sample peak of a denormal",
        v["loudness"]["sample_peak_dbfs"].as_f64().unwrap(),
        20.0 * (tiny as f64).log10(),
        0.01,
    );
    assert!(!s.contains("NON_FINITE"), "{s}");
    // Mixed into a tone, denormals change nothing.
    let with = check_path(
        &float_file(d.path(), "tone-denormal.wav", &[tiny; 50]),
        &AnalyzeOptions::default(),
    );
    let without = check_path(
        &float_file(d.path(), "tone.wav", &[]),
        &AnalyzeOptions::default(),
    );
    assert_eq!(with.verdict, without.verdict);
    assert_close(
        "integrated",
        with.loudness.unwrap().integrated_lufs.unwrap(),
        without.loudness.unwrap().integrated_lufs.unwrap(),
        0.01,
    );
}

#[test]
fn huge_finite_samples_give_huge_finite_readings_and_fail() {
    // f32::MAX is a legal float sample, but +770.6 dBFS is no audio: never a measurement, an
    // error naming the value (issue 13), and no crash or NaN on the way.
    let d = tmp();
    let p = float_file(d.path(), "huge.wav", &[f32::MAX, -f32::MAX, 1e30]);
    let o = crate::cli::run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["error"]["kind"], "unmeasurable");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("huge.wav") && msg.contains("+770.6 dB"),
        "{msg}"
    );
}

#[test]
fn the_meter_takes_nan_inf_denormal_huge_and_empty_blocks_without_nan_readings() {
    for channels in [1usize, 2, 6, 9, 64] {
        let map = ChannelMap::from_count(channels);
        let mut m = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
        let specials = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::from_bits(1),
            -f32::MIN_POSITIVE / 2.0,
            f32::MAX,
            -f32::MAX,
            0.5,
        ];
        let mut rng = Rng::new(channels as u64);
        let mut non_finite = vec![0u64; channels];
        for round in 0..40 {
            // 0-frame blocks, single frames, odd sizes, more than a 100 ms hop.
            let frames = [0, 1, 7, 4_801, 9_000][round % 5];
            let planar: Vec<Vec<f32>> = (0..channels)
                .map(|c| {
                    (0..frames)
                        .map(|_| {
                            let v = specials[rng.below(specials.len())];
                            non_finite[c] += u64::from(!v.is_finite());
                            v
                        })
                        .collect()
                })
                .collect();
            if round % 2 == 0 {
                let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
                m.push_planar(&refs).unwrap();
            } else {
                let inter: Vec<f32> = (0..frames)
                    .flat_map(|i| planar.iter().map(move |c| c[i]))
                    .collect();
                m.push_interleaved(&inter).unwrap();
            }
        }
        // Wrong shapes are errors, not panics.
        assert!(m.push_planar::<f32>(&[]).is_err());
        if channels > 1 {
            assert!(m.push_interleaved(&vec![0.0; channels + 1]).is_err());
        }
        let r = m.finish();
        assert_eq!(r.frames, 8 * (1 + 7 + 4_801 + 9_000));
        assert_eq!(r.non_finite_samples, non_finite);
        // True peak is checked in the ignored test below.
        for v in [
            r.integrated_lufs,
            r.loudness_range_lu,
            r.max_momentary_lufs,
            r.max_short_term_lufs,
            r.sample_peak_dbfs,
        ]
        .into_iter()
        .flatten()
        {
            assert!(v.is_finite(), "{channels} channels: {v} in {r:?}");
        }
        assert_close(
            "sample peak",
            r.sample_peak_dbfs.unwrap(),
            20.0 * (f32::MAX as f64).log10(),
            0.01,
        );
    }
}

/// Neighbouring ±`f32::MAX` samples would overflow an `f32` interpolation sum to `+inf` dBTP;
/// such runs are summed in `f64` and saturate at `f32::MAX`.
#[test]
fn true_peak_of_adjacent_full_scale_floats_is_finite() {
    let map = ChannelMap::from_count(1);
    let mut m = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    let x: Vec<f32> = (0..48_000)
        .map(|i| if i % 2 == 0 { f32::MAX } else { -f32::MAX })
        .collect();
    m.push_planar(&[&x]).unwrap();
    let r = m.finish();
    let tp = r.true_peak_dbtp.unwrap();
    assert!(tp.is_finite(), "true peak {tp}");
    assert!(tp >= r.sample_peak_dbfs.unwrap());
}
