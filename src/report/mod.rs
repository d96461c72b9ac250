//! Reports: the serde types of a file's result (the JSON schema) and the printers.
//!
//! # JSON schema (`schema_version` 2)
//!
//! `loudqc check --format json` writes one object per file per line (JSON Lines):
//!
//! ```text
//! {
//!   "schema_version": 2,
//!   "file": "path/as/given.wav",
//!   "engine": {"name": "loudqc", "version": "0.1.0"},
//!   "profile": {"name": "streaming", "integrated_target_lufs": -24.0,
//!               "integrated_tolerance_lu": 3.0, "max_true_peak_dbtp": -1.0,
//!               "max_loudness_range_lu": null, "dialog_target_lufs": -27.0,
//!               "dialog_tolerance_lu": 3.0},
//!   "format": {"container": "wav", "codec": "pcm_s24le", "sample_rate_hz": 48000,
//!              "channels": 6, "channel_map": ["L","R","C","LFE","Ls","Rs"],
//!              "channel_map_source": "channel_mask", "channel_weights": [1.0,1.0,1.0,0.0,1.41,1.41],
//!              "bits_per_sample": 24, "duration_s": 600.0, "frames": 28800000},
//!   "loudness": {"integrated_lufs": -24.1, "loudness_range_lu": 7.2,
//!                "max_momentary_lufs": -14.0, "max_short_term_lufs": -17.2,
//!                "sample_peak_dbfs": -1.3, "sample_peak_per_channel_dbfs": [..],
//!                "true_peak_dbtp": -0.9, "true_peak_per_channel_dbtp": [..],
//!                "true_peak_oversampling": 4, "true_peak_at_s": 192.345,
//!                "null_reasons": {"loudness_range_lu": "input shorter than one 3 s short-term window"},
//!                "dialog_gated_lufs": -26.8, "speech_percent": 41.5},
//!   "dialog_gate": {"detector": "loudqc speech gate (Silero VAD v5)", "version": "1",
//!                   "model": "v5 (silero-vad 5.1.2 wheel, ...)", "channels": ["C"],
//!                   "speech_blocks": 2490, "gated_blocks": 5998, "min_speech_percent": 15.0},
//!   "findings": [{"code": "TRUE_PEAK_OVER", "severity": "blocker", "message": "...",
//!                 "value": -0.9, "limit": -1.0, "at_s": 192.345, "at_timecode": "01:03:12:08",
//!                 "channels": ["L", "C"], "start_s": 192.31, "end_s": 193.02,
//!                 "start_timecode": "01:03:12:07", "end_timecode": "01:03:13:00"}],
//!   "rules": [{"rule": "true_peak", "measured": -0.9, "unit": "dBTP", "min": null, "max": -1.0,
//!              "status": "fail", "decides": true}, ...],
//!   "correction": {"rule": "dialog_gated_loudness", "measured_lufs": -25.1, "target_lufs": -27.0,
//!                  "gain_db": -1.9, "gain_linear": 0.80, "true_peak_after_dbtp": -2.8,
//!                  "limiter_needed": false},
//!   "verdict": "fail",
//!   "error": null,
//!   "inputs": [{"path": "path/as/given.wav", "size_bytes": 172800044,
//!               "mtime_unix_s": 1764489600, "mtime_ns": 250000000}],
//!   "timecode": {"fps": "24", "drop_frame": false, "start": "01:00:00:00", "start_source": "bext"},
//!   "signal": {"leading_silence_s": 2.0, "trailing_silence_s": 0.5, "silence_level_dbfs": -60.0,
//!              "dc_offset_per_channel_dbfs": [-96.1, ..], "clipped_samples_per_channel": [0, ..],
//!              "clip_level": 0.999},
//!   "timeline": {"interval_s": 0.1, "momentary_lufs": [null, null, null, -23.1, ..],
//!                "short_term_lufs": [null, .., -24.0, ..], "true_peak_dbtp": [-12.3, ..]},
//!   "ident": [{"reference": "ident.wav", "reference_duration_s": 3.5,
//!              "head": {"status": "present", "found": true, "offset_s": 2.0,
//!                       "offset_samples": 96000, "score": 0.97, "matched_score": 0.97,
//!                       "quarter_scores": [..4], "gain_db": -0.02, "polarity_inverted": false,
//!                       "coverage": 1.0, "cut_start_s": 0.0, "cut_end_s": 0.0,
//!                       "end_gap_s": null, "speed_factor": 1.0, "channels_match": true,
//!                       "ident_channels": ["L","R"], "null_score": 0.21, "threshold": 0.5,
//!                       "window_start_s": 0.0, "window_end_s": 33.5, "alterations": [],
//!                       "count": 1, "copies": [{"offset_s": 2.0, "offset_samples": 96000,
//!                         "score": 0.97, "gain_db": -0.02, "coverage": 1.0, "partial": false,
//!                         "cut_start_s": 0.0, "cut_end_s": 0.0, "speed_factor": 1.0,
//!                         "duration_s": 3.5}]},
//!              "tail": {.. the same, with "end_gap_s"}}]
//! }
//! ```
//!
//! IMF (additive fields): an MXF audio track file or a composition adds
//! `"format": {..., "mca": {"soundfield": "sg51", "language": "en", "labels": ["chL", ...]}}`.
//! A composition (`loudqc check IMP_FOLDER` or `CPL.xml`) gives one object per (CPL, main audio
//! sequence), `file` being the CPL, with
//!
//! ```text
//! "composition": {"cpl_id": "...", "cpl_title": "...", "cpl_path": "...", "edit_rate": "24000/1001",
//!                 "track_id": "...", "language": "en", "soundfield": "sg51", "complete": true,
//!                 "missing_track_files": [], "track_files": [{"id": "...", "path": "..."}],
//!                 "segments": 2, "resources": 3, "duration_s": 2700.0,
//!                 "excluded": [{"kind": "bars_and_tone", "start_s": 0.0, "end_s": 30.0}],
//!                 "ident_ranges": [{"kind": "company_logo", "start_s": 30.0, "end_s": 40.0}],
//!                 "markers": [{"label": "FFBT", "at_s": 0.0}, ...]}
//! ```
//!
//! `excluded` ranges are left out of the loudness and peak readings; times are composition
//! time. An incomplete composition has `"verdict": "error"` with
//! `"error": {"kind": "incomplete_composition", ...}`. Both objects are absent (not `null`) for
//! plain files.
//!
//! Findings (codes in `docs/findings.md`) carry the channels concerned (`channels`, empty for
//! the whole programme), a point of interest (`at_s`, `at_timecode`) and an extent
//! (`start_s`/`end_s`, `start_timecode`/`end_timecode`); every timecode is SMPTE `HH:MM:SS:FF`
//! at `--fps`, `;FF` at 29.97 drop-frame, offset by the file's BWF start or `--tc-start` (see
//! the top-level `timecode`). Schema 2 (from 1): `channel` became `channels`, the clock string
//! `timecode` became the SMPTE `at_timecode`, `TRUE_PEAK_OVER_REGION` merged into
//! `TRUE_PEAK_OVER` (one per over event), and `rules` and `correction` were added. `timeline` is
//! present only with `--timeline` ([`TimelineReport`] says how entries line up).
//!
//! Units are in the field names (`_lufs`, `_lu`, `_dbfs`, `_dbtp`, `_s`, `_hz`). A value that
//! could not be measured (silence, input too short) is `null`, and `loudness.null_reasons` says
//! why — never `-inf` or `NaN`. A file that could not be analysed has `"verdict": "error"`,
//! `format`/`loudness` `null` (or present, if the failure came late), and
//! `"error": {"kind": "...", "message": "..."}`. `ident` is present only when references were
//! given (`--ident`); `status` is `present`, `partial` (trimmed), `review` or `absent`, and
//! the place/level fields are `null` when absent. Fields are only ever added within a schema
//! version.
//!
//! `inputs` (added for batch mode, see [`crate::batch`]) lists the file(s) the record measured,
//! with the size and modification time `--resume` compares: one entry for a file, one per
//! channel for a multi-mono group (whose `file` then reads `dir/Title_{L,R,C}.wav` and whose
//! `format.channel_map_source` is `file_names`). It is empty when the library was called
//! without batch mode, and `size_bytes`/`mtime_*` are `null` when the file could not be
//! stat'ed.
//!
//! Sharded batches (`--shard K/N` or `--shard auto`, see [`crate::batch::shard`]) add
//! `"engine": {"name": "loudqc", "version": "0.1.0", "shard": {"index": 2, "count": 4,
//! "source": "SLURM_ARRAY_TASK_ID"}}` to every record (absent otherwise), and write one plan line
//! `{"plan": {...}}` before the records ([`plan`] has its schema); `loudqc merge` reads both.

