//! Speech-gate throughput (issue 5 target: ≥ 300× realtime on the 2-core machine).
//!
//! `cargo bench --bench dialog`. Prints ×realtime for each case: the gate alone (resample +
//! Silero VAD on the dialog channels) on a 5.1 program at 48 kHz with dialogue on the centre
//! over music, in parallel and on one thread, and on a stereo program half of which is digital
//! silence (the energy pre-gate's best case).

#[path = "../tests/it/dialog_signals.rs"]
mod signals;

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use loudqc::channels::ChannelMap;
use loudqc::dialog::{DialogConfig, DialogGate};

use signals::*;

/// A program of `minutes` of dialogue lines over a music bed (the clips, repeated).
fn program(minutes: f64) -> Program {
    let mut p = Program::new();
    let clips: Vec<Vec<f32>> = CLIPS.iter().map(|c| speech_clip(c)).collect();
    let target = (minutes * 60.0 * f64::from(RATE)) as usize;
    let mut i = 0;
    while p.len() < target {
        p.speak(&clips[i % clips.len()]);
        p.play(&vec![0.0; 2 * RATE as usize]);
        i += 1;
    }
    p.bed = music(3, p.len() as f64 / f64::from(RATE) + 1.0, 1);
    p.bed.truncate(p.len());
    p
}

fn run_gate(x: &[Vec<f32>], cfg: &DialogConfig) -> f64 {
    let map = ChannelMap::from_count(x.len());
    let mut gate = DialogGate::new(RATE, &map, cfg).unwrap();
    let n = x[0].len();
    for off in (0..n).step_by(1 << 16) {
        let end = (off + (1 << 16)).min(n);
        let refs: Vec<&[f32]> = x.iter().map(|c| &c[off..end]).collect();
        gate.push_planar(&refs).unwrap();
    }
    let blocks = vec![1e-3; n / (RATE as usize / 10)];
    gate.finish(&blocks).unwrap().speech_percent.unwrap_or(0.0)
}

fn bench(c: &mut Criterion) {
    let p = program(2.0);
    let secs = p.len() as f64 / f64::from(RATE);
    let five = p.five_one(-27.0, -30.0);
    let mut half_silent = p.stereo(-27.0, -30.0);
    for ch in half_silent.iter_mut() {
        let n = ch.len();
        ch[n / 2..].iter_mut().for_each(|v| *v = 0.0);
    }
    let cases: [(&str, &[Vec<f32>], DialogConfig); 3] = [
        ("5.1 parallel", &five, DialogConfig::default()),
        (
            "5.1 one thread",
            &five,
            DialogConfig::default().with_parallel(false),
        ),
        ("stereo half silent", &half_silent, DialogConfig::default()),
    ];
    let mut g = c.benchmark_group("dialog_gate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(p.len() as u64));
    for (name, x, cfg) in &cases {
        let t = Instant::now();
        let speech = run_gate(x, cfg);
        let el = t.elapsed().as_secs_f64();
        println!(
            "{name}: {secs:.0} s of audio in {el:.3} s = {:.0}x realtime (speech {speech:.1} %)",
            secs / el
        );
        g.bench_function(*name, |b| b.iter(|| run_gate(x, cfg)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
