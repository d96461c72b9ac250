//! The labelled test set of the speech gate: real (espeak-ng) speech from `tests/data/dialog`
//! and music/effects synthesised here, assembled into programs with known speech positions.
//! Self-contained (also used by `benches/dialog.rs` through `#[path]`).
#![allow(dead_code)]

use std::f64::consts::PI;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Program sample rate.
pub const RATE: u32 = 48_000;

/// The committed speech clips (rendered by `tools/make_dialog_speech.sh`).
pub const CLIPS: [&str; 9] = [
    "en_us_m3", "en_gb_f2", "en_f4", "en_us_m7", "en_sc_f3", "en_rp_m1", "es_m2", "fr_f1", "de_m4",
];

/// xorshift64*: deterministic noise with no extra crate.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A speech clip at 48 kHz (espeak-ng 16 kHz WAV upsampled with rubato).
pub fn speech_clip(name: &str) -> Vec<f32> {
    let path = format!(
        "{}/tests/data/dialog/{name}.wav",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut r = hound::WavReader::open(&path).expect("speech clip");
    assert_eq!(r.spec().sample_rate, 16_000);
    let x: Vec<f32> = r
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect();
    let mut rs = Fft::<f32>::new(16_000, RATE as usize, 1600, 1, FixedSync::Both).unwrap();
    let inp = InterleavedSlice::new(&x, 1, x.len()).unwrap();
    let out = rs.process_all(&inp, x.len(), None).unwrap();
    out.take_data()
}

/// Where speech is active in a clip, as (start, end) frame intervals: 20 ms frames within 40 dB
/// of the clip's loudest frame, with pauses shorter than 400 ms bridged (utterance level).
pub fn speech_intervals(x: &[f32]) -> Vec<(usize, usize)> {
    let f = RATE as usize / 50;
    let rms: Vec<f64> = x
        .chunks(f)
        .map(|c| {
            (c.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / c.len() as f64).sqrt()
        })
        .collect();
    let max = rms.iter().copied().fold(0.0, f64::max);
    let thr = max * 0.01;
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, &r) in rms.iter().enumerate() {
        if r >= thr {
            let (s, e) = (i * f, ((i + 1) * f).min(x.len()));
            match out.last_mut() {
                Some(last) if s - last.1 < RATE as usize * 2 / 5 => last.1 = e,
                _ => out.push((s, e)),
            }
        }
    }
    out
}

/// Simple two-pole resonator (band-pass) state.
struct Reson {
    a1: f64,
    a2: f64,
    g: f64,
    y1: f64,
    y2: f64,
}

