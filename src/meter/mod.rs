//! The streaming BS.1770 / EBU R128 meter.
//!
//! Push planar or interleaved blocks of any size and sample type ([`Sample`]: `f32`, `f64`,
//! `i16`, `i32`); read live values with the getters ([`Meter::momentary_lufs`],
//! [`Meter::short_term_lufs`], [`Meter::integrated_lufs`], [`Meter::loudness_range_lu`],
//! [`Meter::true_peak_dbtp`]: each costs the same at any program length);
//! [`Meter::finish`] gives the final [`Measurements`].
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
///
/// ```
/// use loudqc::meter::MeterConfig;
/// // Loudness only, on the calling thread (true peak is most of the meter's work).
/// let c = MeterConfig::default().with_true_peak(false).with_parallel(false);
/// assert!(!c.true_peak && c.over_threshold_dbtp.is_none());
/// ```
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
    L4(Lanes<4>),
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
    /// The instruction set [`Group::process`] runs on (found once).
    arch: pulp::Arch,
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
            // 3 channels run in 4 lanes (the last channel again in the spare one, its sum
            // unused): a whole AVX register of f64, which the compiler does not make of 3 lanes.
            // Groups are at most 4 channels wide (see `Meter::build`).
            3 | 4 => AnyLanes::L4(Lanes::default()),
            n => unreachable!("{n} lanes: groups are at most 4 channels wide (Meter::build)"),
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
            arch: pulp::Arch::new(),
        }
    }

    fn len(&self) -> usize {
        self.non_finite.len()
    }

    /// Process `frames` frames of `input` (all channels) from frame `off`, closing a sub-hop at
    /// each of `cuts` (relative to `off`). Compiled for each instruction set pulp knows and
    /// picked at run time, so the K-weighting lanes are one AVX register where the CPU has it
    /// (the same operations, unfused, so the same values; issue 17).
    fn process<C: AsRef<[f32]>>(
        &mut self,
        ab: &([f64; 5], [f64; 5]),
        input: &[C],
        off: usize,
        cuts: &[usize],
        frames: usize,
    ) {
        struct Run<'a, C> {
            group: &'a mut Group,
            ab: &'a ([f64; 5], [f64; 5]),
            input: &'a [C],
            off: usize,
            cuts: &'a [usize],
            frames: usize,
        }
        impl<C: AsRef<[f32]>> pulp::WithSimd for Run<'_, C> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: pulp::Simd>(self, _: S) {
                let Run {
                    group,
                    ab,
                    input,
                    off,
                    cuts,
                    frames,
                } = self;
                group.process_inline(ab, input, off, cuts, frames);
            }
        }
        self.arch.dispatch(Run {
            group: self,
            ab,
            input,
            off,
            cuts,
            frames,
        });
    }

    #[inline(always)]
    fn process_inline<C: AsRef<[f32]>>(
        &mut self,
        ab: &([f64; 5], [f64; 5]),
        input: &[C],
        off: usize,
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
                let last = self.lanes_of.len() - 1;
                let inp: [&[f32]; $n] =
                    std::array::from_fn(|l| &chans[self.lanes_of[l.min(last)]].as_ref()[off..]);
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
            AnyLanes::L4(l) => run!(l, 4),
        }
        for (i, ch) in chans.iter().enumerate() {
            let ch = &ch.as_ref()[off..off + frames];
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
///
/// ```
/// use loudqc::channels::ChannelMap;
/// use loudqc::meter::{Meter, MeterConfig};
/// let mut m = Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default())?;
/// m.push_planar(&[&[0.0f32; 4800][..]])?; // 100 ms of silence
/// let r = m.finish();
/// let why = r.unmeasured.iter().find(|u| u.field == "integrated_lufs").unwrap();
/// assert_eq!(why.reason, "input shorter than one 400 ms gating block");
/// # Ok::<(), loudqc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unmeasured {
    /// The field, e.g. `integrated_lufs`.
    pub field: &'static str,
    /// Why it is absent, e.g. "silent: no 400 ms block above the −70 LUFS absolute gate".
    pub reason: String,
}

