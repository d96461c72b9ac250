//! The alignment engine: anchors, line fit, dense windows, sections (see the module essay in
//! [`super`]).

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::features::{self, Features, NB};
use super::fine;
use super::view::{Feat, Piece};
use super::{
    AlignOptions, Alignment, LocalOffset, Section, SectionStatus, MAX_ANCHORS, MIN_CONFIDENCE,
    WINDOW_MATCH,
};
use crate::analyze::resolve_map;
use crate::decode::AudioSource;
use crate::error::{Error, Result};

/// Hops per second.
const HZ: f64 = features::FEATURE_RATE_HZ;
/// Anchor length, hops (20 s), shorter for short programmes.
const ANCHOR_HOPS: usize = 2000;
/// An anchor counts in the fit from this normalised correlation.
const ANCHOR_MIN: f64 = 0.15;
/// An anchor off the main line starts another candidate offset from this score.
const ANCHOR_EXTRA: f64 = 0.25;
/// Anchors within this of a line are its inliers, seconds.
const INLIER_S: f64 = 0.04;
/// Smallest jump of the offset taken as a cut (insertion or deletion), seconds.
const MIN_JUMP_S: f64 = 0.25;
/// Dense windows: length and step, hops.
const DENSE_HOPS: usize = 500;
const DENSE_STEP: usize = 100;
/// Dense search around a line, hops (±80 ms).
const DENSE_SEARCH: i64 = 8;
/// Boundary refinement: block length and step, hops; score of "neither line" for a block.
const BLOCK_HOPS: usize = 50;
const BLOCK_STEP: usize = 10;
const BLOCK_TAU: f64 = 0.3;

/// A candidate line: `lag(t) = offset + drift × t` (raw file times, seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub offset: f64,
    pub drift: f64,
}

impl Line {
    pub fn lag(&self, t: f64) -> f64 {
        self.offset + self.drift * t
    }
}

/// One anchor's best placement.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    t: f64,
    lag: f64,
    score: f64,
}

/// Per-window label of the dense pass.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
    Inactive,
    Unmatched,
    Line(usize),
}

