//! Ident detection: is a branded ident (a reference clip) at the head or tail of a program,
//! exactly where, and was it altered?
//!
//! Only the head and tail windows (default: the reference length plus 30 s at each end) and a
//! few short body windows are read, by seeking, so the cost does not grow with the program's
//! length. For each window and reference:
//!
//! 1. **Coarse search** at [`ANALYSIS_RATE_HZ`]: the window's mono mixes (all channels but
//!    LFE; for more than two channels also the front pair and the centre alone) and the
//!    reference's mono downmix, both resampled with rubato. The playback speed is searched over
//!    any linear change in [`speed::SPEED_RANGE`] (0.9–1.1×; see [`speed`]: an onset-envelope
//!    grid, then a piece-lag regression; 0.01 % of speed already breaks a plain waveform
//!    correlation over a few seconds); the template at that speed and at unchanged speed are
//!    correlated by FFT overlap-save at every lag (normalised correlation, NCC), and the mix
//!    and speed with the highest peak win.
//! 2. **Lag candidates** from both the NCC and the GCC-PHAT (whitened) correlation: plain NCC
//!    of tonal idents has side lobes at pitch periods, the whitened one does not.
//! 3. **Exact lag** at the program's rate: NCC by direct dot products around each candidate,
//!    with the mono downmix and each reference channel as templates (the reference resampled
//!    to the program's rate when they differ); the best |NCC| is the `score` (0..1, level- and
//!    polarity-independent).
//! 4. **In place**: per-piece (100 ms) and per-quarter NCC give `coverage`; the contiguous
//!    matching span (a maximum-sum segment of the least-squares fit gain, sample-exact) gives
//!    cuts at either end; per-channel correlation decides whether the channels still match the
//!    reference's (remix); least squares per channel give `gain_db`.
//! 5. **Copies**: the other NCC peaks of the winning mix and speed are evaluated as the best
//!    one was; each found one that does not overlap a copy already kept is another copy
//!    (`count`, `copies`: a double ident).
//!    When no whole ident is found this way, a **time-stretch with the pitch kept** is tried
//!    (see [`tempo`]): the envelope speed search is pitch-invariant, and 50 ms pieces of the
//!    reference, each sought near the tempo line, build a warped template evaluated as above.
//! 6. **Decision** against a null baseline: the best score of the reference against a few body
//!    windows of the same program (music that merely resembles the ident scores there too), and
//!    absolute floors. Peak z-scores are never used: they are large on programs with no ident.

#[cfg(feature = "ident")]
mod copies;
#[cfg(feature = "ident")]
mod place;
#[cfg(feature = "ident")]
pub mod reference;
#[cfg(feature = "ident")]
mod remix;
#[cfg(feature = "ident")]
mod search;
#[cfg(feature = "ident")]
pub mod speed;
#[cfg(test)]
#[path = "../../tests/support/synth.rs"]
mod synth;
#[cfg(feature = "ident")]
mod tempo;
mod types;
#[cfg(feature = "ident")]
mod window;

#[cfg(feature = "ident")]
use std::sync::Arc;

#[cfg(feature = "ident")]
use realfft::RealFftPlanner;

use crate::decode::AudioSource;
use crate::error::Result;

#[cfg(feature = "ident")]
pub use reference::Reference;
pub use types::{
    Alteration, IdentCopy, IdentMatch, IdentOptions, IdentReport, IdentStatus, Policy,
};

#[cfg(feature = "ident")]
use copies::search_window;
#[cfg(feature = "ident")]
use place::{evaluate_at, round3, At, FOUND_MARGIN, FOUND_SCORE, REVIEW_MARGIN, REVIEW_SCORE};
#[cfg(feature = "ident")]
use remix::channel_check;
#[cfg(feature = "ident")]
use speed::{speed_search, SpeedNcc};
#[cfg(feature = "ident")]
use window::{body_null, mix_weights, read_channels, read_window, template_range, Mix, Window};

#[cfg(feature = "ident")]
use search::{dot, piece_sums, top_peaks, PieceSums, Spectra, TemplateCache};

/// Rate of the coarse search, Hz: content up to 4 kHz (where idents' melodies lie) is plenty
/// to find the lag to a few program samples and to tell the speeds apart.
pub const ANALYSIS_RATE_HZ: u32 = 8_000;

/// Frame-rate conversion speeds, as `num/den` (the program plays the ident `num/den` times
/// faster): unchanged, 24→25 fps (PAL speed-up), 25→24, 23.976→24 (1001/1000) and
/// 24→23.976. A speed found within [`speed::SNAP_TOLERANCE`] of one is reported as exactly it.
pub const SPEED_FACTORS: [(u32, u32); 5] = [(1, 1), (25, 24), (24, 25), (1001, 1000), (1000, 1001)];