/// The final (or live) readings of a [`Meter`]. `None` means "not measurable" (silence, or input
/// too short); [`Measurements::unmeasured`] says why. `#[non_exhaustive]`: readings may be
/// added.
///
/// ```
/// use loudqc::channels::ChannelMap;
/// use loudqc::meter::{Meter, MeterConfig};
/// // 4 s of full-scale square wave at 1 kHz-ish (48 frames up, 48 down), mono.
/// let x: Vec<f32> = (0..192_000).map(|i| if (i / 24) % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// let mut m = Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default())?;
/// m.push_planar(&[&x[..]])?;
/// let r = m.finish();
/// assert_eq!(r.frames, 192_000);
/// assert_eq!(r.sample_peak_dbfs, Some(0.0));
/// assert!(r.true_peak_dbtp.unwrap() > 0.0); // a square overshoots between samples
/// assert_eq!(r.true_peak_oversampling, 4); // 48 kHz: 4× (BS.1770-5 Annex 2)
/// assert_eq!(r.block_energies.len(), 37); // 400 ms blocks every 100 ms
/// # Ok::<(), loudqc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
///
/// ```
/// use loudqc::channels::ChannelMap;
/// use loudqc::meter::{Meter, MeterConfig};
/// let config = MeterConfig::default().with_overs(Some(-1.0), 0.1);
/// let mut m = Meter::new(48_000, &ChannelMap::from_count(1), &config)?;
/// let mut x = vec![0.1f32; 48_000];
/// x[24_000] = 0.99; // one sample at −0.09 dBFS, half a second in
/// m.push_planar(&[&x[..]])?;
/// let overs = m.finish().true_peak_overs;
/// assert_eq!(overs.len(), 1);
/// assert_eq!(overs[0].channel, 0);
/// assert!((overs[0].peak_at_s - 0.5).abs() < 0.001);
/// # Ok::<(), loudqc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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

/// A streaming BS.1770 / EBU R128 meter for one program.
///
/// Push audio of any block size and sample type ([`Sample`]: `f32`, `f64`, `i16`, `i32`),
/// planar or interleaved; read live values with the cheap getters
/// ([`momentary_lufs`](Meter::momentary_lufs), [`short_term_lufs`](Meter::short_term_lufs),
/// [`integrated_lufs`](Meter::integrated_lufs), [`loudness_range_lu`](Meter::loudness_range_lu),
/// [`true_peak_dbtp`](Meter::true_peak_dbtp)); [`finish`](Meter::finish) gives the final
/// [`Measurements`].
///
/// ```
/// use loudqc::channels::ChannelMap;
/// use loudqc::meter::{Meter, MeterConfig};
///
/// // 5 s of a 1 kHz sine at −20 dBFS, stereo, 48 kHz, pushed interleaved in 10 ms blocks.
/// let rate = 48_000;
/// let mut meter = Meter::new(rate, &ChannelMap::from_count(2), &MeterConfig::default())?;
/// let amp = 10f32.powf(-20.0 / 20.0);
/// let mut block = Vec::new();
/// for n in 0..500 {
///     block.clear();
///     for i in 0..480 {
///         let t = (n * 480 + i) as f32 / rate as f32;
///         let v = amp * (2.0 * std::f32::consts::PI * 1000.0 * t).sin();
///         block.extend([v, v]);
///     }
///     meter.push_interleaved(&block)?;
/// }
/// // Live readings: a stereo sine at −20 dBFS reads −20 LUFS (BS.1770 calibrates 0 dBFS 1 kHz
/// // mono to −3.01 LKFS; two channels add 3.01 dB).
/// let m = meter.momentary_lufs().unwrap();
/// assert!((m - -20.0).abs() < 0.05, "{m}");
/// let i = meter.integrated_lufs().unwrap();
/// let result = meter.finish();
/// assert!((result.integrated_lufs.unwrap() - i).abs() < 1e-9);
/// # Ok::<(), loudqc::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Meter {
    rate: u32,
    channels: usize,
    map: ChannelMap,
    config: MeterConfig,
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
    /// `block_energies` above the absolute gate, binned: the live integrated loudness.
    block_hist: GateHistogram,
    /// `short_term_energies` above the absolute gate, binned: the live loudness range.
    short_term_hist: GateHistogram,
    max_momentary: f64,
    max_short_term: f64,
    /// Frames waiting to be measured (less than one sub-hop, or `PENDING_FRAMES`).
    pending: Vec<Vec<f32>>,
    /// Conversion buffer for non-`f32` and interleaved input, reused across pushes.
    convert: Vec<Vec<f32>>,
    cuts: Vec<usize>,
}