pub mod html;
pub mod json;
pub mod plan;
pub mod sync;
pub mod sync_html;
pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ident::IdentReport;
pub use crate::spec::Verdict;
use crate::spec::{Finding, Profile};

/// Version of the JSON schema below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Which program wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// Always `loudqc`.
    pub name: String,
    /// loudqc's version.
    pub version: String,
    /// The shard that checked it (batch with `--shard`; absent otherwise). See [`plan`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<plan::ShardInfo>,
}

impl Default for EngineInfo {
    fn default() -> Self {
        EngineInfo {
            name: "loudqc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            shard: None,
        }
    }
}

/// What the file is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatReport {
    /// Container (`wav`, `bwf`, `rf64`, `flac`, `aiff`, …).
    pub container: String,
    /// Codec (`pcm_s24le`, `flac`, …).
    pub codec: String,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Channel count.
    pub channels: usize,
    /// The channel map used for weighting, in file order.
    pub channel_map: Vec<String>,
    /// Where the map came from: `channel_mask`, `container`, `channel_count`, `user`.
    pub channel_map_source: String,
    /// BS.1770-5 weight of each channel.
    pub channel_weights: Vec<f64>,
    /// Bits per sample, when the codec has one.
    pub bits_per_sample: Option<u32>,
    /// Duration measured, seconds.
    pub duration_s: f64,
    /// Frames measured.
    pub frames: u64,
    /// MCA labelling (IMF track files and compositions only; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mca: Option<crate::decode::McaInfo>,
    /// Every audio track of a multi-track file (QuickTime/MP4, Matroska) with `measured`
    /// set on those measured; absent for single-stream files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<crate::decode::TrackInfo>,
}

