//! The reference ident: loading it from any decodable file, its mono downmix, and resampling
//! (rubato's synchronous FFT resampler, delay-compensated by `process_all_into_buffer`) to the
//! program's rate, to the analysis rate and to the speeds of frame-rate conversions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use crate::decode;
use crate::error::{Error, ErrorKind, Result};
use crate::num::gcd;

/// Longest reference accepted, seconds: an ident is a few seconds; anything this long is
/// probably the wrong file (and would make the search slow).
pub const MAX_REFERENCE_S: f64 = 120.0;

/// Shortest reference accepted, seconds: below this a correlation says little.
pub const MIN_REFERENCE_S: f64 = 0.25;

/// A reference ident, decoded in full (it is short). Its resampled forms are computed once per
/// (rate, speed) and shared by every search that uses it (clones share them too).
#[derive(Clone)]
pub struct Reference {
    name: String,
    rate_hz: u32,
    channels: Vec<Vec<f32>>,
    resampled: Arc<Mutex<HashMap<Form, Planar>>>,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the samples: options holding references get printed.
        f.debug_struct("Reference")
            .field("name", &self.name)
            .field("rate_hz", &self.rate_hz)
            .field("channels", &self.channels.len())
            .field("frames", &self.frames())
            .finish()
    }
}

/// Shared planar samples.
pub(crate) type Planar = Arc<Vec<Vec<f32>>>;

/// Which resampled form: (rate, speed numerator, speed denominator, mono only).
type Form = (u32, u32, u32, bool);

impl Reference {
    /// Decode the reference file at `path` (any format loudqc reads, any rate or channel
    /// count). Errors name the file; a reference longer than [`MAX_REFERENCE_S`], shorter than
    /// [`MIN_REFERENCE_S`] or silent is refused.
    pub fn load(path: &Path) -> Result<Reference> {
        Self::load_inner(path).map_err(|e| e.with_path(path))
    }

    fn load_inner(path: &Path) -> Result<Reference> {
        let mut src = decode::open_path(path)?;
        let info = src.info().clone();
        let max_frames = (MAX_REFERENCE_S * f64::from(info.sample_rate_hz)) as usize;
        let mut channels: Vec<Vec<f32>> = vec![Vec::new(); info.channels];
        let mut buf = Vec::new();
        loop {
            let n = src.read(&mut buf, 1 << 16)?;
            if n == 0 {
                break;
            }
            for (dst, s) in channels.iter_mut().zip(&buf) {
                dst.extend_from_slice(&s[..n]);
            }
            if channels[0].len() > max_frames {
                return Err(Error::invalid(
                    "ident reference length",
                    format!("at most {MAX_REFERENCE_S} s"),
                    "a longer file",
                ));
            }
        }
        Self::from_planar(path.display().to_string(), info.sample_rate_hz, channels)
    }

    /// A reference from planar samples (one `Vec` per channel, equal lengths).
    pub fn from_planar(
        name: impl Into<String>,
        rate_hz: u32,
        channels: Vec<Vec<f32>>,
    ) -> Result<Reference> {
        decode::Limits::check(rate_hz, channels.len())?;
        let frames = channels[0].len();
        if channels.iter().any(|c| c.len() != frames) {
            return Err(Error::invalid(
                "ident reference channels",
                "equal lengths",
                "channels of different lengths",
            ));
        }
        let secs = frames as f64 / f64::from(rate_hz);
        if !(MIN_REFERENCE_S..=MAX_REFERENCE_S).contains(&secs) {
            return Err(Error::invalid(
                "ident reference length",
                format!("{MIN_REFERENCE_S} s to {MAX_REFERENCE_S} s"),
                format!("{secs:.3} s"),
            ));
        }
        if channels.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::malformed("ident reference has NaN/infinite samples"));
        }
        if channels.iter().flatten().all(|&v| v == 0.0) {
            return Err(Error::malformed("ident reference is digital silence"));
        }
        Ok(Reference {
            name: name.into(),
            rate_hz,
            channels,
            resampled: Arc::default(),
        })
    }

    /// The name it is reported under (the path as given).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its sample rate, Hz.
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }
    /// Its channel count.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
    /// Its frames.
    pub fn frames(&self) -> usize {
        self.channels[0].len()
    }
    /// Its length, seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.rate_hz)
    }
    /// Its samples, one `Vec` per channel.
    pub fn channels(&self) -> &[Vec<f32>] {
        &self.channels
    }

    /// The channels followed by the mono downmix (their mean), rendered at `rate_hz` and played
    /// `speed` = `num/den` times faster (1/1 = unchanged).
    pub(crate) fn templates(&self, rate_hz: u32, num: u32, den: u32) -> Result<Planar> {
        self.form((rate_hz, num, den, false))
    }

    /// The mono downmix at `rate_hz`, played `num/den` times faster (a one-element list).
    pub(crate) fn mono_template(&self, rate_hz: u32, num: u32, den: u32) -> Result<Planar> {
        self.form((rate_hz, num, den, true))
    }

    fn form(&self, form: Form) -> Result<Planar> {
        let (rate_hz, num, den, mono_only) = form;
        if let Some(f) = self.cached(&form) {
            return Ok(f);
        }
        let mut planar = if mono_only {
            Vec::new()
        } else {
            self.channels.clone()
        };
        planar.push(mono(&self.channels));
        // Played `num/den` faster at `rate_hz` = resampled from the reference rate to
        // rate_hz × den / num.
        let (from, to) = (
            u64::from(self.rate_hz) * u64::from(num),
            u64::from(rate_hz) * u64::from(den),
        );
        let g = gcd(from, to).max(1);
        // rubato's FFT resampler needs chunks of `from / g` frames: fine for rate and
        // frame-rate ratios (48 000 → 8 000 × 1001/1000 is 3003:500), not for an arbitrary
        // speed such as 1.03712 (10⁵-sized FFTs); those go through the windowed-sinc stretcher.
        let out = Arc::new(if from / g <= MAX_RUBATO_CHUNK {
            resample(&planar, from, to)?
        } else {
            stretch(&planar, from, to)
        });
        if let Ok(mut m) = self.resampled.lock() {
            m.insert(form, Arc::clone(&out));
        }
        Ok(out)
    }

    fn cached(&self, form: &Form) -> Option<Planar> {
        self.resampled.lock().ok()?.get(form).cloned()
    }
}

