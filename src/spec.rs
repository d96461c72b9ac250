//! Delivery specifications: profiles, and the pure rule [`evaluate`] from measurements to
//! findings. No I/O here.
//!
//! Comparisons are made at 0.01 dB resolution (the value is rounded to two decimals first), so a
//! true peak of exactly −1.0 dBTP passes a −1.0 dBTP limit whatever the last bits of its
//! floating-point reading, while −0.99 dBTP fails it.

use serde::{Deserialize, Serialize};

pub mod container;

use crate::dialog::DialogMeasurement;
use crate::meter::Measurements;
use crate::timecode::{seconds_to_clock, Timecode};

/// How bad a finding is, in delivery-QC practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A fact worth knowing; never fails a file.
    Info,
    /// An operator should look; does not fail the file by itself.
    Issue,
    /// A spec violation on a deliverable: the file fails.
    Blocker,
}

impl Severity {
    /// Upper-case label for terminal output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Issue => "ISSUE",
            Severity::Blocker => "BLOCKER",
        }
    }
}

/// One QC finding: what, how bad, the value against the limit, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine code, e.g. `TRUE_PEAK_OVER` (see `docs/findings.md`).
    pub code: String,
    /// How bad it is.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// The measured value (unit in the message), if any.
    pub value: Option<f64>,
    /// The limit it was compared with, if any.
    pub limit: Option<f64>,
    /// Where it happens, seconds from the start of the file.
    pub at_s: Option<f64>,
    /// `at_s` as `HH:MM:SS.mmm`.
    pub timecode: Option<String>,
    /// The channel concerned (label), if any.
    pub channel: Option<String>,
    /// Where the problem starts, seconds from the start of the file (a point finding has
    /// `start_s == end_s`).
    #[serde(default)]
    pub start_s: Option<f64>,
    /// Where it ends, seconds (exclusive).
    #[serde(default)]
    pub end_s: Option<f64>,
    /// `start_s` as SMPTE timecode `HH:MM:SS:FF` (`;FF` at 29.97 drop-frame), offset by the
    /// file's start timecode (see `timecode` in the report).
    #[serde(default)]
    pub start_timecode: Option<String>,
    /// `end_s` as SMPTE timecode.
    #[serde(default)]
    pub end_timecode: Option<String>,
}

impl Finding {
    /// A finding with no value, limit or place.
    pub fn new(code: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity,
            message: message.into(),
            value: None,
            limit: None,
            at_s: None,
            timecode: None,
            channel: None,
            start_s: None,
            end_s: None,
            start_timecode: None,
            end_timecode: None,
        }
    }

    /// Set the measured value and its limit.
    pub fn value(mut self, value: f64, limit: Option<f64>) -> Finding {
        self.value = Some(value);
        self.limit = limit;
        self
    }

    /// Set the place (seconds from the start) and its timecode.
    pub fn at(mut self, at_s: f64) -> Finding {
        self.at_s = Some(at_s);
        self.timecode = Some(seconds_to_clock(at_s));
        self
    }

    /// Set the extent, seconds from the start (end exclusive). Also sets `at_s` to `start_s`
    /// when no place was set.
    pub fn span(mut self, start_s: f64, end_s: f64) -> Finding {
        self.start_s = Some(start_s);
        self.end_s = Some(end_s);
        if self.at_s.is_none() {
            self = self.at(start_s);
        }
        self
    }

    /// Set the channel label.
    pub fn on_channel(mut self, label: impl Into<String>) -> Finding {
        self.channel = Some(label.into());
        self
    }

    /// Fill `start_timecode`/`end_timecode` from `tc`. A finding with only a place (`at_s`)
    /// becomes a point: `start_s = end_s = at_s`.
    pub fn with_timecodes(mut self, tc: &Timecode) -> Finding {
        if self.start_s.is_none() {
            if let Some(at) = self.at_s {
                self.start_s = Some(at);
                self.end_s = Some(at);
            }
        }
        self.start_timecode = self.start_s.map(|s| tc.at(s));
        self.end_timecode = self.end_s.map(|s| tc.at(s));
        self
    }
}

