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
//! 6. **Decision** against a null baseline: the best score of the reference against a few body
//!    windows of the same program (music that merely resembles the ident scores there too), and
//!    absolute floors. Peak z-scores are never used: they are large on programs with no ident.

#[cfg(feature = "ident")]
pub mod reference;
#[cfg(feature = "ident")]
mod search;
#[cfg(feature = "ident")]
pub mod speed;
#[cfg(test)]
#[path = "../../tests/support/synth.rs"]
mod synth;

use std::sync::Arc;

#[cfg(feature = "ident")]
use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use crate::decode::AudioSource;
use crate::error::Result;

#[cfg(feature = "ident")]
pub use reference::Reference;

/// Without the `ident` feature no reference can be loaded: the type has no values, so
/// [`IdentOptions::references`] is always empty.
#[cfg(not(feature = "ident"))]
#[derive(Debug)]
pub enum Reference {}

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
/// A piece matches when its in-place NCC (sign-corrected) reaches this…
const PIECE_MATCH: f64 = 0.15;
#[cfg(feature = "ident")]
/// … and its least-squares gain this fraction of the median piece's.
const PIECE_GAIN: f64 = 0.5;

#[cfg(feature = "ident")]
/// Pieces whose reference energy is below this fraction of the mean piece energy (−12 dB) are
/// not judged (decays, pauses): their NCC says little.
const PIECE_SIGNIFICANT: f64 = 0.063;

#[cfg(feature = "ident")]
/// Floors of the decision, whatever the null baseline: an ident is found when its score
/// reaches `FOUND_SCORE` and the NCC over its matching pieces `FOUND_MATCHED`; in review from
/// `REVIEW_SCORE`.
const FOUND_SCORE: f64 = 0.55;
#[cfg(feature = "ident")]
const FOUND_MATCHED: f64 = 0.65;
#[cfg(feature = "ident")]
const REVIEW_SCORE: f64 = 0.45;
#[cfg(feature = "ident")]
/// A found ident covers at least half the reference; less is `review`.
const FOUND_COVERAGE: f64 = 0.5;
#[cfg(feature = "ident")]
/// Margins above the null baseline (best score in the program's body) for found / review.
const FOUND_MARGIN: f64 = 0.2;
#[cfg(feature = "ident")]
const REVIEW_MARGIN: f64 = 0.1;

#[cfg(feature = "ident")]
/// A cut is reported when the reference energy missing at that end reaches this fraction
/// (0.5 %: about one 40 ms video frame of an attack; a cut into silence is harmless).
const CUT_ENERGY: f64 = 0.005;

#[cfg(feature = "ident")]
/// A channel carries the ident when its NCC with a template reaches this.
const CHANNEL_CARRIES: f64 = 0.4;

#[cfg(feature = "ident")]
/// Body windows read for the null baseline.
const BODY_WINDOWS: usize = 3;

#[cfg(feature = "ident")]
/// Correlation peaks examined for further copies of a found ident in its window.
const MAX_COPY_CANDIDATES: usize = 8;
#[cfg(feature = "ident")]
/// A peak is examined as a further copy from this coarse |NCC| (a whole copy under a bed
/// scores 0.6 and more, a copy cut to half of its energy about 0.7 of that).
const COPY_FLOOR: f64 = 0.3;

/// What to do about idents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Ident-free delivery: an ident at head or tail is a blocker (`IDENT_PRESENT`).
    #[default]
    Forbid,
    /// Legacy delivery: the ident must be at head and tail, unaltered (`IDENT_MISSING`,
    /// `IDENT_ALTERED`).
    Require,
}

/// Options of the ident search. `#[non_exhaustive]`: start from [`IdentOptions::new`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IdentOptions {
    /// The reference idents (several versions allowed).
    pub references: Vec<Arc<Reference>>,
    /// Forbid or require.
    pub policy: Policy,
    /// Length of the head and tail windows, seconds (`None`: reference length + 30 s; at most
    /// [`MAX_WINDOW_S`], at least 1.1 × the reference's length).
    pub window_s: Option<f64>,
}

