//! The rulebook: every delivery rule, every severity and the verdict, in one module.
//!
//! Sources, the meter and the detectors report what they saw (measurements, typed observations,
//! or a [`Finding`] carrying only a [`Code`] whose severity is the code's default); this module
//! decides. A newcomer asking "why did this file fail?" reads:
//!
//! - [`code`]: every finding code, its default severity and meaning (`docs/findings.md` has the
//!   full glossary);
//! - [`profile`]: the delivery specs (the built-in profiles and house specs as TOML files);
//! - [`evaluate`] and its helpers below: loudness, true peak, LRA, dialog-gated loudness, and
//!   "nothing unmeasured passes" (a silent, empty or too-short programme is a blocker);
//! - [`events`]: where the problems are (over events, loud regions, clipping, silence, DC);
//! - [`finalize`]: applies the spec's severity overrides, orders the findings and computes the
//!   one [`verdict`].
//!
//! Comparisons are made at 0.01 dB resolution (the value is rounded to two decimals first), so a
//! true peak of exactly −1.0 dBTP passes a −1.0 dBTP limit whatever the last bits of its
//! floating-point reading, while −0.99 dBTP fails it.

pub mod checks;
pub mod code;
pub mod events;
pub mod integrity;
pub mod profile;

use serde::{Deserialize, Serialize};

use crate::decode::StreamInfo;
pub mod container;

use crate::dialog::DialogMeasurement;
use crate::events::{EventConfig, SignalSummary};
use crate::meter::Measurements;
use crate::timecode::Timecode;

pub use checks::{correction, rule_checks, Correction, RuleCheck, RuleStatus};
pub use code::Code;
pub use profile::{Element, Profile, SpecError};

/// The codes by name, so a rule reads `codes::TRUE_PEAK_OVER`.
pub mod codes {
    pub use super::Code::*;
}

pub mod ident;

pub mod sync;

/// How bad a finding is, in delivery-QC practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// The outcome for one programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Measured, and no blocker.
    Pass,
    /// Measured, with at least one blocker.
    Fail,
    /// Could not be analysed, or its samples are not trustworthy.
    Error,
}

/// Codes whose presence means the readings cannot be trusted: the verdict is `error`.
pub const ERROR_CODES: [Code; 2] = [Code::NON_FINITE_SAMPLES, Code::IMF_TRACK_FILE_MISSING];

/// The verdict of a list of findings: `error` when one of them makes the readings
/// untrustworthy ([`ERROR_CODES`]), else `fail` when any is a blocker, else `pass`. The only
/// place a verdict is computed.
pub fn verdict(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| ERROR_CODES.contains(&f.code)) {
        Verdict::Error
    } else if findings.iter().any(|f| f.severity == Severity::Blocker) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// Apply the spec's severity overrides (`[severity]` table), label every finding with SMPTE