/// Stable finding codes.
pub mod codes {
    /// True peak above the profile's maximum.
    pub const TRUE_PEAK_OVER: &str = "TRUE_PEAK_OVER";
    /// Loudness outside the profile's target ± tolerance.
    pub const LOUDNESS_OUT_OF_RANGE: &str = "LOUDNESS_OUT_OF_RANGE";
    /// Integrated loudness could not be measured (silence or too short).
    pub const LOUDNESS_UNMEASURABLE: &str = "LOUDNESS_UNMEASURABLE";
    /// Loudness range above the profile's maximum.
    pub const LOUDNESS_RANGE_OVER: &str = "LOUDNESS_RANGE_OVER";
    /// NaN or infinite samples in a float file.
    pub const NON_FINITE_SAMPLES: &str = "NON_FINITE_SAMPLES";
    /// Packets the decoder could not decode were skipped.
    pub const DECODE_SKIPPED_PACKETS: &str = "DECODE_SKIPPED_PACKETS";
    /// Shorter than one 3 s short-term window: LRA and max short-term not measurable.
    pub const SHORT_PROGRAM: &str = "SHORT_PROGRAM";
    /// The mono files of a multi-mono set differ in sample rate, channel count or length.
    pub const MULTI_MONO_MISMATCH: &str = "MULTI_MONO_MISMATCH";
    /// One stretch of one channel whose true peak exceeds the profile's maximum (stretches
    /// closer than the over gap are merged).
    pub const TRUE_PEAK_OVER_REGION: &str = "TRUE_PEAK_OVER_REGION";
    /// Short-term loudness far above the programme's integrated loudness for a while.
    pub const SHORT_TERM_LOUD_REGION: &str = "SHORT_TERM_LOUD_REGION";
    /// Consecutive samples at full scale in one channel: digital clipping.
    pub const DIGITAL_CLIPPING: &str = "DIGITAL_CLIPPING";
    /// Silence at the head of the file.
    pub const LEADING_SILENCE: &str = "LEADING_SILENCE";
    /// Silence at the tail of the file.
    pub const TRAILING_SILENCE: &str = "TRAILING_SILENCE";
    /// A channel's mean (DC offset) is above the DC limit.
    pub const DC_OFFSET: &str = "DC_OFFSET";
    /// More events of one kind than a report lists; the rest are counted, not listed.
    pub const EVENTS_TRUNCATED: &str = "EVENTS_TRUNCATED";
    /// Too little speech for a dialog-gated value: the integrated value decides (info).
    pub const INSUFFICIENT_DIALOG: &str = "INSUFFICIENT_DIALOG";
    /// Dialog-gated loudness outside its window while the integrated value is within its own,
    /// which decides (info).
    pub const DIALOG_LOUDNESS_OUT_OF_RANGE: &str = "DIALOG_LOUDNESS_OUT_OF_RANGE";
    /// Ident-free delivery (`--ident-policy forbid`): a reference ident was found at head or tail.
    pub const IDENT_PRESENT: &str = "IDENT_PRESENT";
    /// `--ident-policy require`: no reference ident at head or tail.
    pub const IDENT_MISSING: &str = "IDENT_MISSING";
    /// `--ident-policy require`: the ident is there but altered (gain, cut, remix, speed).
    pub const IDENT_ALTERED: &str = "IDENT_ALTERED";
    /// Something like the ident is there, but the evidence is in between: listen.
    pub const IDENT_REVIEW: &str = "IDENT_REVIEW";
}

/// A delivery specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// Name, e.g. `streaming`.
    pub name: String,
    /// Integrated loudness target, LUFS (= LKFS).
    pub integrated_target_lufs: f64,
    /// Allowed deviation from the target, ± LU (inclusive).
    pub integrated_tolerance_lu: f64,
    /// Highest allowed true peak, dBTP (a reading equal to it passes).
    pub max_true_peak_dbtp: f64,
    /// Highest allowed loudness range, LU (none by default).
    pub max_loudness_range_lu: Option<f64>,
    /// Dialog-gated loudness target, LUFS (`None`: integrated only). When set, the dialog-gated
    /// value decides first and the integrated value only when the dialog-gated one is out of
    /// its window or not applicable; see [`evaluate_with_dialog`].
    #[serde(default)]
    pub dialog_target_lufs: Option<f64>,
    /// Allowed deviation from the dialog-gated target, ± LU (inclusive).
    #[serde(default = "default_dialog_tolerance_lu")]
    pub dialog_tolerance_lu: f64,
}

fn default_dialog_tolerance_lu() -> f64 {
    3.0
}

impl Profile {
    /// Streaming-service printmaster QC: −27 ±3 LKFS dialog-gated, else −24 ±3 LKFS integrated
    /// over all content (loudness fails only when both are out); true peak flagged only above
    /// −1.0 dBTP.
    pub fn streaming() -> Profile {
        Profile {
            name: "streaming".into(),
            integrated_target_lufs: -24.0,
            integrated_tolerance_lu: 3.0,
            max_true_peak_dbtp: -1.0,
            max_loudness_range_lu: None,
            dialog_target_lufs: Some(-27.0),
            dialog_tolerance_lu: 3.0,
        }
    }

    /// EBU R128 (2023): −23 LUFS ±1 LU, −1 dBTP.
    pub fn ebu_r128() -> Profile {
        Profile {
            name: "ebu-r128".into(),
            integrated_target_lufs: -23.0,
            integrated_tolerance_lu: 1.0,
            max_true_peak_dbtp: -1.0,
            max_loudness_range_lu: None,
            dialog_target_lufs: None,
            dialog_tolerance_lu: 3.0,
        }
    }

