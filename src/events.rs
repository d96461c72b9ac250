//! Events: where the problems are, as findings with a start, an end and a timecode.
//!
//! Two sources:
//! - the meter's own readings ([`Measurements`]): true-peak stretches over the profile's limit
//!   (per channel, merged closer than [`EventConfig::over_gap_s`]) and short-term loudness
//!   regions far above the programme's integrated loudness;
//! - a cheap per-sample scan, [`EventScanner`], fed the same planar blocks as the meter: digital
//!   clipping runs, leading/trailing silence and DC offset per channel. One pass per block and
//!   channel computes the sum and the largest magnitude (vectorisable); only blocks that reach the
//!   clip level are walked sample by sample, and the silence edges are found by a forward search
//!   (until the first sound) and a backward search per block.
//!
//! Positions are exact to the sample for the scan and to the true-peak meter's frame for overs;
//! short-term regions are on the meter's 100 ms grid. The short-term reading "at" time `t` is
//! the 3 s window ending at `t` (as a loudness meter displays it), so a region starts where the
//! loud content begins and ends up to 3 s after it stops.

use crate::meter::{amplitude_to_db, db_to_amplitude, energy_to_lufs};

/// The smallest merge gap of true-peak overs, seconds: stretches closer than 10 ms are always one
/// (it bounds the meter's list on hostile input; positions are still exact to the frame).
pub const MIN_OVER_GAP_S: f64 = 0.01;

/// What counts as an event. `#[non_exhaustive]`: start from `EventConfig::default()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventConfig {
    /// Look for events at all (default on).
    pub enabled: bool,
    /// True-peak overs (and clipping runs) closer than this are one event, seconds (default 1;
    /// overs are merged at least at [`MIN_OVER_GAP_S`]).
    pub over_gap_s: f64,
    /// Short-term loudness more than this above the integrated loudness is "far above", LU
    /// (default 10).
    pub loud_region_lu: f64,
    /// … when it lasts at least this long, seconds (default 3).
    pub loud_region_min_s: f64,
    /// A sample at or above this magnitude is at full scale (default 0.999; lowered to the
    /// format's largest positive code when that is smaller, e.g. 127/128 for 8-bit).
    pub clip_level: f32,
    /// Consecutive full-scale samples that make a clipping run (default 3).
    pub clip_min_run: u64,
    /// Below this sample level is silence, dBFS (default −60).
    pub silence_dbfs: f64,
    /// Head/tail silence shorter than this is not reported, seconds (default 1).
    pub silence_min_s: f64,
    /// A channel mean above this is a DC offset, dBFS (default −40).
    pub dc_dbfs: f64,
    /// Findings listed per code at most; the rest are counted in one `EVENTS_TRUNCATED`
    /// (default 200).
    pub max_listed: usize,
}

impl Default for EventConfig {
    fn default() -> Self {
        EventConfig {
            enabled: true,
            over_gap_s: 1.0,
            loud_region_lu: 10.0,
            loud_region_min_s: 3.0,
            clip_level: 0.999,
            clip_min_run: 3,
            silence_dbfs: -60.0,
            silence_min_s: 1.0,
            dc_dbfs: -40.0,
            max_listed: 200,
        }
    }
}

impl EventConfig {
    /// Look for events or not.
    pub fn with_enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
    /// Merge overs and clipping runs closer than `s` seconds.
    pub fn with_over_gap_s(mut self, s: f64) -> Self {
        self.over_gap_s = s.clamp(0.0, crate::meter::MAX_OVER_MERGE_GAP_S);
        self
    }
    /// Flag short-term loudness `lu` above integrated for at least `min_s` seconds.
    pub fn with_loud_region(mut self, lu: f64, min_s: f64) -> Self {
        self.loud_region_lu = lu;
        self.loud_region_min_s = min_s.max(0.0);
        self
    }
    /// Clipping: `min_run` consecutive samples at magnitude ≥ `level`.
    pub fn with_clipping(mut self, level: f32, min_run: u64) -> Self {
        self.clip_level = level;
        self.clip_min_run = min_run.max(1);
        self
    }
    /// Silence: below `dbfs` for at least `min_s` seconds at the head or tail.
    pub fn with_silence(mut self, dbfs: f64, min_s: f64) -> Self {
        self.silence_dbfs = dbfs;
        self.silence_min_s = min_s.max(0.0);
        self
    }
    /// List at most `n` findings per code.
    pub fn with_max_listed(mut self, n: usize) -> Self {
        self.max_listed = n;
        self
    }
    /// DC offset: a channel mean above `dbfs`.
    pub fn with_dc_dbfs(mut self, dbfs: f64) -> Self {
        self.dc_dbfs = dbfs;
        self
    }
}

