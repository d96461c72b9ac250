//! `sync::align` time on a 5.1 / 48 kHz programme against its stereo mix, 40 ms late:
//! decoding from memory, so this is the engine's cost (features, anchors, dense windows, fine
//! pass). Whole files: see the README (Speed) for a 5.1 WAV against an AAC proxy.
//!
//! `cargo bench --bench sync`

use criterion::{criterion_group, criterion_main, Criterion};

use loudqc::decode::memory::MemorySource;
#[path = "../tests/support/synth.rs"]
mod synth;
use loudqc::sync::{align, AlignOptions};
use synth::{music_bed, Rng};

const RATE: u32 = 48_000;

/// A music bed with decaying noise hits every 0.3–2 s: 5.1 and its stereo mix.
fn programme(seconds: f64) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let n = (seconds * f64::from(RATE)) as usize;
    let music = music_bed(RATE, seconds, 2, 1);
    let mut hits = vec![0.0f32; n];
    let mut rng = Rng::new(2);
    let mut t = 0.2;
    while t < seconds - 1.0 {
        let at = (t * f64::from(RATE)) as usize;
        let amp = rng.range(0.05, 0.3);
        let decay = rng.range(0.02, 0.2) * f64::from(RATE);
        for i in 0..((decay * 5.0) as usize).min(n - at) {
            hits[at + i] += (amp * (-(i as f64) / decay).exp() * (2.0 * rng.unit() - 1.0)) as f32;
        }
        t += rng.range(0.3, 2.0);
    }
    let stereo: Vec<Vec<f32>> = (0..2)
        .map(|c| (0..n).map(|i| music[c][i] + hits[i]).collect())
        .collect();
    let delay = 1920;
    let five_one: Vec<Vec<f32>> = [0usize, 1, 0, 0, 0, 1]
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let mut v = vec![0.0f32; delay];
            v.extend((0..n).map(|i| if k == 3 { 0.0 } else { music[c][i] + hits[i] }));
            v
        })
        .collect();
    (five_one, stereo)
}

fn bench(c: &mut Criterion) {
    let (a, r) = programme(300.0);
    let mut g = c.benchmark_group("sync");
    g.sample_size(10);
    g.bench_function("align_5min_5.1_vs_stereo", |b| {
        b.iter(|| {
            let mut sa = MemorySource::new(RATE, a.clone()).unwrap();
            let mut sr = MemorySource::new(RATE, r.clone()).unwrap();
            align(&mut sa, &mut sr, &AlignOptions::default()).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