pub(crate) fn run(
    audio: &mut dyn AudioSource,
    reference: &mut dyn AudioSource,
    opts: &AlignOptions,
) -> Result<Alignment> {
    let wa = features::mono_weights(&resolve_map(audio.info(), None)?);
    let wr = features::mono_weights(&resolve_map(reference.info(), None)?);
    let max_lead = (opts.max_lead_in_s * HZ) as usize;
    let (fa, fr) = std::thread::scope(|s| {
        let ha = s.spawn(|| features::extract(audio, &wa, max_lead));
        let fr = features::extract(reference, &wr, max_lead);
        let fa = ha
            .join()
            .map_err(|_| Error::malformed("feature thread panicked"))
            .and_then(|r| r);
        (fa, fr)
    });
    let (fa, fr) = (fa?, fr?);
    let lead_of = |f: &Features| {
        let h = features::lead_in_hops(&f.kinds, max_lead);
        if h == 0 {
            return (0usize, 0.0f64);
        }
        let s = (h as f64 / HZ / opts.frame_s).round() * opts.frame_s;
        (((s * HZ).round() as usize).min(f.len()), s)
    };
    let (lead_a, lead_a_s) = lead_of(&fa);
    let (lead_r, lead_r_s) = lead_of(&fr);
    let a = Feat::new(&fa.onsets, lead_a);
    let (a_rate, a_frames) = (fa.rate_hz, fa.frames);
    // Anchors and the fit at speed 1, then (when the audio was not found there: under a third
    // of the anchors on the main line, which leaves room for cuts) at each speed factor on the
    // reference's features resampled by it: (speed, reference features on the audio's time
    // scale, lines in that time scale, inliers of the main line).
    let mut found: Option<(f64, Feat, Vec<Line>, usize)> = None;
    for &k in std::iter::once(&1.0).chain(&opts.speed_factors) {
        let r = if k == 1.0 {
            Feat::new(&fr.onsets, lead_r)
        } else {
            Feat::warped(&fr.onsets, k, (lead_r as f64 / k).round() as usize)
        };
        let anchors = anchors(&a, &r, lead_a);
        let (lines, inliers) = fit_lines(&anchors, opts.max_drift);
        let better = found.as_ref().is_none_or(|f| inliers > f.3);
        let enough = inliers >= 2 && 3 * inliers >= anchors.len();
        if better {
            found = Some((k, r, lines, inliers));
        }
        if enough {
            break;
        }
    }
    let (speed, r, lines_w, _) = found.expect("speed 1 always runs");
    let (r_rate, r_frames) = (fr.rate_hz, fr.frames);
    let mut out = Alignment {
        matched: false,
        offset_s: None,
        offset_samples: None,
        drift_ppm: None,
        lead_in_trimmed_s: lead_a_s,
        reference_lead_in_trimmed_s: lead_r_s,
        sections: Vec::new(),
        confidence: 0.0,
        audio_rate_hz: a_rate,
        reference_rate_hz: r_rate,
        audio_duration_s: a_frames as f64 / f64::from(a_rate),
        reference_duration_s: r_frames as f64 / f64::from(r_rate),
        local_offsets: Vec::new(),
    };
    let trim = lead_a_s - lead_r_s;
    let dense = dense(&a, &r, &lines_w);
    // The lines in the reference's own time: an audio event at t is at u = t − lag_w(t) on the
    // resampled reference, at k·u in the reference.
    let mut lines: Vec<Line> = lines_w
        .iter()
        .map(|l| Line {
            offset: speed * l.offset,
            drift: 1.0 - speed * (1.0 - l.drift),
        })
        .collect();
    let active = dense.iter().filter(|w| w.1 != Label::Inactive).count();
    let aligned = dense
        .iter()
        .filter(|w| matches!(w.1, Label::Line(_)))
        .count();
    out.confidence = if active == 0 {
        0.0
    } else {
        aligned as f64 / active as f64
    };
    out.local_offsets = dense
        .iter()
        .map(|&(s, label, score)| {
            let t = (s + DENSE_HOPS / 2) as f64 / HZ;
            LocalOffset {
                at_s: t,
                offset_s: match label {
                    Label::Line(j) => Some(lines[j].lag(t) - trim),
                    _ => None,
                },
                score,
            }
        })
        .collect();
    if lines.is_empty() || out.confidence < MIN_CONFIDENCE {
        out.confidence = out.confidence.min(MIN_CONFIDENCE * 0.99);
        out.local_offsets.iter_mut().for_each(|l| l.offset_s = None);
        out.sections.push(Section {
            start_s: lead_a as f64 / HZ,
            end_s: out.audio_duration_s,
            offset_s: None,
            status: SectionStatus::Mismatch,
            ref_start_s: None,
            ref_end_s: None,
        });
        return Ok(out);
    }
    // Runs of windows, boundaries refined, as (start_hop, end_hop, label).
    let runs = runs(&a, &r, &dense, &lines_w);
    // Fine pass: re-measure each line on the raw signals.
    let spans: Vec<(f64, f64, usize)> = runs
        .iter()
        .filter_map(|&(s, e, l)| match l {
            Label::Line(j) => Some((s as f64 / HZ, e as f64 / HZ, j)),
            _ => None,
        })
        .collect();
    // How busy the audio is over hops `h0..h1` (the fine pass reads its windows where it is).
    let activity = |h0: usize, h1: usize| -> f32 {
        let h1 = h1.min(a.len());
        if h0 >= h1 {
            return 0.0;
        }
        let p = Piece::load(&a, h0, h1 - h0);
        (h0..h1)
            .map(|i| (0..NB).map(|b| p.z(b, i, 1)[0].max(0.0)).sum::<f32>())
            .sum()
    };
    lines = fine::refine(audio, reference, &wa, &wr, &lines, &spans, &activity)?;
    // Sections.
    out.sections = sections(
        &runs,
        &lines,
        trim,
        out.audio_duration_s,
        out.reference_duration_s,
    );
    for l in out.local_offsets.iter_mut() {
        if let Some(j) = dense
            .iter()
            .find(|w| ((w.0 + DENSE_HOPS / 2) as f64 / HZ - l.at_s).abs() < 1e-9)
            .and_then(|w| match w.1 {
                Label::Line(j) => Some(j),
                _ => None,
            })
        {
            l.offset_s = Some(lines[j].lag(l.at_s) - trim);
        }
    }
    let first = runs.iter().find_map(|r| match r.2 {
        Label::Line(j) => Some(j),
        _ => None,
    });
    if let Some(j) = first {
        let line = lines[j];
        // At the start of the trimmed audio timeline.
        let off = line.lag(lead_a_s) - trim;
        out.matched = true;
        out.offset_s = Some(off);
        out.offset_samples = Some((off * f64::from(a_rate)).round() as i64);
        out.drift_ppm = Some(line.drift * 1e6);
    }
    Ok(out)
}

