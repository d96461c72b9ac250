//! The streaming BS.1770 / EBU R128 meter.
//!
//! Push planar or interleaved `f32` blocks of any size; read live values with
//! [`Meter::snapshot`]; [`Meter::finish`] gives the final [`Measurements`].
//!
//! How it measures (ITU-R BS.1770-5, EBU Tech 3341/3342):
//! - every channel is K-weighted ([`kweight`]) and its squares summed over **10 ms sub-hops**
//!   (`s100/10` frames, `s100 = (rate + 5) / 10` frames per 100 ms as in libebur128), then weighted
//!   by the channel's BS.1770-5 `G` (LFE 0, M±090/M±110 1.41, others 1.0) and summed across
//!   channels;
//! - **momentary** (400 ms) loudness is evaluated every 10 ms for the maximum (Tech 3341 cases
//!   13/14 need ≥ 100 Hz polling), and every 100 ms as a gating block for the integrated value
//!   (blocks of 400 ms with 75 % overlap; BS.1770-5 §2.1);
//! - **short-term** (3 s) loudness is evaluated every 100 ms, both for its maximum and as the 10 Hz
//!   series from which the loudness range is computed (Tech 3342 requires ≥ 10 Hz; libebur128 and
//!   the ebur128 crate sample it at 1 Hz);
//! - **integrated** loudness: absolute gate −70 LKFS, relative gate −10 LU (BS.1770-5 §2.3);
//!   **LRA**: absolute gate −70 LUFS, relative gate −20 LU, P95 − P10 (Tech 3342 §2.3);
//! - **sample and true peak** per channel ([`crate::truepeak`]).
//!
//! Results do not depend on how the input is chunked: the filter runs sample by sample, sub-hop
//! sums are accumulated in stream order, and channel work is independent, so the parallel path
//! (channels split across threads) is bit-identical to the serial one.
//!
//! Non-finite samples (NaN, ±Inf) are counted per channel and measured as 0.0.

pub mod kweight;

use crate::channels::ChannelMap;
use crate::error::{Error, Result};
use crate::truepeak::{oversampling_factor, TruePeak};
use kweight::Lanes;

/// Loudness of a mean-square `energy`: `−0.691 + 10·log10(energy)` (BS.1770-5 eq. 2).
pub fn energy_to_lufs(energy: f64) -> f64 {
    -0.691 + 10.0 * energy.log10()
}

/// Mean square that reads `lufs`.
pub fn lufs_to_energy(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// dB (dBFS / dBTP) → linear amplitude.
pub fn db_to_amplitude(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Linear amplitude → dB (dBFS / dBTP).
pub fn amplitude_to_db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// Absolute gate, LKFS (BS.1770-5 §2.3; Tech 3342 §2.3).
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Relative gate of the integrated loudness, LU (BS.1770-5 §2.3).
pub const RELATIVE_GATE_LU: f64 = -10.0;
/// Relative gate of the loudness range, LU (EBU Tech 3342 §2.3).
pub const LRA_RELATIVE_GATE_LU: f64 = -20.0;
/// Lower percentile of the loudness range (EBU Tech 3342 §2.3).
pub const LRA_LOW_PERCENTILE: f64 = 0.10;
/// Upper percentile of the loudness range (EBU Tech 3342 §2.3).
pub const LRA_HIGH_PERCENTILE: f64 = 0.95;

/// Sub-hops per 100 ms: the meter's 10 ms resolution.
const SUBS_PER_HOP: u64 = 10;
/// Sub-hops in a momentary window / gating block (400 ms).
const SUBS_MOMENTARY: usize = 40;
/// Sub-hops in a short-term window (3 s).
const SUBS_SHORT_TERM: usize = 300;
/// Frames collected before small pushes are processed.
const PENDING_FRAMES: usize = 8192;
/// Blocks smaller than this are not worth splitting across threads.
const PARALLEL_MIN_FRAMES: usize = 4096;

/// Meter options. `#[non_exhaustive]`: build with `MeterConfig::default()` and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MeterConfig {
    /// Measure true peak (default on). Off leaves sample peak only.
    pub true_peak: bool,
    /// Split channels across threads (rayon) for one stream (default on). Results are identical
    /// either way.
    pub parallel: bool,
    /// Record every stretch whose true peak exceeds this level, dBTP (default off).
    pub over_threshold_dbtp: Option<f64>,
    /// Stretches closer than this are merged into one, seconds (default 0.1 s; reports merge
    /// further at their own gap). Also bounds the list at 10 stretches a second.
    pub over_merge_gap_s: f64,
    /// Record the true peak of every 100 ms per channel, for timelines (default off; it costs the
    /// full interpolation of the file, which the search otherwise mostly skips).
    pub true_peak_timeline: bool,
}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            true_peak: true,
            parallel: true,
            over_threshold_dbtp: None,
            over_merge_gap_s: 0.1,
            true_peak_timeline: false,
        }
    }
}

