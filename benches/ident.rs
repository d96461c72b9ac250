//! Ident search time for head + tail (+ the body null baseline) on a 5.1 48 kHz program, one
//! reference, default windows (reference + 30 s): a 10-minute and a 2-hour program, which
//! must cost the same (only the windows are read), and the 2-hour one with the ident played
//! at 1.037× (the arbitrary-speed path: envelope grid, piece regression, windowed-sinc
//! templates), and with no ident at all (the common case under `forbid`: no whole ident found,
//! so the pitch-kept tempo search runs too). The target (issue 20) is under 1 s per reference
//! per side.
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
use loudqc::ident::{search_source, IdentOptions, Policy, Reference};
use synth::{music_bed, Jingle};

const RATE: u32 = 48_000;

struct LoopSource {
    info: StreamInfo,
    bed: Vec<Vec<f32>>,
    ident: Vec<Vec<f32>>,
    plants: [u64; 2],
    pos: u64,
}

impl LoopSource {
    /// `speed` of the planted idents; `None`: no ident.
    fn new(minutes: f64, speed: Option<f64>) -> LoopSource {
        let total = (minutes * 60.0 * f64::from(RATE)) as u64;
        let ident = Jingle::ident().render(RATE, speed.unwrap_or(1.0));
        let n = ident[0].len() as u64;
        // Without an ident: planted beyond the end, never read.
        let plants = match speed {
            Some(_) => [2 * u64::from(RATE), total - n - u64::from(RATE)],
            None => [2 * total; 2],
        };
        LoopSource {
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
        }
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
    for (minutes, speed) in [
        (10.0, Some(1.0)),
        (120.0, Some(1.0)),
        (120.0, Some(1.037)),
        (120.0, None),
    ] {
        let mut src = LoopSource::new(minutes, speed);
        let total = src.info.frames.unwrap();
        // Sanity: both idents found at their samples (or none found where there is none), or
        // the timing means nothing.
        let r = search_source(&mut src, total, &labels, &opts).unwrap();
        for (m, at) in [(&r[0].head, src.plants[0]), (&r[0].tail, src.plants[1])] {
            match speed {
                Some(speed) => {
                    assert!(m.offset_samples.unwrap().abs_diff(at as i64) <= 2, "{m:?}");
                    assert!((m.speed_factor.unwrap() - speed).abs() < 2e-4, "{m:?}");
                }
                None => assert!(!m.found, "{m:?}"),
            }
        }
        let name = match speed {
            Some(s) => format!("{minutes}min_speed{s}"),
            None => format!("{minutes}min_no_ident"),
        };
        g.bench_with_input(BenchmarkId::from_parameter(name), &minutes, |b, _| {
            b.iter(|| search_source(&mut src, total, &labels, &opts).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
