//! The record of `loudqc sync`: one JSON object per audio file checked against a reference.
//!
//! ```json
//! {"schema_version": 1, "file": "pm.wav", "reference": "proxy.mp4", "reference_kind": "final",
//!  "fps": "24",
//!  "sync": {"status": "offset", "offset_s": 0.0417, "offset_samples": 2000,
//!           "offset_frames": 1.0, "drift_ppm": 0.0, "drift_frames_at_end": 0.0,
//!           "drift_exceeds_frame_at_s": null, "lead_in_trimmed_s": 0.0,
//!           "reference_lead_in_trimmed_s": 0.0,
//!           "sections": [{"start_s": 0.0, "end_s": 180.0, "offset_s": 0.0417,
//!                         "status": "aligned", "ref_start_s": 0.0, "ref_end_s": 179.96}],
//!           "confidence": 1.0, "audio_rate_hz": 48000, "reference_rate_hz": 48000,
//!           "audio_duration_s": 180.0, "reference_duration_s": 180.0},
//!  "findings": [{"code": "SYNC_OFFSET", "severity": "blocker", …}],
//!  "verdict": "fail", "error": null,
//!  "inputs": [{"path": "pm.wav", "size_bytes": 103680044, "mtime_unix_s": 1764740000,
//!              "mtime_ns": 0}],
//!  "reference_inputs": [{"path": "proxy.mp4", …}]}
//! ```
//!
//! `offset_s`, `offset_samples`, `offset_frames`, `drift_*` are `null` when the audio was not
//! found in the reference (`status: "mismatch"`, low `confidence`): loudqc never reports an
//! offset it did not measure. `local_offsets` (one per second along the audio) is only in the
//! record with `--plot`.

use serde::{Deserialize, Serialize};

use super::{ErrorReport, InputFile, Verdict};
use crate::spec::sync::{self as rules, ReferenceKind, SyncLimits, SyncStatus};
use crate::spec::{Finding, Severity};
use crate::sync::{Alignment, LocalOffset, Section};
use crate::timecode::{Fps, Timecode};

/// Version of this record's schema.
pub const SYNC_SCHEMA_VERSION: u32 = 1;

/// The `sync` object: the alignment with its frame counts and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncSummary {
    /// `in_sync`, `offset`, `drift` or `mismatch`.
    pub status: SyncStatus,
    /// Offset at the programme start, seconds, audio late = positive.
    pub offset_s: Option<f64>,
    /// The same in samples at the audio's rate.
    pub offset_samples: Option<i64>,
    /// The same in frames at `fps`.
    pub offset_frames: Option<f64>,
    /// Linear drift, ppm (audio runs long = positive).
    pub drift_ppm: Option<f64>,
    /// Drift accumulated by the end of the programme, frames.
    pub drift_frames_at_end: Option<f64>,
    /// Where the drift alone first reaches one frame, seconds in the audio (if it does).
    pub drift_exceeds_frame_at_s: Option<f64>,
    /// Lead-in (tone, pops, silence around them) trimmed from the audio's head, seconds.
    pub lead_in_trimmed_s: f64,
    /// Lead-in trimmed from the reference's head, seconds.
    pub reference_lead_in_trimmed_s: f64,
    /// The audio timeline in sections.
    pub sections: Vec<Section>,
    /// Share (0..1) of the audio's active windows that match the reference.
    pub confidence: f64,
    /// Audio sample rate, Hz.
    pub audio_rate_hz: u32,
    /// Reference sample rate, Hz.
    pub reference_rate_hz: u32,
    /// Audio duration, seconds.
    pub audio_duration_s: f64,
    /// Reference duration, seconds.
    pub reference_duration_s: f64,
    /// Local offsets along the programme (only with `--plot` / `--html`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_offsets: Vec<LocalOffset>,
}