impl MeterConfig {
    /// Measure true peak or not.
    pub fn with_true_peak(mut self, on: bool) -> Self {
        self.true_peak = on;
        self
    }
    /// Use several threads for one stream or not.
    pub fn with_parallel(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }
    /// Record true-peak stretches above `dbtp`, merging those closer than `merge_gap_s`.
    pub fn with_overs(mut self, dbtp: Option<f64>, merge_gap_s: f64) -> Self {
        self.over_threshold_dbtp = dbtp;
        // Bounded: a gap longer than a day merges everything anyway, and `gap × rate` must fit
        // the frame arithmetic (NaN → 0).
        self.over_merge_gap_s = merge_gap_s.clamp(0.0, MAX_OVER_MERGE_GAP_S);
        self
    }
    /// Record the per-channel true peak of every 100 ms.
    pub fn with_true_peak_timeline(mut self, on: bool) -> Self {
        self.true_peak_timeline = on;
        self
    }
}

/// Lanes of one group, by width.
#[derive(Debug, Clone)]
enum AnyLanes {
    /// No channel of the group counts for loudness.
    L0,
    L1(Lanes<1>),
    L2(Lanes<2>),
    L3(Lanes<3>),
    L4(Lanes<4>),
    L5(Lanes<5>),
    L6(Lanes<6>),
    L7(Lanes<7>),
    L8(Lanes<8>),
}

/// A set of channels processed together (on one thread).
#[derive(Debug, Clone)]
struct Group {
    first: usize,
    lanes: AnyLanes,
    tp: Vec<TruePeak>,
    /// Linear sample peak per channel, kept here when there is no true-peak search (which
    /// tracks its own): sample peak is always measured.
    sample_peak: Vec<f32>,
    non_finite: Vec<u64>,
    /// The group's channels (indices from `first`) that have a K-weighting lane, in lane order.
    lanes_of: Vec<usize>,
    /// Completed sub-hop energies of this block, per lane.
    out: Vec<Vec<f64>>,
    scratch: Vec<f32>,
}