/// Anchors whose spectra are held at once while the reference is swept (16 × 6 bands × 8192
/// points: 3 MB; the reference's block spectra are made once per group).
const ANCHOR_GROUP: usize = 16;

/// Anchor windows spread along the audio, each placed at its best lag over the whole
/// reference.
///
/// Overlap-save over the reference in blocks, swept once per group of [`ANCHOR_GROUP`]
/// anchors: each block is read, transformed and correlated with every anchor of the group,
/// then dropped, so memory does not depend on the reference's length.
fn anchors(a: &Feat, r: &Feat, lead: usize) -> Vec<Anchor> {
    let na = a.len();
    let nr = r.len();
    let span = na.saturating_sub(lead);
    let w = ANCHOR_HOPS.min(span / 3).min(nr);
    if w < 100 {
        return Vec::new();
    }
    let count = ((span - w) / 500 + 1).clamp(3, MAX_ANCHORS);
    let starts: Vec<usize> = (0..count)
        .map(|k| lead + (span - w) * k / (count - 1).max(1))
        .filter(|&s| Piece::load(a, s, w).active(s, w))
        .collect();
    if starts.is_empty() {
        return Vec::new();
    }
    // Overlap-save blocks of the reference: block j covers r[j·h .. j·h + m).
    let m = (4 * w).next_power_of_two();
    let h = m - w + 1;
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(m);
    let inv = planner.plan_fft_inverse(m);
    let nblocks = (nr - w) / h + 1;
    let mut tin = fwd.make_input_vec();
    let spectra = || -> [Vec<Complex<f32>>; NB] { std::array::from_fn(|_| fwd.make_output_vec()) };
    let mut ys = spectra();
    let mut xs: Vec<([Vec<Complex<f32>>; NB], f64)> = Vec::new();
    let mut acc = inv.make_input_vec();
    let mut corr = inv.make_output_vec();
    let mut ey: Vec<f64> = Vec::with_capacity(h);
    // Best (position, score) per anchor.
    let mut best = vec![(0usize, f64::MIN); starts.len()];
    for (g, group) in starts.chunks(ANCHOR_GROUP).enumerate() {
        xs.resize_with(group.len(), || (spectra(), 0.0));
        for (&s, (x, ex)) in group.iter().zip(xs.iter_mut()) {
            let p = Piece::load(a, s, w);
            let (e, sums) = p.energy(s, w);
            *ex = e;
            for (b, xb) in x.iter_mut().enumerate() {
                let mean = (sums[b] / w as f64) as f32;
                tin.iter_mut().for_each(|v| *v = 0.0);
                for (t, &v) in tin.iter_mut().zip(p.z(b, s, w)) {
                    *t = v - mean;
                }
                fwd.process(&mut tin, xb).expect("plan sizes");
            }
        }
        let best = &mut best[g * ANCHOR_GROUP..g * ANCHOR_GROUP + group.len()];
        for j in 0..nblocks {
            let s = j * h;
            let e = (s + m).min(nr);
            let p = Piece::load(r, s, e - s);
            for (b, yb) in ys.iter_mut().enumerate() {
                tin.iter_mut().for_each(|v| *v = 0.0);
                tin[..e - s].copy_from_slice(p.z(b, s, e - s));
                fwd.process(&mut tin, yb).expect("plan sizes");
            }
            // Energies of the reference windows starting in this block.
            ey.clear();
            ey.extend(
                (s..s + h)
                    .take_while(|&pos| pos + w <= nr)
                    .map(|pos| p.energy(pos, w).0),
            );
            for ((x, ex), slot) in xs.iter().zip(best.iter_mut()) {
                acc.iter_mut().for_each(|v| *v = Complex::new(0.0, 0.0));
                for (xb, yb) in x.iter().zip(&ys) {
                    for ((o, x), y) in acc.iter_mut().zip(xb).zip(yb) {
                        *o += x.conj() * y;
                    }
                }
                // The inverse of a real signal's spectrum has real DC and Nyquist bins.
                acc[0].im = 0.0;
                let last = acc.len() - 1;
                acc[last].im = 0.0;
                inv.process(&mut acc, &mut corr).expect("plan sizes");
                for (p, (&c, &ey)) in corr.iter().zip(&ey).enumerate() {
                    if ey <= 1e-9 {
                        continue;
                    }
                    let v = f64::from(c) / m as f64 / (ex * ey).sqrt();
                    if v > slot.1 {
                        *slot = (s + p, v);
                    }
                }
            }
        }
    }
    starts
        .iter()
        .zip(&best)
        .filter(|(_, b)| b.1 > f64::MIN)
        .map(|(&s, &(pos, score))| Anchor {
            t: (s + w / 2) as f64 / HZ,
            lag: (s as f64 - pos as f64) / HZ,
            score,
        })
        .collect()
}