/// The largest positive sample of a `bits`-bit integer format, as decoded (`(2^(b−1) − 1) / 2^(b−1)`).
pub fn int_full_scale(bits: u32) -> Option<f32> {
    (2..=32).contains(&bits).then(|| {
        let half = (1u64 << (bits - 1)) as f64;
        ((half - 1.0) / half) as f32
    })
}

/// A stretch of one channel with clipping runs, merged at the gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRegion {
    /// Channel index.
    pub channel: usize,
    /// First full-scale sample of the first run (frame index).
    pub start_frame: u64,
    /// One past the last full-scale sample of the last run.
    pub end_frame: u64,
    /// Runs merged into this region.
    pub runs: u64,
    /// Full-scale samples in those runs.
    pub samples: u64,
    /// The longest run, samples.
    pub longest_run: u64,
}

/// What the scan found in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSignal {
    /// Mean sample value (the DC offset), linear; non-finite samples count as 0.
    pub mean: f64,
    /// Samples in clipping runs.
    pub clipped_samples: u64,
    /// Clipping regions, in order.
    pub clip_regions: Vec<ClipRegion>,
}

impl ChannelSignal {
    /// The DC offset in dBFS (`None` for a mean of exactly 0).
    pub fn dc_dbfs(&self) -> Option<f64> {
        (self.mean != 0.0).then(|| amplitude_to_db(self.mean.abs()))
    }
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalSummary {
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Frames scanned.
    pub frames: u64,
    /// The clip level used (linear).
    pub clip_level: f32,
    /// Frames before the first frame with any channel above the silence level (all of them if
    /// none is).
    pub leading_silence_frames: u64,
    /// Frames after the last frame with any channel above the silence level (0 if none is).
    pub trailing_silence_frames: u64,
    /// No frame rises above the silence level.
    pub all_silent: bool,
    /// Per channel.
    pub channels: Vec<ChannelSignal>,
    /// Clipping regions not kept (more than the memory bound of 100 000 per channel).
    pub clip_regions_dropped: u64,
}

/// Clipping regions kept per channel; more are counted only (bounded memory on hostile input).
const MAX_CLIP_REGIONS: usize = 100_000;
/// Samples summed in `f32` lanes before the partial sums go into the `f64` total.
const SUM_CHUNK: usize = 4096;

#[derive(Debug, Clone)]
struct ChannelState {
    sum: f64,
    run_start: u64,
    run_len: u64,
    open: Option<ClipRegion>,
    regions: Vec<ClipRegion>,
    clipped: u64,
    dropped: u64,
}

/// The streaming scan for clipping, silence and DC. Push the same planar blocks as the meter.
#[derive(Debug, Clone)]
pub struct EventScanner {
    rate: u32,
    clip_level: f32,
    min_run: u64,
    gap_frames: u64,
    silence_amp: f32,
    frames: u64,
    first_loud: Option<u64>,
    last_loud: Option<u64>,
    ch: Vec<ChannelState>,
}

impl EventScanner {
    /// A scanner for `channels` channels at `rate_hz`. `full_scale` is the format's largest
    /// positive sample value (integer formats; see [`int_full_scale`]), if any.
    pub fn new(
        channels: usize,
        rate_hz: u32,
        full_scale: Option<f32>,
        cfg: &EventConfig,
    ) -> EventScanner {
        let clip_level = full_scale.map_or(cfg.clip_level, |f| cfg.clip_level.min(f));
        EventScanner {
            rate: rate_hz,
            clip_level,
            min_run: cfg.clip_min_run.max(1),
            gap_frames: (cfg.over_gap_s.max(0.0) * f64::from(rate_hz)) as u64,
            silence_amp: db_to_amplitude(cfg.silence_dbfs) as f32,
            frames: 0,
            first_loud: None,
            last_loud: None,
            ch: vec![
                ChannelState {
                    sum: 0.0,
                    run_start: 0,
                    run_len: 0,
                    open: None,
                    regions: Vec::new(),
                    clipped: 0,
                    dropped: 0,
                };
                channels
            ],
        }
    }