impl Group {
    fn new(first: usize, n: usize, rate: u32, config: &MeterConfig, weights: &[f64]) -> Group {
        // Channels that count for loudness get a K-weighting lane; weight-0 channels (LFE,
        // BS.1770-5 Table 3) only get the true-peak search: filtering them would add 0.
        let lanes_of: Vec<usize> = (0..n).filter(|&i| weights[first + i] != 0.0).collect();
        let lanes = match lanes_of.len() {
            0 => AnyLanes::L0,
            1 => AnyLanes::L1(Lanes::default()),
            2 => AnyLanes::L2(Lanes::default()),
            3 => AnyLanes::L3(Lanes::default()),
            4 => AnyLanes::L4(Lanes::default()),
            5 => AnyLanes::L5(Lanes::default()),
            6 => AnyLanes::L6(Lanes::default()),
            7 => AnyLanes::L7(Lanes::default()),
            _ => AnyLanes::L8(Lanes::default()),
        };
        Group {
            first,
            out: vec![Vec::new(); lanes_of.len()],
            lanes_of,
            lanes,
            tp: if config.true_peak {
                (0..n)
                    .map(|_| {
                        let mut tp = TruePeak::new(rate);
                        if let Some(dbtp) = config.over_threshold_dbtp {
                            let gap = (config.over_merge_gap_s * f64::from(rate)) as u64;
                            tp = tp.with_overs(db_to_amplitude(dbtp), gap);
                        }
                        if config.true_peak_timeline {
                            tp = tp.with_timeline(u64::from(rate / 10));
                        }
                        tp
                    })
                    .collect()
            } else {
                Vec::new()
            },
            sample_peak: vec![0.0; n],
            non_finite: vec![0; n],
            scratch: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.non_finite.len()
    }

    /// Process `frames` frames of `input` (all channels), closing a sub-hop at each of `cuts`.
    fn process(
        &mut self,
        ab: &([f64; 5], [f64; 5]),
        input: &[&[f32]],
        cuts: &[usize],
        frames: usize,
    ) {
        let n = self.len();
        let chans = &input[self.first..self.first + n];
        for o in self.out.iter_mut() {
            o.clear();
        }
        macro_rules! run {
            ($lanes:expr, $n:literal) => {{
                let inp: [&[f32]; $n] = std::array::from_fn(|l| chans[self.lanes_of[l]]);
                let mut start = 0;
                for &cut in cuts {
                    $lanes.run(&ab.0, &ab.1, inp, start, cut - start);
                    let e = $lanes.take_energy();
                    for (o, v) in self.out.iter_mut().zip(e) {
                        o.push(v);
                    }
                    start = cut;
                }
                $lanes.run(&ab.0, &ab.1, inp, start, frames - start);
            }};
        }
        match &mut self.lanes {
            AnyLanes::L0 => {}
            AnyLanes::L1(l) => run!(l, 1),
            AnyLanes::L2(l) => run!(l, 2),
            AnyLanes::L3(l) => run!(l, 3),
            AnyLanes::L4(l) => run!(l, 4),
            AnyLanes::L5(l) => run!(l, 5),
            AnyLanes::L6(l) => run!(l, 6),
            AnyLanes::L7(l) => run!(l, 7),
            AnyLanes::L8(l) => run!(l, 8),
        }
        for (i, ch) in chans.iter().enumerate() {
            let ch = &ch[..frames];
            // A branch-free check (vectorises) rather than `all`, which stops at each sample.
            let all_finite = ch
                .chunks(4096)
                .all(|c| c.iter().fold(true, |ok, v| ok & v.is_finite()));
            let clean: &[f32] = if all_finite {
                ch
            } else {
                self.scratch.clear();
                self.scratch
                    .extend(ch.iter().map(|&v| if v.is_finite() { v } else { 0.0 }));
                self.non_finite[i] += ch.iter().filter(|v| !v.is_finite()).count() as u64;
                &self.scratch
            };
            match self.tp.get_mut(i) {
                Some(tp) => tp.process(clean),
                None => {
                    let peak = clean.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    self.sample_peak[i] = self.sample_peak[i].max(peak);
                }
            }
        }
    }
}

/// The longest over-merge gap, seconds (one day: longer merges everything a programme has).
pub const MAX_OVER_MERGE_GAP_S: f64 = 86_400.0;

/// A value that could not be measured, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmeasured {
    /// The field, e.g. `integrated_lufs`.
    pub field: &'static str,
    /// Why it is absent, e.g. "silent: no 400 ms block above the −70 LUFS absolute gate".
    pub reason: String,
}

/// The final (or live) readings of a [`Meter`]. `None` means "not measurable" (silence, or input
/// too short); [`Measurements::unmeasured`] says why.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurements {
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Frames measured.
    pub frames: u64,
    /// Integrated loudness, LUFS (gated, BS.1770-5).
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU (EBU Tech 3342, 10 Hz short-term).
    pub loudness_range_lu: Option<f64>,
    /// Highest momentary loudness, LUFS (polled every 10 ms).
    pub max_momentary_lufs: Option<f64>,
    /// Highest short-term loudness, LUFS (polled every 100 ms).
    pub max_short_term_lufs: Option<f64>,
    /// Highest sample peak over all channels, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Sample peak per channel, dBFS.
    pub sample_peak_per_channel_dbfs: Vec<Option<f64>>,
    /// Highest true peak over all channels, dBTP (None when true peak is off or all silent).
    pub true_peak_dbtp: Option<f64>,
    /// True peak per channel, dBTP.
    pub true_peak_per_channel_dbtp: Vec<Option<f64>>,
    /// Where the highest true peak is, in seconds from the start.
    pub true_peak_at_s: Option<f64>,
    /// The channel (index) of the highest true peak.
    pub true_peak_channel: Option<usize>,
    /// Oversampling factor of the true-peak measurement (4, 2 or 1).
    pub true_peak_oversampling: u32,
    /// Non-finite (NaN/±Inf) samples per channel, measured as 0.0.
    pub non_finite_samples: Vec<u64>,
    /// Why each `None` above is `None`.
    pub unmeasured: Vec<Unmeasured>,
    /// Mean-square energy of every 400 ms gating block (one per 100 ms; block `k` starts at
    /// `k·100 ms`), channel-weighted. The momentary loudness at 10 Hz.
    pub block_energies: Vec<f64>,
    /// Mean-square energy of every 3 s short-term window (one per 100 ms; window `k` starts at
    /// `k·100 ms`). The short-term loudness at 10 Hz.
    pub short_term_energies: Vec<f64>,
    /// True-peak stretches above [`MeterConfig::over_threshold_dbtp`], by start time (empty when
    /// that is off).
    pub true_peak_overs: Vec<TruePeakOver>,
    /// Per channel, the true peak of every 100 ms (linear; empty unless
    /// [`MeterConfig::true_peak_timeline`]). Entry `k` covers `k·100 ms ..(k+1)·100 ms`.
    pub true_peak_timeline: Vec<Vec<f32>>,
}

