//! The correlation engine: normalised cross-correlation (NCC) and spectrally whitened
//! correlation (GCC-PHAT) of a template against every placement in a long signal, by FFT
//! overlap-save; exact-lag refinement and in-place piece scores by direct dot products.
//!
//! NCC at lag k is `Σ x[k+i]·y[i] / sqrt(Σ x[k+i]² · Σ y²)`: a Pearson-like coefficient (without
//! mean removal; audio has none) in −1..1 that does not depend on either signal's level. The
//! running energy `Σ x[k+i]²` comes from a prefix sum in `f64`.
//!
//! GCC-PHAT (Knapp & Carter 1976) divides the cross-spectrum by its magnitude, so every band the
//! reference occupies counts equally: its peak is sharp even for tonal idents, whose plain
//! correlation has side lobes at pitch periods. It proposes lags; NCC scores them.

use std::collections::HashMap;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Window spectra for overlap-save correlation against templates of up to `n_max` samples.
pub(crate) struct Spectra {
    l: usize,
    hop: usize,
    len: usize,
    blocks: Vec<Vec<Complex<f32>>>,
    prefix: Vec<f64>,
}

/// Below this energy a placement counts as silent (score 0): far under any real signal's
/// energy over a template length (−60 dBFS over 0.25 s at 8 kHz is ~2e-3).
const SILENT_ENERGY: f64 = 1e-9;

/// Running sums of squares: `prefix[i] = Σ_{j<i} x[j]²`.
pub(crate) fn prefix_energy(x: &[f32]) -> Vec<f64> {
    let mut p = Vec::with_capacity(x.len() + 1);
    let mut acc = 0.0f64;
    p.push(0.0);
    for &v in x {
        acc += f64::from(v) * f64::from(v);
        p.push(acc);
    }
    p
}

/// Energy of `x[lag..lag+n]` from its prefix sums.
pub(crate) fn energy(prefix: &[f64], lag: usize, n: usize) -> f64 {
    (prefix[lag + n] - prefix[lag]).max(0.0)
}

/// `Σ a[i]·b[i]` with `f32` lanes and an `f64` total (exact enough to rank adjacent lags).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for (ca, cb) in a.chunks(2048).zip(b.chunks(2048)) {
        let mut acc = [0.0f32; 8];
        let mut ia = ca.chunks_exact(8);
        let mut ib = cb.chunks_exact(8);
        for (x, y) in (&mut ia).zip(&mut ib) {
            for j in 0..8 {
                acc[j] += x[j] * y[j];
            }
        }
        let rest: f32 = ia
            .remainder()
            .iter()
            .zip(ib.remainder())
            .map(|(x, y)| x * y)
            .sum();
        total += acc.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(rest);
    }
    total
}

impl Spectra {
    /// Transform `x` in overlapping blocks, ready for templates between `n_min` and `n_max`
    /// samples long (`n_min ≥ 1`).
    pub(crate) fn new(
        planner: &mut RealFftPlanner<f32>,
        x: &[f32],
        n_max: usize,
        n_min: usize,
    ) -> Spectra {
        // Blocks of about 4× the template (fewer, larger FFTs), but no larger than the signal
        // needs; at least 2× so that every block yields lags.
        let l = (4 * n_max)
            .min(x.len().max(2 * n_max))
            .max(2 * n_max)
            .next_power_of_two()
            .max(1 << 12);
        let hop = l - n_max + 1;
        let lags = (x.len() + 1).saturating_sub(n_min.max(1));
        let fft = planner.plan_fft_forward(l);
        let mut buf = fft.make_input_vec();
        let mut blocks = Vec::new();
        let mut s = 0;
        while s < lags {
            buf.fill(0.0);
            let end = (s + l).min(x.len());
            buf[..end - s].copy_from_slice(&x[s..end]);
            let mut spec = fft.make_output_vec();
            // Lengths come from the plan itself, so this cannot fail.
            let _ = fft.process(&mut buf, &mut spec);
            blocks.push(spec);
            s += hop;
        }
        Spectra {
            l,
            hop,
            len: x.len(),
            blocks,
            prefix: prefix_energy(x),
        }
    }

