//! Ident search time for head + tail (+ the body null baseline) on a 5.1 48 kHz program, one
//! reference, default windows (reference + 30 s): a 10-minute and a 2-hour program, which
//! must cost the same (only the windows are read), and the 2-hour one with the ident played
//! at 1.037× (the arbitrary-speed path: envelope grid, piece regression, windowed-sinc
//! templates), time-stretched to 1.04× with its pitch kept by sox `tempo` (the pitch-kept
//! path: envelope search, tempo map, WSOLA-style warped template, evaluated and its copies
//! sought; skipped with a note when sox is not on PATH), and with no ident at all (the common
//! case under `forbid`: no whole ident found, so the pitch-kept tempo search runs too). The
//! target (issue 20) is under 1 s per reference per side.
//!
//! The program is generated on demand by a seekable source (a 10 s looped 5.1 bed with the
//! ident in L/R at the head and tail), so no file or 8 GB buffer is needed.
//!
//! `cargo bench --bench ident`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use loudqc::channels::ChannelMap;
use loudqc::decode::{AudioSource, StreamInfo};
#[path = "../tests/support/synth.rs"]
mod synth;
use loudqc::ident::{search_source, IdentOptions, IdentStatus, Policy, Reference};
use synth::{music_bed, Jingle};

const RATE: u32 = 48_000;

struct LoopSource {
    info: StreamInfo,
    bed: Vec<Vec<f32>>,
    ident: Vec<Vec<f32>>,
    plants: [u64; 2],
    pos: u64,
}

/// How the planted idents were made.
#[derive(Clone, Copy)]
enum Planted {
    /// Played this many times faster (resampled, the pitch follows).
    Speed(f64),
    /// Time-stretched by sox `tempo` to this many times faster, the pitch kept.
    Tempo(f64),
    /// No ident.
    None,
}