/// The mean of the channels.
pub(crate) fn mono(channels: &[Vec<f32>]) -> Vec<f32> {
    let n = channels.first().map_or(0, Vec::len);
    let k = 1.0 / channels.len().max(1) as f32;
    (0..n)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() * k)
        .collect()
}

/// Largest reduced input chunk handed to rubato's FFT resampler, frames.
const MAX_RUBATO_CHUNK: u64 = 20_000;

/// Zero crossings of the sinc kernel on each side (12: about −60 dB of ripple with the
/// Blackman window).
const SINC_ZEROS: f64 = 12.0;
/// Kernel phases per input sample (nearest phase used: ≤ 1/2048 sample of timing error).
const SINC_PHASES: usize = 1024;

/// Resample planar audio from rate `from` to rate `to` (any ratio, e.g. an arbitrary playback
/// speed) by Blackman-windowed sinc interpolation, the cutoff at 0.92 of the lower Nyquist
/// frequency. Aligned with the input (sample 0 stays at time 0), `ceil(len × to / from)`
/// frames long.
pub(crate) fn stretch(planar: &[Vec<f32>], from: u64, to: u64) -> Vec<Vec<f32>> {
    let frames = planar.first().map_or(0, Vec::len);
    if from == 0 || to == 0 || frames == 0 {
        return planar.to_vec();
    }
    let step = from as f64 / to as f64; // input samples per output sample
    let out_len = (frames as u128 * u128::from(to)).div_ceil(u128::from(from)) as usize;
    let fc = 0.5 * (1.0 / step).min(1.0) * 0.92; // cycles per input sample
    let half = (SINC_ZEROS / (2.0 * fc)).ceil() as usize;
    let taps = 2 * half;
    // table[phase][j]: the kernel at offset (j − half + 1 − phase/PHASES) input samples.
    let table: Vec<f32> = (0..=SINC_PHASES)
        .flat_map(|ph| {
            let frac = ph as f64 / SINC_PHASES as f64;
            (0..taps).map(move |j| {
                let x = j as f64 - half as f64 + 1.0 - frac;
                let u = x / half as f64;
                if u.abs() >= 1.0 {
                    return 0.0f32;
                }
                let arg = 2.0 * fc * x;
                let sinc = if arg.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
                };
                let w = 0.42
                    + 0.5 * (std::f64::consts::PI * u).cos()
                    + 0.08 * (2.0 * std::f64::consts::PI * u).cos();
                (2.0 * fc * sinc * w) as f32
            })
        })
        .collect();
    planar
        .iter()
        .map(|x| {
            (0..out_len)
                .map(|i| {
                    let t = i as f64 * step;
                    let base = t.floor();
                    let ph = ((t - base) * SINC_PHASES as f64).round() as usize;
                    let k = &table[ph * taps..(ph + 1) * taps];
                    // input index of tap j: base − half + 1 + j
                    let first = base as i64 - half as i64 + 1;
                    let (j0, j1) = (
                        (-first).clamp(0, taps as i64) as usize,
                        (frames as i64 - first).clamp(0, taps as i64) as usize,
                    );
                    if j0 >= j1 {
                        return 0.0;
                    }
                    let a = (first + j0 as i64) as usize;
                    k[j0..j1]
                        .iter()
                        .zip(&x[a..a + (j1 - j0)])
                        .map(|(h, v)| h * v)
                        .sum::<f32>()
                })
                .collect()
        })
        .collect()
}