/// Frames converted at a time from interleaved or non-`f32` input (bounds the reused buffer).
const CONVERT_FRAMES: usize = 8192;

impl Meter {
    /// A meter for `map.len()` channels at `rate_hz`, weighted by `map`. Fails (an
    /// [`Error`] naming the value) on a rate or channel count outside
    /// [`crate::decode::Limits`].
    ///
    /// ```
    /// use loudqc::channels::ChannelMap;
    /// use loudqc::meter::{Meter, MeterConfig};
    /// let m = Meter::new(44_100, &ChannelMap::from_count(6), &MeterConfig::default())?;
    /// assert_eq!((m.sample_rate_hz(), m.channels()), (44_100, 6));
    /// assert!(Meter::new(0, &ChannelMap::from_count(2), &MeterConfig::default()).is_err());
    /// # Ok::<(), loudqc::Error>(())
    /// ```
    pub fn new(rate_hz: u32, map: &ChannelMap, config: &MeterConfig) -> Result<Meter> {
        crate::decode::Limits::check(rate_hz, map.len())?;
        Ok(Meter::build(rate_hz, map, config))
    }

    /// The meter of validated parameters.
    fn build(rate_hz: u32, map: &ChannelMap, config: &MeterConfig) -> Meter {
        let channels = map.len();
        let s100 = (rate_hz as usize + 5) / 10;
        let sub_ends = std::array::from_fn(|j| (j + 1) * s100 / SUBS_PER_HOP as usize);
        let weights = map.weights();
        let parallel = config.parallel && channels > 1;
        // Two groups when parallel (this is a 2-core target; more groups only add overhead),
        // each at most 4 channels wide: 8 lanes of f64 (one AVX-512 register) cost far more
        // than two groups of 4 (a `--no-dialog` check of 2 minutes of 7.1.4: 0.71 CPU-s in
        // groups of 6, 0.37 in groups of 4; issue 17).
        let n_groups = if parallel {
            2.max(channels.div_ceil(4))
        } else {
            channels.div_ceil(4)
        };
        let mut groups = Vec::new();
        let mut first = 0;
        for g in 0..n_groups {
            let n = (channels - first) / (n_groups - g);
            let n = n.clamp(1, 4);
            groups.push(Group::new(first, n, rate_hz, config, &weights));
            first += n;
        }
        debug_assert_eq!(first, channels);
        Meter {
            rate: rate_hz,
            channels,
            map: map.clone(),
            config: config.clone(),
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
            block_hist: GateHistogram::new(),
            short_term_hist: GateHistogram::new(),
            max_momentary: f64::NEG_INFINITY,
            max_short_term: f64::NEG_INFINITY,
            pending: vec![Vec::new(); channels],
            convert: vec![Vec::new(); channels],
            cuts: Vec::new(),
        }
    }