/// timecodes from `tc`, order them worst first (stable), and return the verdict.
pub fn finalize(findings: &mut [Finding], profile: &Profile, tc: Option<&Timecode>) -> Verdict {
    for f in findings.iter_mut() {
        if let Some(&s) = profile.severity.get(&f.code) {
            f.severity = s;
        }
        if let Some(tc) = tc {
            f.label_timecodes(tc);
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    verdict(findings)
}

/// One QC finding: what, how bad, the value against the limit, and where.
///
/// Built by [`Finding::new`] with the code's default severity; only the rules of this module
/// change a severity ([`Finding::severity`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine code, e.g. `TRUE_PEAK_OVER` (see `docs/findings.md`).
    pub code: Code,
    /// How bad it is.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// The measured value (unit in the message), if any.
    pub value: Option<f64>,
    /// The limit it was compared with, if any.
    pub limit: Option<f64>,
    /// The point of interest (e.g. the highest peak), seconds from the start of the programme.
    pub at_s: Option<f64>,
    /// `at_s` as SMPTE timecode `HH:MM:SS:FF` (see `start_timecode`).
    #[serde(default)]
    pub at_timecode: Option<String>,
    /// The channels concerned (labels), empty when the finding is about the whole programme.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Where the problem starts, seconds from the start of the programme (a point finding has
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
    /// A finding of `code` at the code's default severity, with no value, limit or place.
    pub fn new(code: Code, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.default_severity(),
            message: message.into(),
            value: None,
            limit: None,
            at_s: None,
            at_timecode: None,
            channels: Vec::new(),
            start_s: None,
            end_s: None,
            start_timecode: None,
            end_timecode: None,
        }
    }

    /// Set the severity (rules of this module only: sources report codes, the rulebook decides).
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    /// Set the measured value and its limit.
    pub fn value(mut self, value: f64, limit: Option<f64>) -> Finding {
        self.value = Some(value);
        self.limit = limit;
        self
    }

    /// Set the point of interest, seconds from the start.
    pub fn at(mut self, at_s: f64) -> Finding {
        self.at_s = Some(at_s);
        self
    }

    /// Set the extent, seconds from the start (end exclusive). Also sets `at_s` to `start_s`
    /// when no place was set.
    pub fn span(mut self, start_s: f64, end_s: f64) -> Finding {
        self.start_s = Some(start_s);
        self.end_s = Some(end_s);
        if self.at_s.is_none() {
            self.at_s = Some(start_s);
        }
        self
    }

    /// Add a channel label.
    pub fn on_channel(mut self, label: impl Into<String>) -> Finding {
        self.channels.push(label.into());
        self
    }

    /// Set the channel labels.
    pub fn on_channels(mut self, labels: impl IntoIterator<Item = String>) -> Finding {
        self.channels = labels.into_iter().collect();
        self
    }

    /// Fill `at_timecode`/`start_timecode`/`end_timecode` from `tc`. A finding with only a
    /// place (`at_s`) becomes a point: `start_s = end_s = at_s`.
    pub fn label_timecodes(&mut self, tc: &Timecode) {
        if self.start_s.is_none() {
            if let Some(at) = self.at_s {
                self.start_s = Some(at);
                self.end_s = Some(at);
            }
        }
        self.at_timecode = self.at_s.map(|s| tc.at(s));
        self.start_timecode = self.start_s.map(|s| tc.at(s));
        self.end_timecode = self.end_s.map(|s| tc.at(s));
    }

    /// [`Finding::label_timecodes`], by value.
    pub fn with_timecodes(mut self, tc: &Timecode) -> Finding {
        self.label_timecodes(tc);
        self
    }
}

/// Round to the 0.01 dB resolution at which limits are compared.
pub fn at_resolution(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Everything the rules look at for one programme: what the meter, the speech gate, the
/// per-sample scan and the decoder observed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Observed<'a> {
    /// The meter's readings.
    pub measurements: &'a Measurements,
    /// The speech gate's reading (`None` when it is off).
    pub dialog: Option<&'a DialogMeasurement>,
    /// The per-sample scan (clipping, silence, DC), when events are on.
    pub signal: Option<&'a SignalSummary>,
    /// What the decoder said about the stream.
    pub stream: Option<&'a StreamInfo>,
    /// Packets the decoder skipped, and how many it decoded (when it counts them).
    pub skipped_packets: u64,
    /// Packets decoded, when the source counts them.
    pub decoded_packets: Option<u64>,
    /// Channel labels, in channel order.
    pub labels: &'a [String],
}

