//! True peak, ITU-R BS.1770-5 Annex 2: 4× oversampling below 96 kHz, 2× from 96 kHz.
//!
//! The interpolator is the one of libebur128 and the `ebur128` crate (48-tap Hann-windowed sinc,
//! split into 4 phases of 12 taps or 2 of 24), so readings match those meters sample for sample.
//! The reading is max(sample peak, interpolated peak).
//!
//! # Exact, and fast
//! The straightforward search computes every interpolated sample: 48 multiply-adds per input
//! sample per channel. [`TruePeak`] computes the very same `f32` values in the very same order
//! (so its peak is bit-identical to [`true_peak_naive`], which a property test checks), but
//!
//! * computes them 64 outputs at a time in a layout the compiler vectorises, and
//! * skips a run of 64 input samples when a bound proves none of its interpolated values can raise
//!   the running maximum: `|y| ≤ G · max|x|` over the samples the filter reaches, with `G` the
//!   largest sum of absolute coefficients of one phase (plus a margin for `f32` rounding).
//!
//! Programme audio peaks early and rarely, so almost every run is skipped after the first seconds.
//! Over-threshold regions and a per-block timeline (for reports) are exact too: a run is only
//! skipped when its bound is below everything those need as well.

use std::f64::consts::PI;

/// Filter length of the interpolator over all phases (libebur128 `interp_create(49, …)`, whose
/// last tap is zero).
const TAPS: usize = 48;
/// Above this |sample| (+600 dBFS) a run is summed in f64: 12–24 products of such samples could
/// overflow an f32 sum to infinity.
const HUGE_SAMPLE: f32 = 1e30;
/// Input samples per skip decision and per vectorised pass.
const RUN: usize = 64;

/// Oversampling factor at `rate_hz`: 4 below 96 kHz, 2 below 192 kHz, else 1 (BS.1770-5 Annex 2
/// deems 2× sufficient at 96 kHz and above; at 192 kHz and more the sample peak is the true peak,
/// as in the `ebur128` crate).
pub fn oversampling_factor(rate_hz: u32) -> u32 {
    if rate_hz < 96_000 {
        4
    } else if rate_hz < 192_000 {
        2
    } else {
        1
    }
}

/// The interpolating filter as `coeff[tap * factor + phase]` (the `ebur128` crate's layout).
fn coefficients(factor: usize) -> Vec<f32> {
    (0..TAPS)
        .map(|j| {
            let jf = j as f64;
            let window = TAPS as f64;
            let w = 0.5 * (1.0 - (2.0 * PI * jf / window).cos());
            let m = jf - window / 2.0;
            let f = factor as f64;
            (if m.abs() > 1e-9 {
                w * (m * PI / f).sin() / (m * PI / f)
            } else {
                w
            }) as f32
        })
        .collect()
}

/// Largest |x| (inputs are finite: the meter replaces non-finite samples). Eight independent
/// lanes with compare-and-select, which compiles to packed max instructions (`f32::max` does
/// not, for its NaN rules).
#[inline]
pub fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, v) in lanes.iter_mut().zip(c) {
            let a = v.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    for v in rest {
        let a = v.abs();
        lanes[0] = if a > lanes[0] { a } else { lanes[0] };
    }
    lanes
        .into_iter()
        .fold(0.0, |m, v| if v > m { v } else { m })
}

/// [`kernel`] compiled for each instruction set pulp knows (AVX-512, AVX2, SSE2) and picked at
/// run time (issue 17). The arithmetic is the same on all of them (separate multiplies and
/// adds in tap order, never fused), so the values are bit-identical; only the vector width
/// changes. A steady quiet channel (an LFE rumble) can never be skipped by the bound and is
/// interpolated whole: this made its cost 4× smaller on AVX-512.
struct Interpolate<'a, const F: usize, const T: usize> {
    h: &'a [[f32; F]; T],
    x: &'a [f32],
    base: usize,
    len: usize,
    out: &'a mut [f32; RUN],
}

impl<const F: usize, const T: usize> pulp::WithSimd for Interpolate<'_, F, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        // Outputs per step: 16 (one AVX-512 register of f32, two AVX ones) where vectors are at
        // least 256 bits wide, else 8 (two SSE registers: 16 would not leave the four phases'
        // accumulators room in the 16 SSE registers). The values do not depend on it.
        if std::mem::size_of::<S::f32s>() >= 32 {
            kernel::<F, T, 16>(self.h, self.x, self.base, self.len, self.out);
        } else {
            kernel::<F, T, 8>(self.h, self.x, self.base, self.len, self.out);
        }
    }
}

