//! Block sums over `f32` samples (vectorisable lanes, `f64` totals).

pub(super) fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// What one pass over a channel's samples gives the scan.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Stats {
    /// Σx² (non-finite samples count as 0).
    pub(super) energy: f64,
    /// Largest |x| (non-finite samples count as 0).
    pub(super) peak: f32,
}

/// Energy and peak of `x` in one pass: `f32` lanes of 8 per 4096 samples (the compiler keeps
/// them in vector registers: a load, a mask for non-finite samples, a multiply-add and a max
/// per lane), `f64` total.
pub(super) fn stats(x: &[f32]) -> Stats {
    let mut out = Stats::default();
    let mut peak = [0.0f32; 8];
    for chunk in x.chunks(4096) {
        let mut energy = [0.0f32; 8];
        let mut it = chunk.chunks_exact(8);
        for v in &mut it {
            for l in 0..8 {
                let a = v[l].abs();
                // NaN and ±inf fail the comparison: they count as 0.
                let a = if a <= f32::MAX { a } else { 0.0 };
                energy[l] += a * a;
                peak[l] = if a > peak[l] { a } else { peak[l] };
            }
        }
        for &v in it.remainder() {
            let a = v.abs();
            let a = if a <= f32::MAX { a } else { 0.0 };
            energy[0] += a * a;
            peak[0] = if a > peak[0] { a } else { peak[0] };
        }
        out.energy += energy.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    out.peak = peak.iter().fold(0.0f32, |a, &b| a.max(b));
    out
}

pub(super) fn ratio_db(num: f64, den: f64) -> f64 {
    (10.0 * (num / den).log10()).clamp(-200.0, 200.0)
}

/// Sum of squares (non-finite samples count as 0): the energy of [`stats`].
pub(super) fn sum_sq(x: &[f32]) -> f64 {
    stats(x).energy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_stats_give_the_finite_energy_and_peak() {
        // Every lane position and the remainder; non-finite samples count as 0.
        let mut x: Vec<f32> = (0..9001)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
            .collect();
        x[5] = f32::NAN;
        x[4099] = f32::INFINITY;
        x[8999] = f32::NEG_INFINITY;
        x[9000] = -1.5;
        let s = stats(&x);
        let exact: f64 = x
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        assert!(
            (s.energy / exact - 1.0).abs() < 1e-6,
            "{} vs {exact}",
            s.energy
        );
        assert_eq!(s.peak, 1.5);
        assert_eq!(stats(&[]), Stats::default());
        let t = stats(&[f32::NAN, -0.0, 0.25]);
        assert_eq!((t.peak, t.energy), (0.25, 0.0625));
    }
}
