//! One window, one reference: the speed and mix whose correlation peaks highest, the primary
//! match at its best lag candidate, then every further copy of the ident among the other
//! correlation peaks (a double ident).

use super::*;

/// Below this coverage (or when not `present`) a pitch-kept time-stretch is tried too.
const TEMPO_TRY_BELOW: f64 = 0.9;

/// Correlation peaks examined for further copies of a found ident in its window.
const MAX_COPY_CANDIDATES: usize = 8;
/// A peak is examined as a further copy from this coarse |NCC| (a whole copy under a bed
/// scores 0.6 and more, a copy cut to half of its energy about 0.7 of that).
const COPY_FLOOR: f64 = 0.3;

#[allow(clippy::too_many_arguments)] // one call site; the pieces are the search's state
pub(super) fn search_window(
    source: &mut dyn AudioSource,
    eng: &mut Engine,
    win: &Window,
    p: &Prepared,
    side: Side,
    null: Option<f64>,
    total: u64,
    labels: &[String],
    weights: &[f32],
    rate: u32,
    ar: u32,
) -> Result<IdentMatch> {
    let threshold = FOUND_SCORE.max(null.map_or(0.0, |n| n + FOUND_MARGIN));
    let review = REVIEW_SCORE.max(null.map_or(0.0, |n| n + REVIEW_MARGIN));
    let m = IdentMatch {
        status: IdentStatus::Absent,
        found: false,
        offset_s: None,
        offset_samples: None,
        score: 0.0,
        matched_score: 0.0,
        quarter_scores: Vec::new(),
        gain_db: None,
        polarity_inverted: None,
        coverage: 0.0,
        cut_start_s: None,
        cut_end_s: None,
        end_gap_s: None,
        speed_factor: None,
        channels_match: None,
        ident_channels: Vec::new(),
        null_score: null,
        threshold,
        window_start_s: win.start_frame as f64 / f64::from(rate),
        window_end_s: win.end_frame as f64 / f64::from(rate),
        alterations: Vec::new(),
        count: 0,
        copies: Vec::new(),
    };

    // 1. Speed search and coarse NCC per mix; keep the mix whose NCC peaks highest.
    let mut best: Option<(usize, f32, SpeedNcc)> = None;
    for (mi, mix) in win.mixes.iter().enumerate() {
        let found = speed_search(eng, mix, p, ar)?;
        let peak = found.2.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        if best.as_ref().is_none_or(|b| peak > b.1) {
            best = Some((mi, peak, found));
        }
    }
    let Some((mi, _, ((num, den), key, ncc))) = best else {
        return Ok(m);
    };
    if ncc.is_empty() {
        return Ok(m);
    }
    let mix = &win.mixes[mi];
    let coarse_tmpl = p.reference.mono_template(ar, num, den)?;

    // 2. Candidates from NCC and GCC-PHAT (2 ms apart at least).
    let (_, gcc) = eng.correlate(&mix.spectra, key, &coarse_tmpl[0], true);
    let sep = (ar as usize / 500).max(1);
    let mut cands = top_peaks(&ncc, 4, sep);
    for c in top_peaks(gcc.as_deref().unwrap_or(&[]), 4, sep) {
        if cands.iter().all(|&d| d.abs_diff(c) > 1) {
            cands.push(c);
        }
    }

    // 3–4. The best candidate is the primary copy.
    let templates = p.reference.templates(rate, num, den)?;
    let energies: Vec<f64> = templates.iter().map(|t| dot(t, t)).collect();
    let at = At {
        win,
        mix,
        p,
        templates: &templates,
        energies: &energies,
        side,
        total,
        labels,
        weights,
        rate,
        ar,
        speed: (num, den),
        pitch_kept: false,
        threshold,
        review,
    };
    let (primary, span) = evaluate_at(source, &at, &cands, m.clone())?;
    // A time-stretch with the pitch kept (see [`tempo`]) matches the resampled templates only
    // in part, if at all: when no whole ident was found, try the warped template, and keep it
    // when it explains more of the reference. Its further copies are sought as below, with
    // the warped template (a stretched ident stitched twice is the same stretch twice).
    if primary.status != IdentStatus::Present || primary.coverage < TEMPO_TRY_BELOW {
        if let Some(w) = tempo::search(eng, &at)? {
            let wat = w.at(&at);
            let (tm, tspan) = evaluate_at(source, &wat, &[w.cand], m.clone())?;
            let better = tm.found
                && (!primary.found
                    || tm.coverage > primary.coverage + 0.05
                    || tm.score > primary.score + 0.05);
            if let (true, Some(s)) = (better, tspan) {
                let coarse = reference::resample(
                    std::slice::from_ref(&w.templates[w.templates.len() - 1]),
                    u64::from(rate),
                    u64::from(ar),
                )?;
                let key = eng.one_off_key();
                let (wncc, _) = eng.correlate(&wat.mix.spectra, key, &coarse[0], false);
                eng.cache.forget(key);
                return with_copies(source, &wat, (tm, s), &wncc, coarse[0].len(), m);
            }
        }
    }
    let Some(span) = span.filter(|_| primary.found) else {
        return Ok(primary);
    };
    with_copies(source, &at, (primary, span), &ncc, coarse_tmpl[0].len(), m)
}