/// The loudness and peak readings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoudnessReport {
    /// Integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU.
    pub loudness_range_lu: Option<f64>,
    /// Max momentary loudness, LUFS.
    pub max_momentary_lufs: Option<f64>,
    /// Max short-term loudness, LUFS.
    pub max_short_term_lufs: Option<f64>,
    /// Highest sample peak, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Sample peak per channel, dBFS.
    pub sample_peak_per_channel_dbfs: Vec<Option<f64>>,
    /// Highest true peak, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// True peak per channel, dBTP.
    pub true_peak_per_channel_dbtp: Vec<Option<f64>>,
    /// Oversampling factor of the true-peak measurement.
    pub true_peak_oversampling: u32,
    /// Where the highest true peak is, seconds.
    pub true_peak_at_s: Option<f64>,
    /// Why each `null` reading is null.
    pub null_reasons: BTreeMap<String, String>,
    /// Dialog-gated loudness, LUFS (loudqc speech gate: speech blocks only, −70 LKFS absolute
    /// gate, no relative gate). `null` when the gate is off or there is too little speech.
    #[serde(default)]
    pub dialog_gated_lufs: Option<f64>,
    /// Speech blocks over blocks above the absolute gate, percent. `null` when the gate is off
    /// or the program is silent.
    #[serde(default)]
    pub speech_percent: Option<f64>,
}

/// Which speech gate produced `dialog_gated_lufs`, and on which channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogGateReport {
    /// `loudqc speech gate (Silero VAD v5)`.
    pub detector: String,
    /// Version of the gate's model and rules.
    pub version: String,
    /// The network and its provenance.
    pub model: String,
    /// Labels of the channels the detector listened to (e.g. `["C"]`, `["L","R"]`).
    pub channels: Vec<String>,
    /// Blocks above the absolute gate classified as speech.
    pub speech_blocks: usize,
    /// Blocks above the absolute gate.
    pub gated_blocks: usize,
    /// Minimum speech share for a dialog-gated value, percent.
    pub min_speech_percent: f64,
}

