//! Playback-speed search: which linear speed change in [`SPEED_RANGE`] the ident went through.
//!
//! A waveform correlation only survives a speed error of about 10⁻⁴ over a 3.5 s ident (at
//! 1 kHz the phase drifts by `f·δ·T` cycles), so the speed is found in two stages before the
//! waveform search:
//!
//! 1. **Envelope grid**: the onset envelope (RMS in 5 ms frames every 2.5 ms, its ±50 ms mean
//!    removed) of the window is correlated by FFT with the reference's envelope stretched to
//!    every speed of a grid of [`GRID_STEP`] steps. Envelopes tolerate a few milliseconds of
//!    drift and the shift of every frequency by the speed, so the grid is coarse; the best
//!    (speed, lag) is kept.
//! 2. **Piece regression**: the reference, resampled to that speed, is cut into pieces; each
//!    piece's best lag near its expected place (sub-sample, by a parabola through the NCC peak)
//!    is a point of the time map between reference and program. The slope of a robust
//!    straight-line fit is the residual speed error. Two passes on the envelopes (0.4 s
//!    pieces: no pitch-period side lobes to lock onto), then two on the waveform within less
//!    than a pitch period (precise to a few 10⁻⁵ over 3.5 s).
//!
//! The result snaps to an exact frame-rate ratio (`SPEED_FACTORS`) when it is within
//! [`SNAP_TOLERANCE`] of one, and is otherwise the rational `round(s·10⁵)/10⁵`.

use realfft::RealFftPlanner;

use crate::num::gcd;

use super::reference::Reference;
use super::search::{dot, Spectra, TemplateCache};
use super::window::Mix;
use super::SPEED_FACTORS;
use super::{Engine, Prepared};
use crate::error::Result;

/// Playback speeds searched: any linear change from 0.9× to 1.1× (PAL speed-up, 23.976 ↔ 24,
/// 25 → 23.976, and whatever a conform applied).
pub const SPEED_RANGE: (f64, f64) = (0.9, 1.1);

/// Relative step of the envelope speed grid (at ±0.2 % the envelope drifts ±3.5 ms at the ends
/// of a 3.5 s ident: less than an onset's width).
pub const GRID_STEP: f64 = 0.004;

/// A refined speed within this (relative) of a frame-rate ratio is that ratio.
pub const SNAP_TOLERANCE: f64 = 1.5e-4;

/// Envelope frame hop, seconds.
const ENV_HOP_S: f64 = 0.0025;
/// Half-width of the moving mean removed from the envelope, seconds.
const ENV_MEAN_S: f64 = 0.05;
/// Pieces needed for a regression.
const MIN_PIECES: usize = 4;
/// Denominator of a speed that is no frame-rate ratio.
pub const SPEED_DEN: u32 = 100_000;

/// The envelope hop in samples at `ar`.
pub(crate) fn env_hop(ar: u32) -> usize {
    ((ENV_HOP_S * f64::from(ar)).round() as usize).max(1)
}

/// Onset envelope of `x` (sampled at `ar`): RMS over two hops every hop, minus its moving mean.
pub(crate) fn envelope(x: &[f32], ar: u32) -> Vec<f32> {
    let h = env_hop(ar);
    let frames = x.len() / h;
    let e: Vec<f64> = (0..frames)
        .map(|j| {
            let a = j * h;
            let b = (a + 2 * h).min(x.len());
            (dot(&x[a..b], &x[a..b]) / (b - a).max(1) as f64).sqrt()
        })
        .collect();
    high_pass(&e, (ENV_MEAN_S / ENV_HOP_S).round() as usize)
}

fn high_pass(e: &[f64], k: usize) -> Vec<f32> {
    let mut prefix = Vec::with_capacity(e.len() + 1);
    let mut acc = 0.0;
    prefix.push(0.0);
    for v in e {
        acc += v;
        prefix.push(acc);
    }
    (0..e.len())
        .map(|j| {
            let a = j.saturating_sub(k);
            let b = (j + k + 1).min(e.len());
            (e[j] - (prefix[b] - prefix[a]) / (b - a) as f64) as f32
        })
        .collect()
}

