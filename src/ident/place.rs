//! A match in place: the exact lag at the program's rate, per-piece and per-quarter
//! correlation (coverage), the decision against the null baseline, the contiguous span
//! (cuts), and the alterations.

use super::*;

/// A piece matches when its in-place NCC (sign-corrected) reaches this…
pub(super) const PIECE_MATCH: f64 = 0.15;
/// … and its least-squares gain this fraction of the median piece's.
pub(super) const PIECE_GAIN: f64 = 0.5;

/// Pieces whose reference energy is below this fraction of the mean piece energy (−12 dB) are
/// not judged (decays, pauses): their NCC says little.
pub(super) const PIECE_SIGNIFICANT: f64 = 0.063;

/// Floors of the decision, whatever the null baseline: an ident is found when its score
/// reaches `FOUND_SCORE` and the NCC over its matching pieces `FOUND_MATCHED`; in review from
/// `REVIEW_SCORE`.
pub(super) const FOUND_SCORE: f64 = 0.55;
pub(super) const FOUND_MATCHED: f64 = 0.65;
pub(super) const REVIEW_SCORE: f64 = 0.45;
/// A found ident covers at least half the reference; less is `review`.
pub(super) const FOUND_COVERAGE: f64 = 0.5;
/// Margins above the null baseline (best score in the program's body) for found / review.
pub(super) const FOUND_MARGIN: f64 = 0.2;
pub(super) const REVIEW_MARGIN: f64 = 0.1;

/// A cut is reported when the reference energy missing at that end reaches this fraction
/// (0.5 %: about one 40 ms video frame of an attack; a cut into silence is harmless).
pub(super) const CUT_ENERGY: f64 = 0.005;

/// NCC of `x[lag..lag+y.len()]` with `y` for every lag in `lo..=hi` (energy of `y` given),
/// the window's energy slid along in `f64`.
pub(super) fn ncc_range(x: &[f32], y: &[f32], ey: f64, lo: usize, hi: usize) -> Vec<(usize, f64)> {
    let n = y.len();
    let mut ex = dot(&x[lo..lo + n], &x[lo..lo + n]);
    (lo..=hi)
        .map(|lag| {
            if lag > lo {
                let (a, b) = (f64::from(x[lag - 1]), f64::from(x[lag + n - 1]));
                ex = (ex - a * a + b * b).max(0.0);
            }
            let r = if ex > 0.0 && ey > 0.0 {
                dot(&x[lag..lag + n], y) / (ex * ey).sqrt()
            } else {
                0.0
            };
            (lag, r)
        })
        .collect()
}

pub(super) fn ncc_at(x: &[f32], y: &[f32], ey: f64, lag: usize) -> f64 {
    ncc_range(x, y, ey, lag, lag)[0].1
}

/// How a speed came about, for the alteration's message.
pub(super) fn speed_note(num: u32, den: u32) -> String {
    if SPEED_FACTORS.contains(&(num, den)) {
        format!(" ({num}/{den}): a frame-rate conversion")
    } else {
        String::new()
    }
}

/// What one evaluation of a window at a speed needs.
pub(super) struct At<'a> {
    pub(super) win: &'a Window,
    pub(super) mix: &'a Mix,
    pub(super) p: &'a Prepared,
    /// The reference's channels and mono downmix at the program's rate and this speed.
    pub(super) templates: &'a [Vec<f32>],
    pub(super) energies: &'a [f64],
    pub(super) side: Side,
    pub(super) total: u64,
    pub(super) labels: &'a [String],
    pub(super) weights: &'a [f32],
    pub(super) rate: u32,
    /// Rate of the candidate lags.
    pub(super) ar: u32,
    pub(super) speed: (u32, u32),
    /// The templates are the reference time-stretched with its pitch kept (see
    /// [`super::tempo`]), not resampled.
    pub(super) pitch_kept: bool,
    pub(super) threshold: f64,
    pub(super) review: f64,
}

