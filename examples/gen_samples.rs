//! Write the shipped samples in `samples/` (deterministic; rerun to regenerate them):
//!
//! `cargo run --example gen_samples -- samples`
//!
//! * `stereo_pass.wav` — 8 s stereo, 48 kHz, 16-bit: a dialogue-like band-limited noise bed with
//!   level changes, about −24 LUFS, true peak well under −1 dBTP. Passes the streaming profile.
//! * `surround51_fail.wav` — 5 s 5.1, 48 kHz, 16-bit: the same bed much hotter (about −15.5 LUFS), with a burst at
//!   fs/4 whose samples stay under −1 dBFS but whose inter-sample peaks go over −1 dBTP, at 3.0 s.
//!   Fails on true peak (and shows why sample-peak meters miss it).

use std::f64::consts::PI;
use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// A bed of low-passed noise plus a few tones, level stepping every 1.5 s.
fn bed(rate: u32, frames: usize, channel: usize, gain: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed ^ (channel as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut lp = 0.0;
    let levels = [0.12, 0.2, 0.09, 0.16, 0.25, 0.1];
    (0..frames)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let level = levels[(t / 1.5) as usize % levels.len()];
            lp = 0.8 * lp + 0.2 * rng.next();
            let tone = 0.3 * (2.0 * PI * (220.0 + 55.0 * channel as f64) * t).sin();
            gain * level * (2.0 * lp + tone)
        })
        .collect()
}

fn write(path: &Path, rate: u32, chans: &[Vec<f64>]) -> Result<(), Box<dyn std::error::Error>> {
    let spec = hound::WavSpec {
        channels: chans.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for i in 0..chans[0].len() {
        for c in chans {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
        }
    }
    w.finalize()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "samples".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let rate = 48_000;

    let frames = 8 * rate as usize;
    let stereo: Vec<Vec<f64>> = (0..2).map(|c| bed(rate, frames, c, 0.55, 1)).collect();
    write(&dir.join("stereo_pass.wav"), rate, &stereo)?;

    let frames = 5 * rate as usize;
    let mut surround: Vec<Vec<f64>> = (0..6)
        .map(|c| {
            // L R C LFE Ls Rs: dialogue-like centre, quieter surrounds, a low LFE rumble.
            let gain = [0.8, 0.8, 1.1, 0.0, 0.5, 0.5][c];
            let mut v = bed(rate, frames, c, gain, 2);
            if c == 3 {
                v = (0..frames)
                    .map(|i| 0.2 * (2.0 * PI * 40.0 * i as f64 / f64::from(rate)).sin())
                    .collect();
            }
            v
        })
        .collect();
    // 50 ms at fs/4 with a 45° phase: samples at ±0.6·√2/2·… — every sample is ±a/√2 of a sine
    // whose crest lies between samples, so the true peak is 3 dB above the sample peak.
    let a = 10f64.powf(-0.5 / 20.0); // crest −0.5 dBTP; samples at −3.5 dBFS
    let start = 3 * rate as usize;
    for i in 0..(rate as usize / 20) {
        surround[0][start + i] = a * (PI / 2.0 * i as f64 + PI / 4.0).sin();
    }
    write(&dir.join("surround51_fail.wav"), rate, &surround)?;
    Ok(())
}
