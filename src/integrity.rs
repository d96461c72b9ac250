//! Channel and signal integrity: what a delivery QC checks besides loudness, observed per
//! channel with times. No verdicts here: [`IntegrityScanner`] reports typed observations
//! ([`IntegrityObservations`]) and the rules in [`crate::spec::integrity`] turn them into
//! findings.
//!
//! One streaming pass over the same planar `f32` blocks as the meter, constant memory (a few
//! numbers per channel and pair, plus the bounded lists of what was found):
//!
//! - **Peaks** per channel (a channel whose peak stays under −90 dBFS, or is digital zero, is
//!   silent; the limit is the rule's).
//! - **Drop-outs**: runs of digital zero (exactly `0.0`) of at least [`IntegrityConfig::dropout_min_s`]
//!   on one channel whose edges are live: the RMS of the [`IntegrityConfig::dropout_edge_s`]
//!   just before and just after the run is at least [`IntegrityConfig::dropout_edge_dbfs`]. A
//!   signal cut off in full flight is a drop-out; head and tail silence (no edge) and the
//!   digital silence an editor leaves between dialogue lines (the line has decayed before
//!   the cut) are not. Blocks without a zero sample are skipped by a vectorised count.
//! - **Pairs** (L/R, Ls/Rs, Lss/Rss, Lrs/Rrs): per 50 ms window the correlation coefficient
//!   `Σxy / √(Σx²·Σy²)` over windows where both channels are active; stretches where it stays
//!   negative ([`Stretch`]), the whole-programme correlation over active windows, the
//!   stereo → mono downmix gain `10·log10(Σ(x+y)² / (Σx² + Σy²))` (0 dB for uncorrelated
//!   channels, +3 dB for identical ones, −∞ for a polarity-inverted copy) and the difference
//!   level `10·log10(Σ(x−y)² / (Σx² + Σy²))` with a bit-identical flag (dual mono).
//! - **5.1 → 2.0 downmix** per ITU-R BS.775-4 Table 2: `Lo = L + 0.7071·C + 0.7071·Ls`,
//!   `Ro = R + 0.7071·C + 0.7071·Rs`; the gain is the downmix power over the power the
//!   downmix would have with uncorrelated channels (`L² + R² + C² + (Ls² + Rs²)/2`), in dB.
//! - **LFE band** (and the centre's, as swap evidence): energy above the LFE band (a 4th-order
//!   Butterworth high-pass at [`LFE_SPLIT_HZ`], two biquads) against the energy below (the
//!   rest: Butterworth low- and high-pass of one order are power complementary,
//!   `|H_LP|² + |H_HP|² = 1`), over the programme and as stretches of 50 ms windows where the
//!   LFE is full band. The LFE channel carries up to 120 Hz (ITU-R BS.775-4 §3).
//!
//! Times are frames from the start of the stream. Stretches are on the 50 ms grid: a window
//! belongs to a stretch when the fault covers most of it, so stretch edges are within 25 ms of
//! the fault's (plus the filter's few milliseconds of delay for the LFE band).

use serde::{Deserialize, Serialize};

use crate::channels::{ChannelMap, Position};
use crate::meter::db_to_amplitude;

/// The LFE band's upper limit, Hz (ITU-R BS.775-4 §3: the LFE channel carries 20–120 Hz).
pub const LFE_BAND_HZ: f64 = 120.0;
/// Corner of the 4th-order Butterworth high-pass that measures the energy above the LFE band,
/// Hz. Well above [`LFE_BAND_HZ`] so in-band content stays out of it (its power response is
/// `(f/fc)^8 / (1 + (f/fc)^8)`: −17.7 dB at 120 Hz, −24 dB at 100 Hz), while full-band material
/// (speech, music: most of its energy between 200 Hz and 4 kHz) is mostly above it.
pub const LFE_SPLIT_HZ: f64 = 200.0;
/// Channel pairs checked for correlation, left first.
pub const PAIRS: [(Position, Position); 4] = [
    (Position::L, Position::R),
    (Position::Ls, Position::Rs),
    (Position::Lss, Position::Rss),
    (Position::Lrs, Position::Rrs),
];
/// BS.775-4 Table 2 downmix coefficient of C and the surrounds into Lo/Ro (−3 dB).
pub const BS775_DOWNMIX_GAIN: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// Drop-outs and stretches kept per channel or pair; more are counted only (bounded memory on
/// hostile input).
pub const MAX_LISTED: usize = 10_000;