impl<'a> Observed<'a> {
    /// Observations of a programme measured by the meter alone.
    pub fn new(measurements: &'a Measurements, labels: &'a [String]) -> Observed<'a> {
        Observed {
            measurements,
            dialog: None,
            signal: None,
            stream: None,
            skipped_packets: 0,
            decoded_packets: None,
            labels,
        }
    }
    /// With the speech gate's reading.
    pub fn with_dialog(mut self, dialog: Option<&'a DialogMeasurement>) -> Self {
        self.dialog = dialog;
        self
    }
    /// With the per-sample scan.
    pub fn with_signal(mut self, signal: Option<&'a SignalSummary>) -> Self {
        self.signal = signal;
        self
    }
    /// With the decoder's description and packet counts.
    pub fn with_stream(
        mut self,
        stream: &'a StreamInfo,
        skipped_packets: u64,
        decoded_packets: Option<u64>,
    ) -> Self {
        self.stream = Some(stream);
        self.skipped_packets = skipped_packets;
        self.decoded_packets = decoded_packets;
        self
    }
    fn label(&self, c: usize) -> String {
        self.labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    }
}

/// A programme below this peak everywhere is silent (about the noise floor of 16-bit PCM with
/// dither: nothing a listener or the meter could use).
pub const PROGRAM_SILENT_DBFS: f64 = -90.0;

/// The shortest measurable programme: one 400 ms gating block (ITU-R BS.1770-5 §2.4).
pub const MIN_PROGRAM_S: f64 = 0.4;

/// Share of packets lost to decode errors from which a file is not measured at all (error).
pub const MAX_LOST_PACKET_SHARE: f64 = 0.5;

/// Share of packets lost to decode errors from which the readings cannot pass (blocker).
pub const BLOCKER_LOST_PACKET_SHARE: f64 = 0.01;

/// A true peak this far over full scale cannot come from a real decode (a float master's
/// inter-sample overs reach a few dB): the container was misdetected or the data is garbage.
pub const IMPOSSIBLE_TRUE_PEAK_DBTP: f64 = 20.0;

/// Whether the observations can be judged at all. `Err` names why not; the file is then an
/// `error` (exit 2), never a measurement: no frames, mostly undecodable packets, or samples
/// that are impossible for the format (integer PCM beyond full scale, a true peak tens of dB
/// over full scale from a misdetected container).
pub fn measurable(obs: &Observed) -> std::result::Result<(), String> {
    let m = obs.measurements;
    let what = obs
        .stream
        .map(|s| format!("{} / {}", s.container, s.codec))
        .unwrap_or_else(|| "the source".into());
    if m.frames == 0 {
        return Err(match obs.skipped_packets {
            0 => format!("no audio frames decoded ({what})"),
            n => format!(
                "no audio frames decoded ({what}): all {n} packets were undecodable; the container \
                 may be misdetected"
            ),
        });
    }
    if let Some(decoded) = obs.decoded_packets {
        let total = decoded + obs.skipped_packets;
        if total > 0 && obs.skipped_packets as f64 / total as f64 >= MAX_LOST_PACKET_SHARE {
            return Err(format!(
                "{} of {total} packets could not be decoded ({what}): not measured",
                obs.skipped_packets
            ));
        }
    }
    let integer_pcm = obs.stream.is_some_and(|s| {
        s.codec.starts_with("pcm_s") || s.codec.starts_with("pcm_u") || s.codec == "pcm"
    });
    if let Some(peak) = m.sample_peak_dbfs {
        // Integer PCM decodes to [−1, 1): a sample beyond full scale means the bytes were not
        // what the header said.
        if integer_pcm && peak > 0.01 {
            return Err(format!(
                "samples reach {peak:+.1} dBFS, impossible for integer PCM ({what}): the container \
                 was misread"
            ));
        }
    }
    if let Some(tp) = m.true_peak_dbtp.or(m.sample_peak_dbfs) {
        if tp > IMPOSSIBLE_TRUE_PEAK_DBTP {
            let float = obs
                .stream
                .is_some_and(|s| s.codec.contains("f32") || s.codec.contains("f64"));
            return Err(if float {
                format!(
                    "samples reach {tp:+.1} dB over full scale ({what}): float data this far \
                     out of range is not audio"
                )
            } else {
                format!(
                    "peak of {tp:+.1} dB over full scale is impossible for real audio ({what} \
                     decoded garbage): the container was probably misdetected"
                )
            });
        }
    }
    Ok(())
}