/// The envelope `env` of a clip, as it would look played `speed` times faster (linear
/// interpolation of the frames).
pub(crate) fn stretch_envelope(env: &[f32], speed: f64) -> Vec<f32> {
    let n = ((env.len() as f64) / speed).floor() as usize;
    (0..n)
        .map(|j| {
            let t = j as f64 * speed;
            let i = t.floor() as usize;
            let f = (t - i as f64) as f32;
            let a = env[i.min(env.len() - 1)];
            let b = env[(i + 1).min(env.len() - 1)];
            a + f * (b - a)
        })
        .collect()
}

/// The speeds of the envelope grid.
pub(crate) fn grid() -> Vec<f64> {
    let (lo, hi) = SPEED_RANGE;
    let steps = ((hi / lo).ln() / GRID_STEP.ln_1p()).ceil() as usize;
    (0..=steps)
        .map(|i| (lo * (1.0 + GRID_STEP).powi(i as i32)).min(hi))
        .collect()
}

/// Stage 1 on one signal: the best (speed, lag in samples at `ar`, envelope NCC) over the grid.
/// `env_spectra` holds the signal's envelope; `ref_env` the reference's at speed 1; `key0`
/// names grid templates in `cache` (grid index added).
pub(crate) fn envelope_grid(
    planner: &mut RealFftPlanner<f32>,
    cache: &mut TemplateCache,
    env_spectra: &Spectra,
    ref_env: &[f32],
    key0: usize,
    ar: u32,
) -> Option<(f64, usize, f32)> {
    let mut best: Option<(f64, usize, f32)> = None;
    for (gi, s) in grid().into_iter().enumerate() {
        let t = stretch_envelope(ref_env, s);
        let (ncc, _) = env_spectra.correlate(planner, cache, key0 + gi, &t, false);
        for (lag, &v) in ncc.iter().enumerate() {
            if best.is_none_or(|b| v > b.2) {
                best = Some((s, lag, v));
            }
        }
    }
    best.map(|(s, lag, v)| (s, lag * env_hop(ar), v))
}

/// NCC of `y` with `x` at every integer lag within `reach` of `centre` (coarse samples):
/// the first lag and the NCCs from it. `None` when `y` is silent or nothing fits.
pub(super) fn lag_nccs(
    x: &[f32],
    y: &[f32],
    centre: f64,
    reach: usize,
) -> Option<(usize, Vec<f64>)> {
    let n = y.len();
    let ey = dot(y, y);
    if ey <= 0.0 || x.len() < n {
        return None;
    }
    let c = centre.round() as i64;
    let lo = (c - reach as i64).max(0) as usize;
    let hi = ((c + reach as i64).max(0) as usize).min(x.len() - n);
    if lo > hi {
        return None;
    }
    let r = (lo..=hi)
        .map(|l| {
            let w = &x[l..l + n];
            let ex = dot(w, w);
            if ex > 0.0 {
                dot(w, y) / (ex * ey).sqrt()
            } else {
                0.0
            }
        })
        .collect();
    Some((lo, r))
}