/// `out[i]` = the largest |interpolated value| over all phases for output `i` of a run:
/// `Σ_t h[t][p] · x[base + i − t]`, summed in tap order exactly as the naive loop does.
/// `W` outputs × all phases stay in registers while each input vector is loaded once per tap.
#[inline(always)]
fn kernel<const F: usize, const T: usize, const W: usize>(
    h: &[[f32; F]; T],
    x: &[f32],
    base: usize,
    len: usize,
    out: &mut [f32; RUN],
) {
    let mut i = 0;
    while i + W <= len {
        let mut acc = [[0f32; W]; F];
        for (t, ht) in h.iter().enumerate() {
            let xs: &[f32; W] = x[base + i - t..base + i - t + W]
                .try_into()
                .expect("W samples");
            for (a, &c) in acc.iter_mut().zip(ht) {
                for (aj, &xj) in a.iter_mut().zip(xs) {
                    *aj += c * xj;
                }
            }
        }
        for j in 0..W {
            out[i + j] = acc.iter().fold(0.0, |m, a| {
                let v = a[j].abs();
                if v > m {
                    v
                } else {
                    m
                }
            });
        }
        i += W;
    }
    for (i, o) in out.iter_mut().enumerate().take(len).skip(i) {
        let mut acc = [0f32; F];
        for (t, ht) in h.iter().enumerate() {
            let xv = x[base + i - t];
            for (a, &c) in acc.iter_mut().zip(ht) {
                *a += c * xv;
            }
        }
        *o = acc
            .iter()
            .fold(0.0, |m, a| if a.abs() > m { a.abs() } else { m });
    }
}

/// A contiguous stretch of input frames whose true peak exceeds a threshold.
///
/// ```
/// use loudqc::truepeak::TruePeak;
/// let mut tp = TruePeak::new(48_000).with_overs(0.5, 0);
/// let mut x = vec![0.0f32; 4800];
/// x[1000..1010].fill(0.9);
/// tp.process(&x);
/// let overs = tp.all_overs();
/// assert_eq!(overs.len(), 1);
/// assert!(overs[0].start_frame <= 1000 && overs[0].end_frame >= 1010);
/// assert!(overs[0].peak >= 0.9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Over {
    /// First input frame whose interpolated (or sample) value exceeds the threshold.
    pub start_frame: u64,
    /// One past the last such frame.
    pub end_frame: u64,
    /// Frame of the largest value in the stretch.
    pub peak_frame: u64,
    /// Largest absolute value (linear) in the stretch.
    pub peak: f64,
}

/// Over-threshold region tracking.
#[derive(Debug, Clone)]
struct OverTracker {
    threshold: f32,
    merge_gap_frames: u64,
    done: Vec<Over>,
    open: Option<Over>,
}

impl OverTracker {
    fn hit(&mut self, frame: u64, v: f32) {
        let v64 = f64::from(v);
        match &mut self.open {
            // Hits arrive in frame order; min/max keep a stretch whole even if they did not.
            Some(o)
                if frame.saturating_add(self.merge_gap_frames) >= o.start_frame
                    && frame <= o.end_frame.saturating_add(self.merge_gap_frames) =>
            {
                o.start_frame = o.start_frame.min(frame);
                o.end_frame = o.end_frame.max(frame + 1);
                if v64 > o.peak {
                    o.peak = v64;
                    o.peak_frame = frame;
                }
            }
            open => {
                if let Some(o) = open.take() {
                    self.done.push(o);
                }
                *open = Some(Over {
                    start_frame: frame,
                    end_frame: frame + 1,
                    peak_frame: frame,
                    peak: v64,
                });
            }
        }
    }
}