impl IdentOptions {
    /// Search for `references` under `policy`.
    pub fn new(references: Vec<Arc<Reference>>, policy: Policy) -> IdentOptions {
        IdentOptions {
            references,
            policy,
            window_s: None,
        }
    }
    /// Set the window length, seconds.
    pub fn with_window_s(mut self, window_s: Option<f64>) -> IdentOptions {
        self.window_s = window_s;
        self
    }
}

/// The decision for one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentStatus {
    /// The whole ident is there.
    Present,
    /// A contiguous part of it is there: trimmed at one or both ends.
    Partial,
    /// The evidence is in between: a person should listen.
    Review,
    /// Not there.
    Absent,
}

/// One way a found ident differs from the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alteration {
    /// `gain`, `cut_start`, `cut_end`, `remixed`, `polarity`, `speed`.
    pub kind: String,
    /// One sentence for people.
    pub message: String,
    /// The amount (dB for `gain`, seconds for cuts, the factor for `speed`), if any.
    pub value: Option<f64>,
}

/// What the search found in one window (head or tail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentMatch {
    /// The decision.
    pub status: IdentStatus,
    /// `status` is `present` or `partial`.
    pub found: bool,
    /// Where the ident's first sample is (or would be, if its start was cut off), seconds
    /// from the start of the file; may be negative when the head was cut at the file's start.
    /// `null` when absent.
    pub offset_s: Option<f64>,
    /// `offset_s` in samples at the program's rate.
    pub offset_samples: Option<i64>,
    /// Best normalised correlation of the whole reference, 0..1. (In a program shorter than
    /// two windows, the window that holds less of an ident both see reports it `absent` but
    /// keeps this score.)
    pub score: f64,
    /// NCC over the pieces that match (what a trimmed or partly remixed ident still scores).
    pub matched_score: f64,
    /// NCC of each quarter of the reference in place.
    pub quarter_scores: Vec<f64>,
    /// Level of the found ident relative to the reference, dB (least squares per channel).
    pub gain_db: Option<f64>,
    /// The found ident is polarity-inverted.
    pub polarity_inverted: Option<bool>,
    /// Fraction of the reference (its non-quiet 100 ms pieces) that matches in place, 0..1.
    pub coverage: f64,
    /// Seconds missing at the ident's start (0 when whole).
    pub cut_start_s: Option<f64>,
    /// Seconds missing at the ident's end (0 when whole).
    pub cut_end_s: Option<f64>,
    /// Tail only: seconds from the ident's (present) end to the end of the file.
    pub end_gap_s: Option<f64>,
    /// Playback speed of the found ident relative to the reference (1 = unchanged).
    pub speed_factor: Option<f64>,
    /// The program's channels still carry the reference's channels (no swap, no replaced
    /// channel); `null` when absent or undecidable.
    pub channels_match: Option<bool>,
    /// Labels of the program channels that carry the ident.
    pub ident_channels: Vec<String>,
    /// Null baseline: best score of the reference in the program's body (`null` when the
    /// program has no body outside the windows).
    pub null_score: Option<f64>,
    /// Score needed for `found` in this program.
    pub threshold: f64,
    /// The window searched, seconds from the start of the file.
    pub window_start_s: f64,
    /// End of the window searched, seconds.
    pub window_end_s: f64,
    /// How the found ident differs from the reference.
    pub alterations: Vec<Alteration>,
    /// Copies of the ident found in this window (`present` or `partial` each), the one the
    /// fields above describe (the best-scoring) among them: 0 when not found, 2 or more for a
    /// double ident.
    #[serde(default)]
    pub count: usize,
    /// Each copy, in time order (`count` entries).
    #[serde(default)]
    pub copies: Vec<IdentCopy>,
}