/// RANSAC over anchor pairs for the main line, then the other offsets (same drift).
/// Also returns how many anchors are inliers of the main line (0 when there is none).
fn fit_lines(anchors: &[Anchor], max_drift: f64) -> (Vec<Line>, usize) {
    let good: Vec<&Anchor> = anchors.iter().filter(|a| a.score >= ANCHOR_MIN).collect();
    if good.len() < 2 {
        return (Vec::new(), 0);
    }
    let support = |l: &Line| -> (usize, f64) {
        let inl: Vec<&&Anchor> = good
            .iter()
            .filter(|a| (a.lag - l.lag(a.t)).abs() <= INLIER_S)
            .collect();
        (inl.len(), inl.iter().map(|a| a.score).sum())
    };
    let mut best: Option<(Line, usize, f64)> = None;
    let mut consider = |l: Line| {
        let (n, s) = support(&l);
        if best.as_ref().is_none_or(|b| (n, s) > (b.1, b.2)) {
            best = Some((l, n, s));
        }
    };
    for (i, p) in good.iter().enumerate() {
        consider(Line {
            offset: p.lag,
            drift: 0.0,
        });
        for q in &good[i + 1..] {
            let dt = q.t - p.t;
            if dt.abs() < 1.0 {
                continue;
            }
            let d = (q.lag - p.lag) / dt;
            if d.abs() <= max_drift {
                consider(Line {
                    offset: p.lag - d * p.t,
                    drift: d,
                });
            }
        }
    }
    let Some((line, n, _)) = best else {
        return (Vec::new(), 0);
    };
    if n < 2 {
        return (Vec::new(), 0);
    }
    // Least squares on the inliers.
    let inl: Vec<&&Anchor> = good
        .iter()
        .filter(|a| (a.lag - line.lag(a.t)).abs() <= INLIER_S)
        .collect();
    let k = inl.len() as f64;
    let mt = inl.iter().map(|a| a.t).sum::<f64>() / k;
    let ml = inl.iter().map(|a| a.lag).sum::<f64>() / k;
    let stt: f64 = inl.iter().map(|a| (a.t - mt).powi(2)).sum();
    let stl: f64 = inl.iter().map(|a| (a.t - mt) * (a.lag - ml)).sum();
    let drift = if stt > 1.0 {
        (stl / stt).clamp(-max_drift, max_drift)
    } else {
        line.drift
    };
    let main = Line {
        offset: ml - drift * mt,
        drift,
    };
    let mut lines = vec![main];
    // Other offsets: well-scored anchors off every line so far, clustered.
    let mut extra: Vec<f64> = good
        .iter()
        .filter(|a| a.score >= ANCHOR_EXTRA)
        .filter(|a| (a.lag - main.lag(a.t)).abs() > INLIER_S)
        .map(|a| a.lag - drift * a.t)
        .collect();
    extra.sort_by(f64::total_cmp);
    let mut i = 0;
    while i < extra.len() {
        let mut j = i + 1;
        while j < extra.len() && extra[j] - extra[i] <= 2.0 * INLIER_S {
            j += 1;
        }
        let cluster = &extra[i..j];
        let offset = cluster[cluster.len() / 2];
        // Within a quarter second of a line already found: that line, seen through a
        // smeared anchor, not another cut.
        if lines.iter().all(|l| (l.offset - offset).abs() > MIN_JUMP_S) {
            lines.push(Line { offset, drift });
        }
        i = j;
    }
    (lines, n)
}

