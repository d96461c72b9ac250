//! Pitch-corrected speed changes: an ident time-stretched with its pitch kept (a 24 → 25 fps
//! conform with pitch correction; `sox tempo`, `ffmpeg atempo`, WSOLA and its kin).
//!
//! A waveform correlation against the resampled reference fails here (the pitch is the
//! original's, not the resampled one's), but two things survive the stretch:
//!
//! 1. The **onset envelope** is the reference's envelope stretched in time (pitch plays no
//!    part in it): the envelope grid and the envelope passes of the piece regression (see
//!    [`super::speed`]) give the tempo and the lag to about a millisecond.
//! 2. Each short stretch of the output is an **unshifted copy** of some stretch of the
//!    original (WSOLA cuts the input into 50–100 ms segments and lays them out, overlapped,
//!    at the new rate). So short pieces of the reference at speed 1 ([`PIECE_S`]) correlate
//!    highly with the program, each at its own lag within a few milliseconds of the tempo
//!    line ([`LINE_TOLERANCE_S`]).
//!
//! The pieces that sit on the tempo line (at least [`MIN_ON_LINE`] of them) give the **tempo
//! map**: a look-alike cue whose pieces correlate here and there, off any straight line,
//! builds none. Along that line a **warped template** is built the way WSOLA built the
//! stretch ([`warp`]: overlapping windows of the program, each filled with the stretch of the
//! reference it copies, crossfaded), and evaluated in place as any other
//! ([`super::place::evaluate_at`]): the same score, coverage, decision against the null
//! baseline, cuts, remix and gain.

mod warp;

use super::place::At;
use super::search::dot;
use super::speed::{envelope_grid, lag_nccs, rational, refine};
use super::{Engine, Result};

/// Length of the reference pieces placed one by one, seconds (shorter than a WSOLA segment,
/// 60–100 ms in sox and ffmpeg, so most lie within one).
pub(super) const PIECE_S: f64 = 0.05;
/// How far from the tempo line a piece is sought, seconds (WSOLA's own search, 15 ms in sox,
/// plus the line's error).
const REACH_S: f64 = 0.03;
/// A piece is on the line when its lag is within this of it, seconds.
pub(super) const LINE_TOLERANCE_S: f64 = 0.02;
/// A piece matches when its NCC at its lag reaches this.
const PIECE_NCC: f64 = 0.6;
/// Fraction of the significant pieces that must match on the line.
pub(super) const MIN_ON_LINE: f64 = 0.5;
/// Tempos closer to 1 than this (relative) are the waveform search's: nothing to warp.
const MIN_TEMPO_CHANGE: f64 = 0.002;

