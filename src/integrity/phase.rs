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

/// `Σ(Lo² + Ro²)` of the BS.775-4 downmix of `[L, R, C, Ls, Rs]` (equal lengths), in `f32`
/// lanes of 8 per 4096 samples (vectorisable), `f64` total; non-finite terms count as 0.
pub(super) fn downmix_energy([l, r, c, ls, rs]: [&[f32]; 5]) -> f64 {
    let g = BS775_DOWNMIX_GAIN;
    let lane = |l: f32, r: f32, c: f32, ls: f32, rs: f32| {
        let cc = g * c;
        let lo = l + cc + g * ls;
        let ro = r + cc + g * rs;
        let v = lo * lo + ro * ro;
        if v.is_finite() {
            v
        } else {
            0.0
        }
    };
    // Eight at a time through fixed-size views, so the lane loop has no bounds checks.
    let eight = |x: &[f32], k: usize| -> [f32; 8] { x[k..k + 8].try_into().unwrap_or([0.0; 8]) };
    let mut total = 0.0f64;
    let n = l
        .len()
        .min(r.len())
        .min(c.len())
        .min(ls.len())
        .min(rs.len());
    let mut k0 = 0;
    while k0 < n {
        let k1 = (k0 + 4096).min(n);
        let mut e = [0.0f32; 8];
        let full = k0 + (k1 - k0) / 8 * 8;
        for k in (k0..full).step_by(8) {
            let v = [
                eight(l, k),
                eight(r, k),
                eight(c, k),
                eight(ls, k),
                eight(rs, k),
            ];
            for j in 0..8 {
                e[j] += lane(v[0][j], v[1][j], v[2][j], v[3][j], v[4][j]);
            }
        }
        for k in full..k1 {
            e[(k - k0) % 8] += lane(l[k], r[k], c[k], ls[k], rs[k]);
        }
        total += e.iter().map(|&v| f64::from(v)).sum::<f64>();
        k0 = k1;
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
