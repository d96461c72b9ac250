//! The fuzz harnesses, shared by the cargo-fuzz targets (fuzz/fuzz_targets/) and the crash
//! replay test (tests/it/crashes.rs), so a committed crash input is replayed exactly as found.
//! Each function must return normally for every input; a panic is a bug.
#![allow(dead_code)]

use std::io::Cursor;

use loudqc::analyze::{analyze_source, report, AnalyzeOptions};
use loudqc::channels::ChannelMap;
use loudqc::decode::{open_reader, Limits};
use loudqc::meter::{Meter, MeterConfig};
use loudqc::report::{json, text, FileReport};
use loudqc::spec::{evaluate, Observed, Profile};

/// Extension hints for Symphonia's probe, chosen by the first input byte.
pub const HINTS: [Option<&str>; 8] = [
    None,
    Some("wav"),
    Some("flac"),
    Some("aiff"),
    Some("rf64"),
    Some("caf"),
    Some("mp3"),
    Some("ogg"),
];

/// Open and probe arbitrary bytes as audio: byte 0 picks the extension hint, the rest is the
/// file. Then a few reads and a seek.
pub fn open_probe(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(sel) % HINTS.len()];
    let Ok(mut src) = open_reader(Cursor::new(bytes.to_vec()), hint) else {
        return;
    };
    let info = src.info().clone();
    assert!((1..=Limits::MAX_CHANNELS).contains(&info.channels));
    assert!((Limits::MIN_RATE_HZ..=Limits::MAX_RATE_HZ).contains(&info.sample_rate_hz));
    let mut buf = Vec::new();
    for _ in 0..4 {
        match src.read(&mut buf, 4096) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                assert!(n <= 4096);
                assert_eq!(buf.len(), info.channels);
                assert!(buf.iter().all(|c| c.len() == n));
            }
        }
    }
    if src.seek(u64::from(sel) * 97).is_ok() {
        let _ = src.read(&mut buf, 1024);
    }
}

/// The whole analysis of arbitrary bytes: decode → meter → spec → report as JSON and text.
/// Byte 0: bits 0–1 the extension hint, bit 2 true peak off; the rest is the file. Returns the
/// report.
pub fn analyze(data: &[u8]) -> Option<FileReport> {
    let (&sel, bytes) = data.split_first()?;
    let hint = [None, Some("wav"), Some("flac"), Some("aiff")][usize::from(sel & 3)];
    // One thread inside the meter: libFuzzer runs many inputs a second.
    let opts = AnalyzeOptions::default().with_meter(
        MeterConfig::default()
            .with_parallel(false)
            .with_true_peak(sel & 4 == 0),
    );
    let r: FileReport = match open_reader(Cursor::new(bytes.to_vec()), hint)
        .and_then(|src| analyze_source(src, &opts))
    {
        Ok(a) => report("fuzz.bin", &a, &opts.profile),
        Err(e) => FileReport::from_error("fuzz.bin", &opts.profile, &e),
    };
    let mut out = Vec::new();
    json::write_line(&mut out, &r).expect("JSON of a report");
    let back: serde_json::Value = serde_json::from_slice(&out).expect("the JSON line parses");
    assert_eq!(back["schema_version"], loudqc::report::SCHEMA_VERSION);
    text::write_report(&mut out, &r).expect("text of a report");
    Some(r)
}

/// Sample rates the meter harness picks from.
pub const RATES_HZ: [u32; 8] = [
    8_000, 22_050, 44_100, 48_000, 96_000, 192_000, 384_000, 768_000,
];

/// The streaming meter fed arbitrary `f32` blocks. Input layout: byte 0 channels (1 + b % 64),
/// byte 1 rate selector, byte 2 flags (bit 0 mask-derived map, bit 1 true peak off, bit 2
/// parallel), then commands: a u16 block length in frames (top bit: interleaved) followed by that
/// many frames of little-endian f32 bits (as far as the input goes).
pub fn meter(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let channels = 1 + usize::from(data[0]) % 64;
    let rate_hz = RATES_HZ[usize::from(data[1]) % RATES_HZ.len()];
    let flags = data[2];
    let map = if flags & 1 == 0 {
        ChannelMap::from_count(channels)
    } else {
        let mask = u32::from_le_bytes([data[0], data[1], data[2], flags.rotate_left(3)]);
        ChannelMap::from_wave_mask(mask, channels)
            .unwrap_or_else(|| ChannelMap::from_count(channels))
    };
    let config = MeterConfig::default()
        .with_true_peak(flags & 2 == 0)
        .with_parallel(flags & 4 != 0);
    let mut meter = Meter::new(rate_hz, &map, &config).expect("valid rate and channel count");
    let mut rest = &data[3..];
    let mut pushes = 0u32;
    while rest.len() >= 2 {
        let cmd = u16::from_le_bytes([rest[0], rest[1]]);
        rest = &rest[2..];
        let interleaved = cmd & 0x8000 != 0;
        let frames = usize::from(cmd & 0x7fff);
        let avail = rest.len() / 4 / channels;
        let frames = frames.min(avail);
        let n = frames * channels;
        let samples: Vec<f32> = rest[..n * 4]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        rest = &rest[n * 4..];
        if interleaved {
            meter.push_interleaved(&samples).expect("whole frames");
        } else {
            let planar: Vec<&[f32]> = samples.chunks(frames.max(1)).collect();
            let planar: Vec<&[f32]> = if frames == 0 {
                vec![&[][..]; channels]
            } else {
                planar
            };
            meter.push_planar(&planar).expect("equal lengths");
        }
        pushes += 1;
        if pushes.is_multiple_of(7) {
            let _ = meter.snapshot();
        }
    }
    // A wrong-shaped block is an error, never a panic.
    assert!(meter.push_planar::<f32>(&[]).is_err());
    let m = meter.finish();
    for v in [
        m.integrated_lufs,
        m.loudness_range_lu,
        m.max_momentary_lufs,
        m.max_short_term_lufs,
        m.sample_peak_dbfs,
        m.true_peak_dbtp,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!v.is_nan(), "NaN reading: {m:?}");
    }
    let labels = map.labels();
    let _ = evaluate(&Observed::new(&m, &labels), &Profile::streaming(), None);
}