    /// Start again from silence, as a new meter with the same rate, channel map and options
    /// (everything measured so far is dropped).
    ///
    /// ```
    /// use loudqc::channels::ChannelMap;
    /// use loudqc::meter::{Meter, MeterConfig};
    /// let mut m = Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default())?;
    /// m.push_planar(&[&[0.5f32; 48_000][..]])?;
    /// assert!(m.integrated_lufs().is_some());
    /// m.reset();
    /// assert_eq!((m.frames(), m.integrated_lufs()), (0, None));
    /// # Ok::<(), loudqc::Error>(())
    /// ```
    pub fn reset(&mut self) {
        *self = Meter::build(self.rate, &self.map, &self.config);
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.rate
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u64 {
        self.frames + self.pending[0].len() as u64
    }

    /// Push planar audio: one slice per channel, all the same length (any length, 0 included).
    /// `f32` is measured in place; other sample types are converted through a buffer the meter
    /// keeps, so a push allocates nothing once the meter is warm.
    ///
    /// ```
    /// use loudqc::channels::ChannelMap;
    /// use loudqc::meter::{Meter, MeterConfig};
    /// let mut m = Meter::new(48_000, &ChannelMap::from_count(2), &MeterConfig::default())?;
    /// let left = vec![8192i16; 4800];
    /// let right = vec![-8192i16; 4800];
    /// m.push_planar(&[&left[..], &right[..]])?;
    /// // A channel of a different length is an error, not a panic.
    /// assert!(m.push_planar(&[&left[..], &right[..10]]).is_err());
    /// # Ok::<(), loudqc::Error>(())
    /// ```
    pub fn push_planar<S: Sample>(&mut self, block: &[&[S]]) -> Result<()> {
        if block.len() != self.channels {
            return Err(Error::invalid(
                "planar block",
                format!("{} channels", self.channels),
                block.len(),
            ));
        }
        let frames = block.first().map_or(0, |c| c.len());
        if let Some(bad) = block.iter().find(|c| c.len() != frames) {
            return Err(Error::invalid(
                "planar block",
                format!("every channel {frames} frames long"),
                format!("a channel of {} frames", bad.len()),
            ));
        }
        if let Some(f) = S::planar_f32(block) {
            self.push_f32(f);
            return Ok(());
        }
        let mut convert = std::mem::take(&mut self.convert);
        let mut start = 0;
        while start < frames {
            let end = (start + CONVERT_FRAMES).min(frames);
            for (dst, src) in convert.iter_mut().zip(block) {
                dst.clear();
                dst.extend(src[start..end].iter().map(|&s| s.to_f32()));
            }
            self.push_f32(&convert);
            start = end;
        }
        self.convert = convert;
        Ok(())
    }

    /// Push interleaved audio (frames × channels samples, frame by frame), converted through a
    /// buffer the meter keeps, so a push allocates nothing once the meter is warm.
    ///
    /// ```
    /// use loudqc::channels::ChannelMap;
    /// use loudqc::meter::{Meter, MeterConfig};
    /// let mut m = Meter::new(48_000, &ChannelMap::from_count(2), &MeterConfig::default())?;
    /// m.push_interleaved(&[0.25f64, -0.25, 0.5, -0.5])?; // two frames
    /// assert_eq!(m.frames(), 2);
    /// assert!(m.push_interleaved(&[0i32; 3]).is_err()); // not a whole number of frames
    /// # Ok::<(), loudqc::Error>(())
    /// ```
    pub fn push_interleaved<S: Sample>(&mut self, samples: &[S]) -> Result<()> {
        if !samples.len().is_multiple_of(self.channels) {
            return Err(Error::invalid(
                "interleaved block",
                format!("a multiple of {} samples", self.channels),
                samples.len(),
            ));
        }
        let ch = self.channels;
        let mut convert = std::mem::take(&mut self.convert);
        for chunk in samples.chunks(CONVERT_FRAMES * ch) {
            for (c, dst) in convert.iter_mut().enumerate() {
                dst.clear();
                dst.extend(chunk[c..].iter().step_by(ch).map(|&s| s.to_f32()));
            }
            self.push_f32(&convert);
        }
        self.convert = convert;
        Ok(())
    }

    /// Frames from the current position to the end of the current 10 ms sub-hop.
    fn frames_to_sub_end(&self) -> usize {
        let sub = (self.subs_done % SUBS_PER_HOP) as usize;
        self.sub_ends[sub] - self.hop_pos
    }

    /// Measure the pending frames once they complete a sub-hop (so the live values are never
    /// more than 10 ms behind the input) or fill the buffer.
    fn flush_pending_if_due(&mut self) {
        let n = self.pending[0].len();
        if n >= PENDING_FRAMES || n >= self.frames_to_sub_end() {
            self.flush_pending();
        }
    }

    /// Push validated planar `f32` audio (equal lengths).
    fn push_f32<C: AsRef<[f32]> + Sync>(&mut self, block: &[C]) {
        let frames = block[0].as_ref().len();
        let mut off = 0;
        // Top up a partly filled pending buffer first, so the stream stays in order.
        if !self.pending[0].is_empty() {
            let take = (PENDING_FRAMES - self.pending[0].len()).min(frames);
            for (p, c) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&c.as_ref()[..take]);
            }
            off = take;
            self.flush_pending_if_due();
        }
        let rest = frames - off;
        if rest >= PENDING_FRAMES {
            self.process(block, off);
        } else if rest > 0 {
            for (p, c) in self.pending.iter_mut().zip(block) {
                p.extend_from_slice(&c.as_ref()[off..]);
            }
            self.flush_pending_if_due();
        }
    }

    fn flush_pending(&mut self) {
        if self.pending[0].is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        self.process(&pending, 0);
        for p in pending.iter_mut() {
            p.clear();
        }
        self.pending = pending;
    }

    /// Measure `input` (all channels, equal lengths) from frame `off`.
    fn process<C: AsRef<[f32]> + Sync>(&mut self, input: &[C], off: usize) {
        let frames = input[0].as_ref().len() - off;
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
                .for_each(|g| g.process(&ab, input, off, cuts, frames));
        } else {
            for g in self.groups.iter_mut() {
                g.process(&ab, input, off, cuts, frames);
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
                self.block_hist.insert(m);
            }
        }
        if k >= SUBS_SHORT_TERM as u64 && k.is_multiple_of(SUBS_PER_HOP) {
            let s = self.window_sum(SUBS_SHORT_TERM) / (30 * self.s100) as f64;
            if s > self.max_short_term {
                self.max_short_term = s;
            }
            self.short_term_energies.push(s);
            self.short_term_hist.insert(s);
        }
    }

    /// Sum of the last `n` sub-hop energies, oldest first.
    fn window_sum(&self, n: usize) -> f64 {
        let k = self.subs_done as usize;
        (k - n..k).map(|i| self.ring[i % SUBS_SHORT_TERM]).sum()
    }

    /// Momentary loudness now (the last 400 ms, to the last completed 10 ms), LUFS. `None`
    /// before 400 ms of input, or when those 400 ms are digital silence. A sum of 40 values.
    pub fn momentary_lufs(&self) -> Option<f64> {
        (self.subs_done >= SUBS_MOMENTARY as u64)
            .then(|| self.window_sum(SUBS_MOMENTARY) / (4 * self.s100) as f64)
            .filter(|&e| e > 0.0)
            .map(energy_to_lufs)
    }

    /// Short-term loudness now (the last 3 s, to the last completed 10 ms), LUFS. `None` before
    /// 3 s of input, or when those 3 s are digital silence. A sum of 300 values.
    pub fn short_term_lufs(&self) -> Option<f64> {
        (self.subs_done >= SUBS_SHORT_TERM as u64)
            .then(|| self.window_sum(SUBS_SHORT_TERM) / (30 * self.s100) as f64)
            .filter(|&e| e > 0.0)
            .map(energy_to_lufs)
    }

    /// Integrated loudness so far (gated, BS.1770-5 §2.3), LUFS; `None` while no 400 ms block
    /// passes the absolute gate. Read from a gating histogram (1001 bins of 0.1 LU that keep
    /// their values): a poll costs the same at any program length, and gives the value
    /// [`finish`](Meter::finish) would give at this point, to within floating-point rounding
    /// (the same blocks pass both gates; only the order of the final sum differs).
    pub fn integrated_lufs(&self) -> Option<f64> {
        self.block_hist.integrated_lufs()
    }

    /// Loudness range so far (EBU Tech 3342, 10 Hz short-term), LU; `None` while no 3 s window
    /// passes the absolute gate. Read from a gating histogram whose bins keep their values, so
    /// the percentiles are the exact nearest-rank values [`finish`](Meter::finish) picks; a
    /// poll scans the 1001 bin counts and sorts the values of at most two bins.
    pub fn loudness_range_lu(&self) -> Option<f64> {
        self.short_term_hist.loudness_range_lu()
    }

    /// Highest momentary loudness so far (polled every 10 ms), LUFS; `None` as in
    /// [`Measurements::max_momentary_lufs`].
    pub fn max_momentary_lufs(&self) -> Option<f64> {
        (self.max_momentary > 0.0 && self.max_momentary.is_finite())
            .then(|| energy_to_lufs(self.max_momentary))
    }

    /// Highest short-term loudness so far (polled every 100 ms), LUFS.
    pub fn max_short_term_lufs(&self) -> Option<f64> {
        (self.max_short_term > 0.0 && self.max_short_term.is_finite())
            .then(|| energy_to_lufs(self.max_short_term))
    }

    /// The true-peak meter of `channel`, if it exists and true peak is on.
    fn tp_of(&self, channel: usize) -> Option<&TruePeak> {
        self.groups
            .iter()
            .find(|g| channel >= g.first && channel < g.first + g.len())
            .and_then(|g| g.tp.get(channel - g.first))
    }

    /// True peak of `channel` so far (to the last completed 10 ms), dBTP. `None` when the
    /// channel does not exist, true peak is off ([`MeterConfig::true_peak`]) or the channel
    /// has been digital silence.
    ///
    /// ```
    /// use loudqc::channels::ChannelMap;
    /// use loudqc::meter::{Meter, MeterConfig};
    /// let mut m = Meter::new(48_000, &ChannelMap::from_count(2), &MeterConfig::default())?;
    /// m.push_planar(&[&[0.5f32; 4800][..], &[0.0f32; 4800][..]])?;
    /// let tp = m.true_peak_dbtp(0).unwrap();
    /// // DC at 0.5 (−6.02 dBFS): the step from silence rings about 1 dB over it.
    /// assert!((-6.1..-4.5).contains(&tp), "{tp}");
    /// assert_eq!((m.true_peak_dbtp(1), m.true_peak_dbtp(2)), (None, None));
    /// # Ok::<(), loudqc::Error>(())
    /// ```
    pub fn true_peak_dbtp(&self, channel: usize) -> Option<f64> {
        self.tp_of(channel)
            .map(|tp| tp.peak())
            .filter(|&p| p > 0.0)
            .map(amplitude_to_db)
    }

    /// Sample peak of `channel` so far, dBFS (needs [`MeterConfig::true_peak`], whose search
    /// keeps it); `None` as for [`true_peak_dbtp`](Meter::true_peak_dbtp).
    pub fn sample_peak_dbfs(&self, channel: usize) -> Option<f64> {
        self.tp_of(channel)
            .map(|tp| tp.sample_peak())
            .filter(|&p| p > 0.0)
            .map(amplitude_to_db)
    }

    /// All readings so far, as [`Measurements`]. This clones the meter and sorts for the
    /// loudness range: for polling, prefer the getters above.
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