/// Default search margin beyond the reference's length at each end, seconds.
pub const DEFAULT_MARGIN_S: f64 = 30.0;

/// Longest head/tail window, seconds (windows are held in memory, three mixes of them).
pub const MAX_WINDOW_S: f64 = 600.0;

/// A found ident whose level differs from the reference's by more than this is altered, dB.
pub const GAIN_TOLERANCE_DB: f64 = 0.5;

/// Length of the in-place pieces, seconds.
pub const PIECE_S: f64 = 0.1;

#[cfg(feature = "ident")]
/// The two windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Head,
    Tail,
}

#[cfg(feature = "ident")]
/// A reference prepared for one program rate.
struct Prepared {
    /// Index among the references (names its templates in the cache).
    id: usize,
    reference: Arc<Reference>,
    /// Mono template at the analysis rate, unchanged speed.
    coarse: Vec<f32>,
    /// Its onset envelope (see [`speed`]).
    env: Vec<f32>,
    /// Nominal length at the program rate, frames.
    frames: usize,
}

#[cfg(feature = "ident")]
impl Prepared {
    /// The first cache key of its envelope grid templates.
    fn env_key(&self) -> usize {
        ENV_KEYS + self.id * ENV_KEYS_PER_REFERENCE
    }
}

#[cfg(feature = "ident")]
/// Cache keys: envelope grid templates from here (speed templates are numbered below).
const ENV_KEYS: usize = 1 << 32;
#[cfg(feature = "ident")]
const ENV_KEYS_PER_REFERENCE: usize = 1 << 12;
#[cfg(feature = "ident")]
/// Cache keys of one-off templates (a warped template) from here.
const ONE_OFF_KEYS: usize = 1 << 48;

#[cfg(feature = "ident")]
/// FFT plans and template spectra, reused across windows, mixes and references.
#[derive(Default)]
struct Engine {
    planner: RealFftPlanner<f32>,
    cache: TemplateCache,
    /// Cache keys of the coarse templates at each (reference, speed).
    speed_keys: std::collections::HashMap<(usize, u32, u32), usize>,
    /// One-off keys handed out so far.
    one_off: usize,
}

#[cfg(feature = "ident")]
impl Engine {
    fn speed_key(&mut self, id: usize, (num, den): (u32, u32)) -> usize {
        let next = self.speed_keys.len();
        *self.speed_keys.entry((id, num, den)).or_insert(next)
    }

    /// A cache key for a template used once (see [`TemplateCache::forget`]).
    fn one_off_key(&mut self) -> usize {
        self.one_off += 1;
        ONE_OFF_KEYS + self.one_off
    }

    fn correlate(
        &mut self,
        spectra: &Spectra,
        key: usize,
        y: &[f32],
        phat: bool,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        spectra.correlate(&mut self.planner, &mut self.cache, key, y, phat)
    }
}