/// `error` of a file that could not be analysed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable kind: `io`, `malformed`, `unsupported_format`, `unsupported_codec`,
    /// `invalid_input`, `no_audio_track`, `decode`, `invalid_samples`,
    /// `incomplete_composition` (IMF: a track file is missing).
    pub kind: String,
    /// The message, naming the file and the problem.
    pub message: String,
}

/// Everything loudqc says about one file: one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The path as given.
    pub file: String,
    /// The program that wrote this.
    pub engine: EngineInfo,
    /// The delivery profile applied.
    pub profile: Profile,
    /// What the file is (`null` if it could not be opened).
    pub format: Option<FormatReport>,
    /// The readings (`null` if not measured).
    pub loudness: Option<LoudnessReport>,
    /// The speech gate (`null` when it did not run: `--no-dialog`, or an error).
    #[serde(default)]
    pub dialog_gate: Option<DialogGateReport>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// The outcome.
    pub verdict: Verdict,
    /// Why the file could not be analysed.
    pub error: Option<ErrorReport>,
    /// The IMF composition this record measures (absent for plain files): one record per
    /// (CPL, main audio sequence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<CompositionReport>,
    /// The input file(s) measured, with size and mtime (batch mode; empty otherwise).
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    /// The timecode clock of the findings' `start_timecode`/`end_timecode` (`null` if the file
    /// could not be analysed).
    #[serde(default)]
    pub timecode: Option<TimecodeReport>,
    /// Facts from the per-sample scan: silence at head and tail, DC and clipping per channel
    /// (`null` if not scanned).
    #[serde(default)]
    pub signal: Option<SignalReport>,
    /// Loudness and true peak at 10 Hz (only with `--timeline`; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<TimelineReport>,
    /// Ident search (`--ident`), one entry per reference; absent from the JSON when no
    /// reference was given. See [`crate::ident::IdentReport`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ident: Vec<IdentReport>,
    /// Every rule of the spec with its measured value, limits and outcome (see
    /// [`crate::spec::RuleCheck`]); empty when nothing was measured.
    #[serde(default)]
    pub rules: Vec<crate::spec::RuleCheck>,
    /// The gain that brings the deciding loudness to its target, and whether true-peak
    /// headroom allows it (`null` when the spec judges no loudness or nothing was measured).
    #[serde(default)]
    pub correction: Option<crate::spec::Correction>,
    /// Channel and signal integrity measurements (absent when the scan did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<IntegrityReport>,
}

/// Channel and signal integrity measurements (issue 14); the faults are findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrityReport {
    /// Per channel pair of the layout (L/R, Ls/Rs, Lss/Rss, Lrs/Rrs).
    pub pairs: Vec<PairReport>,
    /// 5.1 → 2.0 downmix gain per ITU-R BS.775, dB (0 = no cancellation; `null`: not 5.1).
    pub downmix_51_gain_db: Option<f64>,
    /// LFE energy above its band relative to in-band, dB (`null`: no LFE, or silent).
    pub lfe_above_band_db: Option<f64>,
    /// Seconds of speech the gate heard on each channel it listened to (label → s; empty
    /// with `--no-dialog`).
    pub speech_s_per_channel: BTreeMap<String, f64>,
}

/// One channel pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    /// The labels, e.g. `L+R`.
    pub channels: String,
    /// Correlation coefficient over the windows where both are active (`null`: never both).
    pub correlation: Option<f64>,
    /// Mono downmix gain, dB (0 uncorrelated, +3 identical, very negative when cancelling;
    /// `null`: silent pair).
    pub downmix_gain_db: Option<f64>,
}

/// A stretch of a composition, in seconds from its start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeRange {
    /// What it is: `bars_and_tone`, `head_slate`, `tail_slate`, `company_logo`,
    /// `distribution_logo`.
    pub kind: String,
    /// Start, seconds from the composition start (inclusive).
    pub start_s: f64,
    /// End, seconds from the composition start (exclusive: the end of the last frame).
    pub end_s: f64,
}

/// A CPL marker placed on the composition timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkerReport {
    /// Label, e.g. `FFOC`, `FFBT`.
    pub label: String,
    /// Position, seconds from the composition start.
    pub at_s: f64,
}