    /// Scan one planar block (one slice per channel, equal lengths; extra channels or frames
    /// beyond the shortest slice are ignored).
    pub fn push_planar(&mut self, block: &[&[f32]]) {
        let frames = block.iter().map(|c| c.len()).min().unwrap_or(0);
        if frames == 0 {
            return;
        }
        let base = self.frames;
        let (clip, amp) = (self.clip_level, self.silence_amp);
        for (c, st) in self.ch.iter_mut().enumerate() {
            let Some(x) = block.get(c) else { break };
            let x = &x[..frames];
            let mut max_abs = 0.0f32;
            for chunk in x.chunks(SUM_CHUNK) {
                let mut lanes = [0.0f32; 8];
                let mut peak = [0.0f32; 8];
                let mut it = chunk.chunks_exact(8);
                for v8 in &mut it {
                    for l in 0..8 {
                        let v = if v8[l].is_finite() { v8[l] } else { 0.0 };
                        lanes[l] += v;
                        // Compare-and-select (v is finite): packed max instructions, which
                        // `f32::max` and its NaN rules do not compile to.
                        let a = v.abs();
                        peak[l] = if a > peak[l] { a } else { peak[l] };
                    }
                }
                for &v in it.remainder() {
                    let v = if v.is_finite() { v } else { 0.0 };
                    lanes[0] += v;
                    peak[0] = peak[0].max(v.abs());
                }
                st.sum += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
                max_abs = peak.iter().fold(max_abs, |m, &p| m.max(p));
            }
            if max_abs >= clip {
                for (i, &v) in x.iter().enumerate() {
                    let frame = base + i as u64;
                    if v.is_finite() && v.abs() >= clip {
                        if st.run_len == 0 {
                            st.run_start = frame;
                        }
                        st.run_len += 1;
                    } else if st.run_len > 0 {
                        close_run(st, self.min_run, self.gap_frames, c);
                    }
                }
            } else if st.run_len > 0 {
                close_run(st, self.min_run, self.gap_frames, c);
            }
            if max_abs > amp {
                let loud = |v: &f32| v.is_finite() && v.abs() > amp;
                if self.first_loud.is_none_or(|f| f > base) {
                    if let Some(i) = x.iter().position(loud) {
                        let f = base + i as u64;
                        self.first_loud = Some(self.first_loud.map_or(f, |g| g.min(f)));
                    }
                }
                if let Some(i) = x.iter().rposition(loud) {
                    let f = base + i as u64;
                    self.last_loud = Some(self.last_loud.map_or(f, |g| g.max(f)));
                }
            }
        }
        self.frames += frames as u64;
    }