#[cfg(feature = "ident")]
/// Search `source` (positioned anywhere; it is sought) for every reference in `opts`.
/// `total_frames` is the program's length (from the meter when the container does not say),
/// `labels` the channel labels (an `LFE` channel is left out of the mix).
pub fn search_source(
    source: &mut dyn AudioSource,
    total_frames: u64,
    labels: &[String],
    opts: &IdentOptions,
) -> Result<Vec<IdentReport>> {
    let info = source.info().clone();
    let rate = info.sample_rate_hz;
    let ar = ANALYSIS_RATE_HZ.min(rate);
    let mixes = mix_weights(labels, info.channels);
    let weights = mixes[0].clone();

    let mut prepared = Vec::new();
    for r in &opts.references {
        let coarse = r.mono_template(ar, 1, 1)?[0].clone();
        let env = speed::envelope(&coarse, ar);
        let frames =
            (r.frames() as f64 * f64::from(rate) / f64::from(r.rate_hz())).round() as usize;
        prepared.push(Prepared {
            id: prepared.len(),
            reference: Arc::clone(r),
            coarse,
            env,
            frames,
        });
    }
    if prepared.is_empty() {
        return Ok(Vec::new());
    }
    let longest = prepared.iter().map(|p| p.frames).max().unwrap_or(0);
    // Padding and body windows as for a template slowed by 4 % (24/25); slower idents (to
    // 0.9×) are still found, their inner end read from the program beyond the window.
    let longest_stretched = longest + longest / 20 + 1;
    let pad = longest_stretched / 2;
    let window_frames = |p: &Prepared| -> u64 {
        let s = opts
            .window_s
            .unwrap_or(p.reference.duration_s() + DEFAULT_MARGIN_S)
            .min(MAX_WINDOW_S);
        let f = (s.max(0.0) * f64::from(rate)) as u64;
        f.max(p.frames as u64 + p.frames as u64 / 10)
    };
    let w = prepared.iter().map(window_frames).max().unwrap_or(0);
    let t = total_frames;
    // Short programs: head and tail windows meet in the middle (an ident belongs to one).
    let (head_end, tail_start) = if t >= 2 * w {
        (w, t - w)
    } else {
        let half = t / 2;
        let l = longest as u64 / 2;
        ((half + l).min(t), half.saturating_sub(l))
    };

    let mut eng = Engine::default();

    // Null baseline from the body between the windows.
    let nulls = body_null(
        source,
        &mut eng,
        &prepared,
        &mixes,
        (head_end, tail_start),
        longest_stretched,
        ar,
    )?;

    let mut head = Vec::new();
    let mut tail = Vec::new();
    for (side, (start, end)) in [(Side::Head, (0, head_end)), (Side::Tail, (tail_start, t))] {
        let win = read_window(
            source,
            &mut eng,
            (start, end),
            pad,
            t,
            &mixes,
            template_range(&prepared),
            (rate, ar),
        )?;
        for (i, p) in prepared.iter().enumerate() {
            let m = search_window(
                source, &mut eng, &win, p, side, nulls[i], t, labels, &weights, rate, ar,
            )?;
            match side {
                Side::Head => head.push(m),
                Side::Tail => tail.push(m),
            }
        }
    }
    // In a short program the windows overlap: one ident seen from both is the head's or the
    // tail's, whichever window holds more of it.
    for (h, tl) in head.iter_mut().zip(tail.iter_mut()) {
        if let (Some(a), Some(b)) = (h.offset_samples, tl.offset_samples) {
            if h.status != IdentStatus::Absent
                && tl.status != IdentStatus::Absent
                && a.abs_diff(b) < longest as u64 / 2
            {
                if tl.coverage > h.coverage {
                    clear(h);
                } else {
                    clear(tl);
                }
            }
        }
        // Further copies seen from both windows: the one holding it as its primary keeps it,
        // else the head when it starts in the program's first half.
        let near = |a: &IdentCopy, b: &IdentCopy| {
            a.offset_samples.abs_diff(b.offset_samples) < longest as u64 / 2
        };
        let half = (t / 2) as i64;
        let (hp, tp) = (h.offset_samples, tl.offset_samples);
        let h_copies = h.copies.clone();
        h.copies.retain(|c| {
            Some(c.offset_samples) == hp
                || !tl.copies.iter().any(|d| {
                    near(c, d) && (Some(d.offset_samples) == tp || c.offset_samples >= half)
                })
        });
        tl.copies.retain(|c| {
            Some(c.offset_samples) == tp
                || !h_copies.iter().any(|d| {
                    near(c, d) && (Some(d.offset_samples) == hp || c.offset_samples < half)
                })
        });
        h.count = h.copies.len();
        tl.count = tl.copies.len();
    }
    Ok(prepared
        .iter()
        .zip(head.into_iter().zip(tail))
        .map(|(p, (head, tail))| IdentReport {
            reference: p.reference.name().to_string(),
            reference_duration_s: p.reference.duration_s(),
            head,
            tail,
        })
        .collect())
}

#[cfg(feature = "ident")]
/// Make a window's match `absent` (its ident belongs to the other window).
fn clear(m: &mut IdentMatch) {
    m.status = IdentStatus::Absent;
    m.found = false;
    m.offset_s = None;
    m.offset_samples = None;
    m.gain_db = None;
    m.polarity_inverted = None;
    m.coverage = 0.0;
    m.cut_start_s = None;
    m.cut_end_s = None;
    m.end_gap_s = None;
    m.speed_factor = None;
    m.channels_match = None;
    m.ident_channels.clear();
    m.alterations.clear();
    m.count = 0;
    m.copies.clear();
}

/// Without the `ident` feature no reference can be loaded: the type has no values, so
/// [`IdentOptions::references`] is always empty.
#[cfg(not(feature = "ident"))]
#[derive(Debug)]
pub enum Reference {}

/// Without the `ident` feature there is no [`Reference`], so nothing to search: no reports.
#[cfg(not(feature = "ident"))]
pub fn search_source(
    _source: &mut dyn AudioSource,
    _total_frames: u64,
    _labels: &[String],
    opts: &IdentOptions,
) -> Result<Vec<IdentReport>> {
    match opts.references.first() {
        Some(r) => match **r {},
        None => Ok(Vec::new()),
    }
}
