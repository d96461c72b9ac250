//! Block sums over `f32` samples (vectorisable lanes, `f64` totals).

pub(super) fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Largest |sample| (non-finite samples count as 0), in lanes of 8 (vectorisable).
pub(super) fn peak(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut it = x.chunks_exact(8);
    for v in &mut it {
        for l in 0..8 {
            lanes[l] = lanes[l].max(finite(v[l]).abs());
        }
    }
    let m = it
        .remainder()
        .iter()
        .fold(0.0f32, |m, &v| m.max(finite(v).abs()));
    lanes.iter().fold(m, |a, &b| a.max(b))
}

pub(super) fn ratio_db(num: f64, den: f64) -> f64 {
    (10.0 * (num / den).log10()).clamp(-200.0, 200.0)
}

/// Sum of squares, in `f32` lanes per chunk (vectorisable), `f64` total.
pub(super) fn sum_sq(x: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for chunk in x.chunks(4096) {
        let mut lanes = [0.0f32; 8];
        let mut it = chunk.chunks_exact(8);
        for v in &mut it {
            for l in 0..8 {
                let s = if v[l].is_finite() { v[l] } else { 0.0 };
                lanes[l] += s * s;
            }
        }
        for &v in it.remainder() {
            let s = if v.is_finite() { v } else { 0.0 };
            lanes[0] += s * s;
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}
