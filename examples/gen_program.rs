//! Write a deterministic program-like test file (for benches and `benches/compare.sh`).
//!
//! `cargo run --release --example gen_program -- OUT.wav [minutes=10] [channels=6] [rate=48000] [bits=24]`
//!
//! The content is a mix of band-limited noise and tones whose level changes every few seconds,
//! with occasional transients, about −16 LUFS with true peaks near −1 dBTP: enough variety that
//! gating, LRA and the true-peak search do real work. The LFE of a 5.1 file is a 55 Hz tone.

use std::f64::consts::PI;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .ok_or("usage: gen_program OUT.wav [minutes] [channels] [rate] [bits]")?;
    let minutes: f64 = args.get(1).map_or(Ok(10.0), |s| s.parse())?;
    let channels: u16 = args.get(2).map_or(Ok(6), |s| s.parse())?;
    let rate: u32 = args.get(3).map_or(Ok(48_000), |s| s.parse())?;
    let bits: u16 = args.get(4).map_or(Ok(24), |s| s.parse())?;
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(out, spec)?;
    let frames = (minutes * 60.0 * f64::from(rate)) as u64;
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let scale = f64::from((1u32 << (bits - 1)) - 1);
    let mut lp = vec![0.0f64; usize::from(channels)];
    let mut level = 0.1;
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        if i % (u64::from(rate) * 3) == 0 {
            level = 0.03 + 0.12 * (next() + 1.0);
        }
        let transient = if i % (u64::from(rate) * 7) < 200 {
            0.5
        } else {
            0.0
        };
        for (c, lp) in lp.iter_mut().enumerate() {
            let tone = (2.0 * PI * (110.0 * (c + 1) as f64) * t).sin() * 0.3;
            *lp = 0.7 * *lp + 0.3 * next();
            let v = if channels == 6 && c == 3 {
                // The LFE (4th of 6) carries low tones only, inside its 120 Hz band (ITU-R
                // BS.775-4 §3), as a delivered LFE does: no LFE_FULL_BAND finding.
                0.2 * 0.3 * (2.0 * PI * 55.0 * t).sin()
            } else {
                level * (*lp + tone) + transient * next()
            };
            let v = v.clamp(-0.99, 0.99);
            w.write_sample((v * scale).round() as i32)?;
        }
    }
    w.finalize()?;
    Ok(())
}