/// Best normalised correlation of the audio window `[s, s+n)` (inside the piece `a`) with the
/// reference along line `l` (lags within ±`search` hops of it), on the part of the window that
/// falls inside the reference. `None` when less than half the window does.
fn best_on_line(
    a: &Piece,
    r: &Feat,
    s: usize,
    n: usize,
    l: &Line,
    search: i64,
) -> Option<(f64, i64)> {
    let t = (s + n / 2) as f64 / HZ;
    let pred = (l.lag(t) * HZ).round() as i64;
    let nr = r.len() as i64;
    // The reference hops any of the lags reaches.
    let lo = (s as i64 - pred - search).max(0);
    let hi = (s as i64 - pred + search + n as i64).min(nr);
    if hi <= lo {
        return None;
    }
    let rp = Piece::load(r, lo as usize, (hi - lo) as usize);
    let mut best: Option<(f64, i64)> = None;
    for lag in pred - search..=pred + search {
        let j = s as i64 - lag;
        let i0 = (-j).max(0);
        let i1 = (n as i64).min(nr - j);
        if i1 - i0 < (n as i64 + 1) / 2 {
            continue;
        }
        let v = a.ncc(s + i0 as usize, &rp, (j + i0) as usize, (i1 - i0) as usize);
        if best.is_none_or(|b| v > b.0) {
            best = Some((v, lag));
        }
    }
    best
}

/// Whether window `[s, s+n)` maps entirely outside the reference on line `l`.
fn outside(r: &Feat, s: usize, n: usize, l: &Line) -> bool {
    let t = (s + n / 2) as f64 / HZ;
    let j = s as f64 - l.lag(t) * HZ;
    j + n as f64 <= 0.0 || j >= r.len() as f64
}

/// Dense windows: (start hop, label, best score).
fn dense(a: &Feat, r: &Feat, lines: &[Line]) -> Vec<(usize, Label, f64)> {
    let na = a.len();
    if na < DENSE_HOPS {
        return Vec::new();
    }
    let mut starts: Vec<usize> = (0..=na - DENSE_HOPS).step_by(DENSE_STEP).collect();
    if starts.last() != Some(&(na - DENSE_HOPS)) {
        starts.push(na - DENSE_HOPS);
    }
    starts
        .into_iter()
        .map(|s| {
            let ap = Piece::load(a, s, DENSE_HOPS);
            if !ap.active(s, DENSE_HOPS) {
                return (s, Label::Inactive, 0.0);
            }
            let mut best: Option<(Label, f64)> = None;
            for (j, l) in lines.iter().enumerate() {
                if let Some((v, _)) = best_on_line(&ap, r, s, DENSE_HOPS, l, DENSE_SEARCH) {
                    if best.is_none_or(|b| v > b.1) {
                        best = Some((Label::Line(j), v));
                    }
                }
            }
            match best {
                Some((l, v)) if v >= WINDOW_MATCH => (s, l, v),
                Some((_, v)) => (s, Label::Unmatched, v.max(0.0)),
                // Only partly inside the reference on every line: not judged; wholly outside
                // (extra material at an end): unmatched.
                None if lines.iter().all(|l| outside(r, s, DENSE_HOPS, l)) => {
                    (s, Label::Unmatched, 0.0)
                }
                None => (s, Label::Inactive, 0.0),
            }
        })
        .collect()
}

/// Shortest mismatched stretch reported, hops (1 s): shorter ones are dips of a quiet passage.
const MIN_UNMATCHED: usize = 100;