/// How the scanner observes. `#[non_exhaustive]`: start from `IntegrityConfig::default()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IntegrityConfig {
    /// Shortest run of digital zero kept as a drop-out candidate, seconds (default 0.02).
    pub dropout_min_s: f64,
    /// Length of the edges measured before and after a zero run, seconds (default 0.01).
    pub dropout_edge_s: f64,
    /// Both edges at least this RMS level make a zero run a drop-out, dBFS (default −55).
    pub dropout_edge_dbfs: f64,
    /// Analysis window of correlation and LFE band, seconds (default 0.05).
    pub window_s: f64,
    /// A window where a channel's RMS is under this is inactive, dBFS (default −50).
    pub active_dbfs: f64,
    /// A pair window with a correlation under this is negative (default −0.2).
    pub negative_window_correlation: f64,
    /// An LFE window whose energy above the band is at least this relative to below is full
    /// band, dB (default −12).
    pub full_band_window_db: f64,
    /// Runs of non-hit windows up to this long do not end a stretch, seconds (default 0.5).
    pub bridge_s: f64,
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        IntegrityConfig {
            dropout_min_s: 0.02,
            dropout_edge_s: 0.01,
            dropout_edge_dbfs: -55.0,
            window_s: 0.05,
            active_dbfs: -50.0,
            negative_window_correlation: -0.2,
            full_band_window_db: -12.0,
            bridge_s: 0.5,
        }
    }
}

/// A run of digital zero on one channel with live edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    /// Channel index.
    pub channel: usize,
    /// First zero sample (frame index).
    pub start_frame: u64,
    /// One past the last zero sample.
    pub end_frame: u64,
    /// RMS of the edge before the run, dBFS.
    pub before_dbfs: f64,
    /// RMS of the edge after the run, dBFS.
    pub after_dbfs: f64,
}

/// A stretch of analysis windows where a condition held (bridged over short gaps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    /// First frame of the first hit window.
    pub start_frame: u64,
    /// One past the last frame of the last hit window.
    pub end_frame: u64,
    /// The condition's value over the active windows of the stretch: the correlation
    /// coefficient (pairs) or the energy above the LFE band relative to below, dB (LFE).
    pub value: f64,
    /// Active windows in the stretch that met the condition, percent.
    pub hit_percent: f64,
}

/// What was seen on one pair of channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairObservation {
    /// Index of the left channel.
    pub left: usize,
    /// Index of the right channel.
    pub right: usize,
    /// Correlation coefficient over the windows where both are active (`None`: never both).
    pub correlation: Option<f64>,
    /// Seconds of windows where both are active.
    pub active_s: f64,
    /// Stereo → mono downmix gain over the whole programme, dB (`None`: silent pair; very
    /// negative for a polarity-inverted copy, floored at −200).
    pub downmix_gain_db: Option<f64>,
    /// Level of `left − right` relative to `left² + right²`, dB (`None`: silent pair; −200
    /// when bit-identical).
    pub difference_db: Option<f64>,
    /// Every sample of the two channels is equal.
    pub bit_identical: bool,
    /// Stretches where the correlation stays negative.
    pub negative: Vec<Stretch>,
    /// Stretches not kept (beyond [`MAX_LISTED`]).
    pub negative_dropped: u64,
}

/// Energy above and below the LFE band of one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandObservation {
    /// Channel index.
    pub channel: usize,
    /// Energy above the LFE band relative to below, over the programme, dB (`None`: silent).
    pub above_band_db: Option<f64>,
    /// Stretches where the channel is full band (LFE only; empty for the centre).
    pub full_band: Vec<Stretch>,
    /// Stretches not kept (beyond [`MAX_LISTED`]).
    pub full_band_dropped: u64,
}

