//! Synthetic test signals for ident detection: a branded chime, look-alike decoys and music
//! beds, all defined in continuous time so the *same* signal can be rendered at any sample rate
//! (a 48 kHz reference and a 44.1 kHz program carry exactly the same waveform) and at any
//! playback speed (frame-rate conversion: 25/24, 1001/1000, …).
//!
//! Used by the tests, the bench and `examples/gen_ident_samples.rs` (each includes this file with
//! `#[path]` and uses a part, hence the `dead_code` allowance); nothing here is copied from
//! external audio. Not part of the library.
#![allow(dead_code)]

use std::f64::consts::PI;

/// A deterministic PRNG (xorshift64*), so generated signals are identical on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// One bell-like note: a fundamental with inharmonic partials and an exponential decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// Onset, seconds from the jingle's start.
    pub start_s: f64,
    /// Fundamental, Hz.
    pub freq_hz: f64,
    /// Sounding length, seconds.
    pub dur_s: f64,
    /// Peak amplitude (linear).
    pub amp: f64,
    /// Pan, 0 = left, 1 = right.
    pub pan: f64,
}

/// A noise burst made of many random sinusoids (so it is rate-independent), with a smooth
/// envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Onset, seconds.
    pub start_s: f64,
    /// Length, seconds.
    pub dur_s: f64,
    /// Amplitude (linear, roughly the RMS × 3).
    pub amp: f64,
    /// Seed of the partials' frequencies and phases.
    pub seed: u64,
}

/// A short jingle: notes plus optional noise bursts. Render it with [`Jingle::render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Jingle {
    /// The notes.
    pub notes: Vec<Note>,
    /// The noise bursts.
    pub bursts: Vec<Burst>,
    /// Total length, seconds (at speed 1).
    pub duration_s: f64,
}

/// Bell partials: (frequency ratio, relative amplitude, decay rate 1/s).
const PARTIALS: [(f64, f64, f64); 4] = [
    (1.0, 1.0, 2.5),
    (2.0, 0.45, 4.0),
    (2.76, 0.3, 6.0),
    (5.4, 0.12, 9.0),
];

/// Sinusoids per noise burst.
const BURST_PARTIALS: usize = 160;

impl Jingle {
    /// The project's branded ident: a rising five-note chime over two bars, a "whoosh" noise
    /// burst and a final chord, 3.5 s, stereo with notes panned across the image.
    pub fn ident() -> Jingle {
        let n = |start_s, freq_hz, dur_s, amp, pan| Note {
            start_s,
            freq_hz,
            dur_s,
            amp,
            pan,
        };
        Jingle {
            notes: vec![
                n(0.05, 523.25, 0.9, 0.30, 0.2),  // C5
                n(0.45, 659.26, 0.9, 0.28, 0.8),  // E5
                n(0.85, 783.99, 0.9, 0.28, 0.35), // G5
                n(1.25, 1046.5, 1.0, 0.26, 0.65), // C6
                n(1.70, 987.77, 0.6, 0.22, 0.5),  // B5
                n(2.30, 523.25, 1.15, 0.22, 0.1), // final chord
                n(2.30, 659.26, 1.15, 0.20, 0.9),
                n(2.30, 783.99, 1.15, 0.20, 0.5),
                n(2.30, 130.81, 1.15, 0.25, 0.5), // C3 bass
            ],
            bursts: vec![Burst {
                start_s: 1.95,
                dur_s: 0.4,
                amp: 0.12,
                seed: 0x1DE7,
            }],
            duration_s: 3.5,
        }
    }

    /// A different jingle of the same length, timbre and scale (the same pitches in another
    /// order and rhythm, another burst): what the detector must *not* report.
    pub fn decoy() -> Jingle {
        let n = |start_s, freq_hz, dur_s, amp, pan| Note {
            start_s,
            freq_hz,
            dur_s,
            amp,
            pan,
        };
        Jingle {
            notes: vec![
                n(0.10, 783.99, 0.8, 0.30, 0.6),
                n(0.50, 1046.5, 0.8, 0.26, 0.4),
                n(0.95, 659.26, 0.8, 0.28, 0.7),
                n(1.35, 523.25, 1.0, 0.30, 0.3),
                n(1.80, 659.26, 0.6, 0.22, 0.5),
                n(2.40, 783.99, 1.05, 0.22, 0.2),
                n(2.40, 987.77, 1.05, 0.20, 0.8),
                n(2.40, 196.0, 1.05, 0.25, 0.5),
            ],
            bursts: vec![Burst {
                start_s: 2.05,
                dur_s: 0.35,
                amp: 0.12,
                seed: 0xDEC0,
            }],
            duration_s: 3.5,
        }
    }