/// Evaluate the window at the best of the coarse lag candidates `cands`: exact lag, in-place
/// pieces, decision, span, channels, alterations. Returns the match (from `m`, the blank one)
/// and, when found or in review, the present span `[start, end)` in program frames.
pub(super) fn evaluate_at(
    source: &mut dyn AudioSource,
    at: &At<'_>,
    cands: &[usize],
    mut m: IdentMatch,
) -> Result<(IdentMatch, Option<(i64, i64)>)> {
    // 3. Exact lag at the program's rate: mono template around each candidate, then every
    //    template near the best of each.
    let At {
        win,
        mix,
        p,
        templates,
        energies,
        side,
        total,
        labels,
        weights,
        rate,
        ar,
        speed: (num, den),
        pitch_kept,
        threshold,
        review,
    } = *at;
    let ref_ch = templates.len() - 1;
    let n = templates[ref_ch].len();
    if n == 0 || n > mix.full.len() {
        return Ok((m, None));
    }
    let max_lag = mix.full.len() - n;
    let ratio = f64::from(rate) / f64::from(ar);
    let reach = ratio.ceil() as i64 + 2;
    // (lag, template, ncc)
    let mut chosen: Option<(usize, usize, f64)> = None;
    for &c in cands {
        let centre = (c as f64 * ratio).round() as i64;
        let lo = (centre - reach).max(0) as usize;
        let hi = ((centre + reach).max(0) as usize).min(max_lag);
        if lo > hi {
            continue;
        }
        let mut local: Option<(usize, f64)> = None;
        for (lag, r) in ncc_range(&mix.full, &templates[ref_ch], energies[ref_ch], lo, hi) {
            if local.is_none_or(|(_, b)| r.abs() > b.abs()) {
                local = Some((lag, r));
            }
        }
        let Some((lag0, r0)) = local else { continue };
        let mut cand = (lag0, ref_ch, r0);
        for (ti, tmpl) in templates.iter().enumerate().take(ref_ch) {
            let (lo, hi) = (lag0.saturating_sub(2), (lag0 + 2).min(max_lag));
            for (lag, r) in ncc_range(&mix.full, tmpl, energies[ti], lo, hi) {
                // A single channel must beat the downmix clearly to be preferred.
                if r.abs() > cand.2.abs() + 1e-3 {
                    cand = (lag, ti, r);
                }
            }
        }
        if chosen.is_none_or(|b| cand.2.abs() > b.2.abs()) {
            chosen = Some(cand);
        }
    }
    let Some((mut lag, ti, r)) = chosen else {
        return Ok((m, None));
    };
    let y = &templates[ti];
    let sign = if r < 0.0 { -1.0 } else { 1.0 };
    m.score = r.abs();

    // 4. In place: pieces, quarters, contiguous span, coverage.
    let piece = ((PIECE_S * f64::from(rate)).round() as usize).max(1);
    let pieces = piece_sums(&mix.full[lag..lag + n], y, piece);
    let mean_yy = pieces.iter().map(|q| q.yy).sum::<f64>() / pieces.len().max(1) as f64;
    let significant: Vec<bool> = pieces
        .iter()
        .map(|q| q.yy >= PIECE_SIGNIFICANT * mean_yy)
        .collect();
    // A piece matches when it correlates and carries the ident at about the level the rest
    // does: its own least-squares gain is at least half the median piece gain. This does not
    // depend on how loud the program around the ident is, unlike a threshold on NCC alone.
    let is_match = |pieces: &[PieceSums]| -> Vec<bool> {
        let mut gains: Vec<f64> = pieces
            .iter()
            .zip(&significant)
            .filter(|(_, &s)| s)
            .map(|(q, _)| sign * q.xy / q.yy)
            .collect();
        gains.sort_by(f64::total_cmp);
        let median = gains.get(gains.len() / 2).copied().unwrap_or(0.0).max(0.0);
        pieces
            .iter()
            .zip(&significant)
            .map(|(q, &s)| {
                s && sign * q.ncc() >= PIECE_MATCH && sign * q.xy / q.yy >= PIECE_GAIN * median
            })
            .collect()
    };
    let mut matched = is_match(&pieces);
    // A partly remixed ident blurs the whole-reference peak: settle the exact lag on the
    // matching pieces alone.
    if matched.iter().any(|&v| !v) && matched.iter().any(|&v| v) {
        let score_on = |l: usize| -> f64 {
            let mut s = PieceSums::default();
            for (i, _) in matched.iter().enumerate().filter(|(_, &v)| v) {
                let (a, z) = (i * piece, ((i + 1) * piece).min(n));
                s.add(&piece_sums(&mix.full[l + a..l + z], &y[a..z], z - a)[0]);
            }
            sign * s.ncc()
        };
        let best = (lag.saturating_sub(3)..=(lag + 3).min(max_lag))
            .max_by(|&a, &b| score_on(a).total_cmp(&score_on(b)))
            .unwrap_or(lag);
        if best != lag {
            lag = best;
            let r = ncc_at(&mix.full, y, energies[ti], lag);
            m.score = r.abs();
        }
    }
    let x = &mix.full[lag..lag + n];
    let pieces = piece_sums(x, y, piece);
    matched = is_match(&pieces);
    let n_sig = significant.iter().filter(|&&s| s).count().max(1);
    let n_match = matched.iter().filter(|&&s| s).count();
    let mut msum = PieceSums::default();
    for (q, &ok) in pieces.iter().zip(&matched) {
        if ok {
            msum.add(q);
        }
    }
    m.matched_score = (sign * msum.ncc()).max(0.0);
    m.quarter_scores = (0..4)
        .map(|qi| {
            let a = n * qi / 4;
            let b = n * (qi + 1) / 4;
            let mut s = PieceSums::default();
            for q in piece_sums(&x[a..b], &y[a..b], b - a) {
                s.add(&q);
            }
            round3(sign * s.ncc())
        })
        .collect();
    let coverage_raw = n_match as f64 / n_sig as f64;

    // Decision.
    let enough = n_match as f64 * PIECE_S >= 0.5_f64.min(0.3 * p.reference.duration_s());
    let found = m.score >= threshold
        && m.matched_score >= FOUND_MATCHED.max(threshold)
        && coverage_raw >= FOUND_COVERAGE
        && enough;
    let in_review = !found && m.score >= review;
    if !found && !in_review {
        m.score = round3(m.score);
        m.matched_score = round3(m.matched_score);
        return Ok((m, None));
    }

    // Contiguous span [b, e): maximum-sum segment of 2g·x·y − g²·y² (the drop in squared
    // error when the span is explained by g·y), sample-exact.
    let g_mix = if msum.yy > 0.0 {
        msum.xy / msum.yy
    } else {
        0.0
    };
    let (b, e) = best_span(x, y, g_mix);
    let ey_total: f64 = energies[ti];
    let ey_before: f64 = y[..b].iter().map(|v| f64::from(*v).powi(2)).sum();
    let ey_after: f64 = y[e..].iter().map(|v| f64::from(*v).powi(2)).sum();
    let cut_start = if ey_before >= CUT_ENERGY * ey_total {
        b
    } else {
        0
    };
    let cut_end = if ey_after >= CUT_ENERGY * ey_total {
        n - e
    } else {
        0
    };
    let offset = win.origin + lag as i64;
    let secs = |f: f64| round3(f / f64::from(rate));
    m.offset_samples = Some(offset);
    m.offset_s = Some(offset as f64 / f64::from(rate));
    m.cut_start_s = Some(secs(cut_start as f64));
    m.cut_end_s = Some(secs(cut_end as f64));
    m.speed_factor = Some(f64::from(num) / f64::from(den));
    if side == Side::Tail {
        let end = offset + (n - cut_end) as i64;
        m.end_gap_s = Some(secs((total as i64 - end) as f64));
    }
    // Coverage: the significant pieces that match, counting pieces outside the span as not.
    m.coverage = round3(coverage_raw);

    // Channels: read the ident's span of every channel; gain and remix from them.
    let chans = read_channels(source, offset, n, total)?;
    let ranges: Vec<(usize, usize)> = (0..pieces.len())
        .filter(|&i| matched[i])
        .map(|i| ((i * piece).max(b), ((i + 1) * piece).min(n).min(e)))
        .filter(|(a, z)| a < z)
        .collect();
    let (ch_match, carriers, gain, notes) =
        channel_check(&chans, templates, weights, labels, &ranges, sign);
    m.channels_match = ch_match;
    m.ident_channels = carriers;
    m.gain_db = gain.map(|g| round3(20.0 * g.abs().log10()));
    m.polarity_inverted = Some(sign < 0.0);

    if found {
        m.found = true;
        m.status = if cut_start > 0 || cut_end > 0 {
            IdentStatus::Partial
        } else {
            IdentStatus::Present
        };
    } else {
        m.status = IdentStatus::Review;
    }

    // Alterations.
    let mut alt = |kind: &str, message: String, value: Option<f64>| {
        m.alterations.push(Alteration {
            kind: kind.into(),
            message,
            value,
        })
    };
    if let Some(g) = m.gain_db {
        if g.abs() > GAIN_TOLERANCE_DB {
            alt(
                "gain",
                format!("level {g:+.2} dB from the reference (tolerance ±{GAIN_TOLERANCE_DB} dB)"),
                Some(g),
            );
        }
    }
    if cut_start > 0 {
        let s = secs(cut_start as f64);
        alt(
            "cut_start",
            format!("first {s:.3} s of the ident cut"),
            Some(s),
        );
    }
    if cut_end > 0 {
        let s = secs(cut_end as f64);
        alt(
            "cut_end",
            format!("last {s:.3} s of the ident cut"),
            Some(s),
        );
    }
    // Holes: significant pieces inside the span that do not match.
    let holes: Vec<usize> = (0..pieces.len())
        .filter(|&i| {
            let (a, z) = (i * piece, ((i + 1) * piece).min(n));
            significant[i] && !matched[i] && a >= b && z <= e
        })
        .collect();
    if holes.len() >= 2 {
        let first = holes[0] as f64 * PIECE_S;
        let last = (holes[holes.len() - 1] + 1) as f64 * PIECE_S;
        alt(
            "remixed",
            format!(
                "{} of {} pieces between {first:.1} s and {last:.1} s into the ident no longer match the reference",
                holes.len(),
                n_sig
            ),
            Some(round3(holes.len() as f64 / n_sig as f64)),
        );
    }
    for note in notes {
        alt("remixed", note, None);
    }
    if sign < 0.0 {
        alt("polarity", "polarity inverted".into(), None);
    }
    if (num, den) != (1, 1) {
        let f = f64::from(num) / f64::from(den);
        alt(
            "speed",
            if pitch_kept {
                format!(
                    "time-stretched to {f:.4}× the reference's speed with its pitch kept (a \
                     pitch-corrected conform){}",
                    speed_note(num, den)
                )
            } else {
                format!(
                    "played at {f:.4}× the reference's speed{}",
                    speed_note(num, den)
                )
            },
            Some(f),
        );
    }
    m.score = round3(m.score);
    m.matched_score = round3(m.matched_score);
    let span = (
        offset + cut_start as i64,
        offset + n as i64 - cut_end as i64,
    );
    Ok((m, Some(span)))
}

pub(super) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The span `[b, e)` maximising `Σ 2g·x·y − g²·y²` (Kadane).
pub(super) fn best_span(x: &[f32], y: &[f32], g: f64) -> (usize, usize) {
    let (mut best, mut best_b, mut best_e) = (f64::NEG_INFINITY, 0, x.len());
    let (mut cur, mut cur_b) = (0.0f64, 0);
    for (i, (&a, &bv)) in x.iter().zip(y).enumerate() {
        let (a, bv) = (f64::from(a), f64::from(bv));
        let v = 2.0 * g * a * bv - g * g * bv * bv;
        if cur <= 0.0 {
            cur = v;
            cur_b = i;
        } else {
            cur += v;
        }
        if cur > best {
            best = cur;
            best_b = cur_b;
            best_e = i + 1;
        }
    }
    (best_b, best_e)
}
