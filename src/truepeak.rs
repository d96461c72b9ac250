//! True peak, ITU-R BS.1770-5 Annex 2 (placeholder: straightforward interpolation).
//!
//! Interpolating FIR of libebur128 / the ebur128 crate: 48 taps, Hann-windowed sinc, 4× below
//! 96 kHz, 2× below 192 kHz, none above. The reading is max(sample peak, interpolated peak).

const TAPS: usize = 48;

/// Oversampling factor used at `rate_hz`: 4 below 96 kHz, 2 below 192 kHz, else 1
/// (BS.1770-5 Annex 2 deems 2× sufficient at 96 kHz and above).
pub fn oversampling_factor(rate_hz: u32) -> u32 {
    if rate_hz < 96_000 {
        4
    } else if rate_hz < 192_000 {
        2
    } else {
        1
    }
}

/// A streaming true-peak meter for one channel.
#[derive(Debug, Clone)]
pub struct TruePeak {
    factor: usize,
    taps: usize,
    /// coeff[tap][phase]
    coeff: Vec<f32>,
    hist: Vec<f32>,
    pos: u64,
    peak: f32,
    peak_frame: Option<u64>,
    sample_peak: f32,
}

impl TruePeak {
    /// A meter for a stream at `rate_hz`.
    pub fn new(rate_hz: u32) -> Self {
        let factor = oversampling_factor(rate_hz) as usize;
        let taps = TAPS / factor;
        let mut coeff = vec![0f32; TAPS];
        for (j, c) in coeff.iter_mut().enumerate() {
            let jf = j as f64;
            let window = TAPS as f64;
            let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * jf / window).cos());
            let m = jf - window / 2.0;
            let f = factor as f64;
            *c = if m.abs() > 1e-6 {
                w * (m * std::f64::consts::PI / f).sin() / (m * std::f64::consts::PI / f)
            } else {
                w
            } as f32;
        }
        TruePeak {
            factor,
            taps,
            coeff,
            hist: vec![0.0; taps],
            pos: 0,
            peak: 0.0,
            peak_frame: None,
            sample_peak: 0.0,
        }
    }

    /// The oversampling factor in use.
    pub fn factor(&self) -> u32 {
        self.factor as u32
    }

    /// Feed samples (non-finite samples must have been replaced by the caller).
    pub fn process(&mut self, samples: &[f32]) {
        for &x in samples {
            let a = x.abs();
            if a > self.sample_peak {
                self.sample_peak = a;
            }
            if a > self.peak {
                self.peak = a;
                self.peak_frame = Some(self.pos);
            }
            if self.factor > 1 {
                self.hist.rotate_right(1);
                self.hist[0] = x;
                for p in 0..self.factor {
                    let mut acc = 0f32;
                    for t in 0..self.taps {
                        acc += self.hist[t] * self.coeff[t * self.factor + p];
                    }
                    let v = acc.abs();
                    if v > self.peak {
                        self.peak = v;
                        self.peak_frame = Some(self.pos.saturating_sub((self.taps / 2) as u64));
                    }
                }
            }
            self.pos += 1;
        }
    }

    /// Linear true peak so far (0.0 before any sample).
    pub fn peak(&self) -> f64 {
        f64::from(self.peak.max(self.sample_peak))
    }

    /// Frame nearest the maximum.
    pub fn peak_frame(&self) -> Option<u64> {
        self.peak_frame
    }

    /// Linear sample peak so far.
    pub fn sample_peak(&self) -> f64 {
        f64::from(self.sample_peak)
    }
}
