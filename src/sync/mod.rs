//! Sync and conform against a picture reference: global offset, linear drift and mismatched
//! sections of an audio programme against the audio of a reference (a proxy of the picture).
//!
//! [`align`] takes two opened sources (never paths; [`align_paths`] is the thin helper that
//! opens files) and returns an [`Alignment`]: what was seen, with no judgement. The rules
//! (one frame of offset is a finding, severities by reference kind) live in
//! [`crate::spec::sync`].
//!
//! How (all on the trimmed timelines, see lead-in below):
//!
//! 1. **Features** ([`features`]), streamed, both files at once on two threads: per 10 ms hop,
//!    the onset strength of six bands of the mono mix (LFE excluded), from a 4-hop window
//!    centred on the hop (so any sub-hop offset or drift still correlates). Only these are
//!    kept, a byte per band and hop (the onset track).
//! 2. **Lead-in**: a head made only of silence, line-up tone and sync pops (at least one tonal
//!    hop) is trimmed from either file, rounded to the nearest video frame (leaders are laid
//!    to picture); pure head silence is not a leader but an offset. `lead_in_trimmed_s` says
//!    how much was trimmed from the audio.
//! 3. **Anchors**: up to [`MAX_ANCHORS`] windows of up to 20 s spread along the audio, each
//!    correlated (normalised, FFT overlap-save) against the whole reference: every lag. The
//!    reference is swept block by block, each block correlated with a group of anchors and
//!    dropped.
//! 4. **Fit**: RANSAC over anchor pairs gives the main line `lag(t) = offset + drift × t`;
//!    anchors off that line with a good score give the other offsets (after an insertion or a
//!    deletion the lag jumps and stays). The search covers ±5000 ppm; when fewer than half
//!    the anchors sit on the line found, the reference's features are resampled by each of
//!    the broadcast speed factors ([`BROADCAST_SPEEDS`]: 25/24 and 24/25, a PAL speed-up or
//!    slow-down, 41667 ppm) and steps 3–4 run again; the best supported factor wins, and its
//!    line is mapped back to the reference's own time (the dense pass runs on the resampled
//!    features, the fine pass on the raw signals at the full drift).
//! 5. **Dense pass**: 5 s windows every second are scored against every candidate line
//!    (±80 ms); a window is aligned with the best line scoring ≥ [`WINDOW_MATCH`], else
//!    mismatched. Runs of windows are sections; their boundaries are refined with 0.5 s blocks
//!    (±0.25 s).
//! 6. **Fine pass** on the raw signals: up to [`MAX_FINE`] 1 s windows inside aligned sections
//!    are read again (seek), the reference read at the audio's rate along the line (linear
//!    interpolation at the line's drift: no smear from rates or drift), and correlated at
//!    every sample lag within ±50 ms of the line, with parabolic interpolation: the offset to
//!    a fraction of a sample; the drift from a Theil–Sen slope, then least squares on the
//!    windows within 0.5 ms of it. Two rounds: the second reads along the first's drift
//!    (the feature-level drift can be hundreds of ppm off on a short programme).
//!
//! Signs: `offset_s` is positive when the audio is late against the reference (an event of
//! the reference at `r` s is at `r + offset_s` s in the audio); `drift_ppm` is positive when
//! the audio runs long (it gets later and later).
//!
//! Memory: flat in the programme's length but for the two onset tracks, 6 bytes a hop per file
//! (36 kB per programme minute; 4.3 MB each for two hours). Everything else is read from the
//! tracks into bounded pieces as it is needed, z-scored on the way: an anchor search block
//! (8192 hops) with the spectra of 16 anchors (3 MB), a dense window with its ±80 ms of
//! reference, a boundary zone (8 s); the fine pass holds a few seconds of raw audio. The
//! `sync_memory` test counts the heap's peak on a 5- and a 20-minute pair.

mod align;
pub mod features;
mod fine;
mod view;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::{self, AudioSource};
use crate::error::{Error, Result};

/// Most anchors correlated against the whole reference.
pub const MAX_ANCHORS: usize = 48;
/// Most raw windows of the fine pass.
pub const MAX_FINE: usize = 24;
/// A 5 s window is aligned with a line when its normalised correlation there reaches this.
pub const WINDOW_MATCH: f64 = 0.3;
/// Below this share of the active audio aligned, the reference is not this programme: no
/// offset is reported (never a fake one).
pub const MIN_CONFIDENCE: f64 = 0.3;

/// Options of [`align`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AlignOptions {
    /// Video frame duration, seconds (lead-ins are rounded to whole frames). Default 1/24.
    pub frame_s: f64,
    /// Longest lead-in looked for at the head of either file, seconds. Default 60.
    pub max_lead_in_s: f64,
    /// Largest drift searched around each speed factor, as a fraction (0.005 = 5000 ppm,
    /// beyond 1000/1001). Default.
    pub max_drift: f64,
    /// Speed factors tried when the audio is not found at its own speed (each with
    /// ±`max_drift` around it): how many times faster the audio plays than the reference.
    /// Default [`BROADCAST_SPEEDS`].
    pub speed_factors: Vec<f64>,
}

