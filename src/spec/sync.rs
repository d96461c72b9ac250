//! Sync and conform rules: an [`Alignment`] (what `sync::align` saw) and [`SyncLimits`] →
//! findings, with the severity from the kind of reference.
//!
//! The delivery spec ranks picture references: the final proxy derived from the delivered IMF
//! has final timing, so any discrepancy means the separately delivered audio is another version
//! (**blocker**); a servicing-turnover, locked-cut or stage-mix reference is not final, so a
//! discrepancy is an **issue** for an operator. Offsets and drifts are judged in video frames
//! at `--fps` (one frame of lip sync is what a viewer can see; EBU R37 puts the detectability
//! threshold of audio lead/lag at about +40 / −60 ms, one frame at 24/25 fps).

use super::Code;
use serde::{Deserialize, Serialize};

use crate::spec::{Finding, Severity};
use crate::sync::{Alignment, SectionStatus};
use crate::timecode::Fps;

/// The audio's offset against the reference is at least the limit (one frame).
pub const SYNC_OFFSET: Code = Code::SYNC_OFFSET;
/// The audio's time base drifts against the reference by at least the limit by the end.
pub const SYNC_DRIFT: Code = Code::SYNC_DRIFT;
/// A section of the audio does not match the reference (inserted, deleted, replaced, or the
/// whole programme is another one).
pub const CONFORM_MISMATCH: Code = Code::CONFORM_MISMATCH;

/// What the reference is, in the delivery spec's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceKind {
    /// The final proxy derived from the delivered IMF: its timing is final.
    #[default]
    Final,
    /// A servicing-turnover proxy.
    Turnover,
    /// A locked-cut proxy.
    LockedCut,
    /// A stage-mix reference supplied with an M&E.
    StageMix,
}

impl ReferenceKind {
    /// Every kind, in `--reference-kind` order.
    pub const ALL: [ReferenceKind; 4] = [
        ReferenceKind::Final,
        ReferenceKind::Turnover,
        ReferenceKind::LockedCut,
        ReferenceKind::StageMix,
    ];

    /// The `--reference-kind` spelling.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceKind::Final => "final",
            ReferenceKind::Turnover => "turnover",
            ReferenceKind::LockedCut => "locked-cut",
            ReferenceKind::StageMix => "stage-mix",
        }
    }

    /// Parse the `--reference-kind` spelling.
    pub fn parse(s: &str) -> Option<ReferenceKind> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The severity of a discrepancy against this kind of reference: final → blocker, the
    /// others → issue.
    pub fn severity(self) -> Severity {
        match self {
            ReferenceKind::Final => Severity::Blocker,
            _ => Severity::Issue,
        }
    }
}

/// Limits of the sync rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLimits {
    /// Picture frame rate the limits are counted in (`--fps`).
    pub fps: Fps,
    /// An offset of this many frames or more is a finding (compared at 0.01 frame).
    pub max_offset_frames: f64,
    /// A drift reaching this many frames by the end of the programme is a finding.
    pub max_drift_frames: f64,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            fps: Fps::default(),
            max_offset_frames: 1.0,
            max_drift_frames: 1.0,
        }
    }
}

impl SyncLimits {
    /// Limits counted at `fps`.
    pub fn at_fps(fps: Fps) -> SyncLimits {
        SyncLimits {
            fps,
            ..SyncLimits::default()
        }
    }

    /// One frame, seconds.
    pub fn frame_s(&self) -> f64 {
        let (n, d) = self.fps.real_rate();
        d as f64 / n as f64
    }
}

/// The one-word verdict of an alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Aligned everywhere, offset and drift under the limits.
    InSync,
    /// Aligned everywhere, but offset by the limit or more.
    Offset,
    /// Aligned everywhere, but drifting by the limit or more by the end.
    Drift,
    /// Some or all of the audio does not match the reference.
    Mismatch,
}