/// Resample planar audio from rate `from` to rate `to` (any integers; only their ratio matters)
/// with rubato's FFT resampler. The output is aligned with the input (the resampler's delay is
/// removed) and `ceil(len × to / from)` frames long.
pub(crate) fn resample(planar: &[Vec<f32>], from: u64, to: u64) -> Result<Vec<Vec<f32>>> {
    let g = gcd(from, to).max(1);
    let (from, to) = ((from / g) as usize, (to / g) as usize);
    if from == to {
        return Ok(planar.to_vec());
    }
    let channels = planar.len();
    let frames = planar.first().map_or(0, Vec::len);
    if channels == 0 || frames == 0 {
        return Ok(planar.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| Error::new(ErrorKind::Resample(e.to_string()));
    // rubato panics on a non-finite spectrum (found by fuzzing): NaN/Inf → 0, absurd values
    // clamped, as the dialog gate does.
    let max = crate::dialog::MAX_RESAMPLED_SAMPLE;
    let clean: Vec<Vec<f32>>;
    let planar = if planar.iter().flatten().all(|v| v.abs() <= max) {
        planar
    } else {
        clean = planar
            .iter()
            .map(|c| {
                c.iter()
                    .map(|&v| {
                        if v.is_finite() {
                            v.clamp(-max, max)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        &clean
    };
    // One FFT unit of `from × k` input frames with k a power of two (≥ 1024 frames): sizes
    // with small factors only (the default sub-chunking picks sizes such as 6 × 43 = 258 for
    // 48 → 8 kHz, whose prime factor makes the FFT several times slower).
    let k = 1024usize.div_ceil(from).next_power_of_two();
    let mut rs = Fft::<f32>::new_custom(
        from,
        to,
        from * k,
        1,
        channels,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| err(&e))?;
    let needed = rs.process_all_needed_output_len(frames);
    let mut out = vec![vec![0.0f32; needed]; channels];
    let input = SequentialSliceOfVecs::new(planar, channels, frames).map_err(|e| err(&e))?;
    let produced = {
        let mut output =
            SequentialSliceOfVecs::new_mut(&mut out, channels, needed).map_err(|e| err(&e))?;
        rs.process_all_into_buffer(&input, &mut output, frames, None)
            .map_err(|e| err(&e))?
            .1
    };
    for c in &mut out {
        c.truncate(produced);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_keeps_alignment_and_length() {
        // A click at 1 s stays at 1 s (±1 sample) through 48 → 44.1 kHz.
        let mut x = vec![0.0f32; 96_000];
        x[48_000] = 1.0;
        let y = resample(&[x], 48_000, 44_100).unwrap().pop().unwrap();
        assert_eq!(y.len(), 88_200);
        let peak = y
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert!((peak as i64 - 44_100).abs() <= 1, "click at {peak}");
    }

    #[test]
    fn stretch_matches_rubato_and_keeps_a_tone() {
        // A 1 kHz tone at 48 kHz, stretched to 8 kHz at speed 1.03: a 1030 Hz tone at 8 kHz,
        // aligned at sample 0 (phase 0).
        let x: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin() as f32)
            .collect();
        let y = stretch(std::slice::from_ref(&x), 48_000 * 103, 8_000 * 100)
            .pop()
            .unwrap();
        assert_eq!(y.len(), (48_000usize * 800_000).div_ceil(4_944_000));
        let inner = y.len() - 400;
        for (i, &v) in y.iter().enumerate().skip(200).take(inner) {
            let want = (2.0 * std::f64::consts::PI * 1030.0 * i as f64 / 8_000.0).sin();
            assert!((f64::from(v) - want).abs() < 5e-3, "{i}: {v} vs {want}");
        }
        // Same ratio as rubato on a rational rate change: the same samples within −60 dB.
        let a = resample(std::slice::from_ref(&x), 48_000, 44_100)
            .unwrap()
            .pop()
            .unwrap();
        let b = stretch(&[x], 48_000, 44_100).pop().unwrap();
        assert_eq!(a.len(), b.len());
        let worst = a[500..a.len() - 500]
            .iter()
            .zip(&b[500..])
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 2e-3, "worst difference {worst}");
    }

    #[test]
    fn refuses_silence_and_bad_lengths() {
        assert!(Reference::from_planar("s", 48_000, vec![vec![0.0; 48_000]]).is_err());
        assert!(Reference::from_planar("short", 48_000, vec![vec![0.1; 100]]).is_err());
        assert!(Reference::from_planar("ok", 48_000, vec![vec![0.1; 48_000]]).is_ok());
    }
}