    /// NCC of `y` at every lag `0..=len − y.len()` (empty if `y` is longer than the signal),
    /// and GCC-PHAT over the same lags when `phat` is set (restricted to the bands where the
    /// template has energy, so empty bands do not add noise). `key` names `y` in `cache`
    /// (the same key must always mean the same template).
    pub(crate) fn correlate(
        &self,
        planner: &mut RealFftPlanner<f32>,
        cache: &mut TemplateCache,
        key: usize,
        y: &[f32],
        phat: bool,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        let n = y.len();
        if n == 0 || n > self.len || n + self.hop > self.l + 1 {
            return (Vec::new(), phat.then(Vec::new));
        }
        let lags = self.len - n + 1;
        let inv = planner.plan_fft_inverse(self.l);
        let t = cache.get(planner, key, y, self.l);
        let (yspec, band, ey) = (&t.spec, &t.band, t.ey);
        let mut ncc = vec![0.0f32; lags];
        let mut gcc = phat.then(|| vec![0.0f32; lags]);
        let mut prod = inv.make_input_vec();
        let mut out = inv.make_output_vec();
        let scale = 1.0 / self.l as f64;
        let last = prod.len() - 1;
        for (b, xs) in self.blocks.iter().enumerate() {
            let s = b * self.hop;
            if s >= lags {
                break;
            }
            let m = self.hop.min(lags - s);
            for (p, (xv, yv)) in prod.iter_mut().zip(xs.iter().zip(yspec)) {
                *p = xv * yv.conj();
            }
            prod[0].im = 0.0;
            prod[last].im = 0.0;
            let _ = inv.process(&mut prod.clone(), &mut out);
            for k in 0..m {
                let ex = energy(&self.prefix, s + k, n);
                if ex > SILENT_ENERGY {
                    ncc[s + k] = (f64::from(out[k]) * scale / (ex * ey).sqrt()) as f32;
                }
            }
            if let Some(g) = gcc.as_mut() {
                for (p, &inb) in prod.iter_mut().zip(band) {
                    let mag = p.norm();
                    *p = if inb && mag > 1e-20 {
                        *p / mag
                    } else {
                        Complex::new(0.0, 0.0)
                    };
                }
                prod[0].im = 0.0;
                prod[last].im = 0.0;
                let _ = inv.process(&mut prod, &mut out);
                for k in 0..m {
                    g[s + k] = (f64::from(out[k]) * scale) as f32;
                }
            }
        }
        (ncc, gcc)
    }
}

/// A template's spectrum at one FFT length, with its energy and the bands it occupies.
pub(crate) struct TemplateSpec {
    spec: Vec<Complex<f32>>,
    band: Vec<bool>,
    ey: f64,
}

/// Template spectra computed once per (template, FFT length) and reused across windows and
/// mixes.
#[derive(Default)]
pub(crate) struct TemplateCache {
    map: HashMap<(usize, usize), TemplateSpec>,
}

impl TemplateCache {
    /// Drop every spectrum of the template `key` (one used once).
    pub(crate) fn forget(&mut self, key: usize) {
        self.map.retain(|&(k, _), _| k != key);
    }

    fn get(
        &mut self,
        planner: &mut RealFftPlanner<f32>,
        key: usize,
        y: &[f32],
        l: usize,
    ) -> &TemplateSpec {
        self.map.entry((key, l)).or_insert_with(|| {
            let fwd = planner.plan_fft_forward(l);
            let mut buf = fwd.make_input_vec();
            buf[..y.len()].copy_from_slice(y);
            let mut spec = fwd.make_output_vec();
            let _ = fwd.process(&mut buf, &mut spec);
            let ey: f64 = y.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            let ymax = spec.iter().map(|c| c.norm_sqr()).fold(0.0f32, f32::max);
            let band = spec.iter().map(|c| c.norm_sqr() > 1e-4 * ymax).collect();
            TemplateSpec { spec, band, ey }
        })
    }
}

