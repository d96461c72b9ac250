//! The LFE band split: energy above the LFE band against the energy in it.

use super::dsp::{finite, ratio_db};
use super::stretch::StretchTracker;

/// The LFE band's upper limit, Hz (ITU-R BS.775-4 §3: the LFE channel carries 20–120 Hz).
pub const LFE_BAND_HZ: f64 = 120.0;
/// Crossover of the band split, Hz: the LFE band's limit ([`LFE_BAND_HZ`]). An 8th-order
/// Butterworth high-pass takes the energy above it; the in-band energy is the rest (Butterworth
/// low- and high-pass of one order are power complementary, `|H_LP|² + |H_HP|² = 1`). The
/// ratio above/in-band of a tone at `f` is `(f/fc)^16`: −12.7 dB at 100 Hz, −25 dB at 80 Hz,
/// so legitimate LFE content (≤ 100 Hz, or noise low-passed at 120 Hz by the mixer at 12 or
/// 24 dB/octave: −12 to −24 dB) stays well under the rule's −8 dB, while full-band music (pink
/// spectrum: about 0 dB) and speech (+15 to +20 dB) are well over it.
pub const LFE_SPLIT_HZ: f64 = LFE_BAND_HZ;
/// Order of the Butterworth split (four biquad sections).
pub const LFE_SPLIT_ORDER: usize = 8;

/// One biquad section (transposed direct form II), `f64` state.
#[derive(Debug, Clone, Copy)]
pub(super) struct Biquad {
    pub(super) b: [f64; 3],
    pub(super) a: [f64; 2],
    pub(super) z: [f64; 2],
}