    /// ATSC A/85 (2013): −24 LKFS ±2 dB, −2 dBTP.
    pub fn atsc_a85() -> Profile {
        Profile {
            name: "atsc-a85".into(),
            integrated_target_lufs: -24.0,
            integrated_tolerance_lu: 2.0,
            max_true_peak_dbtp: -2.0,
            max_loudness_range_lu: None,
            dialog_target_lufs: None,
            dialog_tolerance_lu: 3.0,
        }
    }

    /// A profile by name: `streaming`, `ebu-r128`, `atsc-a85`.
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "streaming" => Some(Profile::streaming()),
            "ebu-r128" | "r128" | "ebu" => Some(Profile::ebu_r128()),
            "atsc-a85" | "a85" | "atsc" => Some(Profile::atsc_a85()),
            _ => None,
        }
    }

    /// Names accepted by [`Profile::by_name`].
    pub const NAMES: [&'static str; 3] = ["streaming", "ebu-r128", "atsc-a85"];

    /// Set the target, LUFS.
    pub fn with_target_lufs(mut self, v: f64) -> Profile {
        self.integrated_target_lufs = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set the tolerance, ± LU.
    pub fn with_tolerance_lu(mut self, v: f64) -> Profile {
        self.integrated_tolerance_lu = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set the true-peak maximum, dBTP.
    pub fn with_max_true_peak_dbtp(mut self, v: f64) -> Profile {
        self.max_true_peak_dbtp = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set a loudness-range maximum, LU.
    pub fn with_max_loudness_range_lu(mut self, v: Option<f64>) -> Profile {
        self.max_loudness_range_lu = v;
        if v.is_some() {
            self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        }
        self
    }

    /// Set (or clear) the dialog-gated target, LUFS.
    pub fn with_dialog_target_lufs(mut self, v: Option<f64>) -> Profile {
        self.dialog_target_lufs = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set the dialog-gated tolerance, ± LU.
    pub fn with_dialog_tolerance_lu(mut self, v: f64) -> Profile {
        self.dialog_tolerance_lu = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }

    /// The inclusive dialog-gated window, LUFS, when the profile has a dialog target.
    pub fn dialog_window_lufs(&self) -> Option<(f64, f64)> {
        self.dialog_target_lufs
            .map(|t| (t - self.dialog_tolerance_lu, t + self.dialog_tolerance_lu))
    }

    /// The inclusive integrated-loudness window, LUFS.
    pub fn integrated_window_lufs(&self) -> (f64, f64) {
        (
            self.integrated_target_lufs - self.integrated_tolerance_lu,
            self.integrated_target_lufs + self.integrated_tolerance_lu,
        )
    }
}

/// Round to the 0.01 dB resolution at which limits are compared.
pub fn at_resolution(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Check measurements against a profile. `channel_labels` name the channels (for messages).
/// Loudness is judged on the integrated value only; see [`evaluate_with_dialog`].
pub fn evaluate(m: &Measurements, profile: &Profile, channel_labels: &[String]) -> Vec<Finding> {
    evaluate_with_dialog(m, None, profile, channel_labels)
}

/// Check measurements and the speech gate's reading against a profile.
///
/// Loudness, when the profile has a dialog target and `dialog` has a dialog-gated value
/// (delivery QC practice): dialog-gated within its window → loudness passes; else the
/// integrated value decides, and `LOUDNESS_OUT_OF_RANGE` is raised only when both are out
/// (naming both), with an info `DIALOG_LOUDNESS_OUT_OF_RANGE` when only the dialog-gated value
/// is out. Too little speech for a dialog-gated value → info `INSUFFICIENT_DIALOG` and the
/// integrated value decides (an M&E stem has no dialogue by design). Without a dialog target or
/// a gate reading, the integrated value alone decides.
pub fn evaluate_with_dialog(
    m: &Measurements,
    dialog: Option<&DialogMeasurement>,
    profile: &Profile,
    channel_labels: &[String],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let label = |c: usize| {
        channel_labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    };

    let bad: u64 = m.non_finite_samples.iter().sum();
    if bad > 0 {
        let per: Vec<String> = m
            .non_finite_samples
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(c, n)| format!("{} in {}", n, label(c)))
            .collect();
        out.push(
            Finding::new(
                codes::NON_FINITE_SAMPLES,
                Severity::Blocker,
                format!(
                    "{bad} NaN/infinite samples ({}); they were measured as silence, so the readings \
                     are not trustworthy",
                    per.join(", ")
                ),
            )
            .value(bad as f64, Some(0.0)),
        );
    }

    if let Some(tp) = m.true_peak_dbtp {
        if at_resolution(tp) > profile.max_true_peak_dbtp {
            let ch = m.true_peak_channel.map(label);
            let mut f = Finding::new(
                codes::TRUE_PEAK_OVER,
                Severity::Blocker,
                format!(
                    "true peak {tp:.2} dBTP exceeds the {:.1} dBTP limit{}",
                    profile.max_true_peak_dbtp,
                    ch.as_ref()
                        .map(|c| format!(" (channel {c})"))
                        .unwrap_or_default()
                ),
            )
            .value(tp, Some(profile.max_true_peak_dbtp));
            if let Some(at) = m.true_peak_at_s {
                f = f.at(at);
            }
            f.channel = ch;
            out.push(f);
        }
    }

    if let Some(d) = dialog {
        if d.dialog_gated_lufs.is_none() {
            if let Some(p) = d.speech_percent {
                out.push(
                    Finding::new(
                        codes::INSUFFICIENT_DIALOG,
                        Severity::Info,
                        format!(
                            "{p:.1} % of the program is speech (under {} %): no dialog-gated \
                             loudness; the integrated value decides",
                            d.min_speech_percent
                        ),
                    )
                    .value(p, Some(d.min_speech_percent)),
                );
            }
        }
    }
    let dialog_reading = dialog
        .and_then(|d| d.dialog_gated_lufs)
        .zip(profile.dialog_window_lufs());
    match dialog_reading {
        Some((d, (dlo, dhi))) if (dlo..=dhi).contains(&at_resolution(d)) => {}
        Some((d, (dlo, dhi))) => {
            let limit = if at_resolution(d) < dlo { dlo } else { dhi };
            let dialog_msg = format!(
                "dialog-gated loudness {d:.1} LUFS is outside {:.1} ±{:.1} LU",
                profile.dialog_target_lufs.unwrap_or_default(),
                profile.dialog_tolerance_lu
            );
            match integrated_finding(m, profile) {
                Some(mut f) if f.code == codes::LOUDNESS_OUT_OF_RANGE => {
                    // Both out: the integrated reading (which decides) is the value.
                    f.message = format!("{dialog_msg}, and {}", f.message);
                    out.push(f);
                }
                Some(f) => out.push(f),
                None => out.push(
                    Finding::new(
                        codes::DIALOG_LOUDNESS_OUT_OF_RANGE,
                        Severity::Info,
                        format!(
                            "{dialog_msg}; integrated {} LUFS is within its window and decides",
                            m.integrated_lufs
                                .map(|i| format!("{i:.1}"))
                                .unwrap_or_default()
                        ),
                    )
                    .value(d, Some(limit)),
                ),
            }
        }
        None => out.extend(integrated_finding(m, profile)),
    }

    if let (Some(lra), Some(max)) = (m.loudness_range_lu, profile.max_loudness_range_lu) {
        if at_resolution(lra) > max {
            out.push(
                Finding::new(
                    codes::LOUDNESS_RANGE_OVER,
                    Severity::Blocker,
                    format!("loudness range {lra:.1} LU exceeds the {max:.1} LU limit"),
                )
                .value(lra, Some(max)),
            );
        }
    }

    if m.frames > 0 && m.duration_s() < 3.0 {
        out.push(Finding::new(
            codes::SHORT_PROGRAM,
            Severity::Info,
            format!(
                "program is {:.3} s long, shorter than one 3 s short-term window: no LRA or max short-term",
                m.duration_s()
            ),
        ));
    }
    out
}

/// The integrated-loudness finding, if any: out of the window, or unmeasurable.
fn integrated_finding(m: &Measurements, profile: &Profile) -> Option<Finding> {
    let (lo, hi) = profile.integrated_window_lufs();
    match m.integrated_lufs {
        Some(i) => {
            let r = at_resolution(i);
            if r < lo || r > hi {
                let limit = if r < lo { lo } else { hi };
                return Some(
                    Finding::new(
                        codes::LOUDNESS_OUT_OF_RANGE,
                        Severity::Blocker,
                        format!(
                            "integrated loudness {i:.1} LUFS is outside {:.1} ±{:.1} LU ({lo:.1} to {hi:.1} LUFS)",
                            profile.integrated_target_lufs, profile.integrated_tolerance_lu
                        ),
                    )
                    .value(i, Some(limit)),
                );
            }
        }
        None => {
            let why = m
                .unmeasured
                .iter()
                .find(|u| u.field == "integrated_lufs")
                .map(|u| u.reason.clone())
                .unwrap_or_else(|| "not measurable".into());
            return Some(Finding::new(
                codes::LOUDNESS_UNMEASURABLE,
                Severity::Issue,
                format!("integrated loudness could not be measured: {why}"),
            ));
        }
    }
    None
}