/// Segments `(start_hop, end_hop, label)` covering the audio, boundaries refined on blocks.
/// Inactive windows take the label of the run they sit in.
fn runs(
    a: &Feat,
    r: &Feat,
    dense: &[(usize, Label, f64)],
    lines: &[Line],
) -> Vec<(usize, usize, Label)> {
    let mut labels: Vec<Label> = dense.iter().map(|w| w.1).collect();
    let Some(first) = labels.iter().copied().find(|l| *l != Label::Inactive) else {
        return Vec::new();
    };
    let mut prev = first;
    for l in labels.iter_mut() {
        if *l == Label::Inactive {
            *l = prev;
        } else {
            prev = *l;
        }
    }
    let centre = |i: usize| dense[i].0 + DENSE_HOPS / 2;
    let mut coarse: Vec<(usize, usize, Label)> = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        match coarse.last_mut() {
            Some(last) if last.2 == l => last.1 = i,
            _ => coarse.push((i, i, l)),
        }
    }
    let na = a.len();
    let mut segs: Vec<(usize, usize, Label)> = Vec::new();
    let mut cur = 0usize;
    for k in 1..coarse.len() {
        let (left, right) = (coarse[k - 1].2, coarse[k].2);
        let guess = (centre(coarse[k - 1].1) + centre(coarse[k].0)) / 2;
        let z0 = guess.saturating_sub(400).max(cur);
        let z1 = (guess + 400).min(na);
        let (b1, b2) = refine_boundary(a, r, lines, z0, z1, left, right).unwrap_or((guess, guess));
        let (b1, b2) = (b1.max(cur), b2.max(cur));
        segs.push((cur, b1, left));
        if b2 > b1 {
            segs.push((b1, b2, Label::Unmatched));
        }
        cur = b2;
    }
    segs.push((cur, na, coarse.last().map_or(first, |c| c.2)));
    // Short unmatched stretches between two runs are split between them.
    let mut i = 0;
    while i < segs.len() {
        let (s, e, l) = segs[i];
        if l == Label::Unmatched && e - s < MIN_UNMATCHED && i > 0 && i + 1 < segs.len() {
            let mid = (s + e) / 2;
            segs[i - 1].1 = mid;
            segs[i + 1].0 = mid;
            segs.remove(i);
            continue;
        }
        i += 1;
    }
    let mut out: Vec<(usize, usize, Label)> = Vec::new();
    for seg in segs.into_iter().filter(|s| s.1 > s.0) {
        match out.last_mut() {
            Some(last) if last.2 == seg.2 => last.1 = seg.1,
            _ => out.push(seg),
        }
    }
    out
}

/// Where in `[z0, z1)` the audio stops following `left` and starts following `right`, judged on
/// 0.5 s blocks: `(b1, b2)` with blocks before `b1` on `left`, after `b2` on `right`, and in
/// between on neither (an insertion or a replaced stretch; empty for a clean cut).
fn refine_boundary(
    a: &Feat,
    r: &Feat,
    lines: &[Line],
    z0: usize,
    z1: usize,
    left: Label,
    right: Label,
) -> Option<(usize, usize)> {
    if z1 < z0 + BLOCK_HOPS {
        return None;
    }
    let starts: Vec<usize> = (z0..=z1 - BLOCK_HOPS).step_by(BLOCK_STEP).collect();
    let ap = Piece::load(a, z0, z1 - z0);
    let score = |s: usize, l: Label| -> f64 {
        if !ap.active(s, BLOCK_HOPS) {
            return BLOCK_TAU;
        }
        match l {
            Label::Line(j) => {
                best_on_line(&ap, r, s, BLOCK_HOPS, &lines[j], 3).map_or(BLOCK_TAU, |v| v.0)
            }
            _ => BLOCK_TAU,
        }
    };
    let n = starts.len();
    let ls: Vec<f64> = starts.iter().map(|&s| score(s, left)).collect();
    let rs: Vec<f64> = starts.iter().map(|&s| score(s, right)).collect();
    // Prefix sums: L[k] = Σ ls[..k], R[k] = Σ rs[k..].
    let mut pl = vec![0.0; n + 1];
    for k in 0..n {
        pl[k + 1] = pl[k] + ls[k];
    }
    let mut sr = vec![0.0; n + 1];
    for k in (0..n).rev() {
        sr[k] = sr[k + 1] + rs[k];
    }
    let both_lines = matches!((left, right), (Label::Line(_), Label::Line(_)));
    let mut best = (0usize, 0usize, f64::MIN);
    for (k1, &left_sum) in pl.iter().enumerate() {
        let k2s = if both_lines { k1..=n } else { k1..=k1 };
        for k2 in k2s {
            let v = left_sum + BLOCK_TAU * (k2 - k1) as f64 + sr[k2];
            if v > best.2 {
                best = (k1, k2, v);
            }
        }
    }
    let at = |k: usize| (z0 + BLOCK_STEP * k + BLOCK_HOPS / 2 - BLOCK_STEP / 2).clamp(z0, z1);
    Some((at(best.0), at(best.1)))
}