/// One copy of the ident in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentCopy {
    /// Where the copy's first sample is (or would be, when its start was cut), seconds from
    /// the start of the file (or composition).
    pub offset_s: f64,
    /// `offset_s` in samples at the program's rate.
    pub offset_samples: i64,
    /// Normalised correlation of the whole reference at this copy, 0..1.
    pub score: f64,
    /// Level relative to the reference, dB (`null` when no channel carries it clearly).
    pub gain_db: Option<f64>,
    /// Fraction of the reference that matches in place, 0..1.
    pub coverage: f64,
    /// Cut short at either end (a second ident trimmed by the edit).
    pub partial: bool,
    /// Seconds missing at the copy's start.
    pub cut_start_s: f64,
    /// Seconds missing at the copy's end.
    pub cut_end_s: f64,
    /// Playback speed relative to the reference (1 = unchanged).
    pub speed_factor: f64,
    /// Length of the whole (uncut) copy at its speed, seconds.
    pub duration_s: f64,
}

impl IdentCopy {
    /// Where the copy's last present sample ends, seconds.
    pub fn end_s(&self) -> f64 {
        self.offset_s + self.duration_s - self.cut_end_s
    }
}

/// The search result for one reference: `ident[i]` in the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentReport {
    /// The reference (path as given).
    pub reference: String,
    /// Its length, seconds.
    pub reference_duration_s: f64,
    /// At the head of the program.
    pub head: IdentMatch,
    /// At the tail of the program.
    pub tail: IdentMatch,
}

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
/// FFT plans and template spectra, reused across windows, mixes and references.
#[derive(Default)]
struct Engine {
    planner: RealFftPlanner<f32>,
    cache: TemplateCache,
    /// Cache keys of the coarse templates at each (reference, speed).
    speed_keys: std::collections::HashMap<(usize, u32, u32), usize>,
}

