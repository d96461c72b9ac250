//! Speech-gate throughput (issue 5 target: ≥ 300× realtime on the 2-core machine).
//!
//! `cargo bench --bench dialog`. Prints ×realtime for each case, on a 4-minute program: the
//! gate alone (resample + Silero VAD on the dialog channels) on 5.1 at 48 kHz, dialogue on C
//! over music, in parallel and on one thread, and on a stereo program half of which is digital
//! silence (the energy pre-gate's best case); plus the bare network (`SileroVad` on 16 kHz),
//! batched (what the gate runs, issue 17) and chunk by chunk (the reference path).
//!
//! The machine is shared, so besides wall-clock ×realtime the bench prints the process CPU
//! time (Linux `/proc/self/stat`) and ×realtime per CPU-second, which does not depend on how
//! busy the other tenants keep the cores.

#[path = "../tests/it/dialog_signals.rs"]
mod signals;

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use loudqc::channels::ChannelMap;
use loudqc::dialog::silero::{SileroVad, CHUNK_SAMPLES};
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

/// CPU seconds (user + system) used by this process so far, if known.
fn cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Run `f` once; print wall and CPU ×realtime for `secs` of audio.
fn report(name: &str, secs: f64, f: impl FnOnce() -> String) {
    let (t, c0) = (Instant::now(), cpu_s());
    let what = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_s().zip(c0).map(|(a, b)| a - b);
    println!(
        "{name}: {secs:.0} s of audio: wall {wall:.3} s = {:.0}x realtime; CPU {} ({what})",
        secs / wall,
        cpu.map_or("n/a".into(), |c| format!(
            "{c:.2} s = {:.0}x realtime per CPU-second",
            secs / c
        )),
    );
}

fn bench(c: &mut Criterion) {
    let p = program(4.0);
    let secs = p.len() as f64 / f64::from(RATE);
    let five = p.five_one(-20.0, -32.0);
    let mut half_silent = p.stereo(-20.0, -32.0);
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
    // The bare network on the centre at 16 kHz (every third sample: speed only).
    let c16: Vec<f32> = five[2].iter().step_by(3).copied().collect();
    let n = c16.len() / CHUNK_SAMPLES * CHUNK_SAMPLES;
    let vad = |x: &[f32]| {
        let mut probs = vec![0.0; x.len() / CHUNK_SAMPLES];
        SileroVad::new().process_chunks(x, &mut probs);
        probs.iter().filter(|&&p| p > 0.5).count()
    };
    let vad_reference = |x: &[f32]| {
        let mut vad = SileroVad::new();
        x.chunks_exact(CHUNK_SAMPLES)
            .filter(|&c| vad.process_chunk(c.try_into().unwrap()) > 0.5)
            .count()
    };
    report("bare Silero VAD batched, one thread", secs, || {
        format!("{} speech chunks", vad(&c16[..n]))
    });
    report("bare Silero VAD chunk by chunk, one thread", secs, || {
        format!("{} speech chunks", vad_reference(&c16[..n]))
    });
    g.bench_function("bare Silero VAD batched", |b| b.iter(|| vad(&c16[..n])));
    for (name, x, cfg) in &cases {
        report(name, secs, || format!("speech {:.1} %", run_gate(x, cfg)));
        g.bench_function(*name, |b| b.iter(|| run_gate(x, cfg)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