/// A streaming true-peak meter for one channel. Feed it any chunking; results do not depend on it.
///
/// ```
/// use loudqc::truepeak::TruePeak;
/// // A 12 kHz sine sampled at 45° phase: every sample is at 0.707, the wave peaks at 1.0
/// // between them (ITU-R BS.1770-5 Annex 2: 4× oversampling at 48 kHz).
/// let x: Vec<f32> = (0..4800)
///     .map(|n| (std::f64::consts::PI * (0.5 * n as f64 + 0.25)).sin() as f32)
///     .collect();
/// let mut tp = TruePeak::new(48_000);
/// for chunk in x.chunks(333) {
///     tp.process(chunk);
/// }
/// assert_eq!(tp.factor(), 4);
/// assert!((tp.sample_peak() - 0.7071).abs() < 1e-3);
/// assert!(tp.peak() > 0.95, "true peak {}", tp.peak());
/// ```
#[derive(Debug, Clone)]
pub struct TruePeak {
    factor: usize,
    /// Taps per phase.
    taps: usize,
    /// `h4[tap][phase]` (4×) and `h2[tap][phase]` (2×): fixed shapes for the kernel.
    h4: [[f32; 4]; TAPS / 4],
    h2: [[f32; 2]; TAPS / 2],
    /// Upper bound of |interpolated| / max|input| over the filter's reach, with rounding margin.
    gain_bound: f64,
    /// The last `taps - 1` input samples, then the current block.
    buf: Vec<f32>,
    /// Input frames consumed.
    pos: u64,
    /// Largest interpolated or sample value so far, and where.
    peak: f32,
    peak_frame: Option<u64>,
    sample_peak: f32,
    interpolated_frames: u64,
    overs: Option<OverTracker>,
    timeline: Option<(u64, Vec<f32>)>,
    /// The instruction set the interpolator runs on (found once).
    arch: pulp::Arch,
}

impl TruePeak {
    /// A meter for a stream at `rate_hz`.
    pub fn new(rate_hz: u32) -> Self {
        let factor = oversampling_factor(rate_hz) as usize;
        let taps = TAPS / factor;
        let coeff = coefficients(factor);
        let c4 = coefficients(4);
        let c2 = coefficients(2);
        let h4 = std::array::from_fn(|t| std::array::from_fn(|p| c4[t * 4 + p]));
        let h2 = std::array::from_fn(|t| std::array::from_fn(|p| c2[t * 2 + p]));
        let g = (0..factor)
            .map(|p| {
                (0..taps)
                    .map(|t| f64::from(coeff[t * factor + p].abs()))
                    .sum::<f64>()
            })
            .fold(1.0f64, f64::max);
        TruePeak {
            factor,
            taps,
            h4,
            h2,
            // f32 summation of `taps` products errs by at most taps·ε relative to Σ|h||x|.
            gain_bound: g * (1.0 + 1e-4),
            buf: vec![0.0; taps.saturating_sub(1)],
            pos: 0,
            peak: 0.0,
            peak_frame: None,
            sample_peak: 0.0,
            interpolated_frames: 0,
            overs: None,
            timeline: None,
            arch: pulp::Arch::new(),
        }
    }

    /// Also record every stretch whose value exceeds `threshold` (linear), merging stretches less
    /// than `merge_gap_frames` apart (which also bounds the list's length).
    pub fn with_overs(mut self, threshold: f64, merge_gap_frames: u64) -> Self {
        self.overs = Some(OverTracker {
            threshold: threshold as f32,
            merge_gap_frames,
            done: Vec::new(),
            open: None,
        });
        self
    }

    /// Also record the largest value of every `block_frames` input frames (a timeline for plots).
    pub fn with_timeline(mut self, block_frames: u64) -> Self {
        self.timeline = Some((block_frames.max(1), Vec::new()));
        self
    }

    /// The oversampling factor in use.
    pub fn factor(&self) -> u32 {
        self.factor as u32
    }

    /// Input frames consumed.
    pub fn frames(&self) -> u64 {
        self.pos
    }

    /// Input frames whose interpolated values were actually computed (the rest were proved unable
    /// to matter): a measure of how much the bound saves.
    pub fn interpolated_frames(&self) -> u64 {
        self.interpolated_frames
    }

    /// Linear true peak so far: max(sample peak, interpolated peak); 0.0 before any sample.
    pub fn peak(&self) -> f64 {
        f64::from(self.peak)
    }

    /// Frame of the first occurrence of the maximum (interpolated values are attributed to the
    /// input frame at the filter's centre).
    pub fn peak_frame(&self) -> Option<u64> {
        self.peak_frame
    }

    /// Linear sample peak so far.
    pub fn sample_peak(&self) -> f64 {
        f64::from(self.sample_peak)
    }

    /// All over-threshold stretches, the open one included.
    pub fn all_overs(&self) -> Vec<Over> {
        let Some(o) = &self.overs else {
            return Vec::new();
        };
        let mut o = o.clone();
        if self.factor > 1 {
            // The last `delay` samples have no interpolated values yet (the interpolator is not
            // flushed, as in libebur128), but their sample values count.
            let delay = (self.taps / 2).min(self.pos as usize);
            let tail = &self.buf[self.buf.len() - delay..];
            for (i, &v) in tail.iter().enumerate() {
                if v.abs() > o.threshold {
                    o.hit(self.pos - delay as u64 + i as u64, v.abs());
                }
            }
        }
        o.done.extend(o.open.take());
        o.done
    }