impl Biquad {
    /// Butterworth high-pass section at `f0` with quality `q` (RBJ Audio EQ Cookbook).
    pub(super) fn highpass(rate_hz: u32, f0: f64, q: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * f0 / f64::from(rate_hz.max(1));
        let (s, c) = w0.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        Biquad {
            b: [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }
    #[inline]
    pub(super) fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// Rate the band split runs at, about: the input is decimated to it by block means (a boxcar,
/// whose nulls at multiples of the new rate keep what folds back near 0 Hz small); energy
/// above the split up to ~3 kHz is all a full-band LFE needs to show, at an eighth of the cost.
pub const BAND_RATE_HZ: u32 = 6000;

/// An 8th-order Butterworth high-pass: four sections with Q = 1/(2·cos((2k−1)·π/16)),
/// k = 1..4, on the input decimated by block means to about [`BAND_RATE_HZ`].
#[derive(Debug, Clone)]
pub(super) struct HighPass {
    pub(super) s: [Biquad; LFE_SPLIT_ORDER / 2],
    /// Input samples per decimated sample.
    pub(super) dec: usize,
    pub(super) acc: f32,
    pub(super) n_acc: usize,
}

impl HighPass {
    pub(super) fn new(rate_hz: u32, f0: f64) -> HighPass {
        let dec = (rate_hz / BAND_RATE_HZ).max(1) as usize;
        let rate = rate_hz / dec as u32;
        let q = |k: usize| {
            let n = LFE_SPLIT_ORDER as f64;
            1.0 / (2.0 * ((2 * k - 1) as f64 * std::f64::consts::PI / (2.0 * n)).cos())
        };
        HighPass {
            s: std::array::from_fn(|i| Biquad::highpass(rate, f0, q(i + 1))),
            dec,
            acc: 0.0,
            n_acc: 0,
        }
    }
    /// Energy of the filtered and of the unfiltered decimated `x` (block means), `[high, all]`.
    pub(super) fn energy(&mut self, x: &[f32]) -> [f64; 2] {
        let mut sums = [0.0; 2];
        let x = self.head(x, &mut sums);
        let mut blocks = x.chunks_exact(self.dec);
        for c in &mut blocks {
            self.block(c, &mut sums);
        }
        self.tail(blocks.remainder());
        sums
    }

    /// [`HighPass::energy`] of two channels over the same frames, their blocks interleaved
    /// and the two filters run as the two lanes of a [`Pair`]: each filter's recursion is one
    /// long chain of dependent multiply-adds, and two independent chains in one loop run in
    /// about the time of one (issue 17: the LFE and centre band splits were a tenth of the
    /// reader thread's time). The same values as two calls of `energy`.
    pub(super) fn energy_pair(
        a: &mut HighPass,
        xa: &[f32],
        b: &mut HighPass,
        xb: &[f32],
    ) -> [[f64; 2]; 2] {
        let (mut sa, mut sb) = ([0.0; 2], [0.0; 2]);
        let (xa, xb) = (a.head(xa, &mut sa), b.head(xb, &mut sb));
        let (mut ba, mut bb) = (xa.chunks_exact(a.dec), xb.chunks_exact(b.dec));
        // `take` stops before `zip` can draw a block from one side and drop it.
        let both = ba.len().min(bb.len());
        let mut pair = Pair::new(a, b);
        for (ca, cb) in (&mut ba).zip(&mut bb).take(both) {
            pair.run([block_sum(ca), block_sum(cb)], &mut sa, &mut sb);
        }
        pair.store(a, b);
        for ca in &mut ba {
            a.block(ca, &mut sa);
        }
        for cb in &mut bb {
            b.block(cb, &mut sb);
        }
        a.tail(ba.remainder());
        b.tail(bb.remainder());
        [sa, sb]
    }

    /// One decimated sample (a block mean) through the sections, into `[Σhigh², Σall²]`.
    #[inline(always)]
    fn run(&mut self, v: f32, sums: &mut [f64; 2]) {
        let v = f64::from(v) / self.dec as f64;
        let y = self.s.iter_mut().fold(v, |y, s| s.run(y));
        sums[0] += y * y;
        sums[1] += v * v;
    }

    /// Complete the block pending from the last call, if any; the rest of `x`.
    fn head<'x>(&mut self, x: &'x [f32], sums: &mut [f64; 2]) -> &'x [f32] {
        if self.n_acc == 0 {
            return x;
        }
        let take = (self.dec - self.n_acc).min(x.len());
        self.acc += x[..take].iter().map(|v| finite(*v)).sum::<f32>();
        self.n_acc += take;
        if self.n_acc == self.dec {
            let v = std::mem::take(&mut self.acc);
            self.run(v, sums);
            self.n_acc = 0;
        }
        &x[take..]
    }

    /// One whole block of `dec` samples.
    #[inline(always)]
    fn block(&mut self, c: &[f32], sums: &mut [f64; 2]) {
        self.run(block_sum(c), sums);
    }

    /// Keep the samples of an incomplete last block for the next call; flush denormal state.
    fn tail(&mut self, rest: &[f32]) {
        if !rest.is_empty() {
            self.acc = rest.iter().map(|v| finite(*v)).sum::<f32>();
            self.n_acc = rest.len();
        }
        // Denormal guard: a filter ringing out into silence.
        for s in self.s.iter_mut() {
            for z in s.z.iter_mut() {
                if z.abs() < 1e-30 {
                    *z = 0.0;
                }
            }
        }
    }
}

/// The sum of a block's finite samples.
#[inline(always)]
fn block_sum(c: &[f32]) -> f32 {
    // A non-finite sample makes the sum non-finite: only then sum again without it.
    let sum = c.iter().sum::<f32>();
    if sum.is_finite() {
        sum
    } else {
        c.iter().map(|v| finite(*v)).sum::<f32>()
    }
}

/// Two [`HighPass`] filters run side by side, their coefficients and state as the two lanes
/// of each array, so that each step can be one two-lane vector operation for both (issues 14
/// and 17: the band splits were two-fifths of the integrity scan; a `--no-dialog` check took
/// 1.32 → 1.27 CPU-s, median of 11 alternating rounds). Each lane does what
/// [`HighPass::run`] does, in the same order: the same bits.
struct Pair {
    b: [[[f64; 2]; 3]; LFE_SPLIT_ORDER / 2],
    a: [[[f64; 2]; 2]; LFE_SPLIT_ORDER / 2],
    z: [[[f64; 2]; 2]; LFE_SPLIT_ORDER / 2],
    dec: [f64; 2],
}

impl Pair {
    fn new(x: &HighPass, y: &HighPass) -> Pair {
        use std::array::from_fn;
        let (x_dec, y_dec) = (x.dec as f64, y.dec as f64);
        let (x, y) = (&x.s, &y.s);
        Pair {
            b: from_fn(|i| from_fn(|k| [x[i].b[k], y[i].b[k]])),
            a: from_fn(|i| from_fn(|k| [x[i].a[k], y[i].a[k]])),
            z: from_fn(|i| from_fn(|k| [x[i].z[k], y[i].z[k]])),
            dec: [x_dec, y_dec],
        }
    }

    /// One decimated sample of each (block sums) through the sections, into each `[Σhigh²,
    /// Σall²]`.
    #[inline(always)]
    fn run(&mut self, v: [f32; 2], sx: &mut [f64; 2], sy: &mut [f64; 2]) {
        let v = [f64::from(v[0]) / self.dec[0], f64::from(v[1]) / self.dec[1]];
        let mut y = v;
        for ((b, a), z) in self.b.iter().zip(&self.a).zip(self.z.iter_mut()) {
            let out: [f64; 2] = std::array::from_fn(|l| b[0][l] * y[l] + z[0][l]);
            z[0] = std::array::from_fn(|l| b[1][l] * y[l] - a[0][l] * out[l] + z[1][l]);
            z[1] = std::array::from_fn(|l| b[2][l] * y[l] - a[1][l] * out[l]);
            y = out;
        }
        sx[0] += y[0] * y[0];
        sx[1] += v[0] * v[0];
        sy[0] += y[1] * y[1];
        sy[1] += v[1] * v[1];
    }