    /// Render at `rate_hz`, played `speed` times faster than written (1.0 = as written;
    /// 25/24 = PAL speed-up: shorter and higher). Returns `[left, right]`, each
    /// `round(duration_s / speed × rate_hz)` samples.
    pub fn render(&self, rate_hz: u32, speed: f64) -> Vec<Vec<f32>> {
        let rate = f64::from(rate_hz);
        let n = (self.duration_s / speed * rate).round() as usize;
        let mut left = vec![0.0f64; n];
        let mut right = vec![0.0f64; n];
        for note in &self.notes {
            let (gl, gr) = ((1.0 - note.pan).sqrt(), note.pan.sqrt());
            let first = ((note.start_s / speed) * rate).ceil().max(0.0) as usize;
            let last = (((note.start_s + note.dur_s) / speed) * rate).floor() as usize;
            for i in first..last.min(n) {
                let t = i as f64 / rate * speed - note.start_s; // seconds into the note
                let attack = (t / 0.005).min(1.0);
                let release = ((note.dur_s - t) / 0.05).clamp(0.0, 1.0);
                let mut v = 0.0;
                for &(ratio, a, decay) in &PARTIALS {
                    v += a * (-decay * t).exp() * (2.0 * PI * note.freq_hz * ratio * t).sin();
                }
                let v = v * note.amp * attack * release;
                left[i] += gl * v;
                right[i] += gr * v;
            }
        }
        for b in &self.bursts {
            let mut rng = Rng::new(b.seed);
            let parts: Vec<(f64, f64, f64)> = (0..BURST_PARTIALS)
                .map(|_| {
                    // log-uniform 300 Hz .. 6 kHz, random phase, a left/right balance
                    let f = 300.0 * (20f64).powf(rng.unit());
                    (f, rng.range(0.0, 2.0 * PI), rng.unit())
                })
                .collect();
            let norm = b.amp / (BURST_PARTIALS as f64 / 2.0).sqrt();
            let first = ((b.start_s / speed) * rate).ceil().max(0.0) as usize;
            let last = (((b.start_s + b.dur_s) / speed) * rate).floor() as usize;
            for i in first..last.min(n) {
                let t = i as f64 / rate * speed - b.start_s;
                let env = (PI * t / b.dur_s).sin().powi(2);
                let (mut l, mut r) = (0.0, 0.0);
                for &(f, ph, bal) in &parts {
                    let v = (2.0 * PI * f * t + ph).sin();
                    l += v * (1.0 - bal);
                    r += v * bal;
                }
                left[i] += norm * env * l;
                right[i] += norm * env * r;
            }
        }
        vec![
            left.into_iter().map(|v| v as f32).collect(),
            right.into_iter().map(|v| v as f32).collect(),
        ]
    }
}

/// Program-like music bed, `seconds` long, `channels` channels (decorrelated), roughly
/// −20 dBFS RMS: slowly changing chords of soft tones over filtered noise. Deterministic in
/// `seed`; *not* rate-independent (use it as the bed, never as the ident).
pub fn music_bed(rate_hz: u32, seconds: f64, channels: usize, seed: u64) -> Vec<Vec<f32>> {
    let rate = f64::from(rate_hz);
    let n = (seconds * rate).round() as usize;
    let mut rng = Rng::new(seed);
    let scale = [110.0, 146.83, 164.81, 196.0, 220.0, 293.66, 329.63, 392.0];
    let chord_len = (2.0 * rate) as usize;
    (0..channels)
        .map(|c| {
            let mut out = vec![0.0f32; n];
            let mut lp = 0.0f64;
            let mut chord = [0.0f64; 3];
            for (i, o) in out.iter_mut().enumerate() {
                if i % chord_len.max(1) == 0 {
                    for f in chord.iter_mut() {
                        *f = scale[(rng.next_u64() % scale.len() as u64) as usize]
                            * if c % 2 == 0 { 1.0 } else { 1.0015 };
                    }
                }
                let t = i as f64 / rate;
                let tones: f64 = chord.iter().map(|f| (2.0 * PI * f * t).sin()).sum();
                lp = 0.9 * lp + 0.1 * (2.0 * rng.unit() - 1.0);
                *o = (0.03 * tones + 0.35 * lp) as f32;
            }
            out
        })
        .collect()
}

/// Music that *resembles* the ident: the ident's bell timbre and scale, notes in a random
/// melody, `seconds` long, stereo, rate-independent.
pub fn bell_music(seconds: f64, seed: u64) -> Jingle {
    let mut rng = Rng::new(seed);
    let scale = [523.25, 587.33, 659.26, 783.99, 880.0, 987.77, 1046.5];
    let mut notes = Vec::new();
    let mut t = 0.0;
    while t < seconds - 0.5 {
        notes.push(Note {
            start_s: t,
            freq_hz: scale[(rng.next_u64() % scale.len() as u64) as usize],
            dur_s: rng.range(0.5, 1.0).min(seconds - t),
            amp: rng.range(0.18, 0.3),
            pan: rng.unit(),
        });
        t += rng.range(0.25, 0.6);
    }
    Jingle {
        notes,
        bursts: Vec::new(),
        duration_s: seconds,
    }
}

/// Add `src` × `gain` into `dst` starting at sample `at` (clipped to `dst`'s length).
pub fn mix_into(dst: &mut [f32], src: &[f32], at: usize, gain: f32) {
    if at >= dst.len() {
        return;
    }
    for (d, s) in dst[at..].iter_mut().zip(src) {
        *d += s * gain;
    }
}

/// dB → linear amplitude.
pub fn db_to_gain(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}
