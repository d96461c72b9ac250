//! Any rate → 16 kHz for the speech gate: rubato's synchronous FFT resampler ([`rubato::Fft`]
//! with its squared Blackman–Harris sinc filter), computed two sub-chunks per complex FFT.
//!
//! rubato resamples each sub-chunk of `fft_in` input frames on its own: a real FFT of the
//! sub-chunk zero-padded to `2·fft_in`, the product with the filter's spectrum over the bins the
//! output keeps, an inverse real FFT of `2·fft_out` points, and an overlap-add of its second half
//! into the next sub-chunk's output. Two real signals `a` and `b` go through one complex FFT as
//! `a + i·b`; since the filter is real, the kept bins of `a + i·b` times the filter (and their
//! mirror images, times its conjugate) are the spectrum of `out_a + i·out_b`, so one inverse
//! complex FFT gives both outputs, as its real and imaginary parts. No real-FFT pre- or
//! post-processing is left, which was most of the resampler's cost (issue 17: the speech gate's
//! three resamplers were about a tenth of the default check). The outputs equal rubato's to
//! float rounding (a test runs both).

use std::sync::Arc;

use rubato::WindowFunction;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use crate::num::gcd;

/// Sub-chunk sizes and the filter of a rubato `Fft` resampler, and the FFTs that apply it.
pub(super) struct PairedFft {
    /// Input frames per sub-chunk.
    pub fft_in: usize,
    /// Output frames per sub-chunk.
    pub fft_out: usize,
    /// Spectrum bins carried to the output (rubato's `new_len`).
    kept: usize,
    /// The filter's spectrum (normalisation included), bins `0..kept`.
    filter: Vec<Complex<f32>>,
    forward: Arc<dyn rustfft::Fft<f32>>,
    inverse: Arc<dyn rustfft::Fft<f32>>,
    spectrum: Vec<Complex<f32>>,
    out: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl PairedFft {
    /// The resampler rubato's `Fft::new_custom(rate_in, rate_out, chunk, sub_chunks, _,
    /// BlackmanHarris2, FixedSync::Input)` builds for `chunk / sub_chunks = sub_chunk`:
    /// sub-chunks of `sub_chunk` input frames rounded up to a multiple of `rate_in / gcd`.
    pub(super) fn new(rate_in: usize, rate_out: usize, sub_chunk: usize) -> Self {
        let gcd = gcd(rate_in, rate_out);
        let units = sub_chunk.div_ceil(rate_in / gcd).max(1);
        let (fft_in, fft_out) = (units * rate_in / gcd, units * rate_out / gcd);
        let window = WindowFunction::BlackmanHarris2;
        let cutoff = if fft_in > fft_out {
            rubato::calculate_cutoff::<f32>(fft_out, window) * fft_out as f32 / fft_in as f32
        } else {
            rubato::calculate_cutoff::<f32>(fft_in, window)
        };
        let kept = if fft_in < fft_out {
            fft_in + 1
        } else {
            fft_out
        };
        let mut planner = FftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(2 * fft_in);
        let inverse = planner.plan_fft_inverse(2 * fft_out);
        let mut taps: Vec<Complex<f32>> = windowed_sinc(fft_in, cutoff)
            .into_iter()
            .map(|v| Complex::new(v / (2 * fft_in) as f32, 0.0))
            .collect();
        taps.resize(2 * fft_in, Complex::new(0.0, 0.0));
        forward.process(&mut taps);
        taps.truncate(kept);
        let scratch_len = forward
            .get_inplace_scratch_len()
            .max(inverse.get_inplace_scratch_len());
        Self {
            fft_in,
            fft_out,
            kept,
            filter: taps,
            forward,
            inverse,
            spectrum: vec![Complex::new(0.0, 0.0); 2 * fft_in],
            out: vec![Complex::new(0.0, 0.0); 2 * fft_out],
            scratch: vec![Complex::new(0.0, 0.0); scratch_len],
        }
    }

    /// Resample the sub-chunks `a` and `b` (`fft_in` frames each) into `out_a` and `out_b`
    /// (`2·fft_out` frames each, before the overlap-add: the second half overlaps the next
    /// sub-chunk's output).
    pub(super) fn pair(&mut self, a: &[f32], b: &[f32], out_a: &mut [f32], out_b: &mut [f32]) {
        let (n_in, n_out) = (2 * self.fft_in, 2 * self.fft_out);
        for (z, (&re, &im)) in self.spectrum.iter_mut().zip(a.iter().zip(b)) {
            *z = Complex::new(re, im);
        }
        self.spectrum[self.fft_in..].fill(Complex::new(0.0, 0.0));
        self.forward
            .process_with_scratch(&mut self.spectrum, &mut self.scratch);
        // Bins 0..kept times the filter, their mirror images `−m` (bins n − m) times its
        // conjugate, zeros between: as slices, backwards for the mirror images, so that both
        // loops vectorise.
        let (z, f, kept) = (&self.spectrum, &self.filter, self.kept);
        for ((o, &z), &f) in self.out[..kept].iter_mut().zip(&z[..kept]).zip(f) {
            *o = z * f;
        }
        self.out[kept..n_out + 1 - kept].fill(Complex::new(0.0, 0.0));
        let mirror = self.out[n_out + 1 - kept..].iter_mut().rev();
        for ((o, &z), &f) in mirror.zip(z[n_in + 1 - kept..].iter().rev()).zip(&f[1..]) {
            *o = z * f.conj();
        }
        self.inverse
            .process_with_scratch(&mut self.out, &mut self.scratch);
        for ((a, b), w) in out_a.iter_mut().zip(out_b.iter_mut()).zip(&self.out) {
            *a = w.re;
            *b = w.im;
        }
    }
}

/// rubato's `make_sincs(npoints, 1, cutoff, BlackmanHarris2)`: a sinc at `cutoff` (relative to
/// Nyquist) centred on `npoints / 2`, under a squared periodic Blackman–Harris window,
/// normalised to unit sum; computed in `f32` as rubato does for an `f32` resampler.
fn windowed_sinc(npoints: usize, cutoff: f32) -> Vec<f32> {
    use std::f64::consts::PI;
    let n = npoints as f64;
    let mut sum = 0.0f32;
    let mut y: Vec<f32> = (0..npoints)
        .map(|x| {
            let t = 2.0 * PI * x as f64 / n;
            let w = (0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos()
                - 0.01168 * (3.0 * t).cos()) as f32;
            let w = w * w;
            let v = (x as f32 - (npoints / 2) as f32) * cutoff;
            let sinc = if v == 0.0 {
                1.0
            } else {
                (v * std::f32::consts::PI).sin() / (v * std::f32::consts::PI)
            };
            let val = w * sinc;
            sum += val;
            val
        })
        .collect();
    for v in y.iter_mut() {
        *v /= sum;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
    use rubato::{Fft, FixedSync, Resampler};

    /// Two sub-chunks per complex FFT give rubato's own outputs, to float rounding, at a
    /// downsampling, an odd-ratio and an upsampling rate.
    #[test]
    fn pairs_match_rubato() {
        for rate in [48_000usize, 44_100, 96_000, 8_000] {
            // The gate's sub-chunk size; rubato gets calls of ten whole sub-chunks.
            let mut p = PairedFft::new(rate, 16_000, 384);
            let (chunk, subs) = (10 * p.fft_in, 10);
            let mut r = Fft::<f32>::new_custom(
                rate,
                16_000,
                chunk,
                subs,
                2,
                WindowFunction::BlackmanHarris2,
                FixedSync::Input,
            )
            .unwrap();
            let n_in = r.input_frames_next();
            let units = n_in / p.fft_in;
            assert_eq!(units * p.fft_in, n_in, "{rate}: whole sub-chunks per call");
            let signal = |c: usize| -> Vec<f32> {
                (0..n_in)
                    .map(|i| (((i * 7919 + c * 104_729) % 2001) as f32 / 1000.0 - 1.0) * 0.8)
                    .collect()
            };
            let input = vec![signal(0), signal(1)];
            let mut want = vec![vec![0.0f32; r.output_frames_max()]; 2];
            let inp = SequentialSliceOfVecs::new(&input, 2, n_in).unwrap();
            let out_len = want[0].len();
            let mut outp = SequentialSliceOfVecs::new_mut(&mut want, 2, out_len).unwrap();
            let (_, made) = r.process_into_buffer(&inp, &mut outp, None).unwrap();
            assert_eq!(made, units * p.fft_out);
            // Ours: channel 0's sub-chunks in pairs, with the overlap-add.
            let (fi, fo) = (p.fft_in, p.fft_out);
            let mut got = vec![0.0f32; (units + 1) * fo];
            let (mut oa, mut ob) = (vec![0.0; 2 * fo], vec![0.0; 2 * fo]);
            for k in (0..units).step_by(2) {
                let a = &input[0][k * fi..(k + 1) * fi];
                let zeros = vec![0.0; fi];
                let b = if k + 1 < units {
                    &input[0][(k + 1) * fi..(k + 2) * fi]
                } else {
                    &zeros
                };
                p.pair(a, b, &mut oa, &mut ob);
                for (g, v) in got[k * fo..].iter_mut().zip(&oa) {
                    *g += v;
                }
                for (g, v) in got[(k + 1) * fo..].iter_mut().zip(&ob) {
                    *g += v;
                }
            }
            let worst = want[0][..made]
                .iter()
                .zip(&got)
                .map(|(w, g)| (w - g).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 2e-6, "{rate}: max difference {worst}");
            assert!(want[0][made / 2].abs() > 0.01, "a real signal came out");
        }
    }
}
