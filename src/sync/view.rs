//! Normalised views of the onset tracks, and bounded pieces of them: the only way the alignment
//! ([`super::align`]) reads features, so that nothing it holds grows with the programme but the
//! tracks themselves (see the memory note in [`super`]).

use super::features::{self, Track, NB};

/// Mean per-element variance of normalised features under which a window is inactive.
const ACTIVE_VAR: f64 = 0.05;

/// The normalised features of one stream: a view of its onset [`Track`], each band z-scored
/// (mean and deviation over the hops after the lead-in; lead-in hops are 0), optionally
/// resampled (hop `u` of the view is hop `speed·u` of the track, linearly interpolated: a
/// reference seen at the speed of audio that plays `speed` times faster). Nothing per hop is
/// held here: windows are read into bounded [`Piece`]s, so the alignment's memory is the
/// track (6 bytes a hop) and does not otherwise grow with the programme.
pub(crate) struct Feat<'t> {
    track: &'t Track,
    speed: f64,
    len: usize,
    lead: usize,
    mean: [f64; NB],
    sd: [f64; NB],
    /// `z` of each quantised value, per band (speed 1).
    lut: [[f32; 256]; NB],
}

impl<'t> Feat<'t> {
    /// The track at its own speed, hops before `lead` zeroed.
    pub(super) fn new(track: &'t Track, lead: usize) -> Feat<'t> {
        Self::warped(track, 1.0, lead)
    }

    /// The track resampled to a time scale `speed` times shorter, hops before `lead` (of the
    /// result) zeroed.
    pub(super) fn warped(track: &'t Track, speed: f64, lead: usize) -> Feat<'t> {
        let n = track.len();
        let len = if n == 0 || speed == 1.0 {
            n
        } else {
            ((n - 1) as f64 / speed).floor() as usize + 1
        };
        let mut f = Feat {
            track,
            speed,
            len,
            lead: lead.min(len),
            mean: [0.0; NB],
            sd: [1.0; NB],
            lut: [[0.0; 256]; NB],
        };
        // Two passes over the track (it is small; re-reading it costs less than storing
        // anything per hop).
        let cnt = (len - f.lead).max(1) as f64;
        let mut sum = [0.0f64; NB];
        for u in f.lead..len {
            for (s, v) in sum.iter_mut().zip(f.raw(u)) {
                *s += f64::from(v);
            }
        }
        let mean = sum.map(|s| s / cnt);
        let mut var = [0.0f64; NB];
        for u in f.lead..len {
            for ((s, v), m) in var.iter_mut().zip(f.raw(u)).zip(&mean) {
                *s += (f64::from(v) - m) * (f64::from(v) - m);
            }
        }
        f.mean = mean;
        f.sd = var.map(|v| (v / cnt).sqrt().max(1e-3));
        for b in 0..NB {
            for (q, slot) in f.lut[b].iter_mut().enumerate() {
                let x = f32::from(q as u8) * features::ONSET_STEP_DB;
                *slot = ((f64::from(x) - f.mean[b]) / f.sd[b]) as f32;
            }
        }
        f
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Onsets of hop `u` of the view, dB, before normalisation.
    fn raw(&self, u: usize) -> [f32; NB] {
        if self.speed == 1.0 {
            return self.track.db(u);
        }
        let n = self.track.len();
        let p = u as f64 * self.speed;
        let i = (p.floor() as usize).min(n - 1);
        let w = (p - i as f64) as f32;
        let (x, y) = (self.track.db(i), self.track.db((i + 1).min(n - 1)));
        std::array::from_fn(|b| x[b] * (1.0 - w) + y[b] * w)
    }

    /// Normalised features of hop `u` (`u < len`).
    pub(super) fn row(&self, u: usize) -> [f32; NB] {
        if u < self.lead {
            return [0.0; NB];
        }
        if self.speed == 1.0 {
            let q = self.track.get(u);
            return std::array::from_fn(|b| self.lut[b][usize::from(q[b])]);
        }
        let x = self.raw(u);
        std::array::from_fn(|b| ((f64::from(x[b]) - self.mean[b]) / self.sd[b]) as f32)
    }
}

/// Hops `start..start + len` of a [`Feat`] (clipped to its end), band-major, with prefix sums for
/// windowed statistics: what one window test, correlation block or boundary zone needs, and no
/// more. Indices of its methods are hops of the whole view.
pub(crate) struct Piece {
    start: usize,
    /// `z[b][i − start]`.
    z: [Vec<f32>; NB],
    /// Per band prefix sums of `z`.
    sum: [Vec<f64>; NB],
    /// Prefix sums of `Σ_b z²`.
    sq: Vec<f64>,
}

impl Piece {
    pub(super) fn load(f: &Feat, start: usize, len: usize) -> Piece {
        let end = (start + len).min(f.len());
        let n = end.saturating_sub(start);
        let mut z: [Vec<f32>; NB] = std::array::from_fn(|_| Vec::with_capacity(n));
        let mut sum: [Vec<f64>; NB] = std::array::from_fn(|_| {
            let mut v = Vec::with_capacity(n + 1);
            v.push(0.0);
            v
        });
        let mut sq = Vec::with_capacity(n + 1);
        sq.push(0.0f64);
        let mut acc = [0.0f64; NB];
        let mut acc2 = 0.0f64;
        for u in start..start + n {
            let row = f.row(u);
            let mut s2 = 0.0;
            for b in 0..NB {
                let v = f64::from(row[b]);
                z[b].push(row[b]);
                acc[b] += v;
                sum[b].push(acc[b]);
                s2 += v * v;
            }
            acc2 += s2;
            sq.push(acc2);
        }
        Piece { start, z, sum, sq }
    }

    /// Band `b` of hops `[i, i+n)`.
    pub(super) fn z(&self, b: usize, i: usize, n: usize) -> &[f32] {
        &self.z[b][i - self.start..i - self.start + n]
    }

    /// Centred energy `Σ_b Σ (z − mean_b)²` of `[i, i+n)`, and the band sums.
    pub(super) fn energy(&self, i: usize, n: usize) -> (f64, [f64; NB]) {
        let i = i - self.start;
        let mut sums = [0.0; NB];
        let mut e = self.sq[i + n] - self.sq[i];
        for (slot, band) in sums.iter_mut().zip(&self.sum) {
            let s = band[i + n] - band[i];
            *slot = s;
            e -= s * s / n as f64;
        }
        (e.max(0.0), sums)
    }

    /// Normalised correlation of `self[i..i+n]` with `other[j..j+n]` (band means removed).
    pub(super) fn ncc(&self, i: usize, other: &Piece, j: usize, n: usize) -> f64 {
        let (ea, sa) = self.energy(i, n);
        let (eb, sb) = other.energy(j, n);
        if ea <= 1e-9 || eb <= 1e-9 {
            return 0.0;
        }
        let mut c = 0.0f64;
        for b in 0..NB {
            let d: f32 = self
                .z(b, i, n)
                .iter()
                .zip(other.z(b, j, n))
                .map(|(a, b)| a * b)
                .sum();
            c += f64::from(d) - sa[b] * sb[b] / n as f64;
        }
        c / (ea * eb).sqrt()
    }

    /// Whether `[i, i+n)` has enough going on to be judged.
    pub(super) fn active(&self, i: usize, n: usize) -> bool {
        self.energy(i, n).0 >= ACTIVE_VAR * (n * NB) as f64
    }
}