/// The ident time-stretched by `sox tempo f` (raw 32-bit float through a temporary file);
/// `None` when sox cannot be run.
fn sox_tempo(ident: &[Vec<f32>], f: f64) -> Option<Vec<Vec<f32>>> {
    let dir = std::env::temp_dir();
    let tag = std::process::id();
    let (inp, out) = (
        dir.join(format!("loudqc-bench-{tag}-in.f32")),
        dir.join(format!("loudqc-bench-{tag}-out.f32")),
    );
    let bytes: Vec<u8> = (0..ident[0].len())
        .flat_map(|i| ident.iter().map(move |c| c[i]))
        .flat_map(f32::to_le_bytes)
        .collect();
    std::fs::write(&inp, bytes).ok()?;
    let raw = ["-t", "f32", "-r", "48000", "-c", "2"];
    let ok = std::process::Command::new("sox")
        .args(raw)
        .arg(&inp)
        .args(raw)
        .arg(&out)
        .args(["tempo", &f.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let back = std::fs::read(&out).ok();
    let _ = (std::fs::remove_file(&inp), std::fs::remove_file(&out));
    let back = back.filter(|_| ok)?;
    let mut st = vec![Vec::new(), Vec::new()];
    for (i, b) in back.chunks_exact(4).enumerate() {
        st[i % 2].push(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    }
    Some(st)
}

impl LoopSource {
    /// `None` when the planted ident cannot be made (sox missing).
    fn new(minutes: f64, planted: Planted) -> Option<LoopSource> {
        let total = (minutes * 60.0 * f64::from(RATE)) as u64;
        let ident = match planted {
            Planted::Speed(s) => Jingle::ident().render(RATE, s),
            Planted::Tempo(f) => sox_tempo(&Jingle::ident().render(RATE, 1.0), f)?,
            Planted::None => Jingle::ident().render(RATE, 1.0),
        };
        let n = ident[0].len() as u64;
        // Without an ident: planted beyond the end, never read.
        let plants = match planted {
            Planted::None => [2 * total; 2],
            _ => [2 * u64::from(RATE), total - n - u64::from(RATE)],
        };
        Some(LoopSource {
            info: StreamInfo {
                container: "bench".into(),
                codec: "pcm_f32".into(),
                sample_rate_hz: RATE,
                channels: 6,
                bits_per_sample: None,
                frames: Some(total),
                channel_map: None,
                bext_time_reference: None,
                ..Default::default()
            },
            bed: music_bed(RATE, 10.0, 6, 7)
                .into_iter()
                .map(|c| c.into_iter().map(|v| v * 0.3).collect())
                .collect(),
            ident,
            plants,
            pos: 0,
        })
    }
}

impl AudioSource for LoopSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> loudqc::Result<usize> {
        let total = self.info.frames.unwrap_or(0);
        let n = (max_frames as u64).min(total - self.pos) as usize;
        out.resize(6, Vec::new());
        let bl = self.bed[0].len();
        for (c, dst) in out.iter_mut().enumerate() {
            dst.clear();
            // the bed, looped, in contiguous runs
            let mut at = (self.pos % bl as u64) as usize;
            while dst.len() < n {
                let take = (n - dst.len()).min(bl - at);
                dst.extend_from_slice(&self.bed[c][at..at + take]);
                at = 0;
            }
            if c < 2 {
                for &start in &self.plants {
                    let len = self.ident[c].len() as u64;
                    let (a, b) = (self.pos.max(start), (self.pos + n as u64).min(start + len));
                    for f in a..b {
                        dst[(f - self.pos) as usize] += self.ident[c][(f - start) as usize];
                    }
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
    fn seek(&mut self, frame: u64) -> loudqc::Result<()> {
        self.pos = frame.min(self.info.frames.unwrap_or(0));
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let reference =
        Arc::new(Reference::from_planar("ident", RATE, Jingle::ident().render(RATE, 1.0)).unwrap());
    let opts = IdentOptions::new(vec![reference], Policy::Forbid);
    let labels = ChannelMap::from_count(6).labels();
    let mut g = c.benchmark_group("ident_head_tail_5.1_48k");
    g.sample_size(10);
    for (minutes, planted) in [
        (10.0, Planted::Speed(1.0)),
        (120.0, Planted::Speed(1.0)),
        (120.0, Planted::Speed(1.037)),
        (120.0, Planted::Tempo(1.04)),
        (120.0, Planted::None),
    ] {
        let Some(mut src) = LoopSource::new(minutes, planted) else {
            eprintln!("sox not found: the pitch-kept case is skipped");
            continue;
        };
        let total = src.info.frames.unwrap();
        // Sanity: both idents found at their samples (or none found where there is none), or
        // the timing means nothing.
        let r = search_source(&mut src, total, &labels, &opts).unwrap();
        for (m, at) in [(&r[0].head, src.plants[0]), (&r[0].tail, src.plants[1])] {
            match planted {
                Planted::Speed(speed) => {
                    assert!(m.offset_samples.unwrap().abs_diff(at as i64) <= 2, "{m:?}");
                    assert!((m.speed_factor.unwrap() - speed).abs() < 2e-4, "{m:?}");
                }
                // Whole, where sox put it (its first segment is copied in place), the factor
                // to the tempo map's precision.
                Planted::Tempo(f) => {
                    assert_eq!(m.status, IdentStatus::Present, "{m:?}");
                    assert!(m.offset_samples.unwrap().abs_diff(at as i64) <= 2, "{m:?}");
                    assert!((m.speed_factor.unwrap() / f - 1.0).abs() < 0.0075, "{m:?}");
                }
                Planted::None => assert!(!m.found, "{m:?}"),
            }
        }
        let name = match planted {
            Planted::Speed(s) => format!("{minutes}min_speed{s}"),
            Planted::Tempo(f) => format!("{minutes}min_pitch_kept_tempo{f}"),
            Planted::None => format!("{minutes}min_no_ident"),
        };
        g.bench_with_input(BenchmarkId::from_parameter(name), &minutes, |b, _| {
            b.iter(|| search_source(&mut src, total, &labels, &opts).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
