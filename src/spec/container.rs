//! Container rules: what the decoder observed about a file's container
//! ([`ContainerObservations`]: size fields, audio tracks) → findings.
//!
//! Pure: no I/O. The decoders only report what they saw; the severities are decided here, from
//! [`ContainerLimits`].

use super::Code;
use serde::{Deserialize, Serialize};

use super::{Finding, Severity};
use crate::decode::{ContainerObservations, TrackSelection};

/// The WAV/RF64/Wave64 data size field held an "unknown length" marker; the audio was read to
/// the end of the file.
pub const CONTAINER_SIZE_UNSET: Code = Code::CONTAINER_SIZE_UNSET;
/// The file has more audio tracks than were measured; the message names them.
pub const OTHER_TRACKS_SKIPPED: Code = Code::OTHER_TRACKS_SKIPPED;
/// Several audio tracks (e.g. six mono tracks of a QuickTime master) were measured as one
/// programme.
pub const TRACKS_COMBINED: Code = Code::TRACKS_COMBINED;

/// How the container rules grade what they find. A house spec may, for instance, make a
/// WAV written to a pipe an issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerLimits {
    /// Severity of [`CONTAINER_SIZE_UNSET`] (default: info; the audio is all there).
    pub size_unset: Severity,
    /// Severity of [`OTHER_TRACKS_SKIPPED`] when loudqc chose the track (default: issue: an
    /// operator should check that the programme is the track measured).
    pub other_tracks_skipped: Severity,
    /// Severity of [`OTHER_TRACKS_SKIPPED`] when the user chose the tracks with `--track`
    /// (default: info).
    pub other_tracks_skipped_by_user: Severity,
    /// Severity of [`TRACKS_COMBINED`] (default: info).
    pub tracks_combined: Severity,
}

impl Default for ContainerLimits {
    fn default() -> Self {
        ContainerLimits {
            size_unset: Severity::Info,
            other_tracks_skipped: Severity::Issue,
            other_tracks_skipped_by_user: Severity::Info,
            tracks_combined: Severity::Info,
        }
    }
}

/// The findings about a container: one per fact, none for an ordinary file.
pub fn evaluate(obs: &ContainerObservations, limits: &ContainerLimits) -> Vec<Finding> {
    let mut out = Vec::new();
    if obs.size_fields_unset {
        out.push(Finding::new(CONTAINER_SIZE_UNSET, "the data size in the header is unset (0 or an 'unknown length' marker: written to \
             a pipe, or a recording never finalised); the audio was read to the end of the file").severity(limits.size_unset));
    }
    if obs.tracks.len() > 1 {
        let measured: Vec<&str> = obs
            .tracks
            .iter()
            .filter(|t| obs.measured_tracks.contains(&t.index))
            .map(|t| t.label.as_str())
            .collect();
        let skipped: Vec<String> = obs
            .tracks
            .iter()
            .filter(|t| !obs.measured_tracks.contains(&t.index))
            .map(|t| t.describe())
            .collect();
        if obs.selection == TrackSelection::Combined && measured.len() > 1 {
            let by = if obs.combined_by_names {
                "channels mapped from the track names"
            } else {
                "channels mapped in track order"
            };
            out.push(
                Finding::new(
                    TRACKS_COMBINED,
                    format!(
                        "{} audio tracks ({}) measured as one {}-channel programme ({by})",
                        measured.len(),
                        measured.join(", "),
                        obs.tracks
                            .iter()
                            .filter(|t| obs.measured_tracks.contains(&t.index))
                            .map(|t| t.channels)
                            .sum::<usize>(),
                    ),
                )
                .severity(limits.tracks_combined)
                .value(measured.len() as f64, None),
            );
        }
        if !skipped.is_empty() {
            let (severity, why) = if obs.selection == TrackSelection::User {
                (
                    limits.other_tracks_skipped_by_user,
                    "as chosen with --track",
                )
            } else {
                (
                    limits.other_tracks_skipped,
                    "choose others with --track N (repeatable)",
                )
            };
            out.push(
                Finding::new(
                    OTHER_TRACKS_SKIPPED,
                    format!(
                        "measured {} of {} audio tracks ({}); not measured: {} ({why})",
                        measured.len(),
                        obs.tracks.len(),
                        measured.join(", "),
                        skipped.join("; "),
                    ),
                )
                .severity(severity)
                .value(skipped.len() as f64, Some(0.0)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TrackInfo;

    fn track(index: usize, channels: usize, name: Option<&str>) -> TrackInfo {
        TrackInfo::new(index, "pcm_s24le", channels, 48_000, Some(480_000))
            .with_language(Some("eng".into()))
            .with_name(name.map(str::to_string))
    }

    #[test]
    fn an_ordinary_file_has_no_container_findings() {
        let obs = ContainerObservations::default();
        assert!(evaluate(&obs, &ContainerLimits::default()).is_empty());
    }

    #[test]
    fn unset_sizes_are_info_by_default_and_graded_by_the_limits() {
        let obs = ContainerObservations {
            size_fields_unset: true,
            ..Default::default()
        };
        let f = evaluate(&obs, &ContainerLimits::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, CONTAINER_SIZE_UNSET);
        assert_eq!(f[0].severity, Severity::Info);
        let strict = ContainerLimits {
            size_unset: Severity::Blocker,
            ..Default::default()
        };
        assert_eq!(evaluate(&obs, &strict)[0].severity, Severity::Blocker);
    }

    #[test]
    fn skipped_tracks_are_named_and_graded_by_who_chose() {
        let obs = ContainerObservations {
            tracks: vec![track(1, 2, Some("Stereo")), track(2, 2, Some("M&E"))],
            measured_tracks: vec![1],
            selection: TrackSelection::Default,
            ..Default::default()
        };
        let f = evaluate(&obs, &ContainerLimits::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, OTHER_TRACKS_SKIPPED);
        assert_eq!(f[0].severity, Severity::Issue);
        assert_eq!(f[0].value, Some(1.0));
        assert!(f[0].message.contains("track 2"), "{}", f[0].message);
        assert!(f[0].message.contains("M&E"), "{}", f[0].message);
        let user = ContainerObservations {
            selection: TrackSelection::User,
            ..obs
        };
        assert_eq!(
            evaluate(&user, &ContainerLimits::default())[0].severity,
            Severity::Info
        );
    }

    #[test]
    fn combined_tracks_say_so_and_skip_nothing() {
        let obs = ContainerObservations {
            tracks: (1..=6).map(|i| track(i, 1, None)).collect(),
            measured_tracks: (1..=6).collect(),
            selection: TrackSelection::Combined,
            ..Default::default()
        };
        let f = evaluate(&obs, &ContainerLimits::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, TRACKS_COMBINED);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].value, Some(6.0));
        assert!(f[0].message.contains("6-channel"), "{}", f[0].message);
    }
}