/// 5. Further copies of a found ident (`primary`, present over `span`): the other peaks of
///    `ncc` (the coarse NCC of the mono template `at` evaluates, `n_coarse` samples long; at
///    least a third of it apart), each evaluated as the primary was; a found one whose
///    present span does not overlap a copy already kept by more than a quarter of the ident
///    is another copy. Returns the primary with `count` and `copies` (in time order).
fn with_copies(
    source: &mut dyn AudioSource,
    at: &At<'_>,
    (mut primary, span): (IdentMatch, (i64, i64)),
    ncc: &[f32],
    n_coarse: usize,
    m: IdentMatch,
) -> Result<IdentMatch> {
    let (win, rate, ar) = (at.win, at.rate, at.ar);
    let n_full = at.templates[at.templates.len() - 1].len() as i64;
    let mut kept: Vec<(IdentMatch, (i64, i64))> = Vec::new();
    for c in top_peaks(ncc, MAX_COPY_CANDIDATES, (n_coarse / 3).max(1)) {
        // The primary's own peak was evaluated already.
        let at_frame = win.origin + (c as f64 * f64::from(rate) / f64::from(ar)).round() as i64;
        if f64::from(ncc[c].abs()) < COPY_FLOOR
            || primary
                .offset_samples
                .is_some_and(|o| o.abs_diff(at_frame) < (n_full / 4) as u64)
        {
            continue;
        }
        let (cm, cspan) = evaluate_at(source, at, &[c], m.clone())?;
        let Some(cspan) = cspan.filter(|_| cm.found) else {
            continue;
        };
        let overlaps = |s: &(i64, i64)| (s.1.min(cspan.1) - s.0.max(cspan.0)) * 4 > n_full;
        if overlaps(&span) || kept.iter().any(|(_, s)| overlaps(s)) {
            continue;
        }
        kept.push((cm, cspan));
    }
    let mut all: Vec<(&IdentMatch, (i64, i64))> = vec![(&primary, span)];
    all.extend(kept.iter().map(|(cm, s)| (cm, *s)));
    all.sort_by_key(|(_, s)| s.0);
    let copies: Vec<IdentCopy> = all
        .iter()
        .map(|(cm, _)| to_copy(cm, n_full as f64 / f64::from(rate)))
        .collect();
    // The tail's end gap: from the last copy's end.
    if at.side == Side::Tail {
        if let Some((_, s)) = all.last() {
            primary.end_gap_s = Some(round3((at.total as i64 - s.1) as f64 / f64::from(rate)));
        }
    }
    primary.count = copies.len();
    primary.copies = copies;
    Ok(primary)
}

/// The copy a found match describes.
pub(super) fn to_copy(m: &IdentMatch, duration_s: f64) -> IdentCopy {
    IdentCopy {
        offset_s: m.offset_s.unwrap_or(0.0),
        offset_samples: m.offset_samples.unwrap_or(0),
        score: m.score,
        gain_db: m.gain_db,
        coverage: m.coverage,
        partial: m.status == IdentStatus::Partial,
        cut_start_s: m.cut_start_s.unwrap_or(0.0),
        cut_end_s: m.cut_end_s.unwrap_or(0.0),
        speed_factor: m.speed_factor.unwrap_or(1.0),
        duration_s: round3(duration_s),
    }
}
