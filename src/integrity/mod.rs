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
//!   the cut) are not. Blocks are searched for zeros 16 samples at a time (vectorised).
//! - **Pairs** (L/R, Ls/Rs, Lss/Rss, Lrs/Rrs): per 50 ms window the correlation coefficient
//!   `Σxy / √(Σx²·Σy²)` over windows where both channels are active; stretches where it stays
//!   negative ([`Stretch`]), the whole-programme correlation over active windows, the
//!   stereo → mono downmix gain `10·log10(Σ(x+y)² / (Σx² + Σy²))` (0 dB for uncorrelated
//!   channels, +3 dB for identical ones, −∞ for a polarity-inverted copy) and the difference
//!   level `10·log10(Σ(x−y)² / (Σx² + Σy²))` with a bit-identical flag (dual mono).
//! - **5.1 → 2.0 downmix** per ITU-R BS.775-4 Table 2: `Lo = L + 0.7071·C + 0.7071·Ls`,
//!   `Ro = R + 0.7071·C + 0.7071·Rs`; the gain is the downmix power over the power the
//!   downmix would have with uncorrelated channels (`L² + R² + C² + (Ls² + Rs²)/2`), in dB.
//! - **LFE band** (and the centre's, as swap evidence): energy above the LFE band (an 8th-order
//!   Butterworth high-pass at [`LFE_SPLIT_HZ`] = 120 Hz, four biquads) against the energy in it
//!   (the rest: Butterworth low- and high-pass of one order are power complementary,
//!   `|H_LP|² + |H_HP|² = 1`), over the programme and as stretches of 50 ms windows where the
//!   LFE is full band. The LFE channel carries up to 120 Hz (ITU-R BS.775-4 §3).
//!
//! Times are frames from the start of the stream. Stretches are on the 50 ms grid: a window
//! belongs to a stretch when the fault covers most of it, so stretch edges are within 25 ms of
//! the fault's (plus the filter's few milliseconds of delay for the LFE band).

use serde::{Deserialize, Serialize};

use crate::channels::{ChannelMap, Position};
use crate::meter::db_to_amplitude;

mod dropout;
mod dsp;
mod lfe;
mod phase;
mod stretch;

pub use lfe::{BAND_RATE_HZ, LFE_BAND_HZ, LFE_SPLIT_HZ};
pub use phase::{BS775_DOWNMIX_GAIN, PAIRS};

use dropout::keep_dropout;
use dsp::{ratio_db, stats};
use lfe::{above_band_db, BandState, HighPass};
use phase::{correlation, downmix_energy, sum_xy, PairState};
use stretch::{add, StretchTracker, Window};

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
            filter: HighPass::new(rate_hz, LFE_SPLIT_HZ),
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

    /// Window sums over `block[..][a..b]`: energy and peak in one pass per channel.
    fn accumulate(&mut self, block: &[&[f32]], a: usize, b: usize) {
        for (st, x) in self.ch.iter_mut().zip(block) {
            let s = stats(&x[a..b]);
            st.win_energy += s.energy;
            st.peak = st.peak.max(s.peak);
        }
        for p in self.pairs.iter_mut() {
            let (x, y) = (&block[p.left][a..b], &block[p.right][a..b]);
            p.win_xy += sum_xy(x, y);
            if p.identical && x != y {
                p.identical = false;
            }
        }
        let at = |c: usize| &block[c][a..b];
        let sums = match (self.lfe.as_mut(), self.centre.as_mut()) {
            (Some(l), Some(c)) => {
                let [sl, sc] = HighPass::energy_pair(
                    &mut l.filter,
                    at(l.channel),
                    &mut c.filter,
                    at(c.channel),
                );
                [Some((l, sl)), Some((c, sc))]
            }
            (l, c) => [l, c].map(|s| {
                s.map(|s| {
                    let e = s.filter.energy(at(s.channel));
                    (s, e)
                })
            }),
        };
        for (b_st, [h, all]) in sums.into_iter().flatten() {
            b_st.win[0] += h;
            b_st.win[1] += all;
        }
        if let Some([l, r, c, ls, rs]) = self.five {
            let at = |i: usize| &block[i][a..b];
            self.downmix[0] += downmix_energy([at(l), at(r), at(c), at(ls), at(rs)]);
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