/// A track file a composition uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackFileReport {
    /// Track file UUID.
    pub id: String,
    /// Where it was found (`null` when missing).
    pub path: Option<String>,
}

/// The composition part of an IMF record (`composition` in JSON).
///
/// Times are composition time: `excluded` ranges were not fed to the meter (program loudness
/// and peaks leave them out), and `loudness.true_peak_at_s` and findings' `at_s` are mapped
/// back to composition time. `ident_ranges` are the company/distribution logo ranges that bound
/// an ident search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositionReport {
    /// CPL `Id` (UUID).
    pub cpl_id: String,
    /// CPL `ContentTitle`.
    pub cpl_title: String,
    /// The CPL file.
    pub cpl_path: String,
    /// Composition edit rate, e.g. `24000/1001`.
    pub edit_rate: String,
    /// `TrackId` of the main audio sequence measured.
    pub track_id: String,
    /// RFC 5646 spoken language of the track (from the track files' MCA labels).
    pub language: Option<String>,
    /// MCA soundfield group, e.g. `sg51`.
    pub soundfield: Option<String>,
    /// False when a track file is missing: the record then has verdict `error`.
    pub complete: bool,
    /// UUIDs of the track files that are not present.
    pub missing_track_files: Vec<String>,
    /// Track files used, in first-use order.
    pub track_files: Vec<TrackFileReport>,
    /// Segments in the CPL.
    pub segments: usize,
    /// Resources of this sequence across all segments.
    pub resources: usize,
    /// Length of the audio sequence on the timeline, seconds (excluded ranges included).
    pub duration_s: f64,
    /// Ranges left out of program loudness (bars and tone, slates).
    pub excluded: Vec<TimeRange>,
    /// Company/distribution logo ranges (where an ident should be).
    pub ident_ranges: Vec<TimeRange>,
    /// All CPL markers.
    pub markers: Vec<MarkerReport>,
}

/// One input file of a record, identified as `--resume` needs it: path, size and mtime.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InputFile {
    /// The path as given or found (lossy UTF-8).
    pub path: String,
    /// Size in bytes (`null` if the file could not be stat'ed).
    pub size_bytes: Option<u64>,
    /// Modification time, whole seconds since the Unix epoch (negative before 1970).
    pub mtime_unix_s: Option<i64>,
    /// Nanoseconds past `mtime_unix_s` (0 to 999 999 999).
    pub mtime_ns: Option<u32>,
}

impl InputFile {
    /// Stat `path` (following symlinks); a file that cannot be stat'ed gets `null` fields.
    pub fn stat(path: &std::path::Path) -> InputFile {
        let meta = std::fs::metadata(path).ok();
        let (secs, nanos) = match meta.as_ref().and_then(|m| m.modified().ok()) {
            Some(t) => match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => (Some(d.as_secs() as i64), Some(d.subsec_nanos())),
                Err(e) => {
                    // Before 1970: floor to whole seconds so that `ns` stays positive.
                    let d = e.duration();
                    let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
                    if n == 0 {
                        (Some(-s), Some(0))
                    } else {
                        (Some(-s - 1), Some(1_000_000_000 - n))
                    }
                }
            },
            None => (None, None),
        };
        InputFile {
            path: path.display().to_string(),
            size_bytes: meta.map(|m| m.len()),
            mtime_unix_s: secs,
            mtime_ns: nanos,
        }
    }
}

/// The timecode clock of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimecodeReport {
    /// Frame rate: `23.976`, `24`, `25`, `29.97` (drop-frame), `30`.
    pub fps: crate::timecode::Fps,
    /// Whether labels are drop-frame (`;` before the frames).
    pub drop_frame: bool,
    /// The label of the file's first sample, e.g. `01:00:00:00`.
    pub start: String,
    /// Where the start came from: `bext`, `user` or `none` (00:00:00:00).
    pub start_source: crate::timecode::TimecodeSource,
}