/// Sections from the runs: aligned runs, and what lies between them.
fn sections(
    runs: &[(usize, usize, Label)],
    lines: &[Line],
    trim: f64,
    audio_len_s: f64,
    ref_len_s: f64,
) -> Vec<Section> {
    let sec = |h: usize| (h as f64 / HZ).min(audio_len_s);
    let line_of = |k: usize| match runs.get(k).map(|r| r.2) {
        Some(Label::Line(j)) => Some(lines[j]),
        _ => None,
    };
    let mut out = Vec::new();
    for (k, &(s, e, label)) in runs.iter().enumerate() {
        let (s_s, e_s) = (sec(s), sec(e));
        match label {
            Label::Line(j) => {
                let l = lines[j];
                // A deletion: the lag drops from the previous aligned run straight into this one.
                if let Some(p) = k.checked_sub(1).and_then(line_of) {
                    let jump = l.lag(s_s) - p.lag(s_s);
                    if jump < -0.5 {
                        out.push(Section {
                            start_s: s_s,
                            end_s: s_s,
                            offset_s: None,
                            status: SectionStatus::MissingInAudio,
                            ref_start_s: Some(s_s - p.lag(s_s)),
                            ref_end_s: Some(s_s - l.lag(s_s)),
                        });
                    }
                }
                out.push(Section {
                    start_s: s_s,
                    end_s: e_s,
                    offset_s: Some(l.lag(s_s) - trim),
                    status: SectionStatus::Aligned,
                    ref_start_s: Some((s_s - l.lag(s_s)).clamp(0.0, ref_len_s)),
                    ref_end_s: Some((e_s - l.lag(e_s)).clamp(0.0, ref_len_s)),
                });
            }
            _ => {
                let before = k.checked_sub(1).and_then(line_of);
                let after = line_of(k + 1);
                let status = match (before, after) {
                    (Some(p), Some(n)) => {
                        let jump = n.lag(e_s) - p.lag(s_s);
                        let len = e_s - s_s;
                        if jump > 0.5 && (jump - len).abs() <= (0.2 * len).max(1.0) {
                            SectionStatus::MissingInReference
                        } else {
                            SectionStatus::Mismatch
                        }
                    }
                    (Some(l), None) | (None, Some(l)) => {
                        // At an end: material outside the reference's span is extra, not wrong.
                        let (r0, r1) = (s_s - l.lag(s_s), e_s - l.lag(e_s));
                        let inside = (r1.min(ref_len_s) - r0.max(0.0)).max(0.0);
                        if inside < 0.5 * (r1 - r0) {
                            SectionStatus::MissingInReference
                        } else {
                            SectionStatus::Mismatch
                        }
                    }
                    (None, None) => SectionStatus::Mismatch,
                };
                let (rs, re) = match (before, after, status) {
                    (Some(p), _, SectionStatus::MissingInReference) => {
                        let r0 = s_s - p.lag(s_s);
                        (Some(r0), Some(r0))
                    }
                    (Some(p), Some(n), _) => Some(s_s - p.lag(s_s))
                        .zip(Some(e_s - n.lag(e_s)))
                        .map_or((None, None), |(a, b)| (Some(a), Some(b))),
                    _ => (None, None),
                };
                out.push(Section {
                    start_s: s_s,
                    end_s: e_s,
                    offset_s: None,
                    status,
                    ref_start_s: rs,
                    ref_end_s: re,
                });
            }
        }
    }
    out
}