/// Best lag of `y` in `x` around `centre` (± `reach`), sub-sample, with its NCC times `sign`
/// (−1: the lag where `y` matches inverted).
fn piece_lag(x: &[f32], y: &[f32], centre: f64, reach: usize, sign: f64) -> Option<(f64, f64)> {
    let (lo, mut r) = lag_nccs(x, y, centre, reach)?;
    r.iter_mut().for_each(|v| *v *= sign);
    let (i, &best) = r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let frac = if i > 0 && i + 1 < r.len() {
        let (a, b, c) = (r[i - 1], best, r[i + 1]);
        let d = a - 2.0 * b + c;
        if d < 0.0 {
            (0.5 * (a - c) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some(((lo + i) as f64 + frac, best))
}

/// Least squares `d = α + β·c` over `(c, d, w)`.
fn fit(points: &[(f64, f64, f64)]) -> Option<(f64, f64)> {
    let sw: f64 = points.iter().map(|p| p.2).sum();
    if sw <= 0.0 {
        return None;
    }
    let mc = points.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
    let md = points.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
    let scc: f64 = points.iter().map(|p| p.2 * (p.0 - mc).powi(2)).sum();
    if scc <= 0.0 {
        return None;
    }
    let scd: f64 = points.iter().map(|p| p.2 * (p.0 - mc) * (p.1 - md)).sum();
    let beta = scd / scc;
    Some((md - beta * mc, beta))
}

/// One regression pass: pieces of `piece` samples of `y` (every `piece / 2`), each sought in
/// `x` (times `sign`: −1 for an inverted ident) within `reach` of `l + a`; a robust line
/// through (piece start, lag − start). Returns `(α, β, support)`: template sample `a` sits at
/// `α + a·(1 + β)` in `x`; `support` is the sum of the squared NCCs of the pieces on the line.
#[allow(clippy::too_many_arguments)] // private; the pass's parameters
fn regress(
    x: &[f32],
    y: &[f32],
    l: f64,
    piece: usize,
    reach: usize,
    min_ncc: f64,
    tol: f64,
    sign: f64,
) -> Option<(f64, f64, f64)> {
    let piece = piece.max(2);
    let stride = (piece / 2).max(1);
    // Mean energy of a piece: quieter pieces (decays, pauses) say little.
    let mean_e = dot(y, y) * piece as f64 / y.len().max(1) as f64;
    let mut pts = Vec::new();
    let mut a = 0;
    while a + piece <= y.len() {
        let yp = &y[a..a + piece];
        if dot(yp, yp) >= 0.1 * mean_e {
            if let Some((d, r)) = piece_lag(x, yp, l + a as f64, reach, sign) {
                if r >= min_ncc {
                    pts.push((a as f64, d - a as f64, r * r));
                }
            }
        }
        a += stride;
    }
    if pts.len() < MIN_PIECES {
        return None;
    }
    let (mut alpha, mut beta) = fit(&pts)?;
    // Robust: drop pieces off the line by more than `tol` (a pitch-period side lobe, a piece
    // of the bed), refit.
    pts.retain(|p| (p.1 - alpha - beta * p.0).abs() <= tol);
    if pts.len() < MIN_PIECES {
        return None;
    }
    (alpha, beta) = fit(&pts)?;
    let support = pts.iter().map(|p| p.2).sum();
    (beta.abs() < 0.05).then_some((alpha, beta, support))
}

/// Stage 2: refine `speed` (and the lag, samples at `ar` in `x`) by piece regressions: two on
/// the onset envelopes (`x_env` is `x`'s; no pitch-period side lobes there, so the lag is
/// pinned to a fraction of a millisecond), then two on the waveform with a reach shorter than
/// a pitch period. Returns the refined (speed, lag), or the last good one when too few pieces
/// correlate. With `waveform` false only the envelope passes run (for a time-stretch with
/// the pitch kept, whose waveform is not the resampled reference's).
pub(crate) fn refine(
    x: &[f32],
    x_env: &[f32],
    reference: &Reference,
    ar: u32,
    speed: f64,
    lag: usize,
    waveform: bool,
) -> Result<(f64, f64)> {
    let h = env_hop(ar) as f64;
    let secs = |v: f64, per: f64| ((v * f64::from(ar) / per).round() as usize).max(1);
    let (mut s, mut l) = (speed, lag as f64);
    // (envelope?, piece s, reach s, min NCC, tolerance in samples)
    let passes = [
        (true, 0.4, 0.025, 0.4, 1.5 * h),
        (true, 0.4, 0.008, 0.4, 1.0 * h),
        (false, 0.2, 0.0015, 0.3, 1.5),
        (false, 0.4, 0.0006, 0.3, 1.0),
    ];
    // The waveform passes follow the ident's polarity: decided on the first of them, by
    // which sign puts more correlation on a line (an inverted ident's pieces also correlate
    // positively half a pitch period off, but not all on one line).
    let mut sign: Option<f64> = None;
    for (env, piece_s, reach_s, min_ncc, tol) in passes {
        if !env && !waveform {
            break;
        }
        let (num, den) = rational(s);
        let t = reference.mono_template(ar, num, den)?;
        let fit = if env {
            let ye = envelope(&t[0], ar);
            regress(
                x_env,
                &ye,
                l / h,
                secs(piece_s, h),
                secs(reach_s, h),
                min_ncc,
                tol / h,
                1.0,
            )
            .map(|(alpha, beta, _)| (alpha * h, beta))
        } else {
            let pass = |sg: f64| {
                regress(
                    x,
                    &t[0],
                    l,
                    secs(piece_s, 1.0),
                    secs(reach_s, 1.0),
                    min_ncc,
                    tol,
                    sg,
                )
            };
            let signs: &[f64] = match sign {
                Some(ref sg) => std::slice::from_ref(sg),
                None => &[1.0, -1.0],
            };
            let best = signs
                .iter()
                .filter_map(|&sg| pass(sg).map(|f| (sg, f)))
                .max_by(|a, b| a.1 .2.total_cmp(&b.1 .2));
            best.map(|(sg, (alpha, beta, _))| {
                sign = Some(sg);
                (alpha, beta)
            })
        };
        let Some((alpha, beta)) = fit else {
            break;
        };
        // Template sample c sits at program sample α + c·(1 + β): the program plays the
        // template 1/(1+β) times faster.
        let ns = s / (1.0 + beta);
        if !(SPEED_RANGE.0 * 0.99..=SPEED_RANGE.1 * 1.01).contains(&ns) {
            break;
        }
        s = ns;
        l = alpha;
    }
    Ok((s, l))
}

/// The speed as a rational: an exact frame-rate ratio when within [`SNAP_TOLERANCE`], else
/// `round(s·10⁵)/10⁵` reduced.
pub(crate) fn rational(s: f64) -> (u32, u32) {
    for &(num, den) in SPEED_FACTORS.iter() {
        let f = f64::from(num) / f64::from(den);
        if (s / f - 1.0).abs() <= SNAP_TOLERANCE {
            return (num, den);
        }
    }
    let num = (s * f64::from(SPEED_DEN)).round().max(1.0) as u32;
    let g = gcd(num, SPEED_DEN);
    (num / g, SPEED_DEN / g)
}

/// A speed (`num/den`), the cache key of its coarse template and the template's NCC at every
/// lag.
pub(super) type SpeedNcc = ((u32, u32), usize, Vec<f32>);

/// The speed search on one mix (see [`speed`]): unchanged speed and the speed the envelope
/// grid and piece regression find; for each the coarse NCC of the mono template at every lag.
/// Returns `(speed, cache key, NCC)` of the one whose NCC peaks higher.
pub(super) fn speed_search(eng: &mut Engine, mix: &Mix, p: &Prepared, ar: u32) -> Result<SpeedNcc> {
    let mut speeds = vec![(1u32, 1u32)];
    if let Some((s, lag, _)) = envelope_grid(
        &mut eng.planner,
        &mut eng.cache,
        &mix.env_spectra,
        &p.env,
        p.env_key(),
        ar,
    ) {
        let (s, _) = refine(&mix.coarse, &mix.env, &p.reference, ar, s, lag, true)?;
        let r = rational(s);
        if r != (1, 1) {
            speeds.push(r);
        }
    }
    let mut best: Option<(SpeedNcc, f32)> = None;
    for sp in speeds {
        let key = eng.speed_key(p.id, sp);
        let tmpl = if sp == (1, 1) {
            None
        } else {
            Some(p.reference.mono_template(ar, sp.0, sp.1)?)
        };
        let y: &[f32] = tmpl.as_ref().map_or(&p.coarse, |t| &t[0]);
        let (ncc, _) = eng.correlate(&mix.spectra, key, y, false);
        let peak = ncc.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        if best.as_ref().is_none_or(|b| peak > b.1) {
            best = Some(((sp, key, ncc), peak));
        }
    }
    Ok(best.expect("unchanged speed tried").0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_spans_the_range_in_small_steps() {
        let g = grid();
        assert_eq!(g[0], 0.9);
        assert_eq!(*g.last().unwrap(), 1.1);
        for w in g.windows(2) {
            assert!(w[1] / w[0] - 1.0 <= GRID_STEP + 1e-12);
        }
    }

    #[test]
    fn rational_snaps_to_frame_rate_ratios_only_when_close() {
        assert_eq!(rational(1.0), (1, 1));
        assert_eq!(rational(25.0 / 24.0 + 1e-5), (25, 24));
        assert_eq!(rational(1.0009), (1001, 1000));
        assert_eq!(rational(0.95), (19, 20));
        assert_eq!(rational(1.03712), (3241, 3125));
    }
}