/// Round to 0.01 (frames), so that exactly one frame is one frame.
fn hundredth(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Offset in frames at the limits' rate.
pub fn offset_frames(a: &Alignment, limits: &SyncLimits) -> Option<f64> {
    a.offset_s.map(|o| o / limits.frame_s())
}

/// Programme length the drift acts over (after the lead-in), seconds.
fn programme_s(a: &Alignment) -> f64 {
    (a.audio_duration_s - a.lead_in_trimmed_s).max(0.0)
}

/// Drift accumulated by the end of the programme, frames.
pub fn drift_frames_at_end(a: &Alignment, limits: &SyncLimits) -> Option<f64> {
    a.drift_ppm
        .map(|d| d * 1e-6 * programme_s(a) / limits.frame_s())
}

/// Where (seconds in the audio file) the drift alone first reaches one frame, if it does
/// within the programme.
pub fn drift_exceeds_frame_at_s(a: &Alignment, limits: &SyncLimits) -> Option<f64> {
    let d = a.drift_ppm?.abs() * 1e-6;
    if d <= 0.0 {
        return None;
    }
    let t = limits.frame_s() / d;
    (t <= programme_s(a)).then_some(a.lead_in_trimmed_s + t)
}

/// The status of an alignment under the limits.
pub fn status(a: &Alignment, limits: &SyncLimits) -> SyncStatus {
    if !a.matched
        || a.sections
            .iter()
            .any(|s| s.status != SectionStatus::Aligned)
    {
        SyncStatus::Mismatch
    } else if drift_frames_at_end(a, limits)
        .is_some_and(|f| hundredth(f.abs()) >= limits.max_drift_frames)
    {
        SyncStatus::Drift
    } else if offset_frames(a, limits)
        .is_some_and(|f| hundredth(f.abs()) >= limits.max_offset_frames)
    {
        SyncStatus::Offset
    } else {
        SyncStatus::InSync
    }
}

/// Findings of an alignment against a reference of `kind`.
pub fn findings(a: &Alignment, kind: ReferenceKind, limits: &SyncLimits) -> Vec<Finding> {
    let sev = kind.severity();
    let against = format!("the {} reference", kind.name());
    let mut out = Vec::new();
    if !a.matched {
        out.push(
            Finding::new(
                CONFORM_MISMATCH,
                format!(
                    "the audio does not match {against} (confidence {:.2}): another programme \
                     or version?",
                    a.confidence
                ),
            )
            .severity(sev)
            .span(a.lead_in_trimmed_s, a.audio_duration_s),
        );
        return out;
    }
    let fps = limits.fps.name();
    if let Some(f) = offset_frames(a, limits) {
        if hundredth(f.abs()) >= limits.max_offset_frames {
            let o = a.offset_s.unwrap_or(0.0);
            out.push(
                Finding::new(
                    SYNC_OFFSET,
                    format!(
                        "the audio is {:.1} ms ({:.2} frames at {fps} fps) {} against {against}",
                        o.abs() * 1000.0,
                        f.abs(),
                        if o > 0.0 { "late" } else { "early" }
                    ),
                )
                .severity(sev)
                .value(hundredth(f), Some(limits.max_offset_frames))
                .at(a.lead_in_trimmed_s),
            );
        }
    }
    if let Some(f) = drift_frames_at_end(a, limits) {
        if hundredth(f.abs()) >= limits.max_drift_frames {
            let at = drift_exceeds_frame_at_s(a, limits).unwrap_or(a.audio_duration_s);
            out.push(
                Finding::new(
                    SYNC_DRIFT,
                    format!(
                        "the audio drifts {:+.1} ppm against {against}: {:.2} frames at {fps} fps \
                         by the end, one frame from {:.1} s",
                        a.drift_ppm.unwrap_or(0.0),
                        f.abs(),
                        at
                    ),
                )
                .severity(sev)
                .value(hundredth(f), Some(limits.max_drift_frames))
                .at(at),
            );
        }
    }
    for s in &a.sections {
        let what = match s.status {
            SectionStatus::Aligned => continue,
            SectionStatus::Mismatch => format!(
                "{:.1} s of audio do not match {against}",
                s.end_s - s.start_s
            ),
            SectionStatus::MissingInReference => format!(
                "{:.1} s of audio are not in {against} (inserted material)",
                s.end_s - s.start_s
            ),
            SectionStatus::MissingInAudio => format!(
                "{:.1} s of {against} are missing from the audio (deleted material, reference \
                 {:.1} s to {:.1} s)",
                (s.ref_end_s.unwrap_or(0.0) - s.ref_start_s.unwrap_or(0.0)).abs(),
                s.ref_start_s.unwrap_or(0.0),
                s.ref_end_s.unwrap_or(0.0)
            ),
        };
        out.push(
            Finding::new(CONFORM_MISMATCH, what)
                .severity(sev)
                .span(s.start_s, s.end_s),
        );
    }
    out
}
