//! The warped template of a pitch-kept time-stretch, built the way WSOLA builds its output.
//!
//! A WSOLA stretch (sox `tempo`, ffmpeg `atempo`) writes its output as overlapping windowed
//! segments, each an unshifted copy of the input taken near where the tempo line puts it
//! (sox: 82 ms segments crossfaded over 12 ms, each sought ±14.68 ms around its nominal place,
//! sox(1) `tempo` defaults; ffmpeg: Hann windows of `rate / 24` samples rounded up to a power
//! of two, 2048 at 48 kHz, at 50 % overlap, each sought ± half a window, `af_atempo.c`). So the
//! template is built the same way, from the program's side:
//!
//! 1. The program span the tempo map predicts is cut into windows of two hops, one every
//!    [`HOP_S`] (Hann, which sums to one at 50 % overlap).
//! 2. For each window, the stretch of the reference it copies is sought within [`REACH_S`]
//!    of the tempo line (NCC at the analysis rate over the reference's sliding energy, then
//!    to the sample at the program's rate). The previous window's source, continued, is kept
//!    when it matches nearly as well ([`KEEP_MARGIN`]): inside one WSOLA segment the source
//!    runs on, so the template does not jump a pitch period where nothing jumped.
//! 3. The windows overlap-add into the template. Windows that do not match (quiet, or buried
//!    under the program) run on from the last one that did at the tempo, re-timed once a
//!    WSOLA segment ([`SEGMENT_S`]); before the first match, the source is the first
//!    matching window's. The template starts where the first matching window puts the
//!    reference's first sample (WSOLA lays out its first segment from the input's start) and
//!    ends where the tempo takes the reference's last sample from the last matching window:
//!    the stretch's own start and end, not the line's (which WSOLA's search leaves up to
//!    15–20 ms off), so a whole ident is not cut at either end, nor its decay played short.
//!
//! Pieces of the reference placed on their own (each a fixed stretch of the reference, the
//! gaps between them silent) left a tenth of the template unmatched and its start 0.1 s
//! short; windows placed where they match leave no gaps.

use super::super::search::{dot, energy, prefix_energy};
use super::TempoMap;

/// Hop between windows, seconds; a window is two hops (20 ms: shorter than a sox segment
/// and an ffmpeg window, so most windows lie inside one).
const HOP_S: f64 = 0.01;
/// How far from the tempo line a window's source is sought, seconds (WSOLA's own search, up to
/// 21 ms in ffmpeg at 48 kHz, plus the line's error).
const REACH_S: f64 = 0.03;
/// A window matches when its NCC (sign-corrected) reaches this.
const WINDOW_NCC: f64 = 0.5;
/// The previous window's source, continued, is kept when its NCC is within this of the best.
const KEEP_MARGIN: f64 = 0.02;
/// Windows whose reference stretch has less than this fraction of the mean window energy are
/// not sought (the lead-in silence, the last decay): they continue their neighbours' source.
const SIGNIFICANT: f64 = 0.1;
/// Length of a WSOLA segment, seconds (sox's 82 ms, rounded): where no window matches, the
/// template's source is re-timed this often.
const SEGMENT_S: f64 = 0.08;
/// Matching windows needed for a template.
const MIN_WINDOWS: usize = 8;

/// A warped template: every reference channel and the downmix (last), at the program's rate,
/// and the lag of its first sample in the mix.
pub(super) struct Template {
    pub(super) channels: Vec<Vec<f32>>,
    pub(super) start: usize,
}

/// Best source of the window `xw` in `y` (prefix energies `py`): its start within `lo..=hi`
/// and NCC (times `sign`). `keep` (the previous window's source, continued) is taken instead
/// when its NCC is within `margin` of the best.
fn best_source(
    xw: &[f32],
    y: &[f32],
    py: &[f64],
    (lo, hi): (usize, usize),
    sign: f64,
    keep: Option<usize>,
    margin: f64,
) -> Option<(usize, f64)> {
    let n = xw.len();
    let ex = dot(xw, xw);
    if ex <= 0.0 || lo > hi || hi + n > y.len() {
        return None;
    }
    let ncc = |a: usize| {
        let ey = energy(py, a, n);
        if ey > 0.0 {
            sign * dot(xw, &y[a..a + n]) / (ex * ey).sqrt()
        } else {
            0.0
        }
    };
    let r: Vec<f64> = (lo..=hi).map(ncc).collect();
    let (i, &top) = r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    Some(
        keep.filter(|k| (lo..=hi).contains(k) && r[k - lo] >= top - margin)
            .map_or((lo + i, top), |k| (k, r[k - lo])),
    )
}

