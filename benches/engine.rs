//! Criterion benches of the pipeline's stages, throughput in frames: decode (24-bit WAV → planar
//! f32), meter (K-weighting, gating, maxima, true peak), true peak alone (fast vs naive), and the
//! integrity scan (issue 14: drop-outs, pairs, downmix, LFE band; alone, and the `--no-dialog`
//! check with and without it), and the end-to-end check of a file. Input: one minute of deterministic programme-like 5.1 / 48 kHz /
//! 24-bit audio (the content of `examples/gen_program.rs`), written to a temp dir once.
//!
//! `cargo bench --bench engine` (add `-- meter` etc. to run one group).

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use loudqc::analyze::{check_path, AnalyzeOptions};
use loudqc::channels::ChannelMap;
use loudqc::decode::open_path;
use loudqc::dialog::DialogConfig;
use loudqc::integrity::{IntegrityConfig, IntegrityScanner};
use loudqc::meter::{Meter, MeterConfig};
use loudqc::truepeak::{true_peak_naive, TruePeak};

const RATE: u32 = 48_000;
const CHANNELS: usize = 6;
const SECONDS: usize = 60;

/// Programme-like planar audio: noise beds and tones whose level steps every 3 s, transients.
fn programme(seconds: usize) -> Vec<Vec<f32>> {
    let frames = seconds * RATE as usize;
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    let mut out: Vec<Vec<f32>> = (0..CHANNELS).map(|_| Vec::with_capacity(frames)).collect();
    let mut lp = [0f32; CHANNELS];
    let mut level = 0.05;
    for i in 0..frames {
        if i % (RATE as usize * 3) == 0 {
            level = 0.01 + 0.04 * (next() + 1.0);
        }
        let t = i as f32 / RATE as f32;
        for (c, ch) in out.iter_mut().enumerate() {
            lp[c] = 0.7 * lp[c] + 0.3 * next();
            let tone = (std::f32::consts::TAU * 110.0 * (c + 1) as f32 * t).sin() * 0.3;
            ch.push(level * (lp[c] + tone));
        }
    }
    out
}

fn write_wav(path: &Path, planar: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: planar.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..planar[0].len() {
        for ch in planar {
            w.write_sample((ch[i] * 8_388_607.0) as i32).unwrap();
        }
    }
    w.finalize().unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    wav: PathBuf,
    planar: Vec<Vec<f32>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("programme_51.wav");
    let planar = programme(SECONDS);
    write_wav(&wav, &planar);
    Fixture {
        _dir: dir,
        wav,
        planar,
    }
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    let frames = (SECONDS * RATE as usize) as u64;

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    g.bench_function("wav_s24_5.1", |b| {
        b.iter(|| {
            let mut src = open_path(&fx.wav).unwrap();
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                let got = src.read(&mut buf, 1 << 16).unwrap();
                if got == 0 {
                    break;
                }
                n += got;
            }
            n
        })
    });
    g.finish();

    let mut g = c.benchmark_group("meter");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    let map = ChannelMap::from_count(CHANNELS);
    for (name, config) in [
        ("5.1_all", MeterConfig::default()),
        (
            "5.1_one_thread",
            MeterConfig::default().with_parallel(false),
        ),
        (
            "5.1_no_true_peak",
            MeterConfig::default().with_true_peak(false),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = Meter::new(RATE, &map, &config).unwrap();
                for start in (0..frames as usize).step_by(1 << 16) {
                    let end = (start + (1 << 16)).min(frames as usize);
                    let refs: Vec<&[f32]> = fx.planar.iter().map(|c| &c[start..end]).collect();
                    m.push_planar(&refs).unwrap();
                }
                m.finish().integrated_lufs
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("truepeak");
    let ch = &fx.planar[0];
    g.throughput(Throughput::Elements(ch.len() as u64));
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("fast", "1ch_60s"), ch, |b, ch| {
        b.iter(|| {
            let mut tp = TruePeak::new(RATE);
            for block in ch.chunks(1 << 16) {
                tp.process(block);
            }
            tp.peak()
        })
    });
    g.bench_with_input(BenchmarkId::new("fast_timeline", "1ch_60s"), ch, |b, ch| {
        b.iter(|| {
            let mut tp = TruePeak::new(RATE).with_timeline(4800);
            for block in ch.chunks(1 << 16) {
                tp.process(block);
            }
            tp.peak()
        })
    });
    g.bench_with_input(BenchmarkId::new("naive", "1ch_60s"), ch, |b, ch| {
        b.iter(|| true_peak_naive(RATE, ch).0)
    });
    g.finish();

    // Issue 14 allows the integrity scan at most +20 % on a `--no-dialog` check.
    let mut g = c.benchmark_group("integrity");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    g.bench_function("scan_5.1", |b| {
        b.iter(|| {
            let mut sc = IntegrityScanner::new(RATE, &map, &IntegrityConfig::default());
            for start in (0..frames as usize).step_by(1 << 16) {
                let end = (start + (1 << 16)).min(frames as usize);
                let refs: Vec<&[f32]> = fx.planar.iter().map(|c| &c[start..end]).collect();
                sc.push_planar(&refs);
            }
            sc.finish().frames
        })
    });
    let no_dialog =
        AnalyzeOptions::default().with_dialog(DialogConfig::default().with_enabled(false));
    for (name, opts) in [
        ("check_no_dialog_with_scan", no_dialog.clone()),
        (
            "check_no_dialog_without_scan",
            no_dialog.with_integrity(None),
        ),
    ] {
        g.bench_function(name, |b| b.iter(|| check_path(&fx.wav, &opts).verdict));
    }
    g.finish();

    let mut g = c.benchmark_group("end_to_end");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    g.bench_function("check_wav_s24_5.1", |b| {
        b.iter(|| check_path(&fx.wav, &AnalyzeOptions::default()).verdict)
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
