//! Seeded signal generators and assertions shared by the integration tests.
#![allow(dead_code)]

use std::f64::consts::PI;

/// A small deterministic PRNG (xorshift64*), so tests need no extra crate and never flake.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// dBFS (peak) → linear amplitude.
pub fn db_to_amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A sine of `freq_hz` at `peak_dbfs`, `seconds` long.
pub fn sine(rate: u32, freq_hz: f64, peak_dbfs: f64, seconds: f64) -> Vec<f32> {
    let n = (seconds * rate as f64).round() as usize;
    let a = db_to_amp(peak_dbfs);
    (0..n)
        .map(|i| (a * (2.0 * PI * freq_hz * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

/// Silence, `seconds` long.
pub fn silence(rate: u32, seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * rate as f64).round() as usize]
}

/// Concatenate segments of (peak dBFS or None for silence, seconds) of a 1 kHz sine, phase
/// continuous.
pub fn tone_sequence(rate: u32, segments: &[(Option<f64>, f64)]) -> Vec<f32> {
    let mut out = Vec::new();
    for &(level, secs) in segments {
        let n = (secs * rate as f64).round() as usize;
        let start = out.len();
        for i in 0..n {
            let v = match level {
                Some(db) => {
                    db_to_amp(db) * (2.0 * PI * 1000.0 * (start + i) as f64 / rate as f64).sin()
                }
                None => 0.0,
            };
            out.push(v as f32);
        }
    }
    out
}

/// Assert |a − b| ≤ tol, with a message.
#[track_caller]
pub fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual:.4}, expected {expected:.4} ± {tol}"
    );
}