/// A stretch of one channel whose true peak exceeds the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct TruePeakOver {
    /// Channel index.
    pub channel: usize,
    /// Start, seconds from the start of the stream.
    pub start_s: f64,
    /// End, seconds (exclusive).
    pub end_s: f64,
    /// Where the stretch's maximum is, seconds.
    pub peak_at_s: f64,
    /// The stretch's maximum, dBTP.
    pub peak_dbtp: f64,
}

impl Measurements {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate_hz)
    }
}

/// A streaming BS.1770 meter for one program.
#[derive(Debug, Clone)]
pub struct Meter {
    rate: u32,
    channels: usize,
    weights: Vec<f64>,
    ab: ([f64; 5], [f64; 5]),
    s100: usize,
    /// Frame offsets of the sub-hop ends inside one 100 ms hop.
    sub_ends: [usize; SUBS_PER_HOP as usize],
    groups: Vec<Group>,
    parallel: bool,
    true_peak: bool,
    frames: u64,
    /// Frames into the current 100 ms hop.
    hop_pos: usize,
    subs_done: u64,
    /// Weighted sub-hop energies, the last `SUBS_SHORT_TERM` of them, as a ring.
    ring: Vec<f64>,
    block_energies: Vec<f64>,
    short_term_energies: Vec<f64>,
    max_momentary: f64,
    max_short_term: f64,
    pending: Vec<Vec<f32>>,
    cuts: Vec<usize>,
}

impl Meter {
    /// A meter for `map.len()` channels at `rate_hz`, weighted by `map`.
    pub fn new(rate_hz: u32, map: &ChannelMap, config: &MeterConfig) -> Result<Meter> {
        crate::decode::Limits::check(rate_hz, map.len())?;
        let channels = map.len();
        let s100 = (rate_hz as usize + 5) / 10;
        let sub_ends = std::array::from_fn(|j| (j + 1) * s100 / SUBS_PER_HOP as usize);
        let weights = map.weights();
        let parallel = config.parallel && channels > 1;
        // Two groups when parallel (this is a 2-core target; more groups only add overhead),
        // each at most 8 lanes wide.
        let n_groups = if parallel {
            2.max(channels.div_ceil(8))
        } else {
            channels.div_ceil(8)
        };
        let mut groups = Vec::new();
        let mut first = 0;
        for g in 0..n_groups {
            let n = (channels - first) / (n_groups - g);
            let n = n.clamp(1, 8);
            groups.push(Group::new(first, n, rate_hz, config, &weights));
            first += n;
        }
        debug_assert_eq!(first, channels);
        Ok(Meter {
            rate: rate_hz,
            channels,
            weights,
            ab: kweight::coefficients(f64::from(rate_hz)),
            s100,
            sub_ends,
            groups,
            parallel,
            true_peak: config.true_peak,
            frames: 0,
            hop_pos: 0,
            subs_done: 0,
            ring: vec![0.0; SUBS_SHORT_TERM],
            block_energies: Vec::new(),
            short_term_energies: Vec::new(),
            max_momentary: f64::NEG_INFINITY,
            max_short_term: f64::NEG_INFINITY,
            pending: vec![Vec::new(); channels],
            cuts: Vec::new(),
        })
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.rate
    }