/// Check the observations against a spec: every rule but those of events, ident, IMF and the
/// detectors that report their own observations (see [`events::findings`]). Not yet sorted;
/// timecodes not yet set (see [`finalize`]).
///
/// Loudness, when the spec has a dialog target and the gate a dialog-gated value (delivery QC
/// practice): dialog-gated within its window → loudness passes; else the integrated value
/// decides, and `LOUDNESS_OUT_OF_RANGE` is raised only when both are out (naming both), with
/// an info `DIALOG_LOUDNESS_OUT_OF_RANGE` when only the dialog-gated value is out. Too little
/// speech for a dialog-gated value → info `INSUFFICIENT_DIALOG` and the integrated value decides.
/// A spec without loudness (`check_loudness = false`, an M&E) judges true peak only.
///
/// Nothing unmeasured passes: a programme shorter than one gating block is
/// `PROGRAM_TOO_SHORT`, one that is silent `PROGRAM_SILENT`, and one whose integrated loudness
/// cannot be measured for another reason `LOUDNESS_UNMEASURABLE`: all blockers.
pub fn evaluate(obs: &Observed, profile: &Profile, events: Option<&EventConfig>) -> Vec<Finding> {
    let m = obs.measurements;
    let mut out = Vec::new();

    let bad: u64 = m.non_finite_samples.iter().sum();
    if bad > 0 {
        let per: Vec<String> = m
            .non_finite_samples
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(c, n)| format!("{} in {}", n, obs.label(c)))
            .collect();
        out.push(
            Finding::new(
                codes::NON_FINITE_SAMPLES,
                format!(
                    "{bad} NaN/infinite samples ({}); they were measured as silence, so the readings \
                     are not trustworthy",
                    per.join(", ")
                ),
            )
            .value(bad as f64, Some(0.0)),
        );
    }

    if obs.skipped_packets > 0 {
        let share = obs
            .decoded_packets
            .map(|d| obs.skipped_packets as f64 / (d + obs.skipped_packets).max(1) as f64);
        let mut f = Finding::new(
            codes::DECODE_SKIPPED_PACKETS,
            match share {
                Some(s) => format!(
                    "{} packets ({:.1} %) could not be decoded and were skipped",
                    obs.skipped_packets,
                    s * 100.0
                ),
                None => format!(
                    "{} packets could not be decoded and were skipped",
                    obs.skipped_packets
                ),
            },
        )
        .value(obs.skipped_packets as f64, Some(0.0));
        if share.is_some_and(|s| s >= BLOCKER_LOST_PACKET_SHARE) {
            f = f.severity(Severity::Blocker);
        }
        out.push(f);
    }

    if let Some(s) = obs.stream {
        if let Some(mask) = s.channel_mask_mismatch {
            out.push(Finding::new(
                codes::CHANNEL_MASK_MISMATCH,
                format!(
                    "the channel mask 0x{mask:X} names {} channels but the file has {}: the map \
                     was taken from the channel count ({})",
                    mask.count_ones(),
                    s.channels,
                    obs.labels.join(" ")
                ),
            ));
        }
    }

    // Nothing unmeasured passes.
    let duration_s = m.duration_s();
    let silent = m.sample_peak_dbfs.is_none_or(|p| p < PROGRAM_SILENT_DBFS)
        && m.true_peak_dbtp.is_none_or(|p| p < PROGRAM_SILENT_DBFS);
    if duration_s < MIN_PROGRAM_S {
        out.push(
            Finding::new(
                codes::PROGRAM_TOO_SHORT,
                format!(
                    "the programme is {duration_s:.3} s long, shorter than one {MIN_PROGRAM_S} s \
                     gating block (BS.1770-5): nothing can be measured"
                ),
            )
            .value(duration_s, Some(MIN_PROGRAM_S)),
        );
    } else if silent {
        out.push(
            Finding::new(
                codes::PROGRAM_SILENT,
                format!(
                    "the programme is silent: every channel stays below {PROGRAM_SILENT_DBFS:.0} \
                     dBFS for all {duration_s:.1} s{}",
                    m.sample_peak_dbfs
                        .map(|p| format!(" (peak {p:.1} dBFS)"))
                        .unwrap_or_else(|| " (digital silence)".into())
                ),
            )
            .value(
                m.sample_peak_dbfs.unwrap_or(f64::NEG_INFINITY).max(-999.0),
                Some(PROGRAM_SILENT_DBFS),
            )
            .span(0.0, duration_s),
        );
    } else if duration_s < 3.0 {
        out.push(
            Finding::new(
                codes::SHORT_PROGRAM,
                format!(
                    "program is {duration_s:.3} s long, shorter than one 3 s short-term window: no \
                     LRA or max short-term"
                ),
            )
            .value(duration_s, Some(3.0)),
        );
    }
    let measured = duration_s >= MIN_PROGRAM_S && !silent;

    if let Some(tp) = m.true_peak_dbtp {
        let limit = profile.max_true_peak_dbtp;
        let per_event = events.is_some_and(|e| e.enabled)
            && !self::events::over_events(&m.true_peak_overs, limit).is_empty();
        if at_resolution(tp) > limit && !per_event {
            let mut f = Finding::new(
                codes::TRUE_PEAK_OVER,
                format!(
                    "true peak {tp:.2} dBTP exceeds the {limit:.1} dBTP limit{}",
                    m.true_peak_channel
                        .map(|c| format!(" (channel {})", obs.label(c)))
                        .unwrap_or_default()
                ),
            )
            .value(tp, Some(limit));
            if let Some(at) = m.true_peak_at_s {
                f = f.at(at);
            }
            if let Some(c) = m.true_peak_channel {
                f = f.on_channel(obs.label(c));
            }
            out.push(f);
        }
    }

    // Events (true-peak over events first), before loudness: the order findings are listed.
    if let Some(cfg) = events.filter(|e| e.enabled) {
        out.extend(self::events::findings(
            m, obs.signal, profile, obs.labels, cfg,
        ));
    }

    if profile.check_loudness && measured {
        out.extend(loudness_findings(m, obs.dialog, profile));
        if let (Some(lra), Some(max)) = (m.loudness_range_lu, profile.max_loudness_range_lu) {
            if at_resolution(lra) > max {
                out.push(
                    Finding::new(
                        codes::LOUDNESS_RANGE_OVER,
                        format!("loudness range {lra:.1} LU exceeds the {max:.1} LU limit"),
                    )
                    .value(lra, Some(max)),
                );
            }
        }
    }

    out
}

/// The loudness findings: dialog-gated first when the spec has a dialog target, else (or when
/// it is out) integrated.
fn loudness_findings(
    m: &Measurements,
    dialog: Option<&DialogMeasurement>,
    profile: &Profile,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(d) = dialog.filter(|_| profile.dialog_target_lufs.is_some()) {
        if d.dialog_gated_lufs.is_none() {
            if let Some(p) = d.speech_percent {
                out.push(
                    Finding::new(
                        codes::INSUFFICIENT_DIALOG,
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
                        format!(
                            "integrated loudness {i:.1} LUFS is outside {:.1} ±{:.1} LU ({lo:.1} to {hi:.1} LUFS)",
                            profile.integrated_target_lufs, profile.integrated_tolerance_lu
                        ),
                    )
                    .value(i, Some(limit)),
                );
            }
            None
        }
        None => {
            let why = m
                .unmeasured
                .iter()
                .find(|u| u.field == "integrated_lufs")
                .map(|u| u.reason.clone())
                .unwrap_or_else(|| "not measurable".into());
            Some(Finding::new(
                codes::LOUDNESS_UNMEASURABLE,
                format!("integrated loudness could not be measured: {why}"),
            ))
        }
    }
}