    /// The state back into the filters.
    fn store(&self, x: &mut HighPass, y: &mut HighPass) {
        for (s, z) in self.z.iter().enumerate() {
            x.s[s].z = [z[0][0], z[1][0]];
            y.s[s].z = [z[0][1], z[1][1]];
        }
    }
}

/// Energy above the band relative to below, dB, of `[Σhigh, Σall, _]`.
pub(super) fn above_band_db(s: &[f64; 3]) -> f64 {
    let low = (s[1] - s[0]).max(s[1] * 1e-12).max(1e-300);
    ratio_db(s[0].max(1e-300), low)
}

#[derive(Debug, Clone)]
pub(super) struct BandState {
    pub(super) channel: usize,
    pub(super) filter: HighPass,
    /// Whole-programme [Σhigh, Σall] (of the decimated signal).
    pub(super) total: [f64; 2],
    pub(super) win: [f64; 2],
    pub(super) track: bool,
    pub(super) tracker: StretchTracker,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Above/in-band ratio of a steady tone, dB.
    fn tone_ratio_db(f_hz: f64) -> f64 {
        let rate = 48_000;
        let x: Vec<f32> = (0..rate * 4)
            .map(|i| (2.0 * std::f64::consts::PI * f_hz * i as f64 / f64::from(rate)).sin() as f32)
            .collect();
        let mut hp = HighPass::new(rate, LFE_SPLIT_HZ);
        // Let the filter settle for a second, then measure.
        hp.energy(&x[..rate as usize]);
        let [h, all] = hp.energy(&x[rate as usize..]);
        above_band_db(&[h, all, 0.0])
    }

    /// Two channels split together give what each gives alone, bit for bit, over pushes that
    /// end inside a block, with a non-finite sample, and with channels of different lengths.
    #[test]
    fn a_pair_of_splits_equals_two_splits() {
        let rate = 48_000;
        let sig = |f: f64, i: usize| {
            (0.4 * (2.0 * std::f64::consts::PI * f * i as f64 / 48e3).sin()) as f32
        };
        let mut xa: Vec<f32> = (0..50_000)
            .map(|i| sig(60.0, i) + sig(900.0, i) * 0.1)
            .collect();
        let xb: Vec<f32> = (0..50_000).map(|i| sig(2000.0, i)).collect();
        xa[12_345] = f32::NAN;
        let (mut a1, mut b1) = (
            HighPass::new(rate, LFE_SPLIT_HZ),
            HighPass::new(rate, LFE_SPLIT_HZ),
        );
        let (mut a2, mut b2) = (a1.clone(), b1.clone());
        let mut at = 0;
        for (k, len) in [5usize, 3, 1000, 17, 20_000, 8, 7, 28_960]
            .into_iter()
            .enumerate()
        {
            let (ra, rb) = (&xa[at..at + len], &xb[at..at + len]);
            // The last push gives the second channel fewer frames.
            let rb = if k == 7 { &rb[..len - 11] } else { rb };
            let [pa, pb] = HighPass::energy_pair(&mut a1, ra, &mut b1, rb);
            let (sa, sb) = (a2.energy(ra), b2.energy(rb));
            assert_eq!(
                pa.map(f64::to_bits),
                sa.map(f64::to_bits),
                "push {k}, first"
            );
            assert_eq!(
                pb.map(f64::to_bits),
                sb.map(f64::to_bits),
                "push {k}, second"
            );
            assert!(pb[0] > 0.0 || len < 8, "push {k}: a real reading");
            at += len;
        }
        assert_eq!((a1.n_acc, b1.n_acc), (a2.n_acc, b2.n_acc));
    }

    #[test]
    fn the_split_is_an_8th_order_butterworth_at_120_hz() {
        // (f/fc)^16 in dB: 160·log10(f/120).
        for f in [60.0, 80.0, 100.0, 120.0, 150.0, 300.0] {
            let expect = 160.0 * (f / LFE_SPLIT_HZ).log10();
            let got = tone_ratio_db(f);
            let tol = if expect.abs() > 40.0 { 3.0 } else { 0.5 };
            assert!(
                (got - expect).abs() < tol || (expect > 40.0 && got > 40.0),
                "{f} Hz: {got:.2} dB, expected {expect:.2}"
            );
        }
    }
}
