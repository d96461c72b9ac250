//! Channel pairs: correlation, downmix gain, dual mono.

use crate::channels::Position;

use super::stretch::StretchTracker;

/// Channel pairs checked for correlation, left first.
pub const PAIRS: [(Position, Position); 4] = [
    (Position::L, Position::R),
    (Position::Ls, Position::Rs),
    (Position::Lss, Position::Rss),
    (Position::Lrs, Position::Rrs),
];
/// BS.775-4 Table 2 downmix coefficient of C and the surrounds into Lo/Ro (−3 dB).
pub const BS775_DOWNMIX_GAIN: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Correlation of `[Σxy, Σx², Σy²]`.
pub(super) fn correlation(s: &[f64; 3]) -> f64 {
    let d = (s[1] * s[2]).sqrt();
    if d > 0.0 {
        (s[0] / d).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Sum of products, as [`sum_sq`].
pub(super) fn sum_xy(x: &[f32], y: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for (cx, cy) in x.chunks(4096).zip(y.chunks(4096)) {
        let mut lanes = [0.0f32; 8];
        let mut ix = cx.chunks_exact(8);
        let mut iy = cy.chunks_exact(8);
        for (a, b) in (&mut ix).zip(&mut iy) {
            for l in 0..8 {
                let p = a[l] * b[l];
                lanes[l] += if p.is_finite() { p } else { 0.0 };
            }
        }
        for (&a, &b) in ix.remainder().iter().zip(iy.remainder()) {
            let p = a * b;
            lanes[0] += if p.is_finite() { p } else { 0.0 };
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}

#[derive(Debug, Clone)]
pub(super) struct PairState {
    pub(super) left: usize,
    pub(super) right: usize,
    /// Whole-programme Σxy, Σx², Σy².
    pub(super) total: [f64; 3],
    /// Over active windows.
    pub(super) active: [f64; 3],
    pub(super) active_windows: u64,
    /// Current window Σxy.
    pub(super) win_xy: f64,
    pub(super) identical: bool,
    pub(super) tracker: StretchTracker,
}