    /// The timeline: the largest value of each block, the last one partial.
    pub fn timeline(&self) -> &[f32] {
        self.timeline.as_ref().map_or(&[], |t| &t.1)
    }

    /// Feed samples. Non-finite samples must have been replaced by the caller (the meter does);
    /// a NaN is ignored, an infinity makes the peak infinite.
    pub fn process(&mut self, samples: &[f32]) {
        let hist = self.taps.saturating_sub(1);
        self.buf.truncate(hist);
        self.buf.extend_from_slice(samples);
        let mut start = 0;
        while start < samples.len() {
            let len = RUN.min(samples.len() - start);
            self.run(start, len);
            start += len;
        }
        let keep_from = self.buf.len() - hist;
        self.buf.copy_within(keep_from.., 0);
        self.buf.truncate(hist);
    }

    /// Process `len` samples at `start` of the current block (`buf[hist + start ..]`).
    fn run(&mut self, start: usize, len: usize) {
        let hist = self.taps.saturating_sub(1);
        let first = self.pos;
        let x = &self.buf[hist + start..hist + start + len];
        let run_max = max_abs(x);
        // Sample peak and the sample values themselves.
        if run_max > self.sample_peak {
            self.sample_peak = run_max;
        }
        if run_max > self.peak {
            let i = x.iter().position(|v| v.abs() == run_max).unwrap_or(0);
            self.peak = run_max;
            self.peak_frame = Some(first + i as u64);
        }
        // The bound on every interpolated value of this run, and what it would have to beat.
        let reach = run_max.max(max_abs(&self.buf[start..hist + start]));
        let bound = f64::from(reach) * self.gain_bound;
        let mut need = f64::from(self.peak);
        if let Some(o) = &self.overs {
            need = need.min(f64::from(o.threshold));
        }
        let block_frames = self.timeline.as_ref().map(|t| t.0);
        if let Some((bf, tl)) = &self.timeline {
            // The timeline needs each block's own maximum: compare with the smallest maximum of
            // the blocks this run's interpolated values land in (blocks not begun count as 0).
            let delay = (self.taps / 2) as u64;
            let lo = (first.saturating_sub(delay) / bf) as usize;
            let hi = ((first + len as u64 - 1).saturating_sub(delay) / bf) as usize;
            let smallest = (lo..=hi).fold(f32::INFINITY, |m, b| {
                m.min(tl.get(b).copied().unwrap_or(0.0))
            });
            need = need.min(f64::from(smallest));
        }
        let over_thr = self.overs.as_ref().map(|o| o.threshold);
        if bound > need && self.factor > 1 {
            self.interpolate_run(start, len, reach, over_thr);
        }
        let x = &self.buf[hist + start..hist + start + len];
        if let Some(thr) = over_thr.filter(|&thr| self.factor == 1 && run_max > thr) {
            // Without oversampling the samples are the values. (With it, interpolate_run takes
            // each sample together with the interpolated values of its frame, in frame order.)
            for (i, &v) in x.iter().enumerate() {
                if v.abs() > thr {
                    if let Some(o) = &mut self.overs {
                        o.hit(first + i as u64, v.abs());
                    }
                }
            }
        }
        if let (Some(bf), Some((_, tl))) = (block_frames, &mut self.timeline) {
            // Sample values enter the timeline too (interpolate_run already added its values).
            for (i, &v) in x.iter().enumerate() {
                let b = ((first + i as u64) / bf) as usize;
                if tl.len() <= b {
                    tl.resize(b + 1, 0.0);
                }
                tl[b] = tl[b].max(v.abs());
            }
        }
        self.pos += len as u64;
    }