/// Build the warped template of `map` (found in `xc`, the mix at the analysis rate `ar`;
/// `yc` is the reference's mono there) against `x`, the same mix at the program's rate
/// (`ratio` = program rate / `ar`), from `templates` (the reference's channels and downmix,
/// last, at the program's rate). `None` when too few windows match or the template would
/// start before the mix.
pub(super) fn build(
    templates: &[Vec<f32>],
    x: &[f32],
    xc: &[f32],
    yc: &[f32],
    map: &TempoMap,
    ratio: f64,
    ar: u32,
) -> Option<Template> {
    let y = &templates[templates.len() - 1];
    let n = y.len();
    let secs_c = |s: f64| ((s * f64::from(ar)).round() as usize).max(1);
    let (wc, reach_c) = (2 * secs_c(HOP_S), secs_c(REACH_S));
    let hop = ((HOP_S * f64::from(ar) * ratio).round() as usize).max(1);
    let w = 2 * hop;
    if yc.len() <= wc || n <= w || x.len() <= w {
        return None;
    }
    let (pyc, py) = (prefix_energy(yc), prefix_energy(y));
    let mean_e = energy(&pyc, 0, yc.len()) * wc as f64 / yc.len() as f64;
    // Reference sample `a` (coarse) sits at `alpha + beta·a` in the coarse mix.
    let on_line = |q: f64| (q - map.alpha) / map.beta;
    let first = ((map.alpha - reach_c as f64) * ratio).max(0.0) as usize;
    let last = (((map.alpha + map.beta * yc.len() as f64 + reach_c as f64) * ratio) as usize)
        .min(x.len() - w);
    // Each window's program start and, where it matches, its source's offset (program sample
    // minus reference sample, at the program's rate).
    let mut wins: Vec<(usize, Option<i64>)> = Vec::new();
    let mut prev: Option<i64> = None;
    let mut q = first;
    while q <= last {
        let qc = (q as f64 / ratio).round() as usize;
        let a0 = on_line(qc as f64).round() as i64;
        let mut d = None;
        let fits = a0 >= 0 && (a0 as usize) + wc <= yc.len() && qc + wc <= xc.len();
        if fits && energy(&pyc, a0 as usize, wc) >= SIGNIFICANT * mean_e {
            let lo = (a0 - reach_c as i64).max(0) as usize;
            let hi = ((a0 + reach_c as i64) as usize).min(yc.len() - wc);
            let keep =
                prev.and_then(|p| usize::try_from(qc as i64 - (p as f64 / ratio) as i64).ok());
            let xw = &xc[qc..qc + wc];
            let coarse = best_source(xw, yc, &pyc, (lo, hi), map.sign, keep, KEEP_MARGIN);
            if let Some((ac, _)) = coarse.filter(|c| c.1 >= WINDOW_NCC) {
                // To the sample at the program's rate, around the coarse source.
                let centre = (ac as f64 * ratio).round() as i64;
                let span = ratio.ceil() as i64 + 1;
                let lo = (centre - span).max(0) as usize;
                let hi = ((centre + span).max(0) as usize).min(n - w);
                let keep = prev.and_then(|p| usize::try_from(q as i64 - p).ok());
                let margin = 0.1 * KEEP_MARGIN;
                let xw = &x[q..q + w];
                if let Some((a, _)) = best_source(xw, y, &py, (lo, hi), map.sign, keep, margin) {
                    d = Some(q as i64 - a as i64);
                    prev = d;
                }
            }
        }
        wins.push((q, d));
        q += hop;
    }
    let matched: Vec<(usize, i64)> = wins
        .iter()
        .filter_map(|&(q, d)| d.map(|d| (q, d)))
        .collect();
    if matched.len() < MIN_WINDOWS {
        return None;
    }
    // The tempo is the tempo map's (its pieces span the whole ident; WSOLA's sources wander
    // ± its search around the line, which leaves the factor good to about 0.7 % on a 3.5 s
    // ident: the slope through these windows' sources was no better).
    let tempo = map.tempo;
    let d_first = matched[0].1;
    let (q_last, d_last) = matched[matched.len() - 1];
    // Past the last matching window the reference runs on at the tempo, re-timed a WSOLA
    // segment at a time ([`SEGMENT_S`]): its decay is stretched as the rest was, so the
    // template ends where the stretch does, not (1 − tempo) of the decay early.
    let seg = ((SEGMENT_S * f64::from(ar) * ratio).round() as usize).max(hop);
    let run_on = |from: (usize, i64), q: usize| -> i64 {
        let dq = (q.saturating_sub(from.0) / seg * seg) as f64;
        from.1 + ((1.0 - tempo) * dq).round() as i64
    };
    // Windows that do not match run on from the last one that did; before the first one
    // matches, its source is the reference from its first sample (where WSOLA starts).
    let mut anchor: Option<(usize, i64)> = None;
    let offsets: Vec<(usize, i64)> = wins
        .iter()
        .map(|&(q, d)| match (d, anchor) {
            (Some(d), _) => {
                anchor = Some((q, d));
                (q, d)
            }
            (None, Some(from)) => (q, run_on(from, q)),
            (None, None) => (q, d_first),
        })
        .collect();
    // The reference's last sample sits where the tempo takes it from the last matching window.
    let a_last = (q_last as i64 - d_last).max(0) as f64;
    let d_end = d_last + ((1.0 - tempo) * (n as f64 - a_last) / tempo).round() as i64;
    if d_first < 0 {
        return None;
    }
    let start = d_first as usize;
    let end = (d_end + n as i64).max(0) as usize;
    if end <= start {
        return None;
    }
    let len = end - start;
    // Hann weights, periodic: two windows at 50 % overlap sum to one.
    let hann: Vec<f32> = (0..w)
        .map(|i| (std::f64::consts::PI * i as f64 / w as f64).sin().powi(2) as f32)
        .collect();
    let channels = templates
        .iter()
        .map(|t| {
            let src = |p: usize, d: i64| -> f32 {
                usize::try_from(p as i64 - d)
                    .ok()
                    .and_then(|i| t.get(i))
                    .copied()
                    .unwrap_or(0.0)
            };
            let mut num = vec![0.0f32; len];
            let mut den = vec![0.0f32; len];
            for &(q, d) in &offsets {
                for (i, &h) in hann.iter().enumerate() {
                    let p = q + i;
                    if p >= start && p < end {
                        num[p - start] += h * src(p, d);
                        den[p - start] += h;
                    }
                }
            }
            // Outside the windows (or where they barely weigh): the nearest window's source.
            let q0 = offsets[0].0;
            (0..len)
                .map(|i| {
                    let p = start + i;
                    if den[i] > 1e-3 {
                        num[i] / den[i]
                    } else if p < q0 + w / 2 {
                        src(p, offsets[0].1)
                    } else {
                        src(p, run_on((q_last, d_last), p))
                    }
                })
                .collect()
        })
        .collect();
    Some(Template { channels, start })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window cut from noise is found at its own start; one cut from a steady tone matches
    /// a period on as well, and there the previous window's source, continued, is kept.
    #[test]
    fn best_source_finds_the_copy_and_keeps_a_continued_source_of_a_tone() {
        let mut seed = 0x2545_f491_u32;
        let noise: Vec<f32> = (0..600)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        let p = prefix_energy(&noise);
        let xw = &noise[100..260];
        let (a, r) = best_source(xw, &noise, &p, (50, 200), 1.0, None, KEEP_MARGIN).unwrap();
        assert_eq!(a, 100);
        assert!((r - 1.0).abs() < 1e-6, "{r}");
        // A continued source that does not match is not kept.
        let got = best_source(xw, &noise, &p, (50, 200), 1.0, Some(140), KEEP_MARGIN);
        assert_eq!(got.map(|g| g.0), Some(100));
        // Inverted, sought inverted.
        let inv: Vec<f32> = xw.iter().map(|v| -v).collect();
        let got = best_source(&inv, &noise, &p, (50, 200), -1.0, None, KEEP_MARGIN);
        assert_eq!(got.map(|g| g.0), Some(100));

        // A 200 Hz tone at 8 kHz: a period is 40 samples.
        let tone: Vec<f32> = (0..600)
            .map(|i| (2.0 * std::f64::consts::PI * i as f64 / 40.0).sin() as f32)
            .collect();
        let p = prefix_energy(&tone);
        let xw = &tone[100..260];
        let (a, r) = best_source(xw, &tone, &p, (50, 200), 1.0, Some(140), KEEP_MARGIN).unwrap();
        assert_eq!(a, 140);
        assert!(r > 0.999, "{r}");
        // Half a period on, the tone is inverted: not kept, a whole period on is taken.
        let (a, r) = best_source(xw, &tone, &p, (50, 200), 1.0, Some(120), KEEP_MARGIN).unwrap();
        assert_eq!(a % 40, 100 % 40, "{a}");
        assert!(r > 0.999, "{r}");
    }
}