    /// Push planar audio: one slice per channel, all the same length (any length, 0 included).
    pub fn push_planar(&mut self, block: &[&[f32]]) -> Result<()> {
        if block.len() != self.channels {
            return Err(Error::invalid(
                "planar block",
                format!("{} channels", self.channels),
                block.len(),
            ));
        }
        let frames = block[0].len();
        if let Some(bad) = block.iter().find(|c| c.len() != frames) {
            return Err(Error::invalid(
                "planar block",
                format!("every channel {frames} frames long"),
                format!("a channel of {} frames", bad.len()),
            ));
        }
        let mut off = 0;
        // Top up a partly filled pending buffer first, so the stream stays in order.
        if !self.pending[0].is_empty() {
            let take = (PENDING_FRAMES - self.pending[0].len()).min(frames);
            for (p, c) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&c[..take]);
            }
            off = take;
            if self.pending[0].len() == PENDING_FRAMES {
                self.flush_pending();
            }
        }
        let rest = frames - off;
        if rest >= PENDING_FRAMES {
            let chans: Vec<&[f32]> = block.iter().map(|c| &c[off..]).collect();
            self.process(&chans);
        } else if rest > 0 {
            for (p, c) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&c[off..]);
            }
        }
        Ok(())
    }

    /// Push interleaved audio (frames × channels samples).
    pub fn push_interleaved(&mut self, samples: &[f32]) -> Result<()> {
        if !samples.len().is_multiple_of(self.channels) {
            return Err(Error::invalid(
                "interleaved block",
                format!("a multiple of {} samples", self.channels),
                samples.len(),
            ));
        }
        let frames = samples.len() / self.channels;
        let planar: Vec<Vec<f32>> = (0..self.channels)
            .map(|c| {
                samples
                    .iter()
                    .skip(c)
                    .step_by(self.channels)
                    .copied()
                    .collect()
            })
            .collect();
        debug_assert!(planar.iter().all(|p| p.len() == frames));
        let refs: Vec<&[f32]> = planar.iter().map(|p| p.as_slice()).collect();
        self.push_planar(&refs)
    }

    fn flush_pending(&mut self) {
        if self.pending[0].is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let refs: Vec<&[f32]> = pending.iter().map(|p| p.as_slice()).collect();
        self.process(&refs);
        self.pending = pending;
        for p in self.pending.iter_mut() {
            p.clear();
        }
    }

    /// Measure `input` (all channels, equal lengths).
    fn process(&mut self, input: &[&[f32]]) {
        let frames = input[0].len();
        // Where sub-hops end inside this block.
        self.cuts.clear();
        let mut hop_pos = self.hop_pos;
        let mut sub = (self.subs_done % SUBS_PER_HOP) as usize;
        let mut base = 0usize; // block offset of the current hop's start (may be "negative")
        let start_in_hop = hop_pos;
        loop {
            let end_in_hop = self.sub_ends[sub];
            let cut = base + end_in_hop - start_in_hop;
            if cut > frames {
                break;
            }
            self.cuts.push(cut);
            hop_pos = end_in_hop;
            sub += 1;
            if sub == SUBS_PER_HOP as usize {
                sub = 0;
                base += self.s100;
                hop_pos = 0;
            }
        }
        let last_cut = self.cuts.last().copied().unwrap_or(0);
        let new_hop_pos = if self.cuts.is_empty() {
            self.hop_pos + frames
        } else {
            hop_pos + frames - last_cut
        };

        let ab = self.ab;
        let cuts = &self.cuts;
        if self.parallel && frames >= PARALLEL_MIN_FRAMES {
            use rayon::prelude::*;
            self.groups
                .par_iter_mut()
                .for_each(|g| g.process(&ab, input, cuts, frames));
        } else {
            for g in self.groups.iter_mut() {
                g.process(&ab, input, cuts, frames);
            }
        }
        // Merge the groups' sub-hop energies in channel order and advance the windows.
        for j in 0..self.cuts.len() {
            let mut e = 0.0;
            for g in &self.groups {
                for (&k, o) in g.lanes_of.iter().zip(&g.out) {
                    e += self.weights[g.first + k] * o[j];
                }
            }
            self.close_sub_hop(e);
        }
        self.hop_pos = new_hop_pos;
        self.frames += frames as u64;
    }

    fn close_sub_hop(&mut self, weighted_energy: f64) {
        let slot = (self.subs_done % SUBS_SHORT_TERM as u64) as usize;
        self.ring[slot] = weighted_energy;
        self.subs_done += 1;
        let k = self.subs_done;
        if k >= SUBS_MOMENTARY as u64 {
            let m = self.window_sum(SUBS_MOMENTARY) / (4 * self.s100) as f64;
            if m > self.max_momentary {
                self.max_momentary = m;
            }
            if k.is_multiple_of(SUBS_PER_HOP) {
                self.block_energies.push(m);
            }
        }
        if k >= SUBS_SHORT_TERM as u64 && k.is_multiple_of(SUBS_PER_HOP) {
            let s = self.window_sum(SUBS_SHORT_TERM) / (30 * self.s100) as f64;
            if s > self.max_short_term {
                self.max_short_term = s;
            }
            self.short_term_energies.push(s);
        }
    }

    /// Sum of the last `n` sub-hop energies, oldest first.
    fn window_sum(&self, n: usize) -> f64 {
        let k = self.subs_done as usize;
        (k - n..k).map(|i| self.ring[i % SUBS_SHORT_TERM]).sum()
    }

    /// Live readings so far (cheap for short programs; the gating sorts nothing, the LRA does).
    pub fn snapshot(&self) -> Measurements {
        let mut copy = self.clone();
        copy.flush_pending();
        copy.measurements()
    }

    /// Process what is left and return the final readings. An incomplete final 400 ms block is
    /// discarded (BS.1770-5 §2.1).
    pub fn finish(mut self) -> Measurements {
        self.flush_pending();
        self.measurements()
    }

    fn true_peak_overs(&self) -> Vec<TruePeakOver> {
        let rate = f64::from(self.rate);
        let mut overs: Vec<TruePeakOver> = self
            .groups
            .iter()
            .flat_map(|g| {
                g.tp.iter().enumerate().flat_map(move |(i, tp)| {
                    tp.all_overs().into_iter().map(move |o| TruePeakOver {
                        channel: g.first + i,
                        start_s: o.start_frame as f64 / rate,
                        end_s: o.end_frame as f64 / rate,
                        peak_at_s: o.peak_frame as f64 / rate,
                        peak_dbtp: amplitude_to_db(o.peak),
                    })
                })
            })
            .collect();
        overs.sort_by(|a, b| {
            a.start_s
                .total_cmp(&b.start_s)
                .then(a.channel.cmp(&b.channel))
        });
        overs
    }

    fn measurements(&self) -> Measurements {
        let mut unmeasured = Vec::new();
        let mut why = |field: &'static str, reason: &str| {
            unmeasured.push(Unmeasured {
                field,
                reason: reason.to_string(),
            })
        };
        let short_400 = self.subs_done < SUBS_MOMENTARY as u64;
        let short_3s = self.subs_done < SUBS_SHORT_TERM as u64;
        let integrated_lufs = integrated_loudness(&self.block_energies);
        if integrated_lufs.is_none() {
            why(
                "integrated_lufs",
                if short_400 {
                    "input shorter than one 400 ms gating block"
                } else {
                    "silent: no 400 ms block above the -70 LUFS absolute gate"
                },
            );
        }
        let loudness_range_lu = loudness_range(&self.short_term_energies);
        if loudness_range_lu.is_none() {
            why(
                "loudness_range_lu",
                if short_3s {
                    "input shorter than one 3 s short-term window"
                } else {
                    "silent: no short-term window above the -70 LUFS absolute gate"
                },
            );
        }
        let finite_lufs = |e: f64| (e > 0.0 && e.is_finite()).then(|| energy_to_lufs(e));
        let max_momentary_lufs = finite_lufs(self.max_momentary);
        if max_momentary_lufs.is_none() {
            why(
                "max_momentary_lufs",
                if short_400 {
                    "input shorter than one 400 ms window"
                } else {
                    "digital silence"
                },
            );
        }
        let max_short_term_lufs = finite_lufs(self.max_short_term);
        if max_short_term_lufs.is_none() {
            why(
                "max_short_term_lufs",
                if short_3s {
                    "input shorter than one 3 s window"
                } else {
                    "digital silence"
                },
            );
        }
        let db = |x: f64| (x > 0.0).then(|| amplitude_to_db(x));
        let mut sp = Vec::with_capacity(self.channels);
        let mut tp = Vec::with_capacity(self.channels);
        let mut non_finite = Vec::with_capacity(self.channels);
        let mut best: Option<(f64, usize, Option<u64>)> = None;
        for g in &self.groups {
            for i in 0..g.len() {
                non_finite.push(g.non_finite[i]);
                match g.tp.get(i) {
                    Some(m) => {
                        sp.push(db(m.sample_peak()));
                        tp.push(db(m.peak()));
                        if m.peak() > 0.0 && best.is_none_or(|b| m.peak() > b.0) {
                            best = Some((m.peak(), g.first + i, m.peak_frame()));
                        }
                    }
                    None => {
                        sp.push(db(f64::from(g.sample_peak[i])));
                        tp.push(None);
                    }
                }
            }
        }
        let sample_peak_dbfs = sp.iter().flatten().copied().reduce(f64::max);
        if sample_peak_dbfs.is_none() {
            why(
                "sample_peak_dbfs",
                if self.frames == 0 {
                    "no samples"
                } else {
                    "digital silence"
                },
            );
        }
        let true_peak_dbtp = if self.true_peak {
            best.and_then(|b| db(b.0))
        } else {
            None
        };
        if true_peak_dbtp.is_none() {
            why(
                "true_peak_dbtp",
                if !self.true_peak {
                    "true peak measurement is off"
                } else if self.frames == 0 {
                    "no samples"
                } else {
                    "digital silence"
                },
            );
        }
        Measurements {
            sample_rate_hz: self.rate,
            frames: self.frames,
            integrated_lufs,
            loudness_range_lu,
            max_momentary_lufs,
            max_short_term_lufs,
            sample_peak_dbfs,
            sample_peak_per_channel_dbfs: sp,
            true_peak_dbtp,
            true_peak_per_channel_dbtp: if self.true_peak {
                tp
            } else {
                vec![None; self.channels]
            },
            true_peak_at_s: best
                .and_then(|b| b.2)
                .map(|f| f as f64 / f64::from(self.rate)),
            true_peak_channel: best.map(|b| b.1),
            true_peak_oversampling: if self.true_peak {
                oversampling_factor(self.rate)
            } else {
                1
            },
            non_finite_samples: non_finite,
            true_peak_overs: self.true_peak_overs(),
            true_peak_timeline: self
                .groups
                .iter()
                .flat_map(|g| g.tp.iter().map(|tp| tp.timeline().to_vec()))
                .collect(),
            unmeasured,
            block_energies: self.block_energies.clone(),
            short_term_energies: self.short_term_energies.clone(),
        }
    }
}