/// Facts of the per-sample scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalReport {
    /// Silence (below `silence_level_dbfs` in every channel) at the head, seconds.
    pub leading_silence_s: f64,
    /// Silence at the tail, seconds.
    pub trailing_silence_s: f64,
    /// The level below which a sample is silent, dBFS.
    pub silence_level_dbfs: f64,
    /// Mean of each channel (DC offset), dBFS (`null` for a mean of exactly 0).
    pub dc_offset_per_channel_dbfs: Vec<Option<f64>>,
    /// Samples in clipping runs, per channel.
    pub clipped_samples_per_channel: Vec<u64>,
    /// The magnitude counted as full scale (linear).
    pub clip_level: f64,
}

/// Loudness and true peak every 100 ms, compact: numbers rounded to 0.1 dB.
///
/// Entry `k` of every array is the reading at `(k + 1) · interval_s` from the start of the file:
/// `momentary_lufs` the 400 ms window ending there (`null` for the first three entries, before
/// a window is complete), `short_term_lufs` the 3 s window ending there (`null` for the first 29),
/// `true_peak_dbtp` the largest true peak over all channels in the 100 ms ending there. Loudness
/// below the −70 LUFS absolute gate (BS.1770-5 §2.3) and digital silence are `null`. All three
/// arrays have one entry per complete 100 ms of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineReport {
    /// Spacing of the entries, seconds (0.1).
    pub interval_s: f64,
    /// Momentary loudness, LUFS.
    pub momentary_lufs: Vec<Option<f64>>,
    /// Short-term loudness, LUFS.
    pub short_term_lufs: Vec<Option<f64>>,
    /// True peak, dBTP (all `null` when true peak was not measured).
    pub true_peak_dbtp: Vec<Option<f64>>,
    /// Where the speech gate heard dialogue: `[start_s, end_s]` stretches, merged (empty when
    /// the gate was off or heard none).
    #[serde(default)]
    pub speech_s: Vec<[f64; 2]>,
}

impl FileReport {
    /// The report of a file that could not be analysed.
    pub fn from_error(file: &str, profile: &Profile, err: &crate::error::Error) -> FileReport {
        FileReport {
            integrity: None,
            schema_version: SCHEMA_VERSION,
            file: file.to_string(),
            engine: EngineInfo::default(),
            profile: profile.clone(),
            format: None,
            loudness: None,
            dialog_gate: None,
            findings: Vec::new(),
            verdict: Verdict::Error,
            error: Some(ErrorReport {
                kind: err.kind_name().into(),
                message: err.to_string(),
            }),
            composition: None,
            inputs: Vec::new(),
            timecode: None,
            signal: None,
            timeline: None,
            ident: Vec::new(),
            rules: Vec::new(),
            correction: None,
        }
    }
}

/// One line about one window of an ident search, for the terminal: status, place, score,
/// level, coverage and alterations.
pub fn ident_line(m: &crate::ident::IdentMatch) -> String {
    use crate::ident::IdentStatus;
    let status = match m.status {
        IdentStatus::Present => "PRESENT",
        IdentStatus::Partial => "PARTIAL",
        IdentStatus::Review => "REVIEW",
        IdentStatus::Absent => "absent",
    };
    let mut s = format!("{status:<8} score {:.2}", m.score);
    if let (Some(o), Some(n)) = (m.offset_s, m.offset_samples) {
        s += &format!(
            "  at {} (sample {n})",
            crate::timecode::seconds_to_clock(o.max(0.0))
        );
        if o < 0.0 {
            s += &format!(" [starts {:.3} s before the file]", -o);
        }
    }
    if let Some(g) = m.gain_db {
        s += &format!("  gain {g:+.2} dB");
    }
    if m.count > 1 {
        let at: Vec<String> = m
            .copies
            .iter()
            .map(|c| crate::timecode::seconds_to_clock((c.offset_s + c.cut_start_s).max(0.0)))
            .collect();
        s += &format!("  {} COPIES at {}", m.count, at.join(", "));
    }
    if m.status != IdentStatus::Absent {
        s += &format!("  coverage {:.2}", m.coverage);
    }
    if let Some(gap) = m.end_gap_s {
        s += &format!("  end gap {gap:.3} s");
    }
    if let Some(n) = m.null_score {
        s += &format!("  (body {n:.2}, needs {:.2})", m.threshold);
    }
    for a in &m.alterations {
        s += &format!("; {}", a.message);
    }
    s
}