/// The frame-rate conversions done by speeding audio up or down beyond ±5000 ppm: 24 → 25 fps
/// (PAL speed-up, 25/24 = +4.17 %) and 25 → 24 (24/25). 23.976 ↔ 25 (25/23.976 = 1.04271) is
/// within 1000 ppm of these, and 1000/1001 (23.976 ↔ 24, 29.97 ↔ 30) within the search at
/// speed 1.
pub const BROADCAST_SPEEDS: [f64; 2] = [25.0 / 24.0, 24.0 / 25.0];

impl Default for AlignOptions {
    fn default() -> Self {
        AlignOptions {
            frame_s: 1.0 / 24.0,
            max_lead_in_s: 60.0,
            max_drift: 0.005,
            speed_factors: BROADCAST_SPEEDS.to_vec(),
        }
    }
}

impl AlignOptions {
    /// Set the video frame duration, seconds (e.g. `1001.0 / 24000.0`).
    pub fn with_frame_s(mut self, frame_s: f64) -> Self {
        if frame_s.is_finite() && frame_s > 0.0 {
            self.frame_s = frame_s;
        }
        self
    }

    /// Set the speed factors tried beyond ±`max_drift` (empty: only speed 1). Factors that are
    /// not finite and positive are dropped.
    pub fn with_speed_factors(mut self, factors: &[f64]) -> Self {
        self.speed_factors = factors
            .iter()
            .copied()
            .filter(|k| k.is_finite() && *k > 0.0)
            .collect();
        self
    }

    /// Set the longest lead-in looked for, seconds (0 disables the lead-in detector).
    pub fn with_max_lead_in_s(mut self, s: f64) -> Self {
        if s.is_finite() && s >= 0.0 {
            self.max_lead_in_s = s;
        }
        self
    }
}

/// What a section of the audio is, against the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionStatus {
    /// The audio matches the reference here, at `offset_s`.
    Aligned,
    /// The audio here matches nothing in the reference at the offsets around it (a replaced
    /// scene, a different version).
    Mismatch,
    /// Reference material the audio lacks (a deleted scene): a point in the audio
    /// (`start_s == end_s`), the missing stretch in `ref_start_s..ref_end_s`.
    MissingInAudio,
    /// Audio material the reference lacks (an inserted scene, extra material at an end).
    MissingInReference,
}

/// One stretch of the audio timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Start in the audio file, seconds from its first sample.
    pub start_s: f64,
    /// End in the audio file, seconds (exclusive).
    pub end_s: f64,
    /// The local offset at `start_s` (audio late = positive), on the trimmed timelines; `None`
    /// for mismatched or missing material.
    pub offset_s: Option<f64>,
    /// What the stretch is.
    pub status: SectionStatus,
    /// Where the stretch is in the reference file, seconds, when it maps there.
    pub ref_start_s: Option<f64>,
    /// End in the reference file, seconds.
    pub ref_end_s: Option<f64>,
}

/// The local offset measured by one window (for plots).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalOffset {
    /// Centre of the window in the audio file, seconds.
    pub at_s: f64,
    /// Offset there (trimmed timelines), seconds; `None` where nothing matched.
    pub offset_s: Option<f64>,
    /// Normalised correlation of the window (0..1).
    pub score: f64,
}

/// What [`align`] saw. No judgement: the rules are in [`crate::spec::sync`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// Whether the audio was found in the reference at all (confidence ≥ [`MIN_CONFIDENCE`]).
    pub matched: bool,
    /// Offset at the start of the programme (after the lead-ins), seconds, audio late =
    /// positive. `None` when not matched.
    pub offset_s: Option<f64>,
    /// The same in samples at the audio's rate (rounded).
    pub offset_samples: Option<i64>,
    /// Linear time-base error, parts per million (audio runs long = positive).
    pub drift_ppm: Option<f64>,
    /// Lead-in (tone, pops and the silence around them) trimmed from the audio's head, seconds.
    pub lead_in_trimmed_s: f64,
    /// Lead-in trimmed from the reference's head, seconds.
    pub reference_lead_in_trimmed_s: f64,
    /// The audio timeline in sections, in order.
    pub sections: Vec<Section>,
    /// Share (0..1) of the audio's active 5 s windows that match the reference.
    pub confidence: f64,
    /// Audio sample rate, Hz.
    pub audio_rate_hz: u32,
    /// Reference sample rate, Hz.
    pub reference_rate_hz: u32,
    /// Audio duration, seconds.
    pub audio_duration_s: f64,
    /// Reference duration, seconds.
    pub reference_duration_s: f64,
    /// Local offsets along the programme, one per second (the dense windows).
    pub local_offsets: Vec<LocalOffset>,
}

/// Align `audio` against `reference`. Both are read to their end once, then seeked to for
/// the fine pass.
pub fn align(
    audio: &mut dyn AudioSource,
    reference: &mut dyn AudioSource,
    opts: &AlignOptions,
) -> Result<Alignment> {
    align::run(audio, reference, opts)
}

/// Open both files (anything [`decode::open_path`] opens) and [`align`] them. Errors name the
/// file.
pub fn align_paths(audio: &Path, reference: &Path, opts: &AlignOptions) -> Result<Alignment> {
    let mut a = decode::open_path(audio)?;
    let mut r = decode::open_path(reference)?;
    align(a.as_mut(), r.as_mut(), opts).map_err(|e: Error| e.with_path(audio))
}