/// A sample type the meter takes, full scale = 1.0: `f32` (measured in place), `f64` (measured
/// at `f32` precision, as decoded audio is), `i16` (÷ 32768) and `i32` (÷ 2³¹), the scaling
/// of libebur128 and the `ebur128` crate. Sealed: the meter's arithmetic is defined for these.
///
/// ```
/// use loudqc::meter::Sample;
/// assert_eq!(i16::MIN.to_f32(), -1.0);
/// assert_eq!(16384i16.to_f32(), 0.5);
/// assert_eq!((1i32 << 30).to_f32(), 0.5);
/// assert_eq!(0.25f64.to_f32(), 0.25);
/// ```
pub trait Sample: Copy + Send + Sync + sealed::Sealed + 'static {
    /// The sample as `f32`, full scale = 1.0.
    fn to_f32(self) -> f32;
    /// The block itself when it already is `f32` (measured without a copy).
    #[doc(hidden)]
    fn planar_f32<'a>(_block: &'a [&'a [Self]]) -> Option<&'a [&'a [f32]]> {
        None
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for i16 {}
    impl Sealed for i32 {}
}

impl Sample for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn planar_f32<'a>(block: &'a [&'a [f32]]) -> Option<&'a [&'a [f32]]> {
        Some(block)
    }
}

impl Sample for f64 {
    fn to_f32(self) -> f32 {
        self as f32
    }
}

impl Sample for i16 {
    fn to_f32(self) -> f32 {
        // Exact: a power-of-two scale of a 16-bit integer.
        f32::from(self) / 32_768.0
    }
}

impl Sample for i32 {
    fn to_f32(self) -> f32 {
        // One rounding (to f32's 24-bit mantissa); the power-of-two scale is exact.
        self as f32 / 2_147_483_648.0
    }
}

/// Bins of the gating histograms: 0.1 LU from the −70 LUFS absolute gate to +30 LUFS, plus one
/// for anything louder (libebur128's histogram mode uses the same 0.1 LU grid).
const HIST_BINS: usize = 1001;
/// Width of a histogram bin, LU.
const HIST_BIN_LU: f64 = 0.1;

/// Energies above the absolute gate, binned by loudness, each bin keeping its values: the
/// relative gate and the percentiles then need the values of one or two bins only, and give
/// the same blocks and the same nearest-rank values as the sorted list.
#[derive(Debug, Clone)]
struct GateHistogram {
    /// Lower edge of each bin, as energy (strictly increasing); bin `j` holds
    /// `edges[j] < e <= edges[j + 1]`, the last bin everything above its edge.
    edges: Vec<f64>,
    values: Vec<Vec<f64>>,
    sums: Vec<f64>,
    /// Values held, and their sum in arrival order (as [`integrated_loudness`] sums them).
    n: usize,
    sum: f64,
}

impl GateHistogram {
    fn new() -> GateHistogram {
        GateHistogram {
            edges: (0..HIST_BINS)
                .map(|j| lufs_to_energy(ABSOLUTE_GATE_LUFS + j as f64 * HIST_BIN_LU))
                .collect(),
            values: vec![Vec::new(); HIST_BINS],
            sums: vec![0.0; HIST_BINS],
            n: 0,
            sum: 0.0,
        }
    }

    /// Number of edges strictly below `e`: `e`'s bin is one less (comparisons of energies, so
    /// the bins are ordered exactly as the values are).
    fn edges_below(&self, e: f64) -> usize {
        self.edges.partition_point(|&x| x < e)
    }

    /// Add `e` if it passes the absolute gate (`e > edges[0]`, as [`integrated_loudness`]).
    fn insert(&mut self, e: f64) {
        let p = self.edges_below(e);
        if p == 0 || !e.is_finite() {
            return;
        }
        self.values[p - 1].push(e);
        self.sums[p - 1] += e;
        self.n += 1;
        self.sum += e;
    }

    /// Count and sum of the values above `threshold`.
    fn above(&self, threshold: f64) -> (usize, f64) {
        let p = self.edges_below(threshold);
        if p == 0 {
            return (self.n, self.sum);
        }
        // Bins above the threshold's pass whole; the threshold's own bin value by value.
        let b = p - 1;
        let mut n = 0;
        let mut sum = 0.0;
        for &e in self.values[b].iter().filter(|&&e| e > threshold) {
            n += 1;
            sum += e;
        }
        for j in b + 1..HIST_BINS {
            n += self.values[j].len();
            sum += self.sums[j];
        }
        (n, sum)
    }

    /// [`integrated_loudness`] of the values held.
    fn integrated_lufs(&self) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let rel = self.sum / self.n as f64 * 10f64.powf(RELATIVE_GATE_LU / 10.0);
        let (n, sum) = self.above(rel);
        (n > 0).then(|| energy_to_lufs(sum / n as f64))
    }

    /// [`loudness_range`] of the values held.
    fn loudness_range_lu(&self) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let rel = self.sum / self.n as f64 * 10f64.powf(LRA_RELATIVE_GATE_LU / 10.0);
        let (n, _) = self.above(rel);
        let last = n.checked_sub(1)? as f64;
        let lo = self.nth_above(rel, (last * LRA_LOW_PERCENTILE + 0.5) as usize)?;
        let hi = self.nth_above(rel, (last * LRA_HIGH_PERCENTILE + 0.5) as usize)?;
        Some(energy_to_lufs(hi) - energy_to_lufs(lo))
    }

    /// The `k`-th smallest (from 0) of the values above `threshold`.
    fn nth_above(&self, threshold: f64, k: usize) -> Option<f64> {
        let b = self.edges_below(threshold).saturating_sub(1);
        let mut k = k;
        for j in b..HIST_BINS {
            let bin = &self.values[j];
            let passing = if j == b {
                bin.iter().filter(|&&e| e > threshold).count()
            } else {
                bin.len()
            };
            if k < passing {
                let mut v: Vec<f64> = bin.iter().copied().filter(|&e| e > threshold).collect();
                let (_, x, _) = v.select_nth_unstable_by(k, f64::total_cmp);
                return Some(*x);
            }
            k -= passing;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Energies from −85 to +40 LUFS (both gates and the overflow bin are crossed), with
    /// repeats and values exactly on bin edges.
    fn energies(seed: u64, n: usize) -> Vec<f64> {
        let mut x = seed;
        let edges = GateHistogram::new().edges;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match i % 50 {
                    0 => edges[(x % HIST_BINS as u64) as usize],
                    1 => lufs_to_energy(-23.0),
                    _ => lufs_to_energy(-85.0 + 125.0 * (x >> 11) as f64 / (1u64 << 53) as f64),
                }
            })
            .collect()
    }

    #[test]
    fn histogram_gates_as_the_sorted_list_does() {
        for (seed, n) in [(1, 1), (2, 7), (3, 500), (4, 20_000)] {
            let e = energies(seed, n);
            let mut h = GateHistogram::new();
            for (k, &v) in e.iter().enumerate() {
                h.insert(v);
                // Check along the way too (the live getters poll at any point).
                if k % 97 == 0 || k + 1 == n {
                    let prefix = &e[..=k];
                    assert_eq!(
                        h.loudness_range_lu(),
                        loudness_range(prefix),
                        "seed {seed} at {k}"
                    );
                    match (h.integrated_lufs(), integrated_loudness(prefix)) {
                        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{a} vs {b}"),
                        (a, b) => assert_eq!(a, b),
                    }
                }
            }
        }
    }

    #[test]
    fn histogram_ignores_values_at_or_under_the_absolute_gate() {
        let mut h = GateHistogram::new();
        for v in [
            0.0,
            lufs_to_energy(ABSOLUTE_GATE_LUFS),
            f64::NAN,
            f64::INFINITY,
        ] {
            h.insert(v);
        }
        assert_eq!(
            (h.n, h.integrated_lufs(), h.loudness_range_lu()),
            (0, None, None)
        );
    }
}