impl Reson {
    fn new(freq: f64, bw: f64) -> Reson {
        let r = (-PI * bw / RATE as f64).exp();
        let th = 2.0 * PI * freq / RATE as f64;
        Reson {
            a1: 2.0 * r * th.cos(),
            a2: -r * r,
            g: 1.0 - r,
            y1: 0.0,
            y2: 0.0,
        }
    }
    fn run(&mut self, x: f64) -> f64 {
        let y = self.g * x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

fn n_frames(seconds: f64) -> usize {
    (seconds * RATE as f64).round() as usize
}

fn t(i: usize) -> f64 {
    i as f64 / RATE as f64
}

/// Piano-like chords: decaying additive tones, a chord every 2 s, with a bass note.
pub fn chords(seconds: f64, seed: u64) -> Vec<f32> {
    let prog: [[f64; 4]; 4] = [
        [261.63, 329.63, 392.0, 130.81],
        [220.0, 261.63, 329.63, 110.0],
        [174.61, 220.0, 261.63, 87.31],
        [196.0, 246.94, 293.66, 98.0],
    ];
    let shift = (seed % 4) as usize;
    (0..n_frames(seconds))
        .map(|i| {
            let tt = t(i);
            let k = (tt / 2.0) as usize;
            let local = tt - k as f64 * 2.0;
            let chord = prog[(k + shift) % 4];
            let env = (-local * 1.5).exp();
            let mut v = 0.0;
            for &f in &chord {
                for h in 1..=6 {
                    v += (2.0 * PI * f * h as f64 * tt).sin() / (h * h) as f64;
                }
            }
            (0.15 * env * v) as f32
        })
        .collect()
}

/// A drum kit at 120 bpm: kick on 1 and 3, snare on 2 and 4, hi-hat on eighths.
pub fn drums(seconds: f64, seed: u64) -> Vec<f32> {
    let mut nz = Noise::new(seed);
    let beat = 0.5;
    let mut hp_prev = 0.0;
    (0..n_frames(seconds))
        .map(|i| {
            let tt = t(i);
            let b = (tt / beat) as usize;
            let lb = tt - b as f64 * beat;
            let le = tt % (beat / 2.0);
            let n = nz.next();
            let mut v = 0.0;
            if b.is_multiple_of(2) {
                let f = 50.0 + 100.0 * (-lb * 30.0).exp();
                v += (2.0 * PI * f * lb).sin() * (-lb * 8.0).exp();
            } else {
                v += 0.6 * n * (-lb * 20.0).exp()
                    + 0.3 * (2.0 * PI * 200.0 * lb).sin() * (-lb * 25.0).exp();
            }
            let hp = n - hp_prev;
            hp_prev = n;
            v += 0.15 * hp * (-le * 60.0).exp();
            (0.5 * v) as f32
        })
        .collect()
}

/// Sung vowels: a harmonic voice with 5.5 Hz vibrato holding one vowel per phrase (/a/, /o/,
/// /i/, /e/ formants), legato notes of 1.6 s gliding into each other, phrases of four notes
/// with a 0.3 s breath.
pub fn singing(seconds: f64, seed: u64) -> Vec<f32> {
    voice(seconds, seed, 1.6, 4, false)
}

/// Syllabic singing: 0.8 s notes, each on a new vowel and detached by 50 ms fades (a sung
/// syllable per note). Speech-like enough that the gate takes much of it for speech: a known
/// limit, measured in `music_singing_noise_and_effects_alone_are_not_speech`.
pub fn syllabic_singing(seconds: f64, seed: u64) -> Vec<f32> {
    voice(seconds, seed, 0.8, 1, true)
}

fn voice(seconds: f64, seed: u64, note_s: f64, notes_per_vowel: usize, detached: bool) -> Vec<f32> {
    let melody = [
        220.0, 246.94, 261.63, 293.66, 329.63, 293.66, 261.63, 246.94,
    ];
    let vowels = [
        [800.0, 1200.0, 2500.0],
        [500.0, 900.0, 2400.0],
        [300.0, 2300.0, 3000.0],
        [500.0, 1900.0, 2600.0],
    ];
    let mut phase = 0.0f64;
    let mut out = Vec::with_capacity(n_frames(seconds));
    let mut res: Vec<Reson> = Vec::new();
    let mut vowel_idx = usize::MAX;
    let mut f0 = melody[seed as usize % 8];
    let glide = (-1.0 / (0.02 * RATE as f64)).exp();
    for i in 0..n_frames(seconds) {
        let tt = t(i);
        let k = (tt / note_s) as usize;
        let v = k / notes_per_vowel;
        if v != vowel_idx {
            vowel_idx = v;
            let f = vowels[(v + seed as usize) % 4];
            res = f.iter().map(|&f| Reson::new(f, 80.0)).collect();
        }
        let target = melody[(k + seed as usize) % 8];
        f0 = glide * f0 + (1.0 - glide) * target;
        let f = f0 * (1.0 + 0.03 * (2.0 * PI * 5.5 * tt).sin());
        phase += f / RATE as f64;
        phase -= phase.floor();
        // Glottal-like source: a band-limited sawtooth (20 harmonics).
        let mut src = 0.0;
        for h in 1..=20 {
            src += (2.0 * PI * h as f64 * phase).sin() / h as f64;
        }
        let env = if detached {
            let local = tt - k as f64 * note_s;
            (local / 0.05).min(1.0) * ((note_s - local) / 0.05).min(1.0)
        } else {
            let phrase = note_s * notes_per_vowel as f64;
            let local = tt - (tt / phrase).floor() * phrase;
            (local / 0.1).min(1.0) * ((phrase - 0.3 - local) / 0.1).clamp(0.0, 1.0)
        };
        let y: f64 = res.iter_mut().map(|r| r.run(src)).sum();
        out.push((0.5 * env * y) as f32);
    }
    out
}

/// Pink-ish noise (three one-pole bands of white noise).
pub fn pink_noise(seconds: f64, seed: u64) -> Vec<f32> {
    let mut nz = Noise::new(seed);
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    (0..n_frames(seconds))
        .map(|_| {
            let w = nz.next();
            a = 0.997 * a + 0.03 * w;
            b = 0.96 * b + 0.1 * w;
            c = 0.6 * c + 0.2 * w;
            (0.5 * (a + b + c + 0.1 * w)) as f32
        })
        .collect()
}

/// Effects: an explosion (low-passed noise burst), wind (slowly swept band noise) and an engine
/// (a 45–70 Hz buzz with harmonics), in turn.
pub fn effects(seconds: f64, seed: u64) -> Vec<f32> {
    let mut nz = Noise::new(seed);
    let mut lp = 0.0;
    let mut wind = Reson::new(600.0, 300.0);
    let mut phase = 0.0f64;
    (0..n_frames(seconds))
        .map(|i| {
            let tt = t(i);
            let part = ((tt / 3.0) as usize + seed as usize) % 3;
            let local = tt % 3.0;
            let n = nz.next();
            let v = match part {
                0 => {
                    lp = 0.97 * lp + 0.03 * n;
                    6.0 * lp * (-local * 1.2).exp()
                }
                1 => {
                    let g = 0.5 + 0.5 * (2.0 * PI * 0.3 * tt).sin();
                    3.0 * g * wind.run(n)
                }
                _ => {
                    let f = 45.0 + 25.0 * (2.0 * PI * 0.2 * tt).sin().abs();
                    phase += f / RATE as f64;
                    phase -= phase.floor();
                    let mut s = 0.0;
                    for h in 1..=12 {
                        s += (2.0 * PI * h as f64 * phase).sin() / h as f64;
                    }
                    0.4 * s + 0.05 * n
                }
            };
            v as f32
        })
        .collect()
}

/// A 12 s music excerpt of kind `k` (0 chords, 1 drums, 2 singing, 3 chords + drums + bass
/// voice, 4 noise).
pub fn music(k: usize, seconds: f64, seed: u64) -> Vec<f32> {
    match k % 5 {
        0 => chords(seconds, seed),
        1 => drums(seconds, seed),
        2 => singing(seconds, seed),
        3 => {
            let a = chords(seconds, seed);
            let b = drums(seconds, seed + 1);
            let c = singing(seconds, seed + 2);
            a.iter()
                .zip(&b)
                .zip(&c)
                .map(|((x, y), z)| 0.6 * x + 0.5 * y + 0.6 * z)
                .collect()
        }
        _ => pink_noise(seconds, seed),
    }
}

/// Scale `x` by `db` dB.
pub fn gain(x: &mut [f32], db: f64) {
    let g = 10f64.powf(db / 20.0) as f32;
    x.iter_mut().for_each(|v| *v *= g);
}

/// BS.1770 loudness (ungated mean square, K-weighting ignored) is not what we want; this is the
/// plain mean square in dB used only to pre-balance synthetic sources.
pub fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * ms.log10()
}

/// A labelled program: a dialogue track and a music/effects track (mono, 48 kHz) and the
/// speech intervals.
pub struct Program {
    pub dialog: Vec<f32>,
    pub bed: Vec<f32>,
    pub speech: Vec<(usize, usize)>,
}

impl Program {
    pub fn new() -> Program {
        Program {
            dialog: Vec::new(),
            bed: Vec::new(),
            speech: Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        self.dialog.len()
    }
    /// Append a speech clip (dialogue track) over whatever the bed does.
    pub fn speak(&mut self, clip: &[f32]) {
        let at = self.len();
        for (s, e) in speech_intervals(clip) {
            self.speech.push((at + s, at + e));
        }
        self.dialog.extend_from_slice(clip);
        self.bed.resize(self.dialog.len(), 0.0);
    }
    /// Append a bed-only passage.
    pub fn play(&mut self, bed: &[f32]) {
        self.bed.extend_from_slice(bed);
        self.dialog.resize(self.bed.len(), 0.0);
    }
    /// Append `seconds` of quiet room tone (−60 dBFS noise) on the bed.
    pub fn pause(&mut self, seconds: f64, seed: u64) {
        let mut nz = Noise::new(seed);
        let n = n_frames(seconds);
        self.bed.extend((0..n).map(|_| (0.001 * nz.next()) as f32));
        self.dialog.resize(self.bed.len(), 0.0);
    }
    /// Speech label of 400 ms block `k` (starting at `k`·100 ms): at least half of it speech.
    pub fn block_labels(&self, n_blocks: usize) -> Vec<bool> {
        let hop = RATE as usize / 10;
        (0..n_blocks)
            .map(|k| {
                let (b0, b1) = (k * hop, k * hop + 4 * hop);
                let covered: usize = self
                    .speech
                    .iter()
                    .map(|&(s, e)| e.min(b1).saturating_sub(s.max(b0)))
                    .sum();
                2 * covered >= 4 * hop
            })
            .collect()
    }
    /// Share of the program's length that is labelled speech.
    pub fn speech_fraction(&self) -> f64 {
        self.speech.iter().map(|(s, e)| e - s).sum::<usize>() as f64 / self.len() as f64
    }
    /// Stereo: dialogue in both channels (phantom centre), the bed in both.
    pub fn stereo(&self, dialog_db: f64, bed_db: f64) -> Vec<Vec<f32>> {
        let (gd, gb) = (db(dialog_db), db(bed_db));
        let ch: Vec<f32> = self
            .dialog
            .iter()
            .zip(&self.bed)
            .map(|(d, b)| gd * d + gb * b)
            .collect();
        vec![ch.clone(), ch]
    }
    /// 5.1 (L R C LFE Ls Rs): dialogue on C, the bed on L, R and (−6 dB) Ls, Rs.
    pub fn five_one(&self, dialog_db: f64, bed_db: f64) -> Vec<Vec<f32>> {
        let (gd, gb) = (db(dialog_db), db(bed_db));
        let bed: Vec<f32> = self.bed.iter().map(|b| gb * b).collect();
        let sur: Vec<f32> = bed.iter().map(|b| 0.5 * b).collect();
        let c: Vec<f32> = self.dialog.iter().map(|d| gd * d).collect();
        vec![bed.clone(), bed, c, vec![0.0; self.len()], sur.clone(), sur]
    }
}

impl Default for Program {
    fn default() -> Self {
        Program::new()
    }
}

fn db(x: f64) -> f32 {
    10f64.powf(x / 20.0) as f32
}
