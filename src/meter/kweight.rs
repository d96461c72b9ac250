//! K-weighting (ITU-R BS.1770-5 Annex 1, Fig. 1–2): a high-shelf "pre-filter" and the RLB
//! high-pass, combined into one 4th-order direct-form section.
//!
//! The coefficients are derived from the sample rate with the analogue prototype parameters of
//! libebur128 (f0, G, Q fitted so that 48 kHz reproduces the Annex 1 tables exactly), so every
//! rate gets the same response rather than reusing the 48 kHz numbers.
//!
//! The kernel runs `N` channels in lock-step lanes: each lane's recursion is serial, but the
//! lanes are independent, so the compiler turns the per-sample work into SIMD across channels.
//! The arithmetic per lane is the same as ebur128's, sample for sample.

/// Numerator and denominator of the combined K-weighting filter at `rate_hz`.
#[allow(non_snake_case)]
pub fn coefficients(rate_hz: f64) -> ([f64; 5], [f64; 5]) {
    use std::f64::consts::PI;
    // Stage 1, high shelf (BS.1770-5 Annex 1 Table 1 at 48 kHz).
    let f0 = 1681.974450955533;
    let G = 3.999843853973347;
    let Q = 0.7071752369554196;
    let K = (PI * f0 / rate_hz).tan();
    let Vh = 10f64.powf(G / 20.0);
    let Vb = Vh.powf(0.4996667741545416);
    let a0 = 1.0 + K / Q + K * K;
    let pb = [
        (Vh + Vb * K / Q + K * K) / a0,
        2.0 * (K * K - Vh) / a0,
        (Vh - Vb * K / Q + K * K) / a0,
    ];
    let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];
    // Stage 2, RLB high-pass (BS.1770-5 Annex 1 Table 2 at 48 kHz).
    let f0 = 38.13547087602444;
    let Q = 0.5003270373238773;
    let K = (PI * f0 / rate_hz).tan();
    let rb = [1.0, -2.0, 1.0];
    let ra = [
        1.0,
        2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K),
        (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K),
    ];
    (
        [
            pb[0] * rb[0],
            pb[0] * rb[1] + pb[1] * rb[0],
            pb[0] * rb[2] + pb[1] * rb[1] + pb[2] * rb[0],
            pb[1] * rb[2] + pb[2] * rb[1],
            pb[2] * rb[2],
        ],
        [
            pa[0] * ra[0],
            pa[0] * ra[1] + pa[1] * ra[0],
            pa[0] * ra[2] + pa[1] * ra[1] + pa[2] * ra[0],
            pa[1] * ra[2] + pa[2] * ra[1],
            pa[2] * ra[2],
        ],
    )
}

/// Filter state of `N` channels in lanes, plus each lane's running sum of squares.
#[derive(Debug, Clone, Copy)]
pub struct Lanes<const N: usize> {
    s1: [f64; N],
    s2: [f64; N],
    s3: [f64; N],
    s4: [f64; N],
    /// Sum of squared K-weighted samples since the last [`Lanes::take_energy`].
    acc: [f64; N],
}

impl<const N: usize> Default for Lanes<N> {
    fn default() -> Self {
        Lanes {
            s1: [0.0; N],
            s2: [0.0; N],
            s3: [0.0; N],
            s4: [0.0; N],
            acc: [0.0; N],
        }
    }
}

impl<const N: usize> Lanes<N> {
    /// Filter `len` frames starting at `start` of each lane's input and add their squares to the
    /// running sums. Non-finite input samples count as 0 (the caller reports them).
    // Indexing by frame keeps the N lanes in one loop body, which is what lets the compiler keep
    // each lane's filter state in one SIMD register; iterators over `input` would split them.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub fn run(
        &mut self,
        b: &[f64; 5],
        a: &[f64; 5],
        input: [&[f32]; N],
        start: usize,
        len: usize,
    ) {
        let input: [&[f32]; N] = std::array::from_fn(|l| &input[l][start..start + len]);
        let Lanes {
            s1,
            s2,
            s3,
            s4,
            acc,
        } = self;
        let (mut s1, mut s2, mut s3, mut s4, mut acc) = (*s1, *s2, *s3, *s4, *acc);
        for i in 0..len {
            for l in 0..N {
                let v = input[l][i];
                let x = if v.is_finite() { f64::from(v) } else { 0.0 };
                // The terms of older states first: only `a1·s1` waits on the previous sample, so
                // the recursion's critical path is one multiply and one subtract.
                let s0 = (x - a[4] * s4[l] - a[3] * s3[l] - a[2] * s2[l]) - a[1] * s1[l];
                let y = b[0] * s0 + b[1] * s1[l] + b[2] * s2[l] + b[3] * s3[l] + b[4] * s4[l];
                acc[l] += y * y;
                s4[l] = s3[l];
                s3[l] = s2[l];
                s2[l] = s1[l];
                s1[l] = s0;
            }
        }
        *self = Lanes {
            s1,
            s2,
            s3,
            s4,
            acc,
        };
    }

    /// Take each lane's sum of squares and restart it; flush denormal filter state to zero (as
    /// libebur128 does) so long silences stay fast.
    #[inline]
    pub fn take_energy(&mut self) -> [f64; N] {
        let e = self.acc;
        self.acc = [0.0; N];
        for s in [&mut self.s1, &mut self.s2, &mut self.s3, &mut self.s4] {
            for v in s.iter_mut() {
                if v.abs() < f64::MIN_POSITIVE {
                    *v = 0.0;
                }
            }
        }
        e
    }
}