#[cfg(feature = "ident")]
impl Engine {
    fn speed_key(&mut self, id: usize, (num, den): (u32, u32)) -> usize {
        let next = self.speed_keys.len();
        *self.speed_keys.entry((id, num, den)).or_insert(next)
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
/// A window of the program, mono mix, zero-padded.
struct Window {
    /// Program frame of `full[0]` of every mix (negative: padding before the file's start).
    origin: i64,
    mixes: Vec<Mix>,
    start_frame: u64,
    end_frame: u64,
}

#[cfg(feature = "ident")]
/// One mix of a window's channels: at the program's rate and at the analysis rate.
struct Mix {
    full: Vec<f32>,
    /// At the analysis rate.
    coarse: Vec<f32>,
    spectra: Spectra,
    /// Its onset envelope (see [`speed`]) and the envelope's spectra.
    env: Vec<f32>,
    env_spectra: Spectra,
}

#[cfg(feature = "ident")]
/// A speed (`num/den`), the cache key of its coarse template and the template's NCC at every
/// lag.
type SpeedNcc = ((u32, u32), usize, Vec<f32>);

#[cfg(feature = "ident")]
/// The speed search on one mix (see [`speed`]): unchanged speed and the speed the envelope
/// grid and piece regression find; for each the coarse NCC of the mono template at every lag.
/// Returns `(speed, cache key, NCC)` of the one whose NCC peaks higher.
fn speed_search(eng: &mut Engine, mix: &Mix, p: &Prepared, ar: u32) -> Result<SpeedNcc> {
    let mut speeds = vec![(1u32, 1u32)];
    if let Some((s, lag, _)) = speed::envelope_grid(
        &mut eng.planner,
        &mut eng.cache,
        &mix.env_spectra,
        &p.env,
        p.env_key(),
        ar,
    ) {
        let (s, _) = speed::refine(&mix.coarse, &mix.env, &p.reference, ar, s, lag)?;
        let r = speed::rational(s);
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

#[cfg(feature = "ident")]
/// The channel mixes searched: every channel but LFE, and for more than two channels also the
/// front pair and the centre alone (an ident in C only would be buried under four channels of
/// program in the full mix).
fn mix_weights(labels: &[String], channels: usize) -> Vec<Vec<f32>> {
    let pick = |names: &[&str]| -> Vec<f32> {
        (0..channels)
            .map(|c| {
                let l = labels.get(c).map(String::as_str).unwrap_or("");
                if names.contains(&l) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    };
    let all: Vec<f32> = (0..channels)
        .map(|c| {
            let lfe = labels.get(c).is_some_and(|l| l == "LFE") && channels > 1;
            if lfe {
                0.0
            } else {
                1.0
            }
        })
        .collect();
    let mut out = vec![all];
    if channels > 2 {
        for names in [&["L", "R"][..], &["C"][..]] {
            let w = pick(names);
            if w.iter().any(|&v| v > 0.0) && !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
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

#[cfg(feature = "ident")]
/// Read `frames` frames from `start` of every channel (zeros outside the file).
fn read_channels(
    source: &mut dyn AudioSource,
    start: i64,
    frames: usize,
    total: u64,
) -> Result<Vec<Vec<f32>>> {
    let ch = source.info().channels;
    let mut out = vec![vec![0.0f32; frames]; ch];
    let first = start.max(0) as u64;
    let last = (start + frames as i64).clamp(0, total as i64) as u64;
    if last <= first {
        return Ok(out);
    }
    source.seek(first)?;
    let mut pos = (first as i64 - start) as usize;
    let want = (last - first) as usize;
    let mut got = 0;
    let mut buf = Vec::new();
    while got < want {
        let n = source.read(&mut buf, (want - got).min(1 << 16))?;
        if n == 0 {
            break;
        }
        for (dst, src) in out.iter_mut().zip(&buf) {
            dst[pos..pos + n].copy_from_slice(&src[..n]);
        }
        pos += n;
        got += n;
    }
    Ok(out)
}

#[cfg(feature = "ident")]
/// Shortest and longest coarse template and envelope of all references over
/// [`speed::SPEED_RANGE`]: `((n_min, n_max), (env_min, env_max))`.
fn template_range(prepared: &[Prepared]) -> ((usize, usize), (usize, usize)) {
    let (lo, hi) = speed::SPEED_RANGE;
    let range = |lens: &mut dyn Iterator<Item = usize>| {
        let lens: Vec<usize> = lens.collect();
        let min = lens.iter().min().copied().unwrap_or(1);
        let max = lens.iter().max().copied().unwrap_or(1);
        (
            ((min as f64 / hi).floor() as usize).max(1),
            (max as f64 / lo).ceil() as usize + 2,
        )
    };
    (
        range(&mut prepared.iter().map(|p| p.coarse.len())),
        range(&mut prepared.iter().map(|p| p.env.len())),
    )
}

#[cfg(feature = "ident")]
/// Read program frames `[start, end)` as weighted mono mixes, with `front` and `back` zeros.
fn read_mixes(
    source: &mut dyn AudioSource,
    (start, end): (u64, u64),
    (front, back): (usize, usize),
    mixes: &[Vec<f32>],
) -> Result<Vec<Vec<f32>>> {
    let want = end.saturating_sub(start) as usize;
    let mut xs = vec![vec![0.0f32; front + want + back]; mixes.len()];
    if want == 0 {
        return Ok(xs);
    }
    source.seek(start)?;
    let mut pos = front;
    let mut got = 0;
    let mut buf = Vec::new();
    while got < want {
        let n = source.read(&mut buf, (want - got).min(1 << 16))?;
        if n == 0 {
            break;
        }
        for (x, weights) in xs.iter_mut().zip(mixes) {
            for (c, src) in buf.iter().enumerate() {
                let wgt = weights.get(c).copied().unwrap_or(1.0);
                if wgt == 0.0 {
                    continue;
                }
                for (d, s) in x[pos..pos + n].iter_mut().zip(&src[..n]) {
                    *d += wgt * s;
                }
            }
        }
        pos += n;
        got += n;
    }
    Ok(xs)
}

#[cfg(feature = "ident")]
/// Read a window's mixes and prepare their coarse spectra. The window is extended by `pad` at
/// both ends: with program where there is some (so an ident at the window's inner edge is not
/// seen as cut), with zeros beyond the file's ends (so an ident cut by the file's start or end
/// still aligns).
#[allow(clippy::too_many_arguments)] // private; grouped by meaning
fn read_window(
    source: &mut dyn AudioSource,
    eng: &mut Engine,
    (start, end): (u64, u64),
    pad: usize,
    total: u64,
    mixes: &[Vec<f32>],
    ((n_min, n_max), (e_min, e_max)): ((usize, usize), (usize, usize)),
    (rate, ar): (u32, u32),
) -> Result<Window> {
    let read_start = start.saturating_sub(pad as u64);
    let read_end = end.saturating_add(pad as u64).min(total.max(end));
    let front = pad - (start - read_start) as usize;
    let back = pad - (read_end - end) as usize;
    let fulls = read_mixes(source, (read_start, read_end), (front, back), mixes)?;
    let coarse = reference::resample(&fulls, u64::from(rate), u64::from(ar))?;
    let mixes = fulls
        .into_iter()
        .zip(coarse)
        .map(|(full, coarse)| {
            let env = speed::envelope(&coarse, ar);
            Mix {
                spectra: Spectra::new(&mut eng.planner, &coarse, n_max, n_min),
                env_spectra: Spectra::new(&mut eng.planner, &env, e_max, e_min),
                env,
                coarse,
                full,
            }
        })
        .collect();
    Ok(Window {
        origin: read_start as i64 - front as i64,
        mixes,
        start_frame: start,
        end_frame: end,
    })
}

#[cfg(feature = "ident")]
/// The best coarse |NCC| of each reference (any speed) in a few body windows.
fn body_null(
    source: &mut dyn AudioSource,
    eng: &mut Engine,
    prepared: &[Prepared],
    mixes: &[Vec<f32>],
    (body_start, body_end): (u64, u64),
    longest: usize,
    ar: u32,
) -> Result<Vec<Option<f64>>> {
    let rate = source.info().sample_rate_hz;
    let len = (longest + longest / 2 + 2 * rate as usize) as u64;
    let mut nulls = vec![None; prepared.len()];
    if body_end <= body_start || body_end - body_start < len {
        return Ok(nulls);
    }
    let span = body_end - body_start - len;
    for k in 0..BODY_WINDOWS {
        // Evenly spread, away from the windows (a deterministic choice: reports are repeatable).
        let s = body_start + span * (2 * k as u64 + 1) / (2 * BODY_WINDOWS as u64);
        let win = read_window(
            source,
            eng,
            (s, s + len),
            0,
            body_end,
            mixes,
            template_range(prepared),
            (rate, ar),
        )?;
        for (i, p) in prepared.iter().enumerate() {
            for mix in &win.mixes {
                // The same speed search as in the windows, so that the baseline has had as
                // many chances to match as the window.
                let (_, _, ncc) = speed_search(eng, mix, p, ar)?;
                let best = ncc.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let cur = nulls[i].unwrap_or(0.0f64);
                nulls[i] = Some(cur.max(f64::from(best)));
            }
        }
    }
    Ok(nulls)
}

#[cfg(feature = "ident")]
/// NCC of `x[lag..lag+y.len()]` with `y` for every lag in `lo..=hi` (energy of `y` given),
/// the window's energy slid along in `f64`.
fn ncc_range(x: &[f32], y: &[f32], ey: f64, lo: usize, hi: usize) -> Vec<(usize, f64)> {
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

#[cfg(feature = "ident")]
fn ncc_at(x: &[f32], y: &[f32], ey: f64, lag: usize) -> f64 {
    ncc_range(x, y, ey, lag, lag)[0].1
}

#[cfg(feature = "ident")]
#[allow(clippy::too_many_arguments)] // one call site; the pieces are the search's state
fn search_window(
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
        threshold,
        review,
    };
    let (mut primary, span) = evaluate_at(source, &at, &cands, m.clone())?;
    let Some(span) = span.filter(|_| primary.found) else {
        return Ok(primary);
    };
    // 5. Further copies: the other correlation peaks (at least a third of the ident apart),
    //    each evaluated as the primary was; a found one whose present span does not overlap
    //    a copy already kept by more than a quarter of the ident is another copy.
    let n_coarse = coarse_tmpl[0].len();
    let n_full = templates[templates.len() - 1].len() as i64;
    let mut kept: Vec<(IdentMatch, (i64, i64))> = Vec::new();
    for c in top_peaks(&ncc, MAX_COPY_CANDIDATES, (n_coarse / 3).max(1)) {
        // The primary's own peak was evaluated already.
        let at_frame = win.origin + (c as f64 * f64::from(rate) / f64::from(ar)).round() as i64;
        if f64::from(ncc[c].abs()) < COPY_FLOOR
            || primary
                .offset_samples
                .is_some_and(|o| o.abs_diff(at_frame) < (n_full / 4) as u64)
        {
            continue;
        }
        let (cm, cspan) = evaluate_at(source, &at, &[c], m.clone())?;
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
    if side == Side::Tail {
        if let Some((_, s)) = all.last() {
            primary.end_gap_s = Some(round3((total as i64 - s.1) as f64 / f64::from(rate)));
        }
    }
    primary.count = copies.len();
    primary.copies = copies;
    Ok(primary)
}

#[cfg(feature = "ident")]
/// The copy a found match describes.
fn to_copy(m: &IdentMatch, duration_s: f64) -> IdentCopy {
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

#[cfg(feature = "ident")]
/// How a speed came about, for the alteration's message.
fn speed_note(num: u32, den: u32) -> String {
    if SPEED_FACTORS.contains(&(num, den)) {
        format!(" ({num}/{den}): a frame-rate conversion")
    } else {
        String::new()
    }
}

#[cfg(feature = "ident")]
/// What one evaluation of a window at a speed needs.
struct At<'a> {
    win: &'a Window,
    mix: &'a Mix,
    p: &'a Prepared,
    /// The reference's channels and mono downmix at the program's rate and this speed.
    templates: &'a [Vec<f32>],
    energies: &'a [f64],
    side: Side,
    total: u64,
    labels: &'a [String],
    weights: &'a [f32],
    rate: u32,
    /// Rate of the candidate lags.
    ar: u32,
    speed: (u32, u32),
    threshold: f64,
    review: f64,
}

#[cfg(feature = "ident")]
/// Evaluate the window at the best of the coarse lag candidates `cands`: exact lag, in-place
/// pieces, decision, span, channels, alterations. Returns the match (from `m`, the blank one)
/// and, when found or in review, the present span `[start, end)` in program frames.
fn evaluate_at(
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
            format!(
                "played at {f:.4}× the reference's speed{}",
                speed_note(num, den)
            ),
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

#[cfg(feature = "ident")]
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(feature = "ident")]
/// The span `[b, e)` maximising `Σ 2g·x·y − g²·y²` (Kadane).
fn best_span(x: &[f32], y: &[f32], g: f64) -> (usize, usize) {
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

#[cfg(feature = "ident")]
/// Per-channel check at the found lag: which channels carry the ident, whether they carry the
/// reference's channels in order, and the gain (least squares of each carrying channel on its
/// template over the matching pieces within the span). Returns (channels_match, carrier labels, gain, notes).
fn channel_check(
    chans: &[Vec<f32>],
    templates: &[Vec<f32>],
    weights: &[f32],
    labels: &[String],
    ranges: &[(usize, usize)],
    sign: f64,
) -> (Option<bool>, Vec<String>, Option<f64>, Vec<String>) {
    let ref_ch = templates.len() - 1;
    let label = |c: usize| {
        labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    };
    // The matching pieces only: a replaced section says nothing about channels or level.
    let span = |v: &[f32]| -> Vec<f32> {
        ranges
            .iter()
            .flat_map(|&(a, z)| v[a.min(v.len())..z.min(v.len())].iter().copied())
            .collect()
    };
    let tm: Vec<Vec<f32>> = templates.iter().map(|t| span(t)).collect();
    let te: Vec<f64> = tm.iter().map(|t| dot(t, t)).collect();
    let ncc = |x: &[f32], ti: usize| -> f64 {
        let ex = dot(x, x);
        if ex <= 0.0 || te[ti] <= 0.0 {
            0.0
        } else {
            dot(x, &tm[ti]) / (ex * te[ti]).sqrt()
        }
    };
    // rho[c][j]: program channel c against template j (the last is the downmix).
    let xs: Vec<Vec<f32>> = chans.iter().map(|c| span(c)).collect();
    let rho: Vec<Vec<f64>> = xs
        .iter()
        .map(|x| (0..=ref_ch).map(|j| ncc(x, j)).collect())
        .collect();
    let carries: Vec<bool> = rho
        .iter()
        .enumerate()
        .map(|(c, r)| {
            weights.get(c).copied().unwrap_or(1.0) > 0.0
                && r.iter().any(|v| sign * v >= CHANNEL_CARRIES)
        })
        .collect();
    let carriers: Vec<String> = (0..chans.len())
        .filter(|&c| carries[c])
        .map(label)
        .collect();
    // Each carrier's template: its own reference channel when it is one of the paired ones
    // (L/R of a stereo reference in L/R of the program), else the best-matching template.
    let paired = ref_ch >= 2 && chans.len() >= 2;
    let mut notes = Vec::new();
    let ref_distinct = paired && {
        let (a, bb) = (&tm[0], &tm[1]);
        let (ea, eb) = (te[0], te[1]);
        ea > 0.0 && eb > 0.0 && dot(a, bb) / (ea * eb).sqrt() < 0.98
    };
    let k = ref_ch.min(chans.len());
    // The reference channel each program channel should carry when it carries the ident: its
    // own for the same layout and for the first `k` channels; for a stereo reference in a
    // wider programme, by label, the left one in every left channel (L, Ls, Lrs…) and the
    // right one in every right channel; none (any, or the fold) in C and the others.
    let expected = |c: usize| -> Option<usize> {
        if c < k {
            return Some(c);
        }
        if ref_ch == 2 && chans.len() > 2 {
            let l = label(c);
            if l == "LFE" || l.starts_with("LFE") {
                None
            } else if l.starts_with('L') {
                Some(0)
            } else if l.starts_with('R') {
                Some(1)
            } else {
                None
            }
        } else {
            None
        }
    };
    let paired_carry = paired && (0..chans.len()).any(|c| carries[c] && expected(c).is_some());
    let mut ok = true;
    if ref_distinct && paired_carry {
        for c in 0..chans.len() {
            if weights.get(c).copied().unwrap_or(1.0) == 0.0 {
                continue;
            }
            let Some(want) = expected(c) else { continue };
            let (jbest, vbest) =
                rho[c][..ref_ch]
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |acc, (j, &v)| {
                        if sign * v > acc.1 {
                            (j, sign * v)
                        } else {
                            acc
                        }
                    });
            if !carries[c] || vbest < CHANNEL_CARRIES {
                // Only the paired channels must carry it (a stereo ident need not be in the
                // surrounds).
                if c < k {
                    ok = false;
                    notes.push(format!(
                        "channel {} no longer carries the reference's channel {}",
                        label(c),
                        want + 1
                    ));
                }
            } else if jbest != want {
                ok = false;
                notes.push(format!(
                    "channel {} carries the reference's channel {} instead of {} (channels swapped)",
                    label(c),
                    jbest + 1,
                    want + 1
                ));
            }
        }
    }
    // Polarity must agree across carriers.
    let signs: Vec<f64> = (0..chans.len())
        .filter(|&c| carries[c])
        .map(|c| {
            let v = rho[c]
                .iter()
                .fold(0.0f64, |a, &v| if v.abs() > a.abs() { v } else { a });
            v.signum()
        })
        .collect();
    if signs.windows(2).any(|w| w[0] != w[1]) {
        ok = false;
        notes.push("channels carry the ident in opposite polarities".into());
    }
    // Gain: Σ x·t / Σ t² over carriers, each with its template.
    let (mut xy, mut yy) = (0.0, 0.0);
    for c in 0..chans.len() {
        if !carries[c] {
            continue;
        }
        // The template this channel carries best (its own reference channel, unless swapped
        // or folded down).
        let j = (0..=ref_ch)
            .max_by(|&a, &bb| (sign * rho[c][a]).total_cmp(&(sign * rho[c][bb])))
            .unwrap_or(ref_ch);
        xy += dot(&xs[c], &tm[j]);
        yy += te[j];
    }
    let gain = (yy > 0.0 && !carriers.is_empty()).then(|| xy / yy);
    let decided = if carriers.is_empty() { None } else { Some(ok) };
    (decided, carriers, gain, notes)
}

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