    /// Compute every interpolated value of the run (all phases), bit-identical to the naive loop.
    fn interpolate_run(&mut self, start: usize, len: usize, reach: f32, over_thr: Option<f32>) {
        let taps = self.taps;
        let hist = taps - 1;
        let first = self.pos;
        let delay = (taps / 2) as u64;
        self.interpolated_frames += len as u64;
        // Output i of the run uses buf[hist + start + i - t] for t in 0..taps.
        let base = hist + start;
        let mut frame_max = [0.0f32; RUN];
        if reach > HUGE_SAMPLE {
            // Absurd float input (|x| near f32::MAX): f32 sums could overflow to infinity, so
            // this run is summed in f64 and saturated to f32::MAX. Never taken for real audio.
            let coeff = coefficients(self.factor);
            for (i, m) in frame_max[..len].iter_mut().enumerate() {
                for p in 0..self.factor {
                    let acc: f64 = (0..taps)
                        .map(|t| {
                            f64::from(coeff[t * self.factor + p])
                                * f64::from(self.buf[base + i - t])
                        })
                        .sum();
                    *m = m.max(acc.abs().min(f64::from(f32::MAX)) as f32);
                }
            }
        } else if self.factor == 4 {
            self.arch.dispatch(Interpolate {
                h: &self.h4,
                x: &self.buf,
                base,
                len,
                out: &mut frame_max,
            });
        } else {
            self.arch.dispatch(Interpolate {
                h: &self.h2,
                x: &self.buf,
                base,
                len,
                out: &mut frame_max,
            });
        }
        // Most interpolated runs of a steady channel change nothing: no new peak, nothing over
        // the threshold (the run's samples are within `reach`), no timeline. Their per-frame
        // bookkeeping below is then skipped (it cost three times the vectorised kernel).
        let run_max = max_abs(&frame_max[..len]);
        let no_overs = over_thr.is_none_or(|thr| run_max <= thr && reach <= thr);
        if run_max <= self.peak && no_overs && self.timeline.is_none() {
            return;
        }
        for (i, &m) in frame_max[..len].iter().enumerate() {
            let frame = (first + i as u64).saturating_sub(delay);
            if m > self.peak {
                self.peak = m;
                self.peak_frame = Some(frame);
            }
            if let (Some(thr), Some(o)) = (over_thr, &mut self.overs) {
                // The sample of the same frame (the history holds `taps - 1 ≥ delay` samples).
                let v = m.max(self.buf[base + i - delay as usize].abs());
                if v > thr {
                    o.hit(frame, v);
                }
            }
            if let Some((bf, tl)) = &mut self.timeline {
                let b = (frame / *bf) as usize;
                if tl.len() <= b {
                    tl.resize(b + 1, 0.0);
                }
                tl[b] = tl[b].max(m);
            }
        }
    }
}

/// The straightforward interpolation, for tests and benches: for every input frame, the largest
/// absolute interpolated value of the phases computed when that frame arrives (all phases, one
/// input sample at a time, no shortcuts). Empty at 192 kHz and above (no oversampling).
pub fn interpolated_naive(rate_hz: u32, samples: &[f32]) -> Vec<f32> {
    let factor = oversampling_factor(rate_hz) as usize;
    if factor == 1 {
        return Vec::new();
    }
    let taps = TAPS / factor;
    let coeff = coefficients(factor);
    let mut hist = vec![0f32; taps];
    let mut out = Vec::with_capacity(samples.len());
    for &x in samples {
        hist.rotate_right(1);
        hist[0] = x;
        let mut m = 0f32;
        for p in 0..factor {
            let mut acc = 0f32;
            for (t, h) in hist.iter().enumerate() {
                acc += h * coeff[t * factor + p];
            }
            m = m.max(acc.abs());
        }
        out.push(m);
    }
    out
}

/// The straightforward search: returns (true peak, sample peak), linear.
pub fn true_peak_naive(rate_hz: u32, samples: &[f32]) -> (f64, f64) {
    let sample_peak = samples.iter().fold(0f32, |m, x| m.max(x.abs()));
    let peak = interpolated_naive(rate_hz, samples)
        .into_iter()
        .fold(sample_peak, f32::max);
    (f64::from(peak), f64::from(sample_peak))
}

/// The filter delay in input frames: an interpolated value computed when frame `n` arrives
/// belongs to frame `n - delay`.
pub fn delay_frames(rate_hz: u32) -> u64 {
    match oversampling_factor(rate_hz) {
        1 => 0,
        f => (TAPS / f as usize / 2) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpolator gives the same bits on every instruction set: the one pulp picks on
    /// this CPU and the scalar fallback.
    #[test]
    fn kernel_is_bit_identical_across_instruction_sets() {
        let x: Vec<f32> = (0..RUN + TAPS)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.9)
            .collect();
        let tp = TruePeak::new(48_000);
        for len in [RUN, RUN - 3, 5] {
            let (mut native, mut scalar) = ([0f32; RUN], [0f32; RUN]);
            let base = TAPS - 1;
            pulp::Arch::new().dispatch(Interpolate {
                h: &tp.h4,
                x: &x,
                base,
                len,
                out: &mut native,
            });
            pulp::WithSimd::with_simd(
                Interpolate {
                    h: &tp.h4,
                    x: &x,
                    base,
                    len,
                    out: &mut scalar,
                },
                pulp::Scalar::new(),
            );
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&native), bits(&scalar), "len {len}");
            assert!(native[..len].iter().all(|&v| v > 0.0));
        }
    }
}
