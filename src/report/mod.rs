//! Reports: the serde types of a file's result (the JSON schema) and the printers.
//!
//! # JSON schema (`schema_version` 1)
//!
//! `loudqc check --format json` writes one object per file per line (JSON Lines):
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "file": "path/as/given.wav",
//!   "engine": {"name": "loudqc", "version": "0.1.0"},
//!   "profile": {"name": "streaming", "integrated_target_lufs": -24.0,
//!               "integrated_tolerance_lu": 3.0, "max_true_peak_dbtp": -1.0,
//!               "max_loudness_range_lu": null},
//!   "format": {"container": "wav", "codec": "pcm_s24le", "sample_rate_hz": 48000,
//!              "channels": 6, "channel_map": ["L","R","C","LFE","Ls","Rs"],
//!              "channel_map_source": "channel_mask", "channel_weights": [1.0,1.0,1.0,0.0,1.41,1.41],
//!              "bits_per_sample": 24, "duration_s": 600.0, "frames": 28800000},
//!   "loudness": {"integrated_lufs": -24.1, "loudness_range_lu": 7.2,
//!                "max_momentary_lufs": -14.0, "max_short_term_lufs": -17.2,
//!                "sample_peak_dbfs": -1.3, "sample_peak_per_channel_dbfs": [..],
//!                "true_peak_dbtp": -0.9, "true_peak_per_channel_dbtp": [..],
//!                "true_peak_oversampling": 4, "true_peak_at_s": 192.345,
//!                "null_reasons": {"loudness_range_lu": "input shorter than one 3 s short-term window"}},
//!   "findings": [{"code": "TRUE_PEAK_OVER", "severity": "blocker", "message": "...",
//!                 "value": -0.9, "limit": -1.0, "at_s": 192.345, "timecode": "00:03:12.345",
//!                 "channel": "L"}],
//!   "verdict": "fail",
//!   "error": null,
//!   "ident": [{"reference": "ident.wav", "reference_duration_s": 3.5,
//!              "head": {"status": "present", "found": true, "offset_s": 2.0,
//!                       "offset_samples": 96000, "score": 0.97, "matched_score": 0.97,
//!                       "quarter_scores": [..4], "gain_db": -0.02, "polarity_inverted": false,
//!                       "coverage": 1.0, "cut_start_s": 0.0, "cut_end_s": 0.0,
//!                       "end_gap_s": null, "speed_factor": 1.0, "channels_match": true,
//!                       "ident_channels": ["L","R"], "null_score": 0.21, "threshold": 0.5,
//!                       "window_start_s": 0.0, "window_end_s": 33.5, "alterations": []},
//!              "tail": {.. the same, with "end_gap_s"}}]
//! }
//! ```
//!
//! Units are in the field names (`_lufs`, `_lu`, `_dbfs`, `_dbtp`, `_s`, `_hz`). A value that
//! could not be measured (silence, input too short) is `null`, and `loudness.null_reasons` says
//! why — never `-inf` or `NaN`. A file that could not be analysed has `"verdict": "error"`,
//! `format`/`loudness` `null` (or present, if the failure came late), and
//! `"error": {"kind": "...", "message": "..."}`. `ident` is present only when references were
//! given (`--ident`); `status` is `present`, `partial` (trimmed), `review` or `absent`, and
//! the place/level fields are `null` when absent. Fields are only ever added within a schema
//! version.

pub mod json;
pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ident::IdentReport;
use crate::spec::{Finding, Profile};

/// Version of the JSON schema below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The outcome for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Measured, and no blocker.
    Pass,
    /// Measured, with at least one blocker.
    Fail,
    /// Could not be analysed (or its samples are not trustworthy).
    Error,
}

/// Which program wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// Always `loudqc`.
    pub name: String,
    /// loudqc's version.
    pub version: String,
}

impl Default for EngineInfo {
    fn default() -> Self {
        EngineInfo {
            name: "loudqc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
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
}

/// `error` of a file that could not be analysed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable kind: `io`, `malformed`, `unsupported_format`, `unsupported_codec`,
    /// `invalid_input`, `no_audio_track`, `decode`, `invalid_samples`.
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
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// The outcome.
    pub verdict: Verdict,
    /// Why the file could not be analysed.
    pub error: Option<ErrorReport>,
    /// Ident search (`--ident`), one entry per reference; absent from the JSON when no
    /// reference was given. See [`crate::ident::IdentReport`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ident: Vec<IdentReport>,
}

impl FileReport {
    /// The report of a file that could not be analysed.
    pub fn from_error(file: &str, profile: &Profile, err: &crate::error::Error) -> FileReport {
        FileReport {
            schema_version: SCHEMA_VERSION,
            file: file.to_string(),
            engine: EngineInfo::default(),
            profile: profile.clone(),
            format: None,
            loudness: None,
            findings: Vec::new(),
            verdict: Verdict::Error,
            error: Some(ErrorReport {
                kind: err.kind_name().into(),
                message: err.to_string(),
            }),
            ident: Vec::new(),
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