/// Integrated loudness of gating-block energies: absolute gate −70 LKFS, then relative gate
/// −10 LU below the absolute-gated mean (BS.1770-5 §2.3). `None` when no block passes.
pub fn integrated_loudness(blocks: &[f64]) -> Option<f64> {
    let abs = lufs_to_energy(ABSOLUTE_GATE_LUFS);
    let (n, sum) = blocks
        .iter()
        .filter(|&&e| e > abs)
        .fold((0usize, 0.0), |(n, s), &e| (n + 1, s + e));
    if n == 0 {
        return None;
    }
    let rel = sum / n as f64 * 10f64.powf(RELATIVE_GATE_LU / 10.0);
    let (n, sum) = blocks
        .iter()
        .filter(|&&e| e > abs && e > rel)
        .fold((0usize, 0.0), |(n, s), &e| (n + 1, s + e));
    (n > 0).then(|| energy_to_lufs(sum / n as f64))
}

/// Loudness range of short-term energies (EBU Tech 3342 §2.3): absolute gate −70 LUFS,
/// relative gate −20 LU below the absolute-gated mean, then P95 − P10 of the remaining values
/// (nearest rank, as libebur128). `None` when no window passes the absolute gate.
pub fn loudness_range(short_term: &[f64]) -> Option<f64> {
    let abs = lufs_to_energy(ABSOLUTE_GATE_LUFS);
    let mut gated: Vec<f64> = short_term.iter().copied().filter(|&e| e > abs).collect();
    if gated.is_empty() {
        return None;
    }
    let mean = gated.iter().sum::<f64>() / gated.len() as f64;
    let rel = mean * 10f64.powf(LRA_RELATIVE_GATE_LU / 10.0);
    gated.retain(|&e| e > rel);
    gated.sort_by(f64::total_cmp);
    let last = (gated.len() - 1) as f64;
    let lo = gated[(last * LRA_LOW_PERCENTILE + 0.5) as usize];
    let hi = gated[(last * LRA_HIGH_PERCENTILE + 0.5) as usize];
    Some(energy_to_lufs(hi) - energy_to_lufs(lo))
}