/// Everything the scan observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrityObservations {
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Frames scanned.
    pub frames: u64,
    /// Largest |sample| per channel (non-finite samples count as 0), linear.
    pub peak: Vec<f32>,
    /// Drop-outs of every channel, in order of channel then time.
    pub dropouts: Vec<Dropout>,
    /// Drop-outs not kept (beyond [`MAX_LISTED`] per channel).
    pub dropouts_dropped: u64,
    /// The pairs of the layout present in the map.
    pub pairs: Vec<PairObservation>,
    /// 5.1 → 2.0 downmix gain per ITU-R BS.775-4, dB (`None`: no L, R, C, Ls, Rs or silent).
    pub downmix_51_gain_db: Option<f64>,
    /// The LFE channel's band, if the map has one.
    pub lfe: Option<BandObservation>,
    /// The centre channel's band, if the map has one (swap evidence).
    pub centre: Option<BandObservation>,
}

impl IntegrityObservations {
    /// Frames → seconds.
    pub fn seconds(&self, frame: u64) -> f64 {
        frame as f64 / f64::from(self.sample_rate_hz.max(1))
    }
}

/// One biquad section (transposed direct form II), `f64` state.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    /// Butterworth high-pass section at `f0` with quality `q` (RBJ Audio EQ Cookbook).
    fn highpass(rate_hz: u32, f0: f64, q: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * f0 / f64::from(rate_hz.max(1));
        let (s, c) = w0.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        Biquad {
            b: [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }
    #[inline]
    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// Rate the band split runs at, about: the input is decimated to it by block means (a boxcar,
/// whose nulls at multiples of the new rate keep what folds back near 0 Hz small); energy
/// above the split up to ~3 kHz is all a full-band LFE needs to show, at an eighth of the cost.
pub const BAND_RATE_HZ: u32 = 6000;

/// A 4th-order Butterworth high-pass: two sections with Q = 1/(2·cos(π/8)) and 1/(2·cos(3π/8)),
/// on the input decimated by block means to about [`BAND_RATE_HZ`].
#[derive(Debug, Clone)]
struct HighPass4 {
    s: [Biquad; 2],
    /// Input samples per decimated sample.
    dec: usize,
    acc: f32,
    n_acc: usize,
}

impl HighPass4 {
    fn new(rate_hz: u32, f0: f64) -> HighPass4 {
        let dec = (rate_hz / BAND_RATE_HZ).max(1) as usize;
        let rate = rate_hz / dec as u32;
        let q1 = 1.0 / (2.0 * (std::f64::consts::PI / 8.0).cos());
        let q2 = 1.0 / (2.0 * (3.0 * std::f64::consts::PI / 8.0).cos());
        HighPass4 {
            s: [
                Biquad::highpass(rate, f0, q1),
                Biquad::highpass(rate, f0, q2),
            ],
            dec,
            acc: 0.0,
            n_acc: 0,
        }
    }
    /// Energy of the filtered and of the unfiltered decimated `x` (block means), `[high, all]`.
    fn energy(&mut self, x: &[f32]) -> [f64; 2] {
        let [s1, s2] = &mut self.s;
        let (mut e, mut all) = (0.0, 0.0);
        let dec = self.dec;
        let mut run = |v: f32| {
            let v = f64::from(v) / dec as f64;
            let y = s2.run(s1.run(v));
            e += y * y;
            all += v * v;
        };
        let mut x = x;
        if self.n_acc > 0 {
            let take = (dec - self.n_acc).min(x.len());
            self.acc += x[..take].iter().map(|v| finite(*v)).sum::<f32>();
            self.n_acc += take;
            x = &x[take..];
            if self.n_acc == dec {
                run(std::mem::take(&mut self.acc));
                self.n_acc = 0;
            }
        }
        let mut it = x.chunks_exact(dec);
        for c in &mut it {
            run(c.iter().map(|v| finite(*v)).sum::<f32>());
        }
        let rest = it.remainder();
        if !rest.is_empty() {
            self.acc = rest.iter().map(|v| finite(*v)).sum::<f32>();
            self.n_acc = rest.len();
        }
        // Denormal guard: a filter ringing out into silence.
        for s in self.s.iter_mut() {
            for z in s.z.iter_mut() {
                if z.abs() < 1e-30 {
                    *z = 0.0;
                }
            }
        }
        [e, all]
    }
}

fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Largest |sample| (non-finite samples count as 0), in lanes of 8 (vectorisable).
fn peak(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut it = x.chunks_exact(8);
    for v in &mut it {
        for l in 0..8 {
            lanes[l] = lanes[l].max(finite(v[l]).abs());
        }
    }
    let m = it
        .remainder()
        .iter()
        .fold(0.0f32, |m, &v| m.max(finite(v).abs()));
    lanes.iter().fold(m, |a, &b| a.max(b))
}

/// Which windows belong to a stretch: hits, bridged over short runs of misses; inactive
/// windows neither extend nor break a stretch.
#[derive(Debug, Clone, Default)]
struct StretchTracker {
    /// (start frame, end frame of last hit, sums through last hit, hits, active windows).
    open: Option<OpenStretch>,
    /// Sums of the active windows since the last hit (committed at the next hit).
    pending: [f64; 3],
    pending_active: u64,
    misses: u64,
    out: Vec<Stretch>,
    dropped: u64,
}

#[derive(Debug, Clone)]
struct OpenStretch {
    start: u64,
    end: u64,
    sums: [f64; 3],
    hits: u64,
    active: u64,
}

/// What one window says.
enum Window {
    Inactive,
    Miss([f64; 3]),
    Hit([f64; 3]),
}

impl StretchTracker {
    fn push(&mut self, w: Window, start: u64, end: u64, bridge: u64, value: fn(&[f64; 3]) -> f64) {
        match w {
            Window::Inactive => {}
            Window::Miss(s) => {
                if self.open.is_some() {
                    self.misses += 1;
                    if self.misses > bridge {
                        self.close(value);
                    } else {
                        add(&mut self.pending, &s);
                        self.pending_active += 1;
                    }
                }
            }
            Window::Hit(s) => {
                let o = self.open.get_or_insert(OpenStretch {
                    start,
                    end,
                    sums: [0.0; 3],
                    hits: 0,
                    active: 0,
                });
                add(&mut o.sums, &self.pending);
                add(&mut o.sums, &s);
                o.active += self.pending_active + 1;
                o.hits += 1;
                o.end = end;
                self.pending = [0.0; 3];
                self.pending_active = 0;
                self.misses = 0;
            }
        }
    }
    fn close(&mut self, value: fn(&[f64; 3]) -> f64) {
        if let Some(o) = self.open.take() {
            if self.out.len() < MAX_LISTED {
                self.out.push(Stretch {
                    start_frame: o.start,
                    end_frame: o.end,
                    value: value(&o.sums),
                    hit_percent: 100.0 * o.hits as f64 / o.active.max(1) as f64,
                });
            } else {
                self.dropped += 1;
            }
        }
        self.pending = [0.0; 3];
        self.pending_active = 0;
        self.misses = 0;
    }
}

fn add(a: &mut [f64; 3], b: &[f64; 3]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Correlation of `[Σxy, Σx², Σy²]`.
fn correlation(s: &[f64; 3]) -> f64 {
    let d = (s[1] * s[2]).sqrt();
    if d > 0.0 {
        (s[0] / d).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Energy above the band relative to below, dB, of `[Σhigh, Σall, _]`.
fn above_band_db(s: &[f64; 3]) -> f64 {
    let low = (s[1] - s[0]).max(s[1] * 1e-12).max(1e-300);
    ratio_db(s[0].max(1e-300), low)
}

fn ratio_db(num: f64, den: f64) -> f64 {
    (10.0 * (num / den).log10()).clamp(-200.0, 200.0)
}

/// Sum of squares, in `f32` lanes per chunk (vectorisable), `f64` total.
fn sum_sq(x: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for chunk in x.chunks(4096) {
        let mut lanes = [0.0f32; 8];
        let mut it = chunk.chunks_exact(8);
        for v in &mut it {
            for l in 0..8 {
                let s = if v[l].is_finite() { v[l] } else { 0.0 };
                lanes[l] += s * s;
            }
        }
        for &v in it.remainder() {
            let s = if v.is_finite() { v } else { 0.0 };
            lanes[0] += s * s;
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}

/// Sum of products, as [`sum_sq`].
fn sum_xy(x: &[f32], y: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for (cx, cy) in x.chunks(4096).zip(y.chunks(4096)) {
        let mut lanes = [0.0f32; 8];
        let mut ix = cx.chunks_exact(8);
        let mut iy = cy.chunks_exact(8);
        for (a, b) in (&mut ix).zip(&mut iy) {
            for l in 0..8 {
                let p = a[l] * b[l];
                lanes[l] += if p.is_finite() { p } else { 0.0 };
            }
        }
        for (&a, &b) in ix.remainder().iter().zip(iy.remainder()) {
            let p = a * b;
            lanes[0] += if p.is_finite() { p } else { 0.0 };
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}

#[derive(Debug, Clone)]
struct ChannelState {
    peak: f32,
    /// Start frame of the open zero run, and the RMS of its leading edge once known.
    run_start: Option<u64>,
    run_before: Option<f64>,
    /// A finished run waiting for its trailing edge: (start, end, before, Σx², samples).
    pending: Option<(u64, u64, f64, f64, usize)>,
    /// The last `edge` samples of the previous block.
    tail: Vec<f32>,
    /// Energy of the current window.
    win_energy: f64,
    dropouts: Vec<Dropout>,
    dropped: u64,
}

#[derive(Debug, Clone)]
struct PairState {
    left: usize,
    right: usize,
    /// Whole-programme Σxy, Σx², Σy².
    total: [f64; 3],
    /// Over active windows.
    active: [f64; 3],
    active_windows: u64,
    /// Current window Σxy.
    win_xy: f64,
    identical: bool,
    tracker: StretchTracker,
}

#[derive(Debug, Clone)]
struct BandState {
    channel: usize,
    filter: HighPass4,
    /// Whole-programme [Σhigh, Σall] (of the decimated signal).
    total: [f64; 2],
    win: [f64; 2],
    track: bool,
    tracker: StretchTracker,
}

/// The streaming integrity scan. Push the same planar blocks as the meter (any block size: the
/// results do not depend on it), then [`IntegrityScanner::finish`].
#[derive(Debug, Clone)]
pub struct IntegrityScanner {
    rate: u32,
    frames: u64,
    ch: Vec<ChannelState>,
    pairs: Vec<PairState>,
    lfe: Option<BandState>,
    centre: Option<BandState>,
    /// Indices of L, R, C, Ls, Rs for the BS.775 downmix.
    five: Option<[usize; 5]>,
    /// [ΣLo² + ΣRo², reference power].
    downmix: [f64; 2],
    window: u64,
    /// Frames into the current window.
    win_pos: u64,
    edge: usize,
    min_run: u64,
    edge_level_ms: f64,
    active_ms: f64,
    neg_corr: f64,
    full_band_ratio: f64,
    bridge: u64,
}

impl IntegrityScanner {
    /// A scanner for a stream of `map.len()` channels at `rate_hz`.
    pub fn new(rate_hz: u32, map: &ChannelMap, cfg: &IntegrityConfig) -> IntegrityScanner {
        let rate = f64::from(rate_hz.max(1));
        let find = |p: Position| map.positions.iter().position(|&q| q == p);
        let window = ((cfg.window_s.max(0.001) * rate).round() as u64).max(1);
        let edge = ((cfg.dropout_edge_s.max(0.0) * rate).round() as usize).clamp(1, 1 << 16);
        let band = |c: usize, track: bool| BandState {
            channel: c,
            filter: HighPass4::new(rate_hz, LFE_SPLIT_HZ),
            total: [0.0; 2],
            win: [0.0; 2],
            track,
            tracker: StretchTracker::default(),
        };
        let five = (|| {
            Some([
                find(Position::L)?,
                find(Position::R)?,
                find(Position::C)?,
                find(Position::Ls)?,
                find(Position::Rs)?,
            ])
        })();
        IntegrityScanner {
            rate: rate_hz,
            frames: 0,
            ch: vec![
                ChannelState {
                    peak: 0.0,
                    run_start: None,
                    run_before: None,
                    pending: None,
                    tail: Vec::new(),
                    win_energy: 0.0,
                    dropouts: Vec::new(),
                    dropped: 0,
                };
                map.len()
            ],
            pairs: PAIRS
                .iter()
                .filter_map(|&(l, r)| {
                    Some(PairState {
                        left: find(l)?,
                        right: find(r)?,
                        total: [0.0; 3],
                        active: [0.0; 3],
                        active_windows: 0,
                        win_xy: 0.0,
                        identical: true,
                        tracker: StretchTracker::default(),
                    })
                })
                .collect(),
            lfe: find(Position::Lfe).map(|c| band(c, true)),
            centre: find(Position::C).map(|c| band(c, false)),
            five,
            downmix: [0.0; 2],
            window,
            win_pos: 0,
            edge,
            min_run: ((cfg.dropout_min_s.max(0.0) * rate).round() as u64).max(1),
            edge_level_ms: db_to_amplitude(cfg.dropout_edge_dbfs).powi(2),
            active_ms: db_to_amplitude(cfg.active_dbfs).powi(2),
            neg_corr: cfg.negative_window_correlation,
            full_band_ratio: 10f64.powf(cfg.full_band_window_db / 10.0),
            bridge: (cfg.bridge_s.max(0.0) * rate / window as f64).round() as u64,
        }
    }

    /// Scan one planar block (one slice per channel, equal lengths; extra channels or frames
    /// beyond the shortest slice are ignored).
    pub fn push_planar(&mut self, block: &[&[f32]]) {
        if block.len() < self.ch.len() {
            return;
        }
        let frames = block.iter().map(|c| c.len()).min().unwrap_or(0);
        let block: Vec<&[f32]> = block.iter().map(|c| &c[..frames]).collect();
        self.dropouts(&block);
        let mut i = 0;
        while i < frames {
            let n = ((self.window - self.win_pos) as usize).min(frames - i);
            self.accumulate(&block, i, i + n);
            self.win_pos += n as u64;
            i += n;
            if self.win_pos == self.window {
                self.close_window(self.frames + i as u64);
            }
        }
        self.frames += frames as u64;
    }

    /// Window sums over `block[..][a..b]`.
    fn accumulate(&mut self, block: &[&[f32]], a: usize, b: usize) {
        for (st, x) in self.ch.iter_mut().zip(block) {
            let x = &x[a..b];
            st.win_energy += sum_sq(x);
            st.peak = st.peak.max(peak(x));
        }
        for p in self.pairs.iter_mut() {
            let (x, y) = (&block[p.left][a..b], &block[p.right][a..b]);
            p.win_xy += sum_xy(x, y);
            if p.identical && x != y {
                p.identical = false;
            }
        }
        for b_st in [self.lfe.as_mut(), self.centre.as_mut()]
            .into_iter()
            .flatten()
        {
            let [h, all] = b_st.filter.energy(&block[b_st.channel][a..b]);
            b_st.win[0] += h;
            b_st.win[1] += all;
        }
        if let Some([l, r, c, ls, rs]) = self.five {
            let g = BS775_DOWNMIX_GAIN;
            let (bl, br, bc, bls, brs) = (
                &block[l][a..b],
                &block[r][a..b],
                &block[c][a..b],
                &block[ls][a..b],
                &block[rs][a..b],
            );
            // f32 lanes of 8 per 4096 samples (vectorisable), f64 total.
            let mut k0 = 0;
            while k0 < bl.len() {
                let k1 = (k0 + 4096).min(bl.len());
                let mut e = [0.0f32; 8];
                for k in k0..k1 {
                    let cc = g * bc[k];
                    let lo = bl[k] + cc + g * bls[k];
                    let ro = br[k] + cc + g * brs[k];
                    let v = lo * lo + ro * ro;
                    e[k % 8] += if v.is_finite() { v } else { 0.0 };
                }
                self.downmix[0] += e.iter().map(|&v| f64::from(v)).sum::<f64>();
                k0 = k1;
            }
        }
    }

    /// The window ending at frame `end` is complete.
    fn close_window(&mut self, end: u64) {
        let start = end - self.win_pos;
        let n = self.win_pos as f64;
        self.win_pos = 0;
        let active = |e: f64| e / n >= self.active_ms;
        for p in self.pairs.iter_mut() {
            let (ex, ey) = (self.ch[p.left].win_energy, self.ch[p.right].win_energy);
            let s = [std::mem::take(&mut p.win_xy), ex, ey];
            add(&mut p.total, &s);
            let w = if active(ex) && active(ey) {
                add(&mut p.active, &s);
                p.active_windows += 1;
                if correlation(&s) < self.neg_corr {
                    Window::Hit(s)
                } else {
                    Window::Miss(s)
                }
            } else {
                Window::Inactive
            };
            p.tracker.push(w, start, end, self.bridge, correlation);
        }
        for b in [self.lfe.as_mut(), self.centre.as_mut()]
            .into_iter()
            .flatten()
        {
            let [high, all] = std::mem::take(&mut b.win);
            b.total[0] += high;
            b.total[1] += all;
            if b.track {
                let s = [high, all, 0.0];
                // Block means of `dec` samples: Σ over n/dec of mean², × dec ≈ Σx².
                let w = if !active(all * b.filter.dec as f64) {
                    Window::Inactive
                } else if high >= self.full_band_ratio * (all - high).max(0.0) {
                    Window::Hit(s)
                } else {
                    Window::Miss(s)
                };
                b.tracker.push(w, start, end, self.bridge, above_band_db);
            }
        }
        if let Some([l, r, c, ls, rs]) = self.five {
            let e = |i: usize| self.ch[i].win_energy;
            self.downmix[1] += e(l) + e(r) + e(c) + 0.5 * (e(ls) + e(rs));
        }
        for st in self.ch.iter_mut() {
            st.win_energy = 0.0;
        }
    }

    /// Zero runs of every channel in this block.
    fn dropouts(&mut self, block: &[&[f32]]) {
        let base = self.frames;
        let (edge, min_run, lvl) = (self.edge, self.min_run, self.edge_level_ms);
        for (c, (st, x)) in self.ch.iter_mut().zip(block).enumerate() {
            let x: &[f32] = x;
            // Finish a pending trailing edge first.
            if let Some((s, e, before, mut acc, mut got)) = st.pending.take() {
                let take = (edge - got).min(x.len());
                acc += sum_sq(&x[..take]);
                got += take;
                if got < edge {
                    st.pending = Some((s, e, before, acc, got));
                } else {
                    keep_dropout(st, c, s, e, before, acc / edge as f64, lvl);
                }
            }
            let zeros = x.iter().filter(|&&v| v == 0.0).count();
            if zeros == 0 {
                if let Some(s) = st.run_start.take() {
                    end_run(st, c, s, base, x, 0, edge, min_run, lvl);
                }
            } else {
                for (i, &v) in x.iter().enumerate() {
                    let f = base + i as u64;
                    if v == 0.0 {
                        if st.run_start.is_none() {
                            st.run_start = Some(f);
                            st.run_before = None;
                        }
                    } else if let Some(s) = st.run_start.take() {
                        end_run(st, c, s, f, x, i, edge, min_run, lvl);
                    }
                }
            }
            // A run still open and long enough: measure its leading edge before the block
            // (and the tail of the one before) is gone.
            if let (Some(s), None) = (st.run_start, st.run_before) {
                st.run_before = leading_edge(&st.tail, x, base, s, edge);
            }
            // Keep the last `edge` samples, across short blocks too.
            if x.len() >= edge {
                st.tail.clear();
                st.tail.extend_from_slice(&x[x.len() - edge..]);
            } else {
                st.tail.extend_from_slice(x);
                let extra = st.tail.len().saturating_sub(edge);
                st.tail.drain(..extra);
            }
        }
    }

    /// Finish the scan (a zero run still open at the end is tail silence).
    pub fn finish(mut self) -> IntegrityObservations {
        if self.win_pos > 0 {
            self.close_window(self.frames);
        }
        let lvl = self.edge_level_ms;
        for (c, st) in self.ch.iter_mut().enumerate() {
            if let Some((s, e, before, acc, got)) = st.pending.take() {
                // The file ended inside the trailing edge: judge what there is.
                if got > 0 {
                    keep_dropout(st, c, s, e, before, acc / got as f64, lvl);
                }
            }
        }
        let pairs = self
            .pairs
            .iter_mut()
            .map(|p| {
                p.tracker.close(correlation);
                let power = p.total[1] + p.total[2];
                let silent = power <= 0.0;
                let sum = power + 2.0 * p.total[0];
                let diff = (power - 2.0 * p.total[0]).max(0.0);
                PairObservation {
                    left: p.left,
                    right: p.right,
                    correlation: (p.active_windows > 0).then(|| correlation(&p.active)),
                    active_s: (p.active_windows * self.window) as f64 / f64::from(self.rate),
                    downmix_gain_db: (!silent).then(|| ratio_db(sum.max(0.0), power)),
                    difference_db: (!silent).then(|| {
                        if p.identical {
                            -200.0
                        } else {
                            ratio_db(diff, power)
                        }
                    }),
                    bit_identical: p.identical && !silent,
                    negative: std::mem::take(&mut p.tracker.out),
                    negative_dropped: p.tracker.dropped,
                }
            })
            .collect();
        let band = |b: Option<BandState>| {
            b.map(|mut b| {
                b.tracker.close(above_band_db);
                BandObservation {
                    channel: b.channel,
                    above_band_db: (b.total[1] > 0.0)
                        .then(|| above_band_db(&[b.total[0], b.total[1], 0.0])),
                    full_band: b.tracker.out,
                    full_band_dropped: b.tracker.dropped,
                }
            })
        };
        IntegrityObservations {
            sample_rate_hz: self.rate,
            frames: self.frames,
            peak: self.ch.iter().map(|c| c.peak).collect(),
            dropouts_dropped: self.ch.iter().map(|c| c.dropped).sum(),
            dropouts: self
                .ch
                .iter_mut()
                .flat_map(|c| c.dropouts.drain(..))
                .collect(),
            pairs,
            downmix_51_gain_db: self
                .five
                .filter(|_| self.downmix[1] > 0.0)
                .map(|_| ratio_db(self.downmix[0].max(0.0), self.downmix[1])),
            lfe: band(self.lfe),
            centre: band(self.centre),
        }
    }
}

/// RMS² of the `edge` samples before frame `s` (in this block `x` at `base`, or the previous
/// block's `tail`). `None` when the run starts the stream.
fn leading_edge(tail: &[f32], x: &[f32], base: u64, s: u64, edge: usize) -> Option<f64> {
    if s == 0 {
        return None;
    }
    if s >= base {
        let i = (s - base) as usize;
        let from_block = &x[i.saturating_sub(edge)..i];
        let need = edge - from_block.len();
        let from_tail = &tail[tail.len().saturating_sub(need)..];
        let n = from_block.len() + from_tail.len();
        Some((sum_sq(from_block) + sum_sq(from_tail)) / n.max(1) as f64)
    } else {
        // Started before this block: its edge was measured then (or the run is too old to
        // matter); treat as unknown.
        None
    }
}

/// A zero run `[s, f)` ended at index `i` of block `x` (frame `f`).
#[allow(clippy::too_many_arguments)]
fn end_run(
    st: &mut ChannelState,
    c: usize,
    s: u64,
    f: u64,
    x: &[f32],
    i: usize,
    edge: usize,
    min_run: u64,
    lvl: f64,
) {
    let before = st.run_before.take();
    if f - s < min_run || s == 0 {
        return;
    }
    let base = f - i as u64;
    let before = match before {
        Some(b) => b,
        None => match leading_edge(&st.tail, x, base, s, edge) {
            Some(b) => b,
            None => return,
        },
    };
    let avail = &x[i..(i + edge).min(x.len())];
    let acc = sum_sq(avail);
    if avail.len() < edge {
        st.pending = Some((s, f, before, acc, avail.len()));
    } else {
        keep_dropout(st, c, s, f, before, acc / edge as f64, lvl);
    }
}

fn keep_dropout(
    st: &mut ChannelState,
    c: usize,
    s: u64,
    e: u64,
    before: f64,
    after: f64,
    lvl: f64,
) {
    if before < lvl || after < lvl {
        return;
    }
    if st.dropouts.len() < MAX_LISTED {
        let db = |ms: f64| 10.0 * ms.max(1e-30).log10();
        st.dropouts.push(Dropout {
            channel: c,
            start_frame: s,
            end_frame: e,
            before_dbfs: db(before),
            after_dbfs: db(after),
        });
    } else {
        st.dropped += 1;
    }
}