    /// Close open runs and return what was found.
    pub fn finish(mut self) -> SignalSummary {
        let (min_run, gap) = (self.min_run, self.gap_frames);
        for (c, st) in self.ch.iter_mut().enumerate() {
            if st.run_len > 0 {
                close_run(st, min_run, gap, c);
            }
            if let Some(o) = st.open.take() {
                push_region(st, o);
            }
        }
        let frames = self.frames;
        SignalSummary {
            sample_rate_hz: self.rate,
            frames,
            clip_level: self.clip_level,
            leading_silence_frames: self.first_loud.unwrap_or(frames),
            trailing_silence_frames: self.last_loud.map_or(0, |l| frames - l - 1),
            all_silent: self.first_loud.is_none(),
            clip_regions_dropped: self.ch.iter().map(|c| c.dropped).sum(),
            channels: self
                .ch
                .into_iter()
                .map(|st| ChannelSignal {
                    mean: if frames > 0 {
                        st.sum / frames as f64
                    } else {
                        0.0
                    },
                    clipped_samples: st.clipped,
                    clip_regions: st.regions,
                })
                .collect(),
        }
    }
}

fn push_region(st: &mut ChannelState, r: ClipRegion) {
    if st.regions.len() < MAX_CLIP_REGIONS {
        st.regions.push(r);
    } else {
        st.dropped += 1;
    }
}

/// The current run of `st` has ended: keep it if long enough, merging it into the open region.
fn close_run(st: &mut ChannelState, min_run: u64, gap: u64, channel: usize) {
    let (start, len) = (st.run_start, st.run_len);
    st.run_len = 0;
    if len < min_run {
        return;
    }
    st.clipped += len;
    let end = start + len;
    match &mut st.open {
        Some(o) if start <= o.end_frame + gap => {
            o.end_frame = end;
            o.runs += 1;
            o.samples += len;
            o.longest_run = o.longest_run.max(len);
        }
        open => {
            let prev = open.replace(ClipRegion {
                channel,
                start_frame: start,
                end_frame: end,
                runs: 1,
                samples: len,
                longest_run: len,
            });
            if let Some(p) = prev {
                push_region(st, p);
            }
        }
    }
}

/// A short-term region far above the programme: readings `first..=last` (indices into
/// `short_term_energies`).
#[derive(Debug, Clone, PartialEq)]
pub struct LoudRegion {
    /// Start, seconds: where the first high reading's 100 ms begins (the reading of window `k`
    /// is at `k·0.1 + 3` s).
    pub start_s: f64,
    /// End, seconds: the last high reading.
    pub end_s: f64,
    /// The highest short-term loudness in the region, LUFS.
    pub max_lufs: f64,
    /// Where that reading is, seconds.
    pub max_at_s: f64,
}

/// A duration for people: milliseconds under a second, else seconds.
pub(crate) fn duration_text(s: f64) -> String {
    if s < 0.01 {
        format!("{:.2} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.3} s")
    }
}

/// Short-term regions more than `lu` above `integrated_lufs` lasting at least `min_s`.
pub fn loud_regions(
    short_term_energies: &[f64],
    integrated_lufs: f64,
    lu: f64,
    min_s: f64,
) -> Vec<LoudRegion> {
    let thr = integrated_lufs + lu;
    let reading_s = |k: usize| k as f64 * 0.1 + 3.0;
    let mut out = Vec::new();
    let mut cur: Option<(usize, usize, f64, usize)> = None; // first, last, max, argmax
    let mut close = |cur: &mut Option<(usize, usize, f64, usize)>| {
        if let Some((a, b, mx, at)) = cur.take() {
            // Each reading holds for 100 ms; compare in whole readings to avoid float drift.
            if (b - a + 1) as f64 + 1e-9 >= min_s * 10.0 {
                out.push(LoudRegion {
                    start_s: reading_s(a) - 0.1,
                    end_s: reading_s(b),
                    max_lufs: mx,
                    max_at_s: reading_s(at),
                });
            }
        }
    };
    for (k, &e) in short_term_energies.iter().enumerate() {
        let l = if e > 0.0 {
            energy_to_lufs(e)
        } else {
            f64::NEG_INFINITY
        };
        if l > thr {
            match &mut cur {
                Some((_, b, mx, at)) => {
                    *b = k;
                    if l > *mx {
                        *mx = l;
                        *at = k;
                    }
                }
                None => cur = Some((k, k, l, k)),
            }
        } else {
            close(&mut cur);
        }
    }
    close(&mut cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(block_sizes: &[usize], x: &[Vec<f32>], cfg: &EventConfig) -> SignalSummary {
        let mut s = EventScanner::new(x.len(), 48_000, None, cfg);
        let mut pos = 0;
        let mut i = 0;
        let n = x[0].len();
        while pos < n {
            let len = block_sizes[i % block_sizes.len()].min(n - pos);
            let refs: Vec<&[f32]> = x.iter().map(|c| &c[pos..pos + len]).collect();
            s.push_planar(&refs);
            pos += len;
            i += 1;
        }
        s.finish()
    }

    #[test]
    fn runs_split_across_blocks_are_whole_and_short_runs_are_ignored() {
        let mut x = vec![0.1f32; 10_000];
        for v in &mut x[995..1005] {
            *v = 1.0;
        }
        x[5000] = -1.0;
        x[5001] = -1.0; // two samples: not a run of 3
        let cfg = EventConfig::default();
        for sizes in [vec![10_000], vec![1000], vec![7, 13, 999]] {
            let s = scan(&sizes, &[x.clone()], &cfg);
            assert_eq!(s.channels[0].clip_regions.len(), 1, "{sizes:?}");
            let r = &s.channels[0].clip_regions[0];
            assert_eq!((r.start_frame, r.end_frame, r.runs), (995, 1005, 1));
            assert_eq!(s.channels[0].clipped_samples, 10);
        }
    }

    #[test]
    fn loud_region_times_follow_the_reading_grid() {
        // Readings 0..100 at −30 LUFS, 50..=79 at −15: 30 readings = 3.0 s.
        let quiet = crate::meter::lufs_to_energy(-30.0);
        let loud = crate::meter::lufs_to_energy(-15.0);
        let e: Vec<f64> = (0..100)
            .map(|k| if (50..80).contains(&k) { loud } else { quiet })
            .collect();
        let r = loud_regions(&e, -30.0, 10.0, 3.0);
        assert_eq!(r.len(), 1);
        assert!((r[0].start_s - 7.9).abs() < 1e-9 && (r[0].end_s - 10.9).abs() < 1e-9);
        assert!(loud_regions(&e, -30.0, 10.0, 3.1).is_empty());
        assert!(loud_regions(&e, -30.0, 15.1, 3.0).is_empty());
    }
}