impl SyncSummary {
    /// Summarise `a` under `limits`; `plot` keeps the local offsets.
    pub fn new(a: &Alignment, limits: &SyncLimits, plot: bool) -> SyncSummary {
        SyncSummary {
            status: rules::status(a, limits),
            offset_s: a.offset_s,
            offset_samples: a.offset_samples,
            offset_frames: rules::offset_frames(a, limits),
            drift_ppm: a.drift_ppm,
            drift_frames_at_end: rules::drift_frames_at_end(a, limits),
            drift_exceeds_frame_at_s: rules::drift_exceeds_frame_at_s(a, limits),
            lead_in_trimmed_s: a.lead_in_trimmed_s,
            reference_lead_in_trimmed_s: a.reference_lead_in_trimmed_s,
            sections: a.sections.clone(),
            confidence: a.confidence,
            audio_rate_hz: a.audio_rate_hz,
            reference_rate_hz: a.reference_rate_hz,
            audio_duration_s: a.audio_duration_s,
            reference_duration_s: a.reference_duration_s,
            local_offsets: if plot {
                a.local_offsets.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// One `loudqc sync` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// Version of this schema.
    pub schema_version: u32,
    /// The audio checked.
    pub file: String,
    /// The reference it was checked against.
    pub reference: String,
    /// What the reference is (decides the severities).
    pub reference_kind: ReferenceKind,
    /// Frame rate of the frame counts and timecodes.
    pub fps: Fps,
    /// The alignment; `null` when either file could not be read.
    pub sync: Option<SyncSummary>,
    /// Findings (`SYNC_OFFSET`, `SYNC_DRIFT`, `CONFORM_MISMATCH`).
    pub findings: Vec<Finding>,
    /// `pass`, `fail` (a blocker) or `error`.
    pub verdict: Verdict,
    /// Why the pair could not be checked.
    pub error: Option<ErrorReport>,
    /// The audio's file(s) with size and mtime (a multi-mono set's members, an IMF
    /// composition's CPL and track files): what `--resume` compares.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    /// The reference's file(s), the same way.
    #[serde(default)]
    pub reference_inputs: Vec<InputFile>,
}

impl SyncRecord {
    /// The record of a completed alignment.
    pub fn new(
        file: &str,
        reference: &str,
        kind: ReferenceKind,
        limits: &SyncLimits,
        a: &Alignment,
        plot: bool,
    ) -> SyncRecord {
        let tc = Timecode::zero(limits.fps);
        let findings: Vec<Finding> = rules::findings(a, kind, limits)
            .into_iter()
            .map(|f| f.with_timecodes(&tc))
            .collect();
        let verdict = if findings.iter().any(|f| f.severity == Severity::Blocker) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        SyncRecord {
            schema_version: SYNC_SCHEMA_VERSION,
            file: file.into(),
            reference: reference.into(),
            reference_kind: kind,
            fps: limits.fps,
            sync: Some(SyncSummary::new(a, limits, plot)),
            findings,
            verdict,
            error: None,
            inputs: Vec::new(),
            reference_inputs: Vec::new(),
        }
    }

    /// The record of a pair that could not be checked.
    pub fn from_error(
        file: &str,
        reference: &str,
        kind: ReferenceKind,
        limits: &SyncLimits,
        err: &crate::error::Error,
    ) -> SyncRecord {
        SyncRecord {
            schema_version: SYNC_SCHEMA_VERSION,
            file: file.into(),
            reference: reference.into(),
            reference_kind: kind,
            fps: limits.fps,
            sync: None,
            findings: Vec::new(),
            verdict: Verdict::Error,
            error: Some(ErrorReport {
                kind: err.kind_name().into(),
                message: err.to_string(),
            }),
            inputs: Vec::new(),
            reference_inputs: Vec::new(),
        }
    }

    /// The record with the files it was made from (what `--resume` compares).
    pub fn with_inputs(mut self, audio: Vec<InputFile>, reference: Vec<InputFile>) -> Self {
        self.inputs = audio;
        self.reference_inputs = reference;
        self
    }

    /// A readable summary, several lines.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}  vs  {} ({} reference)",
            self.file,
            self.reference,
            self.reference_kind.name()
        );
        if let Some(e) = &self.error {
            let _ = writeln!(s, "  ERROR  {}", e.message);
            return s;
        }
        if let Some(y) = &self.sync {
            let status = match y.status {
                SyncStatus::InSync => "in sync",
                SyncStatus::Offset => "offset",
                SyncStatus::Drift => "drift",
                SyncStatus::Mismatch => "mismatch",
            };
            let _ = writeln!(s, "  status      {status} (confidence {:.2})", y.confidence);
            if let (Some(o), Some(n), Some(f)) = (y.offset_s, y.offset_samples, y.offset_frames) {
                let _ = writeln!(
                    s,
                    "  offset      {:+.3} ms = {n:+} samples = {f:+.2} frames at {} fps (audio late = +)",
                    o * 1000.0,
                    self.fps.name()
                );
            }
            if let (Some(d), Some(f)) = (y.drift_ppm, y.drift_frames_at_end) {
                let _ = writeln!(s, "  drift       {d:+.2} ppm = {f:+.2} frames by the end");
            }
            if y.lead_in_trimmed_s > 0.0 || y.reference_lead_in_trimmed_s > 0.0 {
                let _ = writeln!(
                    s,
                    "  lead-in     {:.3} s trimmed from the audio, {:.3} s from the reference",
                    y.lead_in_trimmed_s, y.reference_lead_in_trimmed_s
                );
            }
            for sec in &y.sections {
                let off = sec
                    .offset_s
                    .map_or(String::new(), |o| format!(" offset {:+.3} ms", o * 1000.0));
                let _ = writeln!(
                    s,
                    "  section     {:>9.2} s – {:>9.2} s  {:?}{off}",
                    sec.start_s, sec.end_s, sec.status
                );
            }
        }
        for f in &self.findings {
            let _ = writeln!(
                s,
                "  {:<7}  {:<16}  {}  {}",
                f.severity.label(),
                f.code,
                f.start_timecode.as_deref().unwrap_or(""),
                f.message
            );
        }
        let _ = writeln!(
            s,
            "  verdict     {}",
            match self.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Error => "ERROR",
            }
        );
        s
    }
}