/// Best lag (integer) of `y` in `x` within `reach` of `centre`, with its NCC, for each sign
/// (`[+, −]`: where `y` matches as it is, and inverted; the NCC times the sign).
fn piece_lags(x: &[f32], y: &[f32], centre: f64, reach: usize) -> Option<[(usize, f64); 2]> {
    let (lo, r) = lag_nccs(x, y, centre, reach)?;
    let best = |sign: f64| {
        r.iter()
            .enumerate()
            .map(|(i, &v)| (lo + i, sign * v))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    Some([best(1.0)?, best(-1.0)?])
}

/// The tempo map of one mix: tempo, and each piece's lag in `x` (coarse samples; `None` for
/// a piece off the line or too quiet), with the fraction of significant pieces on the line.
struct TempoMap {
    tempo: f64,
    /// Line through the pieces: piece start `a` (coarse samples) sits at `alpha + beta·a`.
    alpha: f64,
    beta: f64,
    on_line: f64,
    /// −1 when the pieces match inverted (a polarity-inverted ident).
    sign: f64,
}

/// Pieces of `y` (the reference at speed 1, coarse) sought in `x` along the line `l + a/s`, as
/// they are and inverted: the map of the polarity whose pieces lie better on a line.
fn tempo_map(x: &[f32], y: &[f32], s: f64, l: f64, ar: u32) -> Option<TempoMap> {
    let piece = ((PIECE_S * f64::from(ar)).round() as usize).max(2);
    let reach = (REACH_S * f64::from(ar)).round() as usize;
    let k = y.len() / piece;
    let mean_e = dot(y, y) * piece as f64 / y.len().max(1) as f64;
    // Each significant piece's best lag and NCC, as it is and inverted.
    let mut found: Vec<(usize, [(usize, f64); 2])> = Vec::new();
    let mut n_sig = 0usize;
    for i in 0..k {
        let yp = &y[i * piece..(i + 1) * piece];
        if dot(yp, yp) < 0.1 * mean_e {
            continue;
        }
        n_sig += 1;
        let a = (i * piece) as f64;
        if let Some(lags) = piece_lags(x, yp, l + a / s, reach) {
            found.push((i, lags));
        }
    }
    if n_sig < 4 {
        return None;
    }
    [(0, 1.0), (1, -1.0)]
        .into_iter()
        .filter_map(|(j, sign)| {
            let pts: Vec<(usize, f64, f64)> = found
                .iter()
                .filter(|(_, lags)| lags[j].1 >= PIECE_NCC)
                .map(|&(i, lags)| (i, lags[j].0 as f64, lags[j].1))
                .collect();
            on_line(pts, piece, n_sig, ar, sign)
        })
        .max_by(|a, b| a.on_line.total_cmp(&b.on_line))
}

/// The tempo map through the pieces `(index, lag, NCC)` that lie on a robust line.
fn on_line(
    mut pts: Vec<(usize, f64, f64)>,
    piece: usize,
    n_sig: usize,
    ar: u32,
    sign: f64,
) -> Option<TempoMap> {
    let tol = LINE_TOLERANCE_S * f64::from(ar);
    let line = |pts: &[(usize, f64, f64)]| -> Option<(f64, f64)> {
        let w: Vec<(f64, f64, f64)> = pts
            .iter()
            .map(|&(i, d, r)| ((i * piece) as f64, d, r * r))
            .collect();
        let sw: f64 = w.iter().map(|p| p.2).sum();
        let ma = w.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
        let md = w.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
        let saa: f64 = w.iter().map(|p| p.2 * (p.0 - ma).powi(2)).sum();
        let sad: f64 = w.iter().map(|p| p.2 * (p.0 - ma) * (p.1 - md)).sum();
        (sw > 0.0 && saa > 0.0).then(|| (md - sad / saa * ma, sad / saa))
    };
    if pts.len() < 4 {
        return None;
    }
    let (mut alpha, mut beta) = line(&pts)?;
    for _ in 0..2 {
        pts.retain(|&(i, d, _)| (d - alpha - beta * (i * piece) as f64).abs() <= tol);
        if pts.len() < 4 {
            return None;
        }
        (alpha, beta) = line(&pts)?;
    }
    if !(0.85..=1.2).contains(&beta) {
        return None;
    }
    Some(TempoMap {
        tempo: 1.0 / beta,
        alpha,
        beta,
        on_line: pts.len() as f64 / n_sig as f64,
        sign,
    })
}

/// A warped template found in a window: what [`evaluate_at`] needs besides the window's own
/// [`At`].
pub(super) struct Warped {
    /// Index of the mix it was found in.
    mi: usize,
    /// Every reference channel and the downmix (last), warped, at the program's rate.
    pub(super) templates: Vec<Vec<f32>>,
    energies: Vec<f64>,
    speed: (u32, u32),
    /// Coarse lag of the template's first sample in the mix.
    pub(super) cand: usize,
}

impl Warped {
    /// `at` with the warped templates in place of the resampled ones.
    pub(super) fn at<'a>(&'a self, at: &At<'a>) -> At<'a> {
        At {
            mix: &at.win.mixes[self.mi],
            templates: &self.templates,
            energies: &self.energies,
            speed: self.speed,
            pitch_kept: true,
            ..*at
        }
    }
}

/// Search the window for a time-stretched (pitch-kept) ident: for each mix, the envelope
/// speed search (pitch-invariant), then the tempo map and warped templates of the mix whose
/// pieces lie best on a line (to evaluate in place with [`Warped::at`]). `None` when no mix
/// yields a tempo map away from speed 1.
pub(super) fn search(eng: &mut Engine, at: &At<'_>) -> Result<Option<Warped>> {
    let (p, ar, rate) = (at.p, at.ar, at.rate);
    let mut best: Option<(usize, TempoMap)> = None;
    for (mi, mix) in at.win.mixes.iter().enumerate() {
        let Some((s, lag, _)) = envelope_grid(
            &mut eng.planner,
            &mut eng.cache,
            &mix.env_spectra,
            &p.env,
            p.env_key(),
            ar,
        ) else {
            continue;
        };
        let (s, l) = refine(&mix.coarse, &mix.env, &p.reference, ar, s, lag, false)?;
        if (s - 1.0).abs() < MIN_TEMPO_CHANGE {
            continue;
        }
        if let Some(map) = tempo_map(&mix.coarse, &p.coarse, s, l, ar) {
            if best.as_ref().is_none_or(|b| map.on_line > b.1.on_line) {
                best = Some((mi, map));
            }
        }
    }
    let Some((mi, map)) = best else {
        return Ok(None);
    };
    if map.on_line < MIN_ON_LINE || (map.tempo - 1.0).abs() < MIN_TEMPO_CHANGE {
        return Ok(None);
    }
    let mix = &at.win.mixes[mi];
    let templates = p.reference.templates(rate, 1, 1)?;
    let ratio = f64::from(rate) / f64::from(ar);
    let Some(t) = warp::build(
        &templates,
        &mix.full,
        &mix.coarse,
        &p.coarse,
        &map,
        ratio,
        ar,
    ) else {
        return Ok(None);
    };
    let energies: Vec<f64> = t.channels.iter().map(|c| dot(c, c)).collect();
    Ok(Some(Warped {
        mi,
        templates: t.channels,
        energies,
        speed: rational(map.tempo),
        cand: (t.start as f64 / ratio).round() as usize,
    }))
}