/// The `k` largest local maxima of `|v|`, at least `min_sep` apart, largest first.
pub(crate) fn top_peaks(v: &[f32], k: usize, min_sep: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len())
        .filter(|&i| {
            let a = v[i].abs();
            (i == 0 || a >= v[i - 1].abs()) && (i + 1 == v.len() || a >= v[i + 1].abs()) && a > 0.0
        })
        .collect();
    idx.sort_by(|&a, &b| v[b].abs().total_cmp(&v[a].abs()));
    let mut out: Vec<usize> = Vec::with_capacity(k);
    for i in idx {
        if out.len() == k {
            break;
        }
        if out.iter().all(|&j| i.abs_diff(j) >= min_sep) {
            out.push(i);
        }
    }
    out
}

/// Sums over one piece of the template and the program in place.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PieceSums {
    /// Σ x·y
    pub xy: f64,
    /// Σ x²
    pub xx: f64,
    /// Σ y²
    pub yy: f64,
}

impl PieceSums {
    /// NCC of the piece (0 when either side is silent).
    pub(crate) fn ncc(&self) -> f64 {
        if self.xx > SILENT_ENERGY * 1e-3 && self.yy > 0.0 {
            self.xy / (self.xx * self.yy).sqrt()
        } else {
            0.0
        }
    }
    /// Add another piece's sums.
    pub(crate) fn add(&mut self, o: &PieceSums) {
        self.xy += o.xy;
        self.xx += o.xx;
        self.yy += o.yy;
    }
}

/// Per-piece sums of `x` (the program, aligned) against `y` (the template), `piece` samples each
/// (the last piece may be shorter).
pub(crate) fn piece_sums(x: &[f32], y: &[f32], piece: usize) -> Vec<PieceSums> {
    x.chunks(piece.max(1))
        .zip(y.chunks(piece.max(1)))
        .map(|(a, b)| PieceSums {
            xy: dot(a, b),
            xx: dot(a, a),
            yy: dot(b, b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_ncc(x: &[f32], y: &[f32], lag: usize) -> f64 {
        let a = &x[lag..lag + y.len()];
        let xy: f64 = a
            .iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum();
        let xx: f64 = a.iter().map(|p| f64::from(*p).powi(2)).sum();
        let yy: f64 = y.iter().map(|p| f64::from(*p).powi(2)).sum();
        xy / (xx * yy).sqrt()
    }

    #[test]
    fn fft_ncc_equals_direct_ncc_across_blocks() {
        let mut rng = super::super::synth::Rng::new(7);
        let x: Vec<f32> = (0..20_000).map(|_| rng.range(-1.0, 1.0) as f32).collect();
        let y: Vec<f32> = x[12_345..12_345 + 1500].iter().map(|v| -0.5 * v).collect();
        let mut planner = RealFftPlanner::new();
        let sp = Spectra::new(&mut planner, &x, 1500, 1000);
        let (ncc, gcc) = sp.correlate(&mut planner, &mut TemplateCache::default(), 0, &y, true);
        assert_eq!(ncc.len(), 20_000 - 1500 + 1);
        for lag in [0, 1, 4_000, 6_501, 12_345, 18_500] {
            let d = naive_ncc(&x, &y, lag);
            assert!(
                (f64::from(ncc[lag]) - d).abs() < 1e-4,
                "lag {lag}: {} vs {d}",
                ncc[lag]
            );
        }
        assert!((ncc[12_345] + 1.0).abs() < 1e-4, "inverted copy scores −1");
        assert_eq!(top_peaks(&ncc, 1, 10), vec![12_345]);
        assert_eq!(top_peaks(gcc.as_ref().unwrap(), 1, 10), vec![12_345]);
    }

    #[test]
    fn dot_matches_f64() {
        let a: Vec<f32> = (0..10_001).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..10_001).map(|i| (i as f32 * 0.11).cos()).collect();
        let want: f64 = a
            .iter()
            .zip(&b)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum();
        assert!((dot(&a, &b) - want).abs() < 1e-3);
    }
}
